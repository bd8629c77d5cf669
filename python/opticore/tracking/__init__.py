"""Tracking: features and correlation-filter trackers."""

from .fhog import fhog

__all__ = ["fhog"]
