"""Property tests (hypothesis) of the image operators (warp_affine, remap, resize, crop_resize,
random_warp, random_transform, fhog) against OpenCV and their documented compositions, and of the trackers'
frames in every byte order and layout.

The strategies and the clear-error rule are in fuzz_strategies.py; see its docstring for the
profiles (the suite runs them derandomised).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
import pytest

# fuzz_strategies skips these tests when hypothesis or OpenCV is missing.
from fuzz_strategies import (
    cv2,
    BORDERS,
    INTERPOLATIONS,
    affine_matrices,
    assert_matches_opencv,
    border_values,
    cv_value,
    expect_clear_error,
    images,
    junk_arguments,
    layouts,
)
from hypothesis import assume, given
from hypothesis import strategies as st

import opticore


@given(
    image=images(),
    M=affine_matrices(),
    w=st.integers(1, 16),
    h=st.integers(1, 16),
    interpolation=st.sampled_from(list(INTERPOLATIONS)),
    border=st.sampled_from(list(BORDERS)),
    data=st.data(),
)
def test_warp_affine_matches_opencv(image, M, w, h, interpolation, border, data):
    bv = data.draw(border_values(image))
    got = opticore.warp_affine(
        data.draw(layouts(image)),
        data.draw(layouts(M)),
        (w, h),
        interpolation=interpolation,
        border_mode=border,
        border_value=bv,
    )
    expected = cv2.warpAffine(
        image, M, (w, h), flags=INTERPOLATIONS[interpolation], borderMode=BORDERS[border], borderValue=cv_value(bv)
    )
    assert_matches_opencv(got, expected)


@st.composite
def maps(draw, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Coordinates around the image, far outside it (up to OpenCV's 2^26 pixels) and NaN."""
    ho, wo = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    spread = draw(st.sampled_from([1.0, 10.0, 1e4, 6e7]))
    out = []
    for centre in (w / 2, h / 2):
        m = rng.normal(size=(ho, wo)) * spread + centre
        m[rng.random((ho, wo)) < 0.05] = np.nan
        out.append(np.clip(m, -6.7e7, 6.7e7).astype(np.float32))
    return out[0], out[1]


@given(
    image=images(),
    interpolation=st.sampled_from(list(INTERPOLATIONS)),
    border=st.sampled_from(list(BORDERS)),
    data=st.data(),
)
def test_remap_matches_opencv(image, interpolation, border, data):
    map_x, map_y = data.draw(maps(*image.shape[:2]))
    bv = data.draw(border_values(image))
    got = opticore.remap(
        data.draw(layouts(image)),
        data.draw(layouts(map_x)),
        data.draw(layouts(map_y)),
        interpolation=interpolation,
        border_mode=border,
        border_value=bv,
    )
    expected = cv2.remap(
        image, map_x, map_y, INTERPOLATIONS[interpolation], borderMode=BORDERS[border], borderValue=cv_value(bv)
    )
    assert_matches_opencv(got, expected)


@given(
    image=images(max_side=20),
    w=st.integers(1, 24),
    h=st.integers(1, 24),
    interpolation=st.sampled_from(list(INTERPOLATIONS) + ["area"]),
    data=st.data(),
)
def test_resize_matches_opencv(image, w, h, interpolation, data):
    got = opticore.resize(data.draw(layouts(image)), (w, h), interpolation=interpolation)
    flag = cv2.INTER_AREA if interpolation == "area" else INTERPOLATIONS[interpolation]
    expected = cv2.resize(image, (w, h), interpolation=flag)
    assert_matches_opencv(got, expected, grey_levels=1 if interpolation == "cubic" else 0)  # documented


@given(
    image=images(max_side=20),
    w=st.integers(1, 24),
    h=st.integers(1, 24),
    interpolation=st.sampled_from(list(INTERPOLATIONS) + ["area"]),
    data=st.data(),
)
def test_crop_resize_is_resize_of_each_padded_crop(image, w, h, interpolation, data):
    n = data.draw(st.integers(0, 4))
    ih, iw = image.shape[:2]
    boxes = []
    for _ in range(n):
        x1, y1 = data.draw(st.integers(-5, iw)), data.draw(st.integers(-5, ih))
        boxes.append([x1, y1, x1 + data.draw(st.integers(1, iw + 5)), y1 + data.draw(st.integers(1, ih + 5))])
    got = opticore.crop_resize(data.draw(layouts(image)), np.array(boxes, np.int64).reshape(n, 4), (w, h),
                               interpolation=interpolation)
    assert got.shape == (n, h, w) + image.shape[2:] and got.dtype == image.dtype
    for out, (x1, y1, x2, y2) in zip(got, boxes):
        crop = np.zeros((y2 - y1, x2 - x1) + image.shape[2:], image.dtype)
        ya, yb, xa, xb = max(y1, 0), min(y2, ih), max(x1, 0), min(x2, iw)
        if ya < yb and xa < xb:
            crop[ya - y1:yb - y1, xa - x1:xb - x1] = image[ya:yb, xa:xb]
        np.testing.assert_array_equal(out, opticore.resize(crop, (w, h), interpolation=interpolation))


@given(image=images(unit=False), data=st.data())
def test_warps_survive_any_pixel_values(image, data):
    # NaN / inf / huge pixels: no crash and the documented output shape (values may overflow: cubic
    # interpolation of pixels near float32's limit legitimately gives inf).
    out = opticore.warp_affine(image, data.draw(affine_matrices()), (7, 5), border_mode="reflect")
    assert out.shape[:2] == (5, 7)
    out = opticore.resize(image, (9, 4), interpolation=data.draw(st.sampled_from(list(INTERPOLATIONS))))
    assert out.shape[:2] == (4, 9)


WARP_CALLS = {
    opticore.warp_affine: lambda img: {
        "image": img,
        "M": np.eye(2, 3),
        "dsize": (5, 4),
        "interpolation": "linear",
        "border_mode": "constant",
        "border_value": 0,
    },
    opticore.remap: lambda img: {
        "image": img,
        "map_x": np.ones((3, 3), np.float32),
        "map_y": np.ones((3, 3), np.float32),
        "interpolation": "cubic",
        "border_mode": "reflect",
        "border_value": 0,
    },
    opticore.resize: lambda img: {"image": img, "dsize": (5, 4), "interpolation": "nearest"},
    opticore.crop_resize: lambda img: {
        "image": img,
        "boxes": np.array([[0, 0, 4, 4], [-2, 3, 9, 10]]),
        "out_size": (5, 4),
        "interpolation": "area",
    },
    opticore.random_warp: lambda img: {
        "image": img,
        "grid": 3,
        "coverage": 0.5,
        "noise": 0.01,
        "out_size": 8,
        "border_mode": "replicate",
        "border_value": 0,
        "return_matrix": False,
        "rng": 0,
    },
    opticore.random_transform: lambda img: {
        "image": img,
        "rotation": 10.0,
        "zoom": 0.05,
        "shift": 0.05,
        "flip_prob": 0.5,
        "border_mode": "replicate",
        "border_value": 0,
        "rng": 0,
    },
    opticore.fhog: lambda img: {"image": img, "cell_size": 2},
}


@given(function=st.sampled_from(list(WARP_CALLS)), data=st.data())
def test_image_functions_reject_junk_clearly(function, data):
    kwargs = data.draw(junk_arguments(function, WARP_CALLS[function](np.zeros((8, 8, 3), np.uint8))))
    expect_clear_error(function, lambda: function(**kwargs))


@given(
    function=st.sampled_from(list(WARP_CALLS)),
    size=st.sampled_from([2**31, 2**40, 2**62, 2**63, 2**70]),
    data=st.data(),
)
def test_huge_sizes_are_refused_before_allocating(function, size, data):
    kwargs = WARP_CALLS[function](np.zeros((8, 8, 3), np.uint8))
    key = {"dsize": "dsize", "out_size": "out_size", "grid": "grid", "cell_size": "cell_size"}
    present = [k for k in key if k in kwargs]
    assume(present)
    name = data.draw(st.sampled_from(present))
    kwargs[name] = (size, data.draw(st.integers(1, 8))) if isinstance(kwargs[name], tuple) else size
    if name == "cell_size":  # a cell larger than the image is a valid, empty result
        expect_clear_error(function, lambda: function(**kwargs))
        return
    with pytest.raises((TypeError, ValueError)) as info:  # refused, never allocated
        function(**kwargs)
    assert str(info.value).startswith(f"{name}:"), info.value


@given(
    image=images(max_side=24),
    grid=st.integers(2, 6),
    coverage=st.floats(0.05, 3),
    noise=st.floats(0, 0.1),
    out_size=st.integers(1, 20),
    border=st.sampled_from(list(BORDERS)),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_random_warp_is_its_documented_composition(image, grid, coverage, noise, out_size, border, seed, data):
    from test_augment import control_points_ref, dense_map_ref, umeyama_ref

    bv = data.draw(border_values(image))
    try:
        warped, target, M = opticore.random_warp(
            data.draw(layouts(image)),
            grid=grid,
            coverage=coverage,
            noise=noise,
            out_size=out_size,
            border_mode=border,
            border_value=bv,
            return_matrix=True,
            rng=seed,
        )
    except ValueError as e:  # a degenerate jittered grid, named as such
        assert str(e).startswith("coverage, noise:")
        return
    h, w = image.shape[:2]
    z = np.random.default_rng(seed).normal(size=(2, grid, grid))
    px, py = control_points_ref(h, w, z, grid, coverage, noise)
    mx, my = dense_map_ref(px, grid, out_size), dense_map_ref(py, grid, out_size)
    expected = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=BORDERS[border], borderValue=cv_value(bv))
    assert_matches_opencv(warped, expected)
    step = out_size / (grid - 1)
    gy, gx = np.mgrid[0:grid, 0:grid]
    nodes = np.stack([gx.ravel() * step - 0.5, gy.ravel() * step - 0.5], 1)
    np.testing.assert_allclose(M, umeyama_ref(np.stack([px.ravel(), py.ravel()], 1), nodes)[:2], rtol=1e-7, atol=1e-7)
    expected = cv2.warpAffine(
        image, M, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border], borderValue=cv_value(bv)
    )
    assert_matches_opencv(target, expected)


@given(
    image=images(max_side=24),
    rotation=st.floats(0, 360),
    zoom=st.floats(0, 0.99),
    shift=st.floats(0, 2),
    flip_prob=st.floats(0, 1),
    border=st.sampled_from(list(BORDERS)),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_random_transform_is_the_warp_of_its_matrix(image, rotation, zoom, shift, flip_prob, border, seed, data):
    bv = data.draw(border_values(image))
    out, M = opticore.random_transform(
        data.draw(layouts(image)),
        rotation=rotation,
        zoom=zoom,
        shift=shift,
        flip_prob=flip_prob,
        border_mode=border,
        border_value=bv,
        rng=seed,
    )
    h, w = image.shape[:2]
    expected = cv2.warpAffine(
        image, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border], borderValue=cv_value(bv)
    )
    assert_matches_opencv(out, expected)


@given(image=images(max_side=40, unit=False), cell_size=st.integers(1, 9), data=st.data())
def test_fhog_reads_every_layout_and_byte_order(image, cell_size, data):
    try:
        expected = opticore.fhog(image, cell_size)
    except ValueError as e:  # too small for one cell, or (if rejected) non-finite pixels
        assert str(e).startswith("image")
        return
    got = opticore.fhog(data.draw(layouts(image)), cell_size)
    np.testing.assert_array_equal(got, expected)
    assert got.shape[2] == 31 and got.dtype == np.float32
    if np.isfinite(image).all():
        assert np.isfinite(got).all()


@pytest.mark.parametrize("name", ["mosse", "kcf"])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_tracker_frames_in_any_byte_order_and_layout(name, dtype):
    # Trackers are not fuzzed here; their frames go through the same array conversion.
    skdata = pytest.importorskip("skimage.data")
    base = skdata.astronaut()[:200, 100:300]
    frames = [np.roll(base, 3 * k, axis=1).astype(dtype) for k in range(6)]
    variants = [
        frames,
        [f.astype(f.dtype.newbyteorder(">")) for f in frames],  # a real byte swap for float32 only
        [np.asfortranarray(f) for f in frames],
        [np.ascontiguousarray(f[::-1, ::-1])[::-1, ::-1] for f in frames],  # negative strides, same pixels
    ]
    tracks = []
    for frame_list in variants:
        tracker = opticore.create_tracker(name)
        tracker.init(frame_list[0], (60.0, 40.0, 60.0, 70.0))
        tracks.append([tracker.update(f) for f in frame_list[1:]] + [tracker.score])
    assert all(track == tracks[0] for track in tracks[1:])
    assert variants[3][0].strides[0] < 0 and variants[3][0].strides[1] < 0
