"""Box operators: area, IoU and its generalized / distance / complete variants, NMS,
MTCNN's "Min" NMS, class-aware NMS and Soft-NMS.

Conventions shared by every function here:

* Boxes are ``(N, 4)`` arrays of ``x1, y1, x2, y2``, ``float32`` or ``float64``; any layout
  (non-contiguous, negative strides) is accepted without a copy.
* Width is ``x2 - x1`` and height ``y2 - y1``, both taken as 0 when negative: an inverted box
  has zero area (never negative, never NaN), so it neither suppresses nor is suppressed.
* ``IoU = inter / (area_a + area_b - inter)``, 0 when the boxes do not overlap; computed in
  float64, exact to rounding for every finite box: coordinates near float64's limit (``1e308``)
  or denormal sizes are rescaled internally, never overflow. ``box_area`` gives ``inf`` only when
  the area itself exceeds the dtype's range (a float32 box ``1e20`` on each side).
* Big-endian arrays (``">f4"``) are converted; other dtypes are not.
* NaN or infinite coordinates or scores raise ``ValueError``; a non-float dtype ``TypeError``;
  a non-numeric threshold or a bad ``method`` / ``max_output`` ``TypeError`` / ``ValueError``,
  each naming the argument. A ``box_iou`` result above 4 GiB raises ``ValueError`` instead of
  being allocated.
* NumPy in, NumPy out. torch tensors in, tensors out on the same device (computed by the
  ``torch.ops.opticore`` operators, which also work under ``torch.compile`` and ``torch.export``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional, Tuple, TypeVar, Union, cast, get_args

import numpy as np

from . import _core
from ._args import as_array, choice, optional_limit, optional_real, real
from ._tensor import is_tensor

if TYPE_CHECKING:
    import torch

    ArrayLike = Union[np.ndarray, torch.Tensor]
else:
    ArrayLike = Any

A = TypeVar("A", np.ndarray, "torch.Tensor")

SoftNmsMethod = Literal["gaussian", "linear"]

__all__ = [
    "SoftNmsMethod",
    "box_area",
    "box_iou",
    "generalized_box_iou",
    "distance_box_iou",
    "complete_box_iou",
    "nms",
    "nms_min",
    "batched_nms",
    "soft_nms",
]


def _require_tensor(x: Any, name: str) -> None:
    if not is_tensor(x):
        raise TypeError(f"{name}: expected a torch.Tensor like boxes, got {type(x).__name__}")


def _run_torch(name: str, tensors: Tuple[Any, ...], *args: Any) -> Any:
    from .torch import run

    return run(name, tensors, *args)


def box_area(boxes: A) -> A:
    """Areas of boxes.

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.

    Returns:
        ``(N,)`` areas, same dtype (and device) as ``boxes``; inverted boxes give 0.

    Example:
        >>> import numpy as np, opticore
        >>> opticore.box_area(np.array([[0, 0, 4, 2], [3, 3, 1, 5]], dtype=np.float32))
        array([8., 0.], dtype=float32)
    """
    if is_tensor(boxes):
        return _run_torch("box_area", (boxes,))
    result = _core.box_area(as_array(boxes))
    return cast("A", result)  # the NumPy branch: A is np.ndarray here


def box_iou(boxes1: A, boxes2: A) -> A:
    """Pairwise intersection over union.

    Args:
        boxes1: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        boxes2: ``(M, 4)``, same convention. With mixed float32/float64 inputs the result is float64.

    Returns:
        ``(N, M)`` with ``out[i, j] = IoU(boxes1[i], boxes2[j])`` in ``[0, 1]``.

    Example:
        >>> import numpy as np, opticore
        >>> a = np.array([[0, 0, 2, 1]], dtype=np.float64)
        >>> b = np.array([[1, 0, 3, 1], [5, 5, 6, 6]], dtype=np.float64)
        >>> opticore.box_iou(a, b)
        array([[0.33333333, 0.        ]])
    """
    if is_tensor(boxes1):
        _require_tensor(boxes2, "boxes2")
        return _run_torch("box_iou", (boxes1, boxes2))
    result = _core.box_iou(as_array(boxes1), as_array(boxes2))
    return cast("A", result)  # the NumPy branch: A is np.ndarray here


def _box_iou_variant(boxes1: A, boxes2: A, kind: str, eps: float) -> A:
    eps = real(eps, "eps", low=0.0)
    if is_tensor(boxes1):
        _require_tensor(boxes2, "boxes2")
        return _run_torch("box_iou_variant", (boxes1, boxes2), kind, eps)
    result = _core.box_iou_variant(as_array(boxes1), as_array(boxes2), kind, eps)
    return cast("A", result)  # the NumPy branch: A is np.ndarray here


def generalized_box_iou(boxes1: A, boxes2: A) -> A:
    """Pairwise generalized IoU (Rezatofighi et al. 2019): ``IoU - (area(C) - union) / area(C)``
    with ``C`` the smallest box enclosing both; in ``[-1, 1]``.

    The numbers of ``torchvision.ops.generalized_box_iou`` for boxes of positive size. IoU and
    areas follow :func:`box_iou` (an inverted box is empty); where ``area(C)`` is 0 (both boxes
    collapse onto one point or line) the result is the IoU, 0, where torchvision divides 0 by 0.
    A matching cost (DETR's matcher), not differentiable: train with :func:`opticore.giou_loss`.

    Args:
        boxes1: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        boxes2: ``(M, 4)``, same convention. With mixed float32/float64 inputs the result is float64.

    Returns:
        ``(N, M)`` with ``out[i, j] = GIoU(boxes1[i], boxes2[j])``.

    Example:
        >>> import numpy as np, opticore
        >>> a = np.array([[0, 0, 1, 1]], np.float64)
        >>> opticore.generalized_box_iou(a, np.array([[2, 0, 3, 1]], np.float64))  # 3x1 hull, 2 covered
        array([[-0.33333333]])
    """
    return _box_iou_variant(boxes1, boxes2, "generalized", 0.0)


def distance_box_iou(boxes1: A, boxes2: A, eps: float = 1e-7) -> A:
    """Pairwise distance IoU (Zheng et al. 2020): ``IoU - d^2 / (c^2 + eps)`` with ``d`` the
    distance between the box centres and ``c`` the diagonal of the smallest enclosing box.

    The numbers of ``torchvision.ops.distance_box_iou`` (same ``eps`` default) for boxes of
    positive size; IoU follows :func:`box_iou`. Not differentiable: train with
    :func:`opticore.diou_loss`.

    Args:
        boxes1: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        boxes2: ``(M, 4)``, same convention.
        eps: ``>= 0``, keeps the ratio finite for boxes that collapse onto one point.

    Returns:
        ``(N, M)`` DIoU values in ``[-1, 1]``.

    Example:
        >>> import numpy as np, opticore
        >>> a = np.array([[0, 0, 2, 2]], np.float64)
        >>> opticore.distance_box_iou(a, np.array([[2, 0, 4, 2]], np.float64), eps=0.0)  # d^2 4, c^2 20
        array([[-0.2]])
    """
    return _box_iou_variant(boxes1, boxes2, "distance", eps)


def complete_box_iou(boxes1: A, boxes2: A, eps: float = 1e-7) -> A:
    """Pairwise complete IoU (Zheng et al. 2020): DIoU minus ``alpha * v``, the aspect-ratio
    term ``v = 4 / pi^2 * (atan(w2 / h2) - atan(w1 / h1))^2``, ``alpha = v / (1 - IoU + v + eps)``.

    The numbers of ``torchvision.ops.complete_box_iou`` for boxes of positive size; the angle of
    a box of zero height is ``pi / 2`` (0 when its width is 0 too) where torchvision gives NaN.
    Not differentiable: train with :func:`opticore.ciou_loss`.

    Args:
        boxes1: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        boxes2: ``(M, 4)``, same convention.
        eps: ``>= 0``, as in :func:`distance_box_iou`.

    Returns:
        ``(N, M)`` CIoU values.

    Example:
        >>> import numpy as np, opticore
        >>> a = np.array([[0, 0, 2, 2]], np.float64)
        >>> float(opticore.complete_box_iou(a, a)[0, 0])  # the same box: 1
        1.0
    """
    return _box_iou_variant(boxes1, boxes2, "complete", eps)


def nms(
    boxes: A,
    scores: A,
    iou_threshold: float,
    *,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
) -> A:
    """Greedy non-maximum suppression.

    Boxes are visited by descending score (equal scores: lower index first); a box is dropped
    when its IoU with an already kept box is **strictly greater** than ``iou_threshold``.

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        scores: ``(N,)`` float32 or float64 (need not match ``boxes``' dtype).
        iou_threshold: in ``[0, 1]``. 0 drops every box that overlaps a kept one at all;
            1 drops nothing.
        score_threshold: if given, only boxes with ``score > score_threshold`` (strict) take part.
        max_output: if given, at most this many indices are returned (the best ones).

    Returns:
        ``int64`` ``(K,)`` indices into ``boxes`` of the kept boxes, by descending score.

    Example:
        >>> import numpy as np, opticore
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
        >>> scores = np.array([0.9, 0.8, 0.7], np.float32)
        >>> opticore.nms(boxes, scores, 0.5)
        array([0, 2])
    """
    iou_threshold = real(iou_threshold, "iou_threshold")
    score_threshold = optional_real(score_threshold, "score_threshold")
    max_output = optional_limit(max_output, "max_output")
    if is_tensor(boxes):
        _require_tensor(scores, "scores")
        return _run_torch("nms", (boxes, scores), iou_threshold, score_threshold, max_output)
    result = _core.nms(
        as_array(boxes), as_array(scores), iou_threshold, score_threshold=score_threshold, max_output=max_output
    )
    return cast("A", result)  # the NumPy branch: A is np.ndarray here


def nms_min(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """MTCNN's last NMS: greedy suppression whose overlap is the intersection over the
    **smaller** box's area, ``inter / min(area_a, area_b)``, in MTCNN's inclusive pixel sizes
    (width ``x2 - x1 + 1``, height ``y2 - y1 + 1``, each taken as 0 when negative).

    A box nested inside a kept one has overlap 1 and is dropped whatever its size, which IoU
    would not do: that removes a face's inner false detections. Otherwise :func:`nms`'s rules:
    boxes are visited by descending score (equal scores: lower index first) and dropped when the
    overlap with a kept box is **strictly greater** than ``threshold``; a box without area never
    suppresses and is never suppressed. Same cost as :func:`nms` (a grid of the kept boxes).
    NumPy only (no torch operator).

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        scores: ``(N,)`` float32 or float64.
        threshold: in ``[0, 1]``.

    Returns:
        ``int64`` ``(K,)`` indices into ``boxes`` of the kept boxes, by descending score.

    Example:
        >>> import numpy as np, opticore
        >>> boxes = np.array([[0, 0, 99, 99], [10, 10, 29, 29], [200, 0, 299, 99]], np.float32)
        >>> opticore.nms_min(boxes, np.array([0.9, 0.95, 0.8], np.float32), 0.7)  # 1 inside 0
        array([1, 2])
    """
    threshold = real(threshold, "threshold")
    return _core.nms_min(as_array(boxes), as_array(scores), threshold)


def batched_nms(
    boxes: A,
    scores: A,
    labels: A,
    iou_threshold: float,
    *,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
) -> A:
    """Class-aware NMS: a box only suppresses boxes with the same label.

    Same rules as :func:`nms` within each label; the result merges all labels by descending
    score (ties: lower index). Each label is processed separately -- no coordinate-offset trick --
    so results are exact for negative or huge coordinates and any number of labels. Labels are
    spread over ``opticore.get_num_threads()`` threads.

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        scores: ``(N,)`` float32 or float64.
        labels: ``(N,)`` integers (any integer dtype; any values, negative included).
        iou_threshold: in ``[0, 1]``; suppress when IoU > threshold (strict).
        score_threshold: if given, only boxes with ``score > score_threshold`` take part.
        max_output: if given, at most this many indices in total.

    Returns:
        ``int64`` ``(K,)`` indices of the kept boxes, by descending score.

    Example:
        >>> import numpy as np, opticore
        >>> boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10]], np.float32)
        >>> scores = np.array([0.9, 0.8], np.float32)
        >>> opticore.batched_nms(boxes, scores, np.array([0, 1]), 0.5)  # different labels
        array([0, 1])
    """
    iou_threshold = real(iou_threshold, "iou_threshold")
    score_threshold = optional_real(score_threshold, "score_threshold")
    max_output = optional_limit(max_output, "max_output")
    if is_tensor(boxes):
        _require_tensor(scores, "scores")
        _require_tensor(labels, "labels")
        return _run_torch("batched_nms", (boxes, scores, labels), iou_threshold, score_threshold, max_output)
    result = _core.batched_nms(
        as_array(boxes),
        as_array(scores),
        as_array(labels),
        iou_threshold,
        score_threshold=score_threshold,
        max_output=max_output,
    )
    return cast("A", result)  # the NumPy branch: A is np.ndarray here


def soft_nms(
    boxes: A,
    scores: A,
    *,
    method: SoftNmsMethod = "gaussian",
    sigma: float = 0.5,
    iou_threshold: float = 0.3,
    score_threshold: float = 0.001,
    max_output: Optional[int] = None,
) -> Tuple[A, A]:
    """Soft-NMS (Bodla et al. 2017): decay the scores of overlapping boxes instead of dropping them.

    Repeatedly takes the remaining box ``m`` with the highest current score (ties: lower index),
    outputs it with that score, and decays the score ``s`` of every other remaining box ``b``:

    * ``"gaussian"``: ``s *= exp(-IoU(m, b)**2 / sigma)`` (``iou_threshold`` is not used);
    * ``"linear"``: ``s *= 1 - IoU(m, b)`` if ``IoU(m, b) > iou_threshold``, else unchanged.

    A box leaves as soon as its score is ``<= score_threshold`` (so every returned score is
    ``> score_threshold``). Decays are computed in float64, in the order the boxes are taken:
    the result equals the textbook O(N^2) loop exactly, at a fraction of its cost.

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``, float32 or float64.
        scores: ``(N,)`` float32 or float64.
        method: ``"gaussian"`` or ``"linear"``.
        sigma: gaussian width, > 0.
        iou_threshold: linear decay threshold in ``[0, 1]``.
        score_threshold: drop boxes whose score falls to or below this.
        max_output: if given, stop after this many boxes.

    Returns:
        ``(indices, rescored)``: ``int64`` ``(K,)`` indices in the order taken, and their decayed
        scores ``(K,)`` (non-increasing) in the dtype of ``scores``.

    Example:
        >>> import numpy as np, opticore
        >>> boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 5]], np.float64)
        >>> idx, s = opticore.soft_nms(boxes, np.array([0.9, 0.8]), method="linear")
        >>> idx, s.round(3)
        (array([0, 1]), array([0.9, 0.4]))
    """
    choice(method, "method", get_args(SoftNmsMethod))
    sigma = real(sigma, "sigma")
    iou_threshold = real(iou_threshold, "iou_threshold")
    score_threshold = real(score_threshold, "score_threshold")
    max_output = optional_limit(max_output, "max_output")
    if is_tensor(boxes):
        _require_tensor(scores, "scores")
        return _run_torch("soft_nms", (boxes, scores), method, sigma, iou_threshold, score_threshold, max_output)
    result = _core.soft_nms(
        as_array(boxes),
        as_array(scores),
        method=method,
        sigma=sigma,
        iou_threshold=iou_threshold,
        score_threshold=score_threshold,
        max_output=max_output,
    )
    return cast("Tuple[A, A]", result)  # the NumPy branch: A is np.ndarray here
