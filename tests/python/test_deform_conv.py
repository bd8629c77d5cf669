"""Deformable convolution (DCN v1 / v2) against torchvision's stored outputs and gradients
(fixtures/make_detection_fixtures.py), against a plain PyTorch reference (bilinear sampling with
zeros outside, then a grouped 1x1 product), gradcheck, the module, compile / export, and the
argument errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import opticore

torch = pytest.importorskip("torch")

FIXTURES = np.load(Path(__file__).parent / "fixtures" / "detection_ops.npz")
CASES = {"v1": ((1, 1), (1, 1), (1, 1)), "v2": ((1, 1), (1, 1), (1, 1)), "grouped": ((2, 1), (0, 2), (2, 1))}


def reference(x, offset, weight, bias, stride, padding, dilation, mask):
    """Every tap sampled with explicit corner arithmetic (zeros outside), then summed with the weights."""
    n, c_in, h, w = x.shape
    c_out, per_group, kh, kw = weight.shape
    groups, taps = c_in // per_group, kh * kw
    offset_groups = offset.shape[1] // (2 * taps)
    oh, ow = offset.shape[2:]
    oy = torch.arange(oh, dtype=x.dtype)[:, None] * stride[0] - padding[0]
    ox = torch.arange(ow, dtype=x.dtype)[None, :] * stride[1] - padding[1]
    columns = x.new_zeros((n, c_in, taps, oh, ow))
    for c in range(c_in):
        g = c // (c_in // offset_groups)
        for k in range(taps):
            i, j = divmod(k, kw)
            y = oy + i * dilation[0] + offset[:, 2 * (g * taps + k)]
            xx = ox + j * dilation[1] + offset[:, 2 * (g * taps + k) + 1]
            inside = (y > -1) & (y < h) & (xx > -1) & (xx < w)
            y0, x0 = torch.floor(y), torch.floor(xx)
            value = x.new_zeros((n, oh, ow))
            for cy, cx, weight_of in ((y0, x0, (y0 + 1 - y) * (x0 + 1 - xx)), (y0, x0 + 1, (y0 + 1 - y) * (xx - x0)),
                                      (y0 + 1, x0, (y - y0) * (x0 + 1 - xx)), (y0 + 1, x0 + 1, (y - y0) * (xx - x0))):
                valid = inside & (cy >= 0) & (cy <= h - 1) & (cx >= 0) & (cx <= w - 1)
                yi, xi = cy.clamp(0, h - 1).long(), cx.clamp(0, w - 1).long()
                picked = x[torch.arange(n)[:, None, None], c, yi, xi]
                value = value + torch.where(valid, weight_of * picked, torch.zeros_like(picked))
            if mask is not None:
                value = value * mask[:, g * taps + k]
            columns[:, c, k] = value
    out = x.new_zeros((n, c_out, oh, ow))
    out_per_group = c_out // groups
    for g in range(groups):
        cols = columns[:, g * per_group:(g + 1) * per_group].reshape(n, per_group * taps, oh * ow)
        wg = weight[g * out_per_group:(g + 1) * out_per_group].reshape(out_per_group, per_group * taps)
        out[:, g * out_per_group:(g + 1) * out_per_group] = (wg @ cols).reshape(n, out_per_group, oh, ow)
    return out + bias[None, :, None, None]


def fixture_case(name: str):
    tensors = {key: torch.tensor(FIXTURES[f"deform_{name}_{key}"], requires_grad=True)
               for key in ("input", "offset", "weight", "bias", "mask") if f"deform_{name}_{key}" in FIXTURES}
    return tensors, CASES[name]


@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_gradients_equal_torchvision(name: str) -> None:
    t, (stride, padding, dilation) = fixture_case(name)
    y = opticore.deform_conv2d(t["input"], t["offset"], t["weight"], t["bias"], stride, padding, dilation,
                               t.get("mask"))
    np.testing.assert_allclose(y.detach().numpy(), FIXTURES[f"deform_{name}_out"], rtol=0, atol=1e-12)
    y.backward(torch.from_numpy(FIXTURES[f"deform_{name}_grad"]))
    for key, tensor in t.items():
        np.testing.assert_allclose(tensor.grad.numpy(), FIXTURES[f"deform_{name}_grad_{key}"], rtol=1e-10,
                                   atol=1e-11, err_msg=key)


@pytest.mark.parametrize("name", list(CASES))
def test_against_the_plain_reference_and_in_float32(name: str) -> None:
    t, (stride, padding, dilation) = fixture_case(name)
    args = (t["input"].detach(), t["offset"].detach(), t["weight"].detach(), t["bias"].detach(), stride, padding,
            dilation, t["mask"].detach() if "mask" in t else None)
    expected = reference(*args)
    torch.testing.assert_close(opticore.deform_conv2d(*args), expected, rtol=1e-12, atol=1e-12)
    as_float = [a.float() if isinstance(a, torch.Tensor) else a for a in args]
    torch.testing.assert_close(opticore.deform_conv2d(*as_float), expected.float(), rtol=1e-5, atol=2e-5)
    half = [a.bfloat16() if isinstance(a, torch.Tensor) else a for a in args]
    assert opticore.deform_conv2d(*half).dtype == torch.bfloat16
    strided = args[0].transpose(2, 3).contiguous().transpose(2, 3)  # same values, other strides
    torch.testing.assert_close(opticore.deform_conv2d(strided, *args[1:]), expected, rtol=1e-12, atol=1e-12)


FALLBACK_SCRIPT = """
import sys, numpy as np, torch, opticore
g = torch.Generator().manual_seed(3)
x, w = torch.rand(2, 24, 13, 11, generator=g), torch.rand(16, 24, 3, 3, generator=g) - 0.5
offset, mask = torch.randn(2, 18, 13, 11, generator=g) * 2, torch.rand(2, 9, 13, 11, generator=g)
out = {dtype: opticore.deform_conv2d(x.to(dtype), offset.to(dtype), w.to(dtype), None, 1, 1, 1, mask.to(dtype)).numpy()
       for dtype in (torch.float32, torch.float64)}
np.savez(sys.argv[1], float32=out[torch.float32], float64=out[torch.float64])
"""


def test_product_without_avx2(tmp_path: Path) -> None:
    # The forward's product is a packed AVX2 kernel where the CPU has one, Eigen's product
    # elsewhere; OPTICORE_NO_AVX2 forces the fallback. The two sum in other orders (measured here:
    # 9.5e-7 apart in float32, 1.1e-15 in float64, outputs up to 4.7); the tests above check the
    # path this CPU takes against torchvision and the reference.
    results = {}
    for name, env in (("fallback", {**os.environ, "OPTICORE_NO_AVX2": "1"}),
                      ("default", {k: v for k, v in os.environ.items() if k != "OPTICORE_NO_AVX2"})):
        subprocess.run([sys.executable, "-c", FALLBACK_SCRIPT, str(tmp_path / name)], check=True, env=env)
        results[name] = np.load(tmp_path / f"{name}.npz")
    np.testing.assert_allclose(results["fallback"]["float64"], results["default"]["float64"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(results["fallback"]["float32"], results["default"]["float32"], rtol=0, atol=4e-6)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file() and " avx2" in cpuinfo.read_text():  # then the switch took the other path
        assert not np.array_equal(results["fallback"]["float32"], results["default"]["float32"])


def test_gradcheck_and_thread_determinism() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(2, 2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, generator=g, requires_grad=True)
    offset = (torch.randn(1, 36, 5, 6, dtype=torch.float64, generator=g) * 1.3).requires_grad_()
    mask = torch.rand(1, 18, 5, 6, dtype=torch.float64, generator=g, requires_grad=True)

    def op(*a):
        return opticore.deform_conv2d(a[0], a[1], a[2], a[3], 1, 1, 1, a[4])

    assert torch.autograd.gradcheck(op, (x, offset, w, b, mask))
    # The backward owns disjoint outputs per thread: the same bits on 1 and 2 threads.
    results = []
    previous = opticore.get_num_threads()
    for threads in (1, 2):
        opticore.set_num_threads(threads)
        try:
            y = op(x, offset, w, b, mask)
            results.append(torch.autograd.grad(y, (x, offset, w, b, mask), torch.ones_like(y)))
        finally:
            opticore.set_num_threads(previous)
    for a, c in zip(*results):
        assert torch.equal(a, c)


def test_module_compile_and_export() -> None:
    from opticore.nn import DeformConv2d
    from opticore.torch import ops

    torch.manual_seed(1)
    layer = DeformConv2d(4, 6, 3, padding=1, groups=2)
    x = torch.randn(2, 4, 8, 8)
    offset = torch.randn(2, 18, 8, 8)
    mask = torch.rand(2, 9, 8, 8)
    y = layer(x, offset, mask)
    assert y.shape == (2, 6, 8, 8)
    expected = reference(x.double(), offset.double(), layer.weight.double(), layer.bias.double(), (1, 1), (1, 1),
                         (1, 1), mask.double())
    torch.testing.assert_close(y.double(), expected, rtol=1e-5, atol=1e-5)
    compiled = torch.compile(layer, fullgraph=True)
    torch.testing.assert_close(compiled(x, offset, mask), y)
    exported = torch.export.export(layer, (x, offset, mask))
    torch.testing.assert_close(exported.module()(x, offset, mask), y)
    torch.library.opcheck(ops().deform_conv2d, (x, layer.weight, offset, mask, layer.bias, 1, 1, 1, 1, 1, 1, True))


def test_errors_name_the_argument() -> None:
    x, w = torch.zeros(1, 4, 6, 6), torch.zeros(2, 4, 3, 3)
    offset = torch.zeros(1, 18, 4, 4)
    with pytest.raises(ValueError, match="offset: expected shape \\(1, 2 \\* offset_groups \\* 9, 4, 4\\)"):
        opticore.deform_conv2d(x, torch.zeros(1, 17, 4, 4), w)
    with pytest.raises(ValueError, match="offset: expected offset_groups = 3 to divide"):
        opticore.deform_conv2d(x, torch.zeros(1, 54, 4, 4), w)
    with pytest.raises(ValueError, match="mask: expected shape \\(1, 9, 4, 4\\)"):
        opticore.deform_conv2d(x, offset, w, mask=torch.zeros(1, 8, 4, 4))
    with pytest.raises(ValueError, match="weight: expected size\\(1\\) to divide"):
        opticore.deform_conv2d(x, offset, torch.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match="bias: expected shape \\(2,\\)"):
        opticore.deform_conv2d(x, offset, w, bias=torch.zeros(3))
    with pytest.raises(ValueError, match="empty output"):
        opticore.deform_conv2d(torch.zeros(1, 4, 2, 2), torch.zeros(1, 18, 1, 1), w)
    with pytest.raises(ValueError, match="stride"):
        opticore.deform_conv2d(x, offset, w, stride=0)
    with pytest.raises(TypeError, match="input: expected a torch.Tensor"):
        opticore.deform_conv2d(np.zeros((1, 4, 6, 6)), offset, w)  # type: ignore[arg-type]
    # NaN offsets read zero (no crash, no garbage).
    y = opticore.deform_conv2d(torch.ones(1, 4, 6, 6), torch.full((1, 18, 4, 4), float("nan")), torch.ones(2, 4, 3, 3))
    assert torch.equal(y, torch.zeros_like(y))
