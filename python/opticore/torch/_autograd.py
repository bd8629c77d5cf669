"""Autograd for the differentiable operators: ``box_area`` and ``box_iou`` have backward
formulas (IoU-based losses train through them); ``soft_nms`` marks its outputs
non-differentiable (its decayed scores are a ranking, not a smooth function to train through).
NMS outputs are int64 indices, never differentiable.

Sub-gradient conventions follow torch's own ops on the plain formula
``w = clamp(x2 - x1, min=0)``, ``inter = clamp(min(x2) - max(x1), min=0) * ...``: ``clamp``
passes the gradient where its input is ``>= 0``, ``min`` / ``max`` split it in half on ties, and a
pair with an empty union (IoU defined as 0) gets no gradient. The backward formulas are written
in torch ops, so double backward works too.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import torch


def _sides(boxes: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    x1, y1, x2, y2 = boxes.unbind(-1)
    return x1, y1, x2, y2


def _clamp_mask(raw: torch.Tensor) -> torch.Tensor:
    return (raw >= 0).to(raw.dtype)


def _lower_share(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """d min(a, b) / d a: 1 where a < b, 1/2 on ties, else 0 (as torch.minimum)."""
    return (a < b).to(a.dtype) + 0.5 * (a == b).to(a.dtype)


def _area_backward(boxes: torch.Tensor, grad_area: torch.Tensor) -> torch.Tensor:
    """d loss / d boxes for area = clamp(x2 - x1) * clamp(y2 - y1), given d loss / d area."""
    x1, y1, x2, y2 = _sides(boxes)
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


def _box_iou_backward(ctx: Any, grad: torch.Tensor) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
    boxes1, boxes2 = ctx.saved_tensors
    # In float64, as the forward computes IoU.
    a, b, g = boxes1.double(), boxes2.double(), grad.double()
    ax1, ay1, ax2, ay2 = (s[:, None] for s in _sides(a))
    bx1, by1, bx2, by2 = (s[None, :] for s in _sides(b))
    iw_raw = torch.minimum(ax2, bx2) - torch.maximum(ax1, bx1)
    ih_raw = torch.minimum(ay2, by2) - torch.maximum(ay1, by1)
    iw, ih = iw_raw.clamp(min=0), ih_raw.clamp(min=0)
    inter = iw * ih
    area_a = (ax2 - ax1).clamp(min=0) * (ay2 - ay1).clamp(min=0)
    area_b = (bx2 - bx1).clamp(min=0) * (by2 - by1).clamp(min=0)
    union = area_a + area_b - inter
    valid = union > 0
    g = torch.where(valid, g, torch.zeros_like(g))
    union = torch.where(valid, union, torch.ones_like(union))
    # iou = inter / union with union = area_a + area_b - inter.
    d_inter = g * (union + inter) / union**2
    d_area = -g * inter / union**2
    d_iw = d_inter * ih * _clamp_mask(iw_raw)
    d_ih = d_inter * iw * _clamp_mask(ih_raw)
    # iw = min(ax2, bx2) - max(ax1, bx1): x2 sides share d_iw by min, x1 sides -d_iw by max.
    grads = []
    for (x1, y1, x2, y2), (ox1, oy1, ox2, oy2), dim, boxes, d_area_own in (
        ((ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2), 1, boxes1, d_area.sum(1)),
        ((bx1, by1, bx2, by2), (ax1, ay1, ax2, ay2), 0, boxes2, d_area.sum(0)),
    ):
        d_x1 = -(d_iw * _lower_share(-x1, -ox1)).sum(dim)
        d_y1 = -(d_ih * _lower_share(-y1, -oy1)).sum(dim)
        d_x2 = (d_iw * _lower_share(x2, ox2)).sum(dim)
        d_y2 = (d_ih * _lower_share(y2, oy2)).sum(dim)
        box = torch.stack([s.reshape(-1) for s in (x1, y1, x2, y2)], dim=-1)
        from_area = _area_backward(box, d_area_own.reshape(-1))
        direct = torch.stack([d_x1, d_y1, d_x2, d_y2], dim=-1).reshape(-1, 4)
        grads.append((direct + from_area).to(boxes.dtype))
    return grads[0], grads[1]


def _soft_nms_setup(ctx: Any, inputs: Tuple[Any, ...], output: Tuple[torch.Tensor, torch.Tensor]) -> None:
    ctx.mark_non_differentiable(*output)


def _soft_nms_backward(ctx: Any, grad_indices: Any, grad_scores: Any) -> Tuple[None, ...]:
    return (None,) * 7


torch.library.register_autograd("opticore::box_area", _box_area_backward, setup_context=_box_area_setup)
torch.library.register_autograd("opticore::box_iou", _box_iou_backward, setup_context=_box_iou_setup)
torch.library.register_autograd("opticore::soft_nms", _soft_nms_backward, setup_context=_soft_nms_setup)
