"""roi_align / roi_pool against the plain PyTorch references of roi_reference.py (NumPy and torch
paths), their gradients, the torch.library machinery, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import opticore
import opticore.torch
from gil_check import assert_releases_gil
from roi_reference import roi_align as ref_align
from roi_reference import roi_pool as ref_pool


def random_rois(rng: np.random.Generator, k: int, n: int, h: int, w: int, scale: float = 1.0) -> np.ndarray:
    """RoIs in image coordinates (feature map / scale), many crossing the border, some tiny."""
    x = rng.uniform(-0.3 * w, 1.2 * w, size=(k, 2)) / scale
    y = rng.uniform(-0.3 * h, 1.2 * h, size=(k, 2)) / scale
    rois = np.column_stack([rng.integers(0, n, k), x.min(1), y.min(1), x.max(1), y.max(1)])
    rois[: k // 5, 3] = rois[: k // 5, 1] + rng.uniform(0, 0.5, k // 5) / scale  # narrower than a cell
    return rois


ALIGN_CASES = [
    # (aligned, sampling_ratio, spatial_scale, output_size)
    (False, -1, 1.0, (7, 7)),
    (True, -1, 1.0, (7, 7)),
    (False, 2, 0.5, (3, 5)),
    (True, 2, 0.25, (5, 3)),
    (True, 1, 1.0, (2, 2)),
    (False, 3, 1 / 16, (4, 4)),
    (True, 0, 0.125, (1, 1)),
]


@pytest.mark.parametrize("aligned, ratio, scale, size", ALIGN_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_roi_align_matches_reference(aligned, ratio, scale, size, dtype):
    rng = np.random.default_rng(7)
    features = rng.standard_normal((2, 5, 11, 13)).astype(dtype)
    rois = random_rois(rng, 40, 2, 11, 13, scale).astype(dtype)
    expected = ref_align(torch.from_numpy(features), torch.from_numpy(rois), size, scale, ratio, aligned).numpy()
    got = opticore.roi_align(features, rois, size, scale, ratio, aligned)
    assert got.dtype == dtype and got.shape == (40, 5) + size
    # Measured: float32 2.5e-7, float64 4.4e-16 (the reference sums in float64, in another order).
    np.testing.assert_allclose(got, expected, rtol=0, atol=5e-7 if dtype == np.float32 else 1e-15)
    t = opticore.roi_align(torch.from_numpy(features), torch.from_numpy(rois), size, scale, ratio, aligned)
    np.testing.assert_array_equal(t.numpy(), got)  # one core behind both paths


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_roi_pool_matches_reference(dtype):
    rng = np.random.default_rng(8)
    for scale, size in [(1.0, (7, 7)), (0.5, (3, 5)), (1 / 16, (2, 2)), (0.3, (6, 4))]:
        features = rng.standard_normal((2, 4, 12, 9)).astype(dtype)
        rois = random_rois(rng, 40, 2, 12, 9, scale).astype(dtype)
        expected = ref_pool(torch.from_numpy(features), torch.from_numpy(rois), size, scale).numpy()
        got = opticore.roi_pool(features, rois, size, scale)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, expected)  # a maximum is exact


def test_roi_align_hand_computed_values():
    f = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)  # f[y, x] = 4 y + x: bilinear is exact

    def one(x1, y1, x2, y2, **kw):
        return opticore.roi_align(f, np.array([[0, x1, y1, x2, y2]], float), 1, **kw)[0, 0, 0, 0]

    assert one(0, 0, 2, 2, sampling_ratio=1) == 4 * 1 + 1  # the centre (1, 1)
    assert one(0, 0, 2, 2, sampling_ratio=1, aligned=True) == 4 * 0.5 + 0.5  # shifted by -0.5
    assert one(0.5, 0.5, 2.5, 1.5, sampling_ratio=1) == 4 * 1.0 + 1.5
    # 2 x 2 samples at 0.5 and 1.5: mean of 4 y + x over them is 4 + 1 = 5.
    assert one(0, 0, 2, 2) == 5.0
    # A sample past the last column (x = 3.5 in [W - 1, W]) reads the last column alone.
    assert one(3, 0, 4, 0, sampling_ratio=1) == 4 * 0.5 + 3
    # A sample below -1 contributes zero but still counts in the divisor: (0 + f(0, 0.5) * ...) / 2.
    got = opticore.roi_align(f, np.array([[0, -3.0, 0, 1.0, 1.0]]), (1, 2), sampling_ratio=1)[0, 0, 0]
    assert got[0] == 0.0 and got[1] == 4 * 0.5 + 0.0  # x = -2 outside; x = 0 clamped
    # Without aligned, a degenerate RoI is widened to 1 x 1: one sample at (x1 + 0.5, y1 + 0.5).
    assert one(1, 1, 1, 1, sampling_ratio=1) == 4 * 1.5 + 1.5
    # With aligned, a RoI of negative size has an empty adaptive grid: 0.
    assert one(2, 2, 1, 1, aligned=True) == 0.0


def test_roi_pool_hand_computed_values():
    f = np.zeros((1, 2, 3, 3), np.float32)
    f[0, 0] = [[1, 5, 5], [0, 2, 0], [0, 0, 0]]  # a tie: the first 5 in row-major order wins
    f[0, 1] = np.nan
    rois = np.array([[0, 0, 0, 2, 2], [0, 10, 10, 20, 20]], np.float32)
    out = opticore.roi_pool(f, rois, 1)
    assert out[0, 0, 0, 0] == 5.0
    assert out[0, 1, 0, 0] == np.float32(-3.4028235e38)  # NaN never wins
    assert (out[1] == 0).all()  # outside the map
    t_out, argmax = opticore.torch.ops().roi_pool(torch.from_numpy(f), torch.from_numpy(rois), 1.0, 1, 1)
    assert argmax[0, 0, 0, 0] == 1 and argmax[0, 1, 0, 0] == -1 and (argmax[1] == -1).all()
    # Rounding is half away from zero: x2 = 1.5 -> 2, so the RoI covers columns 0..2.
    g = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    assert opticore.roi_pool(g, np.array([[0, 0, 0, 1.5, 0]], np.float32), 1)[0, 0, 0, 0] == 2.0
    assert opticore.roi_pool(g, np.array([[0, 0, 0, 1.49, 0]], np.float32), 1)[0, 0, 0, 0] == 1.0


def test_huge_roi_costs_what_is_inside_the_map():
    f = np.ones((1, 1, 8, 8), np.float64)
    size, ph = 1e7, 7
    rois = np.array([[0, -size, -size, size, size]])
    got = opticore.roi_align(f, rois, ph)[0, 0]  # adaptive grid: ~2.9e6 samples per bin side
    # On a map of ones a bin is (samples inside [-1, 8] per axis, a product) / grid^2, counted
    # here from the positions of every sample along one axis.
    bin_size = 2 * size / ph  # float64 features: positions in float64
    grid = math.ceil(bin_size)
    offsets = (np.arange(grid) + 0.5) * bin_size / grid
    inside = [np.count_nonzero(((-size + p * bin_size) + offsets >= -1) & ((-size + p * bin_size) + offsets <= 8))
              for p in range(ph)]
    expected = np.outer(inside, inside) / float(grid * grid)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got[3, 3] > 0 and got[0, 0] == 0
    # A 2000-pixel RoI (4 million samples per bin) against the reference, which visits every one.
    rng = np.random.default_rng(3)
    f2 = rng.standard_normal((1, 2, 6, 7))
    rois2 = np.array([[0, -1000.0, -900.0, 1000.0, 1100.0]])
    expected2 = ref_align(torch.from_numpy(f2), torch.from_numpy(rois2), (1, 1), 1.0, -1, True).numpy()
    np.testing.assert_allclose(opticore.roi_align(f2, rois2, 1, aligned=True), expected2, rtol=1e-10, atol=1e-15)


def test_rois_as_a_list_of_boxes():
    rng = np.random.default_rng(4)
    features = rng.standard_normal((3, 2, 8, 8)).astype(np.float32)
    boxes = [np.array([[0, 0, 4, 4], [1, 2, 7, 5]], np.float32), np.zeros((0, 4), np.float32),
             np.array([[2, 2, 6, 6]], np.float32)]
    rois = np.array([[0, 0, 0, 4, 4], [0, 1, 2, 7, 5], [2, 2, 2, 6, 6]], np.float32)
    np.testing.assert_array_equal(opticore.roi_align(features, boxes, 3), opticore.roi_align(features, rois, 3))
    np.testing.assert_array_equal(opticore.roi_pool(features, boxes, 3), opticore.roi_pool(features, rois, 3))
    t = [torch.from_numpy(b) for b in boxes]
    np.testing.assert_array_equal(opticore.roi_align(torch.from_numpy(features), t, 3).numpy(),
                                  opticore.roi_align(features, rois, 3))


def test_layouts_give_identical_results():
    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.standard_normal((2, 6, 9, 10)).astype(np.float32))
    rois = torch.from_numpy(random_rois(rng, 20, 2, 9, 10).astype(np.float32))
    base = opticore.roi_align(x, rois, 4, 1.0, 2, True)
    pooled = opticore.roi_pool(x, rois, 4)
    variants = [
        x.contiguous(memory_format=torch.channels_last),
        x.transpose(2, 3).contiguous().transpose(2, 3),  # column-major planes
        x.repeat_interleave(2, dim=1)[:, ::2],  # strided channels
    ]
    for v in variants:
        torch.testing.assert_close(opticore.roi_align(v, rois, 4, 1.0, 2, True), base, rtol=0, atol=0)
        torch.testing.assert_close(opticore.roi_pool(v, rois, 4), pooled, rtol=0, atol=0)
    np.testing.assert_array_equal(opticore.roi_align(np.asfortranarray(x.numpy()), rois.numpy(), 4, 1.0, 2, True),
                                  base.numpy())


def test_empty_inputs():
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    out = opticore.roi_align(x, torch.zeros((0, 5), dtype=torch.float64), (2, 3))
    assert out.shape == (0, 3, 2, 3)
    out.sum().backward()
    assert x.grad is not None and (x.grad == 0).all()
    assert opticore.roi_pool(np.zeros((1, 3, 4, 4)), np.zeros((0, 5)), 2).shape == (0, 3, 2, 2)
    # An empty map: every sample and every bin is outside it.
    assert (opticore.roi_align(np.zeros((1, 2, 0, 4)), np.array([[0, 0, 0, 2, 2.0]]), 2) == 0).all()
    assert (opticore.roi_pool(np.zeros((1, 2, 3, 0)), np.array([[0, 0, 0, 2, 2.0]]), 2) == 0).all()
    assert opticore.roi_align(np.zeros((1, 0, 4, 4)), np.array([[0, 0, 0, 2, 2.0]]), 2).shape == (1, 0, 2, 2)


@pytest.mark.parametrize("aligned, ratio, scale, size", ALIGN_CASES[:4])
def test_roi_align_gradient_matches_reference_autograd(aligned, ratio, scale, size):
    rng = np.random.default_rng(9)
    x = torch.from_numpy(rng.standard_normal((2, 3, 9, 8))).requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 25, 2, 9, 8, scale))
    weights = torch.from_numpy(rng.standard_normal((25, 3) + size))
    (opticore.roi_align(x, rois, size, scale, ratio, aligned) * weights).sum().backward()
    x_ref = x.detach().clone().requires_grad_()
    (ref_align(x_ref, rois, size, scale, ratio, aligned) * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=0, atol=1e-14)  # measured: 4.4e-15


def test_roi_pool_gradient_matches_reference_autograd():
    rng = np.random.default_rng(10)
    x = torch.from_numpy(rng.standard_normal((2, 3, 9, 8))).requires_grad_()  # no ties
    rois = torch.from_numpy(random_rois(rng, 25, 2, 9, 8, 0.5))
    weights = torch.from_numpy(rng.standard_normal((25, 3, 3, 4)))
    (opticore.roi_pool(x, rois, (3, 4), 0.5) * weights).sum().backward()
    x_ref = x.detach().clone().requires_grad_()
    (ref_pool(x_ref, rois, (3, 4), 0.5) * weights).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=0, atol=1e-14)


def test_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(11)
    x = torch.from_numpy(rng.standard_normal((2, 2, 6, 5))).requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 6, 2, 6, 5))
    for aligned, ratio in [(False, -1), (True, 2)]:

        def align(t, ratio=ratio, aligned=aligned):
            return opticore.roi_align(t, rois, (3, 2), 1.0, ratio, aligned)

        assert torch.autograd.gradcheck(align, (x,))
        assert torch.autograd.gradgradcheck(align, (x,))

    def pool(t):
        return opticore.roi_pool(t, rois, (2, 3), 1.0)

    assert torch.autograd.gradcheck(pool, (x,))
    assert torch.autograd.gradgradcheck(pool, (x,))


def test_backward_is_deterministic_across_threads():
    rng = np.random.default_rng(12)
    x = torch.from_numpy(rng.standard_normal((2, 70, 16, 16)).astype(np.float32)).requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 300, 2, 16, 16).astype(np.float32))
    grads = []
    before = opticore.get_num_threads()
    try:
        for threads in (1, 2, 3, 1):
            opticore.set_num_threads(threads)
            x.grad = None
            (opticore.roi_align(x, rois, 5, 1.0, 2, True) ** 2).sum().backward()
            grads.append(x.grad.clone())
    finally:
        opticore.set_num_threads(before)
    for g in grads[1:]:
        assert torch.equal(g, grads[0])


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_inputs_are_computed_in_float32(dtype):
    rng = np.random.default_rng(13)
    x = torch.from_numpy(rng.standard_normal((1, 4, 10, 10)).astype(np.float32)).to(dtype)
    rois = torch.from_numpy(random_rois(rng, 12, 1, 10, 10).astype(np.float32))
    out = opticore.roi_align(x, rois, 3, 1.0, 2, True)
    assert out.dtype == dtype
    assert torch.equal(out, opticore.roi_align(x.float(), rois, 3, 1.0, 2, True).to(dtype))
    half_rois = rois.to(dtype)
    assert torch.equal(opticore.roi_pool(x, half_rois, 3), opticore.roi_pool(x.float(), half_rois.float(), 3).to(dtype))
    x.requires_grad_()
    opticore.roi_align(x, rois, 3).float().sum().backward()
    assert x.grad is not None and x.grad.dtype == dtype


def test_opcheck():
    ops = opticore.torch.ops()
    rng = np.random.default_rng(14)
    x = torch.from_numpy(rng.standard_normal((2, 3, 7, 6))).requires_grad_()
    rois = torch.from_numpy(random_rois(rng, 5, 2, 7, 6))
    grad = torch.randn(5, 3, 2, 3, dtype=torch.float64)
    cases = [
        (ops.roi_align.default, (x, rois, 1.0, 2, 3, -1, False)),
        (ops.roi_align.default, (x, rois, 0.5, 2, 3, 2, True)),
        (ops.roi_pool.default, (x, rois, 1.0, 2, 3)),
        (ops.roi_align_backward.default, (grad, rois, 1.0, 2, 3, 2, 3, 7, 6, -1, True)),
    ]
    _, argmax = ops.roi_pool(x.detach(), rois, 1.0, 2, 3)
    cases.append((ops.roi_pool_backward.default, (grad, rois, argmax, 1.0, 2, 3, 2, 3, 7, 6)))
    for op, args in cases:
        torch.library.opcheck(op, args)


def test_compile_and_export():
    rng = np.random.default_rng(15)
    x = torch.from_numpy(rng.standard_normal((2, 4, 12, 12)).astype(np.float32))
    rois = torch.from_numpy(random_rois(rng, 9, 2, 12, 12).astype(np.float32))

    def heads(features: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        return opticore.roi_align(features, boxes, 3, 0.5, 2, True).mean() + opticore.roi_pool(features, boxes, 2).sum()

    expected = heads(x, rois)
    torch.testing.assert_close(torch.compile(heads, fullgraph=True)(x, rois), expected)

    class Heads(torch.nn.Module):
        def forward(self, features: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
            return heads(features, boxes)

    exported = torch.export.export(Heads(), (x, rois))
    torch.testing.assert_close(exported.module()(x, rois), expected)
    x.requires_grad_()
    torch.compile(heads, fullgraph=True)(x, rois).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


BAD_ROIS = [
    ([[0, 0, 0, math.nan, 1]], "rois: expected finite"),
    ([[0, 0, 0, math.inf, 1]], "rois: expected finite"),
    ([[2, 0, 0, 1, 1]], r"rois: expected an integral batch index in \[0, 2\)"),
    ([[-1, 0, 0, 1, 1]], "rois: expected an integral batch index"),
    ([[0.5, 0, 0, 1, 1]], "rois: expected an integral batch index"),
    ([[math.nan, 0, 0, 1, 1]], "rois: expected an integral batch index"),
    ([[0, 0, 0, 1e9, 1]], r"rois: expected coordinates within \+-1.67772e\+07"),
    ([[0, 0, 0, 1]], r"rois: expected shape \(K, 5\)"),
]


@pytest.mark.parametrize("rois, message", BAD_ROIS)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_bad_rois_raise(rois, message, backend):
    x, r = np.zeros((2, 1, 4, 4)), np.array(rois, dtype=np.float64)
    if backend == "torch":
        x, r = torch.from_numpy(x), torch.from_numpy(r)
    with pytest.raises(ValueError, match=message):
        opticore.roi_align(x, r, 2)
    with pytest.raises(ValueError, match=message):
        opticore.roi_pool(x, r, 2)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_bad_arguments_raise(backend):
    x, r = np.zeros((1, 2, 4, 4), np.float32), np.array([[0, 0, 0, 2, 2]], np.float32)
    wrap = (lambda a: torch.from_numpy(a)) if backend == "torch" else (lambda a: a)
    x, r = wrap(x), wrap(r)
    with pytest.raises(ValueError, match="output_size: expected an int >= 1"):
        opticore.roi_align(x, r, 0)
    with pytest.raises(ValueError, match="output_size: expected an int or"):
        opticore.roi_align(x, r, (1, 2, 3))
    with pytest.raises(TypeError, match="output_size: expected an int"):
        opticore.roi_pool(x, r, 2.5)
    with pytest.raises(ValueError, match="spatial_scale: expected a finite value"):
        opticore.roi_align(x, r, 2, spatial_scale=0.0)
    with pytest.raises(ValueError, match="spatial_scale: expected a finite value"):
        opticore.roi_pool(x, r, 2, spatial_scale=math.nan)
    with pytest.raises(ValueError, match="sampling_ratio: expected an int <= 256"):
        opticore.roi_align(x, r, 2, sampling_ratio=257)
    with pytest.raises(TypeError, match="aligned: expected a bool"):
        opticore.roi_align(x, r, 2, aligned=1)
    with pytest.raises(ValueError, match=r"output_size: expected a result of at most 4 GiB"):
        opticore.roi_align(x, r, (100000, 100000))
    with pytest.raises((TypeError, ValueError), match="input"):
        opticore.roi_align(wrap(np.zeros((2, 4, 4), np.float32)), r, 2)
    with pytest.raises(TypeError, match="input: expected"):
        opticore.roi_align(wrap(np.zeros((1, 2, 4, 4), np.int32)), r, 2)
    with pytest.raises(ValueError, match="rois: expected a list of"):
        opticore.roi_align(x, [wrap(np.zeros((2, 5), np.float32))], 2)


def test_torch_specific_bad_arguments():
    x, r = torch.zeros(1, 2, 4, 4), torch.tensor([[0, 0, 0, 2, 2.0]])
    with pytest.raises(TypeError, match="rois: expected a torch.Tensor like input"):
        opticore.roi_align(x, r.numpy(), 2)
    with pytest.raises(TypeError, match="rois: expected float16 or bfloat16 or float32 or float64, got int64"):
        opticore.roi_align(x, r.long(), 2)
    ops = opticore.torch.ops()
    _, argmax = ops.roi_pool(x, r, 1.0, 2, 2)
    with pytest.raises(ValueError, match=r"argmax: expected indices in \[-1, H \* W\)"):
        ops.roi_pool_backward(torch.ones(1, 2, 2, 2), r, argmax + 100, 1.0, 2, 2, 1, 2, 4, 4)
    with pytest.raises(ValueError, match="grad_output: expected shape"):
        ops.roi_align_backward(torch.ones(1, 3, 2, 2), r, 1.0, 2, 2, 1, 2, 4, 4, -1, False)
    with pytest.raises(ValueError, match="input: expected non-negative sizes"):
        ops.roi_align_backward(torch.ones(1, 2, 2, 2), r, 1.0, 2, 2, 1, 2, -4, 4, -1, False)


def test_numpy_call_releases_the_gil():
    rng = np.random.default_rng(16)
    features = rng.standard_normal((1, 256, 64, 64)).astype(np.float32)
    rois = random_rois(rng, 4000, 1, 64, 64).astype(np.float32)
    assert_releases_gil(lambda: opticore.roi_align(features, rois, 7, 1.0, 2))
