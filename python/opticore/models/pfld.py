"""PFLD, "A Practical Facial Landmark Detector" (Guo et al., 2019): backbone, auxiliary pose
network and the weighted loss.

Input and output conventions:

* Input: ``(N, 3, 112, 112)`` float32, pixel values divided by 255 (``[0, 1]``), channels in the
  order the model was trained with (opticore's trainers keep OpenCV's BGR).
* Output: ``(N, K, 2)`` float32 landmarks ``(x, y)`` in crop units: ``0`` is the left / top edge of
  the crop and ``1`` the right / bottom edge, so pixel coordinates in a ``S x S`` crop are
  ``landmarks * S`` (pixel centres at integers, as in OpenCV, sit at ``(i + 0.5) / S``).

Architecture (the paper's Table 1; ``w`` = ``width``, channel counts ``c`` become
``max(8, round(c * w / 8) * 8)``, MobileNetV2's rounding):

======================  ==========  =====  ==  ==  ====================
stage                   t (expand)  c      n   s   output (1X)
======================  ==========  =====  ==  ==  ====================
conv 3x3                            64     1   2   56 x 56 x 64
depthwise conv 3x3                  64     1   1   56 x 56 x 64
bottleneck              2           64     5   2   28 x 28 x 64 (to aux)
bottleneck              2           128    1   2   14 x 14 x 128
bottleneck              4           128    6   1   14 x 14 x 128
bottleneck              2           16     1   1   14 x 14 x 16   (S1)
conv 3x3                            32     1   2   7 x 7 x 32     (S2)
conv 7x7 (valid)                    128    1   1   1 x 1 x 128    (S3)
fully connected                     2K             avg(S1), avg(S2), S3
======================  ==========  =====  ==  ==  ====================

The auxiliary network (training only) takes the 28 x 28 features: conv 3x3 / 128 / s2, conv 3x3 /
128, conv 3x3 / 32 / s2, conv 7x7 / 128 (valid), max pool, FC 32, FC 3 (yaw, pitch, roll in
radians).
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

__all__ = ["PFLD", "AuxiliaryNet", "PFLDLoss", "attribute_weights", "channels"]


def channels(c: int, width: float) -> int:
    """Channel count ``c`` scaled by ``width``, rounded to a multiple of 8, at least 8.

    Example:
        >>> from opticore.models.pfld import channels
        >>> channels(64, 0.25), channels(16, 0.25), channels(128, 1.0)
        (16, 8, 128)
    """
    return max(8, int(round(c * width / 8)) * 8)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int, *, groups: int = 1, relu: bool = True,
             padding: Optional[int] = None) -> nn.Sequential:
    pad = kernel // 2 if padding is None else padding
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, pad, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Bottleneck(nn.Module):
    """MobileNetV2 inverted residual: 1x1 expand, 3x3 depthwise, 1x1 linear projection; a skip
    connection when the shape is kept."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.skip = stride == 1 and cin == cout
        self.body = nn.Sequential(
            _conv_bn(cin, hidden, 1, 1),
            _conv_bn(hidden, hidden, 3, stride, groups=hidden),
            _conv_bn(hidden, cout, 1, 1, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.skip else y


def _stage(cin: int, cout: int, stride: int, expand: int, repeats: int) -> nn.Sequential:
    blocks = [_Bottleneck(cin, cout, stride, expand)]
    blocks += [_Bottleneck(cout, cout, 1, expand) for _ in range(repeats - 1)]
    return nn.Sequential(*blocks)


class PFLD(nn.Module):
    """The PFLD landmark network (the backbone and multi-scale head of the paper).

    Args:
        num_landmarks: 98 (WFLW) or 68 (300-W / iBUG).
        width: channel multiplier, 0.25 ("PFLD 0.25X") or 1.0 ("PFLD 1X").

    ``forward(x)`` returns the ``(N, K, 2)`` landmarks (see the module docstring for units);
    :meth:`forward_features` also returns the ``(N, C, 28, 28)`` features the
    :class:`AuxiliaryNet` takes during training. The forward pass has no data-dependent control
    flow, so ``torch.export.export(model.eval(), (x,))`` works.

    Example:
        >>> import torch
        >>> from opticore.models.pfld import PFLD
        >>> model = PFLD(num_landmarks=68, width=0.25).eval()
        >>> model(torch.zeros(2, 3, 112, 112)).shape
        torch.Size([2, 68, 2])
    """

    def __init__(self, num_landmarks: int = 98, width: float = 0.25) -> None:
        super().__init__()
        if num_landmarks not in (68, 98) or isinstance(num_landmarks, bool):
            raise ValueError(f"num_landmarks: expected 68 or 98, got {num_landmarks!r}")
        if width not in (0.25, 1.0) or isinstance(width, bool):
            raise ValueError(f"width: expected 0.25 or 1.0, got {width!r}")
        self.num_landmarks = int(num_landmarks)
        self.width = float(width)
        c64, c128, c16, c32 = (channels(c, width) for c in (64, 128, 16, 32))
        self.stem = nn.Sequential(_conv_bn(3, c64, 3, 2), _conv_bn(c64, c64, 3, 1, groups=c64))
        self.stage1 = _stage(c64, c64, 2, 2, 5)  # 28 x 28: also feeds the auxiliary network
        self.stage2 = nn.Sequential(_stage(c64, c128, 2, 2, 1), _stage(c128, c128, 1, 4, 6),
                                    _stage(c128, c16, 1, 2, 1))  # 14 x 14: S1
        self.conv_s2 = _conv_bn(c16, c32, 3, 2)  # 7 x 7: S2
        self.conv_s3 = nn.Sequential(nn.Conv2d(c32, c128, 7, 1, 0), nn.ReLU(inplace=True))  # 1 x 1: S3
        self.fc = nn.Linear(c16 + c32 + c128, 2 * self.num_landmarks)
        self.feature_channels = c64

    def forward_features(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(landmarks (N, K, 2), features (N, C, 28, 28))`` for a ``(N, 3, 112, 112)`` batch."""
        features = self.stage1(self.stem(x))
        s1 = self.stage2(features)
        s2 = self.conv_s2(s1)
        s3 = self.conv_s3(s2)
        head = torch.cat([s1.mean(dim=(2, 3)), s2.mean(dim=(2, 3)), s3.flatten(1)], dim=1)
        return self.fc(head).reshape(-1, self.num_landmarks, 2), features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[0]


class AuxiliaryNet(nn.Module):
    """PFLD's auxiliary network: yaw, pitch, roll (radians) from the backbone's 28 x 28 features.

    Used during training only, to weight the landmark loss by the pose error (:class:`PFLDLoss`).

    Args:
        in_channels: channels of :meth:`PFLD.forward_features`' features (``model.feature_channels``).
        width: the backbone's width multiplier (scales the auxiliary channels the same way).

    Example:
        >>> import torch
        >>> from opticore.models.pfld import PFLD, AuxiliaryNet
        >>> model = PFLD(68, 0.25)
        >>> aux = AuxiliaryNet(model.feature_channels, 0.25)
        >>> aux(model.forward_features(torch.zeros(2, 3, 112, 112))[1]).shape
        torch.Size([2, 3])
    """

    def __init__(self, in_channels: int, width: float = 0.25) -> None:
        super().__init__()
        c128, c32 = channels(128, width), channels(32, width)
        self.body = nn.Sequential(
            _conv_bn(in_channels, c128, 3, 2), _conv_bn(c128, c128, 3, 1), _conv_bn(c128, c32, 3, 2),
            _conv_bn(c32, c128, 7, 1, padding=0), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
            nn.Linear(c128, 32), nn.ReLU(inplace=True), nn.Linear(32, 3),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.body(features)


def attribute_weights(attributes: torch.Tensor, frequencies: torch.Tensor) -> torch.Tensor:
    """Per-sample attribute weights ``w_n = sum_c a_nc / f_c`` over the classes with ``f_c > 0``;
    ``w_n = 1`` (not 0) when no such ``a_nc`` is set.

    Args:
        attributes: ``(N, C)`` 0/1 flags (any dtype), e.g. WFLW's pose, expression, illumination,
            make-up, occlusion, blur.
        frequencies: ``(C,)`` fraction of training samples with each attribute (a class with
            ``f_c = 0``, which no training sample has, is ignored).

    Returns:
        float32 ``(N,)``.

    Example:
        >>> import torch
        >>> from opticore.models.pfld import attribute_weights
        >>> attribute_weights(torch.tensor([[1, 0], [1, 1], [0, 0]]), torch.tensor([0.5, 0.25]))
        tensor([2., 6., 1.])
    """
    a = attributes.float()
    f = frequencies.float()
    if a.ndim != 2 or f.shape != (a.shape[1],):
        raise ValueError(f"attributes, frequencies: expected shapes (N, C) and (C,), got {tuple(a.shape)} "
                         f"and {tuple(f.shape)}")
    seen = f > 0
    weights = a @ torch.where(seen, 1.0 / f.clamp(min=1e-12), torch.zeros_like(f))
    return torch.where((a * seen).sum(dim=1) > 0, weights, torch.ones_like(weights))


class PFLDLoss(nn.Module):
    """PFLD's weighted landmark loss (the paper's equation 2), with the pose error in radians.

    ``L = 1/N sum_n w_n * (sum_k (1 - cos(theta_nk))) * ||d_n||^2``, where ``theta_nk`` is the
    difference between the predicted and the ground-truth yaw, pitch, roll of sample ``n``
    (radians), ``d_n`` the ``(K, 2)`` landmark error (in the units of the landmarks: crop units for
    :class:`PFLD`) and ``w_n`` the attribute weight of :func:`attribute_weights` (inverse class
    frequencies, 1 for a sample with no attribute set). ``||d_n||^2`` sums the squared errors over
    the K landmarks.

    ``forward(pred, target, angles_pred, angles_target, weights)``: ``pred``, ``target`` ``(N, K, 2)``;
    angles ``(N, 3)`` radians; ``weights`` ``(N,)``. Returns the scalar loss.

    Example:
        >>> import math, torch
        >>> from opticore.models.pfld import PFLDLoss
        >>> pred, target = torch.zeros(1, 2, 2), torch.tensor([[[3.0, 4.0], [0.0, 0.0]]])
        >>> angles = torch.tensor([[math.pi / 2, 0.0, 0.0]])  # yaw off by 90 degrees: 1 - cos = 1
        >>> float(PFLDLoss()(pred, target, angles, torch.zeros(1, 3), torch.ones(1)))
        25.0
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor, angles_pred: torch.Tensor,
                angles_target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if pred.shape != target.shape or pred.ndim != 3 or pred.shape[-1] != 2:
            raise ValueError(f"pred, target: expected equal shapes (N, K, 2), got {tuple(pred.shape)} and "
                             f"{tuple(target.shape)}")
        n = pred.shape[0]
        if angles_pred.shape != (n, 3) or angles_target.shape != (n, 3) or weights.shape != (n,):
            raise ValueError(f"angles_pred, angles_target, weights: expected shapes ({n}, 3), ({n}, 3), ({n},), got "
                             f"{tuple(angles_pred.shape)}, {tuple(angles_target.shape)}, {tuple(weights.shape)}")
        pose = (1.0 - torch.cos(angles_pred - angles_target)).sum(dim=1)
        squared = ((pred - target) ** 2).sum(dim=(1, 2))
        return (weights * pose * squared).mean()
