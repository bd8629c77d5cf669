"""How MultiTracker's default parameters were chosen: a small grid over each method's parameters,
scored on *validation* crowds only (not part of the product; not run by the tests).

Seeds: ``opticore bench mot`` simulates its sequences with ``simulate_crowd(num_objects=n,
seed=n)`` for n in 10, 30, 100 (seeds 10, 30, 100). This script uses seeds
:data:`VALIDATION_SEEDS` (1001, 1002) at each of the same densities, disjoint from the
benchmark's, so that the benchmark stays a held-out test of the chosen defaults.

Stage 1 sweeps the score thresholds and confirmation (``high_threshold``, ``new_track_threshold``,
``min_hits``) for each method; stage 2 sweeps the association gates and memory
(``iou_threshold``, ``low_threshold``, ``low_iou_threshold``, ``track_buffer``) around stage 1's
choice (the strictest setting within :data:`TIE` of the best). A setting's score is its HOTA
averaged over seeds, then over densities (the worst density's HOTA is printed beside it).

Outcome (300 frames; mean HOTA over 10 / 30 / 100 people; the defaults before were ByteTrack's
published 0.5 / 0.1 / 0.6, IoU 0.3, buffer 30): HOTA rises as ``high_threshold`` falls to 0.1
(below 0.1 it is flat: the simulator's scores start there); ``min_hits`` 2 beats 1 and 3;
``new_track_threshold`` 0.1-0.3 tie; IoU 0.4 beats 0.3 and 0.5 (OC-SORT: 0.5 by 0.0007);
``track_buffer`` 60 and 90 tie, 30 is worse; ``low_threshold`` and ``low_iou_threshold`` do not
matter once ``high_threshold`` is 0.1. The three methods agree, so one set is the default:
``high_threshold=0.1, low_threshold=0.1, new_track_threshold=0.3, min_hits=2, iou_threshold=0.4,
track_buffer=60``::

    method     old defaults (100 people)   new defaults (100 people)
    bytetrack  0.723 (0.578)               0.764 (0.653)
    ocsort     0.716 (0.563)               0.759 (0.637)
    sort       0.717 (0.566)               0.765 (0.654)

    python benchmarks/tune_mot_defaults.py [--frames 300] [--stage 1|2|both]
"""

from __future__ import annotations

import argparse
import itertools
import time
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from opticore.eval.mot import Crowd, evaluate, simulate_crowd, track_detections
from opticore.mot import METHODS, MultiTracker

DENSITIES = (10, 30, 100)
VALIDATION_SEEDS = (1001, 1002)
BENCHMARK_SEEDS = DENSITIES  # opticore.bench.mot: seed=density
TIE = 0.001  # mean HOTA differences below this are within the validation's noise


def _crowds(frames: int) -> Dict[int, List[Crowd]]:
    assert not set(VALIDATION_SEEDS) & set(BENCHMARK_SEEDS)
    return {n: [simulate_crowd(num_objects=n, num_frames=frames, seed=s) for s in VALIDATION_SEEDS]
            for n in DENSITIES}


def _score(method: str, params: Dict[str, Any], crowds: Dict[int, List[Crowd]]) -> Tuple[float, float, List[float]]:
    """(mean HOTA over densities, worst density's HOTA, HOTA per density)."""
    per_density = []
    for n in DENSITIES:
        hota = [evaluate(c.groundtruth, track_detections(MultiTracker(method, **params), c.detections, c.num_frames),
                         c.num_frames)["HOTA"] for c in crowds[n]]
        per_density.append(float(np.mean(hota)))
    return float(np.mean(per_density)), min(per_density), per_density


def _grid(axes: Dict[str, Sequence[Any]]) -> List[Dict[str, Any]]:
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[k] for k in names))]


def _stage1(method: str) -> List[Dict[str, Any]]:
    grid = []
    for p in _grid({"high_threshold": (0.0, 0.1, 0.2, 0.3, 0.4, 0.5), "new_offset": (0.0, 0.1, 0.2),
                    "min_hits": (2, 3)}):
        high = p["high_threshold"]
        grid.append({"high_threshold": high, "low_threshold": min(0.1, high),
                     "new_track_threshold": round(high + p["new_offset"], 2), "min_hits": p["min_hits"]})
    return grid


def _stage2(method: str, base: Dict[str, Any]) -> List[Dict[str, Any]]:
    axes: Dict[str, Sequence[Any]] = {"iou_threshold": (0.2, 0.3, 0.4, 0.5), "track_buffer": (30, 60, 90)}
    if method == "bytetrack":
        axes.update(low_threshold=sorted({0.0, min(0.1, base["high_threshold"])}), low_iou_threshold=(0.3, 0.5))
    return [{**base, **p} for p in _grid(axes)]


def _sweep(method: str, grid: List[Dict[str, Any]], crowds: Dict[int, List[Crowd]]) -> List[Tuple[float, float,
                                                                                                      List[float],
                                                                                                      Dict[str, Any]]]:
    results = []
    for params in grid:
        mean, worst, per = _score(method, params, crowds)
        results.append((mean, worst, per, params))
    results.sort(key=lambda r: -r[0])
    return results


def _strictest_of_the_best(results: Sequence[Tuple[float, float, List[float], Dict[str, Any]]]) -> Dict[str, Any]:
    """Among the settings whose mean HOTA is within :data:`TIE` of the best (which validation cannot
    tell apart), the one with the highest thresholds: the safer one for a detector with more
    low-score false positives than the simulator's."""
    near = [r[3] for r in results if r[0] >= results[0][0] - TIE]
    return max(near, key=lambda p: (p["high_threshold"], p["new_track_threshold"], p["min_hits"]))


def _print(method: str, results: Sequence[Tuple[float, float, List[float], Dict[str, Any]]], top: int) -> None:
    for mean, worst, per, params in results[:top]:
        print(f"  {method:<10} mean {mean:.4f} worst {worst:.4f} per density "
              f"{' '.join(f'{h:.4f}' for h in per)}  {params}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--stage", choices=("1", "2", "both"), default="both")
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    args = parser.parse_args()
    start = time.perf_counter()
    crowds = _crowds(args.frames)
    print(f"validation crowds (seeds {VALIDATION_SEEDS}, {args.frames} frames) in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    for method in args.methods:
        print(f"{method}: current defaults", flush=True)
        _print(method, _sweep(method, [{}], crowds), 1)
        best: Dict[str, Any] = {}
        if args.stage in ("1", "both"):
            results = _sweep(method, _stage1(method), crowds)
            print(f"{method}: stage 1 (score thresholds, min_hits), best of {len(results)}", flush=True)
            _print(method, results, 8)
            print(f"{method}: stage 1, the best setting at each high_threshold", flush=True)
            for high in sorted({r[3]["high_threshold"] for r in results}):
                _print(method, [r for r in results if r[3]["high_threshold"] == high], 1)
            best = _strictest_of_the_best(results)
            print(f"{method}: stage 1 choice (the strictest within {TIE} of the best): {best}", flush=True)
        if args.stage in ("2", "both"):
            results = _sweep(method, _stage2(method, best or {"high_threshold": 0.5}), crowds)
            print(f"{method}: stage 2 (gates, track_buffer), best of {len(results)}", flush=True)
            _print(method, results, 8)
        print(f"  ({time.perf_counter() - start:.0f} s so far)", flush=True)


if __name__ == "__main__":
    main()
