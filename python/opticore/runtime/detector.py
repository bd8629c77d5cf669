"""MTCNN face detection in opticore's C++ runtime: the three networks as ``.pt2`` packages
(:func:`export_mtcnn`), the cascade in C++ (``opticore::runtime::FaceDetector``).

The C++ cascade is :class:`opticore.FaceDetector`'s, step for step (the header
``opticore/runtime/face_detector.hpp`` states it in full), so both find the same faces; the
packages' float rounding differs from eager PyTorch's by about 1e-6, which moves a box by a few
thousandths of a pixel.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from .._args import choice, integer, real
from ..face_detection import Detections, Interpolation, _check_image, _unit_values

__all__ = ["FaceDetector", "export_mtcnn", "PACKAGES"]

PathLike = Union[str, "os.PathLike[str]"]
#: The package files :func:`export_mtcnn` writes and :class:`FaceDetector` reads from a folder.
PACKAGES = ("pnet.pt2", "rnet.pt2", "onet.pt2")


def export_mtcnn(folder: PathLike, weights: Optional[PathLike] = None) -> Tuple[str, str, str]:
    """Export MTCNN's three stages to AOTInductor packages ``pnet.pt2``, ``rnet.pt2``, ``onet.pt2``
    in ``folder`` (created if needed): :func:`opticore.models.mtcnn.export_stage` (dynamic batch
    up to 4096; P-Net's height and width 12 to 8192) compiled with
    ``torch._inductor.aoti_compile_and_package`` and the input specs of :func:`package_metadata`.

    Compiling needs a C++ compiler and takes 20 to 60 seconds per stage on a small CPU; the code is
    specialised to this machine's instruction set (export on, or for, the deployment CPU).

    Args:
        folder: where the packages go.
        weights: a folder with ``pnet.pt``, ``rnet.pt``, ``onet.pt``; None: facenet-pytorch's
            (:func:`opticore.models.mtcnn.load_mtcnn`).

    Returns:
        The three package paths.

    Example:
        >>> import opticore.runtime
        >>> paths = opticore.runtime.export_mtcnn("mtcnn")  # doctest: +SKIP
        >>> [os.path.basename(p) for p in paths]            # doctest: +SKIP
        ['pnet.pt2', 'rnet.pt2', 'onet.pt2']
    """
    import torch

    from ..models.mtcnn import export_stage, load_mtcnn
    from . import package_metadata

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for module, name in zip(load_mtcnn(weights), PACKAGES):
        program = export_stage(module)
        path = str(out / name)
        torch._inductor.aoti_compile_and_package(
            program, package_path=path, inductor_configs={"aot_inductor.metadata": package_metadata(program)})
        paths.append(path)
    return paths[0], paths[1], paths[2]


def _package_paths(packages: Any) -> List[str]:
    if isinstance(packages, (str, os.PathLike)):
        folder = Path(packages)
        if not folder.is_dir():
            raise ValueError(f"packages: expected a folder holding {', '.join(PACKAGES)} "
                             f"(opticore.runtime.export_mtcnn), got {str(folder)!r}")
        return [str(folder / name) for name in PACKAGES]
    if isinstance(packages, (list, tuple)) and len(packages) == 3 and \
            all(isinstance(p, (str, os.PathLike)) for p in packages):
        return [os.fspath(p) for p in packages]
    raise TypeError(f"packages: expected a folder or (pnet, rnet, onet) package paths, got {packages!r}")


class FaceDetector:
    """MTCNN face detector with the stages as ``.pt2`` packages, run in C++:
    ``detector(image)`` -> :class:`opticore.face_detection.Detections`.

    The same detector as :class:`opticore.FaceDetector` (same options, defaults and images taken;
    see it), with the pyramid, crops, normalisation, NMS and box arithmetic in C++, the GIL
    released for the whole detection.

    Args:
        packages: a folder holding ``pnet.pt2``, ``rnet.pt2`` and ``onet.pt2``
            (:func:`export_mtcnn`), or the three paths.
        device: ``"cpu"`` or ``"cuda[:N]"`` (the packages' device).
        num_threads: torch's process-wide intra-op threads, when given.
        min_face_size, scale_factor, thresholds, nms_thresholds, color, interpolation: as
            :class:`opticore.FaceDetector`'s (defaults 20, 0.709, (0.6, 0.7, 0.7),
            (0.5, 0.7, 0.7, 0.7), ``"bgr"``, ``"bins"``).

    Images: ``(H, W, 3)`` uint8 in ``color`` order, ``(H, W)`` / ``(H, W, 1)`` grey, ``(H, W, 4)``
    (alpha ignored); any memory layout, read in place.

    Raises:
        TypeError: a wrong argument type; a non-array or non-uint8 image.
        ValueError: options out of range, a missing package, a package that is not MTCNN's stage;
            an empty image, a wrong shape, or an image whose first pyramid level exceeds
            :data:`opticore.face_detection.MAX_LEVEL_PIXELS` (or P-Net's largest input).
        RuntimeError: the runtime cannot run here (:func:`opticore.runtime.available`).

    Example:
        >>> import opticore.runtime
        >>> detector = opticore.runtime.FaceDetector("mtcnn")  # doctest: +SKIP
        >>> faces = detector(image)                             # doctest: +SKIP
        >>> faces.boxes.shape, faces.landmarks.shape            # doctest: +SKIP
        ((1, 4), (1, 5, 2))
    """

    def __init__(self, packages: Union[PathLike, Sequence[PathLike]], device: str = "cpu", *,
                 num_threads: Optional[int] = None, min_face_size: float = 20, scale_factor: float = 0.709,
                 thresholds: Sequence[float] = (0.6, 0.7, 0.7),
                 nms_thresholds: Sequence[float] = (0.5, 0.7, 0.7, 0.7), color: str = "bgr",
                 interpolation: Interpolation = "bins") -> None:
        from . import _module

        paths = _package_paths(packages)
        self.min_face_size = real(min_face_size, "min_face_size", low=1.0)
        self.scale_factor = real(scale_factor, "scale_factor", low=0.1, high=0.95)
        self.thresholds = _unit_values(thresholds, "thresholds", 3)
        self.nms_thresholds = _unit_values(nms_thresholds, "nms_thresholds", 4)
        choice(color, "color", ("bgr", "rgb"))
        self.color = color
        choice(interpolation, "interpolation", ("bins", "area"))
        self.interpolation = interpolation
        if not isinstance(device, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type(device).__name__}")
        threads = 0 if num_threads is None else integer(num_threads, "num_threads", low=1)
        self._detector = _module().FaceDetector(paths, device, threads, self.min_face_size, self.scale_factor,
                                                self.thresholds, self.nms_thresholds, color, interpolation)

    def scales(self, height: int, width: int) -> List[float]:
        """The pyramid's scales for an image of ``height x width`` (as
        :meth:`opticore.FaceDetector.scales`)."""
        return list(self._detector.scales(integer(height, "height", low=0), integer(width, "width", low=0)))

    def __call__(self, image: np.ndarray) -> Detections:
        """Faces in ``image``: :class:`opticore.face_detection.Detections` (float32 boxes
        ``(N, 4)``, scores ``(N,)``, landmarks ``(N, 5, 2)``, by descending score)."""
        _check_image(image)
        return Detections(*self._detector.detect(image))

    detect = __call__

    def __repr__(self) -> str:
        return (f"opticore.runtime.FaceDetector(min_face_size={self.min_face_size:g}, "
                f"scale_factor={self.scale_factor:g}, thresholds={self.thresholds}, "
                f"nms_thresholds={self.nms_thresholds}, color={self.color!r}, "
                f"interpolation={self.interpolation!r})")
