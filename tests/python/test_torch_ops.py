"""torch.ops.opticore.*: same results as the NumPy path, schemas checked by opcheck, and
traceable by torch.compile(fullgraph=True) and torch.export."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import opticore  # noqa: E402
import opticore.torch  # noqa: E402
import reference as ref  # noqa: E402

if opticore.torch.library_path() is None:
    pytest.skip("opticore was built without its torch operators", allow_module_level=True)

ops = opticore.torch.ops()


def inputs(n=300, seed=0, dtype=torch.float32):
    rng = np.random.default_rng(seed)
    boxes = ref.clustered_boxes(rng, n, max(1, n // 30), np.float64)
    scores = ref.tied_scores(rng, n, levels=7)
    labels = rng.integers(0, 5, size=n)
    return torch.from_numpy(boxes).to(dtype), torch.from_numpy(scores), torch.from_numpy(labels)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tensor_results_equal_numpy_results(dtype):
    boxes, scores, labels = inputs(dtype=dtype)
    b, s, l = boxes.numpy(), scores.numpy(), labels.numpy()
    for got, expected in [
        (opticore.box_area(boxes), opticore.box_area(b)),
        (opticore.box_iou(boxes, boxes[:50]), opticore.box_iou(b, b[:50])),
        (opticore.nms(boxes, scores, 0.5), ref.nms(b, s, 0.5)),
        (opticore.nms(boxes, scores, 0.4, score_threshold=0.3, max_output=5), ref.nms(b, s, 0.4, 0.3, 5)),
        (opticore.batched_nms(boxes, scores, labels, 0.5), ref.nms(b, s, 0.5, labels=l)),
    ]:
        assert isinstance(got, torch.Tensor)
        np.testing.assert_array_equal(got.numpy(), expected)
    assert opticore.box_area(boxes).dtype == dtype
    assert opticore.nms(boxes, scores, 0.5).dtype == torch.int64
    idx, rescored = opticore.soft_nms(boxes, scores, method="linear")
    ref_idx, ref_scores = ref.soft_nms(b, s, "linear")
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    np.testing.assert_array_equal(rescored.numpy(), ref_scores)
    assert rescored.dtype == scores.dtype


def test_non_contiguous_tensors():
    boxes, scores, _ = inputs(400, 1, torch.float64)
    strided = torch.zeros(400, 8, dtype=torch.float64)
    strided[:, ::2] = boxes
    expected = ref.nms(boxes.numpy(), scores.numpy(), 0.5)
    np.testing.assert_array_equal(opticore.nms(strided[:, ::2], scores, 0.5).numpy(), expected)
    np.testing.assert_array_equal(opticore.nms(boxes.t().contiguous().t(), scores, 0.5).numpy(), expected)


def test_empty_tensors():
    e = torch.zeros(0, 4)
    assert opticore.nms(e, torch.zeros(0), 0.5).shape == (0,)
    idx, s = opticore.soft_nms(e, torch.zeros(0))
    assert idx.shape == (0,) and s.shape == (0,)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda b, s, l: ops.nms(b.int(), s, 0.5, None, None), TypeError, "boxes: expected float32 or float64, got int32"),
        (lambda b, s, l: ops.nms(b[:, :3], s, 0.5, None, None), ValueError, "boxes: expected shape (N, 4)"),
        (lambda b, s, l: ops.nms(b, s[:-1], 0.5, None, None), ValueError, "scores: expected 300 values (one per box), got 299"),
        (lambda b, s, l: ops.nms(b, s, 2.0, None, None), ValueError, "iou_threshold"),
        (lambda b, s, l: ops.batched_nms(b, s, l.float(), 0.5, None, None), TypeError, "labels: expected an integer"),
        (lambda b, s, l: ops.soft_nms(b, s, "hard", 0.5, 0.3, 0.001, None), ValueError, "method"),
        (lambda b, s, l: opticore.nms(b, s.numpy(), 0.5), TypeError, "scores: expected a torch.Tensor"),
    ],
)
def test_bad_tensor_arguments(call, error, words):
    boxes, scores, labels = inputs()
    with pytest.raises(error) as info:
        call(boxes, scores, labels)
    assert words in str(info.value)


def test_nan_box_tensor_is_a_value_error():
    boxes, scores, _ = inputs()
    boxes[5, 1] = float("nan")
    with pytest.raises(ValueError, match="boxes: expected finite coordinates"):
        opticore.nms(boxes, scores, 0.5)


def opcheck_samples():
    boxes, scores, labels = inputs(120, 2)
    return [
        (ops.box_area.default, (boxes,)),
        (ops.box_iou.default, (boxes, boxes[:17].double())),
        (ops.nms.default, (boxes, scores, 0.5, None, None)),
        (ops.nms.default, (boxes, scores, 0.3, 0.2, 4)),
        (ops.batched_nms.default, (boxes, scores, labels, 0.5, None, None)),
        (ops.soft_nms.default, (boxes, scores, "gaussian", 0.5, 0.3, 0.001, None)),
        (ops.soft_nms.default, (boxes.double(), scores, "linear", 0.5, 0.3, 0.01, 10)),
    ]


@pytest.mark.parametrize("op, args", opcheck_samples(), ids=lambda x: str(x)[:40])
def test_opcheck(op, args):
    torch.library.opcheck(op, args)


def test_torch_compile_fullgraph():
    boxes, scores, labels = inputs(200, 3)

    def detect(boxes, scores, labels):
        keep = opticore.batched_nms(boxes, scores, labels, 0.5)
        return boxes[keep], scores[keep] * 2, opticore.box_area(boxes[keep])

    compiled = torch.compile(detect, fullgraph=True, backend="eager")
    for got, expected in zip(compiled(boxes, scores, labels), detect(boxes, scores, labels)):
        torch.testing.assert_close(got, expected)

    def direct(boxes, scores):
        return ops.nms(boxes, scores, 0.5, None, None)

    torch.testing.assert_close(torch.compile(direct, fullgraph=True)(boxes, scores), direct(boxes, scores))


def test_torch_export():
    class Detector(torch.nn.Module):
        def forward(self, boxes, scores):
            keep = ops.nms(boxes, scores, 0.5, None, 50)
            return boxes[keep]

    boxes, scores, _ = inputs(200, 4)
    exported = torch.export.export(Detector(), (boxes, scores))
    assert "opticore.nms" in str(exported.graph)
    torch.testing.assert_close(exported.module()(boxes, scores), Detector()(boxes, scores))


def test_meta_tensors_use_the_fake_kernels():
    out = ops.box_iou(torch.empty(3, 4, device="meta"), torch.empty(5, 4, device="meta"))
    assert out.shape == (3, 5) and out.device.type == "meta"
