"""A generator of labelled faces with exact 68-point landmarks, head pose and attribute flags.

Where no landmark data set can be downloaded, this makes one: :func:`opticore.data.landmarks.mean_face_3d`
with a random identity (proportions, noise) and expression (mouth opening, smile, blink) is posed
under a random yaw / pitch / roll, projected with the pinhole camera of
:func:`opticore.data.landmarks.camera_matrix`, and drawn with OpenCV (skin, eyes with irises,
brows, nose, lips) over a background cut from the real photographs scikit-image ships; skin
takes a blurred texture from the same photographs, then lighting, occlusion, blur and noise. The
landmarks are the projected 3-D points, exact to float64, and the pose is the drawn one. Every
face is a function of its seed alone (:func:`render_face`), so a data set is reproducible.

Attributes, in :data:`opticore.data.landmarks.ATTRIBUTES` order: pose (``|yaw| > 30`` degrees or
``|pitch| > 20``), expression (mouth open or a broad smile), illumination (a strong light ramp),
make-up (never), occlusion (a patch over the face), blur.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import List, NamedTuple, Tuple

import numpy as np

from .landmarks import mean_face_3d, pose_matrix, project

__all__ = ["SyntheticFace", "render_face", "textures"]

# Real photographs shipped inside scikit-image's package (no download).
_PHOTOS = ("astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "grass.png", "gravel.png",
           "hubble_deep_field.jpg", "motorcycle_left.png", "rocket.jpg", "retina.jpg", "coins.png", "moon.png")


class SyntheticFace(NamedTuple):
    """One generated face: ``image`` uint8 ``(S, S, 3)`` BGR, ``landmarks`` float64 ``(68, 2)``
    pixels, ``angles`` float64 ``(3,)`` yaw / pitch / roll radians, ``attributes`` int64 ``(6,)``."""

    image: np.ndarray
    landmarks: np.ndarray
    angles: np.ndarray
    attributes: np.ndarray


@functools.lru_cache(maxsize=1)
def textures() -> Tuple[np.ndarray, ...]:
    """The photographs (BGR uint8, at most 256 px a side) backgrounds and skin are cut from."""
    import cv2
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    out: List[np.ndarray] = []
    for name in _PHOTOS:
        image = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        if image is None:
            continue
        scale = 256.0 / max(image.shape[:2])
        out.append(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    if not out:
        raise RuntimeError(f"faces_synthetic: no photograph could be read from {folder}")
    return tuple(out)


def _patch(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random ``size x size`` cut of a random photograph, randomly flipped and tinted."""
    import cv2

    photos = textures()
    photo = photos[int(rng.integers(len(photos)))]
    h, w = photo.shape[:2]
    side = int(rng.integers(min(h, w) // 4, min(h, w) + 1))
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    patch = cv2.resize(photo[y:y + side, x:x + side], (size, size), interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    tint = rng.uniform(0.6, 1.3, size=3)
    return np.clip(patch * tint, 0, 255).astype(np.uint8)


def _expression(face: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, bool]:
    """Identity and expression on the 3-D mean face; returns the shape and whether it is expressive."""
    face = face.copy()
    face[:, 0] *= rng.uniform(0.88, 1.12)
    face[:, 1] *= rng.uniform(0.88, 1.12)
    face += rng.normal(0.0, 1.2, face.shape)
    opening = 14.0 * rng.random() ** 2  # mostly closed, sometimes wide open
    face[[55, 56, 57, 58, 59, 65, 66, 67], 1] += opening
    face[5:12, 1] += opening * np.array([0.2, 0.5, 0.8, 1.0, 0.8, 0.5, 0.2])
    smile = rng.uniform(-4.0, 6.0)
    face[[48, 60], 0] -= smile * 0.5
    face[[54, 64], 0] += smile * 0.5
    face[[48, 54, 60, 64], 1] -= smile
    if rng.random() < 0.15:  # a blink: the upper lids come down to the lower ones
        for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
            face[upper, 1] = face[lower, 1] - 0.5
    return face, opening > 6.0 or smile > 4.0


def _points(p: np.ndarray) -> np.ndarray:
    """Pixel coordinates as the int32 fixed point (4 fractional bits) OpenCV's drawing takes."""
    return np.round(p * 16).astype(np.int32).reshape(-1, 1, 2)


def render_face(seed: int, size: int = 128) -> SyntheticFace:
    """Render the face of ``seed`` on a ``size x size`` image.

    The face spans about 40 to 75 % of the image, off-centre by up to 12 % (a turned face may
    reach past the edge, as in a photograph); yaw is drawn in
    ``[-50, 50]`` degrees, pitch in ``[-25, 25]``, roll in ``[-30, 30]``.

    Example:
        >>> from opticore.data.faces_synthetic import render_face
        >>> face = render_face(0)
        >>> face.image.shape, face.landmarks.shape, face.angles.shape, face.attributes.shape
        ((128, 128, 3), (68, 2), (3,), (6,))
    """
    import cv2

    rng = np.random.default_rng([seed, 0x5F1D])
    shape, expressive = _expression(mean_face_3d(), rng)
    yaw, pitch, roll = np.radians([rng.uniform(-50, 50), rng.uniform(-25, 25), rng.uniform(-30, 30)])
    rotation = pose_matrix(yaw, pitch, roll)
    f = float(size)  # camera_matrix's focal length for a square image
    span = rng.uniform(0.4, 0.75) * size
    distance = f * 112.0 / span
    offset = rng.uniform(-0.12, 0.12, 2) * size * distance / f
    translation = np.array([offset[0], offset[1], distance])
    landmarks = project(shape, rotation, translation, size, size)
    # The head outline: the jaw, and a forehead arc above the brows (not landmarks).
    brow_top = shape[17:27][::-1].copy()
    brow_top[:, 1] -= 28.0
    brow_top[:, 2] += 6.0
    outline = project(np.concatenate([shape[:17], brow_top]), rotation, translation, size, size)

    image = _patch(rng, size)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (0, 0), 3.0)
    skin_tone = rng.uniform(70, 255) * np.array([0.55, 0.7, 0.9]) * rng.uniform(0.85, 1.15, 3)  # BGR
    skin = cv2.GaussianBlur(_patch(rng, size), (0, 0), rng.uniform(2.0, 6.0)).astype(np.float32)
    skin = skin_tone.astype(np.float32) + (skin - skin.mean(axis=(0, 1))) * np.float32(rng.uniform(0.1, 0.5))
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [_points(outline)], 255, cv2.LINE_AA, 4)
    alpha = mask[..., None] / np.float32(255.0)
    canvas = image * (1.0 - alpha) + skin * alpha

    lip = np.array([rng.uniform(40, 120), rng.uniform(40, 110), rng.uniform(120, 220)])
    dark = rng.uniform(10, 70)
    brow = tuple(float(v) for v in np.full(3, rng.uniform(10, 90)))
    thickness = max(1, int(round(span / 30)))
    for a, b in ((17, 22), (22, 27)):
        cv2.polylines(canvas, [_points(landmarks[a:b])], False, brow, thickness, cv2.LINE_AA, 4)
    iris = tuple(float(v) for v in rng.uniform(20, 140, 3))
    for a in (36, 42):
        eye = landmarks[a:a + 6]
        x0, y0 = np.clip(np.floor(eye.min(axis=0)).astype(int) - 2, 0, size - 1)
        x1, y1 = np.clip(np.ceil(eye.max(axis=0)).astype(int) + 3, 1, size)
        roi = canvas[y0:y1, x0:x1]  # drawn in the eye's box only: a view into the canvas
        local = eye - [x0, y0]
        eye_mask = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(eye_mask, [_points(local)], 255, cv2.LINE_AA, 4)
        layer = np.full(roi.shape, rng.uniform(180, 250), np.float32)
        centre = local.mean(axis=0) + rng.normal(0, 0.08, 2) * np.ptp(eye[:, 0])
        radius = 0.22 * np.ptp(eye[:, 0])
        for r, colour in ((radius, iris), (radius / 2, (10.0, 10.0, 10.0))):
            cv2.circle(layer, tuple(int(v) for v in np.round(centre * 16)), int(round(r * 16)), colour, -1,
                       cv2.LINE_AA, 4)
        a_eye = eye_mask[..., None] / np.float32(255.0)
        roi[...] = roi * (1 - a_eye) + layer * a_eye
        cv2.polylines(canvas, [_points(eye)], True, (dark, dark, dark), 1, cv2.LINE_AA, 4)
    nose_shade = tuple(float(v) for v in skin_tone * 0.6)
    cv2.polylines(canvas, [_points(landmarks[27:31])], False, nose_shade, 1, cv2.LINE_AA, 4)
    cv2.polylines(canvas, [_points(landmarks[31:36])], False, nose_shade, max(1, thickness - 1), cv2.LINE_AA, 4)
    cv2.fillPoly(canvas, [_points(landmarks[48:60])], tuple(float(v) for v in lip), cv2.LINE_AA, 4)
    cv2.fillPoly(canvas, [_points(landmarks[60:68])], (dark * 0.5,) * 3, cv2.LINE_AA, 4)

    # Lighting: a ramp across the image along a random direction; strong ones set the flag.
    direction = rng.normal(size=2)
    direction /= np.linalg.norm(direction)
    strength = rng.uniform(0.0, 0.9) ** 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    ramp = 1.0 + strength * 2.0 * (xs * direction[0] + ys * direction[1])
    canvas *= (ramp * rng.uniform(0.7, 1.2)).astype(np.float32)[..., None]
    occluded = rng.random() < 0.2
    if occluded:  # a photograph patch over part of the face
        box = np.ptp(landmarks, axis=0)
        w, h = (box * rng.uniform(0.25, 0.5, 2)).astype(int) + 1
        x, y = (landmarks.min(axis=0) + rng.uniform(0, 1, 2) * (box - [w, h])).astype(int)
        x, y = max(0, x), max(0, y)
        region = canvas[y:y + h, x:x + w]
        region[...] = _patch(rng, max(w, h))[:region.shape[0], :region.shape[1]]
    canvas += rng.normal(0.0, rng.uniform(0, 8), canvas.shape).astype(np.float32)
    blurred = rng.random() < 0.15
    out = np.clip(canvas, 0, 255).astype(np.uint8)
    if blurred:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(1.0, 2.0))
    attributes = np.array([abs(yaw) > math.radians(30) or abs(pitch) > math.radians(20), expressive,
                           strength > 0.35, False, occluded, blurred], dtype=np.int64)
    return SyntheticFace(out, landmarks, np.array([yaw, pitch, roll]), attributes)
