"""GIoU / DIoU / CIoU (pairwise and as losses), the focal loss and the box utilities against
torchvision's own outputs (stored by fixtures/make_detection_fixtures.py) and against a plain
PyTorch reference of torchvision's formulas (gradients included, ties too)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import opticore

torch = pytest.importorskip("torch")

FIXTURES = np.load(Path(__file__).parent / "fixtures" / "detection_ops.npz")
LOSSES = {"generalized_box_iou_loss": opticore.giou_loss, "distance_box_iou_loss": opticore.diou_loss,
          "complete_box_iou_loss": opticore.ciou_loss}
PAIRWISE = {"generalized_box_iou": opticore.generalized_box_iou, "distance_box_iou": opticore.distance_box_iou,
            "complete_box_iou": opticore.complete_box_iou}
# float32: opticore computes in double and rounds once, torchvision in float32 throughout.
TOLERANCE = {"float64": 1e-12, "float32": 2e-5}


def reference_loss(p: "torch.Tensor", t: "torch.Tensor", kind: str, eps: float = 1e-7) -> "torch.Tensor":
    """torchvision's loss formulas written out in plain torch ops (autograd gives the gradient)."""
    x1, y1, x2, y2 = p.unbind(-1)
    gx1, gy1, gx2, gy2 = t.unbind(-1)
    iw = torch.minimum(x2, gx2) - torch.maximum(x1, gx1)
    ih = torch.minimum(y2, gy2) - torch.maximum(y1, gy1)
    inter = torch.where((iw > 0) & (ih > 0), iw * ih, torch.zeros_like(iw))
    union = (x2 - x1) * (y2 - y1) + (gx2 - gx1) * (gy2 - gy1) - inter
    iou = inter / (union + eps)
    cw = torch.maximum(x2, gx2) - torch.minimum(x1, gx1)
    ch = torch.maximum(y2, gy2) - torch.minimum(y1, gy1)
    if kind == "generalized":
        return 1 - iou + (cw * ch - union) / (cw * ch + eps)
    centres = ((x1 + x2) / 2 - (gx1 + gx2) / 2) ** 2 + ((y1 + y2) / 2 - (gy1 + gy2) / 2) ** 2
    loss = 1 - iou + centres / (cw**2 + ch**2 + eps)
    if kind == "complete":
        v = 4 / math.pi**2 * (torch.atan((gx2 - gx1) / (gy2 - gy1)) - torch.atan((x2 - x1) / (y2 - y1))) ** 2
        with torch.no_grad():
            alpha = v / (1 - iou + v + eps)
        loss = loss + alpha * v
    return loss


@pytest.mark.parametrize("name", list(PAIRWISE))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pairwise_variants_equal_torchvision(name: str, dtype: str) -> None:
    a, b = FIXTURES["pair_a"].astype(dtype), FIXTURES["pair_b"].astype(dtype)
    expected = FIXTURES[f"{name}_{dtype}"]
    ours = PAIRWISE[name](a, b)
    assert ours.dtype == np.dtype(dtype) and ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=0, atol=TOLERANCE[dtype])
    tensor = PAIRWISE[name](torch.from_numpy(a), torch.from_numpy(b))
    np.testing.assert_array_equal(tensor.numpy(), ours)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_losses_and_gradients_equal_torchvision(name: str, dtype: str) -> None:
    key = f"{name}_{dtype}"
    p = torch.tensor(FIXTURES["loss_pred"], dtype=getattr(torch, dtype), requires_grad=True)
    t = torch.tensor(FIXTURES["loss_target"], dtype=getattr(torch, dtype), requires_grad=True)
    loss = LOSSES[name](p, t)
    (loss * torch.from_numpy(FIXTURES["loss_weights"]).to(p.dtype)).sum().backward()
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(loss.detach().numpy(), FIXTURES[key], rtol=tol, atol=tol)
    np.testing.assert_allclose(p.grad.numpy(), FIXTURES[key + "_grad_pred"], rtol=tol * 10, atol=tol)
    np.testing.assert_allclose(t.grad.numpy(), FIXTURES[key + "_grad_target"], rtol=tol * 10, atol=tol)
    for reduction in ("mean", "sum"):
        reduced = LOSSES[name](p.detach(), t.detach(), reduction=reduction)
        np.testing.assert_allclose(reduced.numpy(), FIXTURES[f"{key}_{reduction}"], rtol=tol, atol=tol)
    numpy_loss = LOSSES[name](FIXTURES["loss_pred"].astype(dtype), FIXTURES["loss_target"].astype(dtype))
    np.testing.assert_array_equal(numpy_loss, loss.detach().numpy())


@pytest.mark.parametrize("kind, loss", [("generalized", opticore.giou_loss), ("distance", opticore.diou_loss),
                                        ("complete", opticore.ciou_loss)])
def test_gradients_at_ties_split_like_torch(kind: str, loss) -> None:
    # Shared edges and identical coordinates: min / max ties everywhere; torch.minimum / maximum
    # split the gradient in half there, and so must the analytic backward.
    p = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 10], [2, 0, 10, 5], [0, 0, 4, 4]], dtype=torch.float64)
    t = torch.tensor([[0.0, 0, 10, 10], [0, 0, 10, 20], [2, 0, 12, 5], [4, 0, 8, 4]], dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, -0.5, 1.5], dtype=torch.float64)
    pa, ta = p.clone().requires_grad_(), t.clone().requires_grad_()
    (loss(pa, ta) * w).sum().backward()
    pr, tr = p.clone().requires_grad_(), t.clone().requires_grad_()
    (reference_loss(pr, tr, kind) * w).sum().backward()
    torch.testing.assert_close(pa.grad, pr.grad, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ta.grad, tr.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind, loss", [("generalized", opticore.giou_loss), ("distance", opticore.diou_loss),
                                        ("complete", opticore.ciou_loss)])
def test_random_pairs_against_the_reference_and_gradcheck(kind: str, loss) -> None:
    g = torch.Generator().manual_seed(7)
    xy = torch.rand(300, 2, generator=g, dtype=torch.float64) * 50
    p = torch.cat([xy, xy + 1 + torch.rand(300, 2, generator=g, dtype=torch.float64) * 30], 1)
    t = p + torch.randn(300, 4, generator=g, dtype=torch.float64) * 8  # some inverted, some apart
    pa, ta = p.clone().requires_grad_(), t.clone().requires_grad_()
    ours = loss(pa, ta)
    pr, tr = p.clone().requires_grad_(), t.clone().requires_grad_()
    ref = reference_loss(pr, tr, kind)
    torch.testing.assert_close(ours, ref, rtol=1e-12, atol=1e-12)
    ours.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(pa.grad, pr.grad, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(ta.grad, tr.grad, rtol=1e-10, atol=1e-12)
    if kind != "complete":  # CIoU's alpha is held constant: not the derivative of the value
        assert torch.autograd.gradcheck(lambda a, b: loss(a, b), (p[:20].clone().requires_grad_(),
                                                                 t[:20].clone().requires_grad_()))


def test_degenerate_rules_are_finite_and_documented() -> None:
    point = np.array([[3.0, 3.0, 3.0, 3.0]])
    assert opticore.generalized_box_iou(point, point)[0, 0] == 0.0  # area(C) = 0: the IoU, 0
    flat = np.array([[0.0, 0.0, 4.0, 0.0]])
    square = np.array([[0.0, 0.0, 4.0, 4.0]])
    # A box of zero height has angle pi/2; torchvision gives NaN here.
    v = 4 / math.pi**2 * (math.pi / 4 - math.pi / 2) ** 2
    diou = opticore.distance_box_iou(flat, square)[0, 0]
    assert opticore.complete_box_iou(flat, square)[0, 0] == pytest.approx(diou - v / (1 + v + 1e-7) * v, rel=1e-12)
    # Inverted boxes count as empty in the pairwise variants (as box_iou).
    inverted = np.array([[4.0, 0.0, 0.0, 4.0]])
    assert opticore.generalized_box_iou(inverted, square)[0, 0] == pytest.approx(0.0 - (16 - 16) / 16)
    # Losses: zero-size targets and predictions stay finite, with finite gradients.
    p = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    for loss in (opticore.giou_loss, opticore.diou_loss, opticore.ciou_loss):
        value = loss(p, t)
        value.sum().backward()
        assert torch.isfinite(value).all() and torch.isfinite(p.grad).all()
        p.grad = None


def test_empty_and_mixed_inputs() -> None:
    empty = np.zeros((0, 4), np.float32)
    assert opticore.giou_loss(empty, empty).shape == (0,)
    assert float(opticore.diou_loss(empty, empty, reduction="mean")) == 0.0
    assert opticore.complete_box_iou(empty, np.ones((3, 4), np.float32)).shape == (0, 3)
    mixed = opticore.generalized_box_iou(FIXTURES["pair_a"].astype(np.float32), FIXTURES["pair_b"])
    assert mixed.dtype == np.float64
    p = torch.tensor(FIXTURES["loss_pred"], dtype=torch.float32, requires_grad=True)
    t = torch.tensor(FIXTURES["loss_target"], dtype=torch.float64)
    loss = opticore.giou_loss(p, t)
    loss.sum().backward()
    assert loss.dtype == torch.float64 and p.grad.dtype == torch.float32
    strided = torch.from_numpy(FIXTURES["loss_pred"]).t().contiguous().t()  # column-major
    torch.testing.assert_close(opticore.ciou_loss(strided, torch.from_numpy(FIXTURES["loss_target"])),
                               opticore.ciou_loss(torch.from_numpy(FIXTURES["loss_pred"]),
                                                  torch.from_numpy(FIXTURES["loss_target"])), rtol=0, atol=0)


def test_bad_arguments_name_the_argument() -> None:
    good = np.zeros((2, 4))
    with pytest.raises(ValueError, match="boxes1: expected finite coordinates"):
        opticore.giou_loss(np.array([[0, 0, np.nan, 1], [0, 0, 1, 1]]), good)
    with pytest.raises(ValueError, match="boxes2: expected as many boxes as boxes1 \\(2\\), got 3"):
        opticore.diou_loss(good, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="boxes2: expected shape \\(N, 4\\)"):
        opticore.generalized_box_iou(good, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="eps"):
        opticore.ciou_loss(good, good, eps=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        opticore.ciou_loss(good, good, reduction="avg")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="boxes1: expected float32 or float64"):
        opticore.giou_loss(np.zeros((2, 4), np.int32), good)
    with pytest.raises(TypeError, match="boxes2: expected a torch.Tensor"):
        opticore.giou_loss(torch.zeros(2, 4), good)
    with pytest.raises(RuntimeError, match="not differentiable; train with"):
        opticore.generalized_box_iou(torch.ones(2, 4, requires_grad=True), torch.ones(2, 4)).sum().backward()


@pytest.mark.parametrize("alpha, gamma", [(0.25, 2.0), (-1.0, 0.0), (0.5, 1.5)])
def test_sigmoid_focal_loss_equals_torchvision(alpha: float, gamma: float) -> None:
    inputs, targets = FIXTURES["focal_inputs"], FIXTURES["focal_targets"]
    x = torch.tensor(inputs, requires_grad=True)
    loss = opticore.sigmoid_focal_loss(x, torch.from_numpy(targets), alpha=alpha, gamma=gamma)
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), FIXTURES[f"focal_{alpha}_{gamma}"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), FIXTURES[f"focal_{alpha}_{gamma}_grad"], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(opticore.sigmoid_focal_loss(inputs, targets, alpha=alpha, gamma=gamma),
                               FIXTURES[f"focal_{alpha}_{gamma}"], rtol=1e-12, atol=1e-15)
    assert opticore.sigmoid_focal_loss(inputs, targets, reduction="sum") == pytest.approx(
        FIXTURES["focal_0.25_2.0"].sum(), rel=1e-12)
    with pytest.raises(ValueError, match="targets: expected the shape"):
        opticore.sigmoid_focal_loss(inputs, targets[:3])


@pytest.mark.parametrize("in_fmt", ["xyxy", "xywh", "cxcywh"])
@pytest.mark.parametrize("out_fmt", ["xyxy", "xywh", "cxcywh"])
def test_box_convert_equals_torchvision(in_fmt: str, out_fmt: str) -> None:
    a = FIXTURES["pair_a"]
    expected = FIXTURES[f"convert_{in_fmt}_{out_fmt}"]
    np.testing.assert_allclose(opticore.box_convert(a, in_fmt, out_fmt), expected, rtol=1e-15, atol=1e-12)
    back = opticore.box_convert(opticore.box_convert(torch.from_numpy(a), in_fmt, out_fmt), out_fmt, in_fmt)
    np.testing.assert_allclose(back.numpy(), a, rtol=1e-12, atol=1e-9)


def test_clip_small_and_masks_equal_torchvision() -> None:
    a = FIXTURES["pair_a"]
    np.testing.assert_array_equal(opticore.clip_boxes_to_image(a, (40, 70)), FIXTURES["clip"])
    np.testing.assert_array_equal(opticore.clip_boxes_to_image(torch.from_numpy(a), (40, 70)).numpy(),
                                  FIXTURES["clip"])
    np.testing.assert_array_equal(opticore.remove_small_boxes(a, 12.0), FIXTURES["small"])
    np.testing.assert_array_equal(opticore.remove_small_boxes(torch.from_numpy(a), 12.0).numpy(), FIXTURES["small"])
    masks = FIXTURES["masks"]
    np.testing.assert_array_equal(opticore.masks_to_boxes(masks), FIXTURES["masks_boxes"])
    np.testing.assert_array_equal(opticore.masks_to_boxes(torch.from_numpy(masks)).numpy(), FIXTURES["masks_boxes"])
    empty = np.zeros((2, 5, 5), bool)
    empty[1, 4, 4] = True
    np.testing.assert_array_equal(opticore.masks_to_boxes(empty), [[0, 0, 0, 0], [4, 4, 4, 4]])
    assert opticore.masks_to_boxes(np.zeros((0, 3, 3))).shape == (0, 4)
    with pytest.raises(ValueError, match="masks: expected shape \\(N, H, W\\)"):
        opticore.masks_to_boxes(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="in_fmt"):
        opticore.box_convert(a, "xyzw", "xyxy")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="boxes: expected a floating-point dtype"):
        opticore.clip_boxes_to_image(a.astype(np.int64), (4, 4))


def test_box_loss_traces_under_compile_and_opcheck() -> None:
    from opticore.torch import ops

    p = torch.tensor(FIXTURES["loss_pred"][:16], requires_grad=True)
    t = torch.tensor(FIXTURES["loss_target"][:16])
    compiled = torch.compile(lambda a, b: opticore.ciou_loss(a, b, reduction="sum"), fullgraph=True)
    value = compiled(p, t)
    value.backward()
    torch.testing.assert_close(value, opticore.ciou_loss(p.detach(), t, reduction="sum"))
    assert torch.isfinite(p.grad).all()
    for kind in ("generalized", "distance", "complete"):
        torch.library.opcheck(ops().box_loss, (p, t, kind, 1e-7))
        torch.library.opcheck(ops().box_iou_variant, (p.detach(), t, kind, 1e-7))
