"""OTB metrics against hand-computed cases: IoU, centre error, success (IoU > t, strict) and
precision (error <= t, inclusive) curves, failures and missing ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opticore.eval.tracking import metrics

NAN = float("nan")


def test_iou_hand_computed():
    gt = [[0, 0, 10, 10]] * 5
    pred = [[0, 0, 10, 10],      # identical
            [5, 5, 10, 10],      # 25 / 175
            [10, 0, 10, 10],     # touching edges: 0
            [2, 2, 5, 5],        # inside: 25 / 100
            [0, 0, 20, 5]]       # 50 / (100 + 100 - 50)
    np.testing.assert_allclose(metrics.iou(pred, gt), [1, 1 / 7, 0, 0.25, 1 / 3])


def test_failures_and_missing_ground_truth():
    gt = np.array([[0, 0, 10, 10]] * 5 + [[NAN] * 4, [0, 0, 0, 10]], dtype=np.float64)
    pred = [[0, 0, 10, 10], [NAN] * 4, None, [0, 0, 0, 0], [0, 0, -5, 10], [0, 0, 10, 10], [0, 0, 10, 10]]
    ious = metrics.iou(pred, gt)
    errors = metrics.centre_error(pred, gt)
    np.testing.assert_array_equal(ious[:5], [1, 0, 0, 0, 0])       # NaN, None, zero-size, negative: IoU 0
    np.testing.assert_array_equal(errors[:5], [0, np.inf, np.inf, np.inf, np.inf])
    assert np.isnan(ious[5:]).all() and np.isnan(errors[5:]).all()  # no ground truth: not scored
    s = metrics.scores(pred, gt)
    assert s["frames"] == 5
    assert s["success"][0] == pytest.approx(1 / 5)                  # only the exact box has IoU > 0
    assert s["precision20"] == pytest.approx(1 / 5)


def test_centre_error():
    np.testing.assert_allclose(metrics.centre_error([[3, 4, 10, 10], [0, 0, 20, 20]], [[0, 0, 10, 10]] * 2),
                               [5, math.hypot(5, 5)])


def test_success_is_strict_and_precision_inclusive():
    np.testing.assert_array_equal(metrics.success_curve([0.5, 0.5], [0.45, 0.5, 0.55]), [1, 0, 0])
    np.testing.assert_array_equal(metrics.precision_curve([20.0, 20.5], [19, 20, 21]), [0, 0.5, 1])
    assert metrics.precision_at([20.0, 20.5, np.inf]) == pytest.approx(1 / 3)
    assert len(metrics.SUCCESS_THRESHOLDS) == 21 and len(metrics.PRECISION_THRESHOLDS) == 51


def test_auc_of_perfect_and_always_wrong_trackers():
    rng = np.random.default_rng(0)
    gt = np.column_stack([rng.uniform(0, 100, (50, 2)), rng.uniform(5, 50, (50, 2))])
    perfect = metrics.scores(gt, gt)
    # OTB counts IoU > 1 as a failure at the last threshold: a perfect track scores 20 / 21.
    assert perfect["auc"] == pytest.approx(20 / 21)
    assert perfect["success"][:-1] == [1.0] * 20 and perfect["precision20"] == 1.0
    wrong = metrics.scores(gt + [1000, 1000, 0, 0], gt)
    assert wrong["auc"] == 0.0 and wrong["precision20"] == 0.0
    failed = metrics.scores(np.full_like(gt, np.nan), gt)
    assert failed["auc"] == 0.0 and failed["precision"] == [0.0] * 51


def test_auc_is_the_mean_of_the_success_curve():
    ious = np.random.default_rng(1).uniform(0, 1, 200)
    curve = metrics.success_curve(ious)
    assert metrics.success_auc(ious) == pytest.approx(curve.mean())
    assert np.all(np.diff(curve) <= 0)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="pred, gt: expected the same number"):
        metrics.iou([[0, 0, 1, 1]], [[0, 0, 1, 1]] * 2)
    with pytest.raises(ValueError, match=r"gt: expected \(T, 4\)"):
        metrics.iou([[0, 0, 1, 1]], [[0, 0, 1]])
    assert metrics.success_curve([NAN]).tolist() == [0.0] * 21  # nothing scored


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    gt = np.array([[0, 0, 10, 10]] * 3, float)
    s = metrics.scores(gt + 1, gt)
    metrics.plot_success({"a": s["success"], "b": metrics.success_curve([1.0])}, str(tmp_path / "s.png"))
    metrics.plot_precision({"a": s["precision"]}, str(tmp_path / "p.png"))
    for name in ("s.png", "p.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
