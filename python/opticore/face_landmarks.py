"""Run a trained PFLD on photographs: ``opticore landmarks IMAGE --model CKPT``.

Faces come from ``--box x1 y1 x2 y2`` (repeatable: the box around the face's landmarks, brows to
chin) or, without one, from OpenCV's Haar frontal-face detector, whose boxes start higher (the
forehead) than the landmarks: each is moved down by 10 % of its height before cropping. Each face
is cropped to 112 x 112 (:func:`opticore.data.landmarks.crop_face` with the checkpoint's margin),
the model's points are mapped back through the crop's matrix, and the image is written with the
points drawn (``--output``); the points are printed as JSON (image pixels, ``(x, y)``).
torch is imported by these functions only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, List, Optional

import numpy as np

__all__ = ["add_arguments", "detect_faces", "predict_landmarks", "run"]

DESCRIPTION = __doc__


def predict_landmarks(model: Any, image: np.ndarray, boxes: np.ndarray, *, margin: float = 0.2) -> np.ndarray:
    """Landmarks of the faces in ``boxes`` with a :class:`opticore.models.pfld.PFLD`.

    Args:
        model: a PFLD in eval mode (e.g. from :func:`opticore.train.pfld.load_pfld`).
        image: ``(H, W, 3)`` uint8, the channel order the model was trained with (BGR for opticore's).
        boxes: ``(F, 4)`` ``x1, y1, x2, y2`` around each face's landmarks.
        margin: the crop margin the model was trained with.

    Returns:
        float64 ``(F, K, 2)`` image pixels.

    Example:
        >>> import numpy as np, torch
        >>> from opticore.models.pfld import PFLD
        >>> from opticore.face_landmarks import predict_landmarks
        >>> model = PFLD(68, 0.25).eval()
        >>> predict_landmarks(model, np.zeros((200, 300, 3), np.uint8), np.array([[50, 40, 150, 160]])).shape
        (1, 68, 2)
    """
    import torch

    from .data.landmarks import crop_face, from_units, transform_points

    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = []
    for box in boxes:
        crop, M = crop_face(image, box=box, size=112, margin=margin)
        with torch.no_grad():
            units = model(torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255.0)[0].numpy()
        inverse = np.linalg.inv(np.vstack([M, [0.0, 0.0, 1.0]]))[:2]
        out.append(transform_points(from_units(units, 112), inverse))
    return np.stack(out) if out else np.zeros((0, 0, 2))


def detect_faces(image: np.ndarray) -> np.ndarray:
    """Face boxes ``(F, 4)`` ``x1, y1, x2, y2`` from OpenCV's Haar cascade, moved down by 10 % of
    their height to cover the landmarks rather than the forehead."""
    import os

    import cv2

    folder = cv2.data.haarcascades  # type: ignore[attr-defined]  # (absent from OpenCV's stubs)
    cascade = cv2.CascadeClassifier(os.path.join(folder, "haarcascade_frontalface_default.xml"))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(30, 30))
    boxes = np.array([[x, y + 0.1 * h, x + w, y + 1.1 * h] for x, y, w, h in np.reshape(found, (-1, 4))],
                     np.float64)
    return boxes.reshape(-1, 4)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="the photograph")
    parser.add_argument("--model", required=True, help="checkpoint of opticore train pfld (best.pt)")
    parser.add_argument("--box", type=float, nargs=4, action="append", metavar=("X1", "Y1", "X2", "Y2"),
                        help="a face box (repeatable); default: OpenCV's Haar detector")
    parser.add_argument("--output", help="where to write the image with the points (default IMAGE_landmarks.png)")


def run(args: argparse.Namespace, parser: Optional[argparse.ArgumentParser] = None) -> int:
    import cv2

    from .train.pfld import load_pfld

    image = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {args.image}")
    model, extra = load_pfld(args.model)
    boxes = np.array(args.box, np.float64) if args.box else detect_faces(image)
    points = predict_landmarks(model, image, boxes, margin=float(extra.get("margin", 0.2)))
    drawn = image.copy()
    radius = max(1, round(max(image.shape[:2]) / 300))
    for box, face in zip(boxes, points):
        cv2.rectangle(drawn, (int(box[0]), int(box[1])), (int(box[2]), int(box[3])), (255, 128, 0), radius)
        for x, y in face:
            cv2.circle(drawn, (int(round(x)), int(round(y))), radius, (0, 255, 0), -1, cv2.LINE_AA)
    output = args.output or str(Path(args.image).with_suffix("")) + "_landmarks.png"
    if not cv2.imwrite(output, drawn):
        raise OSError(f"cannot write {output}")
    faces: List[Any] = [{"box": box.round(2).tolist(), "landmarks": face.round(2).tolist()}
                        for box, face in zip(boxes, points)]
    print(json.dumps({"image": args.image, "output": output, "faces": faces}))
    return 0
