"""resize / crop_resize with interpolation="bins" (torch's adaptive average pooling) against a
plain NumPy reference (exact integer sums per bin) and against torch itself."""

from __future__ import annotations

import numpy as np
import pytest

import opticore
from warp_cases import IMAGES


def bins(n_in, n_out):
    i = np.arange(n_out)
    return i * n_in // n_out, -(-(i + 1) * n_in // n_out)


def reference_means(img, dsize):
    """float64 mean of each output pixel's bins, one bin at a time (image (H, W, C))."""
    (ys, ye), (xs, xe) = bins(img.shape[0], dsize[1]), bins(img.shape[1], dsize[0])
    out = np.empty((dsize[1], dsize[0], img.shape[2]))
    for y in range(dsize[1]):
        for x in range(dsize[0]):
            out[y, x] = img[ys[y]:ye[y], xs[x]:xe[x]].astype(np.float64).mean(axis=(0, 1))
    return out


def random_cases(seed, count):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        c = int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        dh, dw = (int(v) for v in rng.integers(1, 80, 2))  # shrinking, enlarging, mixed
        yield rng.integers(0, 256, (h, w, c), dtype=np.uint8), (dw, dh)


def test_bins_uint8_are_means_rounded_half_up():
    for img, dsize in random_cases(5, 150):
        ref = reference_means(img, dsize)
        got = opticore.resize(img, dsize, interpolation="bins").reshape(ref.shape)
        # exact: the means are rationals, k / n + 1/2 floored is "halves up"
        np.testing.assert_array_equal(got, np.floor(ref + 0.5).astype(np.uint8), err_msg=f"{img.shape} -> {dsize}")


def test_bins_float32_are_means_rounded_once():
    for img8, dsize in random_cases(6, 150):
        img = img8.astype(np.float32) / np.float32(255)
        ref = reference_means(img, dsize)
        got = opticore.resize(img, dsize, interpolation="bins").reshape(ref.shape)
        # the float64 mean rounded to float32: within half an ulp, i.e. a relative 2**-24 (measured
        # max 5.96e-08); only the order of the float64 summation differs from the reference
        np.testing.assert_allclose(got, ref, rtol=2**-24, atol=0, err_msg=f"{img.shape} -> {dsize}")


def test_bins_equal_torch_interpolate_area():
    torch = pytest.importorskip("torch")
    for name in ("grey", "rgb", "rgba"):
        img = IMAGES[name].astype(np.float32)
        h, w = img.shape[:2]
        planes = torch.from_numpy(img.reshape(h, w, -1).transpose(2, 0, 1).astype(np.float64))[None]
        for dsize in [(w // 2, h // 2), (w // 3, h // 3 + 1), (37, 41), (12, 12), (int(w * 1.7), int(h * 1.3))]:
            ref = torch.nn.functional.interpolate(planes, size=dsize[::-1], mode="area")[0].numpy().transpose(1, 2, 0)
            got = opticore.resize(img, dsize, interpolation="bins").reshape(ref.shape)
            np.testing.assert_allclose(got, ref, rtol=2**-24, atol=0, err_msg=f"{name} -> {dsize}")


def test_bins_layouts_and_threads():
    img = IMAGES["rgba"][::-1, 3::2, ::-1]
    planar = np.ascontiguousarray(IMAGES["rgb"].transpose(2, 0, 1)).transpose(1, 2, 0)
    np.testing.assert_array_equal(opticore.resize(img, (50, 45), interpolation="bins"),
                                  opticore.resize(np.ascontiguousarray(img), (50, 45), interpolation="bins"))
    np.testing.assert_array_equal(opticore.resize(planar, (70, 50), interpolation="bins"),
                                  opticore.resize(IMAGES["rgb"], (70, 50), interpolation="bins"))
    same = IMAGES["rgb"]
    np.testing.assert_array_equal(opticore.resize(same, same.shape[1::-1], interpolation="bins"), same)
    big = np.random.default_rng(2).random((900, 1200, 3), dtype=np.float32)
    before = opticore.get_num_threads()
    try:
        opticore.set_num_threads(1)
        one = opticore.resize(big, (500, 400), interpolation="bins")
        opticore.set_num_threads(3)
        np.testing.assert_array_equal(opticore.resize(big, (500, 400), interpolation="bins"), one)
    finally:
        opticore.set_num_threads(before)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_crop_resize_bins_is_resize_of_each_zero_padded_crop(dtype):
    img = IMAGES["rgb"].astype(dtype)
    h, w = img.shape[:2]
    boxes = np.array([[0, 0, w, h], [-5, -5, 0, 0], [10, 20, 40, 33], [w - 7, h - 9, w + 20, h + 4],
                      [3, 4, 5, 5]])
    got = opticore.crop_resize(img, boxes, (24, 24), interpolation="bins")
    for box, crop in zip(boxes, got):
        x1, y1, x2, y2 = box
        padded = np.zeros((y2 - y1, x2 - x1, 3), dtype)
        ya, yb, xa, xb = max(y1, 0), min(y2, h), max(x1, 0), min(x2, w)
        if ya < yb and xa < xb:
            padded[ya - y1:yb - y1, xa - x1:xb - x1] = img[ya:yb, xa:xb]
        np.testing.assert_array_equal(crop, opticore.resize(padded, (24, 24), interpolation="bins"))
    assert not got[1].any()


def test_bins_is_for_resizes_only():
    img = IMAGES["rgb"]
    with pytest.raises(ValueError, match="interpolation: expected one of"):
        opticore.warp_affine(img, np.eye(2, 3), (10, 10), interpolation="bins")  # type: ignore[arg-type]
