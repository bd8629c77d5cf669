"""NMS, batched NMS and Soft-NMS: opticore beside OpenCV and torchvision, timed in one process.

Every implementation gets the same boxes, converted to its own input form before the clock
starts; each figure is the median of ``repeats`` calls after one warm-up call. A reference
that cannot be imported is reported as ``n/a``. Run ``python -m opticore.bench.boxes --help``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

import opticore

from . import _common
from ._common import fmt_number, median_ms

IOU_THRESHOLD = 0.5
SIGMA = 0.5
SOFT_SCORE_THRESHOLD = 0.001
LINEAR_IOU_THRESHOLD = 0.3  # read by linear Soft-NMS only; opticore's default
NUM_CLASSES = 80
REFERENCES = ("cv2", "torchvision")
IMPLEMENTATIONS = ("opticore",) + REFERENCES
SETUP = (
    "uniform: x1,y1 ~ U(0,1000), w,h ~ U(10,60); clustered: N/50 objects (w,h ~ U(20,80)), ~50 boxes "
    "each, centre jitter N(0, 5% of size), size x U(0.9,1.1); scores U(0,1] float32; IoU "
    f"{IOU_THRESHOLD}; soft-NMS: integer coords, sigma {SIGMA}, score_threshold {SOFT_SCORE_THRESHOLD}, "
    f"linear IoU {LINEAR_IOU_THRESHOLD}"
)

#: One timed call of one implementation, returning the kept indices.
Call = Callable[[], np.ndarray]
Calls = Dict[str, Optional[Call]]


@dataclass(frozen=True)
class Case:
    """One benchmark case: each implementation as a ready-to-time call (None: not available)."""

    name: str
    n: int
    calls: Calls


def uniform_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` float32 boxes, top-left corner uniform over a 1000x1000 canvas, sides 10 to 60."""
    xy = rng.uniform(0, 1000, (n, 2))
    return np.hstack([xy, xy + rng.uniform(10, 60, (n, 2))]).astype(np.float32)


def clustered_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` float32 detector-like boxes: ~50 jittered copies of each of ``n // 50`` objects."""
    objects = max(1, n // 50)
    size = rng.uniform(20, 80, (objects, 2))
    owner = rng.integers(0, objects, n)  # ~50 per object on average, as uneven as a detector's
    centre = rng.uniform(0, 1000, (objects, 2))[owner] + rng.normal(0, 0.05, (n, 2)) * size[owner]
    half = size[owner] * rng.uniform(0.9, 1.1, (n, 2)) / 2
    return np.hstack([centre - half, centre + half]).astype(np.float32)


def _scores(rng: np.random.Generator, n: int) -> np.ndarray:
    # (0, 1] rather than [0, 1): cv2 keeps only scores > its score_threshold, which must be >= 0.
    return (1.0 - rng.random(n)).astype(np.float32)


def _xywh(boxes: np.ndarray) -> np.ndarray:
    b = boxes.astype(np.float64)  # float64, so that cv2's x + w gives back x2 exactly
    return np.hstack([b[:, :2], b[:, 2:] - b[:, :2]])


def _nms_calls(
    boxes: np.ndarray, scores: np.ndarray, labels: Optional[np.ndarray], cv2: Any, tv: Any
) -> Calls:
    """Greedy NMS, or class-aware NMS when ``labels`` is given, for every implementation."""
    calls: Calls = dict.fromkeys(IMPLEMENTATIONS)
    rects = _xywh(boxes).tolist()  # cv2 parses a list of rects several times faster than an ndarray
    if labels is None:
        calls["opticore"] = lambda: opticore.nms(boxes, scores, IOU_THRESHOLD)
        if cv2 is not None:
            calls["cv2"] = lambda: cv2.dnn.NMSBoxes(rects, scores, 0.0, IOU_THRESHOLD)
    else:
        calls["opticore"] = lambda: opticore.batched_nms(boxes, scores, labels, IOU_THRESHOLD)
        if cv2 is not None and hasattr(cv2.dnn, "NMSBoxesBatched"):  # OpenCV >= 4.7
            ids = labels.astype(np.int32)
            calls["cv2"] = lambda: cv2.dnn.NMSBoxesBatched(rects, scores, ids, 0.0, IOU_THRESHOLD)
    if tv is not None:
        torch, torchvision = tv
        tb, ts, tl = (None if a is None else torch.from_numpy(a) for a in (boxes, scores, labels))
        if labels is None:
            calls["torchvision"] = lambda: torchvision.ops.nms(tb, ts, IOU_THRESHOLD).numpy()
        else:
            calls["torchvision"] = lambda: torchvision.ops.batched_nms(tb, ts, tl, IOU_THRESHOLD).numpy()
    return calls


def _soft_nms_calls(boxes: np.ndarray, scores: np.ndarray, method: str, cv2: Any) -> Calls:
    """Soft-NMS for opticore and cv2 (torchvision has none)."""
    calls: Calls = dict.fromkeys(IMPLEMENTATIONS)
    calls["opticore"] = lambda: opticore.soft_nms(
        boxes, scores, method=method, sigma=SIGMA, iou_threshold=LINEAR_IOU_THRESHOLD,
        score_threshold=SOFT_SCORE_THRESHOLD,
    )[0]
    if cv2 is not None:
        rects = _xywh(boxes).astype(np.int32)  # softNMSBoxes only takes integer Rects; exact here
        flag = getattr(cv2.dnn, f"SOFT_NMSMETHOD_SOFTNMS_{method.upper()}")
        calls["cv2"] = lambda: cv2.dnn.softNMSBoxes(
            rects, scores, SOFT_SCORE_THRESHOLD, LINEAR_IOU_THRESHOLD, top_k=0, sigma=SIGMA, method=flag
        )[1]
    return calls


def build_cases(quick: bool, cv2: Any, tv: Any) -> List[Case]:
    """Every case, its inputs drawn from a fixed seed so that runs stay comparable."""
    rng = np.random.default_rng(0)
    cases = []
    for kind, make in (("uniform", uniform_boxes), ("clustered", clustered_boxes)):
        for n in (1_000, 10_000) if quick else (1_000, 10_000, 50_000):
            cases.append(Case(f"nms {kind}", n, _nms_calls(make(rng, n), _scores(rng, n), None, cv2, tv)))
    n = 5_000 if quick else 20_000
    labels = rng.integers(0, NUM_CLASSES, n)
    calls = _nms_calls(clustered_boxes(rng, n), _scores(rng, n), labels, cv2, tv)
    cases.append(Case(f"batched_nms clustered, {NUM_CLASSES} classes", n, calls))
    n = 2_000 if quick else 5_000
    # Rounded so that cv2's integer Rects see exactly the boxes opticore sees.
    boxes, scores = np.round(clustered_boxes(rng, n)), _scores(rng, n)
    for method in ("gaussian", "linear"):
        cases.append(Case(f"soft_nms {method} clustered", n, _soft_nms_calls(boxes, scores, method, cv2)))
    return cases


def _agreement(ours: np.ndarray, theirs: np.ndarray) -> float:
    """Jaccard index of two sets of kept indices: 1.0 exactly when they are the same set."""
    a, b = set(ours.tolist()), set(theirs.tolist())
    return len(a & b) / len(a | b) if a or b else 1.0


def run_case(case: Case, repeats: int) -> Dict[str, Any]:
    """Time every available implementation of ``case``; compare its kept indices with opticore's."""
    ms: Dict[str, float] = {}
    kept: Dict[str, np.ndarray] = {}
    for impl, call in case.calls.items():
        if call is not None:
            ms[impl], out = median_ms(call, repeats)
            kept[impl] = np.asarray(out).ravel()
    return {
        "case": case.name,
        "n": case.n,
        "ms": {impl: ms.get(impl) for impl in IMPLEMENTATIONS},
        "kept": {impl: len(kept[impl]) if impl in kept else None for impl in IMPLEMENTATIONS},
        "speedup": {ref: ms[ref] / ms["opticore"] if ref in ms else None for ref in REFERENCES},
        "agree": {r: _agreement(kept["opticore"], kept[r]) if r in kept else None for r in REFERENCES},
    }


def _fmt_agree(value: Optional[float]) -> str:
    if value is None:
        return "n/a"
    return f"{math.floor(value * 1000) / 1000:.3f}"  # truncated: "1.000" only for the very same set


def format_report(report: Dict[str, Any]) -> str:
    """``report`` (as returned by :func:`run`) as a header, an aligned plain-text table and a legend."""
    m = report["metadata"]
    tv = f"torchvision {m['torchvision']}, torch {m['torch']}" if m["torchvision"] else "torchvision not installed"
    header = (
        f"opticore {m['opticore']} | threads {m['threads']} | repeats {m['repeats']} | cv2 "
        f"{m['cv2'] or 'not installed'} | {tv} | {m['cpu']}, {m['cpu_count']} CPUs | Python {m['python']}"
    )
    rows = [["case", "N", "opticore ms", "cv2 ms", "torchvision ms", "x vs cv2", "x vs torchvision",
             "agree cv2", "agree tv"]]
    for r in report["cases"]:
        rows.append([r["case"], str(r["n"])] + [fmt_number(r["ms"][i], "ms") for i in IMPLEMENTATIONS]
                    + [fmt_number(r["speedup"][ref], "x") for ref in REFERENCES]
                    + [_fmt_agree(r["agree"][ref]) for ref in REFERENCES])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])
             for row in rows]
    legend = ("x = reference ms / opticore ms (>1: opticore faster); agree = |A & B| / |A | B| of the "
              "kept indices (1.000: identical sets)")
    return "\n".join([header, SETUP, "", lines[0], "-" * len(lines[0])] + lines[1:] + ["", legend])


def run(
    quick: bool = False, threads: int = 1, json_path: Optional[str] = None, repeats: Optional[int] = None
) -> Dict[str, Any]:
    """Run every case, print the table and return ``{"metadata": {...}, "cases": [...]}``.

    Args:
        quick: smaller inputs and 3 repeats instead of 7 (a few seconds on 2 cores).
        threads: thread count for opticore, cv2 and torch alike; left set when this returns.
        json_path: if given, the returned dict is also written there as JSON.
        repeats: timed calls per implementation and case; the median is reported.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    repeats = (3 if quick else 7) if repeats is None else repeats
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    opticore.set_num_threads(threads)
    cv2, (tv, tv_missing) = _common.load_cv2(threads), _common.load_torchvision(threads)
    if tv_missing:
        print(f"bench boxes: {tv_missing}", file=sys.stderr)
    todo = build_cases(quick, cv2, tv)
    cases = _common.time_cases("boxes", todo, run_case, repeats)
    torch, torchvision = tv if tv is not None else (None, None)
    metadata = _common.timing_metadata(quick, threads, repeats, cv2, SETUP,
                                       torch=getattr(torch, "__version__", None),
                                       torchvision=getattr(torchvision, "__version__", None))
    report = {"metadata": metadata, "cases": cases}
    return _common.publish(report, format_report(report), json_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    return _common.cli_main("boxes", run, argv, __doc__.splitlines()[0], "smaller inputs, 3 repeats",
                            "timed calls per case (7; --quick: 3)")


if __name__ == "__main__":
    sys.exit(main())
