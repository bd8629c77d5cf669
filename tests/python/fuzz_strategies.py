"""Hypothesis strategies and checks shared by the fuzz tests (test_fuzz_*.py): inputs built to
reach the corners -- every dtype, both byte orders, every memory layout, extreme and denormal
values, ties, empty inputs, junk arguments -- and the clear-error rule.

The ``opticore-ci`` profile (derandomised, 60 examples a property) is what the suite runs;
``scripts/fuzz.py`` loads ``opticore-campaign`` for a longer, randomised campaign.
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

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

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
JUNK = [
    None,
    "x",
    "",
    b"1",
    True,
    [],
    [1.5, "a"],
    {},
    object(),
    math.nan,
    math.inf,
    -math.inf,
    -1,
    0,
    2**70,
    -(2**70),
    1e300,
    np.float64(np.nan),
    np.zeros((2, 2, 2, 2)),
    np.array(["a"]),
    np.zeros(3, np.complex64),
]


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
    return st.tuples(st.sampled_from(sorted(good)), st.sampled_from(JUNK)).map(lambda kv: {**good, kv[0]: kv[1]})


# images


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
