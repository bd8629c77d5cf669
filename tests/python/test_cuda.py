"""The CUDA kernels (NMS, batched NMS, RoIAlign, RoIPool, their position-sensitive forms,
deform_conv2d) against the CPU kernels. Skipped without a
CUDA device, apart from the check that the CUDA kernels are registered exactly when they were
compiled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import opticore
import opticore.torch
from test_roi import ALIGN_CASES, random_rois

CUDA_OPERATORS = ("nms", "batched_nms", "roi_align", "roi_align_backward", "roi_pool", "roi_pool_backward",
                  "ps_roi_align", "ps_roi_align_backward", "ps_roi_pool", "ps_roi_pool_backward", "deform_conv2d",
                  "deform_conv2d_backward")


def test_cuda_kernels_are_registered_when_compiled():
    opticore.torch.load()
    compiled = opticore.build_info()["cuda"]
    for name in CUDA_OPERATORS:
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"opticore::{name}", "CUDA") is compiled
    # Operators without CUDA kernels are computed on the CPU (opticore.torch.run moves the inputs).
    assert not torch._C._dispatch_has_kernel_for_dispatch_key("opticore::soft_nms", "CUDA")


gpu = pytest.mark.skipif(
    not (torch.cuda.is_available() and opticore.build_info()["cuda"]), reason="needs a CUDA device and CUDA kernels"
)


def detector_boxes(rng: np.random.Generator, n: int, dtype: np.dtype) -> tuple:
    centre = rng.uniform(0, 500, (max(1, n // 20), 2))[rng.integers(0, max(1, n // 20), n)]
    size = rng.uniform(10, 60, (n, 2))
    boxes = np.hstack([centre - size / 2, centre + size / 2]).astype(dtype)
    scores = np.round(rng.random(n), 2).astype(dtype)  # many ties
    return boxes, scores


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 3000])
def test_nms_matches_cpu(n, dtype):
    rng = np.random.default_rng(n)
    boxes, scores = detector_boxes(rng, n, dtype)
    labels = rng.integers(0, 5, n)
    b, s, lab = (torch.from_numpy(a) for a in (boxes, scores, labels))
    for kwargs in ({}, {"score_threshold": 0.5}, {"max_output": 7}):
        expected = opticore.nms(b, s, 0.5, **kwargs)
        got = opticore.nms(b.cuda(), s.cuda(), 0.5, **kwargs)
        assert got.is_cuda and torch.equal(got.cpu(), expected)
        expected = opticore.batched_nms(b, s, lab, 0.5, **kwargs)
        got = opticore.batched_nms(b.cuda(), s.cuda(), lab.cuda(), 0.5, **kwargs)
        assert torch.equal(got.cpu(), expected)


@gpu
def test_nms_rejects_nan_on_the_device():
    boxes = torch.tensor([[0, 0, 1, 1], [0, 0, float("nan"), 1]], device="cuda")
    with pytest.raises(ValueError, match="boxes: expected finite coordinates"):
        opticore.nms(boxes, torch.ones(2, device="cuda"), 0.5)


@gpu
@pytest.mark.parametrize("aligned, ratio, scale, size", ALIGN_CASES)
def test_roi_ops_match_cpu(aligned, ratio, scale, size):
    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.standard_normal((2, 6, 13, 11))).requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 50, 2, 13, 11, scale))
    xc = x.detach().cuda().requires_grad_()
    out = opticore.roi_align(x, rois, size, scale, ratio, aligned)
    out_cuda = opticore.roi_align(xc, rois.cuda(), size, scale, ratio, aligned)
    torch.testing.assert_close(out_cuda.cpu(), out, rtol=0, atol=1e-12)  # FMA contraction on the device
    g = torch.from_numpy(rng.standard_normal(out.shape))
    (out * g).sum().backward()
    (out_cuda * g.cuda()).sum().backward()
    torch.testing.assert_close(xc.grad.cpu(), x.grad, rtol=0, atol=1e-12)  # atomic adds in any order
    pooled = opticore.roi_pool(x.detach(), rois, size, scale)
    torch.testing.assert_close(opticore.roi_pool(xc.detach(), rois.cuda(), size, scale).cpu(), pooled, rtol=0, atol=0)


@gpu
def test_roi_ops_on_cuda_gradcheck_and_half():
    rng = np.random.default_rng(6)
    x = torch.from_numpy(rng.standard_normal((1, 2, 6, 5))).cuda().requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 4, 1, 6, 5)).cuda()
    assert torch.autograd.gradcheck(lambda t: opticore.roi_align(t, rois, 2, 1.0, 2, True), (x,))
    assert torch.autograd.gradcheck(lambda t: opticore.roi_pool(t, rois, 2), (x,))
    half = x.detach().half()
    out = opticore.roi_align(half, rois, 3)
    assert out.dtype == torch.float16 and out.is_cuda
    torch.testing.assert_close(out, opticore.roi_align(half.float(), rois.float(), 3).half(), rtol=0, atol=1e-3)
    with pytest.raises(ValueError, match="rois: expected"):
        opticore.roi_align(x, torch.tensor([[3.0, 0, 0, 1, 1]], device="cuda"), 2)


@gpu
@pytest.mark.parametrize("ratio, scale", [(-1, 1.0), (2, 0.5)])
def test_position_sensitive_ops_match_cpu(ratio, scale):
    rng = np.random.default_rng(7)
    x = torch.from_numpy(rng.standard_normal((2, 3 * 3 * 2, 13, 11))).requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 40, 2, 13, 11, scale))
    xc = x.detach().cuda().requires_grad_()
    for op, args in ((opticore.ps_roi_align, ((3, 2), scale, ratio)), (opticore.ps_roi_pool, ((3, 2), scale))):
        out = op(x, rois, *args)
        out_cuda = op(xc, rois.cuda(), *args)
        torch.testing.assert_close(out_cuda.cpu(), out, rtol=0, atol=1e-12)
        g = torch.from_numpy(rng.standard_normal(out.shape))
        (grad,) = torch.autograd.grad((out * g).sum(), x)
        (grad_cuda,) = torch.autograd.grad((out_cuda * g.cuda()).sum(), xc)
        torch.testing.assert_close(grad_cuda.cpu(), grad, rtol=0, atol=1e-12)


@gpu
@pytest.mark.parametrize("groups, offset_groups, stride, use_mask", [(1, 1, 1, False), (2, 2, 2, True)])
def test_deform_conv2d_matches_cpu(groups, offset_groups, stride, use_mask):
    rng = np.random.default_rng(8)
    tensors = [torch.from_numpy(rng.standard_normal(shape)) for shape in
               ((2, 4, 9, 8), (2, 2 * offset_groups * 9, (9 - 1) // stride + 1, (8 - 1) // stride + 1),
                (6, 4 // groups, 3, 3), (6,))]
    mask = torch.from_numpy(rng.uniform(0, 1, (2, offset_groups * 9, *tensors[1].shape[2:]))) if use_mask else None
    inputs = tensors + ([mask] if use_mask else [])
    cpu = [t.clone().requires_grad_() for t in inputs]
    gpu_ = [t.cuda().requires_grad_() for t in inputs]

    def run(x, offset, weight, bias, *m):
        return opticore.deform_conv2d(x, offset * 2, weight, bias, stride, 1, 1, m[0] if m else None)

    out, out_cuda = run(*cpu), run(*gpu_)
    torch.testing.assert_close(out_cuda.cpu(), out, rtol=1e-10, atol=1e-10)
    g = torch.from_numpy(rng.standard_normal(out.shape))
    grads = torch.autograd.grad((out * g).sum(), cpu)
    grads_cuda = torch.autograd.grad((out_cuda * g.cuda()).sum(), gpu_)
    for a, b in zip(grads_cuda, grads):
        torch.testing.assert_close(a.cpu(), b, rtol=1e-10, atol=1e-10)
