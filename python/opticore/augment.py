"""Training augmentations: faceswap-style ``random_warp`` and ``random_transform``.

Conventions:

* Images are ``(H, W)`` or ``(H, W, C)`` with ``C`` in 1..4, ``uint8`` or ``float32``, any memory
  layout; outputs keep the dtype and layout kind and are C-contiguous. Pixel centres are at integer
  coordinates, as in OpenCV. Interpolation is bilinear with OpenCV's arithmetic (see
  :mod:`opticore.warp`).
* Randomness is drawn in Python from a :class:`numpy.random.Generator`: ``rng`` is ``None`` (a
  module-level generator created once with fresh OS entropy, never reseeded), an ``int`` seed
  (``numpy.random.default_rng(seed)``: the same seed gives the same output) or a ``Generator``
  (used and advanced, so successive calls differ). The draw order of each function is documented
  and fixed, so results are reproducible seed for seed; the C++ work is deterministic given the
  draws. A call whose numeric arguments or ``rng`` fail the checks draws nothing.
* Matrices are ``(2, 3)`` float64 and map SOURCE (input image) pixel coordinates to DESTINATION
  (output) ones, as ``cv2.warpAffine`` takes them: landmarks follow with
  ``pts @ M[:, :2].T + M[:, 2]``.
"""

from __future__ import annotations

import math
import numbers
from typing import Union

import numpy as np

from . import _core
from ._args import as_array, boolean, integer, real
from .warp import BorderMode, BorderValue, _border_mode_arg, warp_affine

__all__ = ["random_transform", "random_warp"]

RngLike = Union[None, int, np.random.Generator]

_default_rng: np.random.Generator | None = None


def _generator(rng: RngLike) -> np.random.Generator:
    """The Generator to draw from: see the module docstring."""
    global _default_rng
    if rng is None:
        if _default_rng is None:
            _default_rng = np.random.default_rng()
        return _default_rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng: expected a seed >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng: expected None, an int seed or a numpy.random.Generator, got {type(rng).__name__}")


def _fraction(value: object, name: str, *, high: float = math.inf, high_open: bool = True) -> float:
    """A finite real number in [0, high) (or [0, high] when not high_open)."""
    return real(value, name, low=0.0, high=high, high_open=high_open)


def random_warp(
    image: np.ndarray,
    *,
    grid: int = 5,
    coverage: float = 0.625,
    noise: float = 5 / 256,
    out_size: int = 64,
    border_mode: BorderMode = "replicate",
    border_value: BorderValue = 0,
    return_matrix: bool = False,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faceswap-style random warp: ``(warped, target)`` crops of the same region, one C++ call.

    A ``grid x grid`` lattice of control points spanning ``coverage`` of the image (centred) is
    jittered with Gaussian noise; ``warped`` is the image resampled through the smooth dense map
    interpolated from the jittered lattice, ``target`` the image under the best similarity
    (Umeyama) from the jittered lattice to the regular output lattice. A network trained to map
    ``warped`` to ``target`` learns to undo the non-rigid part of the warp. With the defaults on
    a 256x256 image this is faceswap's ``random_warp`` (grid 5, span 160 px, noise std 5 px,
    64x64 outputs), made pixel-centre consistent.

    Convention (``W x H`` image, ``g = grid``, ``s = out_size``, pixel centres at integers):

    * Draws: ``z = rng.normal(size=(2, g, g))`` (x deviates then y, each row-major over grid rows
      then columns); nothing else is drawn.
    * Control point (row ``i``, column ``j``): ``x = (W-1)/2 + (j/(g-1) - 0.5)*coverage*W +
      noise*W*z[0, i, j]``, ``y = (H-1)/2 + (i/(g-1) - 0.5)*coverage*H + noise*H*z[1, i, j]``.
    * ``warped``: output pixel ``(x, y)`` sits at grid position ``u = (x+0.5)*(g-1)/s``,
      ``v = (y+0.5)*(g-1)/s``; its source is the bilinear interpolation of the control points there
      (a float32 map; the same as resizing the control grid to ``s*g/(g-1)`` with ``cv2.resize``
      and cropping ``s/(2(g-1))`` per side), sampled with :func:`opticore.remap` (bilinear).
    * ``target``: ``M = umeyama(control points, regular nodes)[:2]`` with node ``(i, j)`` at
      ``(j*s/(g-1) - 0.5, i*s/(g-1) - 0.5)``, then :func:`opticore.warp_affine`. With
      ``noise=0`` on a square image both outputs are the same image up to interpolation rounding.
    * ``border_mode`` defaults to ``"replicate"`` (faceswap used OpenCV's constant 0): control
      points near the edge then never bring black corners into either output.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32, any layout.
        grid: control points per side, ``>= 2``.
        coverage: fraction of the width / height the control grid spans, ``> 0`` (may exceed 1).
        noise: jitter standard deviation as a fraction of the width (x) / height (y), ``>= 0``.
        out_size: side of both outputs, ``>= 1``.
        border_mode: ``"constant"``, ``"replicate"``, ``"reflect"`` or ``"reflect101"``.
        border_value: with ``"constant"``: a number (all channels) or one number per channel.
        return_matrix: also return ``M``.
        rng: ``None``, an ``int`` seed or a ``numpy.random.Generator`` (see the module docs).

    Returns:
        ``(warped, target)``, each ``(out_size, out_size[, C])`` with the image's dtype; with
        ``return_matrix=True`` also ``M``, ``(2, 3)`` float64, image -> target pixel coordinates.

    Raises:
        TypeError: a wrong image dtype, non-integer ``grid`` / ``out_size``, a bad ``rng`` type.
        ValueError: out-of-range arguments or a wrong image shape, naming the argument; outputs or
            buffers above 4 GiB (naming ``out_size`` or ``grid``); a jittered grid with no
            invertible similarity (``coverage`` or ``noise`` around ``1e300``), naming both.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
        >>> warped, target = opticore.random_warp(img, rng=42)
        >>> warped.shape, target.shape, warped.dtype
        ((64, 64, 3), (64, 64, 3), dtype('uint8'))
        >>> bool(np.array_equal(opticore.random_warp(img, rng=42)[0], warped))  # same seed
        True
    """
    grid = integer(grid, "grid", low=2)
    out_size = integer(out_size, "out_size", low=1)
    coverage = real(coverage, "coverage", low=0.0, low_open=True)
    noise = _fraction(noise, "noise")
    _border_mode_arg(border_mode)
    return_matrix = boolean(return_matrix, "return_matrix")
    # The sizes the core would refuse, refused before anything is drawn or allocated.
    _core.check_array_size("grid", (2, grid, grid), 8)  # the jitter
    _core.check_array_size("out_size", (2, out_size, out_size), 4)  # the dense maps
    gen = _generator(rng)
    image = as_array(image)
    jitter = gen.normal(size=(2, grid, grid))
    warped, target, M = _core.random_warp(image, jitter, grid, coverage, noise, out_size, border_mode, border_value)
    return (warped, target, M) if return_matrix else (warped, target)


def random_transform(
    image: np.ndarray,
    *,
    rotation: float = 10.0,
    zoom: float = 0.05,
    shift: float = 0.05,
    flip_prob: float = 0.5,
    border_mode: BorderMode = "replicate",
    border_value: BorderValue = 0,
    rng: RngLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random rotation, zoom, shift and horizontal flip as ONE affine warp; returns ``(out, M)``.

    faceswap's ``random_transform``, with the flip composed into the matrix so that ``M`` says
    exactly where every input pixel went (landmarks follow: ``pts @ M[:, :2].T + M[:, 2]``).
    The output has the input's size, dtype and layout kind (bilinear, :func:`opticore.warp_affine`).

    Convention (``W x H`` image, centre ``c = ((W-1)/2, (H-1)/2)``, pixel centres at integers):

    * Draws, in this order, always all five: ``angle = rng.uniform(-rotation, rotation)``
      (degrees, positive = counter-clockwise on screen, as ``cv2.getRotationMatrix2D``),
      ``scale = rng.uniform(1 - zoom, 1 + zoom)``, ``tx = rng.uniform(-shift, shift) * W``,
      ``ty = rng.uniform(-shift, shift) * H``, ``flip = rng.random() < flip_prob``.
    * ``M = cv2.getRotationMatrix2D(c, angle, scale)`` with ``(tx, ty)`` added to its last column;
      if ``flip``, ``x -> W - 1 - x`` is applied after it (first row negated, ``W - 1`` added).
    * A flip mirrors the content: a left-eye landmark lands where a right eye is expected, so
      the caller must also swap left/right landmark indices (``M`` moves the points, not their
      meaning).

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32, any layout.
        rotation: maximum absolute angle in degrees, ``>= 0``.
        zoom: maximum relative scale change, in ``[0, 1)``.
        shift: maximum translation as a fraction of the width (x) / height (y), ``>= 0``.
        flip_prob: probability of a horizontal flip, in ``[0, 1]``.
        border_mode: ``"constant"``, ``"replicate"``, ``"reflect"`` or ``"reflect101"``.
        border_value: with ``"constant"``: a number (all channels) or one number per channel.
        rng: ``None``, an ``int`` seed or a ``numpy.random.Generator`` (see the module docs).

    Returns:
        ``out`` with the image's shape and dtype, and ``M``, ``(2, 3)`` float64, input -> output
        pixel coordinates.

    Raises:
        TypeError: a wrong image dtype, non-numeric arguments or a bad ``rng`` type.
        ValueError: out-of-range arguments or a wrong image shape, naming the argument.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.zeros((5, 5), dtype=np.uint8)
        >>> out, M = opticore.random_transform(img, rotation=0, zoom=0, shift=0, flip_prob=1, rng=0)
        >>> M  # the mirror x -> 4 - x
        array([[-1.,  0.,  4.],
               [ 0.,  1.,  0.]])
    """
    rotation = _fraction(rotation, "rotation")
    zoom = _fraction(zoom, "zoom", high=1.0)
    shift = _fraction(shift, "shift")
    flip_prob = _fraction(flip_prob, "flip_prob", high=1.0, high_open=False)
    _border_mode_arg(border_mode)
    gen = _generator(rng)
    image = as_array(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image: expected shape (H, W) or (H, W, C), got {image.shape}")
    h, w = image.shape[:2]
    angle = gen.uniform(-rotation, rotation)
    scale = gen.uniform(1.0 - zoom, 1.0 + zoom)
    tx = gen.uniform(-shift, shift) * w
    ty = gen.uniform(-shift, shift) * h
    flip = gen.random() < flip_prob

    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    a = math.radians(angle)
    alpha, beta = scale * math.cos(a), scale * math.sin(a)
    M = np.array([[alpha, beta, (1.0 - alpha) * cx - beta * cy + tx],
                  [-beta, alpha, beta * cx + (1.0 - alpha) * cy + ty]])
    if flip:
        M[0] = -M[0]
        M[0, 2] += w - 1
    M += 0.0  # no negative zeros
    out = warp_affine(image, M, (w, h), border_mode=border_mode, border_value=border_value)
    return out, M
