"""Run trackers over sequences: the tracker registry (opticore's and OpenCV's trackers behind one
interface) and a timed one-pass evaluation.

Every tracker here has ``init(image, box) -> None``, ``update(image) -> (ok, box)`` and a ``score``
attribute (the last update's confidence, e.g. a PSR; None when the tracker has none), with
``(x, y, w, h)`` float boxes (see :mod:`opticore.eval.tracking.sequences` for the convention).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple
from typing import Sequence as Seq

import numpy as np

import opticore

from .metrics import scores
from .sequences import Sequence

__all__ = ["OPENCV_COUNTERPART", "TRACKERS", "Track", "TrackerUnavailable", "available", "create", "track"]

Box = Tuple[float, float, float, float]


class TrackerUnavailable(RuntimeError):
    """The tracker's library (or that build of it) is not installed; the message says what is missing."""


class _OpenCVTracker:
    """An OpenCV tracker behind the float-box interface.

    OpenCV >= 4.5's ``cv2.Tracker*`` take an integer ``cv::Rect`` (a float tuple is refused), so the
    first box is rounded; the legacy ``cv2.legacy.Tracker*`` take ``Rect2d`` floats as they are.
    When an update fails, OpenCV returns ``(False, (0, 0, 0, 0))`` but keeps its own state where it
    was (KCF, MOSSE and CSRT leave the target box unchanged and search there next frame), so the
    last box is returned with ``ok=False``: every tracker is scored on where it believes the target
    is, as opticore's trackers report it.
    """

    def __init__(self, make: Callable[[], Any], integer_rect: bool) -> None:
        self._tracker = make()
        self._integer = integer_rect
        self._last: Box = (np.nan, np.nan, np.nan, np.nan)
        self.score: Optional[float] = None

    def init(self, image: np.ndarray, box: Seq[float]) -> None:
        b = tuple(int(round(v)) for v in box) if self._integer else tuple(float(v) for v in box)
        self._tracker.init(image, b)
        self._last = tuple(float(v) for v in b)  # type: ignore[assignment]

    def update(self, image: np.ndarray) -> Tuple[bool, Box]:
        ok, box = self._tracker.update(image)
        score = getattr(self._tracker, "getTrackingScore", None)
        self.score = float(score()) if callable(score) else None
        if ok:
            self._last = tuple(float(v) for v in box)  # type: ignore[assignment]
        return bool(ok), self._last


class _OpticoreTracker:
    """``opticore.create_tracker(name, **params)`` with ``score`` read after every update."""

    def __init__(self, name: str, params: Dict[str, Any]) -> None:
        self._tracker = opticore.create_tracker(name, **params)  # type: ignore[attr-defined]
        self.score: Optional[float] = None

    def init(self, image: np.ndarray, box: Seq[float]) -> None:
        self._tracker.init(image, tuple(float(v) for v in box))

    def update(self, image: np.ndarray) -> Tuple[bool, Box]:
        ok, box = self._tracker.update(image)
        score = getattr(self._tracker, "score", None)
        self.score = None if score is None else float(score)
        return bool(ok), tuple(float(v) for v in box)  # type: ignore[return-value]


def _opticore(name: str, **params: Any) -> Callable[[], Any]:
    def make() -> Any:
        if not hasattr(opticore, "create_tracker"):
            raise TrackerUnavailable("opticore.create_tracker is not in this build of opticore "
                                     "(trackers not built yet)")
        return _OpticoreTracker(name, params)
    return make


def _cv2(attr: str, integer_rect: bool) -> Callable[[], Any]:
    def make() -> Any:
        try:
            import cv2
        except ImportError as exc:
            raise TrackerUnavailable("OpenCV is not installed: pip install 'opencv-contrib-python-headless<5'") from exc
        owner: Any = cv2
        for part in attr.split("."):
            owner = getattr(owner, part, None)
            if owner is None:
                raise TrackerUnavailable(f"cv2.{attr} is missing: it comes with opencv-contrib-python (<5)")
        return _OpenCVTracker(owner, integer_rect)
    return make


#: Tracker name -> factory returning a fresh tracker (raises :class:`TrackerUnavailable`).
TRACKERS: Dict[str, Callable[[], Any]] = {
    "opticore-mosse": _opticore("mosse"),
    "opticore-kcf": _opticore("kcf", features="hog", scale="none"),
    "opticore-kcf-dsst": _opticore("kcf", features="hog", scale="dsst"),
    "cv2-mosse": _cv2("legacy.TrackerMOSSE_create", integer_rect=False),
    "cv2-kcf": _cv2("TrackerKCF_create", integer_rect=True),
    "cv2-csrt": _cv2("TrackerCSRT_create", integer_rect=True),
}

#: opticore tracker -> (the OpenCV tracker it is compared with, the fps-ratio target); the AUC target
#: is always ">= the OpenCV tracker's".
OPENCV_COUNTERPART: Dict[str, Tuple[str, float]] = {
    "opticore-kcf-dsst": ("cv2-csrt", 5.0),
    "opticore-kcf": ("cv2-kcf", 1.0),
    "opticore-mosse": ("cv2-mosse", 1.0),
}


def create(name: str) -> Any:
    """A fresh tracker by :data:`TRACKERS` name.

    Raises:
        ValueError: an unknown name.
        TrackerUnavailable: its library is not installed.

    Example:
        >>> from opticore.eval.tracking import create
        >>> tracker = create("cv2-kcf")  # doctest: +SKIP
        >>> tracker.init(frame, (10.0, 20.0, 40.0, 30.0)); ok, box = tracker.update(next_frame)  # doctest: +SKIP
    """
    if name not in TRACKERS:
        raise ValueError(f"tracker: expected one of {', '.join(TRACKERS)}, got {name!r}")
    return TRACKERS[name]()


def available(name: str) -> Optional[str]:
    """None if tracker ``name`` can be created here, else why not (one line).

    Example:
        >>> from opticore.eval.tracking import available
        >>> available("nonsense").startswith("tracker: expected one of opticore-mosse, ")
        True
    """
    try:
        create(name)
    except (ValueError, TrackerUnavailable) as exc:
        return str(exc)
    return None


@dataclass
class Track:
    """One tracker's pass over one sequence.

    Attributes:
        boxes: ``(T, 4)`` float64 ``x, y, w, h`` per frame, the first being the initial box.
        ok: ``(T,)`` bool, what the tracker reported (True for the first frame).
        score: ``(T,)`` float64 confidence per frame (NaN where the tracker gives none).
        seconds: wall time of ``init`` plus every ``update`` (frame making and reading excluded).
    """

    boxes: np.ndarray
    ok: np.ndarray
    score: np.ndarray
    seconds: float

    @property
    def fps(self) -> float:
        """Frames per second of tracker time (``init`` + ``update`` calls only)."""
        return len(self.boxes) / self.seconds if self.seconds > 0 else float("inf")

    def scores(self, groundtruth: np.ndarray) -> Dict[str, Any]:
        """OTB scores of :attr:`boxes` against ``groundtruth`` (:func:`opticore.eval.tracking.metrics.scores`)."""
        return scores(self.boxes, groundtruth[: len(self.boxes)])


def track(tracker: Any, sequence: Sequence, init_box: Optional[Seq[float]] = None,
          on_frame: Optional[Callable[[int, np.ndarray, Tuple[bool, Box, Optional[float]], float], None]] = None,
          ) -> Track:
    """Run ``tracker`` over ``sequence`` (one-pass evaluation) and time it.

    Frame 0 initialises the tracker with ``init_box`` (default the sequence's first box) and is
    recorded with that box; each later frame is one ``update``. Only ``init`` and ``update`` are
    timed. Boxes are recorded as the tracker returns them, whether or not it reports ``ok`` (the
    OTB protocol scores what the tracker outputs; a failure box such as OpenCV's ``(0, 0, 0, 0)``
    scores IoU 0). A sequence whose ground truth is longer than its frames is padded with NaN boxes.

    Args:
        tracker: an object with ``init(image, box)`` and ``update(image) -> (ok, box)``.
        sequence: the frames (and ground truth, which sets the length when present).
        init_box: ``(x, y, w, h)`` to start from; default ``sequence.first_box()``.
        on_frame: called after every frame with ``(index, frame, (ok, box, score), seconds)``, where
            ``seconds`` is the tracker time so far (``index + 1`` frames); not timed itself.

    Example:
        >>> from opticore.eval.tracking import astronaut_demo, create, track
        >>> seq = astronaut_demo(frames=20)
        >>> result = track(create("cv2-kcf"), seq)  # doctest: +SKIP
        >>> result.scores(seq.groundtruth)["auc"] > 0.5  # doctest: +SKIP
        True
    """
    box0 = tuple(float(v) for v in (init_box if init_box is not None else sequence.first_box()))
    boxes: List[Box] = []
    oks: List[bool] = []
    confidences: List[float] = []
    seconds = 0.0
    for i, frame in enumerate(sequence.frames()):
        start = time.perf_counter()
        if i == 0:
            tracker.init(frame, box0)
            result: Tuple[bool, Box] = (True, box0)  # type: ignore[assignment]
        else:
            result = tracker.update(frame)
        seconds += time.perf_counter() - start
        ok, box = bool(result[0]), tuple(float(v) for v in result[1])
        score = getattr(tracker, "score", None) if i else None
        boxes.append(box)  # type: ignore[arg-type]
        oks.append(ok)
        confidences.append(np.nan if score is None else float(score))
        if on_frame is not None:
            on_frame(i, frame, (ok, box, score), seconds)  # type: ignore[arg-type]
    n = len(boxes) if sequence.groundtruth is None else max(len(boxes), len(sequence.groundtruth))
    out = np.full((n, 4), np.nan)
    out[: len(boxes)] = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    ok_arr = np.zeros(n, bool)
    ok_arr[: len(oks)] = oks
    score_arr = np.full(n, np.nan)
    score_arr[: len(confidences)] = confidences
    return Track(out, ok_arr, score_arr, seconds)
