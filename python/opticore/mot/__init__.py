"""Multi-object tracking by detection: SORT, ByteTrack and OC-SORT, computed by opticore's C++
core, and their public pieces (the box Kalman filter and the linear-assignment solver).

Conventions:

* Boxes are ``(N, 4)`` ``x1, y1, x2, y2`` arrays of real numbers (float64 inside), finite and
  within +-1e30 (the Kalman filter squares sizes), with ``x2 >= x1`` and ``y2 >= y1``; scores
  ``(N,)`` finite; labels ``(N,)`` integers.
* Each :meth:`MultiTracker.update` call is one frame. It returns the *confirmed* tracks matched in
  that frame as :class:`Tracks`, ordered by id; ids start at 1 and are never reused (until
  :meth:`~MultiTracker.reset`).
* With labels, a detection is only associated with a track of the same label (per-class
  association); a track's label is that of the detection that started it.
* Bad input raises ``ValueError`` / ``TypeError`` naming the argument, and the tracker is left as
  it was. ``update`` releases the GIL; a tracker shared by threads is serialised by a lock.

The evaluation (MOTChallenge files, HOTA / CLEAR / Identity metrics, a crowd simulator) is in
:mod:`opticore.eval.mot`, which this package does not import.

Example:
    >>> import numpy as np
    >>> from opticore.mot import MultiTracker
    >>> tracker = MultiTracker("bytetrack")
    >>> for t in range(3):
    ...     boxes = np.array([[10.0 + 4 * t, 10, 40 + 4 * t, 80], [200 - 4 * t, 20, 230 - 4 * t, 90]])
    ...     tracks = tracker.update(boxes, np.array([0.9, 0.8]))
    >>> tracks.ids.tolist(), tracks.detections.tolist()
    ([1, 2], [0, 1])
"""

from __future__ import annotations

from typing import Any, Dict, Literal, NamedTuple, Optional, Tuple

import numpy as np

from .. import _core
from .._args import as_array, choice, integer, real

__all__ = [
    "METHODS",
    "MultiTracker",
    "Tracks",
    "kalman_initiate",
    "kalman_predict",
    "kalman_update",
    "estimate_camera_motion",
    "linear_assignment",
]

Method = Literal["bytetrack", "ocsort", "sort"]
METHODS: Tuple[str, ...] = ("bytetrack", "ocsort", "sort")

#: Track states in :attr:`Tracks.states`.
TENTATIVE, CONFIRMED, LOST = 0, 1, 2

STD_WEIGHT_POSITION = 1.0 / 20
STD_WEIGHT_VELOCITY = 1.0 / 160


class Tracks(NamedTuple):
    """Tracks of one frame, one row each, ordered by id.

    Attributes:
        boxes: ``(M, 4)`` float64 ``x1, y1, x2, y2``: the track's Kalman state after this frame.
        ids: ``(M,)`` int64, from 1 (0 for a tentative track in :meth:`MultiTracker.tracks`).
        scores: ``(M,)`` float64, of the last detection matched.
        labels: ``(M,)`` int64, of the detection that started the track (0 without labels).
        detections: ``(M,)`` int64, the row of ``update``'s ``boxes`` matched in this frame (-1:
            none, for lost tracks in :meth:`MultiTracker.tracks`).
        states: ``(M,)`` int8: 0 tentative, 1 confirmed, 2 lost.
        time_since_update: ``(M,)`` int64, frames since the last match (0 when matched now).

    Example:
        >>> import numpy as np
        >>> from opticore import MultiTracker
        >>> tracks = MultiTracker().update(np.array([[0.0, 0, 10, 20]]), np.array([0.9]))
        >>> len(tracks), tracks.ids, tracks.scores
        (1, array([1]), array([0.9]))
    """

    boxes: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    detections: np.ndarray
    states: np.ndarray
    time_since_update: np.ndarray

    def __len__(self) -> int:  # the number of tracks, not of fields
        return int(self.ids.shape[0])


class MultiTracker:
    """SORT, ByteTrack or OC-SORT: boxes of each frame in, boxes with persistent ids out.

    The pipeline per frame (``opticore/mot/multi_tracker.hpp`` documents it in full): detections
    with ``score < low_threshold`` are dropped, the others are *high* when ``score >=
    high_threshold``; every track's constant-velocity Kalman state (centre, size and their
    velocities) is predicted one frame ahead; tracks and detections are associated by optimal
    assignment on ``1 - IoU``, a pair needing ``IoU > iou_threshold``:

    * ``"sort"`` (Bewley et al. 2016): all tracks with the high detections.
    * ``"bytetrack"`` (Zhang et al. 2022): confirmed and lost tracks with the high detections; the
      confirmed tracks left with the low ones (``IoU > low_iou_threshold``); tentative tracks with
      the high detections left.
    * ``"ocsort"`` (Cao et al. 2023): all tracks with the high detections at cost ``-(IoU +
      momentum_weight * score * (pi/2 - angle) / pi)`` (the angle between the track's direction of
      motion and the direction to the detection); the rest by IoU with the tracks' last
      observations (recovery); a track found again after a gap is re-updated along a straight
      virtual path (observation-centric re-update).

    An unmatched high detection with ``score >= new_track_threshold`` starts a tentative track,
    confirmed after ``min_hits`` consecutive matches (at once in the first frame); a tentative
    track missed once is dropped, a confirmed one becomes lost and is dropped after more than
    ``track_buffer * frame_rate / 30`` frames without a match.

    The defaults were chosen on simulated crowds of 10 to 100 people (one set for the three
    methods; ``benchmarks/tune_mot_defaults.py``): they keep nearly every detection, which is what
    a crowd with occlusion needs. For a detector with many low-score false positives, ByteTrack's
    published values are the safer start: ``high_threshold=0.5, new_track_threshold=0.6,
    iou_threshold=0.3, track_buffer=30``.

    Args:
        method: ``"bytetrack"`` (default), ``"ocsort"`` or ``"sort"``.
        high_threshold: score of a high detection (0.1).
        low_threshold: detections below are ignored (0.1; at most ``high_threshold``).
        new_track_threshold: score an unmatched detection needs to start a track (0.3).
        iou_threshold: a match needs IoU above this (0.4; in [0, 1)).
        low_iou_threshold: ByteTrack's second stage, low detections (0.5; in [0, 1)).
        track_buffer: frames a lost track is kept, at 30 frames/s (60; >= 0).
        min_hits: consecutive matched frames that confirm a track (2; >= 1).
        frame_rate: frames per second of the video (30; > 0): scales ``track_buffer``.
        momentum_weight: OC-SORT's direction-consistency weight (0.2; >= 0).
        momentum_delta_t: OC-SORT: frames between the observations giving a direction (3; >= 1).
        std_weight_position: Kalman noise, position std per unit of box size (1/20; > 0).
        std_weight_velocity: Kalman noise, velocity std per unit of box size (1/160; > 0).

    Example:
        >>> import numpy as np
        >>> from opticore.mot import MultiTracker
        >>> tracker = MultiTracker("sort", min_hits=1)
        >>> tracker.update(np.array([[0.0, 0, 10, 20]]), np.array([0.9])).ids
        array([1])
        >>> tracker.update(np.array([[1.0, 0, 11, 20]]), np.array([0.9])).boxes.round(1)
        array([[ 0.9,  0. , 10.9, 20. ]])
    """

    def __init__(
        self,
        method: Method = "bytetrack",
        *,
        high_threshold: float = 0.1,
        low_threshold: float = 0.1,
        new_track_threshold: float = 0.3,
        iou_threshold: float = 0.4,
        low_iou_threshold: float = 0.5,
        track_buffer: int = 60,
        min_hits: int = 2,
        frame_rate: float = 30.0,
        momentum_weight: float = 0.2,
        momentum_delta_t: int = 3,
        std_weight_position: float = STD_WEIGHT_POSITION,
        std_weight_velocity: float = STD_WEIGHT_VELOCITY,
    ) -> None:
        choice(method, "method", METHODS)
        self._params: Dict[str, Any] = {
            "method": method,
            "high_threshold": real(high_threshold, "high_threshold"),
            "low_threshold": real(low_threshold, "low_threshold"),
            "new_track_threshold": real(new_track_threshold, "new_track_threshold"),
            "iou_threshold": real(iou_threshold, "iou_threshold"),
            "low_iou_threshold": real(low_iou_threshold, "low_iou_threshold"),
            "track_buffer": integer(track_buffer, "track_buffer", low=0),
            "min_hits": integer(min_hits, "min_hits", low=1),
            "frame_rate": real(frame_rate, "frame_rate"),
            "momentum_weight": real(momentum_weight, "momentum_weight"),
            "momentum_delta_t": integer(momentum_delta_t, "momentum_delta_t", low=1),
            "std_weight_position": real(std_weight_position, "std_weight_position"),
            "std_weight_velocity": real(std_weight_velocity, "std_weight_velocity"),
        }
        self._impl = _core.MultiTracker(**self._params)  # checks the ranges (ValueError naming the field)

    @property
    def params(self) -> Dict[str, Any]:
        """The parameters, by name (a copy)."""
        return dict(self._params)

    @property
    def frame_count(self) -> int:
        """Frames given to :meth:`update` since the start (or the last :meth:`reset`)."""
        return int(self._impl.frame_count)

    def update(
        self,
        boxes: Any,
        scores: Any,
        labels: Optional[Any] = None,
        *,
        camera_motion: Optional[Any] = None,
    ) -> Tracks:
        """Tracks one frame.

        Args:
            boxes: ``(N, 4)`` detections ``x1, y1, x2, y2`` (real numbers; ``N`` may be 0).
            scores: ``(N,)`` their scores.
            labels: ``(N,)`` integer classes, for per-class association (None: one class).
            camera_motion: a ``(2, 3)`` affine mapping the previous frame's pixels to this one's
                (e.g. from an image registration), applied to every track before the prediction:
                centres by the affine, velocities by its linear part, widths and heights scaled
                by the norms of its columns.

        Returns:
            The confirmed tracks matched in this frame (:class:`Tracks`), ordered by id.
        """
        boxes = as_array(boxes)
        if boxes.ndim == 1 and boxes.shape[0] == 0:  # [] for a frame without detections
            boxes = boxes.reshape(0, 4)
        out = self._impl.update(boxes, as_array(scores), None if labels is None else as_array(labels),
                                None if camera_motion is None else as_array(camera_motion))
        return Tracks(*out)

    def tracks(self) -> Tracks:
        """Every live track (tentative, confirmed, lost) with its current box, ordered by id,
        tentative ones (id 0) last."""
        return Tracks(*self._impl.tracks())

    def reset(self) -> None:
        """Forgets every track; the next id is 1 again."""
        self._impl.reset()

    def __repr__(self) -> str:
        return f"MultiTracker({self._params['method']!r}, frame_count={self.frame_count})"


def linear_assignment(cost: Any, max_cost: Optional[float] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Optimal assignment of rows to columns of a cost matrix (Jonker-Volgenant).

    Without ``max_cost``: ``min(N, M)`` pairs of least total cost, as
    ``scipy.optimize.linear_sum_assignment`` (with ties, the pairs may differ, the total not); every
    entry must be finite. With ``max_cost``: pairs with ``cost >= max_cost`` (``inf`` included)
    are never matched, rows and columns may stay unmatched, and the pairs minimise ``sum(cost -
    max_cost)``: ``max_cost`` is the price of leaving a row or a column unmatched.

    Args:
        cost: ``(N, M)`` real matrix (float64 inside); no NaN, no ``-inf``.
        max_cost: the gate, or None.

    Returns:
        ``(rows, cols)``: int64 arrays, ``rows`` ascending, ``cols[k]`` matched to ``rows[k]``.

    Example:
        >>> import numpy as np
        >>> from opticore.mot import linear_assignment
        >>> linear_assignment(np.array([[4.0, 1, 3], [2, 0, 5], [3, 2, 2]]))
        (array([0, 1, 2]), array([1, 0, 2]))
        >>> linear_assignment(np.array([[0.1, 0.9], [0.8, 0.95]]), max_cost=0.7)
        (array([0]), array([0]))
    """
    gate = None if max_cost is None else real(max_cost, "max_cost")
    return _core.linear_assignment(as_array(cost), gate)


def kalman_initiate(
    boxes: Any, *, std_weight_position: float = STD_WEIGHT_POSITION, std_weight_velocity: float = STD_WEIGHT_VELOCITY
) -> Tuple[np.ndarray, np.ndarray]:
    """New states of the trackers' Kalman filter at ``boxes`` (zero velocity).

    The state is ``cx, cy, w, h, vcx, vcy, vw, vh`` (box centre, size, and their velocities per
    frame); the noise standard deviations are proportional to the box's width (for ``cx``, ``w``)
    or height (``cy``, ``h``): ``opticore/mot/kalman.hpp`` gives them.

    Args:
        boxes: ``(N, 4)`` ``x1, y1, x2, y2``.

    Returns:
        ``(mean, covariance)``: ``(N, 8)`` and ``(N, 8, 8)`` float64.

    Example:
        >>> from opticore.mot import kalman_initiate
        >>> mean, cov = kalman_initiate([[0.0, 0, 10, 20]])
        >>> mean[0].tolist()
        [5.0, 10.0, 10.0, 20.0, 0.0, 0.0, 0.0, 0.0]
    """
    return _core.kalman_initiate(as_array(boxes), real(std_weight_position, "std_weight_position"),
                                 real(std_weight_velocity, "std_weight_velocity"))


def kalman_predict(
    mean: Any, covariance: Any, *, std_weight_position: float = STD_WEIGHT_POSITION,
    std_weight_velocity: float = STD_WEIGHT_VELOCITY,
) -> Tuple[np.ndarray, np.ndarray]:
    """One step of the constant-velocity model for N states: ``mean = F mean``, ``P = F P F^T + Q``.

    ``covariance`` must have the filter's structure (as :func:`kalman_initiate` returns: nonzero
    only where row and column are the same coordinate, position or velocity; symmetric).

    Example:
        >>> from opticore.mot import kalman_initiate, kalman_predict
        >>> mean, cov = kalman_predict(*kalman_initiate([[0.0, 0, 10, 20]]))
        >>> mean.shape, cov.shape
        ((1, 8), (1, 8, 8))
    """
    return _core.kalman_predict(as_array(mean), as_array(covariance), real(std_weight_position, "std_weight_position"),
                                real(std_weight_velocity, "std_weight_velocity"))


def kalman_update(
    mean: Any, covariance: Any, boxes: Any, *, std_weight_position: float = STD_WEIGHT_POSITION,
    std_weight_velocity: float = STD_WEIGHT_VELOCITY,
) -> Tuple[np.ndarray, np.ndarray]:
    """The correction of N states with one measured box each (``(N, 4)`` ``x1, y1, x2, y2``).

    Example:
        >>> from opticore.mot import kalman_initiate, kalman_predict, kalman_update
        >>> mean, cov = kalman_predict(*kalman_initiate([[0.0, 0, 10, 20]]))
        >>> mean, cov = kalman_update(mean, cov, [[2.0, 0, 12, 20]])
        >>> round(float(mean[0, 4]), 3)  # the centre's velocity, learnt from one step
        0.413
    """
    return _core.kalman_update(as_array(mean), as_array(covariance), as_array(boxes),
                               real(std_weight_position, "std_weight_position"),
                               real(std_weight_velocity, "std_weight_velocity"))


def estimate_camera_motion(previous: np.ndarray, frame: np.ndarray, *, max_corners: int = 400) -> np.ndarray:
    """The camera's motion between two frames, for :meth:`MultiTracker.update`'s ``camera_motion``:
    a ``(2, 3)`` float64 similarity (rotation, uniform scale, translation) mapping ``previous``'s
    pixels to ``frame``'s, estimated with OpenCV (Shi-Tomasi corners tracked by pyramidal
    Lucas-Kanade optical flow, then a RANSAC fit that ignores the points on moving objects). The
    identity when too few points are found (a flat image).

    Needs OpenCV (``pip install opencv-contrib-python-headless``); frames are ``(H, W)`` grey or
    ``(H, W, 3)`` BGR ``uint8`` of the same size.

    Example:
        >>> import numpy as np
        >>> from opticore.mot import estimate_camera_motion
        >>> rng = np.random.default_rng(0)
        >>> scene = (rng.random((120, 160)) * 255).astype(np.uint8)
        >>> moved = np.roll(scene, 3, axis=1)  # the camera panned: everything moves 3 px right
        >>> bool(np.allclose(estimate_camera_motion(scene, moved), [[1, 0, 3], [0, 1, 0]], atol=0.01))
        True
    """
    import cv2

    frames = [np.asarray(previous), np.asarray(frame)]
    usable = [f.dtype == np.uint8 and (f.ndim == 2 or (f.ndim == 3 and f.shape[2] == 3)) for f in frames]
    if not all(usable) or frames[0].shape[:2] != frames[1].shape[:2]:
        raise ValueError(f"previous, frame: expected uint8 frames of one size, (H, W) or (H, W, 3), got "
                         f"{frames[0].shape} {frames[0].dtype} and {frames[1].shape} {frames[1].dtype}")
    grey = [f if f.ndim == 2 else cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    identity = np.eye(2, 3)
    points = cv2.goodFeaturesToTrack(grey[0], integer(max_corners, "max_corners", low=1), 0.01, 8)
    if points is None or len(points) < 3:
        return identity
    moved, status, _ = cv2.calcOpticalFlowPyrLK(grey[0], grey[1], points, points.copy())
    ok = status.reshape(-1) == 1
    if ok.sum() < 3:
        return identity
    matrix, _ = cv2.estimateAffinePartial2D(points[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
    return identity if matrix is None else matrix.astype(np.float64)
