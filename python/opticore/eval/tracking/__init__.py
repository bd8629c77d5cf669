"""The evaluation of single-object trackers: sequences with exact ground truth filmed by a virtual
camera (:mod:`.synthetic`), videos and OTB data (:mod:`.sequences`), OTB metrics and plots
(:mod:`.metrics`), and a runner that puts opticore's and OpenCV's trackers behind one ``init`` /
``update`` interface (:mod:`.run`). The trackers themselves are in :mod:`opticore.tracking`.

Boxes are ``(x, y, w, h)`` floats everywhere, as ``cv2.Tracker`` and OTB ground-truth files.

Example:
    >>> from opticore.eval.tracking import astronaut_demo, metrics
    >>> seq = astronaut_demo(frames=5)
    >>> round(metrics.scores(seq.groundtruth, seq.groundtruth)["auc"], 3)  # a perfect track
    0.952
"""

from __future__ import annotations

from . import metrics
from .run import (
    OPENCV_COUNTERPART,
    TRACKERS,
    Track,
    TrackerUnavailable,
    available,
    create,
    track,
)
from .sequences import (
    BUILTIN_IMAGES,
    Sequence,
    load_image,
    load_otb,
    load_video,
    read_otb_groundtruth,
)
from .synthetic import (
    MOTIONS,
    Camera,
    astronaut_demo,
    default_suite,
    pick_target,
    synthetic_sequence,
)

__all__ = [
    "BUILTIN_IMAGES",
    "MOTIONS",
    "OPENCV_COUNTERPART",
    "TRACKERS",
    "Camera",
    "Sequence",
    "Track",
    "TrackerUnavailable",
    "astronaut_demo",
    "available",
    "create",
    "default_suite",
    "load_image",
    "load_otb",
    "load_video",
    "metrics",
    "pick_target",
    "read_otb_groundtruth",
    "synthetic_sequence",
    "track",
]
