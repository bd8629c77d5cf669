"""``torch.nn`` modules over opticore's operators, drop-in for their ``torchvision.ops``
namesakes. Importing this module imports torch (``import opticore`` does not import it).

* :class:`MultiScaleRoIAlign`: RoIAlign over an FPN pyramid, levels by the canonical rule.
* :class:`DeformConv2d`: deformable convolution (DCN v1, v2 with a mask).
"""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple, Union

import torch

from .deform import deform_conv2d
from .roi import multi_scale_roi_align

__all__ = ["MultiScaleRoIAlign", "DeformConv2d"]


class MultiScaleRoIAlign(torch.nn.Module):
    """RoIAlign over the maps of a feature pyramid, with the arguments and results of
    ``torchvision.ops.MultiScaleRoIAlign``.

    Each map's scale is inferred from its size against the largest image, rounded to a power of
    two (``2 ** round(log2(map_height / image_height))``); each box is pooled from the level
    :func:`opticore.fpn_levels` gives it (``aligned=False``, as torchvision).

    Args:
        featmap_names: the keys of the maps to pool from, finest first.
        output_size: ``(pooled_height, pooled_width)`` or one int.
        sampling_ratio: as :func:`opticore.roi_align`.
        canonical_scale: see :func:`opticore.fpn_levels`.
        canonical_level: see :func:`opticore.fpn_levels`.

    Example:
        >>> import torch
        >>> from opticore.nn import MultiScaleRoIAlign
        >>> pool = MultiScaleRoIAlign(["p2", "p3"], 7, 2)
        >>> maps = {"p2": torch.ones(1, 4, 64, 64), "p3": torch.ones(1, 4, 32, 32), "other": torch.ones(1, 1, 1, 1)}
        >>> pool(maps, [torch.tensor([[0.0, 0.0, 100.0, 80.0]])], [(256, 256)]).shape
        torch.Size([1, 4, 7, 7])
    """

    def __init__(
        self,
        featmap_names: List[str],
        output_size: Union[int, Tuple[int, int]],
        sampling_ratio: int,
        *,
        canonical_scale: int = 224,
        canonical_level: int = 4,
    ) -> None:
        super().__init__()
        if isinstance(featmap_names, str) or not featmap_names:
            raise TypeError(f"featmap_names: expected a non-empty list of names, got {featmap_names!r}")
        self.featmap_names = list(featmap_names)
        self.output_size = output_size
        self.sampling_ratio = sampling_ratio
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(
        self, x: Dict[str, torch.Tensor], boxes: Sequence[torch.Tensor], image_shapes: Sequence[Tuple[int, int]]
    ) -> torch.Tensor:
        """``x``: the maps by name; ``boxes``: per image ``(K_i, 4)`` in image pixels;
        ``image_shapes``: per image ``(height, width)``. Returns ``(sum K_i, C, PH, PW)``."""
        missing = [name for name in self.featmap_names if name not in x]
        if missing:
            raise KeyError(f"x: no feature map named {missing[0]!r} (has {sorted(x)})")
        if not image_shapes:
            raise ValueError("image_shapes: expected one (height, width) per image, got none")
        maps = [x[name] for name in self.featmap_names]
        largest = max(int(h) for h, _ in image_shapes)
        scales = [2.0 ** round(math.log2(m.shape[-2] / largest)) for m in maps]
        return multi_scale_roi_align(maps, list(boxes), self.output_size, scales, self.sampling_ratio,
                                     self.canonical_scale, self.canonical_level)

    def extra_repr(self) -> str:
        return (f"featmap_names={self.featmap_names}, output_size={self.output_size}, "
                f"sampling_ratio={self.sampling_ratio}")


def _pair(value: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


class DeformConv2d(torch.nn.Module):
    """Deformable convolution layer with the arguments of ``torchvision.ops.DeformConv2d``: the
    weight ``(out_channels, in_channels / groups, KH, KW)`` and bias are learned, the offsets (and
    DCN v2's mask) are inputs, usually predicted by a plain convolution beside it. Initialised
    as torchvision's (Kaiming-uniform weight, uniform bias).

    Args:
        in_channels: input channels, divisible by ``groups``.
        out_channels: output channels, divisible by ``groups``.
        kernel_size: int or ``(KH, KW)``.
        stride: int or pair, >= 1.
        padding: int or pair, >= 0.
        dilation: int or pair, >= 1.
        groups: channel groups of the convolution.
        bias: whether to learn a bias.

    Example:
        >>> import torch
        >>> from opticore.nn import DeformConv2d
        >>> layer = DeformConv2d(8, 16, 3, padding=1)
        >>> x = torch.randn(1, 8, 10, 10)
        >>> offset = torch.zeros(1, 2 * 9, 10, 10)  # zero offsets: a plain 3x3 convolution
        >>> plain = torch.nn.functional.conv2d(x, layer.weight, layer.bias, padding=1)
        >>> bool(torch.allclose(layer(x, offset), plain, atol=1e-5))
        True
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Union[int, Tuple[int, int]],
        stride: Union[int, Tuple[int, int]] = 1,
        padding: Union[int, Tuple[int, int]] = 0,
        dilation: Union[int, Tuple[int, int]] = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if in_channels % groups != 0 or out_channels % groups != 0:
            raise ValueError(f"groups: expected to divide in_channels ({in_channels}) and out_channels "
                             f"({out_channels}), got {groups}")
        self.stride, self.padding, self.dilation = _pair(stride), _pair(padding), _pair(dilation)
        kh, kw = _pair(kernel_size)
        self.weight = torch.nn.Parameter(torch.empty(out_channels, in_channels // groups, kh, kw))
        self.bias = torch.nn.Parameter(torch.empty(out_channels)) if bias else None
        torch.nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = (in_channels // groups) * kh * kw
            torch.nn.init.uniform_(self.bias, -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))

    def forward(self, input: torch.Tensor, offset: torch.Tensor, mask: "torch.Tensor | None" = None) -> torch.Tensor:
        """``input (N, C_in, H, W)``, ``offset (N, 2 * offset_groups * KH * KW, OH, OW)``, optional
        ``mask (N, offset_groups * KH * KW, OH, OW)``; see :func:`opticore.deform_conv2d`."""
        return deform_conv2d(input, offset, self.weight, self.bias, self.stride, self.padding, self.dilation, mask)
