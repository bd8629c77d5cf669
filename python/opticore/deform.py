"""Deformable convolution (DCN v1, and v2 with the modulation mask), with the arguments and
numbers of ``torchvision.ops.deform_conv2d``; the rules are stated in
``opticore/deform/deform_conv2d.hpp`` and below. torch tensors only (it is a training layer):
``torch.ops.opticore.deform_conv2d``, differentiable with respect to the input, the offsets, the
mask, the weight and the bias, usable under ``torch.compile`` and ``torch.export``. CPU kernels
(deterministic backward) and CUDA kernels (atomic adds in the input gradient).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple, Union

from ._args import integer
from ._tensor import is_tensor

if TYPE_CHECKING:
    import torch

__all__ = ["deform_conv2d"]

IntPair = Union[int, Tuple[int, int]]


def _pair(value: Any, name: str, low: int) -> Tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: expected an int or a pair of ints, got {value!r}")
        return integer(value[0], name, low=low), integer(value[1], name, low=low)
    v = integer(value, name, low=low)
    return v, v


def deform_conv2d(
    input: "torch.Tensor",
    offset: "torch.Tensor",
    weight: "torch.Tensor",
    bias: Optional["torch.Tensor"] = None,
    stride: IntPair = (1, 1),
    padding: IntPair = (0, 0),
    dilation: IntPair = (1, 1),
    mask: Optional["torch.Tensor"] = None,
) -> "torch.Tensor":
    """Deformable 2-D convolution: each kernel tap samples the input at its regular position moved
    by a learned offset (bilinearly, zero outside the image) and, with ``mask``, scaled by it.

    Layout (torchvision's): ``groups = C_in / weight.shape[1]``; ``offset_groups =
    offset.shape[1] / (2 * KH * KW)``; for offset group ``g`` and tap ``k = i * KW + j``,
    ``offset[:, 2 * (g * KH * KW + k)]`` is the y shift and the next channel the x shift, and
    ``mask[:, g * KH * KW + k]`` the tap's scale; input channel ``c`` uses offset group
    ``c // (C_in / offset_groups)``. Tap ``k`` of output pixel ``(oy, ox)`` samples
    ``y = oy * stride - padding + i * dilation + dy`` (likewise ``x``); a position with
    ``y <= -1``, ``y >= H``, ``x <= -1`` or ``x >= W`` (or NaN) reads 0, and corners outside the
    image count as 0.

    Args:
        input: ``(N, C_in, H, W)`` float (float16 / bfloat16 computed in float32).
        offset: ``(N, 2 * offset_groups * KH * KW, OH, OW)``.
        weight: ``(C_out, C_in / groups, KH, KW)``.
        bias: ``(C_out,)`` or None.
        stride: int or ``(sh, sw)``, >= 1.
        padding: int or ``(ph, pw)``, >= 0.
        dilation: int or ``(dh, dw)``, >= 1.
        mask: ``(N, offset_groups * KH * KW, OH, OW)`` (DCN v2) or None (v1).

    Returns:
        ``(N, C_out, OH, OW)``, ``OH = (H + 2 * ph - (dh * (KH - 1) + 1)) // sh + 1``.

    Example:
        >>> import torch, opticore
        >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
        >>> w = torch.ones(1, 1, 1, 1)
        >>> offset = torch.full((1, 2, 4, 4), 0.5)  # every tap half a pixel down and right
        >>> opticore.deform_conv2d(x, offset, w)[0, 0, 0]  # bilinear means of 2 x 2 cells (the last is half outside)
        tensor([2.5000, 3.5000, 4.5000, 2.5000])
    """
    for name, value in (("input", input), ("offset", offset), ("weight", weight)):
        if not is_tensor(value):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    dh, dw = _pair(dilation, "dilation", 1)
    if weight.dim() != 4:
        raise ValueError(f"weight: expected shape (C_out, C_in / groups, KH, KW), got {tuple(weight.shape)}")
    if bias is None:
        bias = weight.new_zeros((weight.shape[0],))
    use_mask = mask is not None
    if mask is None:
        mask = input.new_zeros((0,))
    from .torch import run

    return run("deform_conv2d", (input, weight, offset, mask, bias), sh, sw, ph, pw, dh, dw, use_mask)
