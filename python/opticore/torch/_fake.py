"""Fake (meta) kernels: output shapes and dtypes of the operators without running them, so that
``torch.compile(fullgraph=True)`` and ``torch.export`` can trace through them. NMS-like outputs
have a data-dependent length, declared as an unbacked dynamic size."""

from __future__ import annotations

from typing import Optional, Tuple

import torch


def _check_boxes(boxes: torch.Tensor, name: str = "boxes") -> None:
    torch._check_type(
        boxes.dtype in (torch.float32, torch.float64), lambda: f"{name}: expected float32 or float64, got {boxes.dtype}"
    )
    torch._check_value(
        boxes.dim() == 2 and boxes.size(1) == 4, lambda: f"{name}: expected shape (N, 4), got {tuple(boxes.shape)}"
    )


def _check_per_box(values: torch.Tensor, n: "int | torch.SymInt", name: str, integer: bool = False) -> None:
    """scores / labels: one value per box, float (scores) or integer (labels)."""
    if integer:
        torch._check_type(
            not (values.dtype.is_floating_point or values.dtype.is_complex or values.dtype == torch.bool),
            lambda: f"{name}: expected an integer tensor, got {values.dtype}",
        )
    else:
        torch._check_type(
            values.dtype in (torch.float32, torch.float64),
            lambda: f"{name}: expected float32 or float64, got {values.dtype}",
        )
    torch._check_value(values.dim() == 1, lambda: f"{name}: expected shape (N,), got {tuple(values.shape)}")
    torch._check_value(values.size(0) == n, lambda: f"{name}: expected {n} values (one per box), got {values.size(0)}")


def _dynamic_length(limit: Optional[int], n: "int | torch.SymInt") -> "int | torch.SymInt":
    """The length of an NMS-like output: an unbacked size in [0, min(n, limit)].

    When that range is statically empty (no boxes, or ``max_output=0``) the length is the plain
    int 0, not an unbacked size: inductor rejects any index of possibly non-zero length into a
    dimension of size 0, so ``boxes[keep]`` would not compile at N = 0. Bounds must be plain ints,
    so a symbolic n is left out of the upper bound."""
    bounds = [b for b in (n, limit) if isinstance(b, int)]
    upper = min(bounds) if bounds else None
    if upper is not None and upper <= 0:
        return 0
    try:
        ctx = torch.library.get_ctx()
    except RuntimeError:  # plain meta tensors, outside torch.compile / torch.export tracing
        raise ValueError(
            "boxes: NMS on meta tensors has no defined output length (it depends on the data); "
            "trace it with torch.compile or torch.export, or run it on real tensors"
        ) from None
    return ctx.new_dynamic_size(min=0, max=upper)


def _kept_indices(boxes: torch.Tensor, scores: torch.Tensor, max_output: Optional[int]) -> torch.Tensor:
    """NMS output: int64 indices of data-dependent length, at most min(N, max_output)."""
    _check_boxes(boxes)
    _check_per_box(scores, boxes.size(0), "scores")
    return boxes.new_empty((_dynamic_length(max_output, boxes.size(0)),), dtype=torch.int64)


@torch.library.register_fake("opticore::box_area")
def _box_area(boxes: torch.Tensor) -> torch.Tensor:
    _check_boxes(boxes)
    return boxes.new_empty((boxes.size(0),))


@torch.library.register_fake("opticore::box_iou")
def _box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    dtype = torch.promote_types(boxes1.dtype, boxes2.dtype)
    return boxes1.new_empty((boxes1.size(0), boxes2.size(0)), dtype=dtype)


@torch.library.register_fake("opticore::nms")
def _nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_threshold: float,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
) -> torch.Tensor:
    return _kept_indices(boxes, scores, max_output)


def _check_eps(kind: str, eps: float) -> None:
    torch._check_value(kind in ("generalized", "distance", "complete"),
                       lambda: f"kind: expected 'generalized', 'distance' or 'complete', got {kind!r}")
    torch._check_value(eps >= 0 and eps < float("inf"), lambda: f"eps: expected a finite number >= 0, got {eps}")


def _pair_dtype(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.dtype:
    return boxes1.dtype if boxes1.dtype == boxes2.dtype else torch.float64


@torch.library.register_fake("opticore::box_iou_variant")
def _box_iou_variant(boxes1: torch.Tensor, boxes2: torch.Tensor, kind: str, eps: float) -> torch.Tensor:
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    _check_eps(kind, eps)
    return boxes1.new_empty((boxes1.size(0), boxes2.size(0)), dtype=_pair_dtype(boxes1, boxes2))


def _check_pairs(boxes1: torch.Tensor, boxes2: torch.Tensor, kind: str, eps: float) -> None:
    _check_boxes(boxes1, "boxes1")
    _check_boxes(boxes2, "boxes2")
    torch._check_value(boxes1.size(0) == boxes2.size(0),
                       lambda: f"boxes2: expected as many boxes as boxes1 ({boxes1.size(0)}), got {boxes2.size(0)}")
    _check_eps(kind, eps)


@torch.library.register_fake("opticore::box_loss")
def _box_loss(boxes1: torch.Tensor, boxes2: torch.Tensor, kind: str, eps: float) -> torch.Tensor:
    _check_pairs(boxes1, boxes2, kind, eps)
    return boxes1.new_empty((boxes1.size(0),), dtype=_pair_dtype(boxes1, boxes2))


@torch.library.register_fake("opticore::box_loss_backward")
def _box_loss_backward(
    grad: torch.Tensor, boxes1: torch.Tensor, boxes2: torch.Tensor, kind: str, eps: float
) -> Tuple[torch.Tensor, torch.Tensor]:
    _check_pairs(boxes1, boxes2, kind, eps)
    dtype = _pair_dtype(boxes1, boxes2)
    return boxes1.new_empty(boxes1.shape, dtype=dtype), boxes1.new_empty(boxes1.shape, dtype=dtype)


@torch.library.register_fake("opticore::batched_nms")
def _batched_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    iou_threshold: float,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
) -> torch.Tensor:
    _check_per_box(labels, boxes.size(0), "labels", integer=True)
    return _kept_indices(boxes, scores, max_output)


@torch.library.register_fake("opticore::soft_nms")
def _soft_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    method: str = "gaussian",
    sigma: float = 0.5,
    iou_threshold: float = 0.3,
    score_threshold: float = 0.001,
    max_output: Optional[int] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    _check_boxes(boxes)
    _check_per_box(scores, boxes.size(0), "scores")
    k = _dynamic_length(max_output, boxes.size(0))
    return boxes.new_empty((k,), dtype=torch.int64), scores.new_empty((k,))


_FEATURE_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _check_features(t: torch.Tensor, name: str, shape: str) -> None:
    torch._check_type(t.dtype in _FEATURE_DTYPES, lambda: f"{name}: expected a float tensor, got {t.dtype}")
    torch._check_value(t.dim() == 4, lambda: f"{name}: expected shape {shape}, got {tuple(t.shape)}")


def _pooled_output(
    input: torch.Tensor, rois: torch.Tensor, pooled_height: int, pooled_width: int, dtype: torch.dtype
) -> torch.Tensor:
    _check_features(input, "input", "(N, C, H, W)")
    torch._check_type(rois.dtype in _FEATURE_DTYPES, lambda: f"rois: expected a float tensor, got {rois.dtype}")
    torch._check_value(
        rois.dim() == 2 and rois.size(1) == 5, lambda: f"rois: expected shape (K, 5), got {tuple(rois.shape)}"
    )
    torch._check_value(
        pooled_height >= 1 and pooled_width >= 1,
        lambda: f"output_size: expected positive sizes, got ({pooled_height}, {pooled_width})",
    )
    return input.new_empty((rois.size(0), input.size(1), pooled_height, pooled_width), dtype=dtype)


@torch.library.register_fake("opticore::roi_align")
def _roi_align(
    input: torch.Tensor,
    rois: torch.Tensor,
    spatial_scale: float,
    pooled_height: int,
    pooled_width: int,
    sampling_ratio: int,
    aligned: bool,
) -> torch.Tensor:
    return _pooled_output(input, rois, pooled_height, pooled_width, input.dtype)


@torch.library.register_fake("opticore::roi_pool")
def _roi_pool(
    input: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int, pooled_width: int
) -> Tuple[torch.Tensor, torch.Tensor]:
    output = _pooled_output(input, rois, pooled_height, pooled_width, input.dtype)
    return output, torch.empty_like(output, dtype=torch.int64)


def _input_gradient(grad: torch.Tensor, batch_size: int, channels: int, height: int, width: int) -> torch.Tensor:
    _check_features(grad, "grad", "(K, C, PH, PW)")
    return grad.new_empty((batch_size, channels, height, width))


@torch.library.register_fake("opticore::roi_align_backward")
def _roi_align_backward(
    grad: torch.Tensor,
    rois: torch.Tensor,
    spatial_scale: float,
    pooled_height: int,
    pooled_width: int,
    batch_size: int,
    channels: int,
    height: int,
    width: int,
    sampling_ratio: int,
    aligned: bool,
) -> torch.Tensor:
    return _input_gradient(grad, batch_size, channels, height, width)


@torch.library.register_fake("opticore::roi_pool_backward")
def _roi_pool_backward(
    grad: torch.Tensor,
    rois: torch.Tensor,
    argmax: torch.Tensor,
    spatial_scale: float,
    pooled_height: int,
    pooled_width: int,
    batch_size: int,
    channels: int,
    height: int,
    width: int,
) -> torch.Tensor:
    return _input_gradient(grad, batch_size, channels, height, width)


def _ps_output(input: torch.Tensor, rois: torch.Tensor, pooled_height: int, pooled_width: int) -> torch.Tensor:
    out = _pooled_output(input, rois, pooled_height, pooled_width, input.dtype)
    bins = pooled_height * pooled_width
    torch._check_value(
        input.size(1) % bins == 0,
        lambda: f"input: expected channels divisible by output_size[0] * output_size[1] = {bins}, got {input.size(1)}",
    )
    return out.new_empty((rois.size(0), input.size(1) // bins, pooled_height, pooled_width))


@torch.library.register_fake("opticore::ps_roi_align")
def _ps_roi_align(
    input: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int, pooled_width: int,
    sampling_ratio: int,
) -> torch.Tensor:
    return _ps_output(input, rois, pooled_height, pooled_width)


@torch.library.register_fake("opticore::ps_roi_pool")
def _ps_roi_pool(
    input: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int, pooled_width: int
) -> torch.Tensor:
    return _ps_output(input, rois, pooled_height, pooled_width)


@torch.library.register_fake("opticore::ps_roi_align_backward")
def _ps_roi_align_backward(
    grad: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int, pooled_width: int,
    batch_size: int, channels: int, height: int, width: int, sampling_ratio: int,
) -> torch.Tensor:
    return _input_gradient(grad, batch_size, channels, height, width)


@torch.library.register_fake("opticore::ps_roi_pool_backward")
def _ps_roi_pool_backward(
    grad: torch.Tensor, rois: torch.Tensor, spatial_scale: float, pooled_height: int, pooled_width: int,
    batch_size: int, channels: int, height: int, width: int,
) -> torch.Tensor:
    return _input_gradient(grad, batch_size, channels, height, width)


@torch.library.register_fake("opticore::deform_conv2d")
def _deform_conv2d(
    input: torch.Tensor, weight: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor,
    stride_h: int, stride_w: int, padding_h: int, padding_w: int, dilation_h: int, dilation_w: int, use_mask: bool,
) -> torch.Tensor:
    _check_features(input, "input", "(N, C_in, H, W)")
    _check_features(weight, "weight", "(C_out, C_in / groups, KH, KW)")
    _check_features(offset, "offset", "(N, 2 * offset_groups * KH * KW, OH, OW)")
    kh, kw = weight.shape[2], weight.shape[3]
    oh = (input.shape[2] + 2 * padding_h - (dilation_h * (kh - 1) + 1)) // stride_h + 1
    ow = (input.shape[3] + 2 * padding_w - (dilation_w * (kw - 1) + 1)) // stride_w + 1
    torch._check_value(oh >= 1 and ow >= 1, lambda: f"input: the output would be empty ({oh} x {ow})")
    torch._check_value(
        tuple(offset.shape[2:]) == (oh, ow),
        lambda: f"offset: expected OH x OW = {oh} x {ow}, got {tuple(offset.shape)}",
    )
    return input.new_empty((input.shape[0], weight.shape[0], oh, ow))


@torch.library.register_fake("opticore::deform_conv2d_backward")
def _deform_conv2d_backward(
    grad: torch.Tensor, input: torch.Tensor, weight: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor,
    bias: torch.Tensor, stride_h: int, stride_w: int, padding_h: int, padding_w: int, dilation_h: int,
    dilation_w: int, use_mask: bool,
) -> Tuple[torch.Tensor, ...]:
    return tuple(t.new_empty(t.shape) for t in (input, weight, offset, mask, bias))
