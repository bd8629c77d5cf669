"""The trackers' Kalman filter against the textbook filter in NumPy (full 8x8 matrices, noise as
documented in opticore/mot/kalman.hpp), on random box sequences; its structure checks."""

import numpy as np
import pytest

from opticore.mot import kalman_initiate, kalman_predict, kalman_update

WP, WV = 1 / 20, 1 / 160
F = np.eye(8) + np.eye(8, k=4)
H = np.eye(4, 8)


def sizes(mean):
    """Per coordinate (cx, cy, w, h): the size scaling its noise, floored as documented."""
    w, h = abs(mean[2]), abs(mean[3])
    sx, sy = max(w, 1e-3 * h, 1e-9), max(h, 1e-3 * w, 1e-9)
    return np.array([sx, sy, sx, sy])


def ref_initiate(box, wp=WP, wv=WV):
    z = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]])
    mean = np.concatenate([z, np.zeros(4)])
    s = sizes(mean)
    return mean, np.diag(np.concatenate([(2 * wp * s) ** 2, (10 * wv * s) ** 2]))


def ref_predict(mean, cov, wp=WP, wv=WV):
    s = sizes(mean)
    q = np.diag(np.concatenate([(wp * s) ** 2, (wv * s) ** 2]))
    return F @ mean, F @ cov @ F.T + q


def ref_update(mean, cov, box, wp=WP):
    z = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]])
    r = np.diag((wp * sizes(mean)) ** 2)
    s = H @ cov @ H.T + r
    k = cov @ H.T @ np.linalg.inv(s)
    return mean + k @ (z - H @ mean), cov - k @ s @ k.T


@pytest.mark.parametrize("seed", range(4))
def test_against_numpy_filter(seed):
    rng = np.random.default_rng(seed)
    n = 6
    wp, wv = rng.uniform(0.01, 0.2), rng.uniform(0.001, 0.05)
    start = rng.uniform(0, 500, (n, 2))
    size = rng.uniform(1, 200, (n, 2))
    if seed == 3:
        size[0] = 0.0  # a point box: the floored noise keeps the filter finite
    velocity = rng.normal(0, 5, (n, 2))
    boxes = np.hstack([start, start + size])
    mean, cov = kalman_initiate(boxes, std_weight_position=wp, std_weight_velocity=wv)
    ref = [ref_initiate(b, wp, wv) for b in boxes]
    worst = 0.0
    for step in range(25):
        mean, cov = kalman_predict(mean, cov, std_weight_position=wp, std_weight_velocity=wv)
        ref = [ref_predict(m, c, wp, wv) for m, c in ref]
        measured = boxes + np.hstack([velocity, velocity]) * (step + 1) + rng.normal(0, 2, (n, 4))
        measured[:, 2:] = np.maximum(measured[:, 2:], measured[:, :2])
        if step % 5 != 4:  # some steps are predictions only (a missed detection)
            mean, cov = kalman_update(mean, cov, measured, std_weight_position=wp, std_weight_velocity=wv)
            ref = [ref_update(m, c, b, wp) for (m, c), b in zip(ref, measured)]
        for i, (m, c) in enumerate(ref):
            np.testing.assert_allclose(mean[i], m, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(cov[i], c, rtol=1e-8, atol=1e-12 * np.abs(c).max())
            worst = max(worst, float(np.abs(mean[i] - m).max()))
    assert np.isfinite(mean).all() and np.isfinite(cov).all()


def test_update_pulls_towards_measurement():
    mean, cov = kalman_predict(*kalman_initiate([[0.0, 0, 10, 20]]))
    mean2, cov2 = kalman_update(mean, cov, [[4.0, 0, 14, 20]])
    assert 5.0 < mean2[0, 0] < 9.0 and mean2[0, 4] > 0  # centre and velocity move towards it
    assert np.all(np.diag(cov2[0])[:4] < np.diag(cov[0])[:4])  # uncertainty drops


def test_structure_and_bad_input():
    mean, cov = kalman_initiate(np.zeros((2, 4)))
    assert mean.shape == (2, 8) and cov.shape == (2, 8, 8)
    bent = cov.copy()
    bent[0, 0, 1] = bent[0, 1, 0] = 1.0  # couples cx and cy: not the filter's structure
    with pytest.raises(ValueError, match="covariance: expected the filter's structure"):
        kalman_predict(mean, bent)
    asym = cov.copy()
    asym[1, 0, 4] = 1.0
    with pytest.raises(ValueError, match="covariance"):
        kalman_predict(mean, asym)
    with pytest.raises(ValueError, match=r"covariance: expected shape \(2, 8, 8\)"):
        kalman_predict(mean, cov[:1])
    with pytest.raises(ValueError, match=r"mean: expected shape \(N, 8\)"):
        kalman_predict(mean[:, :4], cov)
    with pytest.raises(ValueError, match="boxes: expected 2 boxes"):
        kalman_update(mean, cov, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="boxes: expected finite"):
        kalman_initiate([[0.0, np.nan, 1, 1]])
    with pytest.raises(ValueError, match="boxes: expected x2 >= x1"):
        kalman_update(mean, cov, [[0.0, 0, -1, 1], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match="mean: expected finite"):
        kalman_predict(np.full((2, 8), np.inf), cov)
    with pytest.raises(ValueError, match="std_weight_position"):
        kalman_initiate([[0.0, 0, 1, 1]], std_weight_position=0.0)
    with pytest.raises(TypeError, match="boxes: expected real"):
        kalman_initiate([["a", "b", "c", "d"]])
