"""A seeded crowd with exact ground truth, and a detector model with the failures trackers meet.

People are boxes (aspect ~0.4) walking on an image plane; the lower a box's bottom edge, the
nearer the person, and the nearer occludes the farther. Each walker has a speed and a heading
that drifts and now and then turns sharply; walkers enter from the image edges and leave through
them (and a few stop early), so the crowd keeps about ``num_objects`` people in view while ids
come and go. Crossings happen all the time, and with them occlusions.

Ground truth is every walker whose box is at least half inside the image, with its visible
fraction (the share of its box not covered by nearer walkers, sampled on an 8x8 grid).

Detections: a walker is detected with probability ``detect_rate * min(1, v / 0.6)`` (``v`` its
visibility, so the misses grow with occlusion), with a score ``0.15 + 0.8 * v`` plus noise (low,
below 0.5, for people less than 40% visible: what ByteTrack's second stage is for) and a box
jittered by
``jitter`` x its size; each frame adds Poisson(``false_positives``) boxes of random size and place
with scores in [0.1, 0.75).
"""

from __future__ import annotations

import dataclasses
from typing import List

import numpy as np

from .io import MotTable

__all__ = ["Crowd", "simulate_crowd"]


@dataclasses.dataclass(frozen=True)
class Crowd:
    """A simulated sequence: ``groundtruth`` (ids, boxes, ``visibility``) and ``detections``
    (ids -1, scores) as :class:`~.io.MotTable`, the image size and frame count."""

    groundtruth: MotTable
    detections: MotTable
    width: int
    height: int
    num_frames: int
    seed: int


def _visibility(boxes: np.ndarray) -> np.ndarray:
    """Share of each box not covered by boxes nearer the camera (a lower bottom edge), on an 8x8
    grid of sample points."""
    n = len(boxes)
    if n == 0:
        return np.zeros(0)
    grid = (np.arange(8) + 0.5) / 8
    xs = boxes[:, 0:1] + grid[None, :] * (boxes[:, 2:3] - boxes[:, 0:1])  # (n, 8)
    ys = boxes[:, 1:2] + grid[None, :] * (boxes[:, 3:4] - boxes[:, 1:2])
    px = np.repeat(xs, 8, axis=1)  # (n, 64): x varies slowest... any order covers the grid
    py = np.tile(ys, (1, 8))
    covered = np.zeros((n, 64), bool)
    nearer = boxes[:, 3][None, :] > boxes[:, 3][:, None]  # nearer[i, j]: j is in front of i
    for j in range(n):
        front = nearer[:, j]
        if not front.any():
            continue
        b = boxes[j]
        inside = (px >= b[0]) & (px <= b[2]) & (py >= b[1]) & (py <= b[3])
        covered |= inside & front[:, None]
    return 1.0 - covered.mean(axis=1)


def simulate_crowd(
    num_objects: int = 30,
    num_frames: int = 300,
    *,
    seed: int = 0,
    width: int = 1920,
    height: int = 1080,
    detect_rate: float = 0.95,
    jitter: float = 0.04,
    false_positives: float = 1.0,
) -> Crowd:
    """A seeded crowd of about ``num_objects`` walkers over ``num_frames`` frames.

    Example:
        >>> from opticore.eval.mot.simulate import simulate_crowd
        >>> crowd = simulate_crowd(num_objects=5, num_frames=10, seed=1)
        >>> crowd.groundtruth.num_frames, len(set(crowd.groundtruth.ids.tolist())) >= 5
        (10, True)
    """
    if num_objects < 1 or num_frames < 1:
        raise ValueError(f"num_objects, num_frames: expected >= 1, got {num_objects}, {num_frames}")
    rng = np.random.default_rng(seed)
    # Walker state: centre x, bottom y, height, heading, speed, frames left.
    scale = height / 1080.0

    def spawn(on_edge: bool) -> List[float]:
        h = rng.uniform(80, 260) * scale
        speed = rng.uniform(1.0, 6.0) * scale
        if on_edge:
            side = rng.integers(4)
            if side == 0:
                x, y, heading = -0.2 * h, rng.uniform(0.3, 1.0) * height, rng.uniform(-0.6, 0.6)
            elif side == 1:
                x, y, heading = width + 0.2 * h, rng.uniform(0.3, 1.0) * height, np.pi + rng.uniform(-0.6, 0.6)
            elif side == 2:
                x, y, heading = rng.uniform(0, width), 0.35 * height, np.pi / 2 + rng.uniform(-0.6, 0.6)
            else:
                x, y, heading = rng.uniform(0, width), height + 0.3 * h, -np.pi / 2 + rng.uniform(-0.6, 0.6)
        else:
            x, y, heading = rng.uniform(0, width), rng.uniform(0.35, 1.0) * height, rng.uniform(-np.pi, np.pi)
        return [x, y, h, heading, speed, rng.integers(num_frames // 2, 4 * num_frames + 1)]

    walkers = {k + 1: spawn(False) for k in range(num_objects)}
    next_id = num_objects + 1
    gt_rows: List[tuple] = []
    det_rows: List[tuple] = []
    for frame in range(1, num_frames + 1):
        ids = np.array(sorted(walkers), np.int64)
        state = np.array([walkers[i] for i in ids], np.float64)
        w = 0.41 * state[:, 2]
        boxes = np.column_stack([state[:, 0] - w / 2, state[:, 1] - state[:, 2], state[:, 0] + w / 2, state[:, 1]])
        cx = np.clip(boxes[:, [0, 2]], 0, width)
        cy = np.clip(boxes[:, [1, 3]], 0, height)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        inside = (cx[:, 1] - cx[:, 0]) * (cy[:, 1] - cy[:, 0]) / area
        shown = inside >= 0.5
        vis = _visibility(boxes[shown])
        for i, b, v in zip(ids[shown], boxes[shown], vis):
            gt_rows.append((frame, i, *b, v))
            if rng.random() < detect_rate * min(1.0, v / 0.6):
                size = np.array([b[2] - b[0], b[3] - b[1]] * 2)
                db = b + rng.normal(0, jitter, 4) * size
                db[2], db[3] = max(db[2], db[0] + 1), max(db[3], db[1] + 1)
                score = float(np.clip(0.15 + 0.8 * v + rng.normal(0, 0.05), 0.01, 0.99))
                det_rows.append((frame, *db, score))
        for _ in range(rng.poisson(false_positives)):
            h = rng.uniform(60, 260) * scale
            x, y = rng.uniform(0, width - 0.41 * h), rng.uniform(0, height - h)
            det_rows.append((frame, x, y, x + 0.41 * h, y + h, rng.uniform(0.1, 0.75)))
        # Motion: heading drift, rare sharp turns, then the step; leave, expire, replace.
        for i in list(walkers):
            s = walkers[i]
            s[3] += rng.normal(0, 0.05) + (rng.uniform(-2, 2) if rng.random() < 0.01 else 0.0)
            s[0] += s[4] * np.cos(s[3])
            s[1] += 0.5 * s[4] * np.sin(s[3])  # the ground plane is foreshortened
            s[2] *= 1.0 + 0.002 * np.sin(s[3])  # nearer (lower) walkers grow
            s[5] -= 1
            outside = s[0] < -0.5 * s[2] or s[0] > width + 0.5 * s[2] or s[1] < 0.3 * height or s[1] > height + s[2]
            if outside or s[5] <= 0:
                del walkers[i]
                walkers[next_id] = spawn(True)
                next_id += 1
    g = np.array(gt_rows, np.float64).reshape(-1, 7)
    d = np.array(det_rows, np.float64).reshape(-1, 6)
    groundtruth = MotTable.from_arrays(g[:, 0], g[:, 1], g[:, 2:6], visibility=g[:, 6])
    detections = MotTable.from_arrays(d[:, 0], np.full(len(d), -1), d[:, 1:5], d[:, 5])
    return Crowd(groundtruth, detections, width, height, num_frames, seed)
