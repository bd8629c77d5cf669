"""Multi-object trackers: opticore's SORT / ByteTrack / OC-SORT beside roboflow ``trackers``' SORT /
ByteTrack / OC-SORT, on the same simulated crowds, in one run.

Sequences: :func:`opticore.eval.mot.simulate_crowd` with about 10, 30 and 100 people per frame
(seeded; 300 frames, 100 with ``--quick``): walkers that turn, enter and leave, occlude each
other while crossing, and a detector whose misses grow and scores drop with occlusion, with
jitter and false positives. Scores: HOTA, IDF1 and MOTA (opticore's metrics, which the tests check
against ``trackers.eval`` and py-motmetrics) and frames per second of tracker time (the
``update`` calls only; each library's inputs are built before the clock starts; the median over
``--repeats`` runs). Every tracker runs with its library's defaults; opticore's also runs with
``trackers``' parameters (:data:`THEIR_PARAMETERS`: the same score and IoU thresholds and
confirmation counts), which compares the implementations on equal terms. ``trackers`` is optional:
``pip install --no-deps trackers supervision rich`` (its ``opencv-python`` requirement would
replace an installed OpenCV contrib build). Run ``python -m opticore.bench.mot --help``.
"""

from __future__ import annotations

import statistics
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from opticore.eval.mot import MotTable, evaluate, simulate_crowd
from opticore.mot import MultiTracker

from ._common import cli_main, machine, publish

METHODS = ("sort", "bytetrack", "ocsort")
DENSITIES = (10, 30, 100)
#: trackers' class for each method.
THEIR_CLASSES = {"sort": "SORTTracker", "bytetrack": "ByteTrackTracker", "ocsort": "OCSORTTracker"}
#: opticore's parameters that reproduce trackers' defaults (trackers 2.6): its SORT associates
#: every detection and starts tracks at >= 0.25 after 3 frames; its ByteTrack splits detections at
#: 0.6, starts tracks at >= 0.7 after 2 frames, IoU > 0.1 in both stages; its OC-SORT associates
#: detections >= 0.6 and confirms after 3 frames.
THEIR_PARAMETERS: Dict[str, Dict[str, Any]] = {
    "sort": {"high_threshold": 0.0, "low_threshold": 0.0, "new_track_threshold": 0.25, "min_hits": 3},
    "bytetrack": {"high_threshold": 0.6, "low_threshold": 0.0, "new_track_threshold": 0.7, "min_hits": 2,
                  "iou_threshold": 0.1, "low_iou_threshold": 0.1},
    "ocsort": {"high_threshold": 0.6, "new_track_threshold": 0.6, "min_hits": 3},
}
#: The implementations of each method, in the table's order.
IMPLEMENTATIONS = ("opticore", "opticore, trackers' parameters", "trackers")

Frames = List[Tuple[np.ndarray, np.ndarray]]
Runner = Callable[[], Tuple[float, MotTable]]


def _load_trackers() -> Tuple[Optional[Any], Optional[Any], Optional[str]]:
    """``(trackers, supervision, None)``, or ``(None, None, why not)``."""
    try:
        import supervision
        import trackers
    except ImportError as exc:
        return None, None, f"{exc.name} not installed (pip install --no-deps trackers supervision rich)"
    return trackers, supervision, None


def _table(frames: List[int], ids: List[np.ndarray], boxes: List[np.ndarray]) -> MotTable:
    f = np.concatenate([np.full(len(i), k) for k, i in zip(frames, ids)]) if frames else np.zeros(0)
    return MotTable.from_arrays(f, np.concatenate(ids) if ids else np.zeros(0),
                                np.concatenate(boxes).reshape(-1, 4) if boxes else np.zeros((0, 4)))


def _ours(method: str, frames: Frames, parameters: Dict[str, Any]) -> Runner:
    def run() -> Tuple[float, MotTable]:
        tracker = MultiTracker(method, **parameters)
        outputs = []
        start = time.perf_counter()
        for boxes, scores in frames:
            outputs.append(tracker.update(boxes, scores))
        seconds = time.perf_counter() - start
        return seconds, _table(list(range(1, len(frames) + 1)), [o.ids for o in outputs], [o.boxes for o in outputs])

    return run


def _theirs(method: str, frames: Frames, trackers: Any, sv: Any) -> Runner:
    detections = [sv.Detections(xyxy=b, confidence=s) for b, s in frames]

    def run() -> Tuple[float, MotTable]:
        tracker = getattr(trackers, THEIR_CLASSES[method])()
        outputs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for d in detections:
                outputs.append(tracker.update(d))
            seconds = time.perf_counter() - start
        ids, boxes = [], []
        for o in outputs:
            keep = np.asarray(o.tracker_id) >= 0
            ids.append(np.asarray(o.tracker_id)[keep])
            boxes.append(np.asarray(o.xyxy)[keep])
        return seconds, _table(list(range(1, len(frames) + 1)), ids, boxes)

    return run


def _measure(runners: Dict[str, Runner], repeats: int, crowd: Any) -> Dict[str, Dict[str, float]]:
    """Each runner ``repeats`` times, taking turns (so that a busy machine slows them alike): its
    median frames per second and the metrics of its result."""
    times: Dict[str, List[float]] = {name: [] for name in runners}
    results: Dict[str, MotTable] = {}
    for _ in range(repeats):
        for name, runner in runners.items():
            seconds, results[name] = runner()
            times[name].append(seconds)
    out = {}
    for name, result in results.items():
        scores = evaluate(crowd.groundtruth, result, crowd.num_frames)
        out[name] = {"fps": crowd.num_frames / statistics.median(times[name]),
                     **{k: scores[k] for k in ("HOTA", "IDF1", "MOTA", "AssA", "DetA", "IDSW")}}
    return out


def run(quick: bool = False, threads: int = 1, json_path: Optional[str] = None,
        repeats: Optional[int] = None) -> Dict[str, Any]:
    """Runs the benchmark, prints the table, returns (and with ``json_path`` writes) the report."""
    import opticore

    opticore.set_num_threads(threads)
    repeats = repeats or (1 if quick else 3)
    num_frames = 100 if quick else 300
    trackers, sv, missing = _load_trackers()
    rows: List[Dict[str, Any]] = []
    lines = [f"MOT on simulated crowds, {num_frames} frames each, median of {repeats} runs, {threads} thread(s)",
             "" if missing is None else f"trackers: {missing}; only opticore is measured",
             f"{'objects':>7}  {'method':<10} {'implementation':<31} {'HOTA':>6} {'IDF1':>6} {'MOTA':>6} {'fps':>8}"
             f"  {'speed':>7}  {'dHOTA':>6}"]
    for density in DENSITIES:
        crowd = simulate_crowd(num_objects=density, num_frames=num_frames, seed=density)
        frames = [(rows_.boxes, rows_.scores) for _, rows_ in crowd.detections.by_frame(num_frames)]
        for method in METHODS:
            runners = {IMPLEMENTATIONS[0]: _ours(method, frames, {}),
                       IMPLEMENTATIONS[1]: _ours(method, frames, THEIR_PARAMETERS[method])}
            if trackers is not None:
                runners[IMPLEMENTATIONS[2]] = _theirs(method, frames, trackers, sv)
            measured = _measure(runners, repeats, crowd)
            theirs = measured.get("trackers")
            for name, m in measured.items():
                row = {"objects": density, "method": method, "implementation": name, **m,
                       "speedup": None if theirs is None else m["fps"] / theirs["fps"],
                       "hota_difference": None if theirs is None else m["HOTA"] - theirs["HOTA"]}
                rows.append(row)
                versus = ("" if theirs is None or name == "trackers"
                          else f"  {row['speedup']:>6.1f}x  {row['hota_difference']:>+6.3f}")
                lines.append(f"{density:>7}  {method:<10} {name:<31} {m['HOTA']:>6.3f} {m['IDF1']:>6.3f} "
                             f"{m['MOTA']:>6.3f} {m['fps']:>8.0f}{versus}")
    summary = _summary(rows)
    lines += ["", *summary["lines"]]
    report = {"benchmark": "mot", "quick": quick, "threads": threads, "repeats": repeats, "frames": num_frames,
              "opticore": opticore.__version__, **machine(), "rows": rows, "summary": summary["values"]}
    return publish(report, "\n".join(line for line in lines if line != ""), json_path)


def _summary(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Per density: our best HOTA (library defaults) against theirs, and our ByteTrack's speed
    ratio to theirs (defaults, and trackers' parameters)."""
    values: Dict[str, Any] = {}
    lines = []
    for density in DENSITIES:
        here = [r for r in rows if r["objects"] == density]
        ours = [r for r in here if r["implementation"] == IMPLEMENTATIONS[0]]
        best_ours = max(ours, key=lambda r: r["HOTA"])
        entry: Dict[str, Any] = {"best_ours": best_ours["method"], "best_ours_hota": best_ours["HOTA"]}
        theirs = [r for r in here if r["implementation"] == "trackers"]
        if theirs:
            best_theirs = max(theirs, key=lambda r: r["HOTA"])
            speed = {r["implementation"]: r["speedup"] for r in here if r["method"] == "bytetrack"}
            entry.update(best_theirs=best_theirs["method"], best_theirs_hota=best_theirs["HOTA"],
                         bytetrack_speedup=speed[IMPLEMENTATIONS[0]],
                         bytetrack_speedup_same_parameters=speed[IMPLEMENTATIONS[1]])
            lines.append(f"{density:>3} objects: best HOTA opticore {best_ours['HOTA']:.3f} ({best_ours['method']}) "
                         f"vs trackers {best_theirs['HOTA']:.3f} ({best_theirs['method']}); ByteTrack "
                         f"{speed[IMPLEMENTATIONS[0]]:.1f}x faster ({speed[IMPLEMENTATIONS[1]]:.1f}x with trackers' "
                         "parameters)")
        values[str(density)] = entry
    return {"values": values, "lines": lines}


def main(argv: Optional[Sequence[str]] = None) -> int:
    return cli_main("mot", run, argv, __doc__.split("\n\n")[0],
                    "100 frames per sequence, one run (a smoke test)", "timed runs per tracker (3; 1 with --quick)")


if __name__ == "__main__":
    import sys

    sys.exit(main())
