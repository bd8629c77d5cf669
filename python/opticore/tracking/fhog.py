"""FHOG features (Felzenszwalb et al. 2010, as computed by Piotr Dollar's toolbox ``fhog``): the
31-channel HOG variant that the KCF tracker (Henriques et al. 2015) correlates."""

from __future__ import annotations

import numpy as np

from .. import _core

__all__ = ["fhog"]


def fhog(image: np.ndarray, cell_size: int = 4) -> np.ndarray:
    """Felzenszwalb's HOG features of an image, one 31-vector per ``cell_size x cell_size`` cell.

    Computed as Piotr Dollar's ``fhog(single(image), cell_size, 9, 0.2)`` (the KCF tracker's
    features), without its 32nd, all-zero channel.

    Convention:
        * Gradients are centred differences ``(I[x+1] - I[x-1]) / 2`` (one-sided
          ``I[1] - I[0]`` at the image border, 0 along an axis of length 1); with several
          channels the one with the largest gradient magnitude wins at each pixel (the first one
          on ties).
        * Orientation ``atan2(dy, dx)`` in ``[0, 2 pi)``, ``dx`` along columns, ``dy`` down the
          rows, goes to the NEAREST of 18 bins centred at ``k * 20`` degrees (no interpolation
          between orientations, as in Dollar's fhog); exactly 90 / 270 degrees go to bins 5 / 14.
        * Cell grid: ``rows = H // cell_size``, ``cols = W // cell_size``; the last
          ``H % cell_size`` rows and ``W % cell_size`` columns do not vote (they are still read as
          gradient neighbours). Each pixel votes ``magnitude / cell_size**2`` into the 4 cells
          around it with bilinear weights (its position in cell units is
          ``(x + 0.5) / cell_size - 0.5``); the first and last cell rows and columns are then
          scaled by 8/7 (corners twice), Dollar's correction for their missing outer neighbours.
        * Each 2x2 block of cells has the norm ``1 / sqrt(E + 1e-4 / (4 cell_size**4))``, ``E``
          the sum over its 4 cells of the squared 9-bin contrast-insensitive histogram. Every cell
          is normalised by the 4 blocks that contain it (the nearest block at the grid edge; an
          axis with a single cell has one block counting that cell twice), and each normalised
          value is truncated at 0.2.
        * Channels (last axis): ``0..17`` contrast-sensitive orientations ``k * 20`` degrees,
          ``18..26`` contrast-insensitive orientations ``k * 20`` degrees modulo 180 (both: 0.5 x
          the sum of the 4 normalisations), ``27..30`` texture (0.2357 x the sum over the 18
          sensitive orientations) for the blocks covering cell rows/cols ``(r..r+1, c..c+1)``,
          ``(r-1..r, c..c+1)``, ``(r..r+1, c-1..c)``, ``(r-1..r, c-1..c)``.

    Args:
        image: ``(H, W)`` or ``(H, W, C)``, ``C`` in 1..4, uint8 or float32 on the 0..255 scale
            (a float32 copy of a uint8 image gives the same features); any memory layout
            (slices, negative strides) is read in place.
        cell_size: cell side in pixels, ``>= 1``; ``H`` and ``W`` must be at least ``cell_size``.

    Returns:
        ``(H // cell_size, W // cell_size, 31)`` float32, C-contiguous.

    Raises:
        TypeError: ``image`` is not uint8 / float32, or ``cell_size`` is not an integer.
        ValueError: wrong ``image`` shape or channels, NaN or inf in a float32 ``image`` (it would
            turn into finite features), ``cell_size < 1``, or an image smaller than one cell.

    Example:
        >>> import numpy as np, opticore
        >>> img = np.zeros((32, 48), dtype=np.uint8)
        >>> img[:, 24:] = 255  # a vertical step edge: horizontal gradient, orientation 0 degrees
        >>> feat = opticore.fhog(img, cell_size=8)
        >>> feat.shape, feat.dtype
        ((4, 6, 31), dtype('float32'))
        >>> int(feat[1, 2, :18].argmax()), int(feat[1, 2, 18:27].argmax())
        (0, 0)
        >>> float(feat[1, 0].max())  # far from the edge: no gradient, all zero
        0.0
    """
    if isinstance(cell_size, bool) or not isinstance(cell_size, (int, np.integer)):
        raise TypeError(f"cell_size: expected an int, got {type(cell_size).__name__}")
    array = image if isinstance(image, np.ndarray) else np.asarray(image)
    return _core.fhog(array, int(cell_size))
