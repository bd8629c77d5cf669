"""``torch.nn`` modules over opticore's operators, drop-in for their ``torchvision.ops``
namesakes. Importing this module imports torch (``import opticore`` does not import it).

* :class:`MultiScaleRoIAlign`: RoIAlign over an FPN pyramid, levels by the canonical rule.
"""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple, Union

import torch

from .roi import multi_scale_roi_align

__all__ = ["MultiScaleRoIAlign"]


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
