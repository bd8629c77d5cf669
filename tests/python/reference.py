"""Independent plain-NumPy references for the box operators, and input generators.

Written from the definitions (not from opticore's code): O(N^2) loops in float64.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Optional, Tuple

import numpy as np


def area(boxes: np.ndarray) -> np.ndarray:
    b = boxes.astype(np.float64)
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    return np.where((w > 0) & (h > 0), w * h, 0.0)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    union = area(a)[:, None] + area(b)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def exact_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU in exact rational arithmetic, rounded once to float64: the reference for boxes whose
    float64 arithmetic would overflow (coordinates near 1e308) or underflow (denormal sizes).
    O(N * M) Python objects: for small inputs."""

    def side(lo: Fraction, hi: Fraction) -> Fraction:
        return max(hi - lo, Fraction(0))

    fa = [[Fraction(float(v)) for v in box] for box in a]
    fb = [[Fraction(float(v)) for v in box] for box in b]
    out = np.zeros((len(fa), len(fb)))
    for i, p in enumerate(fa):
        for j, q in enumerate(fb):
            inter = side(max(p[0], q[0]), min(p[2], q[2])) * side(max(p[1], q[1]), min(p[3], q[3]))
            if inter > 0:
                union = side(p[0], p[2]) * side(p[1], p[3]) + side(q[0], q[2]) * side(q[1], q[3]) - inter
                out[i, j] = float(inter / union)
    return out


def order(scores: np.ndarray) -> np.ndarray:
    """Descending score, ties by ascending index."""
    return np.argsort(-scores.astype(np.float64), kind="stable")


def nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    thr: float,
    score_threshold: Optional[float] = None,
    max_output: Optional[int] = None,
    labels: Optional[np.ndarray] = None,
    ious: Optional[np.ndarray] = None,
) -> np.ndarray:
    """``ious``: the (N, N) IoU matrix to use (default: :func:`iou`)."""
    ious = iou(boxes, boxes) if ious is None else ious
    kept: list = []
    for i in order(scores):
        if score_threshold is not None and not float(scores[i]) > score_threshold:  # in float64
            continue
        if all(ious[k, i] <= thr or (labels is not None and labels[k] != labels[i]) for k in kept):
            kept.append(i)
    if max_output is not None:
        kept = kept[:max_output]
    return np.array(kept, dtype=np.int64)


def soft_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    method: str = "gaussian",
    sigma: float = 0.5,
    thr: float = 0.3,
    score_threshold: float = 0.001,
    max_output: Optional[int] = None,
    ious: Optional[np.ndarray] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    ious = iou(boxes, boxes) if ious is None else ious
    s = scores.astype(np.float64).copy()
    alive = s > score_threshold
    idx, out = [], []
    while alive.any() and (max_output is None or len(idx) < max_output):
        cand = np.flatnonzero(alive)
        m = cand[np.argmax(s[cand])]  # argmax returns the first maximum: the lower index
        idx.append(m)
        out.append(s[m])
        alive[m] = False
        for j in np.flatnonzero(alive):
            o = ious[m, j]
            if method == "gaussian":
                s[j] *= math.exp(-(o * o) / sigma)  # the C library's exp, as the C++ code calls
            elif o > thr:
                s[j] *= 1.0 - o
            if not s[j] > score_threshold:
                alive[j] = False
    return np.array(idx, dtype=np.int64), np.array(out, dtype=scores.dtype)


def uniform_boxes(rng: np.random.Generator, n: int, dtype=np.float32, extent: float = 1000.0) -> np.ndarray:
    xy = rng.uniform(0, extent, size=(n, 2))
    wh = rng.uniform(5, 80, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(dtype)


def clustered_boxes(rng: np.random.Generator, n: int, clusters: int, dtype=np.float32) -> np.ndarray:
    """Detector-like: many jittered copies of a few objects."""
    centres = rng.uniform(0, 1000, size=(clusters, 2))
    sizes = rng.uniform(20, 150, size=(clusters, 2))
    k = rng.integers(0, clusters, size=n)
    c = centres[k] + rng.normal(0, 0.05, size=(n, 2)) * sizes[k]
    s = sizes[k] * rng.uniform(0.85, 1.15, size=(n, 2))
    return np.concatenate([c - s / 2, c + s / 2], axis=1).astype(dtype)


def tied_scores(rng: np.random.Generator, n: int, levels: int = 5, dtype=np.float32) -> np.ndarray:
    return (rng.integers(0, levels, size=n) / levels).astype(dtype)
