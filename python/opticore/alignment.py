"""Point-set alignment: Umeyama similarity estimation (single and batched) and face templates.

Convention: points are rows ``(x, y)`` (or ``(x, y, z)``); the returned homogeneous matrix maps
``src`` to ``dst`` (``dst ~ M @ [x, y, 1]``), exactly as ``skimage.transform.SimilarityTransform``.
Its top two rows are the 2x3 matrix that ``cv2.warpAffine`` / ``opticore.warp_affine`` take.
"""

from __future__ import annotations

from typing import Literal, Tuple, Union

import numpy as np

from . import _core
from ._args import boolean, float_array, integer

__all__ = [
    "ARCFACE_112",
    "align_face",
    "align_faces",
    "arcface_template",
    "landmarks_to_5",
    "mean_shape68",
    "umeyama",
]


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
    return _core.arcface_template(integer(size, "size", low=1))


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
    return _core.mean_shape68(integer(size, "size", low=1))


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
    pts = float_array(landmarks, "landmarks")
    if pts.ndim not in (2, 3) or pts.shape[-1] != 2 or pts.shape[-2] not in _FIVE_POINTS:
        raise ValueError(f"landmarks: expected shape (K, 2) or (F, K, 2) with K in 5, 68, 98, got {pts.shape}")
    return np.stack([pts[..., group, :].mean(axis=-2) for group in _FIVE_POINTS[pts.shape[-2]]], axis=-2)


def umeyama(src: np.ndarray, dst: np.ndarray, *, estimate_scale: bool = True) -> np.ndarray:
    """Least-squares similarity (or rigid) transform mapping ``src`` onto ``dst`` (Umeyama 1991).

    Minimises ``sum ||dst_i - (c R src_i + t)||^2`` over scale ``c``, rotation ``R`` (a proper
    rotation: reflections in the data are resolved by the determinant sign, as in the paper) and
    translation ``t``.

    Args:
        src: ``(N, D)`` points, or ``(B, N, D)`` for B independent sets; float32 or float64;
            ``D <= 64`` (the SVD costs ``O(D^3)``).
        dst: same shape as ``src``.
        estimate_scale: False fixes ``c = 1`` (a rigid transform, like ``EuclideanTransform``).

    Returns:
        float64 ``(D+1, D+1)`` homogeneous matrix ``[[c R, t], [0, 1]]``, or ``(B, D+1, D+1)``.

    Raises:
        ValueError: shapes differ, ``D > 64``, a ``(B, D+1, D+1)`` result above 4 GiB,
            non-finite points, or (single set only) degenerate sets:
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
    return _core.umeyama(np.asarray(src), np.asarray(dst), estimate_scale=boolean(estimate_scale, "estimate_scale"))


TemplateName = Literal["arcface", "mean68"]
Template = Union[TemplateName, np.ndarray]


def _template_points(template: Template, size: int, k: int) -> Tuple[np.ndarray, bool]:
    """Destination points for ``template`` and whether the landmarks must be reduced to 5."""
    if isinstance(template, str):
        if template == "arcface":
            return arcface_template(size), k != 5
        if template == "mean68":
            if k != 68:
                raise ValueError(f"landmarks: template 'mean68' needs 68 landmarks per face, got {k}")
            return mean_shape68(size), False
        raise ValueError(f"template: expected 'arcface', 'mean68' or a (K, 2) array, got {template!r}")
    points = float_array(template, "template")
    if points.shape != (k, 2):
        raise ValueError(f"template: expected shape ({k}, 2) like the landmarks, got {points.shape}")
    return points, False


def align_faces(
    image: np.ndarray, landmarks: np.ndarray, *, size: int = 112, template: Template = "arcface"
) -> Tuple[np.ndarray, np.ndarray]:
    """Crop and align several faces of one image onto a canonical template.

    For each face, the similarity transform mapping its landmarks onto the template is fitted
    with :func:`umeyama` (all faces in one batched call), and the face is warped with
    :func:`opticore.warp_affine` (bilinear, constant border 0) into a ``size x size`` crop --
    the same result as insightface's ``norm_crop`` (scikit-image estimate + ``cv2.warpAffine``).

    Args:
        image: ``H x W`` or ``H x W x C`` uint8 or float32 image.
        landmarks: ``(F, K, 2)`` ``(x, y)`` pixels; K = 5 (ArcFace order), 68 (iBUG) or 98 (WFLW).
        size: crop side in pixels.
        template: ``"arcface"`` (5 points; 68 / 98 landmarks are reduced with
            :func:`landmarks_to_5`), ``"mean68"`` (68 landmarks onto :func:`mean_shape68`), or
            a ``(K, 2)`` array of destination points.

    Returns:
        ``(crops, matrices)``: ``(F, size, size[, C])`` in the image's dtype, and float64
        ``(F, 2, 3)`` matrices mapping image to crop (``cv2.warpAffine`` convention). A face
        whose landmarks are degenerate (all equal) gets a NaN matrix and an all-zero crop.

    Raises:
        ValueError: non-finite landmarks, bad shapes or template, crops above 4 GiB (naming
            ``size``), or a face whose transform cannot be inverted.
        TypeError: non-numeric landmarks, a non-integer ``size``, a wrong image dtype.

    Example:
        >>> import numpy as np, opticore
        >>> image = np.zeros((256, 256, 3), np.uint8)
        >>> faces = np.stack([opticore.ARCFACE_112 + 40, opticore.ARCFACE_112 * 1.5])
        >>> crops, M = opticore.align_faces(image, faces)
        >>> crops.shape, M.shape
        ((2, 112, 112, 3), (2, 2, 3))
    """
    from .warp import warp_affine

    pts = float_array(landmarks, "landmarks")
    if pts.ndim != 3 or pts.shape[-1] != 2:
        raise ValueError(f"landmarks: expected shape (F, K, 2), got {pts.shape}")
    if not np.isfinite(pts).all():
        face, point = np.argwhere(~np.isfinite(pts).all(axis=-1))[0]
        bad = pts[face, point].tolist()
        raise ValueError(f"landmarks: expected finite coordinates, got {bad} (face {face}, point {point})")
    size = integer(size, "size", low=1)
    dst, reduce = _template_points(template, size, pts.shape[1])
    src = landmarks_to_5(pts) if reduce else pts
    matrices = umeyama(src, np.broadcast_to(dst, src.shape))[:, :2, :]
    image = np.asarray(image)
    crops_shape = (len(pts), size, size) + image.shape[2:]
    _core.check_array_size("size", crops_shape, image.dtype.itemsize)
    crops = np.zeros(crops_shape, dtype=image.dtype.newbyteorder("="))  # like warp_affine's output
    for face, (crop, m) in enumerate(zip(crops, matrices)):
        if not np.isfinite(m).all():
            continue
        try:
            crop[...] = warp_affine(image, m, (size, size))
        except ValueError as e:
            if not str(e).startswith("M:"):
                raise
            # Landmarks spread over ~1e300 pixels give a scale too small to invert.
            raise ValueError(f"landmarks: face {face} gives a transform that cannot be inverted ({m.tolist()})") from e
    return crops, matrices


def align_face(
    image: np.ndarray, landmarks: np.ndarray, *, size: int = 112, template: Template = "arcface"
) -> Tuple[np.ndarray, np.ndarray]:
    """Crop and align one face: :func:`align_faces` for a single ``(K, 2)`` set of landmarks.

    Returns:
        ``(crop, M)``: ``size x size[ x C]`` crop in the image's dtype and the float64 ``(2, 3)``
        matrix mapping image to crop.

    Raises:
        ValueError: degenerate landmarks (all equal), bad shapes or template.

    Example:
        >>> import numpy as np, opticore
        >>> image = np.zeros((200, 200), np.uint8)
        >>> crop, M = opticore.align_face(image, opticore.ARCFACE_112 * 1.2 + 10, size=112)
        >>> crop.shape, np.allclose(M, [[1 / 1.2, 0, -10 / 1.2], [0, 1 / 1.2, -10 / 1.2]])
        ((112, 112), True)
    """
    pts = float_array(landmarks, "landmarks")
    if pts.ndim != 2:
        raise ValueError(f"landmarks: expected shape (K, 2), got {pts.shape}")
    crops, matrices = align_faces(image, pts[None], size=size, template=template)
    if not np.isfinite(matrices[0]).all():
        raise ValueError("landmarks: degenerate (all points equal): the alignment is not determined")
    return crops[0], matrices[0]
