"""MTCNN face detection (Zhang et al. 2016) on opticore's NMS and crops.

:class:`FaceDetector` runs the cascade: an image pyramid through P-Net, non-maximum suppression
within each scale and across scales, box regression and squaring, R-Net on 24 x 24 crops, NMS,
O-Net on 48 x 48 crops, regression and a last NMS that measures overlap against the smaller box
(:func:`opticore.nms_min`); the other NMS steps are :func:`opticore.nms`, and the pyramid levels
and the crops of a stage are made by :func:`opticore.resize` and :func:`opticore.crop_resize`
(one batched call per stage).

The arithmetic (pyramid sizes, box rounding, the ``+1`` pixel widths of the box regression and of
the final NMS, crops clipped to the image rather than padded) is that of facenet-pytorch's MTCNN.
So is the resampling by default (``interpolation="bins"``: every output pixel the plain mean of
the source pixels its bin touches, torch's ``interpolate(mode="area")``), which makes the outputs
those of facenet-pytorch to float rounding (the tests compare on real photographs).
``interpolation="area"`` (OpenCV's ``INTER_AREA``, as the original TensorFlow MTCNN of
davidsandberg/facenet) is a little faster and finds the same faces, but MTCNN's cascade is
sensitive to it and boxes then move by up to ~10% IoU from facenet-pytorch's.

The three networks are plain callables on NumPy arrays (:class:`Stages`), by default the eager
torch modules of :mod:`opticore.models.mtcnn` with facenet-pytorch's trained weights; any object
with the same contract (an exported ``.pt2`` runner, say) can replace them. torch is imported only
when the default stages are built. :class:`opticore.runtime.FaceDetector` runs the same cascade
in C++ over the stages exported to ``.pt2`` packages, with the same results.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Literal, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._args import choice, real
from .boxes import nms, nms_min
from .warp import crop_resize, resize

__all__ = ["FaceDetector", "Detections", "Stages", "MAX_LEVEL_PIXELS"]

Color = Literal["bgr", "rgb"]
Interpolation = Literal["bins", "area"]

#: Largest first pyramid level, in pixels (``(H * 12 / min_face_size) * (W * 12 /
#: min_face_size)``): P-Net's first feature map then holds ~340 MB. A 24-megapixel photograph
#: passes with the default ``min_face_size`` of 20; larger ones need a larger ``min_face_size``
#: or a downscaled image.
MAX_LEVEL_PIXELS = 2**23
#: Crops per R-Net / O-Net call, which bounds the memory of a stage whatever the candidates.
CHUNK = 512
_CELL, _STRIDE = 12, 2  # P-Net's window and its step, in pyramid-level pixels

# (v - 127.5) * 0.0078125 for every uint8 value v: one gather converts and normalises a batch.
_NORMALISED = ((np.arange(256, dtype=np.float32) - 127.5) * 0.0078125).astype(np.float32)


class Detections(NamedTuple):
    """Faces found in one image, by descending score.

    * ``boxes``: ``(N, 4)`` float32 ``x1, y1, x2, y2`` pixels (may reach outside the image);
    * ``scores``: ``(N,)`` float32 O-Net face probabilities;
    * ``landmarks``: ``(N, 5, 2)`` float32 ``(x, y)``: left eye, right eye, nose, left and right
      mouth corners ("left" = image left), the order :func:`opticore.align_face` takes.

    Example:
        >>> import numpy as np, opticore
        >>> faces = opticore.FaceDetector()(np.zeros((100, 100, 3), np.uint8))
        >>> faces.boxes.shape, faces.scores.shape, faces.landmarks.shape
        ((0, 4), (0,), (0, 5, 2))
    """

    boxes: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray


Stage = Callable[[np.ndarray], Tuple[np.ndarray, ...]]


class Stages(NamedTuple):
    """The three networks as callables on ``(N, 3, H, W)`` float32 C-contiguous RGB batches
    normalised as ``(v - 127.5) * 0.0078125``; each returns NumPy arrays (or anything
    ``np.asarray`` takes):

    * ``pnet``: any ``H, W >= 12`` -> ``(reg (N, 4, H', W'), prob (N, H', W'))``;
    * ``rnet``: ``24 x 24`` -> ``(reg (N, 4), prob (N,))``;
    * ``onet``: ``48 x 48`` -> ``(reg (N, 4), landmarks (N, 10), prob (N,))``.

    See :mod:`opticore.models.mtcnn` for what the outputs mean; ``N`` is at most 512.
    """

    pnet: Stage
    rnet: Stage
    onet: Stage


class _TorchStage:
    """An eager torch module as a :data:`Stage`: NumPy in, NumPy out, no autograd.

    The batch runs in channels-last layout: torch's CPU max pooling and the small convolutions are
    3 to 5 times faster so (the outputs differ from the NCHW ones by float rounding, ~1e-6)."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def __call__(self, batch: np.ndarray) -> Tuple[np.ndarray, ...]:
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
            return tuple(t.numpy() for t in self.module(x))


def torch_stages(weights: Optional[Union[str, "os.PathLike[str]"]] = None) -> Stages:
    """The eager torch stages (:func:`opticore.models.mtcnn.load_mtcnn`) as :class:`Stages`.

    Args:
        weights: a folder with ``pnet.pt``, ``rnet.pt``, ``onet.pt``; None: facenet-pytorch's.

    Raises:
        FileNotFoundError: weights missing (the message names ``pip install --no-deps facenet-pytorch``).

    Example:
        >>> import numpy as np
        >>> from opticore.face_detection import torch_stages
        >>> reg, prob = torch_stages().rnet(np.zeros((2, 3, 24, 24), np.float32))
        >>> reg.shape, prob.shape
        ((2, 4), (2,))
    """
    from .models.mtcnn import load_mtcnn

    return Stages(*(_TorchStage(m) for m in load_mtcnn(weights)))


def _regress(boxes: np.ndarray, reg: np.ndarray, plus_one: float) -> np.ndarray:
    """Shift each side by ``reg`` times the box's size (``+ plus_one``: R-Net and O-Net were
    trained with inclusive pixel sizes, P-Net's boxes are corrected with the plain size)."""
    size = boxes[:, 2:4] - boxes[:, 0:2] + plus_one
    return boxes + reg * np.concatenate([size, size], axis=1)


def _square(boxes: np.ndarray) -> np.ndarray:
    """The square of side ``max(w, h)`` with the same centre."""
    size = boxes[:, 2:4] - boxes[:, 0:2]
    side = size.max(axis=1, keepdims=True)
    corner = boxes[:, 0:2] + (size - side) * 0.5
    return np.concatenate([corner, corner + side], axis=1)


class _Resampler:
    """The pyramid levels and crops of one image, by :func:`opticore.resize` and
    :func:`opticore.crop_resize` with the detector's interpolation. "bins" works on a float32 copy
    of the image, so that its means keep their fractions as facenet-pytorch's float tensors do."""

    def __init__(self, image: np.ndarray, interpolation: Interpolation) -> None:
        self.image = image.astype(np.float32) if interpolation == "bins" else image
        self.interpolation = interpolation

    def level(self, height: int, width: int) -> np.ndarray:
        """The whole image resized to ``height x width``: ``(1, height, width, 3)``."""
        return resize(self.image, (width, height), interpolation=self.interpolation)[None]

    def crops(self, boxes: np.ndarray, side: int) -> np.ndarray:
        """Integer boxes resized to ``side x side``: ``(N, side, side, 3)``."""
        return crop_resize(self.image, boxes, (side, side), interpolation=self.interpolation)


class FaceDetector:
    """MTCNN face detector: ``detector(image)`` -> :class:`Detections`.

    Args:
        min_face_size: smallest face side searched for, in pixels (default 20): the pyramid
            starts at scale ``12 / min_face_size`` (P-Net's window is 12 pixels). At least 1.
        scale_factor: ratio between pyramid levels (default 0.709, about ``1 / sqrt(2)``), in
            ``[0.1, 0.95]``; levels stop when the image's short side falls below 12 pixels.
        thresholds: face probabilities a candidate must reach to pass P-Net (``>=``), R-Net and
            O-Net (``>``); default ``(0.6, 0.7, 0.7)``, each in ``[0, 1]``.
        nms_thresholds: IoU thresholds of the NMS steps (suppress when above, strictly): within a
            pyramid level, across levels, after R-Net, and the "Min" overlap (:func:`opticore.nms_min`)
            after O-Net; default ``(0.5, 0.7, 0.7, 0.7)``.
        color: channel order of the images given: ``"bgr"`` (default: OpenCV's ``imread`` and
            video frames) or ``"rgb"`` (PIL, scikit-image, facenet-pytorch). The networks were
            trained on RGB; BGR images are flipped on the fly.
        interpolation: how the pyramid levels and the crops are resampled: ``"bins"`` (default;
            each output pixel the mean of the source pixels of its bin ``[floor(i * n / m),
            ceil((i + 1) * n / m))``, facenet-pytorch's, whose detections it reproduces) or
            ``"area"`` (OpenCV's ``INTER_AREA``: a little faster; boxes differ from
            facenet-pytorch's by up to ~10% IoU, MTCNN being sensitive to it).
        weights: folder holding ``pnet.pt``, ``rnet.pt``, ``onet.pt`` (state dicts of
            :mod:`opticore.models.mtcnn`' modules); None reads those the ``facenet-pytorch``
            package ships (``pip install --no-deps facenet-pytorch``). Ignored with ``stages``.
        stages: the networks as :class:`Stages` (e.g. exported runners); default: the eager
            torch modules (:func:`torch_stages`), which run on torch's threads
            (``torch.set_num_threads``); the crops on opticore's (:func:`opticore.set_num_threads`).

    Images: ``(H, W, 3)`` uint8 in ``color`` order; ``(H, W)`` and ``(H, W, 1)`` grey are
    replicated to three channels, the fourth channel of ``(H, W, 4)`` (alpha) is ignored; any
    memory layout. Other dtypes raise ``TypeError`` (convert float images with
    ``np.clip(x, 0, 255).astype(np.uint8)`` after scaling them to 0..255), an empty image
    ``ValueError``; an image whose short side is under ``min_face_size`` has no face to find and
    gives empty results. Images whose first pyramid level exceeds :data:`MAX_LEVEL_PIXELS` raise
    ``ValueError`` (raise ``min_face_size`` or downscale them). Faces are found independently of
    each other; results are deterministic.

    Raises:
        FileNotFoundError: default stages without weights (the message says what to install).

    Example:
        >>> import opticore
        >>> from opticore.eval.tracking import load_image
        >>> image = load_image("astronaut")  # BGR, 512 x 512
        >>> faces = opticore.FaceDetector()(image)
        >>> faces.boxes.shape, faces.landmarks.shape, bool(faces.scores[0] > 0.99)
        ((1, 4), (1, 5, 2), True)
    """

    def __init__(
        self,
        *,
        min_face_size: float = 20,
        scale_factor: float = 0.709,
        thresholds: Sequence[float] = (0.6, 0.7, 0.7),
        nms_thresholds: Sequence[float] = (0.5, 0.7, 0.7, 0.7),
        color: Color = "bgr",
        interpolation: Interpolation = "bins",
        weights: Optional[Union[str, "os.PathLike[str]"]] = None,
        stages: Optional[Stages] = None,
    ) -> None:
        self.min_face_size = real(min_face_size, "min_face_size", low=1.0)
        self.scale_factor = real(scale_factor, "scale_factor", low=0.1, high=0.95)
        self.thresholds = _unit_values(thresholds, "thresholds", 3)
        self.nms_thresholds = _unit_values(nms_thresholds, "nms_thresholds", 4)
        choice(color, "color", ("bgr", "rgb"))
        self.color: Color = color
        choice(interpolation, "interpolation", ("bins", "area"))
        self.interpolation: Interpolation = interpolation
        if stages is not None and not (isinstance(stages, tuple) and len(stages) == 3
                                       and all(callable(s) for s in stages)):
            raise TypeError(f"stages: expected Stages(pnet, rnet, onet) of callables, got {stages!r}")
        self.stages = Stages(*stages) if stages is not None else torch_stages(weights)

    def __repr__(self) -> str:
        return (f"FaceDetector(min_face_size={self.min_face_size:g}, scale_factor={self.scale_factor:g}, "
                f"thresholds={self.thresholds}, nms_thresholds={self.nms_thresholds}, color={self.color!r}, "
                f"interpolation={self.interpolation!r})")

    def scales(self, height: int, width: int) -> list:
        """The pyramid's scales for an image of ``height x width``; level ``k`` is resized to
        ``(int(width * s + 1), int(height * s + 1))`` (an empty list: the image is smaller than
        ``min_face_size``).

        Example:
            >>> import opticore
            >>> [round(s, 3) for s in opticore.FaceDetector().scales(40, 60)]
            [0.6, 0.425, 0.302]
        """
        scale = 12.0 / self.min_face_size
        short = min(height, width) * scale
        scales = []
        while short >= 12:
            scales.append(scale)
            scale *= self.scale_factor
            short *= self.scale_factor
        return scales

    def __call__(self, image: np.ndarray) -> Detections:
        """Faces in ``image`` (see the class for what images are taken): :class:`Detections`."""
        img = self._image(image)
        sampler = _Resampler(img, self.interpolation)
        boxes, scores = self._propose(sampler, img.shape[:2])
        if len(boxes):
            reg, prob = self._run(self.stages.rnet, sampler, img.shape[:2], boxes, 24)
            passed = prob > self.thresholds[1]
            boxes, reg, scores = boxes[passed], reg[passed], prob[passed]
            keep = nms(boxes, scores, self.nms_thresholds[2])
            boxes = _square(_regress(boxes[keep], reg[keep], 1.0))
        if not len(boxes):
            return _empty()
        reg, points, prob = self._run(self.stages.onet, sampler, img.shape[:2], boxes, 48)
        passed = prob > self.thresholds[2]
        boxes, reg, points, scores = boxes[passed], reg[passed], points[passed], prob[passed]
        size = boxes[:, 2:4] - boxes[:, 0:2] + 1
        landmarks = np.stack([points[:, :5], points[:, 5:]], axis=2) * size[:, None, :] + boxes[:, None, 0:2] - 1
        boxes = _regress(boxes, reg, 1.0)
        keep = nms_min(boxes, scores, self.nms_thresholds[3])
        return Detections(boxes[keep].astype(np.float32), scores[keep].astype(np.float32),
                          landmarks[keep].astype(np.float32))

    detect = __call__

    def _image(self, image: Any) -> np.ndarray:
        """``image`` as a C-contiguous ``(H, W, 3)`` uint8 array, checked."""
        _check_image(image)
        height, width = image.shape[:2]
        level = (height * 12.0 / self.min_face_size) * (width * 12.0 / self.min_face_size)
        if level > MAX_LEVEL_PIXELS:  # checked before any copy
            raise ValueError(
                f"image: {width} x {height} makes a first pyramid level of {level / 1e6:.0f} megapixels at "
                f"min_face_size={self.min_face_size:g}, above the limit of {MAX_LEVEL_PIXELS / 1e6:.1f}; raise "
                "min_face_size or downscale the image")
        if image.ndim == 2 or image.shape[2] == 1:
            return np.repeat(image.reshape(height, width, 1), 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3])

    def _batch(self, images: np.ndarray) -> np.ndarray:
        """``(N, H, W, 3)`` uint8 or float32 in ``self.color`` order -> the stages' normalised
        RGB ``(N, 3, H, W)`` float32, C-contiguous."""
        planes = images.transpose(0, 3, 1, 2)
        if self.color == "bgr":
            planes = planes[:, ::-1]
        if images.dtype == np.uint8:
            return _NORMALISED[planes]
        out = np.subtract(planes, np.float32(127.5), out=np.empty(planes.shape, np.float32))
        out *= np.float32(0.0078125)  # in two float32 steps, as facenet-pytorch
        return out

    def _propose(self, sampler: _Resampler, shape: Tuple[int, ...]) -> Tuple[np.ndarray, np.ndarray]:
        """P-Net over the pyramid: squared candidate boxes (float64) and their scores."""
        height, width = shape[:2]
        found = []
        for scale in self.scales(height, width):
            h, w = int(height * scale + 1), int(width * scale + 1)
            reg, prob = (np.asarray(a)[0] for a in self.stages.pnet(self._batch(sampler.level(h, w))))
            y, x = np.nonzero(prob >= self.thresholds[0])
            if not len(y):
                continue
            corner = np.stack([x, y], axis=1).astype(np.float64) * _STRIDE
            boxes = np.floor(np.concatenate([corner + 1, corner + _CELL], axis=1) / scale)
            scores = prob[y, x]
            keep = nms(boxes, scores, self.nms_thresholds[0])
            found.append((boxes[keep], scores[keep], reg[:, y[keep], x[keep]].T))
        if not found:
            return np.zeros((0, 4)), np.zeros(0, np.float32)
        boxes, scores, reg = (np.concatenate(parts) for parts in zip(*found))
        keep = nms(boxes, scores, self.nms_thresholds[1])
        return _square(_regress(boxes[keep], reg[keep].astype(np.float64), 0.0)), scores[keep]

    def _run(self, stage: Stage, sampler: _Resampler, shape: Tuple[int, ...], boxes: np.ndarray,
             side: int) -> Tuple[np.ndarray, ...]:
        """``stage`` on the ``side x side`` crops of ``boxes``, in chunks of :data:`CHUNK`.

        A crop covers the box's pixels truncated to whole numbers and clipped to the image, with
        MTCNN's one-pixel shift of the top-left corner; a box entirely outside the image gets
        probability 0 (it is dropped)."""
        height, width = shape[:2]
        corners = np.trunc(boxes).astype(np.int64)
        crops = np.stack([np.maximum(corners[:, 0], 1) - 1, np.maximum(corners[:, 1], 1) - 1,
                          np.minimum(corners[:, 2], width), np.minimum(corners[:, 3], height)], axis=1)
        inside = np.nonzero((crops[:, 2] > crops[:, 0]) & (crops[:, 3] > crops[:, 1]))[0]
        outputs = [np.zeros((len(boxes),) + shape) for shape in ({24: ((4,), ()), 48: ((4,), (10,), ())}[side])]
        for start in range(0, len(inside), CHUNK):
            chosen = inside[start:start + CHUNK]
            batch = self._batch(sampler.crops(crops[chosen], side))
            for out, result in zip(outputs, stage(batch)):
                out[chosen] = np.asarray(result).reshape((len(chosen),) + out.shape[1:])
        return tuple(outputs)


def _check_image(image: Any) -> None:
    """Raises unless ``image`` is a non-empty uint8 NumPy array of shape ``(H, W)`` or
    ``(H, W, C)`` with ``C`` in 1, 3, 4 (what :class:`FaceDetector` takes): ``TypeError`` for
    another type or dtype, ``ValueError`` for another shape."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image: expected a NumPy array (H, W, 3) uint8, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image: expected uint8, got {image.dtype} (scale float images to 0..255 and convert)")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))):
        raise ValueError(f"image: expected shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")
    if image.size == 0:
        raise ValueError(f"image: expected a non-empty image, got shape {image.shape}")


def _unit_values(values: Any, name: str, n: int) -> Tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != n:
        raise TypeError(f"{name}: expected {n} numbers, got {values!r}")
    return tuple(real(v, f"{name}[{i}]", low=0.0, high=1.0) for i, v in enumerate(values))


def _empty() -> Detections:
    return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 5, 2), np.float32))
