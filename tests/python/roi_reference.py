"""Plain PyTorch references of RoIAlign and RoIPool, written from the published rules (Mask R-CNN /
Fast R-CNN as torchvision defines them), by indexing: no call into any RoI kernel. Differentiable
through torch's autograd, so they give reference gradients too. Positions are computed in Python
floats (float64)."""

from __future__ import annotations

import math
from typing import Any, List, Tuple

import numpy as np
import torch


def _axis(start: Any, bin_size: Any, grid: int, bins: int, size: int) -> Tuple[torch.Tensor, ...]:
    """Per bin and sub-grid sample along one axis: low and high cells, their weights, and whether
    the sample reads the map. Shapes (bins, max(grid, 0)). Positions in the type of ``start``
    (the input's precision), the sub-grid offsets i + 0.5 in float32, as the rule is written."""
    real = type(start)
    offsets = (np.arange(max(grid, 0), dtype=np.float32) + np.float32(0.5)).astype(real)
    pos_np = (start + np.arange(bins).astype(real)[:, None] * bin_size) + offsets[None, :] * bin_size / real(grid)
    pos = torch.from_numpy(pos_np.astype(np.float64))
    valid = (pos >= -1) & (pos <= size)
    pos = pos.clamp(min=0)
    low = pos.floor().long()
    last = low >= size - 1
    low = torch.where(last, torch.full_like(low, size - 1), low)
    high = torch.where(last, low, low + 1)
    pos = torch.where(last, low.double(), pos)
    frac = pos - low.double()
    return low.clamp(min=0), high.clamp(min=0), 1 - frac, frac, valid


def roi_align(
    input: torch.Tensor, rois: torch.Tensor, output_size: Tuple[int, int], scale: float, ratio: int, aligned: bool
) -> torch.Tensor:
    ph, pw = output_size
    n, c, h, w = input.shape
    outs: List[torch.Tensor] = []
    real = np.float64 if input.dtype == torch.float64 else np.float32
    for roi in rois.double().tolist():
        offset = real(0.5 if aligned else 0.0)
        x1, y1, x2, y2 = (real(v) * real(scale) - offset for v in roi[1:])
        rw, rh = x2 - x1, y2 - y1
        if not aligned:
            rw, rh = max(rw, real(1)), max(rh, real(1))
        gh = ratio if ratio > 0 else math.ceil(rh / real(ph))
        gw = ratio if ratio > 0 else math.ceil(rw / real(pw))
        count = max(gh * gw, 1)
        out = input.new_zeros((c, ph, pw))
        if gh > 0 and gw > 0 and h > 0 and w > 0:
            yl, yh, wyl, wyh, vy = _axis(y1, rh / real(ph), gh, ph, h)
            xl, xh, wxl, wxh, vx = _axis(x1, rw / real(pw), gw, pw, w)
            f = input[int(roi[0])]

            def corner(ys: torch.Tensor, xs: torch.Tensor, f: torch.Tensor = f) -> torch.Tensor:
                return f[:, ys[:, :, None, None], xs[None, None, :, :]]  # (C, PH, GH, PW, GW)

            wy_l, wy_h = (wyl * vy)[:, :, None, None], (wyh * vy)[:, :, None, None]
            wx_l, wx_h = (wxl * vx)[None, None], (wxh * vx)[None, None]
            total = (
                wy_l * wx_l * corner(yl, xl)
                + wy_l * wx_h * corner(yl, xh)
                + wy_h * wx_l * corner(yh, xl)
                + wy_h * wx_h * corner(yh, xh)
            )
            out = total.sum(dim=(2, 4)) / count
        outs.append(out)
    return torch.stack(outs) if outs else input.new_zeros((0, c, ph, pw))


def roi_pool(input: torch.Tensor, rois: torch.Tensor, output_size: Tuple[int, int], scale: float) -> torch.Tensor:
    ph, pw = output_size
    n, c, h, w = input.shape
    outs: List[torch.Tensor] = []

    def rounded(v: float) -> int:  # half away from zero
        return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)

    # Bin edges are computed in the input's precision (bin = size / pooled, edge = p * bin), as the
    # rule is written: in float32, 7 * (3 / 7) is not 3.
    real = np.float64 if input.dtype == torch.float64 else np.float32

    def cells(p: int, size: int, pooled: int, start: int, limit: int) -> Tuple[int, int]:
        bin_size = real(size) / real(pooled)
        lo, hi = math.floor(real(p) * bin_size) + start, math.ceil(real(p + 1) * bin_size) + start
        return min(max(lo, 0), limit), min(max(hi, 0), limit)

    for roi in rois.double().tolist():
        x1, y1, x2, y2 = (rounded(float(real(v) * real(scale))) for v in roi[1:])
        rh, rw = max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1)
        bins = []
        for p in range(ph):
            row = []
            ys = cells(p, rh, ph, y1, h)
            for q in range(pw):
                xs = cells(q, rw, pw, x1, w)
                patch = input[int(roi[0]), :, ys[0] : ys[1], xs[0] : xs[1]]
                row.append(patch.amax(dim=(1, 2)) if patch.numel() else input.new_zeros((c,)))
            bins.append(torch.stack(row, dim=-1))
        outs.append(torch.stack(bins, dim=-2))
    return torch.stack(outs) if outs else input.new_zeros((0, c, ph, pw))
