"""The face pipelines of opticore's C++ runtime: landmarks, liveness, and both with alignment.

Each runs exported packages (``.pt2``) through :class:`opticore.runtime.Runner`'s C++ runner,
with the crops made by opticore's geometry operators in C++, batched over the faces, the GIL
released. The conventions (BGR uint8 images, ``x1, y1, x2, y2`` face boxes, crop rules, input
scaling) are those of opticore's PFLD and MiniFASNet training; the C++ headers
``opticore/runtime/{landmark_detector,liveness_detector,face_pipeline}.hpp`` state them in full.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from .._args import as_array, float_array, integer, real

__all__ = ["FacePipeline", "LandmarkDetector", "LivenessDetector"]

PathLike = Union[str, "os.PathLike[str]"]


def _image(image: Any) -> np.ndarray:
    a = as_array(image)
    if a.dtype != np.uint8:
        raise TypeError(f"image: expected uint8, got {a.dtype}")
    if a.ndim != 3 or a.shape[2] != 3 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"image: expected a non-empty (H, W, 3) image, got shape {a.shape}")
    return np.ascontiguousarray(a)


def _boxes(boxes: Any) -> np.ndarray:
    b = float_array(boxes, "boxes")
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"boxes: expected shape (F, 4) (x1, y1, x2, y2), got {b.shape}")
    return np.ascontiguousarray(b, dtype=np.float64)


def _path(path: Any, name: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a file path, got {type(path).__name__}")
    return os.fspath(path)


def _threads(num_threads: Optional[int]) -> int:
    return 0 if num_threads is None else integer(num_threads, "num_threads", low=1)


class LandmarkDetector:
    """Face boxes to landmarks with an exported PFLD-like package.

    Each face is cropped to the package's ``S x S`` input (a square of side
    ``max(w, h) * (1 + 2 * margin)`` centred on the box, bilinear, border 0), fed as float32
    ``CHW / 255``, and the model's points (crop units ``u``, crop pixel ``u * S - 0.5``) are mapped
    back to the image. Same result as :func:`opticore.face_landmarks.predict_landmarks` with the
    eager model.

    Args:
        path: the package (``opticore export pfld ... --format pt2``); its input must be
            ``float32[B, 3, S, S]``, its output ``(B, K, 2)``.
        device: ``"cpu"`` or ``"cuda[:N]"`` (the package's device).
        num_threads: torch's process-wide intra-op threads, when given.
        margin: the crop margin the model was trained with; None takes the package's
            ``opticore.margin`` metadata, else 0.2.

    Example:
        >>> import opticore.runtime
        >>> detector = opticore.runtime.LandmarkDetector("pfld.pt2")  # doctest: +SKIP
        >>> detector(image, [[50, 40, 150, 160]]).shape                # doctest: +SKIP
        (1, 98, 2)
    """

    def __init__(self, path: PathLike, device: str = "cpu", *, num_threads: Optional[int] = None,
                 margin: Optional[float] = None):
        from . import _module

        m = -1.0 if margin is None else real(margin, "margin", low=0.0, high=10.0)
        self._detector = _module().LandmarkDetector(_path(path, "path"), device, _threads(num_threads), m)

    @property
    def margin(self) -> float:
        return float(self._detector.margin)

    @property
    def crop_size(self) -> int:
        return int(self._detector.crop_size)

    def __call__(self, image: np.ndarray, boxes: Any) -> np.ndarray:
        """Landmarks of the faces in ``boxes``.

        Args:
            image: ``(H, W, 3)`` uint8 in the model's channel order (opticore's models: BGR).
            boxes: ``(F, 4)`` ``x1, y1, x2, y2`` around each face's landmarks (``F`` may be 0).

        Returns:
            float64 ``(F, K, 2)`` ``(x, y)`` image pixels (``(0, 0, 2)`` for no faces).
        """
        return np.asarray(self._detector.detect(_image(image), _boxes(boxes)))


class LivenessDetector:
    """Face boxes to live probabilities with one or more exported MiniFASNet-like packages.

    For each model, each face box is enlarged by the model's scale into a context crop
    (:func:`opticore.face_crop_boxes`' rule with ``(x1, y1, x2 - x1, y2 - y1)``), resized to the
    package's input like :func:`opticore.crop_face`, fed as float32 ``CHW / 255``; the result is
    the mean over the models of ``softmax(logits)[:, live_class]`` (Silent-Face's fusion).

    Args:
        models: one package path, or ``(path, scale)`` pairs; a path alone takes the scale from
            the package's ``opticore.scale`` metadata, else 2.7.
        device: ``"cpu"`` or ``"cuda[:N]"``.
        num_threads: torch's process-wide intra-op threads, when given.
        live_class: the class index of a live face (1 in opticore's 3-class convention).

    Example:
        >>> import opticore.runtime
        >>> detector = opticore.runtime.LivenessDetector([("v2.pt2", 2.7), ("v1se.pt2", 4.0)])  # doctest: +SKIP
        >>> detector(image, [[50, 40, 150, 160]])                                             # doctest: +SKIP
        array([0.93], dtype=float32)
    """

    def __init__(self, models: Union[PathLike, Sequence[Union[PathLike, Tuple[PathLike, float]]]],
                 device: str = "cpu", *, num_threads: Optional[int] = None, live_class: int = 1):
        from . import _module

        entries = [models] if isinstance(models, (str, os.PathLike)) else list(models)
        if not entries:
            raise ValueError("models: expected at least one package")
        pairs = []
        for i, entry in enumerate(entries):
            if isinstance(entry, (tuple, list)):
                if len(entry) != 2:
                    raise ValueError(f"models[{i}]: expected a path or (path, scale), got {entry!r}")
                pairs.append((_path(entry[0], f"models[{i}]"),
                              real(entry[1], f"models[{i}] scale", low=0.0, low_open=True)))
            else:
                pairs.append((_path(entry, f"models[{i}]"), 0.0))
        self._detector = _module().LivenessDetector(pairs, device, _threads(num_threads),
                                                    integer(live_class, "live_class", low=0))

    @property
    def scales(self) -> Tuple[float, ...]:
        """Each model's crop scale."""
        return tuple(self._detector.scales)

    def __call__(self, image: np.ndarray, boxes: Any) -> np.ndarray:
        """Live probability of each face.

        Args:
            image: ``(H, W, 3)`` uint8 in the models' channel order (opticore's: BGR).
            boxes: ``(F, 4)`` ``x1, y1, x2, y2`` face boxes.

        Returns:
            float32 ``(F,)`` in ``[0, 1]``.
        """
        return np.asarray(self._detector.live_probability(_image(image), _boxes(boxes)))


class FacePipeline:
    """Face boxes to landmarks, aligned crops and (optionally) live probabilities, in one C++ call.

    The landmarks (:class:`LandmarkDetector`; 68 or 98 points) are reduced to the five ArcFace
    points (:func:`opticore.landmarks_to_5`) and each face is aligned onto the ArcFace template
    of an ``aligned_size`` crop, as :func:`opticore.align_faces` does.

    Args:
        landmarks: a :class:`LandmarkDetector`.
        liveness: a :class:`LivenessDetector`, or None.
        aligned_size: side of the aligned crops.

    Example:
        >>> import opticore.runtime as rt
        >>> landmarks, liveness = rt.LandmarkDetector("pfld.pt2"), rt.LivenessDetector("live.pt2")  # doctest: +SKIP
        >>> pipeline = rt.FacePipeline(landmarks, liveness)  # doctest: +SKIP
        >>> faces = pipeline(image, [[50, 40, 150, 160]])  # doctest: +SKIP
        >>> faces["aligned"].shape, faces["live"].shape    # doctest: +SKIP
        ((1, 112, 112, 3), (1,))
    """

    def __init__(self, landmarks: LandmarkDetector, liveness: Optional[LivenessDetector] = None, *,
                 aligned_size: int = 112):
        from . import _module

        if not isinstance(landmarks, LandmarkDetector):
            raise TypeError(f"landmarks: expected a LandmarkDetector, got {type(landmarks).__name__}")
        if liveness is not None and not isinstance(liveness, LivenessDetector):
            raise TypeError(f"liveness: expected a LivenessDetector or None, got {type(liveness).__name__}")
        size = integer(aligned_size, "aligned_size", low=1, high=4096)
        self._pipeline = _module().FacePipeline(landmarks._detector, None if liveness is None else liveness._detector,
                                                size)

    def __call__(self, image: np.ndarray, boxes: Any) -> Dict[str, Optional[np.ndarray]]:
        """Run the pipeline on the faces in ``boxes``.

        Args:
            image: ``(H, W, 3)`` uint8 in the models' channel order (opticore's: BGR).
            boxes: ``(F, 4)`` ``x1, y1, x2, y2`` face boxes.

        Returns:
            ``{"landmarks": float64 (F, K, 2), "aligned": uint8 (F, S, S, 3), "matrices": float64
            (F, 2, 3) image -> aligned crop, "live": float32 (F,) or None}``. A face whose
            landmarks are degenerate gets a NaN matrix and a zero crop.
        """
        return dict(self._pipeline.run(_image(image), _boxes(boxes)))
