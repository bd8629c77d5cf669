"""random_warp and random_transform against NumPy + OpenCV references of the same algorithms.

random_warp: the reference draws the same jitter from the same seed, builds the control grid and
the dense map in NumPy, remaps with cv2.remap, fits a NumPy Umeyama and warps with cv2.warpAffine;
results must agree seed for seed (uint8 within 1 grey level on >= 99.9% of the pixels, matrices to
1e-9). random_transform: the matrix against cv2.getRotationMatrix2D, the image against
cv2.warpAffine, and landmarks (a blob's centroid) following the matrix.
"""

from __future__ import annotations

import numpy as np
import pytest

import opticore
from opticore import augment

cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")

BORDER = {
    "constant": cv2.BORDER_CONSTANT,
    "replicate": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
    "reflect101": cv2.BORDER_REFLECT_101,
}

FACE256 = cv2.resize(skdata.astronaut()[:300, 100:400], (256, 256), interpolation=cv2.INTER_AREA)


def as_float(img):
    return img.astype(np.float32) / 255


def umeyama_ref(src, dst):
    """Plain NumPy Umeyama (similarity, det R = +1), (3, 3)."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    a = d.T @ s / len(src)
    u, sv, vt = np.linalg.svd(a)
    sign = np.ones(2)
    if np.linalg.det(a) < 0:
        sign[-1] = -1
    r = u @ np.diag(sign) @ vt
    c = (sv * sign).sum() / (s ** 2).sum(1).mean()
    m = np.eye(3)
    m[:2, :2] = c * r
    m[:2, 2] = md - c * r @ ms
    return m


def control_points_ref(h, w, z, grid, coverage, noise):
    """(grid, grid) x and y of the jittered control points."""
    t = np.arange(grid) / (grid - 1) - 0.5
    bx = (w - 1) / 2 + t * coverage * w
    by = (h - 1) / 2 + t * coverage * h
    px = np.broadcast_to(bx[None, :], (grid, grid)) + noise * w * z[0]
    py = np.broadcast_to(by[:, None], (grid, grid)) + noise * h * z[1]
    return px, py


def dense_map_ref(p, grid, s):
    """Bilinear interpolation of the (grid, grid) values p at u = (x + 0.5) (grid - 1) / s."""
    u = (np.arange(s) + 0.5) * (grid - 1) / s
    k = np.minimum(np.floor(u).astype(int), grid - 2)
    f = u - k
    i, fv = k[:, None], f[:, None]
    j, fu = k[None, :], f[None, :]
    top = p[i, j] + fu * (p[i, j + 1] - p[i, j])
    bottom = p[i + 1, j] + fu * (p[i + 1, j + 1] - p[i + 1, j])
    return (top + fv * (bottom - top)).astype(np.float32)


def random_warp_ref(image, seed, grid=5, coverage=0.625, noise=5 / 256, out_size=64,
                    border_mode="replicate", border_value=0):
    h, w = image.shape[:2]
    z = np.random.default_rng(seed).normal(size=(2, grid, grid))
    px, py = control_points_ref(h, w, z, grid, coverage, noise)
    mx, my = dense_map_ref(px, grid, out_size), dense_map_ref(py, grid, out_size)
    bv = (border_value,) * 4
    warped = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=BORDER[border_mode], borderValue=bv)
    step = out_size / (grid - 1)
    gy, gx = np.mgrid[0:grid, 0:grid]
    nodes = np.stack([gx.ravel() * step - 0.5, gy.ravel() * step - 0.5], 1)
    M = umeyama_ref(np.stack([px.ravel(), py.ravel()], 1), nodes)[:2]
    target = cv2.warpAffine(image, M, (out_size, out_size), flags=cv2.INTER_LINEAR,
                            borderMode=BORDER[border_mode], borderValue=bv)
    return warped, target, M, (mx, my)


def assert_close_images(ours, ref):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    if ours.dtype == np.uint8:
        diff = np.abs(ours.astype(np.int16) - ref.astype(np.int16))
        assert diff.max() <= 1 and np.mean(diff == 0) >= 0.999, (diff.max(), np.mean(diff == 0))
    else:
        np.testing.assert_allclose(ours, ref, atol=1e-4)


# --- random_warp ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 123456789])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_random_warp_matches_reference_faceswap_defaults(seed, dtype):
    img = FACE256 if dtype == np.uint8 else as_float(FACE256)
    warped, target, M = opticore.random_warp(img, rng=seed, return_matrix=True)
    rw, rt, rM, _ = random_warp_ref(img, seed)
    np.testing.assert_allclose(M, rM, rtol=0, atol=1e-9)
    assert_close_images(warped, rw)
    assert_close_images(target, rt)


@pytest.mark.parametrize(
    "shape, grid, coverage, noise, out_size, border_mode",
    [
        ((256, 256, 3), 2, 0.5, 0.02, 40, "replicate"),
        ((200, 300, 3), 7, 0.9, 0.03, 96, "constant"),
        ((300, 200), 3, 1.2, 0.05, 33, "reflect"),
        ((120, 160, 1), 5, 0.625, 0.0, 64, "reflect101"),
        ((97, 131, 4), 9, 0.3, 0.1, 17, "constant"),
        ((64, 64, 2), 4, 0.8, 0.01, 1, "replicate"),
    ],
)
def test_random_warp_matches_reference_general(shape, grid, coverage, noise, out_size, border_mode):
    base = cv2.resize(skdata.astronaut(), (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    if len(shape) == 2:
        img = np.ascontiguousarray(base[..., 1])
    else:
        img = np.ascontiguousarray(np.dstack([base, base[..., :1]])[..., : shape[2]])
    for seed in range(3):
        kw = {"grid": grid, "coverage": coverage, "noise": noise, "out_size": out_size, "border_mode": border_mode}
        warped, target, M = opticore.random_warp(img, rng=seed, return_matrix=True, **kw)
        rw, rt, rM, _ = random_warp_ref(img, seed, **kw)
        if rw.ndim == 2 and img.ndim == 3:  # cv2 drops a channel axis of 1
            rw, rt = rw[..., None], rt[..., None]
        np.testing.assert_allclose(M, rM, rtol=0, atol=1e-9)
        assert_close_images(warped, rw)
        assert_close_images(target, rt)


def test_dense_map_is_faceswaps_resize_then_crop():
    """grid 5, out 64: resize the control grid to 80 x 80 and crop 8 per side (faceswap)."""
    for seed in range(3):
        z = np.random.default_rng(seed).normal(size=(2, 5, 5))
        px, py = control_points_ref(256, 256, z, 5, 0.625, 5 / 256)
        mx, my = dense_map_ref(px, 5, 64), dense_map_ref(py, 5, 64)
        fx = cv2.resize(px.astype(np.float32), (80, 80))[8:72, 8:72]
        fy = cv2.resize(py.astype(np.float32), (80, 80))[8:72, 8:72]
        np.testing.assert_allclose(mx, fx, atol=1e-4)
        np.testing.assert_allclose(my, fy, atol=1e-4)
        # and opticore's warped image is faceswap's remap through that map
        warped = opticore.random_warp(FACE256, rng=seed)[0]
        ref = cv2.remap(FACE256, fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        diff = np.abs(warped.astype(np.int16) - ref.astype(np.int16))
        assert diff.max() <= 1 and np.mean(diff == 0) >= 0.999


def test_random_warp_default_faceswap_geometry():
    """noise 0, 256x256: control points span 47.5 .. 207.5 (160 px wide, centred on 127.5)."""
    _, _, M = opticore.random_warp(FACE256, noise=0.0, rng=0, return_matrix=True)
    # node (0, 0) at -0.5 and node (4, 4) at 63.5 in the output: scale 64 / 160
    np.testing.assert_allclose(M, [[0.4, 0, -0.5 - 0.4 * 47.5], [0, 0.4, -0.5 - 0.4 * 47.5]], atol=1e-12)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_random_warp_zero_noise_warped_equals_target(dtype):
    img = FACE256 if dtype == np.uint8 else as_float(FACE256)
    for grid, out in [(5, 64), (3, 50), (8, 128)]:
        warped, target = opticore.random_warp(img, grid=grid, out_size=out, noise=0.0, rng=1)
        if dtype == np.uint8:
            diff = np.abs(warped.astype(np.int16) - target.astype(np.int16))
            assert diff.max() <= 2 and np.mean(diff <= 1) >= 0.99
        else:
            assert np.abs(warped - target).max() < 0.02


def test_random_warp_determinism_and_generator():
    a = opticore.random_warp(FACE256, rng=5)
    b = opticore.random_warp(FACE256, rng=np.random.default_rng(5))
    c = opticore.random_warp(FACE256, rng=np.int64(5))
    for x, y, w in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, w)
    gen = np.random.default_rng(5)
    first = opticore.random_warp(FACE256, rng=gen)
    second = opticore.random_warp(FACE256, rng=gen)  # the generator advanced
    np.testing.assert_array_equal(first[0], a[0])
    assert not np.array_equal(first[0], second[0])
    # the generator advanced by exactly the documented draws
    gen = np.random.default_rng(5)
    opticore.random_warp(FACE256, grid=4, rng=gen)
    ref = np.random.default_rng(5)
    ref.normal(size=(2, 4, 4))
    assert gen.random() == ref.random()


def test_random_warp_default_rng_is_created_once():
    opticore.random_warp(FACE256)
    gen = augment._default_rng
    assert isinstance(gen, np.random.Generator)
    x = opticore.random_warp(FACE256)[0]
    y = opticore.random_warp(FACE256)[0]
    assert augment._default_rng is gen
    assert not np.array_equal(x, y)


def test_random_warp_layouts():
    grey = np.ascontiguousarray(FACE256[..., 0])
    w, t = opticore.random_warp(grey, rng=3)
    assert w.shape == t.shape == (64, 64) and w.dtype == np.uint8
    big = cv2.resize(FACE256, (512, 512))
    view = big[::2, ::-2]  # strided, negative column stride
    for x, y in zip(opticore.random_warp(view, rng=3), opticore.random_warp(np.ascontiguousarray(view), rng=3)):
        np.testing.assert_array_equal(x, y)
        assert x.flags.c_contiguous
    chw = np.ascontiguousarray(FACE256.transpose(2, 0, 1)).transpose(1, 2, 0)  # channel-planar
    for x, y in zip(opticore.random_warp(chw, rng=4), opticore.random_warp(FACE256, rng=4)):
        np.testing.assert_array_equal(x, y)


def test_random_warp_constant_border_value():
    img = np.full((32, 32, 3), 100, np.uint8)
    w, t = opticore.random_warp(img, coverage=3.0, noise=0.0, border_mode="constant",
                                border_value=(1, 2, 3), rng=0)
    assert tuple(w[0, 0]) == (1, 2, 3) and tuple(t[0, 0]) == (1, 2, 3)
    assert tuple(w[32, 32]) == (100, 100, 100)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"grid": 1}, ValueError, "grid"),
        ({"grid": 2.0}, TypeError, "grid"),
        ({"grid": True}, TypeError, "grid"),
        ({"out_size": 0}, ValueError, "out_size"),
        ({"coverage": 0.0}, ValueError, "coverage"),
        ({"coverage": float("nan")}, ValueError, "coverage"),
        ({"coverage": float("inf")}, ValueError, "coverage"),
        ({"noise": -0.1}, ValueError, "noise"),
        ({"noise": float("nan")}, ValueError, "noise"),
        ({"noise": "1"}, TypeError, "noise"),
        ({"rng": 1.5}, TypeError, "rng"),
        ({"rng": -1}, ValueError, "rng"),
        ({"rng": np.random.RandomState(0)}, TypeError, "rng"),
        ({"border_mode": "wrap"}, ValueError, "border_mode"),
        ({"border_value": (1, 2)}, ValueError, "border_value"),
    ],
)
def test_random_warp_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        opticore.random_warp(FACE256, **kwargs)


def test_random_warp_image_errors():
    with pytest.raises(TypeError, match="image"):
        opticore.random_warp(FACE256.astype(np.float64))
    with pytest.raises(ValueError, match="image"):
        opticore.random_warp(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match="image"):
        opticore.random_warp(np.zeros(16, np.uint8))
    with pytest.raises(ValueError, match="image"):
        opticore.random_warp(np.zeros((0, 4), np.uint8))


def test_core_random_warp_checks_jitter():
    with pytest.raises(ValueError, match="jitter"):
        opticore._core.random_warp(FACE256, np.zeros((2, 4, 4)), 5, 0.625, 0.02, 64)
    with pytest.raises(ValueError, match="jitter"):
        opticore._core.random_warp(FACE256, np.full((2, 5, 5), np.nan), 5, 0.625, 0.02, 64)
    with pytest.raises(TypeError, match="jitter"):
        opticore._core.random_warp(FACE256, np.zeros((2, 5, 5), np.int64), 5, 0.625, 0.02, 64)


# --- random_transform -----------------------------------------------------------------------------


def transform_ref(h, w, seed, rotation=10.0, zoom=0.05, shift=0.05, flip_prob=0.5):
    """The documented draws, and the matrix built with cv2.getRotationMatrix2D."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(-rotation, rotation)
    scale = rng.uniform(1 - zoom, 1 + zoom)
    tx = rng.uniform(-shift, shift) * w
    ty = rng.uniform(-shift, shift) * h
    flip = rng.random() < flip_prob
    M = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, scale)
    M[:, 2] += (tx, ty)
    if flip:
        M = np.array([[-1.0, 0, w - 1], [0, 1, 0], [0, 0, 1]])[:2] @ np.vstack([M, [0, 0, 1]])
    return M, flip


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_random_transform_matches_opencv(dtype):
    img = skdata.astronaut()[:300, :400]  # non-square
    img = img if dtype == np.uint8 else as_float(img)
    flips = set()
    for seed in range(8):
        kw = {"rotation": 30.0, "zoom": 0.2, "shift": 0.1, "flip_prob": 0.5}
        out, M = opticore.random_transform(img, rng=seed, **kw)
        rM, flip = transform_ref(300, 400, seed, **kw)
        flips.add(flip)
        np.testing.assert_allclose(M, rM, rtol=0, atol=1e-9)
        ref = cv2.warpAffine(img, M, (400, 300), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        assert_close_images(out, ref)
    assert flips == {True, False}


def test_random_transform_flip():
    img = skdata.astronaut()[:100, :150]
    out, M = opticore.random_transform(img, rotation=0, zoom=0, shift=0, flip_prob=1.0, rng=0)
    np.testing.assert_array_equal(out, img[:, ::-1])
    np.testing.assert_array_equal(M, [[-1, 0, 149], [0, 1, 0]])
    out, M = opticore.random_transform(img, rotation=0, zoom=0, shift=0, flip_prob=0.0, rng=0)
    np.testing.assert_array_equal(out, img)
    # same seed: the same rotation / zoom / shift draws; flip_prob only decides the last one
    a, Ma = opticore.random_transform(img, flip_prob=0.0, rng=9)
    b, Mb = opticore.random_transform(img, flip_prob=1.0, rng=9)
    np.testing.assert_allclose(Mb[0], [-Ma[0, 0], -Ma[0, 1], 149 - Ma[0, 2]], atol=1e-12)
    np.testing.assert_allclose(Mb[1], Ma[1], atol=0)
    diff = np.abs(b.astype(np.int16) - a[:, ::-1].astype(np.int16))
    assert diff.max() <= 3 and np.mean(diff <= 1) >= 0.999  # 1/32-px rounding mirrored


@pytest.mark.parametrize("flip_prob", [0.0, 1.0])
def test_random_transform_landmarks_follow(flip_prob):
    """A Gaussian blob's centroid lands where M sends its centre."""
    h, w = 120, 160
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(0)
    for _ in range(5):
        c = rng.uniform([60, 45], [100, 75])
        img = np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * 3.0 ** 2)).astype(np.float32)
        out, M = opticore.random_transform(img, rotation=45, zoom=0.3, shift=0.1, flip_prob=flip_prob,
                                           border_mode="constant", rng=rng)
        expected = c @ M[:, :2].T + M[:, 2]
        centroid = np.array([(out * xx).sum(), (out * yy).sum()]) / out.sum()
        np.testing.assert_allclose(centroid, expected, atol=0.05)
    # and a bright pixel ends up at the rounded position
    dot = np.zeros((h, w), np.uint8)
    dot[30, 100] = 255
    out, M = opticore.random_transform(dot, flip_prob=flip_prob, rng=3, border_mode="constant")
    x, y = np.array([100, 30]) @ M[:, :2].T + M[:, 2]
    iy, ix = np.unravel_index(np.argmax(out), out.shape)
    assert abs(ix - x) <= 1 and abs(iy - y) <= 1


def test_random_transform_determinism_and_layout():
    img = skdata.astronaut()[:200:2, ::-3]  # non-contiguous
    a, Ma = opticore.random_transform(img, rng=11)
    b, Mb = opticore.random_transform(np.ascontiguousarray(img), rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(Ma, Mb)
    assert a.shape == img.shape and a.dtype == np.uint8 and Ma.shape == (2, 3) and Ma.dtype == np.float64
    gen = np.random.default_rng(11)
    first, _ = opticore.random_transform(img, rng=gen)
    second, _ = opticore.random_transform(img, rng=gen)
    np.testing.assert_array_equal(first, a)
    assert not np.array_equal(first, second)
    grey = np.ascontiguousarray(img[..., 0])
    assert opticore.random_transform(grey, rng=0)[0].shape == grey.shape


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"rotation": -1.0}, ValueError, "rotation"),
        ({"rotation": float("inf")}, ValueError, "rotation"),
        ({"zoom": 1.0}, ValueError, "zoom"),
        ({"zoom": -0.1}, ValueError, "zoom"),
        ({"shift": float("nan")}, ValueError, "shift"),
        ({"shift": -0.1}, ValueError, "shift"),
        ({"flip_prob": 1.5}, ValueError, "flip_prob"),
        ({"flip_prob": -0.1}, ValueError, "flip_prob"),
        ({"flip_prob": None}, TypeError, "flip_prob"),
        ({"rng": "seed"}, TypeError, "rng"),
        ({"border_mode": "wrap"}, ValueError, "border_mode"),
    ],
)
def test_random_transform_errors(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        opticore.random_transform(FACE256, **kwargs)


def test_random_transform_image_errors():
    with pytest.raises(TypeError, match="image"):
        opticore.random_transform(FACE256.astype(np.float64), rng=0)
    with pytest.raises(ValueError, match="image"):
        opticore.random_transform(np.zeros(16, np.uint8), rng=0)


# --- found by fuzzing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"out_size": 2**31}, ValueError, r"out_size: expected a result of at most 4 GiB .*2 x 2147483648 x 21474"),
        ({"out_size": 2**70}, ValueError, "out_size: expected an int <= 9223372036854775807"),
        ({"grid": 10**6}, ValueError, r"grid: expected a result of at most 4 GiB .*2 x 1000000 x 1000000"),
        ({"coverage": 1e300}, ValueError, r"coverage, noise: the jittered control grid \(coverage 1e\+300"),
        ({"coverage": 1e307}, ValueError, r"coverage, noise: control point \(0, 0\) overflows"),
        ({"noise": 1e300}, ValueError, "coverage, noise: the jittered control grid"),
        ({"border_mode": None}, TypeError, "border_mode: expected one of 'constant', 'replicate'"),
    ],
)
def test_random_warp_extreme_arguments_name_the_argument(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        opticore.random_warp(FACE256, rng=0, **kwargs)


def test_random_transform_checks_border_mode_and_numbers():
    with pytest.raises(TypeError, match="border_mode: expected one of"):
        opticore.random_transform(FACE256, border_mode=1)
    with pytest.raises(TypeError, match="rotation: expected a number, got '5'"):
        opticore.random_transform(FACE256, rotation="5")


@pytest.mark.parametrize("order", [">", "<"])
def test_big_endian_images_are_read_correctly(order):
    image = FACE256.astype(np.float32)
    for function in (opticore.random_warp, opticore.random_transform):
        np.testing.assert_array_equal(function(image.astype(order + "f4"), rng=3)[0], function(image, rng=3)[0])
