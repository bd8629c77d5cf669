"""Property tests (hypothesis) of umeyama, align_face and the face templates against the papers'
formulas and the warp of the fit; junk arguments and extreme landmarks get clear errors.

The strategies and the clear-error rule are in fuzz_strategies.py; see its docstring for the
profiles (the suite runs them derandomised).
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

# fuzz_strategies skips these tests when hypothesis or OpenCV is missing.
from fuzz_strategies import (
    cv2,
    assert_matches_opencv,
    expect_clear_error,
    images,
    junk_arguments,
    layouts,
)
from hypothesis import assume, given
from hypothesis import strategies as st

import opticore


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
    crop, M = opticore.align_face(data.draw(layouts(image)), landmarks, size=size, template=template)
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
    opticore.align_face: {
        "image": np.zeros((20, 20), np.uint8),
        "landmarks": opticore.ARCFACE_112 / 6,
        "size": 16,
        "template": "arcface",
    },
    opticore.align_faces: {
        "image": np.zeros((20, 20), np.uint8),
        "landmarks": opticore.ARCFACE_112[None] / 6,
        "size": 16,
        "template": "arcface",
    },
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
