"""Synthetic tracking sequences with exact ground truth: a virtual camera over a photograph.

A synthetic sequence films a still photograph with a virtual camera. Frame ``t`` is
``opticore.warp_affine(photo, M_t, size)`` with the similarity transform

    M_t = [z_t R(a_t) | p_t - z_t R(a_t) c]

which puts the target's centre ``c`` (source pixels) at ``p_t`` (frame pixels), scaled by the zoom
``z_t`` (frame pixels per source pixel) and rotated by ``a_t`` radians. Because the frames are made
from the camera, the ground truth is exact.

Boxes follow :mod:`opticore.eval.tracking.sequences`: ``(x, y, w, h)``, centre ``(x + (w - 1) / 2, y + (h - 1) / 2)``.

Ground truth under rotation: OTB boxes are axis-aligned, so the ground-truth box of frame ``t`` is
the target's box in its own (rotated) frame: centred on ``M_t`` applied to the target's centre,
of size ``(w z_t, h z_t)``. It is not the (larger) axis-aligned hull of the rotated rectangle:
a tracker that follows the object's centre and scale is exactly right.

Motion kinds (:data:`MOTIONS`), each on top of a gentle pan unless said otherwise:

* ``translation``: smooth pan (sum of sinusoids, periods of 100-300 frames) over most of the frame;
* ``fast``: jumps of 15-40 % of the target size every frame in random directions;
* ``scale``: zoom ``2 ** sin(...)``, i.e. from 0.5x to 2x the first frame's size;
* ``rotation``: in-plane rotation up to 30-60 degrees either way;
* ``blur``: a fast smooth pan (up to ~10 px a frame) filmed with an exposure as long as the frame
  interval: the frame is the mean of warps at sub-frame camera poses along the motion (a line
  blur as long as the motion), and the ground truth is the pose at mid-exposure;
* ``illumination``: per-frame gain (0.5x-2x) and gamma (0.66-1.5) ramps;
* ``occlusion``: a textured patch cut from elsewhere in the photograph, 60 % of the target's width
  and taller than it, slides across the target during the middle half of the sequence.

Every random choice comes from ``np.random.default_rng(seed)``: the same arguments give the same
frames and ground truth, bit for bit. Frames are ``(H, W, 3)`` uint8 BGR, made lazily each time
:meth:`Sequence.frames` is iterated (cheap: one warp per frame, a few for ``blur``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional, Tuple
from typing import Sequence as Seq

import numpy as np

import opticore

from .sequences import BUILTIN_IMAGES, Box, Sequence, _bgr, load_image

__all__ = [
    "ASTRONAUT_FACE",
    "MOTIONS",
    "Camera",
    "astronaut_demo",
    "default_suite",
    "pick_target",
    "synthetic_sequence",
]

#: The motion kinds of :func:`synthetic_sequence`.
MOTIONS: Tuple[str, ...] = ("translation", "fast", "scale", "rotation", "blur", "illumination", "occlusion")

#: The astronaut's face in ``skimage.data.astronaut()`` (x, y, w, h), as opencv 4.14's frontal-face
#: Haar cascade finds it.
ASTRONAUT_FACE: Box = BUILTIN_IMAGES["astronaut"]  # type: ignore[assignment]


@dataclass(frozen=True)
class Camera:
    """A virtual camera's path: per frame, where the target's centre lands, the zoom and the angle.

    Attributes:
        centre: ``(2,)`` the target's centre in the photograph, source pixels ``(x, y)``.
        position: ``(T, 2)`` where that centre lands in each frame (frame pixels).
        zoom: ``(T,)`` frame pixels per source pixel.
        angle: ``(T,)`` in-plane rotation in radians (counter-clockwise on screen is negative,
            as image y points down).
        size: frame ``(width, height)``.
    """

    centre: np.ndarray
    position: np.ndarray
    zoom: np.ndarray
    angle: np.ndarray
    size: Tuple[int, int]

    def matrix(self, t: float) -> np.ndarray:
        """``(2, 3)`` float64 source -> frame matrix at time ``t`` (linear between frames).

        Example:
            >>> import numpy as np
            >>> from opticore.eval.tracking.synthetic import Camera
            >>> cam = Camera(np.array([10.0, 20.0]), np.array([[5.0, 5.0]]), np.ones(1), np.zeros(1), (16, 16))
            >>> cam.matrix(0)
            array([[  1.,   0.,  -5.],
                   [  0.,   1., -15.]])
        """
        frames = np.arange(len(self.zoom), dtype=np.float64)
        px, py = (np.interp(t, frames, self.position[:, i]) for i in range(2))
        z = math.exp(np.interp(t, frames, np.log(self.zoom)))
        a = float(np.interp(t, frames, self.angle))
        rot = z * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        return np.hstack([rot, (np.array([px, py]) - rot @ self.centre)[:, None]]) + 0.0  # no -0.0

    def boxes(self, target_size: Tuple[float, float]) -> np.ndarray:
        """``(T, 4)`` float64 ground truth of a ``(w, h)`` target centred on :attr:`centre`."""
        w, h = target_size
        bw, bh = w * self.zoom, h * self.zoom
        return np.stack([self.position[:, 0] - (bw - 1) / 2, self.position[:, 1] - (bh - 1) / 2, bw, bh], 1)

    def film(self, image: np.ndarray, t: float) -> np.ndarray:
        """The frame at time ``t``: ``image`` warped by :meth:`matrix` (edges replicated), ``(H, W, 3)`` uint8."""
        return opticore.warp_affine(image, self.matrix(t), self.size, border_mode="replicate")


def _box_centre(box: Seq[float]) -> np.ndarray:
    """``(2,)`` the centre ``(x + (w - 1) / 2, y + (h - 1) / 2)`` of an ``(x, y, w, h)`` box."""
    x, y, w, h = box
    return np.array([x + (w - 1) / 2, y + (h - 1) / 2])


def pick_target(image: np.ndarray, size: Optional[int] = None) -> Box:
    """A square, textured target in the middle 60 % of a photograph: the ``size`` x ``size`` window
    (default ``min(H, W) / 5``, 32..128 px) with the highest mean gradient magnitude, on an 8 px grid.

    Example:
        >>> from opticore.eval.tracking import load_image, pick_target
        >>> x, y, w, h = pick_target(load_image("coffee"))
        >>> (w, h)
        (80.0, 80.0)
    """
    grey = np.asarray(image, dtype=np.float64)
    grey = grey.mean(axis=2) if grey.ndim == 3 else grey
    H, W = grey.shape
    s = int(size or min(128, max(32, min(H, W) // 5)))
    grad = np.zeros_like(grey)
    grad[:, 1:] += np.abs(np.diff(grey, axis=1))
    grad[1:, :] += np.abs(np.diff(grey, axis=0))
    integral = np.pad(grad.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    ys = np.arange(int(0.2 * H), max(int(0.2 * H) + 1, int(0.8 * H) - s), 8)
    xs = np.arange(int(0.2 * W), max(int(0.2 * W) + 1, int(0.8 * W) - s), 8)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    yy, xx = np.clip(yy, 0, H - s), np.clip(xx, 0, W - s)
    energy = integral[yy + s, xx + s] - integral[yy, xx + s] - integral[yy + s, xx] + integral[yy, xx]
    i = np.unravel_index(int(np.argmax(energy)), energy.shape)
    return float(xx[i]), float(yy[i]), float(s), float(s)


def _smooth(rng: np.random.Generator, t: np.ndarray, periods: Tuple[float, float], n: int = 3) -> np.ndarray:
    """A smooth random signal in ``[-1, 1]``: a normalised sum of ``n`` sinusoids."""
    amp = rng.uniform(0.5, 1.0, n)
    per = rng.uniform(*periods, n)
    phase = rng.uniform(0, 2 * np.pi, n)
    return (amp[:, None] * np.sin(2 * np.pi * t[None] / per[:, None] + phase[:, None])).sum(0) / amp.sum()


def _pan(
    rng: np.random.Generator,
    t: np.ndarray,
    size: Tuple[int, int],
    reach: float,
    fraction: float,
    periods: Tuple[float, float],
) -> np.ndarray:
    """``(T, 2)`` smooth positions keeping a target of radius ``reach`` px inside the frame."""
    W, H = size
    half = np.array([(W - 1) / 2, (H - 1) / 2])
    amp = np.maximum(half - reach - 4, 0) * fraction
    return np.stack([half[i] + amp[i] * _smooth(rng, t, periods) for i in range(2)], 1)


def _jumps(
    rng: np.random.Generator, n: int, size: Tuple[int, int], reach: float, step: Tuple[float, float]
) -> np.ndarray:
    """``(T, 2)`` positions jumping ``step`` px a frame in random directions, reflected at the bounds."""
    W, H = size
    lo = np.array([reach + 4, reach + 4])
    hi = np.maximum(np.array([W - 1 - reach - 4, H - 1 - reach - 4]), lo)
    pos = np.empty((n, 2))
    pos[0] = (lo + hi) / 2
    for i in range(1, n):
        a = rng.uniform(0, 2 * np.pi)
        p = pos[i - 1] + rng.uniform(*step) * np.array([math.cos(a), math.sin(a)])
        p = np.where(p < lo, 2 * lo - p, p)
        p = np.where(p > hi, 2 * hi - p, p)
        pos[i] = np.clip(p, lo, hi)
    return pos


def _far_patch(image: np.ndarray, target: Box, shape: Tuple[int, int]) -> Tuple[float, float]:
    """Centre (source px) of a ``shape`` = (w, h) region of the photograph far from the target."""
    H, W = image.shape[:2]
    w, h = shape
    cx, cy = target[0] + target[2] / 2, target[1] + target[3] / 2
    xs = np.linspace(w / 2, max(w / 2, W - w / 2), 5)
    ys = np.linspace(h / 2, max(h / 2, H - h / 2), 5)
    cand = [(x, y) for y in ys for x in xs]
    return max(cand, key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)


def synthetic_sequence(
    image: np.ndarray,
    target: Seq[float],
    kind: str,
    *,
    seed: int = 0,
    frames: int = 150,
    size: Tuple[int, int] = (320, 240),
    target_size: float = 64.0,
    name: Optional[str] = None,
) -> Sequence:
    """A virtual-camera sequence over ``image`` with exact ground truth (see the module docstring).

    Args:
        image: the photograph, ``(H, W, 3)`` uint8 BGR (see :func:`load_image`).
        target: ``(x, y, w, h)`` of the target in the photograph (source pixels).
        kind: one of :data:`MOTIONS`.
        seed: seeds every random choice; same arguments, same sequence.
        frames: number of frames ``T`` (>= 2).
        size: frame ``(width, height)``.
        target_size: the target's longer side in the first frame, in frame pixels.
        name: the sequence's name; default ``"<kind>"``.

    Returns:
        A :class:`Sequence` whose ``groundtruth`` is ``(T, 4)`` float64 ``x, y, w, h``.

    Example:
        >>> from opticore.eval.tracking import load_image, synthetic_sequence
        >>> seq = synthetic_sequence(load_image("chelsea"), (200, 60, 80, 80), "rotation", seed=1, frames=3)
        >>> seq.groundtruth[0].round(1).tolist()
        [117.2, 97.7, 64.0, 64.0]
    """
    if kind not in MOTIONS:
        raise ValueError(f"kind: expected one of {', '.join(MOTIONS)}, got {kind!r}")
    if frames < 2:
        raise ValueError(f"frames: expected >= 2, got {frames}")
    img = _bgr(image)
    x, y, w, h = (float(v) for v in target)
    if not (w > 0 and h > 0):
        raise ValueError(f"target: expected a positive width and height, got {tuple(target)}")
    rng = np.random.default_rng(seed)
    t = np.arange(frames, dtype=np.float64)
    centre = _box_centre((x, y, w, h))
    z0 = target_size / max(w, h)
    zoom, angle = np.full(frames, z0), np.zeros(frames)
    radius = z0 * math.hypot(w, h) / 2  # the target's reach from its centre, any angle
    gentle = (0.35, (120.0, 300.0))  # a slow pan over a third of the free room
    if kind == "translation":
        position = _pan(rng, t, size, radius, 0.95, (100.0, 300.0))
    elif kind == "fast":
        position = _jumps(rng, frames, size, radius, (0.15 * target_size, 0.4 * target_size))
    elif kind == "scale":
        zoom = z0 * 2.0 ** (rng.choice([-1.0, 1.0]) * np.sin(2 * np.pi * t / rng.uniform(80, 140)))
        position = _pan(rng, t, size, 2 * radius, *gentle)
    elif kind == "rotation":
        angle = np.deg2rad(rng.uniform(30, 60)) * rng.choice([-1.0, 1.0]) * np.sin(2 * np.pi * t / rng.uniform(80, 140))
        position = _pan(rng, t, size, radius, *gentle)
    elif kind == "blur":
        position = _pan(rng, t, size, radius, 0.95, (45.0, 80.0))
    else:  # illumination, occlusion: a gentle pan; the effect is added per frame
        position = _pan(rng, t, size, radius, *gentle)
    camera = Camera(centre, position, zoom, angle, (int(size[0]), int(size[1])))
    gt = camera.boxes((w, h))

    def render(tt: float) -> np.ndarray:
        return camera.film(img, tt)

    def unchanged(i: int, frame: np.ndarray) -> np.ndarray:
        return frame

    effect: Callable[[int, np.ndarray], np.ndarray] = unchanged
    if kind == "blur":
        speed = np.r_[0.0, np.hypot(*np.diff(position, axis=0).T)]
        taps = np.clip(np.ceil(np.maximum(speed, np.r_[speed[1:], 0.0])), 1, 16).astype(int)

        def render_blur(tt: float) -> np.ndarray:  # exposure [t - 1/2, t + 1/2]: mean of sub-frame warps
            n = int(taps[int(tt)])
            if n == 1:
                return render(tt)
            acc = sum(render(s).astype(np.float32) for s in tt + np.linspace(-0.5, 0.5, n))
            return np.clip(acc / n + 0.5, 0, 255).astype(np.uint8)

    if kind == "illumination":
        gain = 2.0 ** np.sin(2 * np.pi * t / rng.uniform(60, 120))
        gamma = 1.5 ** np.sin(2 * np.pi * t / rng.uniform(60, 120) + rng.uniform(0, 2 * np.pi))
        gamma = gamma / gamma[0]
        levels = np.arange(256, dtype=np.float64) / 255.0

        def effect(i: int, frame: np.ndarray) -> np.ndarray:
            lut = np.clip(255.0 * gain[i] * levels ** gamma[i] + 0.5, 0, 255).astype(np.uint8)
            return lut[frame]

    if kind == "occlusion":
        ow, oh = 0.6 * w * z0, 1.3 * h * z0
        src = _far_patch(img, (x, y, w, h), (ow / z0, oh / z0))
        patch_m = np.array([[z0, 0, ow / 2 - z0 * src[0]], [0, z0, oh / 2 - z0 * src[1]]])
        patch = opticore.warp_affine(
            img, patch_m, (max(1, int(round(ow))), max(1, int(round(oh)))), border_mode="replicate"
        )
        sweep = (w * zoom / 2 + ow / 2 + 2) * rng.choice([-1.0, 1.0])
        start, stop = int(0.25 * frames), max(int(0.25 * frames) + 1, int(0.75 * frames))

        def effect(i: int, frame: np.ndarray) -> np.ndarray:
            if not start <= i <= stop:
                return frame
            u = (i - start) / max(1, stop - start)  # 0 -> 1: from one side of the target to the other
            cx = position[i, 0] - sweep[i] + 2 * sweep[i] * u
            x0, y0 = int(round(cx - ow / 2)), int(round(position[i, 1] - oh / 2))
            ph, pw = patch.shape[:2]
            fx0, fy0 = max(x0, 0), max(y0, 0)
            fx1, fy1 = min(x0 + pw, frame.shape[1]), min(y0 + ph, frame.shape[0])
            if fx1 > fx0 and fy1 > fy0:
                frame = frame.copy()
                frame[fy0:fy1, fx0:fx1] = patch[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
            return frame

    draw = render_blur if kind == "blur" else render

    def make_frames() -> Iterator[np.ndarray]:
        for i in range(frames):
            yield effect(i, draw(float(i)))

    return Sequence(name or kind, gt, make_frames, kind=kind, camera=camera)


def default_suite(
    images: Optional[Seq[str]] = None,
    kinds: Seq[str] = MOTIONS,
    *,
    frames: int = 150,
    size: Tuple[int, int] = (320, 240),
    seed: int = 0,
    one_image_per_kind: bool = False,
) -> List[Sequence]:
    """The benchmark's sequences: every motion kind over every photograph (or one each).

    Args:
        images: :data:`BUILTIN_IMAGES` names or file paths; default every built-in photograph.
            Built-ins use their listed target (or :func:`pick_target`); files use :func:`pick_target`.
        kinds: motion kinds, a subset of :data:`MOTIONS`.
        frames: frames per sequence.
        size: frame ``(width, height)``.
        seed: the first sequence's seed; the i-th sequence gets ``seed + i``.
        one_image_per_kind: one sequence per kind, the photographs taken in turn (a quick suite).

    Returns:
        Sequences named ``"<image>-<kind>"``.

    Example:
        >>> from opticore.eval.tracking import default_suite
        >>> [s.name for s in default_suite(["astronaut"], ["fast", "scale"], frames=4)]
        ['astronaut-fast', 'astronaut-scale']
    """
    names = list(images) if images else list(BUILTIN_IMAGES)
    loaded = {n: load_image(n) for n in names}
    targets = {n: BUILTIN_IMAGES.get(n) or pick_target(img) for n, img in loaded.items()}
    pairs = (
        [(names[i % len(names)], k) for i, k in enumerate(kinds)]
        if one_image_per_kind
        else [(n, k) for n in names for k in kinds]
    )
    out = []
    for i, (n, k) in enumerate(pairs):
        label = os.path.splitext(os.path.basename(n))[0]
        out.append(
            synthetic_sequence(loaded[n], targets[n], k, seed=seed + i, frames=frames, size=size, name=f"{label}-{k}")
        )
    return out


def astronaut_demo(frames: int = 150, size: Tuple[int, int] = (480, 360), seed: int = 0) -> Sequence:
    """The demo's default sequence: a camera that pans, zooms (0.7x-1.4x) and rotates (+-25 degrees)
    around the astronaut's face in ``skimage.data.astronaut()`` (:data:`ASTRONAUT_FACE`).

    The first frame is upright at zoom 1 with the face near the centre, so a frontal-face detector
    finds it. Ground truth as in :func:`synthetic_sequence`.

    Example:
        >>> from opticore.eval.tracking import astronaut_demo
        >>> seq = astronaut_demo(frames=10)
        >>> seq.name, seq.groundtruth[0].round(1).tolist()
        ('astronaut-demo', [192.5, 132.5, 95.0, 95.0])
    """
    if frames < 2:
        raise ValueError(f"frames: expected >= 2, got {frames}")
    img = load_image("astronaut")
    w, h = ASTRONAUT_FACE[2:]
    rng = np.random.default_rng(seed)
    t = np.arange(frames, dtype=np.float64)
    W, H = size
    ramp = np.minimum(t / 20.0, 1.0)  # ease in: the motion starts gently
    zoom = 2.0 ** (0.5 * ramp * np.sin(2 * np.pi * t / 110.0))
    angle = np.deg2rad(25.0) * ramp * np.sin(2 * np.pi * t / 80.0 + 0.4) * (np.sin(2 * np.pi * t / 160.0) + 1) / 2
    reach = 1.45 * math.hypot(w, h) / 2
    pan = np.stack([_smooth(rng, t, (90.0, 200.0)), _smooth(rng, t, (90.0, 200.0))], 1)
    amp = np.array([(W - 1) / 2 - reach - 4, (H - 1) / 2 - reach - 4]).clip(0, None)
    position = np.array([(W - 1) / 2, (H - 1) / 2]) + amp * (pan - pan[0])
    position = np.clip(position, reach + 4, [W - reach - 5, H - reach - 5])
    camera = Camera(_box_centre(ASTRONAUT_FACE), position, zoom, angle, (int(W), int(H)))

    def make_frames() -> Iterator[np.ndarray]:
        for i in range(frames):
            yield camera.film(img, i)

    return Sequence("astronaut-demo", camera.boxes((w, h)), make_frames, kind="demo", camera=camera)
