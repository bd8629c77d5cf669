"""opticore: fast, exact computer-vision operators with a C++ core.

NumPy arrays in, NumPy arrays out; torch tensors in, torch tensors out. ``import opticore``
never imports torch: torch is loaded the first time a tensor reaches an operator.
"""

from __future__ import annotations

import os as _os
from typing import Any, Dict

from . import _core
from ._args import integer as _integer
from .alignment import ARCFACE_112, align_face, align_faces, arcface_template, landmarks_to_5, mean_shape68, umeyama
from .augment import random_transform, random_warp
from .box_utils import box_convert, clip_boxes_to_image, masks_to_boxes, remove_small_boxes
from .boxes import (
    batched_nms,
    box_area,
    box_iou,
    complete_box_iou,
    distance_box_iou,
    generalized_box_iou,
    nms,
    nms_min,
    soft_nms,
)
from .deform import deform_conv2d
from .face_detection import Detections, FaceDetector
from .liveness import crop_face, face_crop_boxes, fourier_spectrum
from .losses import ciou_loss, diou_loss, giou_loss, sigmoid_focal_loss
from .mot import MultiTracker, Tracks
from .roi import fpn_levels, multi_scale_roi_align, ps_roi_align, ps_roi_pool, roi_align, roi_pool
from .tracking import KCFTracker, MOSSETracker, create_tracker, fhog
from .warp import crop_resize, remap, resize, warp_affine

__version__: str = _core.__version__

#: Prefix of the installed C++ package: ``cmake -DCMAKE_PREFIX_PATH=<this>`` makes
#: ``find_package(opticore)`` find opticore::core (and opticore::torch when built).
cmake_prefix_path: str = _os.path.dirname(_os.path.abspath(__file__))


def get_num_threads() -> int:
    """Number of threads opticore's own parallel loops may use (default: the CPU count)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Cap opticore's parallel loops at ``n`` threads (``1 <= n <= 1024``; 1 = single-threaded).

    Applies to NumPy and torch calls alike; it does not change torch's own thread count. The
    threads are started once, when a call first needs them, and reused; lowering ``n`` stops
    those beyond it. When the system refuses one (a thread or memory limit), calls go on with
    those there are, down to the calling thread alone.

    Example:
        >>> import opticore
        >>> opticore.set_num_threads(1)
    """
    _core.set_num_threads(_integer(n, "n", low=1, high=_core.MAX_NUM_THREADS))


def build_info() -> Dict[str, Any]:
    """How this opticore was built.

    Returns:
        A dict with ``version``, ``compiler``, ``build_type``, ``torch_version`` (the torch whose
        headers the operators were compiled with, or None), ``torch_min_version`` (the oldest
        torch the operators load on: they use LibTorch's stable ABI, so any later release works;
        None without them), ``cuda`` (whether the CUDA kernels were compiled: the build found
        nvcc), ``torch_ops`` (the torch operator library is installed) and ``num_threads``.

    Example:
        >>> import opticore
        >>> opticore.build_info()["version"] == opticore.__version__
        True
    """
    from .torch import MIN_TORCH_VERSION, library_path

    info = dict(_core.build_info())
    info["torch_ops"] = library_path() is not None
    info["torch_version"] = info["torch_version"] or None
    info["torch_min_version"] = "{}.{}".format(*MIN_TORCH_VERSION) if info["torch_ops"] else None
    return info


__all__ = [
    "ARCFACE_112",
    "Detections",
    "FaceDetector",
    "KCFTracker",
    "MOSSETracker",
    "MultiTracker",
    "Tracks",
    "__version__",
    "align_face",
    "align_faces",
    "arcface_template",
    "batched_nms",
    "box_area",
    "box_convert",
    "box_iou",
    "build_info",
    "ciou_loss",
    "clip_boxes_to_image",
    "cmake_prefix_path",
    "complete_box_iou",
    "create_tracker",
    "crop_face",
    "crop_resize",
    "deform_conv2d",
    "diou_loss",
    "distance_box_iou",
    "face_crop_boxes",
    "fhog",
    "fourier_spectrum",
    "fpn_levels",
    "generalized_box_iou",
    "get_num_threads",
    "giou_loss",
    "landmarks_to_5",
    "masks_to_boxes",
    "mean_shape68",
    "multi_scale_roi_align",
    "nms",
    "nms_min",
    "ps_roi_align",
    "ps_roi_pool",
    "random_transform",
    "random_warp",
    "remap",
    "remove_small_boxes",
    "resize",
    "roi_align",
    "roi_pool",
    "set_num_threads",
    "sigmoid_focal_loss",
    "soft_nms",
    "umeyama",
    "warp_affine",
]
