"""Property tests (hypothesis) of the box operators: exact against a rational IoU and the
textbook NMS / Soft-NMS loops, in every layout and byte order; junk arguments get clear errors.

The strategies and the clear-error rule are in fuzz_strategies.py; see its docstring for the
profiles (the suite runs them derandomised).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

# fuzz_strategies skips these tests when hypothesis or OpenCV is missing.
from fuzz_strategies import (
    boxes_and_scores,
    exact_area,
    expect_clear_error,
    junk_arguments,
    layouts,
)
from hypothesis import given
from hypothesis import strategies as st

import opticore
import reference as ref


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


@given(
    data=boxes_and_scores(),
    thr=thresholds,
    score_threshold=st.one_of(st.none(), st.floats(-10, 10)),
    max_output=limits,
    layout=st.data(),
)
def test_nms_matches_the_textbook_loop(data, thr, score_threshold, max_output, layout):
    boxes, scores = data
    # The reference uses opticore's float64 IoUs (checked exact above): the loops must then agree bit for bit.
    ious = opticore.box_iou(boxes.astype(np.float64), boxes.astype(np.float64))
    got = opticore.nms(
        layout.draw(layouts(boxes)),
        layout.draw(layouts(scores)),
        thr,
        score_threshold=score_threshold,
        max_output=max_output,
    )
    limit = None if max_output is None else min(max_output, 2**62)
    expected = ref.nms(boxes, scores, thr, score_threshold, limit, ious=ious)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64


@given(
    data=boxes_and_scores(),
    thr=thresholds,
    max_output=limits,
    layout=st.data(),
    labels=st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=3),
)
def test_batched_nms_matches_the_textbook_loop(data, thr, max_output, layout, labels):
    boxes, scores = data
    label_array = np.array([labels[i % len(labels)] for i in range(len(boxes))], np.int64)
    ious = opticore.box_iou(boxes.astype(np.float64), boxes.astype(np.float64))
    got = opticore.batched_nms(
        layout.draw(layouts(boxes)), scores, layout.draw(layouts(label_array)), thr, max_output=max_output
    )
    expected = ref.nms(
        boxes, scores, thr, None, None if max_output is None else min(max_output, 2**62), labels=label_array, ious=ious
    )
    np.testing.assert_array_equal(got, expected)


@given(
    data=boxes_and_scores(),
    method=st.sampled_from(["gaussian", "linear"]),
    sigma=st.one_of(st.just(0.5), st.floats(1e-3, 1e3)),
    thr=thresholds,
    score_threshold=st.floats(-10, 10),
    max_output=limits,
    layout=st.data(),
)
def test_soft_nms_matches_the_textbook_loop(data, method, sigma, thr, score_threshold, max_output, layout):
    boxes, scores = data
    ious = opticore.box_iou(boxes.astype(np.float64), boxes.astype(np.float64))
    idx, rescored = opticore.soft_nms(
        layout.draw(layouts(boxes)),
        layout.draw(layouts(scores)),
        method=method,
        sigma=sigma,
        iou_threshold=thr,
        score_threshold=score_threshold,
        max_output=max_output,
    )
    ref_idx, ref_scores = ref.soft_nms(
        boxes,
        scores,
        method,
        sigma,
        thr,
        score_threshold,
        None if max_output is None else min(max_output, 2**62),
        ious=ious,
    )
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(rescored, ref_scores)
    assert rescored.dtype == scores.dtype


BOX_CALLS = {
    opticore.nms: lambda b, s: {
        "boxes": b,
        "scores": s,
        "iou_threshold": 0.5,
        "score_threshold": None,
        "max_output": None,
    },
    opticore.batched_nms: lambda b, s: {"boxes": b, "scores": s, "labels": np.zeros(len(b), int), "iou_threshold": 0.5},
    opticore.soft_nms: lambda b, s: {
        "boxes": b,
        "scores": s,
        "method": "linear",
        "sigma": 0.5,
        "iou_threshold": 0.3,
        "score_threshold": 0.001,
        "max_output": None,
    },
    opticore.box_area: lambda b, s: {"boxes": b},
    opticore.box_iou: lambda b, s: {"boxes1": b, "boxes2": b},
}


@given(function=st.sampled_from(list(BOX_CALLS)), data=st.data())
def test_box_functions_reject_junk_clearly(function, data):
    boxes = np.array([[0, 0, 2, 2], [1, 1, 3, 3]], np.float64)
    kwargs = data.draw(junk_arguments(function, BOX_CALLS[function](boxes, np.array([0.9, 0.8]))))
    expect_clear_error(function, lambda: function(**kwargs))


@given(
    value=st.sampled_from([math.nan, math.inf, -math.inf]),
    row=st.integers(0, 2),
    col=st.integers(0, 3),
    dtype=st.sampled_from(["<f4", ">f8"]),
)
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
