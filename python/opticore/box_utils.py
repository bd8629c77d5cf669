"""Box utilities: format conversion, clipping to the image, removing small boxes, and the boxes
around masks. Vectorised NumPy, or torch operations for tensors (differentiable where the
operation is, on any device). torchvision's semantics, each stated where it differs.

Formats: ``"xyxy"`` (x1, y1, x2, y2: opticore's box convention), ``"xywh"`` (x1, y1, width,
height: the trackers' and COCO's) and ``"cxcywh"`` (centre x, centre y, width, height: DETR's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Tuple, TypeVar, cast

import numpy as np

from ._args import choice, integer, real
from ._tensor import is_tensor

if TYPE_CHECKING:
    import torch

A = TypeVar("A", np.ndarray, "torch.Tensor")

BoxFormat = Literal["xyxy", "xywh", "cxcywh"]
_FORMATS = ("xyxy", "xywh", "cxcywh")

__all__ = ["BoxFormat", "box_convert", "clip_boxes_to_image", "remove_small_boxes", "masks_to_boxes"]


def _check_boxes(boxes: Any, name: str = "boxes") -> None:
    if not (is_tensor(boxes) or isinstance(boxes, np.ndarray)):
        raise TypeError(f"{name}: expected a NumPy array or torch.Tensor, got {type(boxes).__name__}")
    if boxes.ndim < 1 or boxes.shape[-1] != 4:
        raise ValueError(f"{name}: expected shape (..., 4), got {tuple(boxes.shape)}")
    if not (boxes.dtype.is_floating_point if is_tensor(boxes) else np.issubdtype(boxes.dtype, np.floating)):
        raise TypeError(f"{name}: expected a floating-point dtype, got {boxes.dtype}")


def _stack(like: Any, columns: Tuple[Any, ...]) -> Any:
    if is_tensor(like):
        import torch

        return torch.stack(columns, dim=-1)
    return np.stack(columns, axis=-1)


def box_convert(boxes: A, in_fmt: BoxFormat, out_fmt: BoxFormat) -> A:
    """Converts boxes between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``.

    Args:
        boxes: ``(..., 4)`` float array or tensor in ``in_fmt``.
        in_fmt: the format of ``boxes``.
        out_fmt: the format wanted.

    Returns:
        A new ``(..., 4)`` array of the same dtype (a copy even when the formats agree).

    Example:
        >>> import numpy as np, opticore
        >>> opticore.box_convert(np.array([[10., 20., 30., 60.]]), "xyxy", "cxcywh")
        array([[20., 40., 20., 40.]])
    """
    _check_boxes(boxes)
    choice(in_fmt, "in_fmt", _FORMATS)
    choice(out_fmt, "out_fmt", _FORMATS)
    a, b, c, d = (boxes[..., k] for k in range(4))
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    # (a, b, c, d) is x1, y1, x2, y2 now.
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = 0.5 * (a + c), 0.5 * (b + d), c - a, d - b
    return cast("A", _stack(boxes, (a, b, c, d)))


def clip_boxes_to_image(boxes: A, size: Tuple[int, int]) -> A:
    """Clamps ``x1, x2`` to ``[0, width]`` and ``y1, y2`` to ``[0, height]``.

    Args:
        boxes: ``(..., 4)`` ``x1, y1, x2, y2`` float array or tensor.
        size: ``(height, width)`` of the image (torchvision's order).

    Returns:
        A new array of the same shape and dtype.

    Example:
        >>> import numpy as np, opticore
        >>> opticore.clip_boxes_to_image(np.array([[-5., 2., 50., 8.]]), (10, 40))
        array([[ 0.,  2., 40.,  8.]])
    """
    _check_boxes(boxes)
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size: expected (height, width), got {size!r}")
    height = real(size[0], "size[0] (height)", low=0.0)
    width = real(size[1], "size[1] (width)", low=0.0)
    columns = tuple(boxes[..., k].clip(0, width if k % 2 == 0 else height) for k in range(4))
    return cast("A", _stack(boxes, columns))


def remove_small_boxes(boxes: A, min_size: float) -> A:
    """Indices of the boxes whose width and height are both ``>= min_size`` (inclusive).

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2`` float array or tensor.
        min_size: the smallest side kept.

    Returns:
        ``int64`` ``(K,)`` indices, ascending.

    Example:
        >>> import numpy as np, opticore
        >>> opticore.remove_small_boxes(np.array([[0., 0., 1., 5.], [0., 0., 2., 2.]]), 2.0)
        array([1])
    """
    _check_boxes(boxes)
    if boxes.ndim != 2:
        raise ValueError(f"boxes: expected shape (N, 4), got {tuple(boxes.shape)}")
    min_size = real(min_size, "min_size")
    keep = ((boxes[:, 2] - boxes[:, 0]) >= min_size) & ((boxes[:, 3] - boxes[:, 1]) >= min_size)
    if is_tensor(boxes):
        import torch

        return cast("A", torch.nonzero(keep).flatten())
    return cast("A", np.flatnonzero(keep).astype(np.int64))


def masks_to_boxes(masks: A) -> A:
    """The tightest box around each mask's non-zero pixels, as pixel indices:
    ``x1, y1`` the first and ``x2, y2`` the last column and row that hold one (inclusive, as
    torchvision: a one-pixel mask at ``(y, x)`` gives ``(x, y, x, y)``). An empty mask gives
    ``(0, 0, 0, 0)`` (torchvision raises).

    Args:
        masks: ``(N, H, W)`` array or tensor of any dtype (non-zero = inside).

    Returns:
        ``(N, 4)`` float32 (NumPy) / float (torch) boxes.

    Example:
        >>> import numpy as np, opticore
        >>> m = np.zeros((1, 5, 6), np.uint8); m[0, 1:3, 2:5] = 1
        >>> opticore.masks_to_boxes(m)
        array([[2., 1., 4., 2.]], dtype=float32)
    """
    if not (is_tensor(masks) or isinstance(masks, np.ndarray)):
        raise TypeError(f"masks: expected a NumPy array or torch.Tensor, got {type(masks).__name__}")
    if masks.ndim != 3:
        raise ValueError(f"masks: expected shape (N, H, W), got {tuple(masks.shape)}")
    n, height, width = (integer(int(v), "masks.shape") for v in masks.shape)
    if is_tensor(masks):
        import torch

        if n == 0 or height == 0 or width == 0:
            return cast("A", torch.zeros((n, 4), device=masks.device))
        inside = masks != 0

        rows, columns = inside.any(dim=2), inside.any(dim=1)
        first = lambda v: v.int().argmax(dim=1)  # noqa: E731  (argmax: the first maximum)
        last = lambda v: v.shape[1] - 1 - v.flip(1).int().argmax(dim=1)  # noqa: E731
        found = rows.any(dim=1)
        boxes = torch.stack([first(columns), first(rows), last(columns), last(rows)], dim=1).float()
        return cast("A", boxes * found[:, None])
    if n == 0 or height == 0 or width == 0:
        return cast("A", np.zeros((n, 4), np.float32))
    inside = masks != 0
    rows, columns = inside.any(axis=2), inside.any(axis=1)
    found = rows.any(axis=1)
    boxes = np.stack([columns.argmax(1), rows.argmax(1), width - 1 - columns[:, ::-1].argmax(1),
                      height - 1 - rows[:, ::-1].argmax(1)], axis=1).astype(np.float32)
    return cast("A", boxes * found[:, None])
