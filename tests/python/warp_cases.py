"""What the warp and resize tests share: OpenCV's names for the interpolations and borders, natural
test images (scikit-image's samples), random affine matrices, and the acceptance checks against
OpenCV with their measured tolerances."""

from __future__ import annotations

import numpy as np
import pytest

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


def cv2_resize(img, dsize, interp, ipp=False):
    """cv2.resize with opticore's interpolation name. uint8 "cubic" runs OpenCV's own algorithm,
    which opticore follows, unless ``ipp``: OpenCV's default builds give it to Intel IPP, whose
    results differ (see test_resize_cubic_uint8_near_opencv_ipp)."""
    if interp != "cubic" or ipp:
        return cv2.resize(img, dsize, interpolation=RESIZE_INTERP[interp])
    before = cv2.ipp.useIPP()
    cv2.ipp.setUseIPP(False)
    try:
        return cv2.resize(img, dsize, interpolation=RESIZE_INTERP[interp])
    finally:
        cv2.ipp.setUseIPP(before)


def check_resize_close(got, ref, dtype, interp):
    """resize against cv2_resize: uint8 bit-exact. float32 (values in [0, 1]): within 2e-5
    (measured 1.8e-5) and, over outputs of 1000 values or more, an unbiased mean, |mean signed
    difference| <= 5e-8 (measured 1.2e-8)."""
    assert got.dtype == ref.dtype and got.shape == ref.shape
    diff = got.astype(np.float64) - ref
    if dtype == np.uint8:
        np.testing.assert_array_equal(got, ref, err_msg=interp)
    else:
        np.testing.assert_allclose(got, ref, rtol=0, atol=2e-5)
        assert got.size < 1000 or abs(diff.mean()) <= 5e-8, diff.mean()


def border_value_for(img, dtype):
    channels = 1 if img.ndim == 2 else img.shape[2]
    values = [30, 200, 90, 255][:channels]
    return [v if dtype == np.uint8 else v / 255 for v in values]
