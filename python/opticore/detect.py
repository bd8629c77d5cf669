"""``opticore detect IMAGE|VIDEO``: MTCNN faces (:class:`opticore.FaceDetector`) drawn on an image
or every frame of a video, and written as JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

import numpy as np

DESCRIPTION = ("Detect faces with MTCNN (opticore.FaceDetector): write the image or video with the boxes, scores and "
               "five points drawn (--out) and the detections as JSON (--json).")
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IMAGE|VIDEO", help="a photograph or a video file")
    parser.add_argument("--out", metavar="PATH", help="annotated image or video (default: none)")
    parser.add_argument("--json", metavar="PATH", dest="json_path",
                        help="detections as JSON: per frame, boxes x1,y1,x2,y2, scores, landmarks (default: stdout)")
    parser.add_argument("--min-face-size", type=float, default=20, help="smallest face side in pixels (20)")


def draw(image: np.ndarray, faces: Any) -> np.ndarray:
    """``image`` (BGR uint8) with each face's box (green), score and five points (red) drawn."""
    import cv2

    out = image.copy()
    for box, score, points in zip(faces.boxes, faces.scores, faces.landmarks):
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 255, 0), 2)
        cv2.putText(out, f"{score:.3f}", (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1)
        for x, y in points:
            cv2.circle(out, (int(round(x)), int(round(y))), 2, (0, 0, 255), -1)
    return out


def as_json(faces: Any) -> Dict[str, List[Any]]:
    """:class:`opticore.Detections` as lists (boxes ``x1, y1, x2, y2``, scores, ``(5, 2)`` landmarks).

    Example:
        >>> import numpy as np, opticore
        >>> from opticore.detect import as_json
        >>> as_json(opticore.FaceDetector()(np.zeros((30, 30, 3), np.uint8)))
        {'boxes': [], 'scores': [], 'landmarks': []}
    """
    return {"boxes": faces.boxes.tolist(), "scores": faces.scores.tolist(), "landmarks": faces.landmarks.tolist()}


def run(args: argparse.Namespace, parser: Optional[argparse.ArgumentParser] = None) -> int:
    import cv2

    import opticore

    if not os.path.isfile(args.input):
        raise FileNotFoundError(f"no such file {args.input!r}")
    detector = opticore.FaceDetector(min_face_size=args.min_face_size)
    frames: List[Dict[str, Any]] = []
    if args.input.lower().endswith(VIDEO_EXTENSIONS):
        capture = cv2.VideoCapture(args.input)
        writer = None
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                faces = detector(frame)
                frames.append({"frame": len(frames), **as_json(faces)})
                if args.out:
                    if writer is None:
                        fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
                        writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                                 (frame.shape[1], frame.shape[0]))
                    writer.write(draw(frame, faces))
        finally:
            capture.release()
            if writer is not None:
                writer.release()
        if not frames:
            raise ValueError(f"could not read a frame of {args.input!r}")
    else:
        image = cv2.imread(args.input, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"could not decode {args.input!r} as an image")
        faces = detector(image)
        frames.append({"frame": 0, **as_json(faces)})
        if args.out and not cv2.imwrite(args.out, draw(image, faces)):
            raise ValueError(f"--out: could not write {args.out!r} (unknown extension or folder)")
    text = json.dumps({"input": args.input, "frames": frames}, indent=1)
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        print(text)
    print(f"{sum(len(f['boxes']) for f in frames)} faces in {len(frames)} frame(s)", file=sys.stderr)
    return 0
