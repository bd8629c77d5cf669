"""Box operators (NumPy path) against the plain-NumPy references in reference.py and OpenCV."""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
import pytest

import opticore
import reference as ref
from gil_check import assert_releases_gil

DTYPES = [np.float32, np.float64]


def make_inputs(kind: str, n: int, seed: int, dtype=np.float32):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        boxes = ref.uniform_boxes(rng, n, dtype)
        scores = rng.random(n).astype(np.float32)
    elif kind == "clustered":
        boxes = ref.clustered_boxes(rng, n, max(1, n // 40), dtype)
        scores = rng.random(n).astype(np.float32)
    elif kind == "tied":
        boxes = ref.clustered_boxes(rng, n, max(1, n // 20), dtype)
        scores = ref.tied_scores(rng, n)
    elif kind == "degenerate":  # inverted, zero-size, duplicated boxes
        boxes = ref.clustered_boxes(rng, n, 5, dtype)
        boxes[::7, [0, 2]] = boxes[::7, [2, 0]]
        boxes[1::9, 2] = boxes[1::9, 0]
        boxes[2::11] = boxes[3]  # box 3 is neither inverted nor flat: copies of it have IoU exactly 1
        scores = ref.tied_scores(rng, n, levels=3)
    else:
        raise AssertionError(kind)
    return boxes, scores


KINDS = ["uniform", "clustered", "tied", "degenerate"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_area_and_iou_match_reference(dtype):
    a, _ = make_inputs("degenerate", 150, 0, dtype)
    b, _ = make_inputs("uniform", 70, 1, dtype)
    area = opticore.box_area(a)
    assert area.dtype == dtype and area.shape == (150,)
    np.testing.assert_allclose(area, ref.area(a).astype(dtype), rtol=1e-6)
    assert (area >= 0).all()
    iou = opticore.box_iou(a, b)
    assert iou.dtype == dtype and iou.shape == (150, 70)
    np.testing.assert_allclose(iou, ref.iou(a, b).astype(dtype), rtol=1e-6, atol=0)
    assert not np.isnan(opticore.box_iou(a, a)).any()


def test_iou_mixed_dtypes_promote_to_float64():
    a, _ = make_inputs("uniform", 5, 0, np.float32)
    assert opticore.box_iou(a, a.astype(np.float64)).dtype == np.float64


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("thr", [0.0, 0.3, 0.5, 0.7, 1.0])
def test_nms_matches_reference(kind, thr):
    boxes, scores = make_inputs(kind, 400, 100 + KINDS.index(kind))
    kept = opticore.nms(boxes, scores, thr)
    np.testing.assert_array_equal(kept, ref.nms(boxes, scores, thr))
    # Every suppressed box overlaps a kept box above the threshold; no two kept boxes do.
    ious = ref.iou(boxes, boxes)
    suppressed = np.setdiff1d(np.arange(len(boxes)), kept)
    assert (ious[np.ix_(kept, suppressed)] > thr).any(axis=0).all()
    kept_pairs = ious[np.ix_(kept, kept)]
    np.fill_diagonal(kept_pairs, 0)
    assert (kept_pairs <= thr).all()
    if kind == "degenerate":  # the strict threshold is exercised at IoU = 1: the duplicates all survive 1.0
        off_diagonal = ious - np.eye(len(boxes))
        assert (off_diagonal == 1).sum() >= 2 * 36 and (ref.area(boxes[3:4]) > 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_nms_options_match_reference(kind):
    boxes, scores = make_inputs(kind, 300, 3, np.float64)
    for st, mo in [(0.5, None), (None, 7), (0.2, 3), (None, 0), (2.0, None)]:
        got = opticore.nms(boxes, scores, 0.5, score_threshold=st, max_output=mo)
        np.testing.assert_array_equal(got, ref.nms(boxes, scores, 0.5, st, mo))
        assert got.dtype == np.int64


def test_nms_threshold_is_strict_and_ties_keep_lower_index():
    boxes = np.array([[0, 0, 2, 1], [1, 0, 3, 1], [0, 0, 2, 1]], np.float64)  # IoU(0, 1) = 1/3
    scores = np.array([0.5, 0.5, 0.5])
    np.testing.assert_array_equal(opticore.nms(boxes, scores, 1 / 3), [0, 1])
    np.testing.assert_array_equal(opticore.nms(boxes, scores, 0.33), [0])
    # Box 2 duplicates box 0 with an equal score: the lower index is kept.
    np.testing.assert_array_equal(opticore.nms(boxes[[2, 0]], scores[:2], 0.5), [0])


def test_nms_touching_boxes_do_not_suppress_at_zero_threshold():
    boxes = np.array([[0, 0, 1, 1], [1, 0, 2, 1], [0.5, 0, 1.5, 1]], np.float32)
    scores = np.array([3, 2, 1], np.float32)
    np.testing.assert_array_equal(opticore.nms(boxes, scores, 0.0), [0, 1])


def test_nms_agrees_with_opencv():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(5)
    boxes = ref.clustered_boxes(rng, 2000, 60, np.float64)
    scores = (rng.permutation(2000).astype(np.float32) + 1) / 2000  # distinct: OpenCV breaks ties its own way
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    for thr in (0.3, 0.5, 0.7):
        expected = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), scores.tolist(), 0.0, thr)).reshape(-1)
        np.testing.assert_array_equal(opticore.nms(boxes, scores, thr), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_batched_nms_matches_per_label_reference(dtype):
    rng = np.random.default_rng(7)
    boxes, scores = make_inputs("clustered", 600, 7, dtype)
    labels = rng.integers(-3, 4, size=600)
    expected = ref.nms(boxes, scores, 0.5, labels=labels)
    np.testing.assert_array_equal(opticore.batched_nms(boxes, scores, labels, 0.5), expected)
    got = opticore.batched_nms(boxes, scores, labels.astype(np.int16), 0.5, score_threshold=0.3, max_output=9)
    np.testing.assert_array_equal(got, ref.nms(boxes, scores, 0.5, 0.3, 9, labels=labels))


def test_batched_nms_exact_for_huge_and_negative_coordinates_and_many_classes():
    rng = np.random.default_rng(8)
    boxes, scores = make_inputs("clustered", 3000, 8, np.float64)
    boxes = boxes * 1e7 - 3e9  # an offset trick in float32 would merge classes or lose precision
    labels = rng.integers(0, 2000, size=3000)
    labels[:500] = 17  # one crowded class
    np.testing.assert_array_equal(
        opticore.batched_nms(boxes, scores, labels, 0.5), ref.nms(boxes, scores, 0.5, labels=labels)
    )
    f32 = boxes.astype(np.float32)
    np.testing.assert_array_equal(
        opticore.batched_nms(f32, scores, labels, 0.5), ref.nms(f32, scores, 0.5, labels=labels)
    )


def test_batched_nms_same_result_with_one_or_many_threads():
    boxes, scores = make_inputs("clustered", 5000, 9)
    labels = np.random.default_rng(9).integers(0, 80, size=5000)
    before = opticore.get_num_threads()
    try:
        opticore.set_num_threads(1)
        single = opticore.batched_nms(boxes, scores, labels, 0.5)
        opticore.set_num_threads(4)
        np.testing.assert_array_equal(opticore.batched_nms(boxes, scores, labels, 0.5), single)
    finally:
        opticore.set_num_threads(before)


@pytest.mark.parametrize("method", ["gaussian", "linear"])
@pytest.mark.parametrize("kind", KINDS)
def test_soft_nms_matches_textbook_loop(method, kind):
    boxes, scores = make_inputs(kind, 250, 11)
    idx, rescored = opticore.soft_nms(boxes, scores, method=method, score_threshold=0.01)
    ref_idx, ref_scores = ref.soft_nms(boxes, scores, method, 0.5, 0.3, 0.01)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(rescored, ref_scores)
    assert rescored.dtype == scores.dtype
    assert (np.diff(rescored.astype(np.float64)) <= 0).all()
    assert (rescored > 0.01).all()


def test_soft_nms_options():
    boxes, scores = make_inputs("clustered", 200, 12, np.float64)
    scores = scores.astype(np.float64)
    idx, s = opticore.soft_nms(
        boxes, scores, method="linear", sigma=0.2, iou_threshold=0.6, score_threshold=0.3, max_output=10
    )
    ref_idx, ref_s = ref.soft_nms(boxes, scores, "linear", 0.2, 0.6, 0.3, 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(s, ref_s)
    idx, s = opticore.soft_nms(boxes, scores, sigma=0.05)
    np.testing.assert_array_equal(idx, ref.soft_nms(boxes, scores, "gaussian", 0.05)[0])


def test_soft_nms_agrees_with_opencv_linear():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(13)
    boxes = np.round(ref.clustered_boxes(rng, 300, 10, np.float64))  # OpenCV takes integer rects here
    scores = (rng.permutation(300).astype(np.float32) + 1) / 300
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(int)
    cv_scores, cv_idx = cv2.dnn.softNMSBoxes(
        [tuple(r) for r in xywh.tolist()],
        scores.tolist(),
        0.001,
        0.3,
        top_k=0,
        sigma=0.5,
        method=cv2.dnn.SOFT_NMSMETHOD_SOFTNMS_LINEAR,
    )
    idx, rescored = opticore.soft_nms(boxes, scores, method="linear", iou_threshold=0.3, score_threshold=0.001)
    # OpenCV decays in float32; compare the boxes taken while scores are well separated.
    top = 50
    np.testing.assert_array_equal(idx[:top], np.asarray(cv_idx).reshape(-1)[:top])
    np.testing.assert_allclose(rescored[:top], np.asarray(cv_scores).reshape(-1)[:top], rtol=1e-5)


def test_empty_inputs_give_empty_results():
    e = np.zeros((0, 4), np.float32)
    s = np.zeros(0, np.float32)
    assert opticore.nms(e, s, 0.5).shape == (0,)
    assert opticore.batched_nms(e, s, np.zeros(0, np.int64), 0.5).shape == (0,)
    idx, sc = opticore.soft_nms(e, s)
    assert idx.shape == (0,) and sc.shape == (0,)
    assert opticore.box_area(e).shape == (0,)
    assert opticore.box_iou(e, np.ones((3, 4), np.float32)).shape == (0, 3)


def test_non_contiguous_and_negative_strides():
    boxes, scores = make_inputs("clustered", 500, 14, np.float64)
    wide = np.zeros((500, 8))
    wide[:, ::2] = boxes  # column stride 2
    fortran = np.asfortranarray(boxes)
    reversed_boxes = boxes[::-1]
    expected = ref.nms(boxes, scores, 0.5)
    np.testing.assert_array_equal(opticore.nms(wide[:, ::2], scores, 0.5), expected)
    np.testing.assert_array_equal(opticore.nms(fortran, scores, 0.5), expected)
    np.testing.assert_array_equal(
        opticore.nms(reversed_boxes, scores[::-1], 0.5), ref.nms(reversed_boxes, scores[::-1].copy(), 0.5)
    )
    np.testing.assert_allclose(opticore.box_iou(wide[:, ::2], fortran), ref.iou(boxes, boxes), rtol=1e-12)


def test_python_lists_are_accepted():
    np.testing.assert_array_equal(opticore.nms([[0.0, 0, 10, 10], [1.0, 1, 10, 10]], [0.9, 0.8], 0.5), [0])


def test_large_input():
    boxes, scores = make_inputs("clustered", 200_000, 15)
    kept = opticore.nms(boxes, scores, 0.5)
    assert 0 < kept.size < 200_000
    # Spot check: no two kept boxes overlap above the threshold.
    sample = kept[:2000]
    ious = ref.iou(boxes[sample], boxes[sample])
    np.fill_diagonal(ious, 0)
    assert ious.max() <= 0.5


@pytest.mark.parametrize(
    "call, error, words",
    [
        (
            lambda b, s: opticore.nms(b.astype(np.int32), s, 0.5),
            TypeError,
            "boxes: expected float32 or float64, got int32",
        ),
        (lambda b, s: opticore.nms(b, s.astype(np.int64), 0.5), TypeError, "scores: expected float32 or float64"),
        (lambda b, s: opticore.nms(b.astype(np.float16), s, 0.5), TypeError, "float16"),
        (lambda b, s: opticore.nms(b[:, :3], s, 0.5), ValueError, "boxes: expected shape (N, 4)"),
        (lambda b, s: opticore.nms(b[0], s, 0.5), ValueError, "boxes: expected shape (N, 4), got (4,)"),
        (lambda b, s: opticore.nms(b, s[:-1], 0.5), ValueError, "scores: expected 10 values"),
        (lambda b, s: opticore.nms(b, s[:, None], 0.5), ValueError, "scores: expected shape (N,)"),
        (lambda b, s: opticore.nms(b, s, 1.5), ValueError, "iou_threshold: expected a value in [0, 1], got 1.5"),
        (lambda b, s: opticore.nms(b, s, float("nan")), ValueError, "iou_threshold"),
        (lambda b, s: opticore.nms(b, s, 0.5, max_output=-1), ValueError, "max_output: expected an int >= 0, got -1"),
        (lambda b, s: opticore.nms(b, s, 0.5, max_output=2.5), TypeError, "max_output"),
        (lambda b, s: opticore.nms(b, s, 0.5, score_threshold=float("nan")), ValueError, "score_threshold"),
        (
            lambda b, s: opticore.batched_nms(b, s, np.zeros(10, np.float32), 0.5),
            TypeError,
            "labels: expected an integer",
        ),
        (lambda b, s: opticore.batched_nms(b, s, np.zeros(9, np.int64), 0.5), ValueError, "labels: expected 10 values"),
        (
            lambda b, s: opticore.soft_nms(b, s, method="hard"),
            ValueError,
            "method: expected one of 'gaussian', 'linear', got 'hard'",
        ),
        (lambda b, s: opticore.soft_nms(b, s, sigma=0.0), ValueError, "sigma"),
        (lambda b, s: opticore.box_iou(b, b[:, :2]), ValueError, "boxes2: expected shape (N, 4)"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, words):
    boxes, scores = make_inputs("uniform", 10, 16)
    with pytest.raises(error) as info:
        call(boxes, scores)
    assert words in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected(bad):
    boxes, scores = make_inputs("uniform", 10, 17)
    b = boxes.copy()
    b[3, 2] = bad
    with pytest.raises(ValueError, match="boxes: expected finite coordinates.*row 3"):
        opticore.nms(b, scores, 0.5)
    with pytest.raises(ValueError, match="boxes: expected finite"):
        opticore.box_area(b)
    s = scores.copy()
    s[4] = bad
    with pytest.raises(ValueError, match="scores: expected finite values.*index 4"):
        opticore.soft_nms(boxes, s)


def test_nms_releases_the_gil():
    """A Python thread keeps running while a long NMS call (about 0.3 s) runs in another one."""
    boxes, scores = make_inputs("uniform", 100_000, 18)
    assert_releases_gil(lambda: opticore.nms(boxes, scores, 0.5))


def test_calls_are_thread_safe():
    boxes, scores = make_inputs("uniform", 20_000, 18)
    expected = opticore.nms(boxes, scores, 0.5)
    results = [None] * 4

    def work(i):
        results[i] = opticore.nms(boxes, scores, 0.5)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


# ---------------------------------------------------------------------------- found by fuzzing


def extreme_boxes(rng: np.random.Generator, n: int, magnitude: float) -> np.ndarray:
    """Boxes of every scale up to `magnitude` (1e308: sides and areas overflow float64; 1e-310:
    denormal sides), with exact duplicates so that suppression has something to do."""
    corners = rng.uniform(-1, 1, size=(n, 4)) * magnitude * 10.0 ** -rng.integers(0, 3, size=(n, 1))
    boxes = np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]), np.maximum(corners[:, :2], corners[:, 2:])], 1)
    boxes[n // 2 :] = boxes[: n - n // 2]
    return boxes


@pytest.mark.parametrize("magnitude", [1.7e308, 1e300, 1e-310, 5e-320])
def test_extreme_coordinates_give_exact_iou_and_nms(magnitude):
    rng = np.random.default_rng(int(np.log2(magnitude) % 97))
    boxes = extreme_boxes(rng, 80, magnitude)  # >= 64: the grid path
    exact = ref.exact_iou(boxes, boxes)
    np.testing.assert_allclose(opticore.box_iou(boxes, boxes), exact, rtol=1e-15, atol=0)
    assert (np.diag(exact) == 1).all()
    scores = rng.permutation(80) / 80.0
    for thr in (0.0, 0.5, 0.9):
        np.testing.assert_array_equal(opticore.nms(boxes, scores, thr), ref.nms(boxes, scores, thr, ious=exact))
        np.testing.assert_array_equal(
            opticore.nms(boxes[:40], scores[:40], thr),  # the scan path
            ref.nms(boxes[:40], scores[:40], thr, ious=exact[:40, :40]),
        )
    labels = rng.integers(0, 3, size=80)
    np.testing.assert_array_equal(
        opticore.batched_nms(boxes, scores, labels, 0.5), ref.nms(boxes, scores, 0.5, labels=labels, ious=exact)
    )
    for method in ("gaussian", "linear"):
        idx, s = opticore.soft_nms(boxes, scores, method=method)
        ref_idx, ref_s = ref.soft_nms(boxes, scores, method, ious=exact)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(s, ref_s, rtol=1e-12)


def test_denormal_box_sizes_do_not_crash():
    # A positive but denormal width made the grid's cell scale infinite: SIGSEGV.
    box = np.array([[0, 0, 5e-312, 1.0]])
    idx, s = opticore.soft_nms(box, np.array([1.0]))
    np.testing.assert_array_equal(idx, [0])
    np.testing.assert_array_equal(opticore.nms(np.repeat(box, 64, 0), np.linspace(1, 0.1, 64), 0.5), [0])
    assert opticore.box_iou(box, box)[0, 0] == 1.0
    tiny = np.array([[0, 0, 1e-200, 1e-200]] * 2)  # the area underflows to 0, the box is still real
    assert opticore.box_area(tiny)[0] == 0.0
    assert opticore.box_iou(tiny, tiny)[0, 0] == 1.0
    np.testing.assert_array_equal(opticore.nms(tiny, np.array([1.0, 0.5]), 0.5), [0])


def test_area_exact_when_a_side_overflows_and_inf_only_beyond_the_range():
    boxes = np.array([[-1e308, 0, 1e308, 1e-10], [-1e308, -1e308, 1e308, 1e308], [0, 0, 1e200, 1e200]])
    exact = float(2 * Fraction(1e308) * Fraction(1e-10))  # one rounding of the true area
    np.testing.assert_array_equal(opticore.box_area(boxes), [exact, np.inf, np.inf])
    f32 = np.array([[0, 0, 1e20, 1e20], [-3e38, 0, 3e38, 1e-30]], np.float32)
    np.testing.assert_allclose(opticore.box_area(f32), [np.inf, np.float32(6e8)], rtol=1e-6)
    # The IoU of a box with itself is 1 however large, so NMS drops its duplicates.
    big = np.repeat(boxes[1:2], 3, 0)
    np.testing.assert_array_equal(opticore.box_iou(big, big), np.ones((3, 3)))
    np.testing.assert_array_equal(opticore.nms(big, np.array([0.9, 0.8, 0.7]), 0.5), [0])


def test_huge_coordinate_spread_grid_stays_bounded():
    # Used to fail with "cannot create std::vector larger than max_size()".
    rng = np.random.default_rng(3)
    boxes = ref.uniform_boxes(rng, 200, np.float64)
    boxes[:100] *= 1e-300
    boxes[100:150] *= 1e305
    boxes[150:] = [[-1.7e308, -1.7e308, 1.7e308, 1.7e308]] * 50
    scores = rng.random(200)
    exact = ref.exact_iou(boxes, boxes)
    np.testing.assert_array_equal(opticore.nms(boxes, scores, 0.5), ref.nms(boxes, scores, 0.5, ious=exact))


@pytest.mark.parametrize("order", [">", "<"])
def test_any_byte_order_is_read_correctly(order):
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    b, s = boxes.astype(order + "f4"), scores.astype(order + "f4")
    np.testing.assert_array_equal(opticore.nms(b, s, 0.5), [0, 2])  # the README example; [0 2 1] before
    np.testing.assert_array_equal(opticore.box_area(np.array([[0, 0, 10, 10]], order + "f8")), [100.0])
    expected = opticore.box_iou(boxes, boxes.astype("f8"))
    np.testing.assert_array_equal(opticore.box_iou(b, boxes.astype(order + "f8")), expected)
    labels = np.array([0, 0, 1], order + "i8")
    np.testing.assert_array_equal(opticore.batched_nms(b, s, labels, 0.5), [0, 2])
    np.testing.assert_array_equal(opticore.soft_nms(b, s)[0], opticore.soft_nms(boxes, scores)[0])


def test_box_iou_result_size_is_checked_before_allocating():
    many = np.broadcast_to(np.array([0.0, 0, 1, 1]), (1 << 17, 4))  # no memory: stride 0
    with pytest.raises(ValueError, match=r"boxes1, boxes2: expected a result of at most 4 GiB .*131072 x 131072"):
        opticore.box_iou(many, many)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda b, s: opticore.nms(b, s, 0.5, score_threshold="x"), TypeError, "score_threshold: expected a number"),
        (lambda b, s: opticore.nms(b, s, None), TypeError, "iou_threshold: expected a number, got None"),
        (lambda b, s: opticore.nms(b, s, 0.5, max_output=-(2**70)), ValueError, "max_output: expected an int >= 0"),
        (lambda b, s: opticore.batched_nms(b, s, np.zeros(10, int), "0.5"), TypeError, "iou_threshold: expected a"),
        (lambda b, s: opticore.soft_nms(b, s, sigma=None), TypeError, "sigma: expected a number, got None"),
        (lambda b, s: opticore.soft_nms(b, s, method=None), TypeError, "method: expected one of 'gaussian', 'linear'"),
        (lambda b, s: opticore.soft_nms(b, s, score_threshold=[1, 2]), TypeError, "score_threshold: expected a number"),
    ],
)
def test_argument_errors_name_the_argument(call, error, message):
    boxes, scores = make_inputs("uniform", 10, 16)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(boxes, scores)


def test_max_output_beyond_int64_means_no_limit():
    boxes, scores = make_inputs("clustered", 100, 4)
    for call in (opticore.nms, lambda *a, **k: opticore.batched_nms(boxes, scores, np.zeros(100, int), 0.5, **k)):
        np.testing.assert_array_equal(call(boxes, scores, 0.5, max_output=2**70), call(boxes, scores, 0.5))
    unlimited = opticore.soft_nms(boxes, scores, max_output=2**70)[0]
    np.testing.assert_array_equal(unlimited, opticore.soft_nms(boxes, scores)[0])
