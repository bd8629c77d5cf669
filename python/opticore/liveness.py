"""Liveness (face anti-spoofing) features: the Fourier-spectrum map that MiniFASNet learns as an
auxiliary target, and the context crop around a face box that it looks at.

Both follow minivision's Silent-Face-Anti-Spoofing, computed by opticore's C++ core:

* :func:`fourier_spectrum` — grey, 2-D FFT, centre shift, ``log(|F| + 1)``, min-max
  normalisation, optional bilinear resize (the model's 10x10 target), one image or a batch, the
  batch split over :func:`opticore.set_num_threads` threads with the GIL released.
* :func:`crop_face` — the face box enlarged by ``scale`` about its centre (less when the image is
  too small), shifted to stay inside the image, then resized with :func:`opticore.crop_resize`.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Tuple, get_args

import numpy as np

from . import _core
from ._args import as_array, choice, float_array, integer, real
from .warp import crop_resize

__all__ = ["ColorOrder", "crop_face", "face_crop_boxes", "fourier_spectrum"]

ColorOrder = Literal["bgr", "rgb"]
_COLORS = get_args(ColorOrder)


def _size_arg(value: Any, name: str) -> Tuple[int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name}: expected (width, height), got {value!r}")
    return integer(value[0], name, low=1), integer(value[1], name, low=1)


def fourier_spectrum(
    image: np.ndarray, *, out_size: Optional[Tuple[int, int]] = None, color: ColorOrder = "bgr"
) -> np.ndarray:
    """Normalised log-magnitude Fourier spectrum of an image or a batch (Silent-Face's FT map).

    For each image: ``g = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601, ``cv2.cvtColor``'s weights,
    computed in double precision without rounding to uint8; a one-channel image is used as it is,
    a fourth channel is ignored), ``F = fftshift(fft2(g))`` (zero frequency at
    ``(H // 2, W // 2)``), ``f = log(|F| + 1)`` and the reference's normalisation
    ``(f - f.min() + 1) / (f.max() - f.min() + 1)`` (values in ``(0, 1]``). With ``out_size`` the
    map is then resized like ``cv2.resize(f, out_size)`` (bilinear, half-pixel centres). The FFT
    runs in double precision, so the result matches NumPy's ``np.fft`` to about 1e-7.

    Shapes: ``(H, W)`` is one grey image; ``(H, W, C)`` with ``C`` in ``{1, 3, 4}`` one colour
    image, any other ``(B, H, W)`` a batch of grey images; ``(B, H, W, C)`` a batch (pass a grey
    batch whose width is 1, 3 or 4 as ``(B, H, W, 1)``). Any layout; uint8 or float32.

    Args:
        image: one image or a batch, as above; finite values.
        out_size: ``(width, height)`` of the result, or None for the image's own size.
        color: channel order of 3- and 4-channel images, ``"bgr"`` (OpenCV's) or ``"rgb"``.

    Returns:
        float32 ``(height, width)`` for one image, ``(B, height, width)`` for a batch.

    Raises:
        TypeError: a dtype other than uint8 / float32, or a non-integer size.
        ValueError: a wrong shape, an empty image, 2 channels, a non-finite pixel or a bad size.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.zeros((4, 4), np.uint8)
        >>> img[:, ::2] = 255  # vertical stripes: energy at DC and the highest horizontal frequency
        >>> opticore.fourier_spectrum(img).round(2)
        array([[0.12, 0.12, 0.12, 0.12],
               [0.12, 0.12, 0.12, 0.12],
               [1.  , 0.12, 1.  , 0.12],
               [0.12, 0.12, 0.12, 0.12]], dtype=float32)
    """
    a = as_array(image)
    if a.dtype != np.uint8 and a.dtype != np.float32:
        raise TypeError(f"image: expected uint8 or float32, got {a.dtype}")
    if a.ndim == 2:
        batch = a[None, :, :, None]
    elif a.ndim == 3:
        batch = a[None] if a.shape[2] in (1, 3, 4) else a[..., None]
    elif a.ndim == 4:
        batch = a
    else:
        raise ValueError(f"image: expected shape (H, W), (H, W, C), (B, H, W) or (B, H, W, C), got {a.shape}")
    size = None if out_size is None else _size_arg(out_size, "out_size")
    choice(color, "color", _COLORS)
    out = _core.fourier_spectrum(batch, size, color)
    single = a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))
    return out[0] if single else out


def face_crop_boxes(
    boxes: Any, image_size: Tuple[int, int], *, scale: float = 2.7
) -> np.ndarray:
    """The pixel boxes :func:`crop_face` crops: Silent-Face's context boxes around face boxes.

    Each face box ``(x, y, w, h)`` is scaled by ``s = min(scale, (W - 1) / w, (H - 1) / h)``
    about its centre; a box reaching past the left / top edge is moved right / down to start at
    0, then one reaching past ``W - 1`` / ``H - 1`` is moved left / up to end there; the corners
    are then truncated toward zero (``int()``) and the box taken inclusive of its far corner.

    Args:
        boxes: ``(4,)`` or ``(N, 4)`` face boxes ``(x, y, w, h)`` in pixels (OpenCV's
            ``detectMultiScale`` convention), finite, ``w > 0`` and ``h > 0``.
        image_size: ``(width, height)`` of the image.
        scale: the enlargement, > 0 (Silent-Face uses 2.7 and 4.0; 1.0 is the face box itself).

    Returns:
        int64 ``(4,)`` or ``(N, 4)`` boxes ``(x1, y1, x2, y2)``, ``x2`` / ``y2`` exclusive, inside
        the image (the boxes :func:`opticore.crop_resize` takes).

    Example:
        >>> import opticore
        >>> opticore.face_crop_boxes([40, 40, 20, 20], (100, 100), scale=2.0)
        array([30, 30, 71, 71])
    """
    b = float_array(boxes, "boxes")
    if b.shape[-1:] != (4,) or b.ndim not in (1, 2):
        raise ValueError(f"boxes: expected shape (4,) or (N, 4), got {b.shape}")
    W, H = _size_arg(image_size, "image_size")
    wanted = real(scale, "scale", low=0.0, low_open=True)
    bb = b.reshape(-1, 4)
    bad = ~np.isfinite(bb).all(axis=1) | (bb[:, 2] <= 0) | (bb[:, 3] <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"boxes: expected finite (x, y, w, h) with w > 0 and h > 0, got {bb[i].tolist()} at row {i}")
    x, y, w, h = bb.T
    s = np.minimum(np.minimum((H - 1) / h, (W - 1) / w), wanted)
    half_w, half_h = w * s / 2, h * s / 2
    cx, cy = x + w / 2, y + h / 2
    x1, y1, x2, y2 = cx - half_w, cy - half_h, cx + half_w, cy + half_h
    # Shift inside: first off the left / top edge, then off the right / bottom one.
    x2, x1 = np.where(x1 < 0, x2 - x1, x2), np.maximum(x1, 0)
    y2, y1 = np.where(y1 < 0, y2 - y1, y2), np.maximum(y1, 0)
    x1, x2 = np.where(x2 > W - 1, x1 - (x2 - W + 1), x1), np.minimum(x2, W - 1)
    y1, y2 = np.where(y2 > H - 1, y1 - (y2 - H + 1), y1), np.minimum(y2, H - 1)
    # The clip only matters for coordinates so large that the shifts above lose precision.
    x1, y1 = np.clip(np.trunc(x1), 0, W - 1), np.clip(np.trunc(y1), 0, H - 1)
    x2, y2 = np.clip(np.trunc(x2) + 1, x1 + 1, W), np.clip(np.trunc(y2) + 1, y1 + 1, H)
    out = np.stack([x1, y1, x2, y2], axis=1).astype(np.int64)
    return out.reshape(b.shape)


def crop_face(
    image: np.ndarray, box: Any, *, scale: float = 2.7, out_size: Tuple[int, int] = (80, 80)
) -> np.ndarray:
    """The context crop around a face that MiniFASNet classifies (Silent-Face's ``CropImage``).

    The crop is ``image[y1:y2, x1:x2]`` for the box :func:`face_crop_boxes` gives, resized to
    ``out_size`` like ``cv2.resize`` (bilinear; uint8 bit-exact with OpenCV). Several boxes of
    one image are cropped in one call, split over threads, GIL released.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32.
        box: ``(4,)`` face box ``(x, y, w, h)``, or ``(N, 4)`` boxes (``N`` may be 0).
        scale: the enlargement about the box centre, > 0; capped so the crop fits in the image.
        out_size: ``(width, height)`` of each crop.

    Returns:
        ``(height, width[, C])`` for one box, ``(N, height, width[, C])`` for ``(N, 4)``; the
        image's dtype.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.arange(100, dtype=np.uint8).reshape(10, 10)
        >>> opticore.crop_face(img, [4, 4, 2, 2], scale=2.0, out_size=(2, 2))
        array([[41, 44],
               [66, 69]], dtype=uint8)
    """
    a = as_array(image)
    if a.ndim not in (2, 3) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"image: expected a non-empty (H, W) or (H, W, C) image, got shape {a.shape}")
    size = _size_arg(out_size, "out_size")
    crop_boxes = face_crop_boxes(box, (a.shape[1], a.shape[0]), scale=scale)
    crops = crop_resize(a, crop_boxes.reshape(-1, 4), size)
    return crops[0] if crop_boxes.ndim == 1 else crops
