"""Property tests (hypothesis) over every NumPy binding except the trackers.

Each property draws inputs from strategies built to reach the corners -- every dtype, both byte
orders, every memory layout, extreme and denormal values, ties, empty inputs, junk arguments --
and checks three things: the process survives, a bad input gets a ``TypeError`` / ``ValueError``
whose message starts with the name of the offending argument, and a good input agrees with an
independent reference (exact rational IoU, the textbook NMS loops, OpenCV, scikit-image-style
NumPy formulas).

In the suite the runs are derandomised with a bounded number of examples (the ``opticore-ci``
profile: reproducible, well under a minute). ``scripts/fuzz.py`` runs the same properties as a
longer, randomised campaign (``python scripts/fuzz.py --minutes 30``).
"""

from __future__ import annotations

import inspect
import math
import os
import re
from fractions import Fraction
from typing import Any, Callable, Dict, Tuple

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
cv2 = pytest.importorskip("cv2")

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import opticore  # noqa: E402
import reference as ref  # noqa: E402

settings.register_profile(
    "opticore-ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "opticore-campaign",
    max_examples=500,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("OPTICORE_FUZZ_PROFILE", "opticore-ci"))

BORDERS = {
    "constant": cv2.BORDER_CONSTANT,
    "replicate": cv2.BORDER_REPLICATE,
    "reflect": cv2.BORDER_REFLECT,
    "reflect101": cv2.BORDER_REFLECT_101,
}
INTERPOLATIONS = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC}

# ------------------------------------------------------------------------------------ strategies

#: Values that broke the box code once: denormal sizes, overflowing sides and areas.
SPECIAL = [0.0, -0.0, 1.0, 5e-324, 5e-312, 1e-300, 1e150, 1e300, 1.7e308, -1.7e308, 3.4e38, -3.4e38]


@st.composite
def layouts(draw, a: np.ndarray) -> np.ndarray:
    """`a`'s values in another memory layout and byte order: the bindings must read them all."""
    a = a.astype(a.dtype.newbyteorder(draw(st.sampled_from("<>"))))
    kind = draw(st.sampled_from(["c", "fortran", "reversed", "strided", "misaligned"]))
    if kind == "fortran":
        return np.asfortranarray(a)
    if kind == "reversed":  # negative strides on every axis
        flip = tuple(slice(None, None, -1) for _ in a.shape)
        return a[flip].copy()[flip]
    if kind == "strided":  # every other element of a larger array
        big = np.zeros(tuple(2 * s for s in a.shape), a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if kind == "misaligned":  # strides that are not whole elements: a field of a packed record
        record = np.zeros(a.shape, np.dtype([("pad", "u1"), ("value", a.dtype)]))
        record["value"] = a
        return record["value"]
    return a.copy()


def coordinate_pools(width: int) -> st.SearchStrategy:
    """A few coordinates that boxes then share, so that they overlap, tie and duplicate."""
    limit = 3.4e38 if width == 32 else 1.7e308
    special = [v for v in SPECIAL if abs(v) <= limit]
    value = st.one_of(
        st.floats(-100, 100, width=width),
        st.floats(allow_nan=False, allow_infinity=False, width=width),
        st.sampled_from(special),
    )
    return st.lists(value, min_size=1, max_size=6)


@st.composite
def boxes_and_scores(draw, max_n: int = 24) -> Tuple[np.ndarray, np.ndarray]:
    """(N, 4) boxes (mostly x1 <= x2, y1 <= y2) and (N,) scores with ties, any dtypes."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n = draw(st.integers(0, max_n))
    pool = np.array(draw(coordinate_pools(32 if dtype == np.float32 else 64)), dtype)
    corners = pool[draw(st.lists(st.integers(0, len(pool) - 1), min_size=4 * n, max_size=4 * n))].reshape(n, 4)
    boxes = np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:])], 1)
    inverted = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), bool)
    boxes[inverted] = boxes[inverted][:, [2, 3, 0, 1]]
    score_dtype = draw(st.sampled_from([np.float32, np.float64]))
    levels = draw(st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=5))
    scores = np.array(draw(st.lists(st.sampled_from(levels), min_size=n, max_size=n)), score_dtype)
    return boxes.astype(dtype), scores


def exact_area(boxes: np.ndarray) -> np.ndarray:
    out = []
    for x1, y1, x2, y2 in boxes.astype(np.float64):
        w, h = Fraction(x2) - Fraction(x1), Fraction(y2) - Fraction(y1)
        try:
            out.append(float(w * h) if w > 0 and h > 0 else 0.0)
        except OverflowError:
            out.append(math.inf)
    return np.array(out)


#: Arguments that are wrong in type or value for almost every parameter.
JUNK = [None, "x", "", b"1", True, [], [1.5, "a"], {}, object(), math.nan, math.inf, -math.inf, -1, 0, 2**70,
        -(2**70), 1e300, np.float64(np.nan), np.zeros((2, 2, 2, 2)), np.array(["a"]), np.zeros(3, np.complex64)]


def expect_clear_error(function: Callable, call: Callable[[], Any]) -> None:
    """Runs call(); success is fine, an error must be TypeError / ValueError naming one of
    `function`'s own parameters first (``"name: ..."``, or ``"a, b: ..."`` for several)."""
    try:
        call()
    except (TypeError, ValueError) as e:
        names = set(inspect.signature(function).parameters)
        first = re.split(r"[:(]", str(e), maxsplit=1)[0]
        named = [part.strip() for part in first.split(",")]
        assert named and all(part in names for part in named), f"{function.__name__}: unclear error {e!r}"


def junk_arguments(function: Callable, good: Dict[str, Any]) -> st.SearchStrategy:
    """`good` keyword arguments with one of them replaced by junk."""
    return st.tuples(st.sampled_from(sorted(good)), st.sampled_from(JUNK)).map(
        lambda kv: {**good, kv[0]: kv[1]}
    )


# ------------------------------------------------------------------------------------ boxes


@given(data=boxes_and_scores(), layout=st.data())
def test_box_area_is_exact(data, layout):
    boxes, _ = data
    area = opticore.box_area(layout.draw(layouts(boxes)))
    assert area.dtype == boxes.dtype and area.shape == (len(boxes),)
    exact = exact_area(boxes).astype(boxes.dtype)
    rtol = 1e-15 if boxes.dtype == np.float64 else 2.4e-7
    np.testing.assert_allclose(area, exact, rtol=rtol, atol=1e-320)


@given(a=boxes_and_scores(max_n=10), b=boxes_and_scores(max_n=10), layout=st.data())
def test_box_iou_is_exact(a, b, layout):
    a, b = a[0], b[0]
    iou = opticore.box_iou(layout.draw(layouts(a)), layout.draw(layouts(b)))
    dtype = np.result_type(a.dtype, b.dtype)
    assert iou.dtype == dtype and iou.shape == (len(a), len(b))
    rtol = 2e-15 if dtype == np.float64 else 2.4e-7
    np.testing.assert_allclose(iou, ref.exact_iou(a, b).astype(dtype), rtol=rtol, atol=1e-300)
    assert ((iou >= 0) & (iou <= 1)).all()


thresholds = st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(0, 1))
limits = st.one_of(st.none(), st.integers(0, 30), st.just(2**70))


@given(data=boxes_and_scores(), thr=thresholds, score_threshold=st.one_of(st.none(), st.floats(-10, 10)),
       max_output=limits, layout=st.data())
def test_nms_matches_the_textbook_loop(data, thr, score_threshold, max_output, layout):
    boxes, scores = data
    # The reference uses opticore's float64 IoUs (checked exact above): the loops must then agree bit for bit.
    ious = opticore.box_iou(boxes.astype(np.float64), boxes.astype(np.float64))
    got = opticore.nms(layout.draw(layouts(boxes)), layout.draw(layouts(scores)), thr,
                       score_threshold=score_threshold, max_output=max_output)
    limit = None if max_output is None else min(max_output, 2**62)
    expected = ref.nms(boxes, scores, thr, score_threshold, limit, ious=ious)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64


@given(data=boxes_and_scores(), thr=thresholds, max_output=limits, layout=st.data(),
       labels=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=3))
def test_batched_nms_matches_the_textbook_loop(data, thr, max_output, layout, labels):
    boxes, scores = data
    label_array = np.array([labels[i % len(labels)] for i in range(len(boxes))], np.int64)
    ious = opticore.box_iou(boxes.astype(np.float64), boxes.astype(np.float64))
    got = opticore.batched_nms(layout.draw(layouts(boxes)), scores, layout.draw(layouts(label_array)), thr,
                               max_output=max_output)
    expected = ref.nms(boxes, scores, thr, None, None if max_output is None else min(max_output, 2**62),
                       labels=label_array, ious=ious)
    np.testing.assert_array_equal(got, expected)


@given(data=boxes_and_scores(), method=st.sampled_from(["gaussian", "linear"]),
       sigma=st.one_of(st.just(0.5), st.floats(1e-3, 1e3)), thr=thresholds,
       score_threshold=st.floats(-10, 10), max_output=limits, layout=st.data())
def test_soft_nms_matches_the_textbook_loop(data, method, sigma, thr, score_threshold, max_output, layout):
    boxes, scores = data
    ious = opticore.box_iou(boxes.astype(np.float64), boxes.astype(np.float64))
    idx, rescored = opticore.soft_nms(layout.draw(layouts(boxes)), layout.draw(layouts(scores)), method=method,
                                      sigma=sigma, iou_threshold=thr, score_threshold=score_threshold,
                                      max_output=max_output)
    ref_idx, ref_scores = ref.soft_nms(boxes, scores, method, sigma, thr, score_threshold,
                                       None if max_output is None else min(max_output, 2**62), ious=ious)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(rescored, ref_scores)
    assert rescored.dtype == scores.dtype


BOX_CALLS = {
    opticore.nms: lambda b, s: {"boxes": b, "scores": s, "iou_threshold": 0.5, "score_threshold": None,
                                "max_output": None},
    opticore.batched_nms: lambda b, s: {"boxes": b, "scores": s, "labels": np.zeros(len(b), int), "iou_threshold": 0.5},
    opticore.soft_nms: lambda b, s: {"boxes": b, "scores": s, "method": "linear", "sigma": 0.5, "iou_threshold": 0.3,
                                     "score_threshold": 0.001, "max_output": None},
    opticore.box_area: lambda b, s: {"boxes": b},
    opticore.box_iou: lambda b, s: {"boxes1": b, "boxes2": b},
}


@given(function=st.sampled_from(list(BOX_CALLS)), data=st.data())
def test_box_functions_reject_junk_clearly(function, data):
    boxes = np.array([[0, 0, 2, 2], [1, 1, 3, 3]], np.float64)
    kwargs = data.draw(junk_arguments(function, BOX_CALLS[function](boxes, np.array([0.9, 0.8]))))
    expect_clear_error(function, lambda: function(**kwargs))


@given(value=st.sampled_from([math.nan, math.inf, -math.inf]), row=st.integers(0, 2), col=st.integers(0, 3),
       dtype=st.sampled_from(["<f4", ">f8"]))
def test_non_finite_boxes_and_scores_are_value_errors(value, row, col, dtype):
    boxes = np.array([[0, 0, 2, 2], [1, 1, 3, 3], [0, 0, 1, 1]], dtype)
    scores = np.array([0.9, 0.8, 0.7], dtype)
    bad = boxes.copy()
    bad[row, col] = value
    with pytest.raises(ValueError, match="^boxes: expected finite"):
        opticore.nms(bad, scores, 0.5)
    scores[row] = value
    with pytest.raises(ValueError, match="^scores: expected finite"):
        opticore.soft_nms(boxes, scores)


# ------------------------------------------------------------------------------------ images


@st.composite
def images(draw, max_side: int = 12, dtypes=(np.uint8, np.float32), unit: bool = True) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 / float32 images (float values in [0, 1] when `unit`)."""
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    shape = (h, w) + draw(st.sampled_from([(), (1,), (2,), (3,), (4,)]))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape).astype(np.uint8)
    if unit:
        return rng.random(shape, dtype=np.float32)
    values = np.array([0.0, -1e30, 3e38, np.nan, np.inf, -np.inf, 1e-45], np.float32)
    return np.where(rng.random(shape) < 0.3, values[rng.integers(0, len(values), shape)], rng.random(shape)).astype(
        np.float32
    )


def channels(image: np.ndarray) -> int:
    return 1 if image.ndim == 2 else image.shape[2]


@st.composite
def border_values(draw, image: np.ndarray) -> list:
    c = channels(image)
    if image.dtype == np.uint8:
        return draw(st.lists(st.integers(0, 255).map(float), min_size=c, max_size=c))
    return draw(st.lists(st.floats(0, 1, width=32), min_size=c, max_size=c))


def cv_value(values: list) -> tuple:
    return tuple(values) + (0.0,) * (4 - len(values))


def assert_matches_opencv(got: np.ndarray, expected: np.ndarray, grey_levels: int = 0) -> None:
    expected = expected.reshape(got.shape)
    assert got.dtype == expected.dtype and got.flags.c_contiguous and got.dtype.isnative
    if got.dtype == np.uint8:
        assert np.abs(got.astype(int) - expected).max(initial=0) <= grey_levels
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


@st.composite
def affine_matrices(draw) -> np.ndarray:
    angle = draw(st.floats(-math.pi, math.pi))
    scale = draw(st.floats(0.05, 20))
    shear = draw(st.floats(-0.5, 0.5))
    lin = scale * np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    lin = lin @ np.array([[1.0, shear], [0.0, 1.0]])
    t = np.array(draw(st.lists(st.floats(-40, 40), min_size=2, max_size=2)))
    return np.hstack([lin, t[:, None]])


@given(image=images(), M=affine_matrices(), w=st.integers(1, 16), h=st.integers(1, 16),
       interpolation=st.sampled_from(list(INTERPOLATIONS)), border=st.sampled_from(list(BORDERS)), data=st.data())
def test_warp_affine_matches_opencv(image, M, w, h, interpolation, border, data):
    bv = data.draw(border_values(image))
    got = opticore.warp_affine(data.draw(layouts(image)), data.draw(layouts(M)), (w, h),
                               interpolation=interpolation, border_mode=border, border_value=bv)
    expected = cv2.warpAffine(image, M, (w, h), flags=INTERPOLATIONS[interpolation], borderMode=BORDERS[border],
                              borderValue=cv_value(bv))
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


@given(image=images(), interpolation=st.sampled_from(list(INTERPOLATIONS)), border=st.sampled_from(list(BORDERS)),
       data=st.data())
def test_remap_matches_opencv(image, interpolation, border, data):
    map_x, map_y = data.draw(maps(*image.shape[:2]))
    bv = data.draw(border_values(image))
    got = opticore.remap(data.draw(layouts(image)), data.draw(layouts(map_x)), data.draw(layouts(map_y)),
                         interpolation=interpolation, border_mode=border, border_value=bv)
    expected = cv2.remap(image, map_x, map_y, INTERPOLATIONS[interpolation], borderMode=BORDERS[border],
                         borderValue=cv_value(bv))
    assert_matches_opencv(got, expected)


@given(image=images(max_side=20), w=st.integers(1, 24), h=st.integers(1, 24),
       interpolation=st.sampled_from(list(INTERPOLATIONS)), data=st.data())
def test_resize_matches_opencv(image, w, h, interpolation, data):
    got = opticore.resize(data.draw(layouts(image)), (w, h), interpolation=interpolation)
    expected = cv2.resize(image, (w, h), interpolation=INTERPOLATIONS[interpolation])
    assert_matches_opencv(got, expected, grey_levels=0 if interpolation == "nearest" else 1)  # documented


@given(image=images(unit=False), data=st.data())
def test_warps_survive_any_pixel_values(image, data):
    # NaN / inf / huge pixels: no crash and the documented output shape (values may overflow: cubic
    # interpolation of pixels near float32's limit legitimately gives inf).
    out = opticore.warp_affine(image, data.draw(affine_matrices()), (7, 5), border_mode="reflect")
    assert out.shape[:2] == (5, 7)
    out = opticore.resize(image, (9, 4), interpolation=data.draw(st.sampled_from(list(INTERPOLATIONS))))
    assert out.shape[:2] == (4, 9)


WARP_CALLS = {
    opticore.warp_affine: lambda img: {"image": img, "M": np.eye(2, 3), "dsize": (5, 4), "interpolation": "linear",
                                       "border_mode": "constant", "border_value": 0},
    opticore.remap: lambda img: {"image": img, "map_x": np.ones((3, 3), np.float32),
                                 "map_y": np.ones((3, 3), np.float32), "interpolation": "cubic",
                                 "border_mode": "reflect", "border_value": 0},
    opticore.resize: lambda img: {"image": img, "dsize": (5, 4), "interpolation": "nearest"},
    opticore.random_warp: lambda img: {"image": img, "grid": 3, "coverage": 0.5, "noise": 0.01, "out_size": 8,
                                       "border_mode": "replicate", "border_value": 0, "return_matrix": False, "rng": 0},
    opticore.random_transform: lambda img: {"image": img, "rotation": 10.0, "zoom": 0.05, "shift": 0.05,
                                            "flip_prob": 0.5, "border_mode": "replicate", "border_value": 0, "rng": 0},
    opticore.fhog: lambda img: {"image": img, "cell_size": 2},
}


@given(function=st.sampled_from(list(WARP_CALLS)), data=st.data())
def test_image_functions_reject_junk_clearly(function, data):
    kwargs = data.draw(junk_arguments(function, WARP_CALLS[function](np.zeros((8, 8, 3), np.uint8))))
    expect_clear_error(function, lambda: function(**kwargs))


@given(function=st.sampled_from(list(WARP_CALLS)), size=st.sampled_from([2**31, 2**40, 2**62, 2**63, 2**70]),
       data=st.data())
def test_huge_sizes_are_refused_before_allocating(function, size, data):
    kwargs = WARP_CALLS[function](np.zeros((8, 8, 3), np.uint8))
    key = {"dsize": "dsize", "out_size": "out_size", "grid": "grid", "cell_size": "cell_size"}
    present = [k for k in key if k in kwargs]
    assume(present)
    name = data.draw(st.sampled_from(present))
    kwargs[name] = (size, data.draw(st.integers(1, 8))) if name == "dsize" else size
    if name == "cell_size":  # a cell larger than the image is a valid, empty result
        expect_clear_error(function, lambda: function(**kwargs))
        return
    with pytest.raises((TypeError, ValueError)) as info:  # refused, never allocated
        function(**kwargs)
    assert str(info.value).startswith(f"{name}:"), info.value


@given(image=images(max_side=24), grid=st.integers(2, 6), coverage=st.floats(0.05, 3), noise=st.floats(0, 0.1),
       out_size=st.integers(1, 20), border=st.sampled_from(list(BORDERS)), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_random_warp_is_its_documented_composition(image, grid, coverage, noise, out_size, border, seed, data):
    from test_augment import control_points_ref, dense_map_ref, umeyama_ref

    bv = data.draw(border_values(image))
    try:
        warped, target, M = opticore.random_warp(data.draw(layouts(image)), grid=grid, coverage=coverage, noise=noise,
                                                 out_size=out_size, border_mode=border, border_value=bv,
                                                 return_matrix=True, rng=seed)
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
    expected = cv2.warpAffine(image, M, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border],
                              borderValue=cv_value(bv))
    assert_matches_opencv(target, expected)


@given(image=images(max_side=24), rotation=st.floats(0, 360), zoom=st.floats(0, 0.99), shift=st.floats(0, 2),
       flip_prob=st.floats(0, 1), border=st.sampled_from(list(BORDERS)), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_random_transform_is_the_warp_of_its_matrix(image, rotation, zoom, shift, flip_prob, border, seed, data):
    bv = data.draw(border_values(image))
    out, M = opticore.random_transform(data.draw(layouts(image)), rotation=rotation, zoom=zoom, shift=shift,
                                       flip_prob=flip_prob, border_mode=border, border_value=bv, rng=seed)
    h, w = image.shape[:2]
    expected = cv2.warpAffine(image, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border],
                              borderValue=cv_value(bv))
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


# ------------------------------------------------------------------------------------ alignment


@st.composite
def point_sets(draw, dims=(2, 3)) -> Tuple[np.ndarray, np.ndarray]:
    d = draw(st.sampled_from(dims))
    n = draw(st.integers(d + 1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    src = rng.normal(size=(n, d)) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    dst = draw(st.floats(0.1, 10)) * src @ (q * np.sign(np.diag(r))).T + rng.normal(size=d) * 10
    dst += rng.normal(size=dst.shape) * draw(st.sampled_from([0.0, 1e-3, 1.0])) * np.abs(src).max()
    return src, dst


def umeyama_reference(src: np.ndarray, dst: np.ndarray, estimate_scale: bool) -> np.ndarray:
    """Umeyama's formulas (the paper's Eq. 39-42) in NumPy, any dimension."""
    d = src.shape[1]
    ms, md = src.mean(0), dst.mean(0)
    a = (dst - md).T @ (src - ms) / len(src)
    u, sv, vt = np.linalg.svd(a)
    sign = np.ones(d)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1
    r = u @ np.diag(sign) @ vt
    c = (sv * sign).sum() / ((src - ms) ** 2).sum(1).mean() if estimate_scale else 1.0
    m = np.eye(d + 1)
    m[:d, :d] = c * r
    m[:d, d] = md - c * r @ ms
    return m


@given(points=point_sets(dims=(2, 3, 5)), estimate_scale=st.booleans(), data=st.data())
def test_umeyama_matches_the_papers_formulas(points, estimate_scale, data):
    src, dst = points
    assume(np.linalg.cond(src - src.mean(0)) < 1e6)
    got = opticore.umeyama(data.draw(layouts(src)), data.draw(layouts(dst)), estimate_scale=estimate_scale)
    expected = umeyama_reference(src, dst, estimate_scale)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9 * (1 + np.abs(expected).max()))
    batch = opticore.umeyama(np.stack([src, src[::-1]]), np.stack([dst, dst[::-1]]), estimate_scale=estimate_scale)
    np.testing.assert_allclose(batch, [got, got], rtol=1e-9, atol=1e-9 * (1 + np.abs(expected).max()))


@given(size=st.integers(1, 300), template=st.sampled_from(["arcface", "mean68"]), data=st.data())
def test_align_face_is_the_warp_of_the_umeyama_fit(size, template, data):
    image = data.draw(images(max_side=40))
    k = 68 if template == "mean68" else data.draw(st.sampled_from([5, 68, 98]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    landmarks = rng.uniform(0, 40, size=(k, 2))
    dst = opticore.mean_shape68(size) if template == "mean68" else opticore.arcface_template(size)
    src = opticore.landmarks_to_5(landmarks) if len(dst) == 5 and k != 5 else landmarks
    crop, M = opticore.align_face(data.draw(layouts(image)), landmarks, size=size,
                                  template=template)
    np.testing.assert_allclose(M, opticore.umeyama(src, dst)[:2], rtol=1e-12, atol=1e-12)
    expected = cv2.warpAffine(image, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    assert_matches_opencv(crop, expected)


@given(size=st.integers(1, 2**62))
def test_face_templates_follow_their_formulas(size):
    arcface = opticore.arcface_template(size)
    ratio, shift = (size / 112, 0.0) if size % 112 == 0 else (size / 128, 8 * size / 128)
    np.testing.assert_allclose(arcface, opticore.ARCFACE_112 * ratio + [shift, 0], rtol=1e-15)
    mean = opticore.mean_shape68(size)
    np.testing.assert_allclose([mean.min(0), mean.max(0)], [[0, 0], [size, size]], rtol=1e-15, atol=0)


ALIGN_CALLS = {
    opticore.umeyama: {"src": np.eye(3, 2), "dst": np.eye(3, 2) * 2, "estimate_scale": True},
    opticore.align_face: {"image": np.zeros((20, 20), np.uint8), "landmarks": opticore.ARCFACE_112 / 6, "size": 16,
                          "template": "arcface"},
    opticore.align_faces: {"image": np.zeros((20, 20), np.uint8), "landmarks": opticore.ARCFACE_112[None] / 6,
                           "size": 16, "template": "arcface"},
    opticore.arcface_template: {"size": 112},
    opticore.mean_shape68: {"size": 112},
    opticore.landmarks_to_5: {"landmarks": opticore.ARCFACE_112},
    opticore.set_num_threads: {"n": 2},
}


@given(function=st.sampled_from(list(ALIGN_CALLS)), data=st.data())
def test_alignment_functions_reject_junk_clearly(function, data):
    before = opticore.get_num_threads()
    try:
        kwargs = data.draw(junk_arguments(function, ALIGN_CALLS[function]))
        expect_clear_error(function, lambda: function(**kwargs))
    finally:
        opticore.set_num_threads(before)


@given(scale=st.sampled_from([1e-300, 1e-150, 1e150, 1e300, 1.7e308]), data=st.data())
def test_extreme_landmarks_give_a_crop_or_a_clear_error(scale, data):
    image = data.draw(images(max_side=16))
    landmarks = opticore.ARCFACE_112 / 8 * scale
    expect_clear_error(opticore.align_face, lambda: opticore.align_face(image, landmarks, size=8))
    src = np.random.default_rng(0).normal(size=(6, 2)) * scale
    expect_clear_error(opticore.umeyama, lambda: opticore.umeyama(src, src[::-1]))


# ------------------------------------------------------------------------------------ trackers


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
