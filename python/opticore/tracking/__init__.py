"""Single-object tracking: correlation-filter trackers (MOSSE, KCF + DSST) and their features."""

from .fhog import fhog
from .trackers import KCFTracker, MOSSETracker, Tracker, create_tracker

__all__ = ["KCFTracker", "MOSSETracker", "Tracker", "create_tracker", "fhog"]
