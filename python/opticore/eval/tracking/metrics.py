"""One-pass-evaluation (OTB) scores of a tracker's boxes against ground truth, and the OTB plots.

Convention (every function here):

* A box is ``(x, y, w, h)`` float: top-left corner and size in pixels, as ``cv2.Tracker`` and
  the OTB ground-truth files use. It covers the continuous area ``[x, x + w] x [y, y + h]``;
  IoU is computed on that area (no ``+1``), and the centre is ``(x + w / 2, y + h / 2)``. Where
  pixel centres sit (OpenCV: at integer coordinates) does not matter here: IoU and centre
  distances are invariant to a common shift.
* A predicted box that is missing (NaN or infinite in any coordinate) or has a non-positive
  width or height is a **failure**: IoU 0 and centre error ``inf``, so it fails every threshold.
* A frame whose ground truth is missing (NaN / infinite, or non-positive size, as OTB writes for
  frames where the target is out of view) is left out of every score.
* Success (OTB): the share of frames whose IoU is **strictly greater** than the threshold, over the
  21 thresholds ``0, 0.05, ..., 1``; the success AUC is the mean of those 21 values. This is the
  OTB toolkit's rule (``sum(overlap > threshold)``, also pysot's and got10k's), so scores compare
  with published OTB numbers. Two consequences: a frame with IoU exactly 0 fails every threshold
  (a tracker that is always wrong scores 0), and ``IoU > 1`` never holds, so a perfect tracker
  scores ``20 / 21 = 0.952``, not 1.
* Precision (OTB): the share of frames whose centre error is **at most** the threshold
  (inclusive), thresholds ``0, 1, ..., 50`` px; "precision@20" is the value at 20 px.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    "PRECISION_THRESHOLDS",
    "SUCCESS_THRESHOLDS",
    "centre_error",
    "iou",
    "plot_precision",
    "plot_success",
    "precision_at",
    "precision_curve",
    "scores",
    "success_auc",
    "success_curve",
]

#: IoU thresholds of the OTB success plot: ``np.linspace(0, 1, 21)``.
SUCCESS_THRESHOLDS: np.ndarray = np.linspace(0.0, 1.0, 21)
#: Centre-error thresholds of the OTB precision plot, in pixels: ``0, 1, ..., 50``.
PRECISION_THRESHOLDS: np.ndarray = np.arange(0, 51, dtype=np.float64)


def _boxes(boxes: Any, name: str) -> np.ndarray:
    """``(T, 4)`` float64 copy of ``boxes``; ``None`` rows become NaN (a failed frame)."""
    if isinstance(boxes, np.ndarray):
        arr = boxes.astype(np.float64)
    else:
        rows = [[np.nan] * 4 if b is None else list(b) for b in boxes]
        try:
            arr = np.asarray(rows, dtype=np.float64) if rows else np.zeros((0, 4))
        except ValueError:  # ragged rows
            raise ValueError(f"{name}: expected (T, 4) boxes x, y, w, h, got rows of lengths "
                             f"{sorted({len(r) for r in rows})}") from None
    if arr.ndim == 1 and arr.shape[0] == 4:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name}: expected (T, 4) boxes x, y, w, h, got shape {arr.shape}")
    return arr


def _valid(boxes: np.ndarray) -> np.ndarray:
    """Rows that are finite with a positive width and height."""
    return np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)


def _pair(pred: Any, gt: Any) -> Tuple[np.ndarray, np.ndarray]:
    p, g = _boxes(pred, "pred"), _boxes(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred, gt: expected the same number of boxes, got {len(p)} and {len(g)}")
    return p, g


def iou(pred: Any, gt: Any) -> np.ndarray:
    """Per-frame intersection over union of two box tracks.

    Args:
        pred: ``(T, 4)`` (or one ``(4,)``) predicted ``x, y, w, h`` boxes, any real dtype; rows may
            be NaN or ``None`` for a failed frame.
        gt: ``(T, 4)`` ground-truth boxes, the same length.

    Returns:
        ``(T,)`` float64 in ``[0, 1]``; 0 where the prediction is a failure (see the module
        docstring); NaN where the ground truth is missing.

    Example:
        >>> from opticore.eval.tracking.metrics import iou
        >>> iou([[0, 0, 10, 10], [5, 0, 10, 10]], [[0, 0, 10, 10], [0, 0, 10, 10]])
        array([1.        , 0.33333333])
    """
    p, g = _pair(pred, gt)
    out = np.zeros(len(p))
    ok_p, ok_g = _valid(p), _valid(g)
    both = ok_p & ok_g
    if both.any():
        a, b = p[both], g[both]
        iw = np.clip(np.minimum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
        ih = np.clip(np.minimum(a[:, 1] + a[:, 3], b[:, 1] + b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
        inter = iw * ih
        # clipped: rounding in (x + w) - x can push identical boxes a hair above 1
        out[both] = np.minimum(inter / (a[:, 2] * a[:, 3] + b[:, 2] * b[:, 3] - inter), 1.0)
    out[~ok_g] = np.nan
    return out


def centre_error(pred: Any, gt: Any) -> np.ndarray:
    """Per-frame Euclidean distance in pixels between the box centres ``(x + w/2, y + h/2)``.

    Args:
        pred: ``(T, 4)`` predicted ``x, y, w, h`` boxes (failures allowed, see the module docstring).
        gt: ``(T, 4)`` ground-truth boxes.

    Returns:
        ``(T,)`` float64 >= 0; ``inf`` where the prediction is a failure; NaN where the ground
        truth is missing.

    Example:
        >>> from opticore.eval.tracking.metrics import centre_error
        >>> centre_error([[3, 4, 10, 10], [float("nan")] * 4], [[0, 0, 10, 10], [0, 0, 10, 10]])
        array([ 5., inf])
    """
    p, g = _pair(pred, gt)
    d = np.hypot(p[:, 0] + p[:, 2] / 2 - g[:, 0] - g[:, 2] / 2, p[:, 1] + p[:, 3] / 2 - g[:, 1] - g[:, 3] / 2)
    d[~_valid(p)] = np.inf
    d[~_valid(g)] = np.nan
    return d


def _shares(values: Any, thresholds: Any, passes: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Per threshold ``t``, the share of the non-NaN ``values`` ``v`` with ``passes(v, t)``; zeros if none."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[~np.isnan(v)]
    t = np.asarray(thresholds, dtype=np.float64)
    if v.size == 0:
        return np.zeros(t.shape)
    return passes(v[None, :], t[:, None]).mean(axis=1)


def success_curve(ious: Any, thresholds: Optional[Sequence[float]] = None) -> np.ndarray:
    """Share of frames with IoU **strictly greater** than each threshold (OTB's success plot).

    Args:
        ious: ``(T,)`` per-frame IoU from :func:`iou`; NaN frames (missing ground truth) are
            left out.
        thresholds: IoU thresholds; default :data:`SUCCESS_THRESHOLDS` (21 values 0..1).

    Returns:
        ``(len(thresholds),)`` float64 in ``[0, 1]``; all zeros when no frame is scored.

    Example:
        >>> from opticore.eval.tracking.metrics import success_curve
        >>> success_curve([1.0, 0.5, 0.0], [0.0, 0.5, 1.0])
        array([0.66666667, 0.33333333, 0.        ])
    """
    return _shares(ious, SUCCESS_THRESHOLDS if thresholds is None else thresholds, np.greater)


def success_auc(ious: Any) -> float:
    """Area under the OTB success plot: the mean of :func:`success_curve` over its 21 thresholds.

    OTB's rule (see the module docstring): a perfect track scores ``20 / 21 = 0.952``, a track that
    never overlaps scores 0.

    Args:
        ious: ``(T,)`` per-frame IoU (NaN frames left out).

    Returns:
        float in ``[0, 1]``.

    Example:
        >>> from opticore.eval.tracking.metrics import success_auc
        >>> round(success_auc([1.0, 1.0]), 4), success_auc([0.0, 0.0])
        (0.9524, 0.0)
    """
    return float(success_curve(ious).mean())


def precision_curve(errors: Any, thresholds: Optional[Sequence[float]] = None) -> np.ndarray:
    """Share of frames whose centre error is **at most** each threshold (OTB's precision plot).

    Args:
        errors: ``(T,)`` per-frame centre errors in pixels from :func:`centre_error` (``inf`` for a
            failure; NaN frames are left out).
        thresholds: pixel thresholds; default :data:`PRECISION_THRESHOLDS` (0..50).

    Returns:
        ``(len(thresholds),)`` float64 in ``[0, 1]``.

    Example:
        >>> from opticore.eval.tracking.metrics import precision_curve
        >>> precision_curve([0.0, 20.0, float("inf")], [0, 20, 50])
        array([0.33333333, 0.66666667, 0.66666667])
    """
    return _shares(errors, PRECISION_THRESHOLDS if thresholds is None else thresholds, np.less_equal)


def precision_at(errors: Any, pixels: float = 20.0) -> float:
    """Share of scored frames with centre error <= ``pixels`` (OTB reports 20 px).

    Example:
        >>> from opticore.eval.tracking.metrics import precision_at
        >>> precision_at([1.0, 25.0])
        0.5
    """
    return float(precision_curve(errors, [pixels])[0])


def scores(pred: Any, gt: Any) -> Dict[str, Any]:
    """Every OTB score of one track: ``{"auc", "precision20", "success", "precision", "frames"}``.

    ``success`` and ``precision`` are the curves as lists (over :data:`SUCCESS_THRESHOLDS` and
    :data:`PRECISION_THRESHOLDS`); ``frames`` is the number of frames scored (ground truth present).

    Example:
        >>> from opticore.eval.tracking.metrics import scores
        >>> s = scores([[0, 0, 10, 10]], [[0, 0, 10, 10]])
        >>> round(s["auc"], 4), s["precision20"], s["frames"]
        (0.9524, 1.0, 1)
    """
    ious, errs = iou(pred, gt), centre_error(pred, gt)
    success, precision = success_curve(ious), precision_curve(errs)
    return {"auc": float(success.mean()), "precision20": float(precision[20]),
            "success": success.tolist(), "precision": precision.tolist(),
            "frames": int(np.count_nonzero(~np.isnan(ious)))}


#: Per OTB plot: x values, axis labels, the legend's number for a curve, the legend's corner.
_PLOTS: Dict[str, Tuple[np.ndarray, str, str, Callable[[Sequence[float]], float], str]] = {
    "success": (SUCCESS_THRESHOLDS, "Overlap threshold (IoU)", "Success rate", lambda c: float(np.mean(c)),
                "lower left"),
    "precision": (PRECISION_THRESHOLDS, "Location error threshold (px)", "Precision", lambda c: float(c[20]),
                  "lower right"),
}


def _plot(kind: str, curves: Dict[str, Sequence[float]], path: str, title: str) -> None:
    """One OTB plot (a :data:`_PLOTS` kind) as a PNG: a line per curve, legend ``name [number]``, best first."""
    import matplotlib

    matplotlib.use("Agg")  # files only; no display needed
    import matplotlib.pyplot as plt

    x, xlabel, ylabel, summary, legend_loc = _PLOTS[kind]
    fig, ax = plt.subplots(figsize=(6.0, 4.5), dpi=100)
    for name, curve in sorted(curves.items(), key=lambda kv: -summary(kv[1])):
        ax.plot(x, curve, linewidth=2, label=f"{name} [{summary(curve):.3f}]")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, xlim=(x[0], x[-1]), ylim=(0, 1.02))
    ax.grid(True, alpha=0.3)
    ax.legend(loc=legend_loc, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_success(curves: Dict[str, Sequence[float]], path: str, title: str = "Success plot of OPE") -> None:
    """Write OTB's success plot to the PNG ``path``: ``curves`` maps each tracker's name to its success
    curve over :data:`SUCCESS_THRESHOLDS` (21 values); the legend reads ``name [AUC]``, best first.

    Example:
        >>> from opticore.eval.tracking.metrics import plot_success, success_curve
        >>> plot_success({"perfect": success_curve([1.0])}, "/tmp/success.png")  # doctest: +SKIP
    """
    _plot("success", curves, path, title)


def plot_precision(curves: Dict[str, Sequence[float]], path: str, title: str = "Precision plot of OPE") -> None:
    """Write OTB's precision plot to the PNG ``path``, as :func:`plot_success` with precision curves
    over :data:`PRECISION_THRESHOLDS` (51 values); the legend reads ``name [precision@20]``.

    Example:
        >>> from opticore.eval.tracking.metrics import plot_precision, precision_curve
        >>> plot_precision({"perfect": precision_curve([0.0])}, "/tmp/precision.png")  # doctest: +SKIP
    """
    _plot("precision", curves, path, title)
