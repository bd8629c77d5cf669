"""Image warps: affine warp, remap with coordinate maps, resize, batched crop-and-resize —
``cv2.warpAffine``, ``cv2.remap`` and ``cv2.resize`` semantics, computed by opticore's C++ core.

Conventions shared by every function here:

* Images are ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1..4, ``uint8`` or ``float32``, any memory
  layout (slices, negative strides are read in place). The output has the input's dtype and
  layout kind (``(H, W)`` stays ``(H, W)``) and is C-contiguous. Channel order is untouched.
* Pixel centres are at integer coordinates, as in OpenCV: pixel ``(x, y)`` covers
  ``[x - 0.5, x + 0.5) x [y - 0.5, y + 0.5)``.
* ``dsize`` is ``(width, height)``, as in OpenCV.
* Arithmetic follows OpenCV, so results match it closely (uint8 within 1 grey level, float32
  within rounding): source coordinates are quantised to 1/32 pixel; ``"linear"`` and ``"cubic"``
  (Keys, ``A = -0.75``) weights come from a table per 1/32 position; uint8 images are interpolated
  in 15-bit fixed point with rounding and saturation, float32 images in float32.
* ``border_mode``: ``"constant"`` (taps outside read ``border_value``: one number for every
  channel — unlike OpenCV, where a scalar fills only the first channel — or one per channel),
  ``"replicate"`` (aaaa|abcd|dddd), ``"reflect"`` (dcba|abcd|dcba), ``"reflect101"``
  (dcb|abcd|cba).
* Big-endian arrays (``">f4"``) are converted to native byte order first.
* Wrong dtypes raise ``TypeError``; wrong shapes, empty images, bad sizes or non-finite /
  non-invertible matrices ``ValueError``, each naming the argument. An output (or working
  buffer) above 4 GiB raises ``ValueError`` naming ``dsize`` (``map_x`` for :func:`remap`)
  instead of being allocated. The GIL is released.
* Map coordinates are quantised as ``cv2.remap`` does on x86 (``cvRound(32 * v)`` in int32, then
  the pixel clamped to int16), so even far-off coordinates with reflecting borders agree with
  it; beyond ``±2**26`` pixels OpenCV wraps to the left edge, this saturates instead.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence, Tuple, Union, get_args

import numpy as np

from . import _core
from ._args import as_array, choice

__all__ = [
    "BorderMode",
    "BorderValue",
    "Interpolation",
    "ResizeInterpolation",
    "warp_affine",
    "remap",
    "resize",
    "crop_resize",
]

Interpolation = Literal["nearest", "linear", "cubic"]
ResizeInterpolation = Literal["nearest", "linear", "cubic", "area", "bins"]
BorderMode = Literal["constant", "replicate", "reflect", "reflect101"]
BorderValue = Union[float, Sequence[float]]


# The choices once, not per call: resizing a 12x12 pyramid level takes a few microseconds.
_INTERPOLATIONS = get_args(Interpolation)
_RESIZE_INTERPOLATIONS = get_args(ResizeInterpolation)
_BORDER_MODES = get_args(BorderMode)


def _interpolation_arg(value: Any) -> str:
    choice(value, "interpolation", _INTERPOLATIONS)
    return value


def _resize_interpolation_arg(value: Any) -> str:
    choice(value, "interpolation", _RESIZE_INTERPOLATIONS)
    return value


def _border_mode_arg(value: Any) -> str:
    choice(value, "border_mode", _BORDER_MODES)
    return value


def warp_affine(
    image: np.ndarray,
    M: Any,
    dsize: Tuple[int, int],
    *,
    interpolation: Interpolation = "linear",
    border_mode: BorderMode = "constant",
    border_value: BorderValue = 0,
) -> np.ndarray:
    """Affine warp: ``out(x, y) = image(M^-1 (x, y))``, like ``cv2.warpAffine(image, M, dsize)``.

    ``M`` maps SOURCE pixel coordinates to DESTINATION ones (OpenCV's convention without
    ``WARP_INVERSE_MAP``); it is inverted internally. The inverse is evaluated in 1/1024 fixed
    point per output pixel and cut to 1/32 pixel, exactly as OpenCV does, so an identity or an
    integer translation copies pixels exactly.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32; sides <= 32767.
        M: ``(2, 3)`` affine matrix, or ``(3, 3)`` with last row ``(0, 0, 1)``; any real dtype.
        dsize: output ``(width, height)``, both positive.
        interpolation: ``"nearest"``, ``"linear"`` or ``"cubic"``.
        border_mode: ``"constant"``, ``"replicate"``, ``"reflect"`` or ``"reflect101"``.
        border_value: with ``"constant"``: a number (all channels) or one number per channel.

    Returns:
        ``(height, width)`` or ``(height, width, C)``, the image's dtype.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.arange(12, dtype=np.uint8).reshape(3, 4)
        >>> opticore.warp_affine(img, [[1, 0, 1], [0, 1, 0]], (4, 3))  # shift right by 1
        array([[ 0,  0,  1,  2],
               [ 0,  4,  5,  6],
               [ 0,  8,  9, 10]], dtype=uint8)
    """
    return _core.warp_affine(
        as_array(image), M, dsize, _interpolation_arg(interpolation), _border_mode_arg(border_mode), border_value
    )


def remap(
    image: np.ndarray,
    map_x: np.ndarray,
    map_y: np.ndarray,
    *,
    interpolation: Interpolation = "linear",
    border_mode: BorderMode = "constant",
    border_value: BorderValue = 0,
) -> np.ndarray:
    """Generic warp: ``out(x, y) = image(map_x[y, x], map_y[y, x])``, like ``cv2.remap``.

    The maps hold absolute source coordinates (OpenCV's ``CV_32FC1`` maps). ``"nearest"`` rounds
    them to the nearest pixel (ties to even); ``"linear"`` / ``"cubic"`` quantise them to 1/32
    pixel (``round(32 * v)``), as OpenCV does. NaN coordinates read the border.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32; sides <= 32767.
        map_x: ``(Ho, Wo)`` float32 x coordinates (float64 is converted to float32).
        map_y: ``(Ho, Wo)`` float32 y coordinates, same shape.
        interpolation: ``"nearest"``, ``"linear"`` or ``"cubic"``.
        border_mode: ``"constant"``, ``"replicate"``, ``"reflect"`` or ``"reflect101"``.
        border_value: with ``"constant"``: a number (all channels) or one number per channel.

    Returns:
        ``(Ho, Wo)`` or ``(Ho, Wo, C)``, the image's dtype.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.arange(12, dtype=np.float32).reshape(3, 4)
        >>> map_y, map_x = np.mgrid[0:2, 0:3].astype(np.float32)
        >>> opticore.remap(img, map_x + 0.5, map_y)  # half a pixel to the right
        array([[0.5, 1.5, 2.5],
               [4.5, 5.5, 6.5]], dtype=float32)
    """
    return _core.remap(
        as_array(image),
        as_array(map_x),
        as_array(map_y),
        _interpolation_arg(interpolation),
        _border_mode_arg(border_mode),
        border_value,
    )


def resize(
    image: np.ndarray, dsize: Tuple[int, int], *, interpolation: ResizeInterpolation = "linear"
) -> np.ndarray:
    """Resize to ``dsize = (width, height)``, like ``cv2.resize(image, dsize, interpolation=...)``.

    * ``"linear"`` and ``"cubic"`` (Keys, ``A = -0.75``) sample source position
      ``(x + 0.5) * W / width - 0.5`` (pixel areas aligned, "half-pixel centres") with the edge
      pixels replicated; uint8 weights are 11-bit fixed point per axis. uint8 ``"linear"`` is
      bit-exact with OpenCV (its rounding of the vertical pass included); an exact 2x reduction
      is the rounded 2x2 mean, as in OpenCV.
    * ``"nearest"`` takes pixel ``floor(x * W / width)`` (``cv2.INTER_NEAREST``), exact.
    * ``"area"`` (``cv2.INTER_AREA``): when neither side grows, each output pixel is the mean of
      the source area it covers (partial pixels weighted by their share; whole-number factors as
      block means), bit-exact with OpenCV for uint8; when a side grows, OpenCV's bilinear
      emulation of it.
    * ``"bins"``: torch's adaptive average pooling (``F.interpolate(mode="area")``, what
      PyTorch-trained models such as facenet-pytorch's MTCNN were fed): output pixel ``i`` of an
      axis is the plain mean of source pixels ``floor(i * W / width)`` to
      ``ceil((i + 1) * W / width)`` (exclusive), every pixel a bin touches counting fully, so
      bins overlap unless the sizes divide. Sums are exact; uint8 means are rounded half up,
      float32 means rounded once from double.
    * float32 is computed in float32 with OpenCV's formulas: within ``2e-5`` of OpenCV for
      values in ``[0, 1]``. uint8 ``"cubic"`` is bit-exact with OpenCV's own algorithm; OpenCV's
      default builds hand it to Intel IPP, within 1 grey level of that (about 3 % of pixels).

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32.
        dsize: output ``(width, height)``, both positive.
        interpolation: ``"nearest"``, ``"linear"``, ``"cubic"``, ``"area"`` or ``"bins"``.

    Returns:
        ``(height, width)`` or ``(height, width, C)``, the image's dtype.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.array([[0, 4], [8, 12]], dtype=np.uint8)
        >>> opticore.resize(img, (1, 1))
        array([[6]], dtype=uint8)
    """
    # Inline checks: this wrapper's own calls cost a tenth of a small resize.
    if interpolation not in _RESIZE_INTERPOLATIONS:
        choice(interpolation, "interpolation", _RESIZE_INTERPOLATIONS)
    return _core.resize(image if isinstance(image, np.ndarray) else np.asarray(image), dsize, interpolation)


def crop_resize(
    image: np.ndarray,
    boxes: Any,
    out_size: Tuple[int, int],
    *,
    interpolation: ResizeInterpolation = "linear",
) -> np.ndarray:
    """Crop every box of one image and resize it to ``out_size``, in one call.

    Box ``i = (x1, y1, x2, y2)`` is in whole pixels with ``x2``, ``y2`` exclusive (it covers
    ``image[y1:y2, x1:x2]``, so ``x2 - x1`` by ``y2 - y1`` pixels); ``out[i]`` equals
    ``resize(image[y1:y2, x1:x2], out_size, interpolation=...)`` bit for bit. A box may reach
    outside the image: the pixels outside are 0 (as when padding an MTCNN crop), the borders of
    the crop are then replicated as ``resize`` does. Boxes are split over
    :func:`opticore.set_num_threads` threads; the GIL is released.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32.
        boxes: ``(N, 4)`` integer array, or floats holding whole numbers (round them first);
            ``x2 > x1``, ``y2 > y1``, coordinates within ``±2**30``. ``N`` may be 0.
        out_size: ``(width, height)`` of every crop, both positive.
        interpolation: ``"nearest"``, ``"linear"``, ``"cubic"``, ``"area"`` or ``"bins"``.

    Returns:
        ``(N, height, width)`` or ``(N, height, width, C)``, the image's dtype.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.arange(16, dtype=np.uint8).reshape(4, 4)
        >>> opticore.crop_resize(img, [[0, 0, 2, 2], [2, 2, 4, 4], [3, 3, 5, 5]], (1, 1))
        array([[[ 3]],
        <BLANKLINE>
               [[13]],
        <BLANKLINE>
               [[ 4]]], dtype=uint8)
    """
    b = as_array(boxes)
    if b.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(b) | (b != np.round(b)) | (np.abs(b) > 2**30)
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(
                f"boxes: expected whole-number pixel coordinates within +-2**30, got {float(b[i])!r} at {i} "
                "(round float boxes first, e.g. np.round)"
            )
        b = b.astype(np.int64)
    elif b.dtype.kind not in "iu":
        raise TypeError(f"boxes: expected an integer or float array, got {b.dtype}")
    return _core.crop_resize(as_array(image), b, out_size, _resize_interpolation_arg(interpolation))
