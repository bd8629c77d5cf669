"""Tracking sequences: the :class:`Sequence` container, and real data: photographs (scikit-image's
built-in ones or files), videos or folders of frames, and OTB ground truth.

Box convention: ``(x, y, w, h)`` float64, as ``cv2.Tracker`` and OTB files: the box covers the
pixels ``x .. x + w - 1`` and ``y .. y + h - 1``; with OpenCV's pixel centres at integer
coordinates its centre is ``(x + (w - 1) / 2, y + (h - 1) / 2)``.

Sequences filmed by a virtual camera over a photograph, with exact ground truth, are in
:mod:`opticore.eval.tracking.synthetic`.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, List, Optional, Tuple, Union

import numpy as np

if TYPE_CHECKING:
    from .synthetic import Camera

__all__ = ["BUILTIN_IMAGES", "Sequence", "load_image", "load_otb", "load_video", "read_otb_groundtruth"]

#: scikit-image sample photographs that ship inside its wheel (no download) and their targets
#: ``(x, y, w, h)`` in the photograph; ``None`` means :func:`~opticore.eval.tracking.pick_target` chooses one.
BUILTIN_IMAGES = {
    "astronaut": (177.0, 66.0, 95.0, 95.0),  # the face, as OpenCV's Haar cascade finds it
    "coffee": None,
    "chelsea": None,
    "rocket": None,
    "camera": None,
}

Box = Tuple[float, float, float, float]


@dataclass


class Sequence:
    """A video with (optional) ground truth.

    Attributes:
        name: a short unique name, e.g. ``"astronaut-scale"``.
        groundtruth: ``(T, 4)`` float64 ``x, y, w, h`` per frame (NaN rows: target not annotated),
            or ``None`` when unknown (a user's video without a ground-truth file).
        make_frames: called by :meth:`frames`; returns an iterator of ``(H, W, 3)`` uint8 BGR frames.
        kind: the motion kind (one of :data:`~opticore.eval.tracking.MOTIONS`), or ``"video"``.
        fps: the frame rate to write videos with.
        init_box: the box to start a tracker with; default the first ground-truth box.
        camera: the synthetic camera (``None`` for a video).

    Example:
        >>> from opticore.eval.tracking import synthetic_sequence, load_image
        >>> seq = synthetic_sequence(load_image("astronaut"), (177, 66, 95, 95), "scale", frames=5)
        >>> len(seq), seq.groundtruth.shape, next(seq.frames()).shape
        (5, (5, 4), (240, 320, 3))
    """

    name: str
    groundtruth: Optional[np.ndarray]
    make_frames: Callable[[], Iterator[np.ndarray]] = field(repr=False)
    kind: str = "video"
    fps: float = 30.0
    init_box: Optional[Box] = None
    camera: Optional[Camera] = field(default=None, repr=False)

    def frames(self) -> Iterator[np.ndarray]:
        """A fresh iterator over the frames, ``(H, W, 3)`` uint8 BGR."""
        return self.make_frames()

    def __len__(self) -> int:
        if self.groundtruth is None:
            raise TypeError(f"sequence {self.name!r}: length unknown without ground truth")
        return len(self.groundtruth)

    def first_box(self) -> Box:
        """The box a tracker starts from: :attr:`init_box`, else the first ground-truth box."""
        if self.init_box is not None:
            return self.init_box
        if self.groundtruth is None or not np.isfinite(self.groundtruth[0]).all():
            raise ValueError(f"sequence {self.name!r}: no initial box (first ground-truth row missing)")
        return tuple(float(v) for v in self.groundtruth[0])  # type: ignore[return-value]


def _bgr(image: np.ndarray) -> np.ndarray:
    """Any skimage / file image as ``(H, W, 3)`` uint8 (grey replicated, alpha dropped)."""
    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img * (255.0 if img.dtype.kind == "f" and img.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] < 3:
        raise ValueError(f"image: expected (H, W), (H, W, 3) or (H, W, 4), got shape {img.shape}")
    return np.ascontiguousarray(img[:, :, :3])


def load_image(name_or_path: str) -> np.ndarray:
    """A photograph as ``(H, W, 3)`` uint8 **BGR**: a :data:`BUILTIN_IMAGES` name or a file path.

    Built-in names load from scikit-image's wheel (never downloaded); files are read with OpenCV
    (or Pillow when OpenCV is missing). Grey images are replicated to 3 channels.

    Raises:
        FileNotFoundError: the path does not exist or cannot be decoded.

    Example:
        >>> from opticore.eval.tracking import load_image
        >>> load_image("coffee").shape
        (400, 600, 3)
    """
    if name_or_path in BUILTIN_IMAGES:
        import skimage.data

        rgb = _bgr(getattr(skimage.data, name_or_path)())
        return np.ascontiguousarray(rgb[:, :, ::-1])
    if not os.path.isfile(name_or_path):
        raise FileNotFoundError(f"image: no such file {name_or_path!r} (built-in names: {', '.join(BUILTIN_IMAGES)})")
    try:
        import cv2

        img = cv2.imread(name_or_path, cv2.IMREAD_COLOR)
    except ImportError:
        from PIL import Image

        img = np.asarray(Image.open(name_or_path).convert("RGB"))[:, :, ::-1]
    if img is None:
        raise FileNotFoundError(f"image: cannot decode {name_or_path!r}")
    return _bgr(img)


def read_otb_groundtruth(path: str) -> np.ndarray:
    """Read an OTB ground-truth file: one ``x,y,w,h`` per line (commas, tabs or spaces).

    Empty lines are skipped; ``NaN`` is allowed (a frame without annotation). OTB files are
    1-based in MATLAB, but trackers and the OTB toolkit use the numbers as they are, and so do we.

    Returns:
        ``(T, 4)`` float64.

    Raises:
        ValueError: a line that is not four numbers (its number is in the message).

    Example:
        >>> import tempfile, os
        >>> from opticore.eval.tracking import read_otb_groundtruth
        >>> p = os.path.join(tempfile.mkdtemp(), "gt.txt")
        >>> _ = open(p, "w").write("1,2,3,4\\n5\\t6\\t7\\t8\\n")
        >>> read_otb_groundtruth(p)
        array([[1., 2., 3., 4.],
               [5., 6., 7., 8.]])
    """
    rows = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = [v for v in re.split(r"[,\s]+", line.strip()) if v]
            if not fields:
                continue
            try:
                values = [float(v) for v in fields]
            except ValueError:
                values = []
            if len(values) != 4:
                raise ValueError(f"{path}:{number}: expected 4 numbers x,y,w,h, got {line.strip()!r}")
            rows.append(values)
    if not rows:
        raise ValueError(f"{path}: no boxes")
    return np.asarray(rows, dtype=np.float64)


_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def _image_files(folder: str) -> List[str]:
    if os.path.isdir(os.path.join(folder, "img")):  # the OTB layout: <seq>/img/0001.jpg
        folder = os.path.join(folder, "img")
    files = sorted(p for p in glob.glob(os.path.join(folder, "*")) if p.lower().endswith(_IMAGE_EXTS))
    if not files:
        raise FileNotFoundError(f"{folder}: no image files ({', '.join(_IMAGE_EXTS)})")
    return files


def load_video(source: Union[str, os.PathLike], groundtruth: Optional[Union[str, np.ndarray]] = None,
               name: Optional[str] = None) -> Sequence:
    """A video file or a folder of frames (sorted by name; an OTB ``img/`` subfolder is used) as a
    :class:`Sequence`, with optional ground truth (a file path or a ``(T, 4)`` array).

    Frames are read lazily with OpenCV, as ``(H, W, 3)`` uint8 BGR (grey frames are converted).
    With ground truth, the sequence has exactly as many frames as ground-truth rows (extra frames
    are not read). Without it, ``groundtruth`` is None and every frame is read.

    Raises:
        FileNotFoundError: ``source`` does not exist or cannot be opened.
        ValueError: the video is shorter than its ground truth, or a bad ground-truth file.

    Example:
        >>> from opticore.eval.tracking import load_video
        >>> load_video("clip.mp4", "groundtruth_rect.txt")  # doctest: +SKIP
    """
    import cv2

    path = os.fspath(source)
    gt = None
    if groundtruth is not None:
        gt = (read_otb_groundtruth(os.fspath(groundtruth)) if isinstance(groundtruth, (str, os.PathLike))
              else np.asarray(groundtruth, dtype=np.float64).reshape(-1, 4))
    limit = None if gt is None else len(gt)
    fps = 30.0
    if os.path.isdir(path):
        files = _image_files(path)
        if limit is not None and len(files) < limit:
            raise ValueError(f"{path}: {len(files)} frames but {limit} ground-truth boxes")

        def make_frames() -> Iterator[np.ndarray]:
            for f in files[:limit]:
                frame = cv2.imread(f, cv2.IMREAD_COLOR)
                if frame is None:
                    raise ValueError(f"{f}: cannot decode")
                yield frame
    else:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"video: no such file or folder {path!r}")
        cap = cv2.VideoCapture(path)
        ok, _ = cap.read()
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0) or 30.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        cap.release()
        if not ok:
            raise FileNotFoundError(f"video: cannot read a frame from {path!r}")
        if limit is not None and 0 < count < limit:
            raise ValueError(f"{path}: {count} frames but {limit} ground-truth boxes")

        def make_frames() -> Iterator[np.ndarray]:
            cap = cv2.VideoCapture(path)
            try:
                i = 0
                while limit is None or i < limit:
                    ok, frame = cap.read()
                    if not ok:
                        if limit is not None:
                            raise ValueError(f"{path}: only {i} frames but {limit} ground-truth boxes")
                        return
                    yield frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                    i += 1
            finally:
                cap.release()

    label = name or os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    return Sequence(label, gt, make_frames, kind="video", fps=fps)


def load_otb(source: Union[str, os.PathLike], groundtruth: Union[str, os.PathLike],
             name: Optional[str] = None) -> Sequence:
    """An OTB-format sequence: a video file or a folder of frames, and its ground-truth text file.

    Same as :func:`load_video` with the ground truth required.

    Example:
        >>> from opticore.eval.tracking import load_otb
        >>> seq = load_otb("OTB100/Dog1", "OTB100/Dog1/groundtruth_rect.txt")  # doctest: +SKIP
    """
    return load_video(source, groundtruth, name)
