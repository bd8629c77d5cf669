"""Multi-object trackers: opticore's SORT / ByteTrack / OC-SORT beside roboflow ``trackers``' SORT /
ByteTrack / OC-SORT, on the same simulated crowds, in one run.

Sequences: :func:`opticore.eval.mot.simulate_crowd` with about 10, 30 and 100 people per frame
(seeded; 300 frames, 100 with ``--quick``): walkers that turn, enter and leave, occlude each
other while crossing, and a detector whose misses grow and scores drop with occlusion, with
jitter and false positives. Scores: HOTA, IDF1 and MOTA (opticore's metrics, which the tests check
against ``trackers.eval`` and py-motmetrics) and frames per second of tracker time (the
``update`` calls only; each library's inputs are built before the clock starts; the median over
``--repeats`` runs). Every tracker runs with its library's defaults. ``trackers`` is optional:
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


def _ours(method: str, frames: Frames) -> Runner:
    def run() -> Tuple[float, MotTable]:
        tracker = MultiTracker(method)
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


def _measure(run: Runner, repeats: int, crowd: Any) -> Dict[str, float]:
    times = []
    result = None
    for _ in range(repeats):
        seconds, result = run()
        times.append(seconds)
    assert result is not None
    scores = evaluate(crowd.groundtruth, result, crowd.num_frames)
    return {"fps": crowd.num_frames / statistics.median(times), "HOTA": scores["HOTA"], "IDF1": scores["IDF1"],
            "MOTA": scores["MOTA"], "AssA": scores["AssA"], "DetA": scores["DetA"], "IDSW": scores["IDSW"]}


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
             f"{'objects':>7} {'method':<10} {'ours HOTA':>9} {'IDF1':>6} {'MOTA':>6} {'fps':>9}   "
             f"{'trackers HOTA':>13} {'IDF1':>6} {'MOTA':>6} {'fps':>8}   {'speed':>7} {'dHOTA':>6}"]
    for density in DENSITIES:
        crowd = simulate_crowd(num_objects=density, num_frames=num_frames, seed=density)
        frames = [(rows_.boxes, rows_.scores) for _, rows_ in crowd.detections.by_frame(num_frames)]
        for method in METHODS:
            ours = _measure(_ours(method, frames), repeats, crowd)
            theirs = None if trackers is None else _measure(_theirs(method, frames, trackers, sv), repeats, crowd)
            row = {"objects": density, "method": method, "opticore": ours, "trackers": theirs,
                   "speedup": None if theirs is None else ours["fps"] / theirs["fps"],
                   "hota_difference": None if theirs is None else ours["HOTA"] - theirs["HOTA"]}
            rows.append(row)
            t = theirs or {}
            lines.append(
                f"{density:>7} {method:<10} {ours['HOTA']:>9.3f} {ours['IDF1']:>6.3f} {ours['MOTA']:>6.3f} "
                f"{ours['fps']:>9.0f}   {t.get('HOTA', float('nan')):>13.3f} {t.get('IDF1', float('nan')):>6.3f} "
                f"{t.get('MOTA', float('nan')):>6.3f} {t.get('fps', float('nan')):>8.0f}   "
                + ("n/a" if theirs is None else f"{row['speedup']:>6.1f}x {row['hota_difference']:>+6.3f}"))
    summary = _summary(rows)
    lines += ["", *summary["lines"]]
    report = {"benchmark": "mot", "quick": quick, "threads": threads, "repeats": repeats, "frames": num_frames,
              "opticore": opticore.__version__, **machine(), "rows": rows, "summary": summary["values"]}
    return publish(report, "\n".join(line for line in lines if line != ""), json_path)


def _summary(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Per density: our best HOTA against theirs, and our ByteTrack's speed ratio."""
    values: Dict[str, Any] = {}
    lines = []
    for density in DENSITIES:
        here = [r for r in rows if r["objects"] == density]
        best_ours = max(here, key=lambda r: r["opticore"]["HOTA"])
        byte = next(r for r in here if r["method"] == "bytetrack")
        entry: Dict[str, Any] = {"best_ours": best_ours["method"], "best_ours_hota": best_ours["opticore"]["HOTA"]}
        if byte["trackers"] is not None:
            best_theirs = max(here, key=lambda r: r["trackers"]["HOTA"])
            entry.update(best_theirs=best_theirs["method"], best_theirs_hota=best_theirs["trackers"]["HOTA"],
                         bytetrack_speedup=byte["speedup"])
            lines.append(f"{density:>3} objects: best HOTA ours {entry['best_ours_hota']:.3f} ({best_ours['method']}) "
                         f"vs trackers {entry['best_theirs_hota']:.3f} ({best_theirs['method']}); "
                         f"ByteTrack {byte['speedup']:.1f}x faster")
        values[str(density)] = entry
    return {"values": values, "lines": lines}


def main(argv: Optional[Sequence[str]] = None) -> int:
    return cli_main("mot", run, argv, __doc__.split("\n\n")[0],
                    "100 frames per sequence, one run (a smoke test)", "timed runs per tracker (3; 1 with --quick)")


if __name__ == "__main__":
    import sys

    sys.exit(main())
