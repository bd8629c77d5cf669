"""RoI operators: RoIAlign and RoIPool, and their position-sensitive forms (R-FCN), with
torchvision's semantics.

Conventions shared by these functions:

* ``input`` is a batch of feature maps ``(N, C, H, W)``. NumPy: float32 or float64, any layout.
  torch: float16, bfloat16, float32 or float64, any strides (channels-last included, same result);
  half and bfloat16 are computed in float32 and rounded once at the end.
* ``rois`` is ``(K, 5)`` rows ``(batch_index, x1, y1, x2, y2)`` in input-image coordinates, or a
  list of ``N`` per-image ``(K_i, 4)`` boxes (the batch index is then the list position). Batch
  indices must be whole numbers in ``[0, N)``; coordinates finite and, after multiplying by
  ``spatial_scale``, within ``+-2**24``. Anything else raises ``ValueError`` naming ``rois``.
* ``spatial_scale`` maps image coordinates to the feature map (``1/16`` for a stride-16 map);
  finite and > 0.
* ``output_size`` is ``(pooled_height, pooled_width)`` or one int for both; each >= 1.
* The result is ``(K, C, pooled_height, pooled_width)``, same dtype (and device) as ``input``;
  no RoIs give an empty result of that shape. The position-sensitive operators take
  ``C = C_out * pooled_height * pooled_width`` channels and give ``C_out``.
* NumPy in, NumPy out (forward only). torch tensors in, tensors out, through the
  ``torch.ops.opticore`` operators of the same names: differentiable with respect to ``input`` (not
  ``rois``, as in torchvision), deterministic backward, usable under ``torch.compile`` and
  ``torch.export``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, List, Sequence, Tuple, TypeVar, Union, cast

import numpy as np

from . import _core
from ._args import as_array, boolean, integer, real
from ._tensor import is_tensor

if TYPE_CHECKING:
    import torch

A = TypeVar("A", np.ndarray, "torch.Tensor")

__all__ = ["roi_align", "roi_pool", "ps_roi_align", "ps_roi_pool", "fpn_levels", "multi_scale_roi_align"]

#: The largest explicit ``sampling_ratio`` (it bounds each bin at ``256 ** 2`` samples).
MAX_SAMPLING_RATIO = 256


def _output_size(output_size: Any) -> Tuple[int, int]:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"output_size: expected an int or (height, width), got {output_size!r}")
        height, width = output_size
    else:
        height = width = output_size
    return integer(height, "output_size", low=1), integer(width, "output_size", low=1)


def _rois(rois: Any, tensor: bool) -> Any:
    """(K, 5) rois from (K, 5) rois or a list of per-image (K_i, 4) boxes."""
    if not isinstance(rois, (list, tuple)):
        return rois
    if tensor:
        import torch

        parts = []
        for i, boxes in enumerate(rois):
            if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.size(1) != 4:
                raise ValueError(f"rois: expected a list of (K_i, 4) tensors, got {boxes!r} at position {i}")
            parts.append(torch.cat([torch.full_like(boxes[:, :1], i), boxes], dim=1))
        return torch.cat(parts) if parts else torch.zeros((0, 5))
    parts_np = []
    for i, boxes in enumerate(rois):
        b = as_array(boxes)
        if b.ndim != 2 or b.shape[1] != 4 or b.dtype.kind != "f":
            raise ValueError(f"rois: expected a list of float (K_i, 4) arrays, got {boxes!r} at position {i}")
        parts_np.append(np.concatenate([np.full((len(b), 1), i, b.dtype), b], axis=1))
    return np.concatenate(parts_np) if parts_np else np.zeros((0, 5))


def _run_torch(name: str, tensors: Tuple[Any, ...], *args: Any) -> Any:
    from .torch import run

    if not is_tensor(tensors[1]):
        raise TypeError(f"rois: expected a torch.Tensor like input, got {type(tensors[1]).__name__}")
    return run(name, tensors, *args)


def roi_align(
    input: A,
    rois: Union[A, Sequence[A]],
    output_size: Union[int, Tuple[int, int]],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> A:
    """RoIAlign (Mask R-CNN): bilinear samples averaged over each bin of each RoI.

    The rules, as ``torchvision.ops.roi_align``:

    * A RoI's corners are multiplied by ``spatial_scale``; with ``aligned=True`` they are then
      shifted by -0.5 so that a feature value sits at its pixel centre (use it for new models);
      with ``aligned=False`` a RoI narrower or shorter than 1 is widened to 1.
    * The RoI is cut into ``pooled_height x pooled_width`` equal bins. Each bin averages
      ``grid_h x grid_w`` samples at the centres of a regular sub-grid, with
      ``grid = sampling_ratio`` when it is > 0, else the adaptive ``ceil(roi_size / pooled_size)``
      per axis; the divisor is ``grid_h * grid_w`` (at least 1) whether or not the samples fall
      inside the map.
    * A sample at ``y < -1`` or ``y > H`` (or ``x < -1`` or ``x > W``) contributes zero; otherwise
      coordinates below 0 are clamped to 0, and a sample at or past the last row / column reads
      that row / column alone (bilinear weights between cells, pixel ``i`` at coordinate ``i``).

    Args:
        input: ``(N, C, H, W)`` features (see the module conventions for dtypes).
        rois: ``(K, 5)`` ``(batch_index, x1, y1, x2, y2)``, or a list of ``(K_i, 4)`` boxes.
        output_size: ``(pooled_height, pooled_width)`` or one int.
        spatial_scale: image-to-feature-map scale, > 0.
        sampling_ratio: samples per bin side, at most 256; <= 0 for the adaptive grid.
        aligned: the half-pixel shift described above.

    Returns:
        ``(K, C, pooled_height, pooled_width)``, dtype of ``input``.

    Example:
        >>> import numpy as np, opticore
        >>> features = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> rois = np.array([[0, 0, 0, 2, 2]], np.float32)
        >>> opticore.roi_align(features, rois, 1, sampling_ratio=1)   # one sample at (1, 1)
        array([[[[5.]]]], dtype=float32)
    """
    pooled_height, pooled_width = _output_size(output_size)
    scale = real(spatial_scale, "spatial_scale", low=0.0, low_open=True)
    ratio = integer(sampling_ratio, "sampling_ratio", high=MAX_SAMPLING_RATIO)
    shift = boolean(aligned, "aligned")
    if is_tensor(input):
        tensors = (input, _rois(rois, tensor=True))
        return cast("A", _run_torch("roi_align", tensors, scale, pooled_height, pooled_width, ratio, shift))
    result = _core.roi_align(as_array(input), as_array(_rois(rois, tensor=False)), pooled_height, pooled_width, scale,
                             ratio, shift)
    return cast("A", result)  # the NumPy branch: A is np.ndarray here


def roi_pool(
    input: A,
    rois: Union[A, Sequence[A]],
    output_size: Union[int, Tuple[int, int]],
    spatial_scale: float = 1.0,
) -> A:
    """RoIPool (Fast R-CNN): the maximum over whole feature-map cells in each bin of each RoI.

    The rules, as ``torchvision.ops.roi_pool``:

    * A RoI's corners are multiplied by ``spatial_scale`` and rounded half away from zero; it spans
      the cells ``x1 .. x2`` and ``y1 .. y2`` inclusive (at least one cell each way).
    * Bin ``ph`` covers the RoI's rows ``floor(ph * h / PH) .. ceil((ph + 1) * h / PH) - 1``
      (``h`` its height in cells), clipped to the map; likewise columns. Bins overlap when the
      RoI does not divide evenly.
    * A bin takes its largest value (the first in row-major order on ties; NaN never wins, so a
      bin of only NaN gives ``-3.4028235e38``, float32's lowest); a bin outside the map gives 0.

    Args:
        input: ``(N, C, H, W)`` features (see the module conventions for dtypes).
        rois: ``(K, 5)`` ``(batch_index, x1, y1, x2, y2)``, or a list of ``(K_i, 4)`` boxes.
        output_size: ``(pooled_height, pooled_width)`` or one int.
        spatial_scale: image-to-feature-map scale, > 0.

    Returns:
        ``(K, C, pooled_height, pooled_width)``, dtype of ``input``. (The C++ core also returns
        where each maximum was, which the torch backward uses.)

    Example:
        >>> import numpy as np, opticore
        >>> features = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
        >>> opticore.roi_pool(features, np.array([[0, 0, 0, 3, 3]], np.float32), 2)
        array([[[[ 5.,  7.],
                 [13., 15.]]]], dtype=float32)
    """
    pooled_height, pooled_width = _output_size(output_size)
    scale = real(spatial_scale, "spatial_scale", low=0.0, low_open=True)
    if is_tensor(input):
        tensors = (input, _rois(rois, tensor=True))
        output, _ = _run_torch("roi_pool", tensors, scale, pooled_height, pooled_width)
        return cast("A", output)
    output_np, _ = _core.roi_pool(as_array(input), as_array(_rois(rois, tensor=False)), pooled_height, pooled_width,
                                  scale)
    return cast("A", output_np)


def ps_roi_align(
    input: A,
    rois: Union[A, Sequence[A]],
    output_size: Union[int, Tuple[int, int]],
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
) -> A:
    """Position-sensitive RoIAlign (R-FCN's score maps, sampled as RoIAlign does).

    ``input`` holds ``PH * PW`` score maps per output channel: bin ``(ph, pw)`` of output channel
    ``c`` pools input channel ``(c * PH + ph) * PW + pw`` only. Sampling is :func:`roi_align`'s
    with ``aligned=True`` (the -0.5 shift, no minimum size), as ``torchvision.ops.ps_roi_align``;
    a bin with no samples (a RoI of zero or negative size with the adaptive grid) gives 0 where
    torchvision gives NaN.

    Args:
        input: ``(N, C_out * PH * PW, H, W)`` features.
        rois: ``(K, 5)`` ``(batch_index, x1, y1, x2, y2)``, or a list of ``(K_i, 4)`` boxes.
        output_size: ``(PH, PW)`` or one int.
        spatial_scale: image-to-feature-map scale, > 0.
        sampling_ratio: samples per bin side, at most 256; <= 0 for the adaptive grid.

    Returns:
        ``(K, C_out, PH, PW)``, dtype of ``input``.

    Example:
        >>> import numpy as np, opticore
        >>> maps = np.stack([np.full((4, 4), v, np.float32) for v in (1, 2, 3, 4)])[None]  # 2 x 2 bins
        >>> opticore.ps_roi_align(maps, np.array([[0, 0, 0, 4, 4]], np.float32), 2)  # each bin its own map
        array([[[[1., 2.],
                 [3., 4.]]]], dtype=float32)
    """
    pooled_height, pooled_width = _output_size(output_size)
    scale = real(spatial_scale, "spatial_scale", low=0.0, low_open=True)
    ratio = integer(sampling_ratio, "sampling_ratio", high=MAX_SAMPLING_RATIO)
    if is_tensor(input):
        tensors = (input, _rois(rois, tensor=True))
        return cast("A", _run_torch("ps_roi_align", tensors, scale, pooled_height, pooled_width, ratio))
    result = _core.ps_roi_align(as_array(input), as_array(_rois(rois, tensor=False)), pooled_height, pooled_width,
                                scale, ratio)
    return cast("A", result)


def ps_roi_pool(
    input: A,
    rois: Union[A, Sequence[A]],
    output_size: Union[int, Tuple[int, int]],
    spatial_scale: float = 1.0,
) -> A:
    """Position-sensitive RoI pooling (R-FCN): each bin averages its own score map.

    Bin ``(ph, pw)`` of output channel ``c`` is the mean of input channel ``(c * PH + ph) * PW + pw``
    over the bin's cells. The rules are ``torchvision.ops.ps_roi_pool``'s, which differ from
    :func:`roi_pool`'s beyond the mean: the RoI's corners are scaled and rounded half away from
    zero, its size is ``x2 - x1`` (not ``+ 1``; at least 1); bin ``ph`` covers rows
    ``floor(ph * h / PH) .. ceil((ph + 1) * h / PH) - 1`` from ``y1``, clipped to rows
    ``0 .. H - 2`` -- torchvision never pools the map's last row and column, and neither does
    this, so that a head trained with torchvision scores the same; an empty bin gives 0. The
    gradient is this forward's derivative; torchvision's backward differs for RoIs that reach the
    last row or column (it spreads over cells its forward never reads).

    Args:
        input: ``(N, C_out * PH * PW, H, W)`` features.
        rois: ``(K, 5)`` ``(batch_index, x1, y1, x2, y2)``, or a list of ``(K_i, 4)`` boxes.
        output_size: ``(PH, PW)`` or one int.
        spatial_scale: image-to-feature-map scale, > 0.

    Returns:
        ``(K, C_out, PH, PW)``, dtype of ``input``.

    Example:
        >>> import numpy as np, opticore
        >>> maps = np.arange(4 * 25, dtype=np.float32).reshape(1, 4, 5, 5)
        >>> opticore.ps_roi_pool(maps, np.array([[0, 0, 0, 4, 4]], np.float32), 2)  # 2 x 2 cells per bin
        array([[[[ 3., 30.],
                 [63., 90.]]]], dtype=float32)
    """
    pooled_height, pooled_width = _output_size(output_size)
    scale = real(spatial_scale, "spatial_scale", low=0.0, low_open=True)
    if is_tensor(input):
        tensors = (input, _rois(rois, tensor=True))
        return cast("A", _run_torch("ps_roi_pool", tensors, scale, pooled_height, pooled_width))
    result = _core.ps_roi_pool(as_array(input), as_array(_rois(rois, tensor=False)), pooled_height, pooled_width,
                               scale)
    return cast("A", result)


def fpn_levels(
    boxes: A, k_min: int, k_max: int, canonical_scale: float = 224.0, canonical_level: int = 4, eps: float = 1e-6
) -> A:
    """The FPN level of each box (Lin et al. 2017, eq. 1), counted from ``k_min``:
    ``clamp(floor(canonical_level + log2(sqrt(area) / canonical_scale) + eps), k_min, k_max) - k_min``.

    A 224 x 224 box goes to level 4 (the stride-16 map ``P4``), one twice as wide to ``P5``. The
    rule of ``torchvision.ops.MultiScaleRoIAlign`` (same ``eps``); the area is :func:`opticore.box_area`'s
    (an inverted box has area 0, so it goes to ``k_min``).

    Args:
        boxes: ``(K, 4)`` ``x1, y1, x2, y2`` in input-image pixels, float32 or float64.
        k_min: the finest level (``-log2`` of the finest map's scale, e.g. 2 for stride 4).
        k_max: the coarsest level, ``>= k_min``.
        canonical_scale: the box size that maps to ``canonical_level``.
        canonical_level: the level of a ``canonical_scale``-sized box.
        eps: added before the floor, so that exact powers of two land on their level.

    Returns:
        ``int64`` ``(K,)`` in ``[0, k_max - k_min]``.

    Example:
        >>> import numpy as np, opticore
        >>> boxes = np.array([[0, 0, 224, 224], [0, 0, 448, 448], [0, 0, 20, 20]], np.float32)
        >>> opticore.fpn_levels(boxes, k_min=2, k_max=5)  # P4, P5, P2
        array([2, 3, 0])
    """
    from .boxes import box_area

    low = integer(k_min, "k_min")
    high = integer(k_max, "k_max", low=low)
    scale = real(canonical_scale, "canonical_scale", low=0.0, low_open=True)
    level0 = integer(canonical_level, "canonical_level")
    offset = real(eps, "eps")
    side: Any = box_area(boxes) ** 0.5
    if is_tensor(boxes):
        import torch

        levels = torch.floor(level0 + torch.log2(side / scale) + offset)
        return cast("A", (levels.clamp(low, high) - low).to(torch.int64))
    with np.errstate(divide="ignore"):  # log2(0) = -inf: the finest level
        levels_np = np.floor(level0 + np.log2(side / scale) + offset)
    return cast("A", (np.clip(levels_np, low, high) - low).astype(np.int64))


def multi_scale_roi_align(
    features: Sequence[A],
    rois: Union[A, Sequence[A]],
    output_size: Union[int, Tuple[int, int]],
    spatial_scales: Sequence[float],
    sampling_ratio: int = 2,
    canonical_scale: float = 224.0,
    canonical_level: int = 4,
    aligned: bool = False,
) -> A:
    """RoIAlign over a feature pyramid (FPN): each RoI is pooled from the level
    :func:`fpn_levels` assigns it, all RoIs in one call, the result in the RoIs' order.

    ``torchvision.ops.MultiScaleRoIAlign`` with the scales given (its module infers them from
    the map sizes; :class:`opticore.nn.MultiScaleRoIAlign` does too). The levels run from
    ``k_min = -log2(spatial_scales[0])`` to ``k_max = -log2(spatial_scales[-1])``; one level
    is plain :func:`roi_align`.

    Args:
        features: the pyramid's maps, finest first, each ``(N, C, H_l, W_l)`` (same ``N``, ``C``).
        rois: ``(K, 5)`` ``(batch_index, x1, y1, x2, y2)`` in image pixels, or a list of per-image
            ``(K_i, 4)`` boxes.
        output_size: ``(pooled_height, pooled_width)`` or one int.
        spatial_scales: one per map, each a power of two (``1/4, 1/8, ...``).
        sampling_ratio: as :func:`roi_align` (torchvision's module default, 2).
        canonical_scale: see :func:`fpn_levels`.
        canonical_level: see :func:`fpn_levels`.
        aligned: as :func:`roi_align` (torchvision's module uses ``False``).

    Returns:
        ``(K, C, pooled_height, pooled_width)``, differentiable with respect to every map for
        tensors.

    Example:
        >>> import numpy as np, opticore
        >>> p2, p3 = np.ones((1, 8, 64, 64), np.float32), 2 * np.ones((1, 8, 32, 32), np.float32)
        >>> rois = np.array([[0, 0, 0, 40, 40], [0, 0, 0, 250, 250]], np.float32)
        >>> out = opticore.multi_scale_roi_align([p2, p3], rois, 7, [1 / 4, 1 / 8])
        >>> out.shape, float(out[0].mean()), float(out[1].mean())  # small box: P2, large: P3
        ((2, 8, 7, 7), 1.0, 2.0)
    """
    if not isinstance(features, (list, tuple)) or not features:
        raise TypeError("features: expected a non-empty list of (N, C, H, W) maps, finest first")
    if not isinstance(spatial_scales, (list, tuple)) or len(spatial_scales) != len(features):
        raise ValueError(
            f"spatial_scales: expected one scale per feature map ({len(features)}), got {spatial_scales!r}"
        )
    scales = [real(s, "spatial_scales", low=0.0, low_open=True) for s in spatial_scales]
    levels_of_scales: List[int] = []
    for s in scales:
        level = -math.log2(s)
        if abs(level - round(level)) > 1e-9:
            raise ValueError(f"spatial_scales: expected powers of two, got {s}")
        levels_of_scales.append(round(level))
    tensor = is_tensor(features[0])
    table = _rois(rois, tensor=tensor)
    if len(features) == 1:
        return roi_align(features[0], table, output_size, scales[0], sampling_ratio, aligned)
    pooled_height, pooled_width = _output_size(output_size)
    levels = fpn_levels(table[:, 1:], levels_of_scales[0], levels_of_scales[-1], canonical_scale, canonical_level)
    if tensor:
        import torch

        first = features[0]
        result = first.new_zeros((table.shape[0], first.shape[1], pooled_height, pooled_width))
        for level, (feature, scale) in enumerate(zip(features, scales)):
            index = torch.nonzero(levels == level).flatten()
            # In place: an out-of-place index_put would copy the whole result once per level.
            result.index_put_((index,), roi_align(feature, table[index], output_size, scale, sampling_ratio, aligned))
        return cast("A", result)
    first_np = as_array(features[0])
    result_np = np.zeros((table.shape[0], first_np.shape[1], pooled_height, pooled_width), first_np.dtype)
    for level, (feature, scale) in enumerate(zip(features, scales)):
        index_np = np.flatnonzero(levels == level)
        result_np[index_np] = roi_align(as_array(feature), table[index_np], output_size, scale, sampling_ratio, aligned)
    return cast("A", result_np)
