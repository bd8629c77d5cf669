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
        (lambda b, s, l: opticore.nms(b.int(), s, 0.5), TypeError, "boxes: expected float32 or float64, got int32"),
        # The kernels themselves: every error that crosses the dispatcher is a ValueError.
        (
            lambda b, s, l: ops.nms(b.int(), s, 0.5, None, None),
            ValueError,
            "boxes: expected float32 or float64, got int32",
        ),
        (
            lambda b, s, l: opticore.batched_nms(b, s, l.float(), 0.5),
            TypeError,
            "labels: expected an integer tensor, got float32",
        ),
        (
            lambda b, s, l: opticore.nms(b, None, 0.5),
            TypeError,
            "scores: expected a torch.Tensor like boxes, got NoneType",
        ),
        (
            lambda b, s, l: opticore.torch.run("nms", (b, s), 0.5, None, 2**70),
            ValueError,
            "max_output: expected a 64-bit integer",
        ),
        (lambda b, s, l: opticore.nms(b, s, "x"), TypeError, "iou_threshold"),
        (lambda b, s, l: opticore.nms(b.to_sparse(), s, 0.5), TypeError, "boxes: expected a dense (strided) tensor"),
        (
            lambda b, s, l: opticore.nms(b, torch.quantize_per_tensor(s, 0.01, 0, torch.quint8), 0.5),
            TypeError,
            "scores: expected a float or integer tensor, got quantized",
        ),
        (lambda b, s, l: opticore.box_iou(b[:, :3], b), ValueError, "boxes1: expected shape (N, 4), got (300, 3)"),
        (lambda b, s, l: ops.nms(b[:, :3], s, 0.5, None, None), ValueError, "boxes: expected shape (N, 4)"),
        (
            lambda b, s, l: ops.nms(b, s[:-1], 0.5, None, None),
            ValueError,
            "scores: expected 300 values (one per box), got 299",
        ),
        (lambda b, s, l: ops.nms(b, s, 2.0, None, None), ValueError, "iou_threshold"),
        (lambda b, s, l: ops.batched_nms(b, s, l.float(), 0.5, None, None), ValueError, "labels: expected an integer"),
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


def test_nms_on_meta_tensors_says_why_it_cannot_run():
    def meta(*shape, dtype=torch.float32):
        return torch.empty(*shape, device="meta", dtype=dtype)

    with pytest.raises(ValueError, match="boxes: NMS on meta tensors has no defined output length"):
        ops.nms(meta(3, 4), meta(3), 0.5, None, None)
    with pytest.raises(TypeError, match="scores: expected float32 or float64"):
        ops.soft_nms(meta(3, 4), meta(3, dtype=torch.int32), "gaussian", 0.5, 0.3, 0.001, None)
    with pytest.raises(ValueError, match=r"labels: expected 3 values \(one per box\), got 2"):
        ops.batched_nms(meta(3, 4), meta(3), meta(2, dtype=torch.int64), 0.5, None, None)
    with pytest.raises(ValueError, match=r"scores: expected 3 values \(one per box\), got 4"):
        ops.nms(meta(3, 4), meta(4), 0.5, None, None)


def test_meta_tensors_with_bad_shapes_are_value_errors():
    with pytest.raises(ValueError, match=r"boxes1: expected shape \(N, 4\), got \(3, 5\)"):
        ops.box_iou(torch.empty(3, 5, device="meta"), torch.empty(5, 4, device="meta"))
    with pytest.raises(TypeError, match="boxes: expected float32 or float64"):
        ops.nms(torch.empty(3, 4, device="meta", dtype=torch.int32), torch.empty(3, device="meta"), 0.5, None, None)


@pytest.mark.parametrize("dynamic", [False, True])
def test_compiled_indexing_with_data_dependent_lengths(dynamic):
    """boxes[keep] compiles and runs at N = 0, 1 and large N, static and dynamic shapes."""

    def keep_boxes(boxes, scores, labels):
        return (
            boxes[opticore.nms(boxes, scores, 0.5)],
            boxes[opticore.batched_nms(boxes, scores, labels, 0.5)],
            scores[opticore.soft_nms(boxes, scores, max_output=10)[0]],
        )

    compiled = torch.compile(keep_boxes, fullgraph=True, dynamic=dynamic)
    for n in (0, 1, 2, 3000, 7):
        boxes, scores, labels = inputs(max(n, 1), seed=n)
        boxes, scores, labels = boxes[:n], scores[:n], labels[:n]
        for got, expected in zip(compiled(boxes, scores, labels), keep_boxes(boxes, scores, labels)):
            torch.testing.assert_close(got, expected)


def plain_area(boxes):
    # relu, not clamp: its gradient at 0 is 0 in every torch (clamp's changed in 2.14).
    return (boxes[:, 2] - boxes[:, 0]).relu() * (boxes[:, 3] - boxes[:, 1]).relu()


def plain_iou(a, b):
    """torchvision's formula in plain torch ops (an independent reference for values and gradients)."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (rb - lt).relu()
    inter = wh[..., 0] * wh[..., 1]
    union = plain_area(a)[:, None] + plain_area(b)[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-300), torch.zeros_like(union))


def random_boxes(n, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=dtype) * 20
    wh = torch.rand(n, 2, generator=g, dtype=dtype) * 15 - 2  # some inverted (zero-area) boxes
    return torch.cat([xy, xy + wh], dim=1)


def test_box_area_and_iou_gradients_match_the_plain_formulas():
    a = random_boxes(40, 1).requires_grad_()
    b = random_boxes(30, 2).requires_grad_()
    weights = torch.rand(40, 30, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    got = torch.autograd.grad((opticore.box_iou(a, b) * weights).sum() + opticore.box_area(a).sum(), (a, b))
    expected = torch.autograd.grad((plain_iou(a, b) * weights).sum() + plain_area(a).sum(), (a, b))
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=1e-12)
    assert torch.count_nonzero(got[0]) > 40  # the check compares real gradients, not zeros


def test_iou_gradient_conventions_on_ties_and_empty_unions():
    """Integer boxes on a small grid: identical boxes, shared edges, touching and zero-area
    boxes, so min / max ties (gradient split in half) and empty unions (no gradient) occur."""
    g = torch.Generator().manual_seed(11)
    xy = torch.randint(0, 4, (60, 2), generator=g).double()
    wh = torch.randint(0, 3, (60, 2), generator=g).double()  # zero widths and heights too
    boxes = torch.cat([xy, xy + wh], dim=1)
    a = boxes[:35].clone().requires_grad_()
    b = torch.cat([boxes[:10], boxes[35:]]).clone().requires_grad_()  # 10 boxes in both
    weights = torch.rand(35, 35, generator=g, dtype=torch.float64)
    got = torch.autograd.grad((opticore.box_iou(a, b) * weights).sum(), (a, b))
    expected = torch.autograd.grad((plain_iou(a, b) * weights).sum(), (a, b))
    for x, e in zip(got, expected):
        torch.testing.assert_close(x, e, rtol=1e-12, atol=1e-12)
    iou = plain_iou(a, b).detach()
    assert (iou == 1).sum() >= 5 and (iou == 0).any()  # the inputs hold the cases named above


def test_iou_gradient_of_huge_and_denormal_boxes_is_never_nan():
    huge = torch.tensor([[-1e308, -1e308, 1e308, 1e308]], dtype=torch.float64, requires_grad=True)
    half = torch.tensor([[0, 0, 1e308, 1e308]], dtype=torch.float64, requires_grad=True)
    opticore.box_iou(huge, half).sum().backward()
    # IoU = 0.25; moving huge's x1 right shrinks its area: d IoU = inter * h / union**2 = 1.25e-309.
    torch.testing.assert_close(
        huge.grad, torch.tensor([[1.25e-309, 1.25e-309, 3.125e-310, 3.125e-310]], dtype=torch.float64)
    )
    thin = torch.tensor([[0, 0, 5e-312, 1]], dtype=torch.float64, requires_grad=True)
    taller = torch.tensor([[0, 0, 5e-312, 1.5]], dtype=torch.float64, requires_grad=True)
    opticore.box_iou(thin, taller).sum().backward()
    for grad in (thin.grad, taller.grad):
        assert not grad.isnan().any()
    # The y gradients are ordinary numbers (IoU = 2/3 of two 1 and 1.5 tall boxes); the x ones,
    # proportional to 1 / 5e-312, are beyond double's range and come out as +-inf.
    torch.testing.assert_close(thin.grad[0, [1, 3]], torch.tensor([-1 / 9, 2 / 3], dtype=torch.float64))
    assert thin.grad[0, 0] == -float("inf") and thin.grad[0, 2] == float("inf")


def test_gradcheck_box_area_and_iou():
    a = random_boxes(6, 4).requires_grad_()
    b = random_boxes(5, 5).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: ops.box_area(x), (a,))
    assert torch.autograd.gradcheck(lambda x, y: ops.box_iou(x, y), (a, b))
    assert torch.autograd.gradgradcheck(lambda x, y: ops.box_iou(x, y), (a, b))


def test_float32_iou_gradient_and_mixed_dtypes():
    a = random_boxes(20, 6, torch.float32).requires_grad_()
    b = random_boxes(10, 7).requires_grad_()
    opticore.box_iou(a, b).sum().backward()
    a64 = a.detach().double().requires_grad_()
    expected_a, expected_b = torch.autograd.grad(plain_iou(a64, b).sum(), (a64, b))
    assert a.grad.dtype == torch.float32 and b.grad.dtype == torch.float64
    torch.testing.assert_close(a.grad, expected_a.float())
    torch.testing.assert_close(b.grad, expected_b, rtol=1e-12, atol=1e-12)


def test_non_differentiable_outputs_do_not_claim_gradients():
    boxes, scores, labels = inputs(50, 8, torch.float64)
    boxes.requires_grad_()
    scores.requires_grad_()
    idx, rescored = opticore.soft_nms(boxes, scores)
    assert not rescored.requires_grad and not idx.requires_grad
    assert not opticore.nms(boxes, scores, 0.5).requires_grad
    assert not opticore.batched_nms(boxes, scores, labels, 0.5).requires_grad


def test_huge_max_output_means_no_limit():
    boxes, scores, _ = inputs()
    np.testing.assert_array_equal(
        opticore.nms(boxes, scores, 0.5, max_output=2**70).numpy(), opticore.nms(boxes, scores, 0.5).numpy()
    )


def test_denormal_and_overflowing_boxes_on_the_torch_path():
    """The fuzzing findings of the core, through the torch operators: a positive but denormal
    width crashed NMS and Soft-NMS; boxes near 1e308 had IoU 0 with themselves."""
    denormal = torch.tensor([[0, 0, 5e-312, 1.0]] * 64, dtype=torch.float64)
    scores = torch.linspace(1, 0.1, 64, dtype=torch.float64)
    assert opticore.nms(denormal, scores, 0.5).tolist() == [0]
    idx, _ = opticore.soft_nms(denormal[:1], scores[:1])
    assert idx.tolist() == [0]
    huge = torch.tensor(
        [[-1e308, -1e308, 1e308, 1e308], [-1e308, -1e308, 1e308, 1e308], [0, 0, 1, 1]], dtype=torch.float64
    )
    assert opticore.box_iou(huge[:1], huge[:1]).item() == 1.0
    assert opticore.nms(huge, torch.tensor([0.9, 0.8, 0.7], dtype=torch.float64), 0.5).tolist() == [0, 2]
