"""``opticore demo``: find a face, track it, and show how well it was tracked.

With no arguments it films scikit-image's astronaut photograph with a virtual camera that pans,
zooms and rotates around her face (exact ground truth, :func:`opticore.eval.tracking.astronaut_demo`),
finds the face in the first frame with :class:`opticore.FaceDetector` (MTCNN; OpenCV's Haar cascade
where its weights are missing), tracks it, and writes to ``--out`` (default ``./opticore-demo/``):

* ``demo.mp4``: the frames with the tracker's box (yellow; red when the tracker reports a failure),
  the ground truth (green), the tracker's score and a legend. H.264, which browsers play, when
  ``imageio-ffmpeg`` is installed (its ffmpeg encodes); otherwise MPEG-4 Part 2 through OpenCV, which
  media players such as VLC play but browsers do not (a warning says so), or ``demo.gif`` when
  OpenCV has no MP4 encoder;
* ``boxes.json``: per frame the tracker's box, ``ok``, ``score``, the ground truth and the IoU;
* ``success.png`` and ``precision.png``: the OTB plots against the ground truth.

It prints two speeds: the tracker's frames per second (``init`` + ``update`` time only, as the
benchmarks count it) and the whole demo's frames per second (frames made, tracked, drawn and
encoded, the progress bar's rate); and the success AUC.
``--video PATH`` does the same on a video file or a folder of frames (``--gt`` adds an OTB
ground-truth file, whose first box then starts the tracker), ``--bbox x,y,w,h`` replaces the face
detector, ``--tracker`` picks the tracker. ``--landmarks MODEL.pt2`` (an exported PFLD, ``opticore
export pfld``) draws the face's landmarks in every frame and ``--liveness MODEL.pt2`` (an exported
MiniFASNet) its live probability, both run by :mod:`opticore.runtime`'s C++ pipelines on the
tracked box; ``boxes.json`` then holds them per frame too.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import time
from typing import Any, Dict, List, Optional, Tuple
from typing import Sequence as Seq

import numpy as np

Box = Tuple[float, float, float, float]

DEFAULT_TRACKER = "opticore-kcf-dsst"
FALLBACK_TRACKER = "cv2-kcf"
DESCRIPTION = ("Find a face, track it and score the track: by default on a built-in sequence of scikit-image's "
               "astronaut filmed by a virtual camera (exact ground truth).")


def _bbox(text: str) -> Box:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values) or values[2] <= 0 or values[3] <= 0:
        raise argparse.ArgumentTypeError(f"expected x,y,w,h with w, h > 0, got {text!r}")
    return values  # type: ignore[return-value]


def _frames(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2, got {text!r}")
    return n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options, shared by ``opticore demo`` and ``python -m opticore.demo``."""
    from .eval.tracking import TRACKERS

    parser.add_argument("--out", metavar="DIR", default="opticore-demo",
                        help="output folder (default ./opticore-demo)")
    parser.add_argument("--video", metavar="PATH",
                        help="a video file or a folder of frames instead of the built-in sequence")
    parser.add_argument("--gt", metavar="PATH", help="OTB ground truth for --video (one x,y,w,h per line)")
    parser.add_argument("--bbox", type=_bbox, metavar="X,Y,W,H",
                        help="the target in the first frame (default: the first --gt box, else the largest "
                             "face opticore.FaceDetector finds)")
    parser.add_argument("--tracker", choices=list(TRACKERS), metavar="NAME",
                        help=f"one of {', '.join(TRACKERS)} (default {DEFAULT_TRACKER}, or {FALLBACK_TRACKER} "
                             "while opticore's trackers are not built)")
    parser.add_argument("--frames", type=_frames, default=150, help="length of the built-in sequence (150)")
    parser.add_argument("--no-video", action="store_true", help="do not write the annotated video")
    parser.add_argument("--landmarks", metavar="MODEL.pt2",
                        help="an exported landmark model (opticore export pfld): draw its points on the face")
    parser.add_argument("--liveness", metavar="MODEL.pt2",
                        help="an exported liveness model (opticore export liveness): show the live probability")


def detect_face(frame: np.ndarray) -> Tuple[Optional[Box], str]:
    """The largest face in a BGR (or grey) uint8 frame, as ``(x, y, w, h)`` or None, and the
    detector's name.

    Uses :class:`opticore.FaceDetector` (MTCNN); where its weights (``pip install --no-deps
    facenet-pytorch``) or torch are missing, OpenCV's Haar cascade (:func:`detect_face_haar`).

    Example:
        >>> from opticore.demo import detect_face
        >>> from opticore.eval.tracking import load_image
        >>> box, source = detect_face(load_image("astronaut"))
        >>> [round(v) for v in box], source
        ([181, 62, 87, 110], 'opticore.FaceDetector (MTCNN)')
    """
    try:
        import opticore

        detector = opticore.FaceDetector()
    except (ImportError, FileNotFoundError):
        return detect_face_haar(frame), "OpenCV's Haar cascade"
    faces = detector(frame)
    if not len(faces.boxes):
        return None, "opticore.FaceDetector (MTCNN)"
    x1, y1, x2, y2 = (float(v) for v in max(faces.boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])))
    return (x1, y1, x2 - x1, y2 - y1), "opticore.FaceDetector (MTCNN)"


def detect_face_haar(frame: np.ndarray) -> Optional[Box]:
    """The largest frontal face in a BGR (or grey) uint8 frame, as ``(x, y, w, h)``, or None.

    Uses ``cv2.data.haarcascades + "haarcascade_frontalface_default.xml"`` (shipped by the
    opencv-python wheels below version 5).

    Example:
        >>> from opticore.demo import detect_face_haar
        >>> from opticore.eval.tracking import load_image
        >>> detect_face_haar(load_image("astronaut"))
        (177.0, 66.0, 95.0, 95.0)
    """
    import cv2

    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = os.path.join(folder or "", "haarcascade_frontalface_default.xml")
    if not folder or not os.path.isfile(path):
        raise RuntimeError("OpenCV's Haar cascades are not installed (cv2.data.haarcascades): install "
                           "'opencv-contrib-python-headless<5' or give --bbox x,y,w,h")
    cascade = cv2.CascadeClassifier(path)
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))
    if len(faces) == 0:
        return None
    x, y, w, h = max((tuple(int(v) for v in f) for f in faces), key=lambda f: f[2] * f[3])
    return float(x), float(y), float(w), float(h)


def _pick_tracker(requested: Optional[str]) -> Tuple[str, Optional[str]]:
    """(tracker name, a note to print or None)."""
    from .eval.tracking import available

    if requested is not None:
        why = available(requested)
        if why is not None:
            raise RuntimeError(f"tracker {requested} is not available: {why}")
        return requested, None
    why = available(DEFAULT_TRACKER)
    if why is None:
        return DEFAULT_TRACKER, None
    return FALLBACK_TRACKER, f"{DEFAULT_TRACKER} is not available: {why}; using {FALLBACK_TRACKER} instead"


def _corners(box: Seq[float]) -> Optional[Tuple[Tuple[int, int], Tuple[int, int]]]:
    x, y, w, h = box
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        return None
    return (int(round(x)), int(round(y))), (int(round(x + w - 1)), int(round(y + h - 1)))


Colour = Tuple[int, int, int]
TRACKER_COLOUR: Colour = (0, 220, 255)  # BGR yellow
LOST_COLOUR: Colour = (0, 0, 255)  # red: the tracker reports a failure
GT_COLOUR: Colour = (0, 200, 0)  # green
LANDMARK_COLOUR: Colour = (255, 0, 255)  # magenta: --landmarks' points
#: What opticore's trackers report as ``score`` (OpenCV's KCF, MOSSE and CSRT report none).
SCORE_LEGEND = "score = PSR (peak-to-sidelobe ratio)"
H264_MISSING = ("imageio-ffmpeg is not installed, so demo.mp4 is MPEG-4 Part 2 (mp4v), which browsers do not "
                "play (VLC and mpv do); pip install imageio-ffmpeg for H.264")


def _warn(message: str) -> None:
    print(f"opticore demo: warning: {message}", file=sys.stderr)


class _VideoOut:
    """``demo.mp4``: H.264 through imageio-ffmpeg's ffmpeg when installed; else MPEG-4 Part 2 through
    ``cv2.VideoWriter`` (mp4v), or an animated GIF through Pillow when that fails."""

    def __init__(self, folder: str, fps: float) -> None:
        self.folder, self.fps = folder, fps
        self.ffmpeg: Any = None  # imageio-ffmpeg's write_frames generator
        self.writer: Any = None
        self.gif: Optional[List[Any]] = None
        self.path: Optional[str] = None

    def _open_h264(self, width: int, height: int) -> bool:
        try:
            import imageio_ffmpeg
        except ImportError:
            _warn(H264_MISSING)
            return False
        try:
            self.ffmpeg = imageio_ffmpeg.write_frames(
                self.path, (width, height), pix_fmt_in="bgr24", fps=self.fps, codec="libx264", quality=6,
                macro_block_size=1, output_params=["-movflags", "+faststart"])  # faststart: plays while loading
            self.ffmpeg.send(None)  # starts ffmpeg
        except Exception as exc:  # e.g. no ffmpeg binary for this platform
            self.ffmpeg = None
            _warn(f"imageio-ffmpeg could not start ffmpeg ({exc}); writing MPEG-4 Part 2 (mp4v) instead, "
                  "which browsers do not play")
            return False
        return True

    def _open(self, width: int, height: int) -> None:
        import cv2

        self.path = os.path.join(self.folder, "demo.mp4")
        if self._open_h264(width, height):
            return
        writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (width, height))
        if writer.isOpened():
            self.writer = writer
            return
        writer.release()
        if os.path.exists(self.path):
            os.remove(self.path)
        self.path, self.gif = os.path.join(self.folder, "demo.gif"), []

    def write(self, frame: np.ndarray) -> None:
        # H.264's 4:2:0 chroma needs even sides: pad odd ones with a black row / column.
        frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)))
        if self.path is None:
            self._open(frame.shape[1], frame.shape[0])
        if self.ffmpeg is not None:
            self.ffmpeg.send(np.ascontiguousarray(frame))
        elif self.writer is not None:
            self.writer.write(frame)
        else:
            from PIL import Image

            self.gif.append(Image.fromarray(np.ascontiguousarray(frame[:, :, ::-1])))  # type: ignore[union-attr]

    def close(self) -> None:
        if self.ffmpeg is not None:
            self.ffmpeg.close()  # waits for ffmpeg to finish the file
        elif self.writer is not None:
            self.writer.release()
        elif self.gif:
            self.gif[0].save(self.path, save_all=True, append_images=self.gif[1:], loop=0,
                             duration=int(round(1000 / self.fps)))


def _text(image: np.ndarray, text: str, origin: Tuple[int, int], scale: float) -> None:
    """White text with a black outline, legible on any background."""
    import cv2

    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, thickness, cv2.LINE_AA)


def _legend(image: np.ndarray, name: str, has_gt: bool, scale: float) -> None:
    """What the colours and the score mean, bottom left, on a darkened panel."""
    import cv2

    rows: List[Tuple[Optional[Colour], str]] = [(TRACKER_COLOUR, f"{name} (red: reports lost)")]
    if has_gt:
        rows.append((GT_COLOUR, "ground truth"))
    if name.startswith("opticore-"):
        rows.append((None, SCORE_LEGEND))
    step, swatch = int(round(18 * scale / 0.4)), int(round(14 * scale / 0.4))
    indent = 6 + swatch + swatch // 2  # text starts right of the colour swatches
    width = indent + max(cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for _, text in rows)
    y0 = max(0, image.shape[0] - step * len(rows) - 6)
    panel = image[y0:, : width + 6]
    panel[...] = panel // 2  # darkened, not hidden: the frame stays visible beneath
    for i, (colour, text) in enumerate(rows):
        y = y0 + 4 + step * i
        if colour is not None:
            cv2.rectangle(image, (6, y + 2), (6 + swatch, y + step - 4), colour, 2, cv2.LINE_AA)
        _text(image, text, (indent if colour is not None else 6, y + step - 5), scale)


class _FaceModels:
    """The ``--landmarks`` / ``--liveness`` packages on the tracked box (:mod:`opticore.runtime`)."""

    def __init__(self, landmarks: Optional[str], liveness: Optional[str]) -> None:
        from . import runtime

        ok, why = runtime.available()
        if not ok:
            raise RuntimeError(f"--landmarks / --liveness need opticore's runtime: {why}")
        self.landmarks = runtime.LandmarkDetector(landmarks) if landmarks else None
        self.liveness = runtime.LivenessDetector(liveness) if liveness else None

    def __call__(self, frame: np.ndarray, box: Box) -> Tuple[Optional[np.ndarray], Optional[float]]:
        """``(points (K, 2) or None, live probability or None)`` for a tracked box ``x, y, w, h``."""
        x, y, w, h = box
        corners = np.array([[x, y, x + w, y + h]], np.float64)
        if not (np.isfinite(corners).all() and w > 0 and h > 0):
            return None, None
        points = None if self.landmarks is None else self.landmarks(frame, corners)[0]
        live = None if self.liveness is None else float(self.liveness(frame, corners)[0])
        return points, live


def _annotate(frame: np.ndarray, index: int, box: Box, ok: bool, score: Optional[float],
              gt: Optional[Seq[float]], name: str, has_gt: bool,
              face: Tuple[Optional[np.ndarray], Optional[float]] = (None, None)) -> np.ndarray:
    """``frame`` with the ground truth, the tracker's box, the face's landmarks and live probability
    (when given), a caption and the legend drawn on it."""
    import cv2

    out = frame.copy()
    scale = max(0.4, out.shape[1] / 960)  # 0.5 at the built-in sequence's 480 px; larger on big frames
    if gt is not None and (c := _corners(gt)) is not None:
        cv2.rectangle(out, c[0], c[1], GT_COLOUR, 1, cv2.LINE_AA)
    if (c := _corners(box)) is not None:
        cv2.rectangle(out, c[0], c[1], TRACKER_COLOUR if ok else LOST_COLOUR, 2, cv2.LINE_AA)
    points, live = face
    for px, py in [] if points is None else points:
        if math.isfinite(px) and math.isfinite(py):
            cv2.circle(out, (int(round(px)), int(round(py))), 2, LANDMARK_COLOUR, -1, cv2.LINE_AA)
    text = f"{name}  frame {index}" + ("" if score is None or not math.isfinite(score) else f"  score {score:.1f}")
    text += "" if live is None else f"  live {live:.2f}"
    _text(out, text, (6, int(round(36 * scale))), scale)
    _legend(out, name, has_gt, 0.8 * scale)
    return out


def _num(v: float) -> Optional[float]:
    return float(v) if math.isfinite(v) else None


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the demo with parsed ``args``; usage errors go through ``parser.error`` (exit 2),
    failures raise (the caller prints them and exits 1)."""
    if args.gt and not args.video:
        parser.error("--gt needs --video (the built-in sequence has its own ground truth)")
    if importlib.util.find_spec("cv2") is None:
        raise RuntimeError("opticore demo needs OpenCV: pip install 'opencv-contrib-python-headless<5'")
    from .eval.tracking import astronaut_demo, create, load_video, metrics, track
    from ._progress import progress_bar

    if args.video:
        seq = load_video(args.video, args.gt)
        about = f"{args.video}" + (f" with ground truth {args.gt}" if args.gt else " (no ground truth)")
    else:
        seq = astronaut_demo(frames=args.frames)
        about = "built-in: a virtual camera pans, zooms and rotates around the face in skimage's astronaut"
    first = next(seq.frames(), None)
    if first is None:
        raise RuntimeError(f"{args.video}: no frames")
    length = f"{len(seq)} frames, " if seq.groundtruth is not None else ""
    print(f"opticore demo: {seq.name} ({length}{first.shape[1]}x{first.shape[0]}; {about})")
    gt = seq.groundtruth
    if args.bbox is not None:
        box0, source = args.bbox, "--bbox"
    elif args.video and gt is not None and np.isfinite(gt[0]).all():
        box0, source = tuple(float(v) for v in gt[0]), "the ground truth (--gt)"  # OTB's one-pass protocol
    else:
        found, source = detect_face(first)
        if found is None:
            raise RuntimeError(f"no face found in the first frame by {source}: give --bbox x,y,w,h")
        box0 = found
    line = f"target {tuple(round(v, 1) for v in box0)} from {source}"
    if gt is not None and np.isfinite(gt[0]).all():
        line += (f"; ground truth {tuple(round(float(v), 1) for v in gt[0])}, "
                 f"IoU {metrics.iou([box0], gt[:1])[0]:.2f}")
    print(line)
    name, note = _pick_tracker(args.tracker)
    if note:
        print(note)
    face_models = _FaceModels(args.landmarks, args.liveness) if args.landmarks or args.liveness else None
    faces: List[Tuple[Optional[np.ndarray], Optional[float]]] = []
    os.makedirs(args.out, exist_ok=True)
    video = None if args.no_video else _VideoOut(args.out, seq.fps)
    # The bar's rate is the demo's own (frames made, tracked, drawn, encoded); the tracker's is beside it.
    progress = progress_bar(len(seq) if gt is not None else None, f"tracking ({name})", "frame")
    has_gt = gt is not None
    done = 0

    def on_frame(i: int, frame: np.ndarray, result: Tuple[bool, Box, Optional[float]], seconds: float) -> None:
        nonlocal done
        ok, box, score = result
        face = face_models(frame, box) if face_models is not None else (None, None)
        faces.append(face)
        if video is not None:
            g = gt[i] if gt is not None and i < len(gt) else None
            video.write(_annotate(frame, i, box, ok, score, g, name, has_gt, face))
        done = i + 1
        progress.set_postfix_str(f"tracker {done / seconds:.0f} fps" if seconds > 0 else "")
        progress.update()

    start = time.perf_counter()
    try:
        result = track(create(name), seq, box0, on_frame)
    finally:
        progress.close()
        if video is not None:
            video.close()
    demo_fps = done / (time.perf_counter() - start)
    n = int(np.count_nonzero(np.isfinite(result.boxes).all(axis=1)))
    report: Dict[str, Any] = {"sequence": seq.name, "tracker": name, "init_box": list(box0), "init_from": source,
                              "frames": n, "tracker_fps": result.fps, "demo_fps": demo_fps, "auc": None,
                              "precision20": None,
                              "video": None if video is None else os.path.basename(video.path or "")}
    ious = errors = None
    if gt is not None:
        s = result.scores(gt)
        ious, errors = metrics.iou(result.boxes, gt), metrics.centre_error(result.boxes, gt)
        report.update(auc=s["auc"], precision20=s["precision20"], success=s["success"], precision=s["precision"])
        label = f"{name} ({seq.name})"
        metrics.plot_success({label: s["success"]}, os.path.join(args.out, "success.png"),
                             f"Success plot: {seq.name}, {len(gt)} frames")
        metrics.plot_precision({label: s["precision"]}, os.path.join(args.out, "precision.png"),
                               f"Precision plot: {seq.name}, {len(gt)} frames")
    report["per_frame"] = [
        {"frame": i, "box": [_num(v) for v in result.boxes[i]], "ok": bool(result.ok[i]),
         "score": _num(result.score[i]),
         "gt": None if gt is None else [_num(float(v)) for v in gt[i]],
         "iou": None if ious is None else _num(ious[i]),
         "centre_error": None if errors is None else _num(errors[i])}
        for i in range(len(result.boxes))]
    if face_models is not None:
        for entry, (points, live) in zip(report["per_frame"], faces):
            entry["landmarks"] = None if points is None else np.round(points, 2).tolist()
            entry["live"] = live
    with open(os.path.join(args.out, "boxes.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    print(f"tracked {n} frames with {name}: tracker {result.fps:.0f} fps (init + update time only); "
          f"demo {demo_fps:.1f} frames/s (frames made, tracked, drawn and encoded: the progress bar's rate)")
    if gt is not None:
        print(f"success AUC {report['auc']:.3f}, precision@20px {report['precision20']:.3f} "
              "(OTB protocol, against the exact ground truth; a perfect track scores 0.952)")
    else:
        print("no ground truth (--gt): AUC not computed")
    print(f"wrote {', '.join(sorted(os.listdir(args.out)))} to {args.out}")
    return 0


def main(argv: Optional[Seq[str]] = None) -> int:
    """``python -m opticore.demo [options]``: 0 on success, 1 on a failure (message on stderr),
    2 on bad usage.

    Example:
        >>> from opticore.demo import main
        >>> main(["--frames", "30", "--out", "/tmp/opticore-demo"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(prog="opticore demo", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, parser)
    except Exception as exc:  # a failure while running: one clear line on stderr, exit code 1
        print(f"opticore demo: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
