"""Scenes the tracker tests share: scikit-image's astronaut (BGR) filmed by a virtual camera, with
exact ground truth. Imported by test_tracker_steps.py, test_trackers.py and
test_tracker_arguments.py; the `astronaut` frame itself is a fixture in conftest.py."""

from __future__ import annotations

import numpy as np
import pytest

import opticore

cv2 = pytest.importorskip("cv2")


def camera(image, cx, cy, zoom=1.0, angle=0.0, size=(320, 240)):
    """A frame of `size` looking at (cx, cy) of `image`, zoomed and rotated; M maps image -> frame."""
    w, h = size
    a, b = zoom * np.cos(angle), zoom * np.sin(angle)
    M = np.array([[a, -b, 0.0], [b, a, 0.0]])
    M[:, 2] = [(w - 1) / 2, (h - 1) / 2] - M[:, :2] @ [cx, cy]
    return opticore.warp_affine(image, M, size, border_mode="replicate"), M


FACE = (177.0, 66.0, 95.0, 95.0)  # the astronaut's face, image coordinates


def face_sequence(image, steps, zoom_rate=1.0):
    """Frames panning across the face; ground-truth boxes follow the camera exactly."""
    fx, fy, fw, fh = FACE
    centre = np.array([fx + (fw - 1) / 2, fy + (fh - 1) / 2])
    frames, truth = [], []
    for t in range(steps):
        look = centre + [6 * np.sin(t / 5), 4 * np.cos(t / 7) - 4]
        zoom = zoom_rate**t
        frame, M = camera(image, *look, zoom=zoom)
        c = M[:, :2] @ centre + M[:, 2]
        s = (fw * zoom, fh * zoom)
        frames.append(frame)
        truth.append((c[0] - (s[0] - 1) / 2, c[1] - (s[1] - 1) / 2, *s))
    return frames, np.array(truth)


def centre_error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2)
