"""Position-sensitive RoIAlign and RoI pooling (R-FCN) against torchvision's stored outputs and
gradients (fixtures/make_detection_fixtures.py), against a plain reference (RoIAlign's reference
at each bin's own channel; a NumPy mean over each bin's cells), and through autograd, compile and
export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import opticore

torch = pytest.importorskip("torch")

import roi_reference  # noqa: E402

FIXTURES = np.load(Path(__file__).parent / "fixtures" / "detection_ops.npz")
FEATURES, ROIS, WEIGHTS = FIXTURES["ps_features"], FIXTURES["ps_rois"], FIXTURES["ps_grad_weights"]


@pytest.mark.parametrize("scale", [1.0, 0.5])
@pytest.mark.parametrize("ratio", [-1, 2])
def test_ps_roi_align_equals_torchvision(scale: float, ratio: int) -> None:
    expected = FIXTURES[f"ps_roi_align_{scale}_{ratio}"]
    ours = opticore.ps_roi_align(FEATURES, ROIS, (3, 2), scale, ratio)
    # RoIs whose adaptive grid is empty (the zero-size and the inverted one): torchvision gives
    # NaN, opticore 0.
    valid = ~np.isnan(expected).any(axis=(1, 2, 3))
    assert valid.sum() >= len(ROIS) - 2
    np.testing.assert_allclose(ours[valid], expected[valid], rtol=0, atol=1e-12)
    assert (ours[~valid] == 0).all()
    x = torch.tensor(FEATURES, requires_grad=True)
    y = opticore.ps_roi_align(x, torch.from_numpy(ROIS), (3, 2), scale, ratio)
    (y * torch.from_numpy(WEIGHTS)).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ours)
    if valid.all():  # torchvision's gradient is NaN-free only when its output is
        np.testing.assert_allclose(x.grad.numpy(), FIXTURES[f"ps_roi_align_{scale}_{ratio}_grad"], rtol=0, atol=1e-12)
    else:  # the same gradient from the valid RoIs alone
        x2 = torch.tensor(FEATURES, requires_grad=True)
        y2 = opticore.ps_roi_align(x2, torch.from_numpy(ROIS[valid]), (3, 2), scale, ratio)
        (y2 * torch.from_numpy(WEIGHTS[valid])).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_ps_roi_pool_equals_torchvision(scale: float) -> None:
    y = opticore.ps_roi_pool(torch.from_numpy(FEATURES), torch.from_numpy(ROIS), (3, 2), scale)
    np.testing.assert_allclose(y.numpy(), FIXTURES[f"ps_roi_pool_{scale}"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(opticore.ps_roi_pool(FEATURES, ROIS, (3, 2), scale), y.numpy())
    # Gradients: torchvision's backward is its forward's derivative only for RoIs that end before
    # the map's last row and column (it spreads over cells its forward never reads); opticore's is
    # the derivative everywhere (gradcheck below), and equal to torchvision's on those RoIs.
    interior = FIXTURES[f"ps_roi_pool_{scale}_interior"]
    assert 0 < interior.sum() < len(ROIS)
    x = torch.tensor(FEATURES, requires_grad=True)
    inside = opticore.ps_roi_pool(x, torch.from_numpy(ROIS[interior]), (3, 2), scale)
    (inside * torch.from_numpy(WEIGHTS[interior])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), FIXTURES[f"ps_roi_pool_{scale}_grad"], rtol=0, atol=1e-12)


def reference_ps_roi_align(x: "torch.Tensor", rois: "torch.Tensor", size, scale: float, ratio: int) -> "torch.Tensor":
    """RoIAlign's reference (aligned) over all channels, then each bin's own channel."""
    full = roi_reference.roi_align(x, rois, size, scale, ratio, True)  # (K, C, PH, PW)
    ph, pw = size
    c_out = x.shape[1] // (ph * pw)
    grouped = full.reshape(len(rois), c_out, ph, pw, ph, pw)
    return torch.stack([torch.stack([grouped[:, :, i, j, i, j] for j in range(pw)], -1) for i in range(ph)], -2)


def reference_ps_roi_pool(x: np.ndarray, rois: np.ndarray, size, scale: float) -> np.ndarray:
    ph_n, pw_n = size
    _, channels, height, width = x.shape
    c_out = channels // (ph_n * pw_n)
    out = np.zeros((len(rois), c_out, ph_n, pw_n))
    rnd = lambda v: int(np.sign(v) * np.floor(abs(v) + 0.5))  # noqa: E731  (half away from zero)
    for k, (n, x1, y1, x2, y2) in enumerate(rois):
        sx, sy = rnd(x1 * scale), rnd(y1 * scale)
        bw = max(rnd(x2 * scale) - sx, 1) / pw_n
        bh = max(rnd(y2 * scale) - sy, 1) / ph_n
        for ph in range(ph_n):
            for pw in range(pw_n):
                ya = min(max(int(np.floor(ph * bh)) + sy, 0), height - 1)
                yb = min(max(int(np.ceil((ph + 1) * bh)) + sy, 0), height - 1)
                xa = min(max(int(np.floor(pw * bw)) + sx, 0), width - 1)
                xb = min(max(int(np.ceil((pw + 1) * bw)) + sx, 0), width - 1)
                if yb > ya and xb > xa:
                    channels_of_bin = np.arange(c_out) * ph_n * pw_n + ph * pw_n + pw
                    out[k, :, ph, pw] = x[int(n)][channels_of_bin, ya:yb, xa:xb].mean(axis=(1, 2))
    return out


def random_case(seed: int, c_out: int = 5, size=(3, 4)):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (3, c_out * size[0] * size[1], 17, 14))
    xy = rng.uniform(-8, 30, (40, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(0.3, 25, (40, 2))], 1)
    rois = np.concatenate([rng.integers(0, 3, (40, 1)).astype(np.float64), boxes], 1)
    return x, rois


@pytest.mark.parametrize("seed", [0, 1])
def test_random_cases_against_the_references(seed: int) -> None:
    x, rois = random_case(seed)
    for scale, ratio in [(1.0, -1), (0.7, 3)]:
        expected = reference_ps_roi_align(torch.from_numpy(x), torch.from_numpy(rois), (3, 4), scale, ratio)
        np.testing.assert_allclose(opticore.ps_roi_align(x, rois, (3, 4), scale, ratio), expected.numpy(),
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(opticore.ps_roi_pool(x, rois, (3, 4), scale),
                                   reference_ps_roi_pool(x, rois, (3, 4), scale), rtol=0, atol=1e-12)
    # float32, channels-last and non-contiguous inputs: the same numbers.
    x32 = x.astype(np.float32)
    base = opticore.ps_roi_align(x32, rois.astype(np.float32), (3, 4))
    t = torch.from_numpy(x32).to(memory_format=torch.channels_last)
    np.testing.assert_array_equal(opticore.ps_roi_align(t, torch.from_numpy(rois).float(), (3, 4)).numpy(), base)
    np.testing.assert_array_equal(opticore.ps_roi_align(x32[:, :, ::-1, :][:, :, ::-1, :], rois.astype(np.float32),
                                                        (3, 4)), base)
    np.testing.assert_allclose(base, opticore.ps_roi_align(x, rois, (3, 4)), rtol=1e-5, atol=1e-5)


def test_gradcheck_and_double_backward() -> None:
    x, rois = random_case(3, c_out=2, size=(2, 2))
    xt = torch.tensor(x[:2, :, :9, :8], requires_grad=True)
    r = torch.from_numpy(rois[:6]) * torch.tensor([0, 0.4, 0.4, 0.4, 0.4], dtype=torch.float64)
    r[:, 0] = torch.tensor([0, 1, 0, 1, 0, 1], dtype=torch.float64)
    for op in (lambda t: opticore.ps_roi_align(t, r, 2, 1.0, 2), lambda t: opticore.ps_roi_pool(t, r, 2)):
        assert torch.autograd.gradcheck(op, (xt,))
        assert torch.autograd.gradgradcheck(op, (xt,))


def test_half_precision_and_errors() -> None:
    x, rois = random_case(4)
    half = opticore.ps_roi_align(torch.from_numpy(x).half(), torch.from_numpy(rois), (3, 4))
    assert half.dtype == torch.float16
    np.testing.assert_allclose(half.float().numpy(), opticore.ps_roi_align(x, rois, (3, 4)), rtol=0, atol=2e-2)
    with pytest.raises(ValueError, match="input: expected channels divisible by output_size\\[0\\] \\* "
                                         "output_size\\[1\\] = 12, got 61"):
        opticore.ps_roi_align(np.zeros((1, 61, 5, 5)), rois[:1] * 0, (3, 4))
    with pytest.raises(ValueError, match="input: expected channels divisible"):
        opticore.ps_roi_pool(torch.zeros(1, 5, 5, 5), torch.zeros(1, 5, dtype=torch.float64), 2)
    bad = rois[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="rois: expected finite coordinates"):
        opticore.ps_roi_pool(x, bad, (3, 4))
    assert opticore.ps_roi_align(x, np.zeros((0, 5)), (3, 4)).shape == (0, 5, 3, 4)


def test_compile_export_and_opcheck() -> None:
    from opticore.torch import ops

    x, rois = random_case(5, c_out=2, size=(2, 2))
    xt, rt = torch.from_numpy(x).float(), torch.from_numpy(rois).float()
    for op, args in [(ops().ps_roi_align, (xt, rt, 0.5, 2, 2, 2)), (ops().ps_roi_pool, (xt, rt, 0.5, 2, 2))]:
        torch.library.opcheck(op, args)
    compiled = torch.compile(lambda a, b: opticore.ps_roi_align(a, b, 2, 0.5) + opticore.ps_roi_pool(a, b, 2, 0.5),
                             fullgraph=True)
    torch.testing.assert_close(compiled(xt, rt), opticore.ps_roi_align(xt, rt, 2, 0.5) +
                               opticore.ps_roi_pool(xt, rt, 2, 0.5))

    class Head(torch.nn.Module):
        def forward(self, a: "torch.Tensor", b: "torch.Tensor") -> "torch.Tensor":
            return opticore.ps_roi_align(a, b, 2, 0.5)

    exported = torch.export.export(Head(), (xt, rt))
    torch.testing.assert_close(exported.module()(xt, rt), opticore.ps_roi_align(xt, rt, 2, 0.5))


def test_multi_scale_roi_align_equals_torchvision() -> None:
    from opticore.nn import MultiScaleRoIAlign

    names = ["p2", "p3", "p4", "p5"]
    maps = {name: torch.tensor(FIXTURES[f"msra_{name}"], requires_grad=True) for name in names}
    boxes = [torch.from_numpy(FIXTURES["msra_boxes0"]), torch.from_numpy(FIXTURES["msra_boxes1"])]
    pool = MultiScaleRoIAlign(names, (7, 5), 2)
    y = pool(maps, boxes, [(128, 160), (120, 150)])
    (y * torch.from_numpy(FIXTURES["msra_weights"])).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), FIXTURES["msra_out"], rtol=0, atol=1e-12)
    for name in names:
        np.testing.assert_allclose(maps[name].grad.numpy(), FIXTURES[f"msra_grad_{name}"], rtol=0, atol=1e-12)
    # Every level is used, and the NumPy path gives the same numbers.
    all_boxes = np.concatenate([FIXTURES["msra_boxes0"], FIXTURES["msra_boxes1"]])
    assert set(opticore.fpn_levels(all_boxes, 2, 5).tolist()) == {0, 1, 2, 3}
    ours = opticore.multi_scale_roi_align([FIXTURES[f"msra_{n}"] for n in names], [b.numpy() for b in boxes], (7, 5),
                                          [1 / 4, 1 / 8, 1 / 16, 1 / 32])
    np.testing.assert_array_equal(ours, y.detach().numpy())


def test_fpn_levels_rule_and_errors() -> None:
    # floor(4 + log2(sqrt(area) / 224) + 1e-6), clamped to [2, 5], minus 2: powers of two land exactly.
    sides = np.array([1.0, 55.9, 56.0, 111.9, 112.0, 224.0, 447.0, 448.0, 5000.0])
    boxes = np.stack([np.zeros_like(sides), np.zeros_like(sides), sides, sides], 1)
    np.testing.assert_array_equal(opticore.fpn_levels(boxes, 2, 5), [0, 0, 0, 0, 1, 2, 2, 3, 3])
    levels = opticore.fpn_levels(torch.from_numpy(boxes), 2, 5)
    np.testing.assert_array_equal(levels.numpy(), [0, 0, 0, 0, 1, 2, 2, 3, 3])
    assert opticore.fpn_levels(np.array([[5.0, 5.0, 1.0, 1.0]]), 2, 5).tolist() == [0]  # inverted: area 0
    with pytest.raises(ValueError, match="k_max"):
        opticore.fpn_levels(boxes, 3, 2)
    with pytest.raises(ValueError, match="spatial_scales: expected powers of two"):
        opticore.multi_scale_roi_align([FEATURES, FEATURES], ROIS, 2, [0.5, 0.3])
    with pytest.raises(ValueError, match="one scale per feature map"):
        opticore.multi_scale_roi_align([FEATURES, FEATURES], ROIS, 2, [0.5])


@pytest.mark.parametrize("op", ["roi_align", "ps_roi_align"])
def test_in_place_and_staged_kernels_agree(op: str) -> None:
    # Many RoIs on a small map stage a channels-last copy; one RoI on it reads the map in place.
    # Both give the same bits, forward and backward.
    x, rois = random_case(6)
    x = torch.tensor(x, requires_grad=True)
    rois_t = torch.from_numpy(rois)
    f = getattr(opticore, op)
    all_at_once = f(x, rois_t, (3, 4), 0.8, 2)
    weights = torch.from_numpy(np.random.default_rng(7).normal(0, 1, tuple(all_at_once.shape)))
    (grad_all,) = torch.autograd.grad((all_at_once * weights).sum(), x)
    one_by_one = torch.cat([f(x, rois_t[k:k + 1], (3, 4), 0.8, 2) for k in range(len(rois))])
    assert torch.equal(all_at_once, one_by_one)
    grad_sum = sum(torch.autograd.grad((f(x, rois_t[k:k + 1], (3, 4), 0.8, 2) * weights[k:k + 1]).sum(), x)[0]
                   for k in range(len(rois)))
    torch.testing.assert_close(grad_all, grad_sum, rtol=1e-12, atol=1e-12)
