"""Autograd for the differentiable operators: ``box_area`` and ``box_iou`` have backward
formulas (IoU-based losses train through them), and ``box_loss`` (GIoU / DIoU / CIoU) has its
backward operator, ``box_loss_backward`` (not differentiable itself: no double backward);
``deform_conv2d`` has its backward operator (gradients for the input, offsets, mask, weight and
bias; no double backward, as torchvision); ``box_iou_variant`` (pairwise GIoU / DIoU / CIoU, a
matching cost) is not differentiable: its
backward raises, naming the losses to train with instead. ``soft_nms`` marks its outputs
non-differentiable (its decayed scores are a ranking, not a smooth function to train through).
NMS outputs are int64 indices, never differentiable.

``roi_align`` and ``roi_pool`` are differentiable with respect to their input (not their RoIs,
as in torchvision) through their backward operators, which are linear in the incoming gradient:
their own derivatives are the forward operators again (RoIAlign) or a gather at the argmax
(RoIPool), so double backward works too.

Sub-gradient conventions, on the plain formula ``w = relu(x2 - x1)``,
``inter = relu(min(x2) - max(x1)) * ...``: a clamped side passes the gradient only where it is
``> 0`` (as ``relu``), ``min`` / ``max`` split it in half on ties (as ``torch.minimum`` /
``torch.maximum``), and a pair with an empty union (IoU defined as 0) gets no gradient. The
backward formulas are written in torch ops, so double backward works too.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import torch


def _clamp_mask(raw: torch.Tensor) -> torch.Tensor:
    """d clamp(raw, min=0) / d raw, taken as 0 at raw == 0 (as relu; torch's own clamp changed
    its choice at the boundary between releases)."""
    return (raw > 0).to(raw.dtype)


def _lower_share(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """d min(a, b) / d a: 1 where a < b, 1/2 on ties, else 0 (as torch.minimum)."""
    return (a < b).to(a.dtype) + 0.5 * (a == b).to(a.dtype)


def _area_backward(boxes: torch.Tensor, grad_area: torch.Tensor) -> torch.Tensor:
    """d loss / d boxes for area = clamp(x2 - x1) * clamp(y2 - y1), given d loss / d area
    (boxes ``(..., 4)``, grad_area ``(...)``)."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    w_raw, h_raw = x2 - x1, y2 - y1
    d_w = grad_area * h_raw.clamp(min=0) * _clamp_mask(w_raw)
    d_h = grad_area * w_raw.clamp(min=0) * _clamp_mask(h_raw)
    return torch.stack([-d_w, -d_h, d_w, d_h], dim=-1)


def _box_area_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    ctx.save_for_backward(inputs[0])


def _box_area_backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
    (boxes,) = ctx.saved_tensors
    return _area_backward(boxes, grad)


def _box_iou_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    ctx.save_for_backward(inputs[0], inputs[1])


def _times_pow2(x: torch.Tensor, exponent: torch.Tensor) -> torch.Tensor:
    """x * 2**exponent, the power applied in two halves so that no factor overflows (exponents
    reach about +-1075 for denormal and huge coordinates; each half stays in double's range)."""
    half = torch.div(exponent, 2, rounding_mode="floor")
    return x * torch.pow(2.0, half.double()) * torch.pow(2.0, (exponent - half).double())


def _box_iou_backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    boxes1, boxes2 = ctx.saved_tensors
    # Per pair and per axis, in float64 (as the forward), the coordinates are scaled by the power
    # of two that brings the largest to [0.5, 1): IoU is unchanged by scaling an axis, so
    # d IoU / d x = 2**-e * d IoU / d (scaled x). No width, area or union overflows for boxes near
    # 1e308 nor underflows for denormal ones; a gradient that is itself beyond double's range
    # comes out as +-inf, never NaN.
    a = boxes1.double()[:, None, :].expand(-1, boxes2.size(0), -1)
    b = boxes2.double()[None, :, :].expand(boxes1.size(0), -1, -1)
    largest = torch.maximum(a.abs(), b.abs())
    exponent = torch.frexp(torch.maximum(largest[..., :2], largest[..., 2:])).exponent.long()  # (N, M, [x, y])
    per_coordinate = exponent.repeat(1, 1, 2)  # x1, y1, x2, y2
    a, b = _times_pow2(a, -per_coordinate), _times_pow2(b, -per_coordinate)
    ax1, ay1, ax2, ay2 = a.unbind(-1)
    bx1, by1, bx2, by2 = b.unbind(-1)
    iw_raw = torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)
    ih_raw = torch.minimum(ay2, by2) - torch.maximum(ay1, by1)
    iw, ih = iw_raw.clamp(min=0), ih_raw.clamp(min=0)
    inter = iw * ih
    area_a = (ax2 - ax1).clamp(min=0) * (ay2 - ay1).clamp(min=0)
    area_b = (bx2 - bx1).clamp(min=0) * (by2 - by1).clamp(min=0)
    union = area_a + area_b - inter
    valid = union > 0
    union = torch.where(valid, union, torch.ones_like(union))
    g = torch.where(valid, grad.double(), torch.zeros_like(union))
    iou = inter / union
    # iou = inter / union with union = area_a + area_b - inter.
    d_inter = g * (1 + iou) / union
    d_area = -g * iou / union
    d_iw = d_inter * ih * _clamp_mask(iw_raw)
    d_ih = d_inter * iw * _clamp_mask(ih_raw)
    # iw = min(ax2, bx2) - max(ax1, bx1): the x2 sides share d_iw as min does, the x1 sides
    # -d_iw as max does; likewise for y.
    grads = []
    for own, other, boxes, sum_dim in ((a, b, boxes1, 1), (b, a, boxes2, 0)):
        x1, y1, x2, y2 = own.unbind(-1)
        ox1, oy1, ox2, oy2 = other.unbind(-1)
        direct = torch.stack(
            [
                -d_iw * _lower_share(-x1, -ox1),
                -d_ih * _lower_share(-y1, -oy1),
                d_iw * _lower_share(x2, ox2),
                d_ih * _lower_share(y2, oy2),
            ],
            dim=-1,
        )
        scaled = direct + _area_backward(own, d_area)
        grads.append(_times_pow2(scaled, -per_coordinate).sum(sum_dim).to(boxes.dtype))
    return grads[0], grads[1]


def _box_loss_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    boxes1, boxes2, kind, eps = inputs
    ctx.save_for_backward(boxes1, boxes2)
    ctx.kind, ctx.eps = kind, eps


def _box_loss_backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
    boxes1, boxes2 = ctx.saved_tensors
    grad1, grad2 = torch.ops.opticore.box_loss_backward(grad, boxes1, boxes2, ctx.kind, ctx.eps)
    return grad1.to(boxes1.dtype), grad2.to(boxes2.dtype), None, None


def _box_iou_variant_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    ctx.kind = inputs[2]


def _box_iou_variant_backward(ctx: Any, grad: torch.Tensor) -> Tuple[None, ...]:
    raise RuntimeError(
        f"opticore's pairwise {ctx.kind} box IoU is not differentiable; train with the matching loss "
        "(opticore.giou_loss / diou_loss / ciou_loss on matched pairs) or detach the boxes"
    )


def _position_sensitive_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    # ps_roi_align (input, rois, spatial_scale, PH, PW, sampling_ratio) or ps_roi_pool (the same
    # without sampling_ratio): the options after the input shape in the backward's signature.
    input, rois, spatial_scale, pooled_height, pooled_width, *sampling = inputs
    ctx.save_for_backward(rois)
    ctx.input_shape = tuple(input.shape)
    ctx.options = (spatial_scale, pooled_height, pooled_width)
    ctx.sampling = tuple(sampling)


def _position_sensitive_backward(name: str) -> Any:
    backward = getattr(torch.ops.opticore, f"{name}_backward")

    def run(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        (rois,) = ctx.saved_tensors
        grad_input = backward(grad, rois, *ctx.options, *ctx.input_shape, *ctx.sampling)
        return (grad_input,) + (None,) * (4 + len(ctx.sampling))

    return run


def _position_sensitive_backward_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    grad, rois, spatial_scale, pooled_height, pooled_width, _, _, _, _, *sampling = inputs
    ctx.save_for_backward(rois)
    ctx.options = (spatial_scale, pooled_height, pooled_width, *sampling)


def _position_sensitive_double_backward(name: str) -> Any:
    # The backward operators are the transposes of the linear forward maps: their derivative is
    # the forward operator again.
    forward = getattr(torch.ops.opticore, name)

    def run(ctx: Any, grad_grad_input: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        (rois,) = ctx.saved_tensors
        return (forward(grad_grad_input, rois, *ctx.options),) + (None,) * (5 + len(ctx.options))

    return run


def _deform_conv2d_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    input, weight, offset, mask, bias, *options = inputs
    ctx.save_for_backward(input, weight, offset, mask, bias)
    ctx.options = tuple(options)


def _deform_conv2d_backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
    grads = torch.ops.opticore.deform_conv2d_backward(grad, *ctx.saved_tensors, *ctx.options)
    return tuple(grads) + (None,) * len(ctx.options)


def _soft_nms_setup(ctx: Any, inputs: Tuple[Any, ...], output: Tuple[torch.Tensor, torch.Tensor]) -> None:
    ctx.mark_non_differentiable(*output)


def _soft_nms_backward(ctx: Any, grad_indices: Any, grad_scores: Any) -> Tuple[None, ...]:
    return (None,) * 7


def _roi_align_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    input, rois, spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned = inputs
    ctx.save_for_backward(rois)
    ctx.input_shape = tuple(input.shape)
    ctx.options = (spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)


def _roi_align_backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
    (rois,) = ctx.saved_tensors
    spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned = ctx.options
    grad_input = torch.ops.opticore.roi_align_backward(
        grad, rois, spatial_scale, pooled_height, pooled_width, *ctx.input_shape, sampling_ratio, aligned
    )
    return (grad_input,) + (None,) * 6


def _roi_align_backward_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    grad, rois, spatial_scale, pooled_height, pooled_width, _, _, _, _, sampling_ratio, aligned = inputs
    ctx.save_for_backward(rois)
    ctx.options = (spatial_scale, pooled_height, pooled_width, sampling_ratio, aligned)


def _roi_align_double_backward(ctx: Any, grad_grad_input: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
    # roi_align_backward is the transpose of the linear map roi_align: its derivative is roi_align.
    (rois,) = ctx.saved_tensors
    return (torch.ops.opticore.roi_align(grad_grad_input, rois, *ctx.options),) + (None,) * 10


def _roi_pool_setup(ctx: Any, inputs: Tuple[Any, ...], output: Tuple[torch.Tensor, torch.Tensor]) -> None:
    input, rois, spatial_scale, pooled_height, pooled_width = inputs
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(rois, output[1])
    ctx.input_shape = tuple(input.shape)
    ctx.options = (spatial_scale, pooled_height, pooled_width)


def _roi_pool_backward(ctx: Any, grad: torch.Tensor, grad_argmax: Any) -> Tuple[Optional[torch.Tensor], ...]:
    rois, argmax = ctx.saved_tensors
    grad_input = torch.ops.opticore.roi_pool_backward(grad, rois, argmax, *ctx.options, *ctx.input_shape)
    return (grad_input,) + (None,) * 4


def _roi_pool_backward_setup(ctx: Any, inputs: Tuple[Any, ...], output: torch.Tensor) -> None:
    ctx.save_for_backward(inputs[1], inputs[2])


def _roi_pool_double_backward(ctx: Any, grad_grad_input: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
    # roi_pool_backward scatters grad to the argmax of each bin: its derivative gathers from there.
    rois, argmax = ctx.saved_tensors
    planes = grad_grad_input.flatten(2)[rois[:, 0].long()]  # (K, C, H * W)
    gathered = planes.gather(2, argmax.clamp(min=0).flatten(2)).view_as(argmax)
    return (torch.where(argmax >= 0, gathered, torch.zeros_like(gathered)),) + (None,) * 9


torch.library.register_autograd("opticore::box_area", _box_area_backward, setup_context=_box_area_setup)
torch.library.register_autograd("opticore::box_iou", _box_iou_backward, setup_context=_box_iou_setup)
torch.library.register_autograd(
    "opticore::box_iou_variant", _box_iou_variant_backward, setup_context=_box_iou_variant_setup
)
for _name in ("ps_roi_align", "ps_roi_pool"):
    torch.library.register_autograd(
        f"opticore::{_name}", _position_sensitive_backward(_name), setup_context=_position_sensitive_setup
    )
    torch.library.register_autograd(
        f"opticore::{_name}_backward",
        _position_sensitive_double_backward(_name),
        setup_context=_position_sensitive_backward_setup,
    )
torch.library.register_autograd(
    "opticore::deform_conv2d", _deform_conv2d_backward, setup_context=_deform_conv2d_setup
)
torch.library.register_autograd("opticore::box_loss", _box_loss_backward, setup_context=_box_loss_setup)
torch.library.register_autograd("opticore::soft_nms", _soft_nms_backward, setup_context=_soft_nms_setup)
torch.library.register_autograd("opticore::roi_align", _roi_align_backward, setup_context=_roi_align_setup)
torch.library.register_autograd(
    "opticore::roi_align_backward", _roi_align_double_backward, setup_context=_roi_align_backward_setup
)
torch.library.register_autograd("opticore::roi_pool", _roi_pool_backward, setup_context=_roi_pool_setup)
torch.library.register_autograd(
    "opticore::roi_pool_backward", _roi_pool_double_backward, setup_context=_roi_pool_backward_setup
)
