"""Point-set alignment: Umeyama similarity estimation (single and batched) and face templates.

Convention: points are rows ``(x, y)`` (or ``(x, y, z)``); the returned homogeneous matrix maps
``src`` to ``dst`` (``dst ~ M @ [x, y, 1]``), exactly as ``skimage.transform.SimilarityTransform``.
Its top two rows are the 2x3 matrix that ``cv2.warpAffine`` / ``opticore.warp_affine`` take.
"""

from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["ARCFACE_112", "arcface_template", "landmarks_to_5", "mean_shape68", "umeyama"]


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def arcface_template(size: int = 112) -> np.ndarray:
    """The ArcFace / insightface 5-point template for a ``size x size`` crop.

    Points, in order: left eye, right eye, nose tip, left mouth corner, right mouth corner
    ("left" = image left), ``(x, y)`` pixels with centres at integer coordinates. Sizes that are
    multiples of 112 scale the 112 template; other sizes follow insightface's ``norm_crop`` rule:
    scale by ``size / 128`` and shift x by ``8 * size / 128``.

    Returns:
        float64 ``(5, 2)``.

    Example:
        >>> import opticore
        >>> opticore.arcface_template(224)[0]
        array([ 76.5892, 103.3926])
    """
    return _core.arcface_template(int(size))


def mean_shape68(size: int = 112) -> np.ndarray:
    """Mean shape of the 68 iBUG-300W landmarks (OpenFace's dlib mean), min-max scaled to fill a
    ``size x size`` crop: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67.

    Returns:
        float64 ``(68, 2)`` ``(x, y)`` pixels.

    Example:
        >>> import opticore
        >>> opticore.mean_shape68(100).min(axis=0), opticore.mean_shape68(100).max(axis=0)
        (array([0., 0.]), array([100., 100.]))
    """
    return _core.mean_shape68(int(size))


#: The ArcFace 5-point template for 112 x 112 crops (read-only), see :func:`arcface_template`.
ARCFACE_112: np.ndarray = _read_only(arcface_template(112))

# Which landmarks make the 5 points (left eye, right eye, nose tip, mouth corners) per scheme.
# Each entry is a list of index groups; a group's points are averaged.
_FIVE_POINTS = {
    5: [[0], [1], [2], [3], [4]],
    68: [list(range(36, 42)), list(range(42, 48)), [30], [48], [54]],  # iBUG 300-W: eye contours
    98: [[96], [97], [54], [76], [82]],  # WFLW: pupils 96/97, nose tip 54, mouth corners 76/82
}


def landmarks_to_5(landmarks: np.ndarray) -> np.ndarray:
    """Reduce 68-point (iBUG 300-W) or 98-point (WFLW) landmarks to the 5 ArcFace points.

    68 points: eye centres are the means of the eye contours (36-41, 42-47), nose tip 30, mouth
    corners 48 and 54. 98 points: pupils 96 and 97, nose tip 54, mouth corners 76 and 82.
    5 points pass through.

    Args:
        landmarks: ``(K, 2)`` or ``(F, K, 2)`` with K in {5, 68, 98}.

    Returns:
        float64 ``(5, 2)`` or ``(F, 5, 2)``.

    Example:
        >>> import opticore
        >>> opticore.landmarks_to_5(opticore.mean_shape68(112)).shape
        (5, 2)
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.ndim not in (2, 3) or pts.shape[-1] != 2 or pts.shape[-2] not in _FIVE_POINTS:
        raise ValueError(f"landmarks: expected shape (K, 2) or (F, K, 2) with K in 5, 68, 98, got {pts.shape}")
    return np.stack([pts[..., group, :].mean(axis=-2) for group in _FIVE_POINTS[pts.shape[-2]]], axis=-2)


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
