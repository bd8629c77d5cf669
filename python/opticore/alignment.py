"""Point-set alignment: Umeyama similarity estimation (single and batched).

Convention: points are rows ``(x, y)`` (or ``(x, y, z)``); the returned homogeneous matrix maps
``src`` to ``dst`` (``dst ~ M @ [x, y, 1]``), exactly as ``skimage.transform.SimilarityTransform``.
Its top two rows are the 2x3 matrix that ``cv2.warpAffine`` / ``opticore.warp_affine`` take.
"""

from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["umeyama"]


def umeyama(src: np.ndarray, dst: np.ndarray, *, estimate_scale: bool = True) -> np.ndarray:
    """Least-squares similarity (or rigid) transform mapping ``src`` onto ``dst`` (Umeyama 1991).

    Minimises ``sum ||dst_i - (c R src_i + t)||^2`` over scale ``c``, rotation ``R`` (a proper
    rotation: reflections in the data are resolved by the determinant sign, as in the paper) and
    translation ``t``.

    Args:
        src: ``(N, D)`` points, or ``(B, N, D)`` for B independent sets; float32 or float64.
        dst: same shape as ``src``.
        estimate_scale: False fixes ``c = 1`` (a rigid transform, like ``EuclideanTransform``).

    Returns:
        float64 ``(D+1, D+1)`` homogeneous matrix ``[[c R, t], [0, 1]]``, or ``(B, D+1, D+1)``.

    Raises:
        ValueError: shapes differ, non-finite points, or (single set only) degenerate sets:
            ``src`` or ``dst`` spans fewer than D - 1 dimensions (all points equal; collinear
            in 3-D), so the rotation is not determined. In batch mode a
            degenerate set gets an all-NaN matrix instead, so one bad face does not fail a batch.

    Example:
        >>> import numpy as np, opticore
        >>> src = np.array([[0, 0], [1, 0], [0, 1]], np.float64)
        >>> opticore.umeyama(src, 2 * src + [3, 4]).round(6)
        array([[2., 0., 3.],
               [0., 2., 4.],
               [0., 0., 1.]])
    """
    return _core.umeyama(np.asarray(src), np.asarray(dst), estimate_scale=bool(estimate_scale))
