"""The evaluation of multi-object trackers: MOTChallenge files (:mod:`.io`), HOTA / CLEAR /
Identity metrics (:mod:`.metrics`), a seeded crowd simulator with exact ground truth
(:mod:`.simulate`), and :func:`track_detections` / :func:`evaluate` to run a tracker over a
detection table and score its result. The trackers themselves are in :mod:`opticore.mot`.

Boxes are ``x1, y1, x2, y2`` in memory, ``bb_left, bb_top, bb_width, bb_height`` in files.

Example:
    >>> from opticore.eval.mot import evaluate, simulate_crowd, track_detections
    >>> from opticore.mot import MultiTracker
    >>> crowd = simulate_crowd(num_objects=10, num_frames=50, seed=0)
    >>> result = track_detections(MultiTracker("bytetrack"), crowd.detections, crowd.num_frames)
    >>> scores = evaluate(crowd.groundtruth, result)
    >>> scores["HOTA"] > 0.5, scores["MOTA"] > 0.5
    (True, True)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from ... import box_iou
from . import metrics
from .io import MotTable, read_mot, read_seqinfo, write_mot
from .simulate import Crowd, simulate_crowd

__all__ = [
    "Crowd",
    "MotTable",
    "evaluate",
    "metrics",
    "read_mot",
    "read_seqinfo",
    "similarities",
    "simulate_crowd",
    "track_detections",
    "write_mot",
]


def similarities(groundtruth: MotTable, result: MotTable, num_frames: Optional[int] = None):
    """Per-frame ``(gt_ids, tracker_ids, similarity)`` lists (IoU of the boxes) for the metrics,
    over frames 1 .. ``num_frames`` (default: the last frame of either table)."""
    last = max(groundtruth.num_frames, result.num_frames) if num_frames is None else num_frames
    gt_ids: List[np.ndarray] = []
    tr_ids: List[np.ndarray] = []
    sims: List[np.ndarray] = []
    for (_, g), (_, t) in zip(groundtruth.by_frame(last), result.by_frame(last)):
        gt_ids.append(g.ids)
        tr_ids.append(t.ids)
        sims.append(box_iou(g.boxes, t.boxes) if len(g) and len(t) else np.zeros((len(g), len(t))))
    return gt_ids, tr_ids, sims


def evaluate(groundtruth: MotTable, result: MotTable, num_frames: Optional[int] = None) -> Dict[str, Any]:
    """HOTA, CLEAR and Identity metrics of ``result`` against ``groundtruth`` (one sequence),
    in one dict (:mod:`.metrics` names the keys). Unlike the MOTChallenge evaluation, no
    distractor classes are removed first: give only the objects to be scored."""
    gt_ids, tr_ids, sims = similarities(groundtruth, result, num_frames)
    out: Dict[str, Any] = {}
    out.update(metrics.hota(gt_ids, tr_ids, sims))
    out.update(metrics.clear(gt_ids, tr_ids, sims))
    out.update(metrics.identity(gt_ids, tr_ids, sims))
    return out


def track_detections(tracker: Any, detections: MotTable, num_frames: Optional[int] = None) -> MotTable:
    """Runs ``tracker`` (an :class:`opticore.mot.MultiTracker`, or anything with ``update(boxes,
    scores)`` returning an object with ``boxes``, ``ids``, ``scores``) over the frames of
    ``detections`` and returns its tracks as a table."""
    frames, ids, boxes, scores = [], [], [], []
    for frame, rows in detections.by_frame(num_frames):
        tracks = tracker.update(rows.boxes, rows.scores)
        frames.append(np.full(len(tracks.ids), frame))
        ids.append(tracks.ids)
        boxes.append(np.asarray(tracks.boxes).reshape(-1, 4))
        scores.append(tracks.scores)
    if not frames:
        return MotTable.from_arrays([], [], np.zeros((0, 4)))
    return MotTable.from_arrays(np.concatenate(frames), np.concatenate(ids), np.concatenate(boxes),
                                np.concatenate(scores))
