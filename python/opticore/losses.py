"""Detection losses: the IoU-based box regression losses (GIoU, DIoU, CIoU) on matched pairs of
boxes, and the sigmoid focal loss.

The box losses run in opticore's C++ core (forward and an analytic backward); with torch tensors
they are differentiable operators (``torch.ops.opticore.box_loss``) that also trace under
``torch.compile`` / ``torch.export``. Their numbers are torchvision's
(``torchvision.ops.generalized_box_iou_loss`` and its siblings) term for term, signed widths of
inverted predictions included; ``opticore/boxes/box_loss.hpp`` states every rule. The focal loss
is a handful of element-wise torch / NumPy operations, torchvision's formula.

``reduction``: ``"none"`` (one value per pair or element), ``"mean"`` (0 for empty input, as
torchvision) or ``"sum"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import numpy as np

from . import _core
from ._args import as_array, choice, real
from ._tensor import is_tensor

if TYPE_CHECKING:
    import torch

A = TypeVar("A", np.ndarray, "torch.Tensor")

Reduction = Literal["none", "mean", "sum"]

__all__ = ["Reduction", "giou_loss", "diou_loss", "ciou_loss", "sigmoid_focal_loss"]


def _reduce(loss: Any, reduction: str) -> Any:
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        count = loss.numel() if is_tensor(loss) else loss.size
        return loss.mean() if count else loss.sum() * 0.0
    return loss


def _box_loss(boxes1: A, boxes2: A, kind: str, reduction: str, eps: float) -> A:
    choice(reduction, "reduction", ("none", "mean", "sum"))
    eps = real(eps, "eps", low=0.0)
    if is_tensor(boxes1):
        from .torch import run

        if not is_tensor(boxes2):
            raise TypeError(f"boxes2: expected a torch.Tensor like boxes1, got {type(boxes2).__name__}")
        return cast("A", _reduce(run("box_loss", (boxes1, boxes2), kind, eps), reduction))
    loss = _core.box_loss(as_array(boxes1), as_array(boxes2), kind, eps)
    return cast("A", _reduce(loss, reduction))


def giou_loss(boxes1: A, boxes2: A, reduction: Reduction = "none", eps: float = 1e-7) -> A:
    """Generalized IoU loss of matched pairs: ``1 - iou + (area(C) - union) / (area(C) + eps)``,
    with ``iou = inter / (union + eps)`` and ``C`` the smallest box enclosing the pair.

    Args:
        boxes1: ``(N, 4)`` predictions ``x1, y1, x2, y2``, float32 or float64 (NumPy or torch).
        boxes2: ``(N, 4)`` targets, same convention, one per prediction.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        eps: ``>= 0``, keeps the ratios finite for empty pairs (torchvision's default).

    Returns:
        ``(N,)`` losses in ``[0, 2]`` (``"none"``) or a scalar; differentiable for tensors
        (gradients to both arguments).

    Example:
        >>> import numpy as np, opticore
        >>> p = np.array([[0, 0, 2, 2]], np.float64)
        >>> t = np.array([[1, 0, 3, 2]], np.float64)  # overlap 2, union 6, hull 6
        >>> np.round(opticore.giou_loss(p, t), 6)
        array([0.666667])
    """
    return _box_loss(boxes1, boxes2, "generalized", reduction, eps)


def diou_loss(boxes1: A, boxes2: A, reduction: Reduction = "none", eps: float = 1e-7) -> A:
    """Distance IoU loss of matched pairs: ``1 - iou + d^2 / (c^2 + eps)``, ``d`` the distance
    between the centres, ``c`` the diagonal of the enclosing box, ``iou = inter / (union + eps)``.

    Args:
        boxes1: ``(N, 4)`` predictions ``x1, y1, x2, y2``, float32 or float64.
        boxes2: ``(N, 4)`` targets.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        eps: ``>= 0``.

    Returns:
        ``(N,)`` losses or a scalar; differentiable for tensors.

    Example:
        >>> import numpy as np, opticore
        >>> p = np.array([[0, 0, 2, 2]], np.float64)
        >>> opticore.diou_loss(p, p + 2, eps=0.0)  # no overlap, d^2 = 8, c^2 = 32
        array([1.25])
    """
    return _box_loss(boxes1, boxes2, "distance", reduction, eps)


def ciou_loss(boxes1: A, boxes2: A, reduction: Reduction = "none", eps: float = 1e-7) -> A:
    """Complete IoU loss of matched pairs: the DIoU loss plus ``alpha * v``, with
    ``v = 4 / pi^2 * (atan(w2 / h2) - atan(w1 / h1))^2`` and ``alpha = v / (1 - iou + v + eps)``
    held constant for the gradient (as torchvision, which computes it under ``no_grad``).

    Args:
        boxes1: ``(N, 4)`` predictions ``x1, y1, x2, y2``, float32 or float64.
        boxes2: ``(N, 4)`` targets.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.
        eps: ``>= 0``.

    Returns:
        ``(N,)`` losses or a scalar; differentiable for tensors.

    Example:
        >>> import numpy as np, opticore
        >>> p = np.array([[0, 0, 2, 2], [0, 0, 4, 1]], np.float64)
        >>> np.round(opticore.ciou_loss(p, p), 6)  # identical pairs: 0
        array([0., 0.])
    """
    return _box_loss(boxes1, boxes2, "complete", reduction, eps)


def sigmoid_focal_loss(
    inputs: A, targets: A, alpha: float = 0.25, gamma: float = 2.0, reduction: Reduction = "none"
) -> A:
    """Focal loss (Lin et al. 2017, RetinaNet) on logits:
    ``alpha_t * (1 - p_t)^gamma * BCE(inputs, targets)``, ``p = sigmoid(inputs)``,
    ``p_t = p * t + (1 - p) * (1 - t)``, ``alpha_t = alpha * t + (1 - alpha) * (1 - t)``; a negative
    ``alpha`` turns the weighting off. torchvision's ``sigmoid_focal_loss``; BCE is computed in
    the stable ``max(x, 0) - x * t + log(1 + exp(-|x|))`` form.

    Args:
        inputs: logits of any shape, float (NumPy or torch; tensors stay differentiable).
        targets: the same shape, 0 / 1 labels (soft labels allowed).
        alpha: class balance in ``[0, 1]``, or negative for none.
        gamma: focusing exponent ``>= 0``.
        reduction: ``"none"``, ``"mean"`` or ``"sum"``.

    Returns:
        Losses of the shape of ``inputs``, or a scalar.

    Example:
        >>> import numpy as np, opticore
        >>> x = np.array([0.0, 3.0]); t = np.array([1.0, 1.0])
        >>> opticore.sigmoid_focal_loss(x, t).round(5).tolist()  # an easy example weighs little
        [0.04332, 3e-05]
    """
    choice(reduction, "reduction", ("none", "mean", "sum"))
    alpha = real(alpha, "alpha", high=1.0)
    gamma = real(gamma, "gamma", low=0.0)
    if tuple(inputs.shape) != tuple(targets.shape):
        raise ValueError(f"targets: expected the shape of inputs {tuple(inputs.shape)}, got {tuple(targets.shape)}")
    if is_tensor(inputs):
        import torch

        x, t = inputs, targets.to(inputs.dtype)
        p = torch.sigmoid(x)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")
    else:
        x = np.asarray(inputs, dtype=np.result_type(inputs, np.float32))
        t = np.asarray(targets, dtype=x.dtype)
        p = 1.0 / (1.0 + np.exp(-x))
        bce = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    p_t = p * t + (1 - p) * (1 - t)
    loss = bce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * t + (1 - alpha) * (1 - t)) * loss
    return cast("A", _reduce(loss, reduction))
