"""Landmark metrics against plain NumPy loops: NME (inter-ocular, inter-pupil; 68 and 98 points),
failure rate, AUC (a fine numerical integration of the CED), and the CED plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opticore.eval.landmarks import auc, ced, failure_rate, nme, plot_ced


def _nme_reference(pred: np.ndarray, target: np.ndarray, a, b) -> np.ndarray:
    out = []
    for p, t in zip(pred, target):
        left = t[a].mean(axis=0) if isinstance(a, list) else t[a]
        right = t[b].mean(axis=0) if isinstance(b, list) else t[b]
        d = np.sqrt(((left - right) ** 2).sum())
        out.append(np.mean([np.sqrt(((p[i] - t[i]) ** 2).sum()) for i in range(len(t))]) / d)
    return np.array(out)


@pytest.mark.parametrize("k, normalization, a, b", [
    (68, "inter_ocular", 36, 45), (98, "inter_ocular", 60, 72),
    (68, "inter_pupil", list(range(36, 42)), list(range(42, 48))), (98, "inter_pupil", 96, 97),
])
def test_nme_against_a_loop(k: int, normalization: str, a, b) -> None:
    rng = np.random.default_rng(k)
    target = rng.uniform(0, 200, (20, k, 2))
    pred = target + rng.normal(0, rng.uniform(0.5, 20, (20, 1, 1)), target.shape)
    np.testing.assert_allclose(nme(pred, target, normalization), _nme_reference(pred, target, a, b), rtol=1e-12)


def test_nme_bad_input() -> None:
    with pytest.raises(ValueError, match=r"expected equal shapes \(N, K, 2\) with K in 68, 98"):
        nme(np.zeros((2, 5, 2)), np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="face 0 has a zero inter_ocular distance"):
        nme(np.zeros((1, 68, 2)), np.zeros((1, 68, 2)))
    with pytest.raises(ValueError, match="normalization"):
        nme(np.ones((1, 68, 2)), np.random.default_rng(0).random((1, 68, 2)), "box")  # type: ignore[arg-type]


def test_failure_rate_auc_and_ced_against_numerical_integration() -> None:
    rng = np.random.default_rng(1)
    errors = np.concatenate([rng.gamma(2.0, 0.02, 500), [0.0, 0.1, 0.1, 0.25]])  # ties at the threshold
    assert failure_rate(errors, 0.1) == pytest.approx(np.sum([e > 0.1 for e in errors]) / len(errors))
    grid = np.linspace(0, 0.1, 200_001)
    cdf = np.array([(errors <= g).mean() for g in grid[::100]])  # the CED on a fine grid
    reference = np.trapezoid(np.interp(grid, grid[::100], cdf), grid) / 0.1
    assert auc(errors, 0.1) == pytest.approx(reference, abs=2e-4)
    x, y = ced(errors, 0.1, 11)
    np.testing.assert_allclose(x, np.linspace(0, 0.1, 11))
    np.testing.assert_allclose(y, [(errors <= v).mean() for v in x])
    assert auc([0.0], 0.1) == 1.0 and auc([0.5], 0.1) == 0.0


def test_ced_plot_is_written(tmp_path: Path) -> None:
    plot_ced({"a": np.array([0.01, 0.05]), "b": np.array([0.2, 0.03])}, tmp_path / "ced.png")
    assert (tmp_path / "ced.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
