"""Single-object tracking: correlation-filter trackers (MOSSE, KCF with the DSST scale filter)
and their FHOG features, computed in C++; and their evaluation: sequences with exact ground
truth filmed by a virtual camera (:mod:`.synthetic`), videos and OTB data (:mod:`.sequences`),
OTB metrics and plots (:mod:`.metrics`), and a runner that puts opticore's and OpenCV's trackers
behind one ``init`` / ``update`` interface (:mod:`.run`).

Boxes are ``(x, y, w, h)`` floats everywhere, as ``cv2.Tracker`` and OTB ground-truth files.

Example:
    >>> from opticore.tracking import astronaut_demo, metrics
    >>> seq = astronaut_demo(frames=5)
    >>> round(metrics.scores(seq.groundtruth, seq.groundtruth)["auc"], 3)  # a perfect track
    0.952
"""

from __future__ import annotations

from . import metrics
from .fhog import fhog
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
from .trackers import KCFTracker, MOSSETracker, Tracker, create_tracker

__all__ = [
    "BUILTIN_IMAGES",
    "MOTIONS",
    "OPENCV_COUNTERPART",
    "TRACKERS",
    "Camera",
    "KCFTracker",
    "MOSSETracker",
    "Sequence",
    "Track",
    "Tracker",
    "TrackerUnavailable",
    "astronaut_demo",
    "available",
    "create",
    "create_tracker",
    "default_suite",
    "fhog",
    "load_image",
    "load_otb",
    "load_video",
    "metrics",
    "pick_target",
    "read_otb_groundtruth",
    "synthetic_sequence",
    "track",
]
