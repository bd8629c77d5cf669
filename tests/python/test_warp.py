"""warp_affine and remap against OpenCV and against exact NumPy references, and the argument errors
of every warp (resize and crop_resize are compared with OpenCV in test_resize.py).

Acceptance (tolerances near what the code achieves, measured on these images):
warp_affine / remap: uint8 equal to OpenCV, float32 within 1e-6 (measured 5.4e-7), both following
the same 1/32-pixel quantisation (check_close in warp_cases.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import opticore
from warp_cases import (
    BORDER,
    IMAGES,
    INTERP,
    as_dtype,
    border_value_for,
    check_close,
    cv2,
    cv_border_value,
    random_affine,
)


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
    out[name + "_half"] = opticore.resize(img[:342, :506], (253, 171))  # the 2x2 means
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
    if kwargs == {"interpolation": None}:  # resize and crop_resize also take "area" and "bins"
        resize_message = "interpolation: expected one of 'nearest', 'linear', 'cubic', 'area', 'bins', got None"
        with pytest.raises(TypeError, match=resize_message):
            opticore.resize(img, (3, 3), **kwargs)
        with pytest.raises(TypeError, match=resize_message):
            opticore.crop_resize(img, [[0, 0, 2, 2]], (3, 3), **kwargs)
