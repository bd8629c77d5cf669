"""``opticore demo mot`` and ``opticore track``: multi-object tracking on a video, drawn.

``opticore demo mot`` detects people in each frame with OpenCV's HOG people detector (every
window's SVM margin ``w`` as a score ``w / (1 + w)``, overlapping windows merged by opticore's NMS)
and tracks them with :class:`opticore.mot.MultiTracker`. Its video is, in this order: ``--video
PATH``; the ``opencv-doc`` Debian package's ``vtest.avi`` (pedestrians on a square; ``apt-get
install opencv-doc``); else a simulated crowd rendered as coloured boxes, whose exact ground
truth lets it print HOTA, IDF1 and MOTA (``--synthetic`` picks it always). ``--detections
det.txt`` replaces the detector with a MOTChallenge detection file.

``opticore track VIDEO --detections det.txt`` tracks a user's own detections. With
``--camera-motion`` both estimate the camera's motion between frames
(:func:`opticore.mot.estimate_camera_motion`) and compensate it.

Both write to ``--out``: ``demo.mp4`` (each track's box and id in its own colour, and the trail of
its last centres), ``tracks.txt`` (MOTChallenge results: ``frame, id, left, top, width, height,
score, -1, -1, -1``), ``det.txt`` (the detections tracked, same format, id -1) and
``summary.json``; and print the detector's and the tracker's frames per second.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..demo import _frames
from . import METHODS, MultiTracker, Tracks

VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
DEMO_DESCRIPTION = ("Track people: HOG people detector + opticore's NMS + MultiTracker, on --video, else "
                    "opencv-doc's vtest.avi, else a simulated crowd (scored against its ground truth).")
TRACK_DESCRIPTION = "Track a video's detections (a MOTChallenge det.txt) and draw the tracks."
TRAIL = 30  # centres drawn behind each track

Detector = Callable[[np.ndarray, int], Tuple[np.ndarray, np.ndarray]]


def _common_arguments(parser: argparse.ArgumentParser, out: str) -> None:
    parser.add_argument("--method", choices=METHODS, default="bytetrack", help="the tracker (default bytetrack)")
    parser.add_argument("--out", metavar="DIR", default=out, help=f"output folder (default ./{out})")
    parser.add_argument("--no-video", action="store_true", help="write the files but no video")
    parser.add_argument("--camera-motion", action="store_true",
                        help="estimate the camera's motion between frames and compensate it (a moving camera)")


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    """``opticore demo mot``'s options."""
    parser.add_argument("--video", metavar="PATH", help="a video file or a folder of frames")
    parser.add_argument("--synthetic", action="store_true", help="the simulated crowd, even where vtest.avi exists")
    parser.add_argument("--detections", metavar="PATH", help="a MOTChallenge det.txt instead of the HOG detector")
    parser.add_argument("--frames", type=_frames, default=120,
                        help="frames to track (default 120; HOG takes 0.5-1 s a frame on one core)")
    _common_arguments(parser, "opticore-mot")


def add_track_arguments(parser: argparse.ArgumentParser) -> None:
    """``opticore track``'s options."""
    parser.add_argument("video", metavar="VIDEO", help="a video file or a folder of frames")
    parser.add_argument("--detections", metavar="PATH", required=True, help="MOTChallenge det.txt (frames from 1)")
    parser.add_argument("--frames", type=_frames, help="track only the first N frames")
    _common_arguments(parser, "opticore-track")


class HogPeopleDetector:
    """OpenCV's HOG + linear SVM people detector (Dalal & Triggs 2005), its windows merged by
    opticore's NMS. The frame is enlarged by ``upscale`` first: the detector's window is 64 x 128
    pixels, taller than many pedestrians in surveillance video.

    Example:
        >>> import numpy as np
        >>> from opticore.mot.demo import HogPeopleDetector
        >>> boxes, scores = HogPeopleDetector()(np.zeros((160, 120, 3), np.uint8), 1)
        >>> boxes.shape, scores.shape
        ((0, 4), (0,))
    """

    def __init__(self, upscale: float = 1.5, scale_step: float = 1.1, nms_iou: float = 0.4) -> None:
        import cv2

        self.cv2 = cv2
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
        self.upscale, self.scale_step, self.nms_iou = upscale, scale_step, nms_iou

    def __call__(self, frame: np.ndarray, index: int) -> Tuple[np.ndarray, np.ndarray]:
        import opticore

        image = self.cv2.resize(frame, None, fx=self.upscale, fy=self.upscale)
        found, weights = self.hog.detectMultiScale(image, hitThreshold=0, winStride=(8, 8), padding=(8, 8),
                                                   scale=self.scale_step, groupThreshold=0)
        rects: np.ndarray = np.asarray(found, np.float64).reshape(-1, 4) / self.upscale
        margin: np.ndarray = np.asarray(weights, np.float64).reshape(-1)
        boxes = np.hstack([rects[:, :2], rects[:, :2] + rects[:, 2:]])
        scores = np.maximum(margin, 0) / (1 + np.maximum(margin, 0))
        keep = opticore.nms(boxes, scores, self.nms_iou)
        return boxes[keep], scores[keep]


def _table_detector(table: Any) -> Detector:
    """A detector that replays a :class:`~opticore.eval.mot.MotTable` (frames from 1)."""
    starts = np.searchsorted(table.frames, np.arange(1, table.num_frames + 3))

    def detect(frame: np.ndarray, index: int) -> Tuple[np.ndarray, np.ndarray]:
        if index > table.num_frames:
            return np.zeros((0, 4)), np.zeros(0)
        s = slice(starts[index - 1], starts[index])
        return table.boxes[s], table.scores[s]

    return detect


def _colour(track_id: int) -> Tuple[int, int, int]:
    rng = np.random.default_rng(track_id)
    c = rng.integers(40, 256, 3)
    c[rng.integers(3)] = 255  # one channel bright: legible on dark and light backgrounds
    return int(c[0]), int(c[1]), int(c[2])


def _draw(frame: np.ndarray, tracks: Tracks, trails: Dict[int, Deque[Tuple[int, int]]], index: int,
          label: str) -> np.ndarray:
    import cv2

    from ..demo import _text

    out = frame.copy()
    scale = max(0.4, out.shape[0] / 720)
    for b, i in zip(tracks.boxes, tracks.ids):
        colour = _colour(int(i))
        p1 = (int(round(b[0])), int(round(b[1])))
        p2 = (int(round(b[2])), int(round(b[3])))
        cv2.rectangle(out, p1, p2, colour, 2)
        trail = trails.setdefault(int(i), collections.deque(maxlen=TRAIL))
        trail.append((int(round((b[0] + b[2]) / 2)), int(round(b[3]))))  # feet
        if len(trail) > 1:
            cv2.polylines(out, [np.array(trail, np.int32)], False, colour, 2, cv2.LINE_AA)
        _text(out, str(int(i)), (p1[0], max(12, p1[1] - 4)), 0.6 * scale)
    _text(out, f"frame {index}  {label}  tracks {len(tracks)}", (8, int(22 * scale)), 0.7 * scale)
    return out


def _synthetic(frames: int) -> Tuple[Iterator[np.ndarray], Any, Detector]:
    """A simulated crowd drawn as coloured boxes (far ones first), its ground truth and detections."""
    import cv2

    from ..eval.mot import simulate_crowd

    crowd = simulate_crowd(num_objects=15, num_frames=frames, width=640, height=360, seed=0)
    gt = crowd.groundtruth
    rng = np.random.default_rng(1)
    background = cv2.GaussianBlur(rng.integers(60, 140, (360, 640, 3)).astype(np.uint8), (0, 0), 3)

    def make() -> Iterator[np.ndarray]:
        for _, rows in gt.by_frame(frames):
            frame = background.copy()
            for k in np.argsort(rows.boxes[:, 3]):
                b = np.round(rows.boxes[k]).astype(int)
                grey = 90 + (int(rows.ids[k]) * 37) % 140
                cv2.rectangle(frame, (b[0], b[1]), (b[2], b[3]), (grey, grey // 2 + 60, 255 - grey), -1)
                cv2.rectangle(frame, (b[0], b[1]), (b[2], b[3]), (20, 20, 20), 1)
            yield frame

    return make(), crowd, _table_detector(crowd.detections)


def _track(frames: Iterator[np.ndarray], detect: Detector, tracker: MultiTracker, out: str, fps: float,
           limit: Optional[int], video: bool, label: str, camera_motion: bool) -> Dict[str, Any]:
    """Detects, tracks and draws every frame (compensating the camera's motion when asked); writes
    tracks.txt, det.txt and demo.mp4; timings."""
    from . import estimate_camera_motion

    from .._progress import progress_bar
    from ..demo import _VideoOut
    from ..eval.mot import MotTable, write_mot

    writer = _VideoOut(out, fps) if video else None
    trails: Dict[int, Deque[Tuple[int, int]]] = {}
    rows: Dict[str, List[np.ndarray]] = {k: [] for k in ("tf", "ti", "tb", "ts", "df", "db", "ds")}
    detect_seconds = track_seconds = 0.0
    count = 0
    previous: Optional[np.ndarray] = None
    progress = progress_bar(limit, f"tracking ({tracker.params['method']})", "frame")
    try:
        for index, frame in enumerate(frames, 1):
            if limit is not None and index > limit:
                break
            start = time.perf_counter()
            boxes, scores = detect(frame, index)
            detect_seconds += time.perf_counter() - start
            motion = None
            if camera_motion and previous is not None:
                motion = estimate_camera_motion(previous, frame)
            previous = frame
            start = time.perf_counter()
            tracks = tracker.update(boxes, scores, camera_motion=motion)
            track_seconds += time.perf_counter() - start
            for key, value in (("tf", np.full(len(tracks), index)), ("ti", tracks.ids), ("tb", tracks.boxes),
                               ("ts", tracks.scores), ("df", np.full(len(scores), index)), ("db", boxes),
                               ("ds", scores)):
                rows[key].append(np.asarray(value))
            if writer is not None:
                writer.write(_draw(frame, tracks, trails, index, label))
            count = index
            progress.update()
    finally:
        progress.close()
        if writer is not None:
            writer.close()
    if count == 0:
        raise RuntimeError("no frames")

    def cat(key: str, width: int = 0) -> np.ndarray:
        return np.concatenate([np.reshape(a, (-1, width) if width else -1) for a in rows[key]])

    result = MotTable.from_arrays(cat("tf"), cat("ti"), cat("tb", 4), cat("ts"))
    detections = MotTable.from_arrays(cat("df"), np.full(len(cat("df")), -1), cat("db", 4), cat("ds"))
    write_mot(os.path.join(out, "tracks.txt"), result)
    write_mot(os.path.join(out, "det.txt"), detections)
    return {"frames": count, "tracks": int(len(np.unique(result.ids))), "detections": len(detections),
            "detector_fps": count / detect_seconds if detect_seconds > 0 else None,
            "tracker_fps": count / track_seconds if track_seconds > 0 else None, "result": result,
            "video": None if writer is None else os.path.basename(writer.path or "")}


def _finish(summary: Dict[str, Any], out: str, detector: str) -> None:
    summary = {k: v for k, v in summary.items() if k != "result"}
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    line = f"tracked {summary['frames']} frames: {summary['tracks']} tracks from {summary['detections']} detections; "
    if summary["detector_fps"] is not None and detector.startswith("HOG"):
        line += f"detector ({detector}) {summary['detector_fps']:.1f} fps, "
    print(line + f"tracker {summary['tracker_fps']:.0f} fps (update time only)")
    print(f"wrote {', '.join(sorted(os.listdir(out)))} to {out}")


def run_demo(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``opticore demo mot``: 0 on success; failures raise (the CLI prints them, exit 1)."""
    from ..eval.tracking import load_video

    if args.video and args.synthetic:
        parser.error("--video and --synthetic: give one")
    os.makedirs(args.out, exist_ok=True)
    crowd = None
    if args.video or (not args.synthetic and os.path.exists(VTEST)):
        path = args.video or VTEST
        seq = load_video(path)
        frames, fps, name = seq.frames(), seq.fps, os.path.basename(path)
        if args.detections:
            detect, detector = _table_detector_from(args.detections), "det.txt"
        else:
            detect, detector = HogPeopleDetector(), "HOG + opticore NMS"
    else:
        if args.detections:
            parser.error("--detections needs --video (the simulated crowd has its own detections)")
        frames, crowd, detect = _synthetic(args.frames)
        fps, name, detector = 30.0, "simulated crowd", "simulated detector"
    print(f"opticore demo mot: {name}, {args.method}, detections from {detector}")
    tracker = MultiTracker(args.method, frame_rate=fps)
    summary = _track(frames, detect, tracker, args.out, fps, args.frames, not args.no_video, args.method,
                     args.camera_motion)
    summary.update(source=name, method=args.method, detector=detector)
    if crowd is not None:
        from ..eval.mot import evaluate, write_mot

        scores = evaluate(crowd.groundtruth, summary["result"], summary["frames"])
        summary.update({k: scores[k] for k in ("HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW")})
        gt = crowd.groundtruth
        write_mot(os.path.join(args.out, "gt.txt"), gt.select(gt.frames <= summary["frames"]))
        print(f"against the exact ground truth: HOTA {scores['HOTA']:.3f}, IDF1 {scores['IDF1']:.3f}, "
              f"MOTA {scores['MOTA']:.3f}, {scores['IDSW']} id switches")
    _finish(summary, args.out, detector)
    return 0


def _table_detector_from(path: str) -> Detector:
    from ..eval.mot import read_mot

    return _table_detector(read_mot(path))


def run_track(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``opticore track VIDEO --detections det.txt``: 0 on success; failures raise."""
    from ..eval.tracking import load_video

    seq = load_video(args.video)
    detect = _table_detector_from(args.detections)
    os.makedirs(args.out, exist_ok=True)
    print(f"opticore track: {os.path.basename(args.video)}, {args.method}, detections from {args.detections}")
    tracker = MultiTracker(args.method, frame_rate=seq.fps)
    summary = _track(seq.frames(), detect, tracker, args.out, seq.fps, args.frames, not args.no_video, args.method,
                     args.camera_motion)
    summary.update(source=args.video, method=args.method, detector="det.txt")
    _finish(summary, args.out, "det.txt")
    return 0
