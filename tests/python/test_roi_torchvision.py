"""roi_align / roi_pool against the real torchvision.ops, forward and backward, in an environment
that has torchvision (skipped elsewhere: torchvision's wheels need a CUDA build of torch). Run it
with, e.g., the side environment of the README's "Comparing with torchvision"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import opticore
from test_roi import ALIGN_CASES, random_rois

torchvision = pytest.importorskip("torchvision")


def adversarial_rois(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
    """Random RoIs plus degenerate, inverted, whole-map, huge and exactly-on-the-border ones."""
    special = np.array(
        [
            [0, 2, 2, 2, 2],  # a point
            [0, 5, 5, 1, 1],  # inverted
            [0, 0, 0, w, h],  # the whole map
            [0, -1, -1, w, h],  # exactly the valid sample range
            [0, -900, -800, 1000, 1200],  # huge
            [n - 1, w - 1, h - 1, w + 3, h + 3],  # past the last row and column
            [n - 1, -5, -5, -1.5, -1.5],  # outside, above-left
            [n - 1, 0.5, 0.5, 0.5, 7.5],  # zero width
        ]
    )
    return np.concatenate([random_rois(rng, 60, n, h, w), special])


@pytest.mark.parametrize("aligned, ratio, scale, size", ALIGN_CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_roi_align_equals_torchvision(aligned, ratio, scale, size, dtype):
    rng = np.random.default_rng(21)
    x = torch.from_numpy(rng.standard_normal((2, 6, 13, 11))).to(dtype).requires_grad_()
    rois = torch.from_numpy(adversarial_rois(rng, 2, round(13 / scale), round(11 / scale))).to(dtype)
    ours = opticore.roi_align(x, rois, size, scale, ratio, aligned)
    x_tv = x.detach().clone().requires_grad_()
    theirs = torchvision.ops.roi_align(x_tv, rois, size, scale, ratio, aligned)
    # Measured: identical forward values (the same formula in the same order and precision).
    torch.testing.assert_close(ours, theirs, rtol=0, atol=0)
    weights = torch.randn(ours.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    (ours * weights).sum().backward()
    (theirs * weights).sum().backward()
    # Gradients differ in summation order only (torchvision: g * w / count, by RoI; here
    # w * (g / count), by image and channel block). Measured: float32 9.5e-7, float64 1.8e-15.
    atol = 2e-6 if dtype == torch.float32 else 4e-15
    torch.testing.assert_close(x.grad, x_tv.grad, rtol=0, atol=atol)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_roi_pool_equals_torchvision(dtype):
    rng = np.random.default_rng(22)
    for scale, size in [(1.0, (7, 7)), (0.5, (3, 5)), (1 / 16, (2, 2)), (0.3, (6, 4))]:
        x = torch.from_numpy(rng.standard_normal((2, 5, 12, 9))).to(dtype)
        x[0, 0, 3:6, 2:5] = 1.5  # ties: the first in row-major order wins on both sides
        x[1, 1] = float("nan")  # NaN never wins
        x.requires_grad_()
        rois = torch.from_numpy(adversarial_rois(rng, 2, round(12 / scale), round(9 / scale))).to(dtype)
        out, argmax = opticore.torch.ops().roi_pool(x, rois, scale, *size)
        out_tv, argmax_tv = torch.ops.torchvision.roi_pool(x, rois, scale, *size)
        torch.testing.assert_close(out, out_tv, rtol=0, atol=0, equal_nan=True)
        assert torch.equal(argmax, argmax_tv.long())
        g = torch.randn(out.shape, dtype=dtype, generator=torch.Generator().manual_seed(2))
        (grad,) = torch.autograd.grad((opticore.roi_pool(x, rois, size, scale) * g).sum(), x)
        (grad_tv,) = torch.autograd.grad((torchvision.ops.roi_pool(x, rois, size, scale) * g).sum(), x)
        torch.testing.assert_close(grad, grad_tv, rtol=0, atol=0)  # measured: identical
