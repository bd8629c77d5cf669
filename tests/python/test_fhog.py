"""FHOG features against an independent plain-NumPy reference written from the definition
(Felzenszwalb et al. 2010 as computed by Dollar's toolbox ``fhog``; see ``opticore.fhog``).

The reference works in float64 with arctan2 orientations and dense pixel-to-cell weight
matrices; opticore accumulates in float32 and bins without arctan2. Acceptance: equal within
1e-5 relative (1e-6 absolute) on random and natural images, any layout, several cell sizes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import opticore

RTOL, ATOL = 1e-5, 1e-6


def _centred_diff(a: np.ndarray, axis: int) -> np.ndarray:
    """(a[i+1] - a[i-1]) / 2 inside, one-sided at both ends, 0 for a length-1 axis."""
    a = np.moveaxis(a, axis, 0)
    g = np.zeros_like(a)
    if a.shape[0] > 1:
        g[1:-1] = (a[2:] - a[:-2]) / 2
        g[0] = a[1] - a[0]
        g[-1] = a[-1] - a[-2]
    return np.moveaxis(g, 0, axis)


def _cell_weights(pixels: int, cells: int, s: int) -> np.ndarray:
    """(pixels, cells) bilinear weights: pixel p sits at (p + 0.5) / s - 0.5 in cell units."""
    t = (np.arange(pixels) + 0.5) / s - 0.5
    first = np.floor(t).astype(np.int64)
    frac = t - first
    w = np.zeros((pixels, cells))
    for cell, weight in ((first, 1 - frac), (first + 1, frac)):
        ok = (cell >= 0) & (cell < cells)
        w[np.nonzero(ok)[0], cell[ok]] += weight[ok]
    return w


def fhog_reference(image: np.ndarray, s: int) -> np.ndarray:
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    height, width, _ = img.shape
    rows, cols = height // s, width // s

    # Gradient of the channel with the largest magnitude (first one on ties).
    gx, gy = _centred_diff(img, 1), _centred_diff(img, 0)
    best = np.argmax(gx**2 + gy**2, axis=2)[:, :, None]
    gx = np.take_along_axis(gx, best, 2)[:, :, 0]
    gy = np.take_along_axis(gy, best, 2)[:, :, 0]
    magnitude = np.hypot(gx, gy)

    # Nearest of 18 orientations k * 20 degrees; half-way 90 / 270 degrees go up (bins 5 / 14).
    angle = np.mod(np.arctan2(gy, gx), 2 * np.pi)
    bins = np.floor(angle / (np.pi / 9) + 0.5).astype(np.int64) % 18
    bins[(gx == 0) & (gy > 0)] = 5
    bins[(gx == 0) & (gy < 0)] = 14

    # Bilinear votes of magnitude / s^2 from the pixels of the cell grid.
    votes = magnitude[: rows * s, : cols * s, None] / s**2 * (bins[: rows * s, : cols * s, None] == np.arange(18))
    wy, wx = _cell_weights(rows * s, rows, s), _cell_weights(cols * s, cols, s)
    hist = np.einsum("yr,xc,yxo->rco", wy, wx, votes, optimize=True)
    edge_r, edge_c = np.ones(rows), np.ones(cols)
    for edge in (edge_r, edge_c):
        edge[0] *= 8 / 7
        edge[-1] *= 8 / 7
    hist *= edge_r[:, None, None] * edge_c[None, :, None]
    unsigned = hist[:, :, :9] + hist[:, :, 9:]

    # Block norms; block (i, j) covers cells i..i+1 x j..j+1, clamped to the grid.
    energy = (unsigned**2).sum(-1)
    n_br, n_bc = max(rows - 1, 1), max(cols - 1, 1)
    bi, bj = np.arange(n_br), np.arange(n_bc)
    bi1, bj1 = np.minimum(bi + 1, rows - 1), np.minimum(bj + 1, cols - 1)
    block_energy = sum(energy[np.ix_(i, j)] for i in (bi, bi1) for j in (bj, bj1))
    norm = 1 / np.sqrt(block_energy + 1e-4 / 4 / s**4)

    # The 4 blocks around each cell: (r, c), (r - 1, c), (r, c - 1), (r - 1, c - 1), clamped.
    r, c = np.arange(rows), np.arange(cols)
    out_r, up_r = np.clip(r, 0, n_br - 1), np.clip(r - 1, 0, n_br - 1)
    out_c, left_c = np.clip(c, 0, n_bc - 1), np.clip(c - 1, 0, n_bc - 1)
    norms = [
        norm[np.ix_(i, j)][:, :, None] for i, j in ((out_r, out_c), (up_r, out_c), (out_r, left_c), (up_r, left_c))
    ]
    t_signed = [np.minimum(hist * n, 0.2) for n in norms]
    t_unsigned = [np.minimum(unsigned * n, 0.2) for n in norms]
    texture = np.stack([0.2357 * t.sum(-1) for t in t_signed], -1)
    return np.concatenate([0.5 * sum(t_signed), 0.5 * sum(t_unsigned), texture], -1)


def check(image, s):
    got = opticore.fhog(image, s)
    expected = fhog_reference(image, s)
    assert got.dtype == np.float32 and got.flags.c_contiguous
    assert got.shape == (image.shape[0] // s, image.shape[1] // s, 31)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    return got


@pytest.mark.parametrize("s", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("shape", [(37, 45), (32, 48, 1), (29, 51, 3), (40, 33, 2), (24, 26, 4)])
def test_random_uint8_matches_reference(shape, s):
    rng = np.random.default_rng(sum(shape) * 10 + s)
    check(rng.integers(0, 256, shape, dtype=np.uint8), s)


@pytest.mark.parametrize("s", [2, 4, 6])
def test_random_float32_matches_reference(s):
    # Multiples of 1/4 keep the gradients and squared magnitudes exact in float32, so the
    # channel choice (a discrete decision) cannot differ from the float64 reference by rounding.
    rng = np.random.default_rng(s)
    image = (rng.integers(0, 1021, (43, 38, 3)) / 4).astype(np.float32)
    check(image, s)


def test_smooth_image_matches_reference():
    # Smooth gradients visit every orientation, including the half-way ones.
    y, x = np.mgrid[0:64, 0:80]
    image = (127.5 + 60 * np.sin(x / 7.0) * np.cos(y / 5.0) + 0.4 * (x - 40)).astype(np.float32)
    check(image, 4)


@pytest.mark.parametrize("s", [4, 8])
def test_astronaut_grey_and_colour(s):
    skdata = pytest.importorskip("skimage.data")
    astro = skdata.astronaut()
    grey = (astro @ np.array([0.299, 0.587, 0.114])).round().astype(np.uint8)
    check(astro[:250, :301], s)
    check(grey[100:, 50:], s)


def test_float32_equals_uint8():
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (50, 47, 3), dtype=np.uint8)
    np.testing.assert_array_equal(opticore.fhog(image.astype(np.float32), 4), opticore.fhog(image, 4))


def test_grey_equals_single_channel_and_replicated_channels():
    rng = np.random.default_rng(8)
    grey = rng.integers(0, 256, (33, 41), dtype=np.uint8)
    expected = opticore.fhog(grey, 4)
    np.testing.assert_array_equal(opticore.fhog(grey[:, :, None], 4), expected)
    np.testing.assert_array_equal(opticore.fhog(np.dstack([grey] * 3), 4), expected)


def test_any_layout_is_read_in_place():
    rng = np.random.default_rng(9)
    base = rng.integers(0, 256, (90, 70, 4), dtype=np.uint8)
    views = [
        base[::2, ::-1, :3],  # row step, reversed columns
        base[::-1, 5:60, ::-2],  # reversed rows and channels
        np.asfortranarray(base[:, :, 1]),
        base.transpose(1, 0, 2)[:, :, :2],
    ]
    for view in views:
        got = check(view, 4)
        np.testing.assert_array_equal(got, opticore.fhog(np.ascontiguousarray(view), 4))
    floats = base.astype(np.float32)[1::3, ::-1, 2]
    check(floats, 2)


def test_lists_are_accepted():
    image = [[0, 0, 255, 255]] * 4
    np.testing.assert_array_equal(opticore.fhog(np.array(image, dtype=np.uint8), 2), opticore.fhog(np.uint8(image), 2))


def test_constant_image_gives_zero_features():
    assert not opticore.fhog(np.full((20, 24, 3), 77, np.uint8), 4).any()
    assert not opticore.fhog(np.full((5, 5), 3.5, np.float32), 5).any()


def test_vertical_step_edge_votes_horizontal_gradient_bins():
    image = np.zeros((40, 40), np.uint8)
    image[:, 20:] = 200  # dark | bright: gradient along +x, orientation 0 degrees
    feat = opticore.fhog(image, 4)
    edge = feat[2:-2, 4:6]  # the cells next to the edge, away from the grid border
    assert (edge[:, :, 0] > 0.1).all()
    np.testing.assert_array_equal(edge[:, :, 1:18], 0)
    assert (edge[:, :, 18] > 0.1).all()  # unsigned bin 0 (0 / 180 degrees)
    np.testing.assert_array_equal(edge[:, :, 19:27], 0)
    flipped = opticore.fhog(image[:, ::-1], 4)[2:-2, 4:6]  # bright | dark: 180 degrees, bin 9
    assert (flipped[:, :, 9] > 0.1).all()
    np.testing.assert_allclose(flipped[:, :, 18], edge[:, :, 18][:, ::-1], rtol=RTOL)
    # A horizontal edge (dark above bright) is exactly 90 degrees: bin 5, unsigned bin 5.
    horizontal = opticore.fhog(np.ascontiguousarray(image.T), 4)[4:6, 2:-2]
    assert (horizontal[:, :, 5] > 0.1).all() and (horizontal[:, :, 23] > 0.1).all()


def test_pixels_beyond_the_grid_do_not_vote():
    rng = np.random.default_rng(10)
    image = rng.integers(0, 256, (30, 35), dtype=np.uint8)  # 7 x 8 cells of 4: rows 0..27, cols 0..31
    expected = opticore.fhog(image, 4)
    # Row 28 and column 32 are still read, as gradient neighbours of the last voting pixels.
    np.testing.assert_array_equal(opticore.fhog(image[:29, :33], 4), expected)
    changed = image.copy()
    changed[29:, :] = 0
    changed[:, 33:] = 255
    np.testing.assert_array_equal(opticore.fhog(changed, 4), expected)
    changed[28, 3] += 1
    assert not np.array_equal(opticore.fhog(changed, 4), expected)


def test_smallest_images():
    check(np.array([[7]], np.uint8), 1)
    check(np.arange(12, dtype=np.uint8).reshape(3, 4) * 20, 3)
    check(np.arange(15, dtype=np.uint8).reshape(5, 3) * 15, 1)


def test_concurrent_calls_give_the_same_result():
    rng = np.random.default_rng(11)
    images = [rng.integers(0, 256, (120, 130, 3), dtype=np.uint8) for _ in range(4)]
    expected = [opticore.fhog(im, 4) for im in images]
    with ThreadPoolExecutor(4) as pool:
        for got, want in zip(pool.map(lambda im: opticore.fhog(im, 4), images), expected):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.int32, np.float64, np.uint16, bool])
def test_wrong_dtype_is_a_type_error(dtype):
    with pytest.raises(TypeError, match="image: expected uint8 or float32"):
        opticore.fhog(np.zeros((8, 8), dtype), 4)


@pytest.mark.parametrize("shape", [(16,), (2, 8, 8, 1), (8, 8, 5), (8, 8, 0)])
def test_wrong_shape_is_a_value_error(shape):
    with pytest.raises(ValueError, match="image: expected"):
        opticore.fhog(np.zeros(shape, np.uint8), 4)


@pytest.mark.parametrize("shape", [(0, 8), (8, 0, 3), (3, 10), (10, 3, 3)])
def test_image_smaller_than_a_cell_is_a_value_error(shape):
    with pytest.raises(ValueError, match="image: expected"):
        opticore.fhog(np.zeros(shape, np.uint8), 4)


@pytest.mark.parametrize("cell_size", [0, -3])
def test_bad_cell_size_is_a_value_error(cell_size):
    with pytest.raises(ValueError, match=f"cell_size: expected an integer >= 1, got {cell_size}"):
        opticore.fhog(np.zeros((8, 8), np.uint8), cell_size)


@pytest.mark.parametrize("cell_size", [2.0, "4", None, True])
def test_cell_size_must_be_an_int(cell_size):
    with pytest.raises(TypeError, match="cell_size: expected an int"):
        opticore.fhog(np.zeros((8, 8), np.uint8), cell_size)


def test_numpy_integer_cell_size():
    image = np.random.default_rng(12).integers(0, 256, (16, 16), dtype=np.uint8)
    np.testing.assert_array_equal(opticore.fhog(image, np.int64(4)), opticore.fhog(image, 4))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["all", "one", "beyond-grid"])
def test_non_finite_float_image_is_a_value_error(bad, where):
    # Block normalisation would clip NaN to 0.2: an all-NaN image gave finite features.
    image = np.full((18, 22, 3), 100.0, np.float32)
    if where == "all":
        image[:] = bad
    elif where == "one":
        image[5, 7, 2] = bad
    else:  # a pixel that does not vote (H % cell_size rows) still counts: the image is rejected
        image[17, 21, 1] = bad
    with pytest.raises(ValueError, match=r"image: expected finite pixel values, got .*(nan|inf)"):
        opticore.fhog(image, 4)
    with pytest.raises(ValueError, match="image: expected finite"):
        opticore.fhog(np.asfortranarray(image)[::-1], 4)  # strided views are scanned too
