"""Warps (warp_affine, remap, resize, crop_resize) against OpenCV and against exact NumPy references.

Acceptance (tolerances near what the code achieves, measured on these images):
warp_affine / remap: uint8 equal to OpenCV, float32 within 1e-6 (measured 5.4e-7), both following
the same 1/32-pixel quantisation. resize: uint8 nearest / linear / area equal to OpenCV, uint8
cubic and float32 within check_resize_close. crop_resize: equal to resize of each crop.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import opticore

cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")

INTERP = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}
RESIZE_INTERP = {**INTERP, "area": cv2.INTER_AREA}
BORDER = {
    "constant": cv2.BORDER_CONSTANT,
    "replicate": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
    "reflect101": cv2.BORDER_REFLECT_101,
}


def natural_images():
    """Grey HxW, 1-channel HxWx1, 3 channels and 4 channels (with an alpha ramp)."""
    astro, camera, coffee = skdata.astronaut(), skdata.camera(), skdata.coffee()
    alpha = np.linspace(0, 255, astro.shape[1], dtype=np.uint8)[None, :].repeat(astro.shape[0], 0)
    return {
        "grey": camera,
        "grey1": camera[:, :, None],
        "rgb": astro,
        "coffee": coffee,
        "rgba": np.dstack([astro, alpha]),
    }


IMAGES = natural_images()


def as_dtype(img, dtype):
    return img if dtype == np.uint8 else (img.astype(np.float32) / 255)


def random_affine(rng, h, w):
    """Rotation, anisotropic scale, shear and translation about the image centre."""
    a = rng.uniform(-np.pi, np.pi)
    s = rng.uniform(0.4, 1.8)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    lin = rot @ np.array([[s, rng.uniform(-0.3, 0.3)], [0, s * rng.uniform(0.7, 1.3)]])
    c = np.array([w / 2, h / 2])
    t = c - lin @ c + rng.uniform(-40, 40, 2)
    return np.hstack([lin, t[:, None]])


def cv_border_value(bv, img):
    channels = 1 if img.ndim == 2 else img.shape[2]
    values = [bv] * channels if np.isscalar(bv) else list(bv)
    return tuple(values) + (0,) * (4 - channels)


def check_close(got, ref, dtype):
    """warp_affine / remap: uint8 bit-exact; float32 within float32 rounding of the same taps
    (measured at most 5.4e-7 for values in [0, 1])."""
    assert got.dtype == ref.dtype and got.shape == ref.shape
    if dtype == np.uint8:
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def check_resize_close(got, ref, dtype, interp):
    """resize: uint8 nearest / linear / area bit-exact with OpenCV. uint8 cubic (OpenCV rounds its
    vertical pass differently): every pixel within 1 grey level, at most 13 % of them differ and
    the mean signed difference is at most 0.13 (measured: up to 12.6 % of the pixels differ, all by
    +1); a rounding bias of half a level would move the mean by about 0.5. float32 (values in
    [0, 1]): within 2e-5 (measured 1.8e-5) and, over outputs of 1000 values or more, an unbiased mean, |mean signed
    difference| <= 5e-8 (measured 1.2e-8)."""
    assert got.dtype == ref.dtype and got.shape == ref.shape
    diff = got.astype(np.float64) - ref
    if dtype == np.uint8 and interp != "cubic":
        np.testing.assert_array_equal(got, ref)
    elif dtype == np.uint8:
        assert np.abs(diff).max() <= 1
        assert (diff != 0).mean() <= 0.13, (diff != 0).mean()
        assert abs(diff.mean()) <= 0.13, diff.mean()
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=2e-5)
        assert got.size < 1000 or abs(diff.mean()) <= 5e-8, diff.mean()


def border_value_for(img, dtype):
    channels = 1 if img.ndim == 2 else img.shape[2]
    values = [30, 200, 90, 255][:channels]
    return [v if dtype == np.uint8 else v / 255 for v in values]


# ---------------------------------------------------------------------------------------- warp_affine


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("border", list(BORDER))
@pytest.mark.parametrize("interp", list(INTERP))
def test_warp_affine_matches_opencv(interp, border, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{interp}/{border}".encode()))
    for img8 in IMAGES.values():
        img = as_dtype(img8, dtype)
        h, w = img.shape[:2]
        bv = border_value_for(img, dtype)
        for dsize in [(w, h), (97, 131)]:
            M = random_affine(rng, h, w)
            ref = cv2.warpAffine(
                img, M, dsize, flags=INTERP[interp], borderMode=BORDER[border], borderValue=cv_border_value(bv, img)
            )
            got = opticore.warp_affine(img, M, dsize, interpolation=interp, border_mode=border, border_value=bv)
            check_close(got, ref.reshape(got.shape), dtype)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("interp", list(INTERP))
def test_identity_and_integer_translation_are_exact(interp, dtype):
    img = as_dtype(IMAGES["rgb"][:100, :120], dtype)
    out = opticore.warp_affine(img, np.eye(3), (120, 100), interpolation=interp)
    np.testing.assert_array_equal(out, img)
    out = opticore.warp_affine(img, [[1, 0, 7], [0, 1, -5]], (120, 100), interpolation=interp, border_value=3)
    expected = np.full_like(img, 3)
    expected[:95, 7:] = img[5:, :113]
    np.testing.assert_array_equal(out, expected)  # zero-weight taps on the border change nothing


@pytest.mark.parametrize("interp", list(INTERP))
def test_non_contiguous_inputs_read_in_place(interp):
    rng = np.random.default_rng(1)
    views = [
        lambda a: a[::2, 1::3],
        lambda a: a[::-1, ::-1],
        lambda a: a[..., ::-1],
        lambda a: a.transpose(1, 0, 2),
        lambda a: a[10:300, 5:400, 1],
    ]
    for dtype in (np.uint8, np.float32):
        base = as_dtype(IMAGES["rgba"], dtype)
        for view in views:
            v = view(base)
            M = random_affine(rng, *v.shape[:2])
            got = opticore.warp_affine(v, M, (150, 120), interpolation=interp, border_mode="reflect")
            ref = opticore.warp_affine(
                np.ascontiguousarray(v), M, (150, 120), interpolation=interp, border_mode="reflect"
            )
            np.testing.assert_array_equal(got, ref)


def test_matrix_forms_and_dtypes():
    img = IMAGES["rgb"]
    M = random_affine(np.random.default_rng(2), 512, 512)
    ref = opticore.warp_affine(img, M, (200, 100))
    for m in (M.astype(np.float32).astype(np.float64), np.vstack([M, [0, 0, 1]]), M.tolist()):
        np.testing.assert_array_equal(opticore.warp_affine(img, m, (200, 100)), ref)
    m32 = M.astype(np.float32)
    np.testing.assert_array_equal(opticore.warp_affine(img, m32, (200, 100)), cv2.warpAffine(img, m32, (200, 100)))


def bilinear_reference(img, xs, ys):
    """Exact bilinear sampling in float64 with a constant 0 border (tap-wise, like OpenCV)."""
    img = img.astype(np.float64)
    h, w = img.shape[:2]
    x0, y0 = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    fx, fy = xs - x0, ys - y0
    if img.ndim == 3:
        fx, fy = fx[..., None], fy[..., None]

    def tap(yi, xi):
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        v = img[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        return np.where(inside[..., None] if img.ndim == 3 else inside, v, 0.0)

    return (1 - fy) * ((1 - fx) * tap(y0, x0) + fx * tap(y0, x0 + 1)) + fy * (
        (1 - fx) * tap(y0 + 1, x0) + fx * tap(y0 + 1, x0 + 1)
    )


def test_float_warp_against_exact_bilinear():
    """Unquantised bilinear differs by at most the 1/32-pixel rounding: a coordinate moves by
    <= 1/64 pixel per axis (plus the 1/1024 fixed-point step, < 1/1024), so the value moves by
    <= (1/64 + 1/1024) * (|horizontal| + |vertical| local difference)."""
    img = IMAGES["rgb"].astype(np.float32) / 255
    M = random_affine(np.random.default_rng(3), 512, 512)
    out = opticore.warp_affine(img, M, (300, 200))
    A = cv2.invertAffineTransform(M)
    ys, xs = np.mgrid[0:200, 0:300].astype(np.float64)
    sx, sy = A[0, 0] * xs + A[0, 1] * ys + A[0, 2], A[1, 0] * xs + A[1, 1] * ys + A[1, 2]
    ref = bilinear_reference(img, sx, sy)
    pad = np.pad(img.astype(np.float64), ((1, 2), (1, 2), (0, 0)))
    gx = np.abs(np.diff(pad, axis=1)).max(axis=2)
    gy = np.abs(np.diff(pad, axis=0)).max(axis=2)
    x0 = np.clip(np.floor(sx).astype(int) + 1, 0, 513)
    y0 = np.clip(np.floor(sy).astype(int) + 1, 0, 513)
    bound = (1 / 64 + 1 / 1024) * (np.maximum(gx[y0, x0], gx[y0 + 1, x0]) + np.maximum(gy[y0, x0], gy[y0, x0 + 1]))
    assert (np.abs(out - ref).max(axis=2) <= bound * 1.5 + 1e-5).all()


# ---------------------------------------------------------------------------------------- remap


def smooth_maps(rng, h, w, oh, ow):
    ys, xs = np.mgrid[0:oh, 0:ow].astype(np.float32)
    a, b = rng.uniform(10, 60, 2)
    mx = xs * (w / ow) + 15 * np.sin(ys / a) + rng.uniform(-20, 20)
    my = ys * (h / oh) + 15 * np.cos(xs / b) + rng.uniform(-20, 20)
    return mx.astype(np.float32), my.astype(np.float32)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("border", list(BORDER))
@pytest.mark.parametrize("interp", list(INTERP))
def test_remap_matches_opencv(interp, border, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{interp}/{border}/remap".encode()))
    for img8 in IMAGES.values():
        img = as_dtype(img8, dtype)
        h, w = img.shape[:2]
        mx, my = smooth_maps(rng, h, w, 150, 170)
        bv = border_value_for(img, dtype)
        ref = cv2.remap(img, mx, my, INTERP[interp], borderMode=BORDER[border], borderValue=cv_border_value(bv, img))
        got = opticore.remap(img, mx, my, interpolation=interp, border_mode=border, border_value=bv)
        check_close(got, ref.reshape(got.shape), dtype)
        # Non-contiguous maps are read in place.
        got2 = opticore.remap(
            img, np.asfortranarray(mx), my[:, ::-1][:, ::-1], interpolation=interp, border_mode=border, border_value=bv
        )
        np.testing.assert_array_equal(got2, got)


def test_float_remap_against_exact_bilinear_on_quantised_coordinates():
    """remap quantises to round(32 v) / 32 exactly; bilinear on those coordinates is then exact
    up to float32 rounding (1e-5 for values in [0, 1])."""
    img = IMAGES["coffee"].astype(np.float32) / 255
    mx, my = smooth_maps(np.random.default_rng(4), *img.shape[:2], 120, 140)
    got = opticore.remap(img, mx, my)
    ref = bilinear_reference(img, np.round(mx.astype(np.float64) * 32) / 32, np.round(my.astype(np.float64) * 32) / 32)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)


def test_remap_nan_reads_the_border():
    img = np.full((4, 4), 9, np.float32)
    mx = np.array([[np.nan, 1.0]], np.float32)
    my = np.array([[1.0, np.nan]], np.float32)
    for interp in INTERP:
        np.testing.assert_array_equal(opticore.remap(img, mx, my, interpolation=interp, border_value=-1), [[-1, -1]])


def test_remap_contiguous_and_strided_maps_quantise_alike():
    # Contiguous maps are quantised 4 values at a time, strided ones one by one: the two agree on
    # ties (k + 0.5) / 32, NaN, infinities, the int32 limits and far values, in every mode.
    vals = np.float32([np.nan, np.inf, -np.inf, 2**31, -(2**31), 1e10, -1e10, 0.5 / 32, 1.5 / 32, 2.5, 3.5,
                       -0.5, 7.015625, 100.0, -3.0, 5.5, 1e-30, 65536.5, -70000.25, 31.99])
    img = (np.arange(40 * 50 * 3) % 251).astype(np.uint8).reshape(40, 50, 3)
    mx = np.tile(vals, (3, 1))
    my = np.roll(mx, 3, axis=1)[::-1].copy()
    strided_x, strided_y = np.repeat(mx, 2, axis=1)[:, ::2], np.repeat(my, 2, axis=1)[:, ::2]
    assert strided_x.strides[1] == 8 and np.array_equal(strided_x, mx, equal_nan=True)
    for interp in INTERP:
        for border in BORDER:
            kwargs = {"interpolation": interp, "border_mode": border, "border_value": 7}
            np.testing.assert_array_equal(opticore.remap(img, mx, my, **kwargs),
                                          opticore.remap(img, strided_x, strided_y, **kwargs))


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
            ref = cv2.resize(img, dsize, interpolation=RESIZE_INTERP[interp])
            got = opticore.resize(img, dsize, interpolation=interp)
            if interp == "area" and dtype == np.float32 and dsize == (1, 1):
                # OpenCV's float sum of a whole image drifts by up to 5e-5; ours stays accurate.
                np.testing.assert_allclose(got.ravel(), img.astype(np.float64).mean(axis=(0, 1)).ravel(), atol=1e-6)
                continue
            check_resize_close(got, ref.reshape(got.shape), dtype, interp)


@pytest.mark.parametrize("interp", ["nearest", "linear", "area"])
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
        ref = cv2.resize(img, (dw, dh), interpolation=RESIZE_INTERP[interp]).reshape(dh, dw, c)
        np.testing.assert_array_equal(opticore.resize(img, (dw, dh), interpolation=interp), ref,
                                      err_msg=f"{(h, w, c)} -> {(dh, dw)}")


def test_resize_saturates():
    # uint8 extremes (a 0 / 255 checkerboard) saturate instead of wrapping.
    board = (np.indices((31, 33)).sum(0) % 2 * 255).astype(np.uint8)
    for interp, flag in RESIZE_INTERP.items():
        for dsize in [(7, 5), (50, 70), (11, 31)]:
            got = opticore.resize(board, dsize, interpolation=interp)
            check_resize_close(got, cv2.resize(board, dsize, interpolation=flag), np.uint8, interp)


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
            ref = np.stack([cv2.resize(c, size, interpolation=RESIZE_INTERP[interp]) for c in crops])
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


SSE2_FALLBACK_SCRIPT = """
import sys, numpy as np, opticore
from skimage.data import astronaut, camera
rgb, rgba = astronaut(), np.dstack([astronaut(), astronaut()[:, :, 0]])
m = np.array([[0.3 * np.cos(0.3), -0.3 * np.sin(0.3), 40.0], [0.3 * np.sin(0.3), 0.3 * np.cos(0.3), 10.0]])
yy, xx = np.mgrid[0:300, 0:280].astype(np.float32)
out = {}
for name, img in (("rgb", rgb), ("rgba", rgba), ("flipped", rgb[::-1, 1:]), ("grey", camera())):
    out[name + "_warp"] = opticore.warp_affine(img, m, (150, 130))
    out[name + "_remap"] = opticore.remap(img, xx * 1.7 + 3.3, yy * 1.6 - 2.1, border_mode="reflect")
    out[name + "_resize"] = opticore.resize(img, (333, 171))
    out[name + "_crops"] = opticore.crop_resize(img, [[0, 0, 512, 512], [400, 300, 530, 420], [5, 7, 90, 61]], (47, 51))
np.savez(sys.argv[1], **out)
"""


def test_sse2_fallback_gives_the_same_results(tmp_path):
    # OPTICORE_NO_SSSE3 makes the kernels chosen at run time take the SSE2 paths that CPUs without
    # SSSE3 run: the same pixels, which the tests above compare with OpenCV.
    path = tmp_path / "sse2.npz"
    subprocess.run([sys.executable, "-c", SSE2_FALLBACK_SCRIPT, str(path)], check=True,
                   env={**os.environ, "OPTICORE_NO_SSSE3": "1"})
    fallback = np.load(path)
    here = tmp_path / "here.npz"
    subprocess.run([sys.executable, "-c", SSE2_FALLBACK_SCRIPT, str(here)], check=True,
                   env={k: v for k, v in os.environ.items() if k != "OPTICORE_NO_SSSE3"})
    default = np.load(here)
    assert sorted(fallback.files) == sorted(default.files)
    for name in default.files:
        np.testing.assert_array_equal(fallback[name], default[name], err_msg=name)


# ---------------------------------------------------------------------------------------- errors


def test_errors():
    img = IMAGES["rgb"][:20, :20]
    M = np.float64([[1, 0, 0], [0, 1, 0]])
    with pytest.raises(TypeError, match="image: expected uint8 or float32, got float64"):
        opticore.warp_affine(img.astype(np.float64), M, (5, 5))
    with pytest.raises(TypeError, match="image"):
        opticore.resize(img.astype(np.int16), (5, 5))
    with pytest.raises(ValueError, match=r"image: expected shape \(H, W\) or \(H, W, C\)"):
        opticore.warp_affine(img[0, 0], M, (5, 5))
    with pytest.raises(ValueError, match="image: expected 1 to 4 channels"):
        opticore.warp_affine(np.zeros((4, 4, 5), np.uint8), M, (5, 5))
    with pytest.raises(ValueError, match="image: expected a non-empty image"):
        opticore.warp_affine(np.zeros((0, 4, 3), np.uint8), M, (5, 5))
    with pytest.raises(ValueError, match="image: expected a non-empty image"):
        opticore.resize(np.zeros((4, 0), np.float32), (5, 5))
    with pytest.raises(ValueError, match=r"dsize: expected positive width and height, got \(0, 5\)"):
        opticore.warp_affine(img, M, (0, 5))
    with pytest.raises(ValueError, match="dsize: expected positive"):
        opticore.resize(img, (5, -1))
    with pytest.raises(TypeError, match="dsize: expected an integer, got 5.0"):
        opticore.resize(img, (5.0, 5))
    with pytest.raises(ValueError, match="dsize: expected \\(width, height\\)"):
        opticore.resize(img, (5, 5, 5))
    with pytest.raises(ValueError, match="M: expected finite values"):
        opticore.warp_affine(img, [[1, 0, np.nan], [0, 1, 0]], (5, 5))
    with pytest.raises(ValueError, match="M: not invertible"):
        opticore.warp_affine(img, [[1, 2, 0], [2, 4, 0]], (5, 5))
    with pytest.raises(ValueError, match=r"M: expected shape \(2, 3\) or \(3, 3\)"):
        opticore.warp_affine(img, np.eye(2), (5, 5))
    with pytest.raises(ValueError, match="M: expected the last row"):
        opticore.warp_affine(img, [[1, 0, 0], [0, 1, 0], [0, 0.1, 1]], (5, 5))
    with pytest.raises(TypeError, match="M: expected a float array"):
        opticore.warp_affine(img, [["a", "b", "c"], ["d", "e", "f"]], (5, 5))
    with pytest.raises(ValueError, match="interpolation: expected"):
        opticore.warp_affine(img, M, (5, 5), interpolation="area")
    with pytest.raises(ValueError, match="border_mode: expected"):
        opticore.warp_affine(img, M, (5, 5), border_mode="wrap")
    with pytest.raises(ValueError, match="border_value: expected a number or 3 values"):
        opticore.warp_affine(img, M, (5, 5), border_value=(1, 2))
    with pytest.raises(TypeError, match="border_value: expected numbers"):
        opticore.warp_affine(img, M, (5, 5), border_value="red")
    with pytest.raises(ValueError, match="border_value: expected numbers for a uint8 image, got NaN"):
        opticore.warp_affine(img, M, (5, 5), border_value=np.nan)
    mx = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match="map_x: expected float32"):
        opticore.remap(img, mx.astype(np.int32), mx)
    with pytest.raises(ValueError, match="map_y: expected shape"):
        opticore.remap(img, mx, mx[:2])
    with pytest.raises(ValueError, match="map_x: expected shape"):
        opticore.remap(img, mx[0], mx)
    with pytest.raises(ValueError, match="map_x: expected a non-empty"):
        opticore.remap(img, mx[:0], mx[:0])


def test_border_values_and_float_maps():
    img = np.zeros((4, 4, 3), np.uint8)
    out = opticore.warp_affine(img, [[1, 0, 100], [0, 1, 0]], (2, 2), border_value=7)
    assert (out == 7).all()
    out = opticore.warp_affine(img, [[1, 0, 100], [0, 1, 0]], (2, 2), border_value=np.array([1, 2, 3]))
    assert (out == [1, 2, 3]).all()
    out = opticore.warp_affine(img, [[1, 0, 100], [0, 1, 0]], (2, 2), border_value=300.0)
    assert (out == 255).all()
    f = np.zeros((4, 4), np.float32)
    out = opticore.warp_affine(f, [[1, 0, 100], [0, 1, 0]], (2, 2), border_value=np.nan)
    assert np.isnan(out).all()
    m64 = np.zeros((2, 2))
    np.testing.assert_array_equal(opticore.remap(f, m64, m64), opticore.remap(f, m64.astype(np.float32), m64))


def test_threads_give_identical_results():
    img = IMAGES["rgb"]
    M = random_affine(np.random.default_rng(5), 512, 512)
    before = opticore.get_num_threads()
    try:
        opticore.set_num_threads(1)
        one = [opticore.warp_affine(img, M, (600, 500)), opticore.resize(img, (700, 300), interpolation="cubic")]
        opticore.set_num_threads(3)
        three = [opticore.warp_affine(img, M, (600, 500)), opticore.resize(img, (700, 300), interpolation="cubic")]
    finally:
        opticore.set_num_threads(before)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------- found by fuzzing


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("border", list(BORDER))
@pytest.mark.parametrize("interp", list(INTERP))
def test_remap_far_coordinates_match_opencv(interp, border, dtype):
    # Coordinates up to +-2^26 pixels (where OpenCV's int32 quantisation ends): they used to be
    # clamped to +-65536 before quantising, off by up to 145 grey levels with reflecting borders.
    rng = np.random.default_rng(11)
    image = rng.integers(0, 256, size=(37, 53, 3)).astype(dtype)
    magnitude = 10.0 ** rng.uniform(0, np.log10(2.0**26), size=(2, 60, 60))
    map_x, map_y = (rng.choice([-1.0, 1.0], size=(2, 60, 60)) * magnitude).astype(np.float32)
    got = opticore.remap(image, map_x, map_y, interpolation=interp, border_mode=border)
    expected = cv2.remap(image, map_x, map_y, INTERP[interp], borderMode=BORDER[border])
    np.testing.assert_array_equal(got, expected)  # measured: equal for every case


@pytest.mark.parametrize("order", [">", "<"])
def test_any_byte_order_is_read_correctly(order):
    rng = np.random.default_rng(12)
    image = rng.random((20, 30, 3), dtype=np.float32)
    M = np.array([[0.9, 0.1, 2.0], [-0.1, 1.1, -1.0]])
    map_x, map_y = (rng.random((2, 15, 25)) * 30).astype(np.float32)
    swapped = image.astype(order + "f4")
    np.testing.assert_array_equal(
        opticore.warp_affine(swapped, M.astype(order + "f8"), (25, 15)), opticore.warp_affine(image, M, (25, 15))
    )
    np.testing.assert_array_equal(
        opticore.remap(swapped, map_x.astype(order + "f4"), map_y.astype(order + "f8")),
        opticore.remap(image, map_x, map_y),
    )
    np.testing.assert_array_equal(opticore.resize(swapped, (7, 9)), opticore.resize(image, (7, 9)))


def test_output_sizes_are_checked_before_allocating():
    img = np.zeros((10, 10, 4), np.uint8)
    with pytest.raises(ValueError, match=r"dsize: expected a result of at most 4 GiB .*100000 x 100000 x 4"):
        opticore.warp_affine(img, np.eye(2, 3), (100000, 100000))
    with pytest.raises(ValueError, match=r"dsize: expected a result of at most 4 GiB .*100000 x 100000 x 4"):
        opticore.resize(img, (100000, 100000))
    with pytest.raises(ValueError, match="dsize: expected an integer within int64, got 1180591620717411303424"):
        opticore.resize(img, (2**70, 1))
    # The output fits (1 GiB) but resize's working buffers would not: named all the same.
    with pytest.raises(ValueError, match="dsize: expected a result of at most 4 GiB"):
        opticore.resize(img[:, :, 0], (1 << 30, 1))
    with pytest.raises(ValueError, match="dsize: expected a result of at most 4 GiB"):
        opticore.warp_affine(img[:, :, 0], np.eye(2, 3), (1 << 31, 1))
    big_map = np.broadcast_to(np.float32(0), (1 << 16, 1 << 15))  # stride 0: no memory
    with pytest.raises(ValueError, match="map_x: expected a result of at most 4 GiB"):
        opticore.remap(img, big_map, big_map)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"interpolation": None}, TypeError, "interpolation: expected one of 'nearest', 'linear', 'cubic', got None"),
        ({"interpolation": "area"}, ValueError, "interpolation: expected one of 'nearest', 'linear', 'cubic', got 'ar"),
        ({"border_mode": 4}, TypeError, "border_mode: expected one of 'constant', 'replicate', 'reflect', 'reflect1"),
    ],
)
def test_string_choices_are_checked(kwargs, error, message):
    img = np.zeros((4, 4), np.uint8)
    maps = np.zeros((2, 3, 3), np.float32)
    for call in (
        lambda: opticore.warp_affine(img, np.eye(2, 3), (3, 3), **kwargs),
        lambda: opticore.remap(img, maps[0], maps[1], **kwargs),
    ):
        with pytest.raises(error, match=message):
            call()
    if kwargs == {"interpolation": None}:  # resize and crop_resize also take "area"
        resize_message = "interpolation: expected one of 'nearest', 'linear', 'cubic', 'area', got None"
        with pytest.raises(TypeError, match=resize_message):
            opticore.resize(img, (3, 3), **kwargs)
        with pytest.raises(TypeError, match=resize_message):
            opticore.crop_resize(img, [[0, 0, 2, 2]], (3, 3), **kwargs)
