"""Single-object tracking: correlation-filter trackers (MOSSE, KCF with the DSST scale filter)
and their FHOG features, computed in C++. Their evaluation (synthetic sequences, OTB data and
metrics, the runner beside OpenCV's trackers) is in :mod:`opticore.eval.tracking`, which this
package does not import.

Boxes are ``(x, y, w, h)`` floats, as ``cv2.Tracker`` and OTB ground-truth files.

Example:
    >>> import numpy as np
    >>> from opticore.tracking import MOSSETracker
    >>> frame = np.zeros((64, 64), np.uint8)
    >>> frame[20:40, 24:44] = 255
    >>> tracker = MOSSETracker()
    >>> tracker.init(frame, (24.0, 20.0, 20.0, 20.0))
    >>> ok, box = tracker.update(frame)
    >>> [round(v) for v in box]
    [24, 20, 20, 20]
"""

from __future__ import annotations

from .fhog import fhog
from .trackers import KCFTracker, MOSSETracker, Tracker, create_tracker

__all__ = ["KCFTracker", "MOSSETracker", "Tracker", "create_tracker", "fhog"]
