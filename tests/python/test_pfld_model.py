"""PFLD, its auxiliary network and loss: parameter counts from the paper's table computed
independently, the loss against hand-computed values (radians, zero-attribute samples), and
torch.export."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from opticore.models.pfld import PFLD, AuxiliaryNet, PFLDLoss, attribute_weights, channels  # noqa: E402


def _conv(cin: int, cout: int, k: int, groups: int = 1, bn: bool = True, bias: bool = False) -> int:
    return cin // groups * cout * k * k + (2 * cout if bn else 0) + (cout if bias else 0)


def _bottleneck(cin: int, cout: int, t: int) -> int:
    hidden = cin * t
    return _conv(cin, hidden, 1) + _conv(hidden, hidden, 3, groups=hidden) + _conv(hidden, cout, 1)


def _expected_params(k: int, w: float) -> tuple[int, int]:
    """The paper's Table 1 counted by hand: (backbone + head, auxiliary net)."""
    c = {n: max(8, round(n * w / 8) * 8) for n in (16, 32, 64, 128)}
    n = _conv(3, c[64], 3) + _conv(c[64], c[64], 3, groups=c[64])
    n += 5 * _bottleneck(c[64], c[64], 2)
    n += _bottleneck(c[64], c[128], 2) + 6 * _bottleneck(c[128], c[128], 4) + _bottleneck(c[128], c[16], 2)
    n += _conv(c[16], c[32], 3) + _conv(c[32], c[128], 7, bn=False, bias=True)
    n += (c[16] + c[32] + c[128]) * 2 * k + 2 * k
    aux = _conv(c[64], c[128], 3) + _conv(c[128], c[128], 3) + _conv(c[128], c[32], 3) + _conv(c[32], c[128], 7)
    aux += c[128] * 32 + 32 + 32 * 3 + 3
    return n, aux


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# Measured counts (float32 MB = 4 bytes each / 1e6) beside the paper's model sizes: the paper gives
# 2.1 MB for PFLD 0.25X and 12.5 MB for 1X without saying how channels are scaled; here every
# channel count is scaled (MobileNetV2 rounding), so 0.25X is smaller than the paper's.
COUNTS = {(98, 0.25): (95_716, 30_035), (68, 0.25): (92_776, 30_035),
          (98, 1.0): (1_228_260, 463_811), (68, 1.0): (1_217_640, 463_811)}


@pytest.mark.parametrize("k, w", sorted(COUNTS))
def test_parameter_counts(k: int, w: float) -> None:
    model = PFLD(k, w)
    aux = AuxiliaryNet(model.feature_channels, w)
    assert (_count(model), _count(aux)) == _expected_params(k, w) == COUNTS[(k, w)]


@pytest.mark.parametrize("k, w", [(98, 0.25), (68, 1.0)])
def test_shapes_and_features(k: int, w: float) -> None:
    model = PFLD(k, w).eval()
    x = torch.rand(3, 3, 112, 112)
    landmarks, features = model.forward_features(x)
    assert landmarks.shape == (3, k, 2) and features.shape == (3, channels(64, w), 28, 28)
    assert torch.equal(model(x), landmarks)
    assert AuxiliaryNet(model.feature_channels, w)(features).shape == (3, 3)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="num_landmarks: expected 68 or 98, got 5"):
        PFLD(5)
    with pytest.raises(ValueError, match="width: expected 0.25 or 1.0, got 0.5"):
        PFLD(98, 0.5)
    with pytest.raises(ValueError, match=r"pred, target: expected equal shapes"):
        PFLDLoss()(torch.zeros(2, 3, 2), torch.zeros(2, 4, 2), torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2))
    with pytest.raises(ValueError, match=r"weights: expected shapes \(2, 3\), \(2, 3\), \(2,\)"):
        PFLDLoss()(torch.zeros(2, 3, 2), torch.zeros(2, 3, 2), torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(3))
    with pytest.raises(ValueError, match="attributes, frequencies"):
        attribute_weights(torch.zeros(2, 6), torch.ones(5))


def test_attribute_weights_by_hand() -> None:
    attributes = torch.tensor([[1, 0, 0], [1, 0, 1], [0, 0, 0], [0, 1, 0]])
    frequencies = torch.tensor([0.5, 0.0, 0.25])  # class 1 never occurs in training: weight 0
    weights = attribute_weights(attributes, frequencies)
    assert weights.tolist() == [2.0, 6.0, 1.0, 1.0]  # 1/0.5; 1/0.5 + 1/0.25; none set -> 1; unseen -> 1


def test_loss_by_hand() -> None:
    # Sample 0: two points off by (3, 4) and (0, 1): ||d||^2 = 25 + 1 = 26. Yaw off by pi/3
    # (1 - cos = 0.5), pitch off by pi/2 (1), roll exact (0): pose term 1.5. Weight 2.
    # Sample 1: one point off by (1, 1): ||d||^2 = 2; roll off by pi (1 - cos = 2); no attribute: weight 1.
    pred = torch.tensor([[[3.0, 4.0], [0.0, 1.0]], [[1.0, 1.0], [0.0, 0.0]]])
    target = torch.zeros(2, 2, 2)
    angles_pred = torch.tensor([[math.pi / 3, -math.pi / 2, 0.25], [0.0, 0.0, math.pi]])
    angles_target = torch.tensor([[0.0, 0.0, 0.25], [0.0, 0.0, 0.0]])
    weights = attribute_weights(torch.tensor([[1, 0], [0, 0]]), torch.tensor([0.5, 0.5]))
    assert weights.tolist() == [2.0, 1.0]
    loss = PFLDLoss()(pred, target, angles_pred, angles_target, weights)
    assert float(loss) == pytest.approx((2 * 1.5 * 26 + 1 * 2 * 2) / 2, rel=1e-6)  # 41.0


def test_loss_gradient_reaches_both_networks() -> None:
    model = PFLD(68, 0.25)
    aux = AuxiliaryNet(model.feature_channels, 0.25)
    landmarks, features = model.forward_features(torch.rand(2, 3, 112, 112))
    loss = PFLDLoss()(landmarks, torch.rand(2, 68, 2), aux(features), torch.rand(2, 3), torch.ones(2))
    loss.backward()
    assert model.fc.weight.grad is not None and model.fc.weight.grad.abs().sum() > 0
    assert aux.body[-1].weight.grad is not None and aux.body[-1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("w", [0.25, 1.0])
def test_torch_export_matches_eager(w: float) -> None:
    torch.manual_seed(0)
    model = PFLD(98, w).eval()
    x = torch.rand(2, 3, 112, 112)
    exported = torch.export.export(model, (x,))
    y = torch.rand(2, 3, 112, 112)
    torch.testing.assert_close(exported.module()(y), model(y), rtol=1e-5, atol=1e-5)
