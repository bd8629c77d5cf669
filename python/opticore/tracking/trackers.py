"""Correlation-filter trackers: MOSSE (Bolme et al. 2010) and KCF with FHOG features and the DSST
scale filter (Henriques et al. 2015, Danelljan et al. 2014), computed by opticore's C++ core.

Conventions shared by every tracker here (the ``cv2.Tracker`` interface, float boxes):

* Frames are ``(H, W)`` grey or ``(H, W, 3)`` BGR (``(H, W, 4)`` BGRA, alpha ignored) ``uint8``
  arrays, or ``float32`` on the same 0..255 scale (finite: NaN or inf is rejected); any memory
  layout. Colour becomes grey with the BT.601 weights where a tracker needs grey.
* Boxes are ``(x, y, w, h)`` floats: the box covers pixels ``x .. x + w - 1`` (pixel centres at
  integer coordinates, as ``cv2.Rect2d``), so its centre is ``(x + (w - 1) / 2, y + (h - 1) / 2)``.
  The initial box is at least 1x1, overlaps the frame and is at most twice its width and height.
* ``score`` is the peak-to-sidelobe ratio (PSR) of the last correlation response. ``update``
  returns ``ok = score >= psr_threshold``; while not ok the box follows the response peak but the
  model is not updated, so an occluder is not learnt.
* Bad frames or boxes raise ``ValueError`` / ``TypeError`` naming the argument; ``update`` before
  ``init`` raises ``RuntimeError``. ``init`` and ``update`` release the GIL; one tracker object
  per thread (a shared one is serialised by a lock).
"""

from __future__ import annotations

from typing import Any, Dict, Literal, Optional, Sequence, Tuple, Union

import numpy as np

from .. import _core

__all__ = ["KCFTracker", "MOSSETracker", "Tracker", "create_tracker"]

Box = Tuple[float, float, float, float]
BoxLike = Union[Sequence[float], np.ndarray]


def _params(params_type: Any, arguments: Dict[str, Any]) -> Any:
    """The C++ ``Params`` struct ``params_type`` filled from a tracker's keyword arguments: the
    names are the struct's fields (a test checks that each tracker's signature lists exactly
    them, with the C++ defaults)."""
    return params_type(**{name: arguments[name] for name in params_type._fields})


class _CorrelationTracker:
    """What MOSSE and KCF share (``opticore::Tracker``): ``init``, ``update`` and the result of
    the last call."""

    _impl: Any

    def init(self, image: np.ndarray, box: BoxLike) -> None:
        """Learn the target inside ``box`` (``(x, y, w, h)``: at least 1x1, overlapping the frame,
        at most twice its width and height)."""
        self._impl.init(image if isinstance(image, np.ndarray) else np.asarray(image), box)

    def update(self, image: np.ndarray) -> Tuple[bool, Box]:
        """Locate the target in the next frame: ``(ok, (x, y, w, h))``; see ``score``."""
        ok, box, _score = self._impl.update(image if isinstance(image, np.ndarray) else np.asarray(image))
        return ok, box

    @property
    def score(self) -> float:
        """Peak-to-sidelobe ratio of the last ``update`` (0 after ``init``)."""
        return self._impl.score

    @property
    def box(self) -> Box:
        """The last box, ``(x, y, w, h)``."""
        return self._impl.box

    @property
    def initialized(self) -> bool:
        """Whether ``init`` has been called (and succeeded)."""
        return self._impl.initialized

    @property
    def params(self) -> Any:
        """The tracker's parameters as the C++ core holds them (defaults that depend on other
        parameters filled in), one attribute per keyword argument of the constructor."""
        return self._impl.params


class MOSSETracker(_CorrelationTracker):
    """MOSSE correlation filter (Bolme, Beveridge, Draper, Lui, CVPR 2010); fixed box size.

    A grey patch of the box's size (resampled to at most ``max_patch_side`` pixels, the square root
    of its area) is preprocessed by ``log(1 + x)``, zero mean, unit norm and a Hann window. The
    filter ``H* = A / (B + regularization)``, ``A = sum G conj(F)``, ``B = sum |F|^2``, starts
    from the first patch and ``perturbations`` random affine copies of it (rotation within 0.1 rad,
    scale within 5 %, drawn from a Mersenne Twister seeded with ``seed``: distinct and
    reproducible), and is then a running average with ``learning_rate``. ``G`` is a Gaussian of
    ``sigma`` patch pixels. The PSR sidelobe excludes the 11 x 11 window around the peak.

    The parameters and their defaults are those of the C++ ``opticore::MosseParams``.

    Args:
        learning_rate: running-average rate, in (0, 1].
        sigma: desired response width in patch pixels, > 0.
        regularization: added to ``B`` (whose mean is 1 for a unit-norm patch), > 0.
        perturbations: random affine copies of the first patch, 0..1000.
        psr_threshold: ``ok = PSR >= psr_threshold`` (Bolme: below 7 means occlusion or loss).
        max_patch_side: patch resolution cap (square root of the area), 8..4096.
        seed: seed of the perturbations (an int >= 0).

    Raises:
        TypeError: a parameter of the wrong type (e.g. ``None`` for a float).
        ValueError: a parameter out of its range, named in the message.

    Example:
        >>> import numpy as np, opticore
        >>> frame = np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8)
        >>> tracker = opticore.MOSSETracker()
        >>> tracker.init(frame, (60, 40, 32, 32))
        >>> ok, box = tracker.update(np.roll(frame, 3, axis=1))  # the scene moves 3 px right
        >>> ok, [round(v) for v in box]
        (True, [63, 40, 32, 32])
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.125,
        sigma: float = 2.0,
        regularization: float = 0.01,
        perturbations: int = 8,
        psr_threshold: float = 7.0,
        max_patch_side: int = 128,
        seed: int = 0,
    ) -> None:
        self._impl = _core.Tracker(_params(_core.MosseParams, locals()))


class KCFTracker(_CorrelationTracker):
    """Kernelized correlation filter (Henriques et al., TPAMI 2015) with FHOG features and, by
    default, the DSST scale filter (Danelljan et al., BMVC 2014).

    The box padded by ``padding`` is resampled so that the square root of its area is about
    ``template_size`` pixels and described per cell: ``"hog"`` (31-channel FHOG, ``opticore.fhog``),
    ``"gray"`` (grey / 255 - 0.5 per pixel) or ``"hog+gray"`` (both, grey averaged per cell), times
    a Hann window. Kernel ridge regression onto a Gaussian of ``output_sigma_factor *
    sqrt(target area)`` is solved in the Fourier domain, ``alpha^ = y^ / (k^xx + regularization)``;
    the response peak is refined to sub-cell by a parabola. The model is a running average with
    ``interp_factor``. With ``scale="dsst"`` a 1-D filter over ``num_scales`` samples at
    ``scale_step^k`` sizes updates the box size after each translation step (limited to the frame
    and to at least 5 pixels of search window).

    The parameters and their defaults are those of the C++ ``opticore::KcfParams``.

    Args:
        features: ``"hog"``, ``"gray"`` or ``"hog+gray"``.
        kernel: ``"gaussian"`` or ``"linear"``.
        scale: ``"dsst"`` (box size follows the target) or ``"none"`` (fixed size).
        padding: search window = box * (1 + padding), 0..10.
        regularization: the ridge regression's lambda, > 0.
        output_sigma_factor: desired response sigma relative to sqrt(target area), > 0.
        interp_factor: model update rate in (0, 1]; None: 0.02 (hog) or 0.075 (gray).
        kernel_sigma: Gaussian kernel bandwidth; None: 0.5 (hog) or 0.2 (gray).
        cell_size: pixels per cell, 1..16 (>= 2 with hog); None: 4 (hog, hog+gray) or 1 (gray).
        template_size: sqrt of the search window's area in template pixels, 16..1024.
        psr_threshold: ``ok = PSR >= psr_threshold``.
        num_scales, scale_step, scale_sigma_factor, scale_learning_rate, scale_regularization,
        scale_model_max_area: the DSST scale filter (33 scales of 1.02, sigma 0.25 * sqrt(33),
            rate 0.025, lambda 0.01, samples of at most 512 pixels).

    Raises:
        TypeError: a parameter of the wrong type (e.g. ``padding=None``).
        ValueError: a parameter out of its range or an unknown choice, named in the message.

    Example:
        >>> import numpy as np, opticore
        >>> frame = np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8)
        >>> tracker = opticore.KCFTracker(features="gray", scale="none")
        >>> tracker.init(frame, (60, 40, 32, 32))
        >>> ok, box = tracker.update(np.roll(frame, 3, axis=1))  # the scene moves 3 px right
        >>> ok, [round(v) for v in box]
        (True, [63, 40, 32, 32])
        >>> tracker.params.cell_size  # the default for grey features
        1
    """

    def __init__(
        self,
        *,
        features: Literal["hog", "gray", "hog+gray"] = "hog",
        kernel: Literal["gaussian", "linear"] = "gaussian",
        scale: Literal["dsst", "none"] = "dsst",
        padding: float = 1.5,
        regularization: float = 1e-4,
        output_sigma_factor: float = 0.1,
        interp_factor: Optional[float] = None,
        kernel_sigma: Optional[float] = None,
        cell_size: Optional[int] = None,
        template_size: int = 128,
        psr_threshold: float = 7.0,
        num_scales: int = 33,
        scale_step: float = 1.02,
        scale_sigma_factor: float = 0.25,
        scale_learning_rate: float = 0.025,
        scale_regularization: float = 1e-2,
        scale_model_max_area: int = 512,
    ) -> None:
        self._impl = _core.Tracker(_params(_core.KcfParams, locals()))


Tracker = Union[MOSSETracker, KCFTracker]

_TRACKERS = {"mosse": MOSSETracker, "kcf": KCFTracker}


def create_tracker(name: str, **params: Any) -> Tracker:
    """A tracker by name: ``"mosse"`` (:class:`MOSSETracker`) or ``"kcf"`` (:class:`KCFTracker`),
    case-insensitive, with the class's keyword arguments.

    Example:
        >>> import opticore
        >>> type(opticore.create_tracker("kcf", features="hog", scale="none")).__name__
        'KCFTracker'
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a str, got {type(name).__name__}")
    cls = _TRACKERS.get(name.lower())
    if cls is None:
        raise ValueError(f"name: expected one of {sorted(_TRACKERS)}, got {name!r}")
    return cls(**params)
