"""MiniFASNet: the reference's parameter counts for every variant and the FT head, the shapes of
both outputs, the SE modules where the reference has them, torch.export of the classifier (run
back and compared with the eager model), and the argument checks."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from opticore.models.minifasnet import FTHead, MiniFASNet, MiniFASNetFT, minifasnet  # noqa: E402

# Silent-Face-Anti-Spoofing's counts for 3 classes, 128-d embedding, 5x5 final kernel (80x80 input).
COUNTS = {"v1": 414_354, "v2": 434_560, "v1se": 433_586, "v2se": 453_792}
FT_HEAD = 222_339


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("variant", sorted(COUNTS))
def test_parameter_counts_and_shapes(variant: str) -> None:
    net = MiniFASNet(variant)
    assert n_params(net) == COUNTS[variant]
    with_ft = MiniFASNetFT(variant)
    assert n_params(with_ft) == COUNTS[variant] + FT_HEAD
    assert n_params(minifasnet(variant, ft_head=True)) == COUNTS[variant] + FT_HEAD
    x = torch.rand(3, 3, 80, 80)
    logits, ft = with_ft(x)
    assert logits.shape == (3, 3) and ft is not None and ft.shape == (3, 1, 10, 10)
    assert (ft >= 0).all()  # ReLU output, like the normalised spectrum it regresses
    se_modules = sum(type(m).__name__ == "_SqueezeExcite" for m in net.modules())
    assert se_modules == (3 if variant.endswith("se") else 0)  # the last block of each residual stage


def test_two_classes_other_sizes_and_no_head() -> None:
    assert MiniFASNet("v2", num_classes=2)(torch.rand(2, 3, 80, 80)).shape == (2, 2)
    assert MiniFASNet("v1se", conv6_kernel=7).eval()(torch.rand(1, 3, 112, 112)).shape == (1, 3)
    logits, ft = MiniFASNetFT("v1", ft_head=False)(torch.rand(2, 3, 80, 80))
    assert ft is None and logits.shape == (2, 3)
    assert n_params(FTHead(128)) == FT_HEAD
    with pytest.raises(ValueError, match="variant: expected one of"):
        MiniFASNet("v3")
    with pytest.raises(ValueError, match="num_classes: expected >= 2"):
        MiniFASNet("v1", num_classes=1)


def test_train_and_eval_agree_on_the_shared_trunk() -> None:
    # MiniFASNetFT's logits are its classifier's: the head only adds an output.
    torch.manual_seed(0)
    net = MiniFASNetFT("v2se").eval()
    x = torch.rand(4, 3, 80, 80)
    torch.testing.assert_close(net(x)[0], net.model(x))


def test_torch_export_runs_like_eager() -> None:
    torch.manual_seed(1)
    net = MiniFASNet("v2se").eval()
    with torch.no_grad():  # non-trivial batch-norm statistics
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.rand(2, 3, 80, 80)
    batch = torch.export.Dim("batch", min=1, max=64)
    exported = torch.export.export(net, (x,), dynamic_shapes={"x": {0: batch}})
    for n in (1, 2, 5):
        y = torch.rand(n, 3, 80, 80)
        torch.testing.assert_close(exported.module()(y), net(y), rtol=1e-5, atol=1e-5)
