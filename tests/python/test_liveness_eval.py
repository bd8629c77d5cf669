"""Liveness metrics against independent references: the ROC AUC equals the Mann-Whitney
probability that a live sample outscores an attack (ties count half), every ROC point equals a
brute-force count at its threshold, APCER / BPCER / ACER and TPR at a fixed FPR by hand."""

from __future__ import annotations

import numpy as np
import pytest

from opticore.eval.liveness import error_rates, fuse_scores, roc_curve, summary, tpr_at_fpr


def mann_whitney_auc(scores: np.ndarray, live: np.ndarray) -> float:
    pos, neg = scores[live][:, None], scores[~live][None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


@pytest.mark.parametrize("seed", range(5))
def test_roc_and_auc_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    labels = rng.integers(0, 3, n)
    labels[:2] = [1, 0]
    scores = np.round(rng.random(n) + 0.3 * (labels == 1), 2)  # rounding makes ties
    live = labels == 1
    fpr, tpr, thresholds = roc_curve(scores, live)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
    for f, t, th in zip(fpr[1:], tpr[1:], thresholds[1:]):
        assert f == pytest.approx((scores[~live] >= th).mean()) and t == pytest.approx((scores[live] >= th).mean())
    s = summary(scores, labels)
    assert s["auc"] == pytest.approx(mann_whitney_auc(scores, live), abs=1e-12)
    assert (s["n_live"], s["n_attack"]) == (live.sum(), (~live).sum())
    for target in (1e-2, 1e-3, 0.2):
        brute = max((scores[live] >= th).mean() for th in np.r_[np.inf, scores]
                    if (scores[~live] >= th).mean() <= target)
        assert tpr_at_fpr(fpr, tpr, target) == pytest.approx(brute)


def test_error_rates_by_hand() -> None:
    scores = np.array([0.9, 0.7, 0.3, 0.6, 0.5, 0.1, 0.8])
    labels = np.array([1, 1, 1, 0, 0, 2, 2])
    r = error_rates(scores, labels, 0.5)
    assert r["bpcer"] == pytest.approx(1 / 3)  # the live 0.3 is rejected
    assert r["apcer"] == pytest.approx(3 / 4)  # 0.6, 0.5 (>= threshold) and 0.8 accepted
    assert r["apcer_per_class"] == {"0": 1.0, "2": 0.5} and r["apcer_worst_class"] == 1.0
    assert r["acer"] == pytest.approx((1 / 3 + 3 / 4) / 2)
    perfect = summary(np.array([0.9, 0.8, 0.1, 0.2]), np.array([1, 1, 0, 2]))
    assert (perfect["acer"], perfect["auc"], perfect["tpr_at_fpr_1e-3"]) == (0.0, 1.0, 1.0)


def test_fusion_and_errors() -> None:
    a = np.array([[0.1, 0.8, 0.1], [0.5, 0.2, 0.3]])
    b = np.array([[0.2, 0.6, 0.2], [0.1, 0.4, 0.5]])
    np.testing.assert_allclose(fuse_scores([a, b]), [0.7, 0.3])
    with pytest.raises(ValueError, match="expected live and attack samples"):
        roc_curve(np.array([0.1, 0.2]), np.array([1, 1]))
    with pytest.raises(ValueError, match="two 1-D arrays of one length"):
        roc_curve(np.array([0.1, 0.2]), np.array([1]))
