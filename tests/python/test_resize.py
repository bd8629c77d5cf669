"""resize and crop_resize against OpenCV: uint8 bit-exact (cubic against OpenCV's own algorithm,
without IPP), float32 within check_resize_close (warp_cases.py); crop_resize equal to resize of
each crop."""

from __future__ import annotations

import numpy as np
import pytest

import opticore
from warp_cases import RESIZE_INTERP, IMAGES, as_dtype, check_resize_close, cv2, cv2_resize

# ---------------------------------------------------------------------------------------- resize


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("interp", list(RESIZE_INTERP))
def test_resize_matches_opencv(interp, dtype):
    for img8 in IMAGES.values():
        img = as_dtype(img8, dtype)
        h, w = img.shape[:2]
        for dsize in [
            (w // 2, h // 2),  # OpenCV's 2x2-mean path for linear and area
            (w // 3, h // 3 + 1),
            (w // 4, h // 4),  # whole-number area blocks
            (int(w * 1.7), int(h * 1.3)),
            (w * 2, h * 2),
            (w // 3, h * 2),  # one side shrinks, the other grows
            (37, 401),
            (1, 1),
        ]:
            ref = cv2_resize(img, dsize, interp)
            got = opticore.resize(img, dsize, interpolation=interp)
            if interp == "area" and dtype == np.float32 and dsize == (1, 1):
                # OpenCV's float sum of a whole image drifts by up to 5e-5; ours stays accurate.
                np.testing.assert_allclose(got.ravel(), img.astype(np.float64).mean(axis=(0, 1)).ravel(), atol=1e-6)
                continue
            check_resize_close(got, ref.reshape(got.shape), dtype, interp)


@pytest.mark.parametrize("interp", list(RESIZE_INTERP))
def test_resize_uint8_bit_exact_on_random_sizes(interp):
    # 1-4 channels, odd and tiny widths, enlarging and shrinking (whole-number factors every
    # fifth case), noise images so that every rounding shows.
    rng = np.random.default_rng(16)
    for case in range(300):
        c = int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        if case % 5 == 0:
            dh, dw = max(1, h // int(rng.integers(1, 5))), max(1, w // int(rng.integers(1, 5)))
        else:
            dh, dw = (int(v) for v in rng.integers(1, 90, 2))
        img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        ref = cv2_resize(img, (dw, dh), interp).reshape(dh, dw, c)
        np.testing.assert_array_equal(opticore.resize(img, (dw, dh), interpolation=interp), ref,
                                      err_msg=f"{(h, w, c)} -> {(dh, dw)}")


@pytest.mark.parametrize("interp", ["linear", "area"])
def test_resize_halving_bit_exact(interp):
    # An exact 2x reduction is OpenCV's 2x2 mean (sum + 2) >> 2 (rounded to even for 2 channels):
    # every output width from 1 to 40 and wide odd ones (the SIMD blocks of 16, 8 or 4 pixels and
    # their scalar tails), 1-4 channels, noise with 0 / 255 runs, and a flipped (negative stride) view.
    rng = np.random.default_rng(21)
    for c in range(1, 5):
        for w in list(range(1, 41)) + [253, 320, 333]:
            h = int(rng.integers(1, 5))
            img = rng.integers(0, 256, (2 * h, 2 * w, c), dtype=np.uint8)
            img[:, : 2 * w // 3] = rng.choice(np.uint8([0, 255]), (2 * h, 2 * w // 3, c))
            for view in (img, img[::-1, ::-1]):
                ref = cv2.resize(np.ascontiguousarray(view), (w, h), interpolation=RESIZE_INTERP[interp])
                np.testing.assert_array_equal(opticore.resize(view, (w, h), interpolation=interp),
                                              ref.reshape(h, w, c), err_msg=f"{(2 * h, 2 * w, c)}")


def test_resize_cubic_uint8_rounding_ties():
    # Rows kept (vertical weights 0, 2048, 0, 0): every output is a horizontal sum / 2048, and sums
    # ending in 1024 / 2048 are ties, which OpenCV rounds to even in its 8-value float blocks and
    # half up in the values after them. Constant runs make many such sums.
    rng = np.random.default_rng(3)
    for w in [5, 8, 13, 16, 23, 40]:
        img = np.repeat(rng.integers(0, 256, (6, w // 2 + 1, 1), dtype=np.uint8), 2, axis=1)[:, :w]
        for dw in [w + 3, 2 * w - 1, 3 * w + 2]:
            check_resize_close(opticore.resize(img, (dw, 6), interpolation="cubic"),
                               cv2_resize(img, (dw, 6), "cubic").reshape(6, dw, 1), np.uint8, "cubic")


def test_resize_cubic_uint8_near_opencv_ipp():
    # OpenCV's default builds resize uint8 cubic with Intel IPP, which rounds differently: every
    # pixel within 1 grey level of it, at most 5 % differ (measured up to 3.2 %), and no bias (mean
    # signed difference <= 0.03; measured up to 0.015, where a half-level rounding bias gives 0.5).
    for img in IMAGES.values():
        h, w = img.shape[:2]
        for dsize in [(w // 3, h // 3 + 1), (int(w * 1.7), int(h * 1.3)), (37, 401)]:
            got = opticore.resize(img, dsize, interpolation="cubic").astype(np.float64)
            diff = got - cv2_resize(img, dsize, "cubic", ipp=True).reshape(got.shape)
            assert np.abs(diff).max() <= 1
            assert (diff != 0).mean() <= 0.05, (diff != 0).mean()
            assert abs(diff.mean()) <= 0.03, diff.mean()


def test_resize_saturates():
    # uint8 extremes (a 0 / 255 checkerboard) saturate instead of wrapping.
    board = (np.indices((31, 33)).sum(0) % 2 * 255).astype(np.uint8)
    for interp in RESIZE_INTERP:
        for dsize in [(7, 5), (50, 70), (11, 31)]:
            got = opticore.resize(board, dsize, interpolation=interp)
            check_resize_close(got, cv2_resize(board, dsize, interp), np.uint8, interp)


def test_resize_non_contiguous_and_identity():
    img = IMAGES["rgba"][::-1, 3::2, ::-1]
    planar = np.ascontiguousarray(IMAGES["rgb"].transpose(2, 0, 1)).transpose(1, 2, 0)  # channel stride H*W
    for interp in RESIZE_INTERP:
        got = opticore.resize(img, (100, 90), interpolation=interp)
        np.testing.assert_array_equal(got, opticore.resize(np.ascontiguousarray(img), (100, 90), interpolation=interp))
        np.testing.assert_array_equal(opticore.resize(img, img.shape[1::-1], interpolation=interp), img)
        np.testing.assert_array_equal(opticore.resize(planar, (70, 50), interpolation=interp),
                                      opticore.resize(IMAGES["rgb"], (70, 50), interpolation=interp))


# ---------------------------------------------------------------------------------------- crop_resize


def padded_crops(img, boxes):
    """image[y1:y2, x1:x2] of each box, zero where the box leaves the image."""
    h, w = img.shape[:2]
    for x1, y1, x2, y2 in boxes:
        crop = np.zeros((y2 - y1, x2 - x1) + img.shape[2:], img.dtype)
        ya, yb, xa, xb = max(y1, 0), min(y2, h), max(x1, 0), min(x2, w)
        if ya < yb and xa < xb:
            crop[ya - y1:yb - y1, xa - x1:xb - x1] = img[ya:yb, xa:xb]
        yield crop


def random_boxes(rng, n, h, w, outside):
    x1 = rng.integers(-outside, w - 1, n)
    y1 = rng.integers(-outside, h - 1, n)
    x2 = np.minimum(x1 + rng.integers(1, w // 2, n), w + outside)
    y2 = np.minimum(y1 + rng.integers(1, h // 2, n), h + outside)
    return np.stack([x1, y1, x2, y2], 1)


@pytest.mark.parametrize("interp", list(RESIZE_INTERP))
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_crop_resize_equals_resize_of_each_crop(interp, dtype):
    rng = np.random.default_rng(9)
    for name in ("grey", "rgb", "rgba"):
        img = as_dtype(IMAGES[name], dtype)
        h, w = img.shape[:2]
        boxes = random_boxes(rng, 40, h, w, outside=30)
        boxes[0] = [0, 0, w, h]  # the whole image
        boxes[1] = [-5, -5, 0, 0]  # entirely outside: zeros
        for size in [(80, 80), (12, 12), (33, 17)]:
            got = opticore.crop_resize(img, boxes, size, interpolation=interp)
            crops = list(padded_crops(img, boxes))
            # resize's own code on each crop (float32 and cubic included): equal to resize of the crop
            each = [opticore.resize(c, size, interpolation=interp) for c in crops]
            np.testing.assert_array_equal(got, np.stack(each))
            ref = np.stack([cv2_resize(c, size, interp) for c in crops])
            check_resize_close(got, ref.reshape(got.shape), dtype, interp)
            assert not got[1].any()


def test_crop_resize_arguments():
    img = IMAGES["rgb"][:50, :60]
    assert opticore.crop_resize(img, np.zeros((0, 4), np.int64), (8, 8)).shape == (0, 8, 8, 3)
    assert opticore.crop_resize(img[:, :, 0], [[0, 0, 10, 10]], (8, 6)).shape == (1, 6, 8)
    # whole-number floats and any integer dtype are the same boxes
    ref = opticore.crop_resize(img, [[1, 2, 30, 40]], (9, 9))
    for boxes in (np.float32([[1, 2, 30, 40]]), np.uint16([[1, 2, 30, 40]]), np.int32([[1, 2, 30, 40]])):
        np.testing.assert_array_equal(opticore.crop_resize(img, boxes, (9, 9)), ref)
    np.testing.assert_array_equal(opticore.crop_resize(img[::-1, ::2], [[1, 2, 30, 40]], (9, 9)),
                                  opticore.crop_resize(np.ascontiguousarray(img[::-1, ::2]), [[1, 2, 30, 40]], (9, 9)))
    with pytest.raises(ValueError, match=r"boxes: expected whole-number pixel coordinates .* got 1.5 at \(0, 0\)"):
        opticore.crop_resize(img, [[1.5, 2, 30, 40]], (9, 9))
    with pytest.raises(ValueError, match="boxes: expected whole-number"):
        opticore.crop_resize(img, [[np.nan, 2, 30, 40]], (9, 9))
    with pytest.raises(ValueError, match=r"boxes: expected x2 > x1 and y2 > y1, got \(5, 2, 5, 40\) at row 0"):
        opticore.crop_resize(img, [[5, 2, 5, 40]], (9, 9))
    with pytest.raises(ValueError, match=r"boxes: expected shape \(N, 4\)"):
        opticore.crop_resize(img, [[5, 2, 5]], (9, 9))
    with pytest.raises(ValueError, match="boxes: expected coordinates within"):
        opticore.crop_resize(img, [[0, 0, 2**40, 5]], (9, 9))
    with pytest.raises(TypeError, match="boxes: expected an integer or float array"):
        opticore.crop_resize(img, [["a", "b", "c", "d"]], (9, 9))
    with pytest.raises(ValueError, match=r"out_size: expected positive width and height, got \(0, 9\)"):
        opticore.crop_resize(img, [[0, 0, 5, 5]], (0, 9))
    with pytest.raises(ValueError, match="out_size: expected a result of at most 4 GiB"):
        opticore.crop_resize(img, np.zeros((1000, 4), np.int64) + [0, 0, 5, 5], (2**15, 2**15))
    with pytest.raises(ValueError, match="boxes: expected a result of at most 4 GiB"):  # a huge padded crop
        opticore.crop_resize(img, [[-2**30, -2**30, 2**30, 2**30]], (4, 4))
    with pytest.raises(ValueError, match="interpolation: expected one of"):
        opticore.crop_resize(img, [[0, 0, 5, 5]], (4, 4), interpolation="bilinear")


def test_crop_resize_threads_give_identical_results():
    img = IMAGES["coffee"]
    boxes = random_boxes(np.random.default_rng(3), 64, *img.shape[:2], outside=20)
    before = opticore.get_num_threads()
    try:
        opticore.set_num_threads(1)
        one = opticore.crop_resize(img, boxes, (80, 80))
        opticore.set_num_threads(3)
        np.testing.assert_array_equal(opticore.crop_resize(img, boxes, (80, 80)), one)
    finally:
        opticore.set_num_threads(before)
