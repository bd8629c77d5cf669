"""Face templates and landmark reductions, against values computed here from the published
ArcFace template and the iBUG / WFLW index conventions."""

from __future__ import annotations

import numpy as np
import pytest

import opticore

# The published insightface ArcFace template for 112 x 112 crops.
ARCFACE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)


@pytest.mark.parametrize("size", [112, 224, 96, 128, 160, 256])
def test_arcface_template_follows_the_insightface_rule(size):
    if size % 112 == 0:
        expected = ARCFACE * size / 112
    else:
        expected = ARCFACE * size / 128 + [8 * size / 128, 0]
    np.testing.assert_allclose(opticore.arcface_template(size), expected, rtol=1e-12)


def test_arcface_constant_is_read_only():
    np.testing.assert_array_equal(opticore.ARCFACE_112, ARCFACE)
    with pytest.raises(ValueError):
        opticore.ARCFACE_112[0, 0] = 0


def test_mean_shape_fills_the_crop_and_is_a_face():
    shape = opticore.mean_shape68(200)
    assert shape.shape == (68, 2)
    np.testing.assert_allclose(shape.min(axis=0), [0, 0], atol=1e-12)
    np.testing.assert_allclose(shape.max(axis=0), [200, 200], atol=1e-12)
    five = opticore.landmarks_to_5(shape)
    assert five[0, 0] < five[1, 0]  # left eye left of right eye
    assert five[0, 1] < five[2, 1] < five[3, 1]  # eyes above nose above mouth
    assert five[3, 0] < five[4, 0]


def test_landmarks_to_5_for_each_scheme():
    rng = np.random.default_rng(0)
    pts68 = rng.normal(size=(68, 2))
    expected68 = np.stack([pts68[36:42].mean(0), pts68[42:48].mean(0), pts68[30], pts68[48], pts68[54]])
    np.testing.assert_allclose(opticore.landmarks_to_5(pts68), expected68)
    pts98 = rng.normal(size=(3, 98, 2))
    np.testing.assert_allclose(opticore.landmarks_to_5(pts98), pts98[:, [96, 97, 54, 76, 82]])
    np.testing.assert_allclose(opticore.landmarks_to_5(ARCFACE), ARCFACE)


@pytest.mark.parametrize("bad", [np.zeros((10, 2)), np.zeros((68, 3)), np.zeros(5)])
def test_landmarks_to_5_rejects_unknown_schemes(bad):
    with pytest.raises(ValueError, match="landmarks: expected shape"):
        opticore.landmarks_to_5(bad)


def test_template_size_must_be_positive():
    with pytest.raises(ValueError, match="size: expected an int >= 1, got 0"):
        opticore.arcface_template(0)
