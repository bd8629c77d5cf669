"""opticore.crop_face / face_crop_boxes against a NumPy + OpenCV reference written from
Silent-Face's CropImage (scale capped to the image, the box shifted inside, int() corners,
cv2.resize of the inclusive slice), at the borders and inside, one box and many."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import opticore


def reference_box(src_w, src_h, box, scale):
    x, y, w, h = box
    scale = min((src_h - 1) / h, min((src_w - 1) / w, scale))
    nw, nh = w * scale, h * scale
    cx, cy = w / 2 + x, h / 2 + y
    l, t, r, b = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if l < 0:
        r -= l
        l = 0
    if t < 0:
        b -= t
        t = 0
    if r > src_w - 1:
        l -= r - src_w + 1
        r = src_w - 1
    if b > src_h - 1:
        t -= b - src_h + 1
        b = src_h - 1
    return int(l), int(t), int(r), int(b)


def reference_crop(image, box, scale, out_size):
    l, t, r, b = reference_box(image.shape[1], image.shape[0], box, scale)
    return cv2.resize(image[t:b + 1, l:r + 1], out_size)


def random_boxes(rng, w, h, n):
    # Inside, across every edge, off the image, larger than the image, tiny.
    x = rng.uniform(-0.5 * w, 1.2 * w, n)
    y = rng.uniform(-0.5 * h, 1.2 * h, n)
    bw = rng.uniform(1, 1.5 * w, n)
    bh = rng.uniform(1, 1.5 * h, n)
    return np.stack([x, y, bw, bh], axis=1)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_crop_face_matches_reference(astronaut, dtype):
    rng = np.random.default_rng(1)
    image = astronaut[:301, :257].astype(dtype)
    h, w = image.shape[:2]
    boxes = np.concatenate([random_boxes(rng, w, h, 300),
                            [[0, 0, 50, 60], [w - 40, h - 30, 40, 30], [100, 100, 80, 80], [-10, -10, 5, 5]]])
    for scale in (1.0, 2.7, 4.0):
        got = opticore.crop_face(image, boxes, scale=scale)
        assert got.shape == (len(boxes), 80, 80, 3) and got.dtype == dtype
        for i, box in enumerate(boxes):
            ref = reference_crop(image, tuple(box), scale, (80, 80))
            if dtype == np.uint8:
                np.testing.assert_array_equal(got[i], ref, err_msg=f"box {box}, scale {scale}")
            else:
                # resize's float32 tolerance against OpenCV (2e-5 of the value range; see warp_cases).
                np.testing.assert_allclose(got[i], ref, rtol=0, atol=255 * 2e-5, err_msg=f"box {box}, scale {scale}")
            np.testing.assert_array_equal(opticore.face_crop_boxes(box, (w, h), scale=scale),
                                          np.add(reference_box(w, h, tuple(box), scale), (0, 0, 1, 1)))


def test_single_box_grey_and_small_images():
    rng = np.random.default_rng(2)
    for h, w in [(1, 1), (2, 9), (17, 5), (64, 64)]:
        img = rng.integers(0, 256, (h, w), dtype=np.uint8)
        for box in random_boxes(rng, w, h, 20):
            got = opticore.crop_face(img, box, scale=2.7, out_size=(12, 7))
            assert got.shape == (7, 12)
            np.testing.assert_array_equal(got, reference_crop(img, tuple(box), 2.7, (12, 7)))


def test_crop_face_no_boxes_and_bad_arguments():
    img = np.zeros((20, 30, 3), np.uint8)
    assert opticore.crop_face(img, np.zeros((0, 4))).shape == (0, 80, 80, 3)
    with pytest.raises(ValueError, match=r"boxes: expected shape \(4,\) or \(N, 4\)"):
        opticore.crop_face(img, [1, 2, 3])
    with pytest.raises(ValueError, match="boxes: expected finite .* w > 0"):
        opticore.crop_face(img, [[0, 0, 10, 10], [0, 0, 0, 5]])
    with pytest.raises(ValueError, match="boxes: expected finite"):
        opticore.crop_face(img, [np.nan, 0, 10, 10])
    with pytest.raises(TypeError, match="boxes"):
        opticore.crop_face(img, ["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="scale: expected a finite value"):
        opticore.crop_face(img, [0, 0, 5, 5], scale=0)
    with pytest.raises(ValueError, match="image: expected a non-empty"):
        opticore.crop_face(np.zeros((0, 5), np.uint8), [0, 0, 5, 5])
    with pytest.raises(ValueError, match="out_size"):
        opticore.crop_face(img, [0, 0, 5, 5], out_size=(80,))
    with pytest.raises(TypeError, match="image: expected uint8 or float32"):
        opticore.crop_face(img.astype(np.int32), [0, 0, 5, 5])
    # Absurd coordinates stay inside the image.
    far = opticore.face_crop_boxes([[1e300, -1e300, 1e299, 1e299]], (30, 20))
    assert (far[:, :2] >= 0).all() and (far[:, 2] <= 30).all() and (far[:, 3] <= 20).all()
