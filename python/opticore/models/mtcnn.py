"""MTCNN's three networks (Zhang et al. 2016, "Joint Face Detection and Alignment using
Multi-task Cascaded Convolutional Networks"): P-Net, R-Net and O-Net, with the trained weights
that the ``facenet-pytorch`` package (MIT licence) ships as ``facenet_pytorch/data/{pnet,rnet,
onet}.pt``. Only those files are read: ``pip install --no-deps facenet-pytorch`` is enough, the
package itself (which needs torchvision) is never imported.

Input and output conventions (every stage):

* Input: ``(N, 3, H, W)`` float32, **RGB**, pixel values ``v`` normalised as
  ``(v - 127.5) * 0.0078125`` (so ``[-1, 1)``), as the weights were trained.
  :class:`opticore.FaceDetector` does this conversion (and the BGR flip) itself.
* P-Net (fully convolutional, any ``H, W >= 12``): ``reg (N, 4, H', W')`` and ``prob
  (N, H', W')`` with ``H' = ceil((H - 2) / 2) - 4``: one 12 x 12 window every 2 pixels.
* R-Net (``24 x 24`` crops): ``reg (N, 4)``, ``prob (N,)``.
* O-Net (``48 x 48`` crops): ``reg (N, 4)``, ``landmarks (N, 10)`` (the x of the five points,
  then their y, as fractions of the crop) and ``prob (N,)``.
* ``reg`` is the box correction ``(dx1, dy1, dx2, dy2)`` as fractions of the box's size; ``prob``
  the face probability (the softmax of the two-class head, face column).

Architecture (the paper's Figure 2; PReLU after every convolution and hidden dense layer, max
pools with ``ceil_mode``; the dense layers read the features flattened in ``(W, H, C)`` order, the
layout the published weights were converted with):

=====  ===================================================================================
P-Net  conv3 10, pool2/2, conv3 16, conv3 32, 1x1 convs: 2 (face) and 4 (box)
R-Net  conv3 28, pool3/2, conv3 48, pool3/2, conv2 64, dense 128, dense 2 and 4
O-Net  conv3 32, pool3/2, conv3 64, pool3/2, conv3 64, pool2/2, conv2 128, dense 256,
       dense 2, 4 and 10
=====  ===================================================================================

The parameter names (``conv1``, ``prelu1``, ..., ``conv4_1``, ``dense5_2``) are those of the
published state dicts, so ``load_state_dict`` takes them as they are. Every stage is
``torch.export``-able with a dynamic batch (and, for P-Net, dynamic height and width):
:func:`export_stage`.
"""

from __future__ import annotations

import importlib.util
import math
import os
from pathlib import Path
from typing import Optional, Tuple, TypeVar, Union

import torch
from torch import nn

__all__ = ["PNet", "RNet", "ONet", "STAGES", "INSTALL_HINT", "packaged_weights", "load_mtcnn", "export_stage"]

#: The stages' names, also their weight files' names (``pnet.pt`` ...).
STAGES = ("pnet", "rnet", "onet")
#: How to get the trained weights.
INSTALL_HINT = "pip install --no-deps facenet-pytorch"

PathLike = Union[str, "os.PathLike[str]"]
S = TypeVar("S", bound="_Stage")


def packaged_weights(stage: str) -> Path:
    """Path of the trained weights of ``stage`` (``"pnet"``, ``"rnet"`` or ``"onet"``) in the
    installed ``facenet-pytorch`` package, found without importing it.

    Raises:
        ValueError: an unknown stage.
        FileNotFoundError: the package (or the file) is not installed; the message says how to
            install it.

    Example:
        >>> from opticore.models.mtcnn import packaged_weights
        >>> packaged_weights("pnet").name
        'pnet.pt'
    """
    if stage not in STAGES:
        raise ValueError(f"stage: expected one of {', '.join(map(repr, STAGES))}, got {stage!r}")
    spec = importlib.util.find_spec("facenet_pytorch")  # a top-level package: found, not imported
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "data" / f"{stage}.pt"
        if path.is_file():
            return path
    where = f" (looked in {', '.join(folders)})" if folders else ""
    raise FileNotFoundError(
        f"MTCNN weights {stage}.pt not found: the 'facenet-pytorch' package ships them; install it with "
        f"`{INSTALL_HINT}`{where}, or pass weights= a folder holding pnet.pt, rnet.pt and onet.pt")


class _Stage(nn.Module):
    name = ""

    @classmethod
    def pretrained(cls: "type[S]", weights: Optional[PathLike] = None) -> S:
        """The stage with trained weights, in eval mode: ``weights`` is a state-dict file
        (``torch.save(module.state_dict(), path)``); None reads facenet-pytorch's
        (:func:`packaged_weights`)."""
        path = packaged_weights(cls.name) if weights is None else Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"weights: no such file {str(path)!r}")
        module = cls()
        module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return module.eval()


def _flatten_whc(x: torch.Tensor) -> torch.Tensor:
    # The published dense weights expect (W, H, C) order (converted from a (H, W, C) framework
    # with the spatial axes swapped), not torch's (C, H, W).
    return x.permute(0, 3, 2, 1).flatten(1)


class PNet(_Stage):
    """Proposal network: a 12 x 12 window classifier run fully convolutionally on each level of
    the image pyramid (stride 2). Randomly initialised; :meth:`pretrained` loads trained weights.

    Example:
        >>> import torch
        >>> from opticore.models.mtcnn import PNet
        >>> reg, prob = PNet.pretrained()(torch.zeros(2, 3, 30, 40))
        >>> tuple(reg.shape), tuple(prob.shape)
        ((2, 4, 10, 15), (2, 10, 15))
    """

    name = "pnet"

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2)  # ceil_mode through _pad_odd: see forward
        self.conv2 = nn.Conv2d(10, 16, 3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, 3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, 1)
        self.conv4_2 = nn.Conv2d(32, 4, 1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        # The published 2x2 pool rounds up (ceil_mode); a ceil-mode pool makes torch.export
        # specialise on the parity of the size, so the same numbers come from one -inf column and
        # row appended and a floor-mode pool, for any size.
        x = self.pool1(nn.functional.pad(self.prelu1(self.conv1(x)), (0, 1, 0, 1), value=-math.inf))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        # A copy, not a view of the softmax: AOTInductor (torch 2.13) fails on an output view
        # with dynamic height and width ("ValueRangeError: Invalid ranges").
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)[:, 1].clone()


class RNet(_Stage):
    """Refinement network on 24 x 24 crops: face probability and box correction.

    Example:
        >>> import torch
        >>> from opticore.models.mtcnn import RNet
        >>> reg, prob = RNet.pretrained()(torch.zeros(5, 3, 24, 24))
        >>> tuple(reg.shape), tuple(prob.shape)
        ((5, 4), (5,))
    """

    name = "rnet"

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, 3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, 3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, 2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu4(self.dense4(_flatten_whc(self.prelu3(self.conv3(x)))))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)[:, 1]


class ONet(_Stage):
    """Output network on 48 x 48 crops: face probability, box correction and five landmarks
    (left eye, right eye, nose, left and right mouth corners; "left" = image left, the order
    :func:`opticore.align_face` takes).

    Example:
        >>> import torch
        >>> from opticore.models.mtcnn import ONet
        >>> reg, landmarks, prob = ONet.pretrained()(torch.zeros(3, 3, 48, 48))
        >>> tuple(reg.shape), tuple(landmarks.shape), tuple(prob.shape)
        ((3, 4), (3, 10), (3,))
    """

    name = "onet"

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, 3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, 2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu5(self.dense5(_flatten_whc(self.prelu4(self.conv4(x)))))
        return self.dense6_2(x), self.dense6_3(x), torch.softmax(self.dense6_1(x), dim=1)[:, 1]


def load_mtcnn(weights: Optional[PathLike] = None) -> Tuple[PNet, RNet, ONet]:
    """The three trained stages, in eval mode.

    Args:
        weights: a folder holding ``pnet.pt``, ``rnet.pt`` and ``onet.pt`` (state dicts with the
            parameter names of :class:`PNet` ...); None reads those of the installed
            ``facenet-pytorch`` package (:func:`packaged_weights`).

    Raises:
        FileNotFoundError: a weight file is missing (the message says how to install them).

    Example:
        >>> from opticore.models.mtcnn import load_mtcnn
        >>> pnet, rnet, onet = load_mtcnn()
        >>> type(onet).__name__, onet.training
        ('ONet', False)
    """
    if weights is not None and not Path(weights).is_dir():
        raise FileNotFoundError(
            f"weights: expected a folder holding pnet.pt, rnet.pt and onet.pt, got {str(weights)!r}")
    files = [None if weights is None else Path(weights) / f"{name}.pt" for name in STAGES]
    return PNet.pretrained(files[0]), RNet.pretrained(files[1]), ONet.pretrained(files[2])


def export_stage(module: nn.Module) -> "torch.export.ExportedProgram":
    """``torch.export`` of one stage with a dynamic batch size (1 to 4096) and, for P-Net, a
    dynamic height and width (12 to 8192): the program an AOTInductor package is compiled from.

    Example:
        >>> import torch
        >>> from opticore.models.mtcnn import PNet, export_stage
        >>> program = export_stage(PNet.pretrained())
        >>> [tuple(t.shape) for t in program.module()(torch.zeros(1, 3, 12, 13))]
        [(1, 4, 1, 2), (1, 1, 2)]
    """
    from torch.export import Dim
    from torch.fx.experimental import _config as shape_config

    batch = Dim("batch", min=1, max=4096)
    if isinstance(module, PNet):
        example = torch.zeros(2, 3, 37, 50)
        dims = {0: batch, 2: Dim("height", min=12, max=8192), 3: Dim("width", min=12, max=8192)}
    elif isinstance(module, (RNet, ONet)):
        side = 24 if isinstance(module, RNet) else 48
        example = torch.zeros(2, 3, side, side)
        dims = {0: batch}
    else:
        raise TypeError(f"module: expected a PNet, RNet or ONet, got {type(module).__name__}")
    # Sizes 0 and 1 are otherwise special-cased: a batch of 1, or P-Net's 1-pixel output at a
    # 12- or 13-pixel input, would each need a program of their own.
    with shape_config.patch(backed_size_oblivious=True):  # type: ignore[attr-defined]
        return torch.export.export(module.eval(), (example,), dynamic_shapes=(dims,))
