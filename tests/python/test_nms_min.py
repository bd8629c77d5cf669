"""opticore.nms_min (MTCNN's "Min" NMS) against plain loops: random boxes with ties, identical,
nested, inverted and tiny boxes, enough boxes for the grid path, thresholds 0 to 1; dtypes,
layouts and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import opticore


def nms_min_reference(boxes, scores, threshold):
    """Plain loops: visit by descending score (ties: lower index), drop what overlaps a kept box
    by more than ``threshold`` of the smaller box's inclusive-pixel area."""
    def area(b):
        return max(b[2] - b[0] + 1, 0) * max(b[3] - b[1] + 1, 0)

    keep = []
    for i in sorted(range(len(boxes)), key=lambda k: (-scores[k], k)):
        ok = True
        for j in keep:
            a, b = boxes[i], boxes[j]
            inter = max(min(a[2], b[2]) - max(a[0], b[0]) + 1, 0) * max(min(a[3], b[3]) - max(a[1], b[1]) + 1, 0)
            smaller = min(area(a), area(b))
            if smaller > 0 and inter / smaller > threshold:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


def random_case(rng, n, trial):
    xy = rng.uniform(0, 10 * np.sqrt(n + 1) + 100, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(-3, 40, (n, 2))], 1)  # some inverted or tiny
    if n > 3:
        boxes[1] = boxes[0]  # identical
        boxes[2] = [boxes[0][0] + 1, boxes[0][1] + 1, boxes[0][2] - 1, boxes[0][3] - 1]  # nested
    scores = rng.choice([0.5, 0.7, 0.9], n) if trial % 2 else rng.uniform(0, 1, n)  # ties
    return boxes, scores


@pytest.mark.parametrize("size", [40, 400])  # below and above the grid's 64 boxes
def test_nms_min_against_loops(size):
    rng = np.random.default_rng(size)
    for trial in range(30):
        n = int(rng.integers(0, size))
        boxes, scores = random_case(rng, n, trial)
        threshold = float(rng.choice([0.0, 0.3, 0.5, 0.7, 1.0]))
        kept = opticore.nms_min(boxes, scores, threshold)
        assert kept.dtype == np.int64
        assert kept.tolist() == nms_min_reference(boxes, scores, threshold), (trial, n, threshold)


def test_nested_boxes_and_thresholds():
    nested = np.array([[0, 0, 99, 99], [10, 10, 29, 29]], np.float64)
    scores = np.array([0.9, 0.95], np.float32)
    assert opticore.nms_min(nested, scores, 0.99).tolist() == [1]  # overlap 1 with its container
    assert opticore.nms_min(nested, scores, 1.0).tolist() == [1, 0]  # strict: 1 is not above 1
    # touching boxes: inclusive pixels make x2 = 9 and x1 = 9 share one column (overlap 10 / 100)
    touching = np.array([[0, 0, 9, 9], [9, 0, 18, 9]], np.float32)
    assert opticore.nms_min(touching, np.array([1.0, 0.5]), 0.1).tolist() == [0, 1]
    assert opticore.nms_min(touching, np.array([1.0, 0.5]), 0.0999).tolist() == [0]


def test_dtypes_layouts_and_huge_coordinates():
    rng = np.random.default_rng(3)
    boxes, scores = random_case(rng, 300, 1)
    expected = opticore.nms_min(boxes, scores, 0.5).tolist()
    assert opticore.nms_min(boxes.astype(np.float32).astype(np.float64), scores, 0.5).tolist() == \
        opticore.nms_min(boxes.astype(np.float32), scores.astype(np.float32), 0.5).tolist()
    wide = np.zeros((300, 8))
    wide[:, ::2] = boxes
    assert opticore.nms_min(wide[:, ::2], np.ascontiguousarray(scores[::-1])[::-1], 0.5).tolist() == expected
    # coordinates near float64's limit: the overlap is still exact (two nested halves of the line)
    big = np.array([[-1e308, -1e308, 1e308, 1e308], [0, 0, 1e308, 1e308]])
    assert opticore.nms_min(big, np.array([0.9, 0.8]), 0.99).tolist() == [0]


def test_bad_input():
    assert opticore.nms_min(np.zeros((0, 4)), np.zeros(0), 0.7).tolist() == []
    with pytest.raises(ValueError, match="scores"):
        opticore.nms_min(np.zeros((2, 4)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="finite"):
        opticore.nms_min(np.array([[0, 0, np.nan, 1]]), np.ones(1), 0.5)
    with pytest.raises(ValueError, match="finite"):
        opticore.nms_min(np.zeros((1, 4)), np.array([np.inf]), 0.5)
    with pytest.raises(ValueError, match="threshold"):
        opticore.nms_min(np.zeros((1, 4)), np.ones(1), 1.5)
    with pytest.raises(TypeError, match="threshold"):
        opticore.nms_min(np.zeros((1, 4)), np.ones(1), "0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="boxes"):
        opticore.nms_min(np.zeros((1, 4), np.int32), np.ones(1), 0.5)
    with pytest.raises(ValueError, match="boxes"):
        opticore.nms_min(np.zeros((1, 3)), np.ones(1), 0.5)
