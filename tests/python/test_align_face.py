"""align_face / align_faces against the insightface norm_crop path (scikit-image estimate +
cv2.warpAffine) built here on the documented template."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import opticore

cv2 = pytest.importorskip("cv2")
transform = pytest.importorskip("skimage.transform")
data = pytest.importorskip("skimage.data")


def norm_crop(image, landmarks5, size):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        t = transform.SimilarityTransform()
        t.estimate(landmarks5, opticore.arcface_template(size))
    m = t.params[:2]
    return cv2.warpAffine(image, m, (size, size), borderValue=0.0), m


def random_faces(rng, count, size):
    """ArcFace-like 5-point sets placed, scaled and rotated at random in the image."""
    faces = []
    for _ in range(count):
        angle = rng.uniform(-0.5, 0.5)
        r = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        pts = (opticore.ARCFACE_112 - 56) @ r.T * rng.uniform(0.6, 2.0) + rng.uniform(100, size - 100, 2)
        faces.append(pts + rng.normal(0, 1.5, size=pts.shape))
    return np.stack(faces)


@pytest.mark.parametrize("size", [112, 128, 224])
def test_align_faces_matches_norm_crop(size):
    image = data.astronaut()
    faces = random_faces(np.random.default_rng(size), 8, 512)
    crops, matrices = opticore.align_faces(image, faces, size=size)
    assert crops.shape == (8, size, size, 3) and crops.dtype == np.uint8
    for crop, m, face in zip(crops, matrices, faces):
        expected, expected_m = norm_crop(image, face, size)
        np.testing.assert_allclose(m, expected_m, atol=1e-9)
        assert np.abs(crop.astype(int) - expected.astype(int)).max() <= 1


def test_align_face_single_grey_float_and_68_points():
    image = data.camera().astype(np.float32) / 255
    rng = np.random.default_rng(1)
    shape68 = opticore.mean_shape68(150) + rng.uniform(100, 250, 2)
    crop, m = opticore.align_face(image, shape68, size=112)
    expected, expected_m = norm_crop(image, opticore.landmarks_to_5(shape68), 112)
    np.testing.assert_allclose(m, expected_m, atol=1e-9)
    np.testing.assert_allclose(crop, expected, atol=1e-4)
    crop68, m68 = opticore.align_face(image, shape68, size=96, template="mean68")
    np.testing.assert_allclose(m68 @ np.c_[shape68, np.ones(68)].T, opticore.mean_shape68(96).T, atol=1e-6)
    assert crop68.shape == (96, 96)


def test_degenerate_faces():
    image = np.zeros((64, 64, 3), np.uint8) + 7
    faces = np.stack([opticore.ARCFACE_112 * 0.4, np.full((5, 2), 3.0)])
    crops, matrices = opticore.align_faces(image, faces, size=32)
    assert np.isfinite(matrices[0]).all() and np.isnan(matrices[1]).all()
    assert (crops[1] == 0).all()
    with pytest.raises(ValueError, match="degenerate"):
        opticore.align_face(image, faces[1])


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"landmarks": np.zeros((7, 2))}, "landmarks: expected shape (K, 2) or (F, K, 2) with K in 5, 68, 98"),
        ({"landmarks": np.zeros((5, 2)) + np.arange(5)[:, None], "template": "nope"}, "template: expected"),
        ({"landmarks": np.arange(10.0).reshape(5, 2), "template": "mean68"}, "needs 68 landmarks"),
        ({"landmarks": np.arange(10.0).reshape(5, 2), "size": 0}, "size: expected an int >= 1, got 0"),
        ({"landmarks": np.arange(10.0).reshape(5, 2), "template": np.zeros((4, 2))}, "template: expected shape (5, 2)"),
    ],
)
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as info:
        opticore.align_face(np.zeros((64, 64), np.uint8), **kwargs)
    assert words in str(info.value)


def test_extreme_landmarks_and_sizes_name_the_argument():
    image = np.zeros((64, 64), np.uint8)
    five = opticore.ARCFACE_112 / 2
    nan = five.copy()
    nan[2, 1] = np.nan
    message = r"landmarks: expected finite coordinates, got \[28.0126, nan\] \(face 0, point 2\)"
    with pytest.raises(ValueError, match=message):
        opticore.align_face(image, nan)
    with pytest.raises(ValueError, match=r"size: expected a result of at most 4 GiB .*1 x 100000 x 100000"):
        opticore.align_face(image, five, size=100000)
    with pytest.raises(ValueError, match="size: expected an int <= 9223372036854775807"):
        opticore.align_face(image, five, size=2**70)
    with pytest.raises(ValueError, match="landmarks: face 0 gives a transform that cannot be inverted"):
        opticore.align_face(image, five * 1e300)
    with pytest.raises(TypeError, match="landmarks: expected an array of numbers, got list"):
        opticore.align_face(image, [["a", "b"]] * 5)


def test_big_endian_inputs_are_read_correctly():
    image = data.camera()[::4, ::4].astype(np.float32)
    face = opticore.ARCFACE_112 * 0.8 + 10
    crop, m = opticore.align_face(image.astype(">f4"), face.astype(">f8"))
    expected_crop, expected_m = opticore.align_face(image, face)
    np.testing.assert_array_equal(crop, expected_crop)
    np.testing.assert_array_equal(m, expected_m)
    assert crop.dtype.isnative
