"""MiniFASNet face anti-spoofing networks (V1, V2, V1SE, V2SE) and the Fourier (FT) auxiliary head.

The architecture of minivision's Silent-Face-Anti-Spoofing: a pruned MobileFaceNet whose channel
widths come from a per-variant table (V1 and V2 differ only in it), SE variants add a
squeeze-and-excitation module to the last block of each residual stage, and training adds a
small convolutional head that regresses the Fourier spectrum of the input
(:func:`opticore.fourier_spectrum`) from the 10x10 feature map of stage 4. Parameter counts for
3 classes, 128-d embedding and 80x80 input: V1 414,354, V2 434,560, V1SE 433,586, V2SE 453,792;
the FT head adds 222,339.

Conventions:

* input: float ``(N, 3, 80, 80)`` (any ``H = W = 16 * conv6_kernel``), BGR, pixel values / 255
  (``[0, 1]``) — :class:`opticore.data.liveness.LivenessDataset` produces exactly this;
* output: class logits ``(N, num_classes)``; the 3-class ids are 0 print attack, 1 live,
  2 replay attack (2 classes: 0 spoof, 1 live);
* :class:`MiniFASNetFT` returns ``(logits, ft)`` with ``ft`` ``(N, 1, 10, 10)``, the head's
  estimate of the normalised spectrum.

``forward`` has no data-dependent control flow, so :class:`MiniFASNet` exports with
``torch.export.export`` (e.g. for the runtime's AOTInductor package).
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

__all__ = ["VARIANTS", "FTHead", "MiniFASNet", "MiniFASNetFT", "minifasnet"]

# Channel widths of the pruned MobileFaceNet, 49 per variant (index use: see MiniFASNet).
_WIDTHS_V1 = [32, 32, 103, 103, 64, 13, 13, 64, 26, 26, 64, 13, 13, 64, 52, 52, 64, 231, 231, 128,
              154, 154, 128, 52, 52, 128, 26, 26, 128, 52, 52, 128, 26, 26, 128, 26, 26, 128, 308, 308,
              128, 26, 26, 128, 26, 26, 128, 512, 512]
_WIDTHS_V2 = [32, 32, 103, 103, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 13, 13, 64, 231, 231, 128,
              231, 231, 128, 52, 52, 128, 26, 26, 128, 77, 77, 128, 26, 26, 128, 26, 26, 128, 308, 308,
              128, 26, 26, 128, 26, 26, 128, 512, 512]

#: variant name -> (channel widths, squeeze-and-excitation)
VARIANTS: Dict[str, Tuple[List[int], bool]] = {
    "v1": (_WIDTHS_V1, False),
    "v2": (_WIDTHS_V2, False),
    "v1se": (_WIDTHS_V1, True),
    "v2se": (_WIDTHS_V2, True),
}


class _ConvBN(nn.Sequential):
    """Convolution without bias, batch norm, then PReLU (``act=True``) or nothing (linear)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, stride: int = 1, groups: int = 1, act: bool = True):
        layers: List[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2 if kernel == 3 else 0, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act:
            layers.append(nn.PReLU(cout))
        super().__init__(*layers)


class _SqueezeExcite(nn.Module):
    """Channel gates from the global mean: 1x1 convs with batch norm, reduction 4, sigmoid."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        mid = channels // reduction
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.Conv2d(mid, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class _DepthWise(nn.Module):
    """Inverted bottleneck: 1x1 expand (widths w0 -> w1), 3x3 depthwise (w1 -> w2, stride),
    linear 1x1 project (w2 -> w3), optional SE, optional residual."""

    def __init__(self, w: Sequence[int], stride: int, residual: bool, se: bool):
        super().__init__()
        self.expand = _ConvBN(w[0], w[1])
        self.depthwise = _ConvBN(w[1], w[2], kernel=3, stride=stride, groups=w[1])
        self.project = _ConvBN(w[2], w[3], act=False)
        self.se = _SqueezeExcite(w[3]) if se else nn.Identity()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.se(self.project(self.depthwise(self.expand(x))))
        return x + y if self.residual else y


def _stage(widths: List[int], start: int, blocks: int, se: bool) -> nn.Sequential:
    # Block i reads widths[start + 3i .. start + 3i + 3]; SE goes on the last block only.
    return nn.Sequential(*[
        _DepthWise(widths[start + 3 * i: start + 3 * i + 4], 1, residual=True, se=se and i == blocks - 1)
        for i in range(blocks)
    ])


class MiniFASNet(nn.Module):
    """The MiniFASNet classifier.

    Args:
        variant: ``"v1"``, ``"v2"``, ``"v1se"`` or ``"v2se"``.
        num_classes: 3 (print, live, replay) or 2 (spoof, live), or any count >= 2.
        embedding_size: width of the embedding before the classifier.
        conv6_kernel: side of the final depthwise kernel; the input side is ``16 * conv6_kernel``.
        dropout: dropout before the classifier (training only).
        in_channels: image channels.

    Example:
        >>> import torch
        >>> from opticore.models.minifasnet import MiniFASNet
        >>> net = MiniFASNet("v2se").eval()
        >>> net(torch.zeros(2, 3, 80, 80)).shape
        torch.Size([2, 3])
        >>> sum(p.numel() for p in net.parameters())
        453792
    """

    def __init__(self, variant: str = "v2se", num_classes: int = 3, embedding_size: int = 128,
                 conv6_kernel: int = 5, dropout: float = 0.2, in_channels: int = 3):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant: expected one of {sorted(VARIANTS)}, got {variant!r}")
        if num_classes < 2:
            raise ValueError(f"num_classes: expected >= 2, got {num_classes}")
        w, se = VARIANTS[variant]
        self.variant, self.num_classes, self.input_size = variant, num_classes, 16 * conv6_kernel
        self.conv1 = _ConvBN(in_channels, w[0], kernel=3, stride=2)
        self.conv2_dw = _ConvBN(w[0], w[1], kernel=3, groups=w[1])
        self.conv_23 = _DepthWise(w[1:5], 2, residual=False, se=False)
        self.conv_3 = _stage(w, 4, 4, se)
        self.conv_34 = _DepthWise(w[16:20], 2, residual=False, se=False)
        self.conv_4 = _stage(w, 19, 6, se)
        self.conv_45 = _DepthWise(w[37:41], 2, residual=False, se=False)
        self.conv_5 = _stage(w, 40, 2, se)
        self.conv_6_sep = _ConvBN(w[46], w[47])
        self.conv_6_dw = _ConvBN(w[47], w[48], kernel=conv6_kernel, groups=w[48], act=False)
        self.linear = nn.Linear(w[48], embedding_size, bias=False)
        self.bn = nn.BatchNorm1d(embedding_size)
        self.drop = nn.Dropout(dropout)
        self.prob = nn.Linear(embedding_size, num_classes, bias=False)
        self.feature_channels = w[37]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The stage-4 map ``(N, 128, H / 8, W / 8)`` the FT head reads."""
        x = self.conv_23(self.conv2_dw(self.conv1(x)))
        return self.conv_4(self.conv_34(self.conv_3(x)))

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from the stage-4 map."""
        x = self.conv_6_dw(self.conv_6_sep(self.conv_5(self.conv_45(features))))
        return self.prob(self.drop(self.bn(self.linear(torch.flatten(x, 1)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


class FTHead(nn.Module):
    """The Fourier-spectrum generator: three 3x3 convolutions (128, 64, 1 channels) with batch norm
    and ReLU, from the stage-4 map to a ``(N, 1, H / 8, W / 8)`` map (non-negative, as the target)."""

    def __init__(self, in_channels: int = 128):
        super().__init__()
        layers: List[nn.Module] = []
        for cin, cout in ((in_channels, 128), (128, 64), (64, 1)):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU()]
        self.ft = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.ft(features)


class MiniFASNetFT(nn.Module):
    """A :class:`MiniFASNet` trained with the FT head: ``forward`` returns ``(logits, ft)`` (``ft``
    is None without the head). Export ``.model``, the classifier alone.

    Example:
        >>> import torch
        >>> from opticore.models.minifasnet import MiniFASNetFT
        >>> logits, ft = MiniFASNetFT("v2se")(torch.zeros(2, 3, 80, 80))
        >>> tuple(logits.shape), tuple(ft.shape)
        ((2, 3), (2, 1, 10, 10))
    """

    def __init__(self, variant: str = "v2se", num_classes: int = 3, ft_head: bool = True, **kwargs: float):
        super().__init__()
        self.model = MiniFASNet(variant, num_classes, **kwargs)  # type: ignore[arg-type]
        self.ft: Optional[FTHead] = FTHead(self.model.feature_channels) if ft_head else None

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        features = self.model.features(x)
        return self.model.classify(features), (self.ft(features) if self.ft is not None else None)


def minifasnet(variant: str = "v2se", num_classes: int = 3, *, ft_head: bool = False) -> nn.Module:
    """A fresh MiniFASNet (``ft_head=False``) or one with its FT head (:class:`MiniFASNetFT`).

    Example:
        >>> from opticore.models.minifasnet import minifasnet
        >>> sum(p.numel() for p in minifasnet("v1", ft_head=True).parameters())
        636693
    """
    return MiniFASNetFT(variant, num_classes) if ft_head else MiniFASNet(variant, num_classes)
