"""opticore.fourier_spectrum against NumPy (np.fft.fft2, np.fft.fftshift, the reference's
normalisation) and OpenCV (the bilinear resize to out_size): odd, even and prime sizes, one
image and batches, uint8 and float32, grey and colour, any layout; its argument checks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import opticore
from gil_check import assert_releases_gil

TOL = 5e-7  # the issue asks 1e-5; measured at most 3.7e-7 with a resize (OpenCV's float resize), 3.0e-8 without


def reference(image: np.ndarray, color: str = "bgr", out_size=None) -> np.ndarray:
    """Silent-Face's generate_FT, written from the formula, in float64 NumPy."""
    x = image.astype(np.float64)
    if x.ndim == 3 and x.shape[2] == 1:
        x = x[..., 0]
    elif x.ndim == 3:
        b, g, r = (x[..., 0], x[..., 1], x[..., 2]) if color == "bgr" else (x[..., 2], x[..., 1], x[..., 0])
        x = 0.299 * r + 0.587 * g + 0.114 * b
    f = np.log(np.abs(np.fft.fftshift(np.fft.fft2(x))) + 1)
    f = (f - f.min() + 1) / (f.max() - f.min() + 1)
    return f if out_size is None else cv2.resize(f, out_size, interpolation=cv2.INTER_LINEAR)


SIZES = [(1, 1), (1, 7), (2, 2), (5, 3), (8, 8), (9, 16), (80, 80), (81, 79), (37, 64), (97, 41), (128, 120)]


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_single_image_matches_numpy(shape, channels):
    rng = np.random.default_rng(hash((shape, channels)) % 2**32)
    full = shape if channels is None else shape + (channels,)
    for dtype in (np.uint8, np.float32):
        img = rng.integers(0, 256, full).astype(dtype)
        if dtype == np.float32:
            img = img + rng.random(full, dtype=np.float32)
        for color in ("bgr", "rgb"):
            got = opticore.fourier_spectrum(img, color=color)
            assert got.dtype == np.float32 and got.shape == shape
            np.testing.assert_allclose(got, reference(img, color), rtol=0, atol=TOL)


def test_real_photo_and_resized_target(astronaut):
    crop = cv2.resize(astronaut[30:230, 150:350], (80, 80), interpolation=cv2.INTER_AREA)
    np.testing.assert_allclose(opticore.fourier_spectrum(crop), reference(crop), atol=TOL)
    for out in [(10, 10), (7, 13), (80, 80), (160, 120)]:
        got = opticore.fourier_spectrum(crop, out_size=out)
        assert got.shape == (out[1], out[0])
        np.testing.assert_allclose(got, reference(crop, out_size=out), atol=TOL)
    big = astronaut[:301, :257]  # odd, prime and composite sides on a large photo
    np.testing.assert_allclose(opticore.fourier_spectrum(big, color="bgr"), reference(big), atol=TOL)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_batch_equals_single_images(dtype):
    rng = np.random.default_rng(5)
    for shape in [(6, 80, 80, 3), (5, 33, 21), (4, 12, 3, 1), (0, 8, 8, 3)]:
        batch = (rng.random(shape) * 255).astype(dtype)
        got = opticore.fourier_spectrum(batch, out_size=(10, 10))
        assert got.shape == (shape[0], 10, 10)
        for b in range(shape[0]):
            np.testing.assert_allclose(got[b], reference(batch[b], out_size=(10, 10)), atol=TOL)


def test_any_layout_and_threads():
    rng = np.random.default_rng(9)
    batch = rng.integers(0, 256, (40, 90, 100, 4), dtype=np.uint8)
    view = batch[::2, 5:85, ::-1, 2::-1]  # strided batch, reversed columns, reversed channels (RGB)
    ref = np.stack([reference(np.ascontiguousarray(v), "rgb") for v in view])
    threads = opticore.get_num_threads()
    try:
        for n in (1, 3):
            opticore.set_num_threads(n)
            np.testing.assert_allclose(opticore.fourier_spectrum(view, color="rgb"), ref, atol=TOL)
    finally:
        opticore.set_num_threads(threads)


def test_structured_spectra():
    # A constant image has all its energy at the centre (zero frequency): 1 there, the floor elsewhere.
    got = opticore.fourier_spectrum(np.full((6, 7), 9, np.uint8))
    expected = np.full((6, 7), 1 / (np.log(6 * 7 * 9 + 1) + 1), np.float32)
    expected[3, 3] = 1
    np.testing.assert_allclose(got, expected, atol=1e-7)


def test_magnitudes_beyond_float_range():
    # float32 pixels near float's maximum give |F| far beyond it (1e41 here): the log must still
    # be that of the double magnitude, not of an overflowed float (inf, then NaN after the min-max).
    image = (np.random.default_rng(5).random((40, 50)) * 3e38).astype(np.float32)
    got = opticore.fourier_spectrum(image)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, reference(image), rtol=0, atol=TOL)


def test_releases_gil():
    batch = np.random.default_rng(0).integers(0, 256, (1500, 80, 80, 3), dtype=np.uint8)
    assert_releases_gil(lambda: opticore.fourier_spectrum(batch))


def test_bad_arguments():
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(TypeError, match="image: expected uint8 or float32, got float64"):
        opticore.fourier_spectrum(img.astype(np.float64))
    with pytest.raises(TypeError, match="image"):
        opticore.fourier_spectrum(img.astype(bool))
    with pytest.raises(ValueError, match="image: expected shape"):
        opticore.fourier_spectrum(np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match="image: expected 1, 3 or 4 channels, got 2"):
        opticore.fourier_spectrum(np.zeros((2, 8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="image: expected height and width >= 1"):
        opticore.fourier_spectrum(np.zeros((0, 8, 3), np.uint8))
    bad = np.zeros((8, 8), np.float32)
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match=r"image: expected finite pixel values.*image 0 at \(y=3, x=4\)"):
        opticore.fourier_spectrum(bad)
    bad[3, 4] = np.inf
    with pytest.raises(ValueError, match="finite"):
        opticore.fourier_spectrum(np.stack([np.zeros_like(bad), bad]))
    with pytest.raises(ValueError, match="out_size: expected an int >= 1"):
        opticore.fourier_spectrum(img, out_size=(0, 10))
    with pytest.raises(TypeError, match="out_size"):
        opticore.fourier_spectrum(img, out_size=(10.0, 10))
    with pytest.raises(ValueError, match=r"out_size: expected \(width, height\)"):
        opticore.fourier_spectrum(img, out_size=10)
    with pytest.raises(ValueError, match="out_size: expected a result of at most 4 GiB"):
        opticore.fourier_spectrum(img, out_size=(2**20, 2**20))
    with pytest.raises(ValueError, match="color: expected one of 'bgr', 'rgb', got 'hsv'"):
        opticore.fourier_spectrum(img, color="hsv")
    with pytest.raises(TypeError, match="color"):
        opticore.fourier_spectrum(img, color=None)
