"""Every tracker the registry can build here (opticore's and, when installed, OpenCV's) keeps the
float-box interface and follows an easy target."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import opticore
from opticore.eval.tracking import (
    TRACKERS,
    TrackerUnavailable,
    available,
    create,
    load_image,
    synthetic_sequence,
    track,
)

AVAILABLE = [n for n in TRACKERS if available(n) is None]


def test_registry_reports_what_is_missing(monkeypatch):
    for name in ("opticore-mosse", "opticore-kcf", "opticore-kcf-dsst"):
        assert available(name) is None
    with pytest.raises(ValueError, match="tracker: expected one of"):
        create("nonsense")
    monkeypatch.delattr(opticore, "create_tracker")  # a build without the trackers
    for name in ("opticore-mosse", "opticore-kcf", "opticore-kcf-dsst"):
        assert "create_tracker" in available(name)
        with pytest.raises(TrackerUnavailable):
            create(name)


@pytest.mark.skipif(not AVAILABLE, reason="no tracker installed (neither opticore's nor OpenCV's)")
@pytest.mark.parametrize("name", AVAILABLE)
def test_tracker_follows_a_slow_pan(name):
    seq = synthetic_sequence(
        load_image("astronaut"), (177, 66, 95, 95), "translation", seed=2, frames=25, size=(160, 120), target_size=40
    )
    seen = []
    result = track(create(name), seq, on_frame=lambda i, frame, r, seconds: seen.append((i, r, seconds)))
    assert [i for i, _, _ in seen] == list(range(25))
    times = [t for _, _, t in seen]  # tracker time so far: grows, ends at the total
    assert times == sorted(times) and times[0] > 0 and times[-1] == result.seconds
    assert result.fps == 25 / result.seconds
    assert result.boxes.shape == (25, 4) and result.boxes.dtype == np.float64
    np.testing.assert_array_equal(result.boxes[0], seq.groundtruth[0])
    for _, (ok, box, score), _ in seen:
        assert isinstance(ok, bool) and len(box) == 4 and all(isinstance(v, float) for v in box)
        assert score is None or math.isfinite(score)
    s = result.scores(seq.groundtruth)
    assert s["auc"] > 0.5 and s["precision20"] > 0.9, s


def test_opticore_adapter_and_comparison_rows(monkeypatch, tmp_path, capsys):
    made = []
    real = opticore.create_tracker
    monkeypatch.setattr(opticore, "create_tracker", lambda name, **kw: made.append((name, kw)) or real(name, **kw))
    seq = synthetic_sequence(
        load_image("coffee"), (328, 232, 80, 80), "translation", frames=5, size=(96, 72), target_size=24
    )
    result = track(create("opticore-kcf-dsst"), seq)
    assert made == [("kcf", {"features": "hog", "scale": "dsst"})]
    # The adapter passes the tracker's boxes and PSR through unchanged.
    direct = opticore.KCFTracker(features="hog", scale="dsst")
    frames = list(seq.frames())
    direct.init(frames[0], seq.first_box())
    boxes, scores = [], []
    for frame in frames[1:]:
        _, box = direct.update(frame)
        boxes.append(box)
        scores.append(direct.score)
    np.testing.assert_array_equal(result.boxes[1:], boxes)
    np.testing.assert_array_equal(result.score[1:], scores)
    assert np.isnan(result.score[0])

    from opticore.bench import tracking as bench

    trackers = ["opticore-mosse", "cv2-mosse"] if available("cv2-mosse") is None else ["opticore-mosse"]
    report = bench.run(quick=True, frames=6, trackers=trackers, out=str(tmp_path))
    assert made[-1] == ("mosse", {})
    if len(trackers) == 2:
        (row,) = report["comparisons"]
        assert row["tracker"] == "opticore-mosse" and row["reference"] == "cv2-mosse"
        ours, theirs = report["trackers"]["opticore-mosse"], report["trackers"]["cv2-mosse"]
        assert row["fps_ratio"] == ours["fps"] / theirs["fps"]
        assert row["auc_diff"] == ours["auc"] - theirs["auc"]
        assert "cv2-mosse" in capsys.readouterr().out


def test_import_opticore_tracking_loads_only_the_trackers():
    # The evaluation harness (opticore.eval) is for the demo and the benchmarks, not the product.
    code = (
        "import sys, opticore.tracking; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('opticore.', 'cv2', 'skimage')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    tracking = {m for m in out if m.startswith("opticore.tracking")}
    assert tracking == {"opticore.tracking", "opticore.tracking.fhog", "opticore.tracking.trackers"}
    assert not [m for m in out if m.startswith(("opticore.eval", "cv2", "skimage"))], out
