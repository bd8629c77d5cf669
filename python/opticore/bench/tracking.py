"""Trackers scored with the OTB protocol: opticore's MOSSE / KCF / KCF+DSST beside OpenCV's MOSSE, KCF
and CSRT, on the same sequences in one run.

Sequences: a virtual camera over scikit-image's sample photographs (or ``--images``), one per
motion kind (translation, fast motion, scale 0.5-2x, in-plane rotation, motion blur, illumination,
partial occlusion), each seeded, with exact ground truth (:mod:`opticore.eval.tracking.synthetic`);
plus any ``--otb VIDEO GT`` pairs. Scores: success AUC over IoU thresholds 0..1 (21, IoU > t),
precision at 20 px (error <= 20), and frames per second of tracker time (``init`` + ``update``
only; frames are made before the clock starts). Writes ``success.png``, ``precision.png`` and
``results.json`` to ``--out``. Trackers that are not installed are reported and skipped.
Run ``python -m opticore.bench.tracking --help``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import Any, Dict, List, Optional
from typing import Sequence as Seq

import numpy as np

import opticore
from opticore._progress import progress_bar
from opticore.eval.tracking import (
    BUILTIN_IMAGES,
    MOTIONS,
    OPENCV_COUNTERPART,
    TRACKERS,
    Sequence,
    available,
    create,
    default_suite,
    load_otb,
    metrics,
    track,
)

from ._common import machine, prog, write_json

FRAME_SIZE = (320, 240)
CACHE_BYTES = 512 << 20  # sequences smaller than this are decoded once and shared by every tracker


def _cached(seq: Sequence) -> Sequence:
    """The same sequence with its frames held in memory when they fit in :data:`CACHE_BYTES`
    (made or decoded once: the first frame sizes the whole, the rest come from the same pass)."""
    if seq.groundtruth is None:
        return seq
    frames = seq.frames()
    first = next(frames, None)
    if first is None or first.nbytes * len(seq) > CACHE_BYTES:
        return seq
    held = [first, *frames]
    return dataclasses.replace(seq, make_frames=lambda: iter(held))


def _summary(per_seq: List[Dict[str, Any]]) -> Dict[str, Any]:
    """OTB's overall scores: the per-sequence curves averaged; fps = all frames / all tracker time."""
    success = np.mean([r["success"] for r in per_seq], axis=0)
    precision = np.mean([r["precision"] for r in per_seq], axis=0)
    frames = sum(r["frames"] for r in per_seq)
    seconds = sum(r["seconds"] for r in per_seq)
    kinds: Dict[str, List[float]] = {}
    for r in per_seq:
        kinds.setdefault(r["kind"], []).append(r["auc"])
    return {"auc": float(success.mean()), "precision20": float(precision[20]),
            "fps": frames / seconds if seconds > 0 else None, "frames": frames, "seconds": seconds,
            "success": success.tolist(), "precision": precision.tolist(),
            "auc_by_kind": {k: float(np.mean(v)) for k, v in kinds.items()}}


def _comparisons(results: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    rows = []
    for ours, (theirs, fps_target) in OPENCV_COUNTERPART.items():
        a, b = results.get(ours), results.get(theirs)
        if not a or not b or "auc" not in a or "auc" not in b:
            continue
        ratio = a["fps"] / b["fps"] if a["fps"] and b["fps"] else None
        met = a["auc"] >= b["auc"] and ratio is not None and ratio >= fps_target
        rows.append({"tracker": ours, "reference": theirs, "auc_diff": a["auc"] - b["auc"], "fps_ratio": ratio,
                     "target": f"AUC >= {theirs}, fps >= {fps_target:g}x", "met": met})
    return rows


def run_all(sequences: List[Sequence], names: Seq[str]) -> Dict[str, Dict[str, Any]]:
    """Every available tracker on every sequence: ``{tracker: summary | {"unavailable": why}}``."""
    results: Dict[str, Dict[str, Any]] = {}
    per: Dict[str, List[Dict[str, Any]]] = {}
    for name in names:
        why = available(name)
        if why is not None:
            results[name] = {"unavailable": why}
            print(f"skipping {name}: {why}", file=sys.stderr)
        else:
            per[name] = []
    progress = progress_bar(len(sequences) * len(per), "bench tracking", "run")
    try:
        for seq in sequences:
            seq = _cached(seq)
            for name, rows in per.items():
                progress.set_postfix_str(f"{name} on {seq.name}")
                result = track(create(name), seq)
                s = result.scores(seq.groundtruth)
                rows.append({"sequence": seq.name, "kind": seq.kind, "auc": s["auc"],
                             "precision20": s["precision20"], "fps": result.fps, "frames": len(result.boxes),
                             "seconds": result.seconds, "lost": float(1 - result.ok.mean()),
                             "success": s["success"], "precision": s["precision"]})
                progress.update()
    finally:
        progress.close()
    for name, rows in per.items():
        results[name] = {**_summary(rows), "sequences": rows}
    return results


def _fmt(v: Optional[float], spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


def format_report(report: Dict[str, Any]) -> str:
    """``report`` (as returned by :func:`run`) as a header and aligned plain-text tables."""
    m = report["metadata"]
    header = (f"opticore {m['opticore']} | threads {m['threads']} | cv2 {m['cv2'] or 'not installed'} | "
              f"{m['cpu']}, {m['cpu_count']} CPUs | Python {m['python']}")
    setup = (f"{len(m['sequences'])} sequences, {m['frames']} frames: {m['setup']}")
    comps = {c["tracker"]: c for c in report["comparisons"]}
    rows = [["tracker", "AUC", "P@20", "fps", "lost", "vs", "dAUC", "fps ratio", "target", "met?"]]
    for name, r in report["trackers"].items():
        if "unavailable" in r:
            rows.append([name, "skipped: " + r["unavailable"]])
            continue
        c = comps.get(name)
        lost = float(np.mean([s["lost"] for s in r["sequences"]]))
        rows.append([name, f"{r['auc']:.3f}", f"{r['precision20']:.3f}", _fmt(r["fps"], ".0f"), f"{lost:.0%}"]
                    + (["", "", "", "", ""] if c is None else
                       [c["reference"], f"{c['auc_diff']:+.3f}", _fmt(c["fps_ratio"], ".2f") + "x", c["target"],
                        "yes" if c["met"] else "NO"]))
    if not comps:  # nothing to compare with: leave the comparison columns out
        rows = [r[:5] if len(r) > 2 else r for r in rows]
    full = [r for r in rows if len(r) > 2]
    widths = [max(len(r[i]) for r in full) for i in range(len(rows[0]))]
    widths[0] = max(len(r[0]) for r in rows)
    lines = []
    for r in rows:
        if len(r) == 2:
            lines.append(f"{r[0].ljust(widths[0])}  {r[1]}")
        else:
            lines.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]).rstrip())
    kinds = [k for k in MOTIONS + ("video",) if any(k in r.get("auc_by_kind", {}) for r in report["trackers"].values())]
    krows = [["AUC by kind"] + kinds] + [[n] + [f"{r['auc_by_kind'][k]:.3f}" if k in r["auc_by_kind"] else "-"
                                               for k in kinds]
                                         for n, r in report["trackers"].items() if "auc" in r]
    kw = [max(len(r[i]) for r in krows) for i in range(len(krows[0]))]
    klines = ["  ".join([r[0].ljust(kw[0])] + [c.rjust(w) for c, w in zip(r[1:], kw[1:])]) for r in krows]
    legend = ("AUC: area under the OTB success plot (IoU > t, t = 0, 0.05, ..., 1; a perfect track scores 0.952); "
              "P@20: share of frames\nwith centre error <= 20 px; fps: frames / (init + update time); lost: share "
              "of frames the tracker reported not ok" + ("; dAUC, fps ratio: against the OpenCV tracker in 'vs'"
                                                        if comps else ""))
    return "\n".join([header, setup, "", lines[0], "-" * len(lines[0])] + lines[1:]
                     + ([""] + klines if len(krows) > 1 else []) + ["", legend])


def run(quick: bool = False, trackers: Optional[Seq[str]] = None, images: Optional[Seq[str]] = None,
        otb: Seq[Seq[str]] = (), frames: Optional[int] = None, seed: int = 0, threads: int = 1,
        out: Optional[str] = None, json_path: Optional[str] = None) -> Dict[str, Any]:
    """Run the benchmark, print the tables and return ``{"metadata", "trackers", "comparisons"}``.

    Args:
        quick: one short sequence per motion kind (photographs taken in turn) instead of every
            kind on every photograph.
        trackers: names from :data:`opticore.eval.tracking.TRACKERS`; default all of them.
        images: photographs (built-in names or paths); default every built-in one.
        otb: ``(video_or_folder, groundtruth_txt)`` pairs to add.
        frames: frames per synthetic sequence (default 150; quick: 60).
        seed: the first synthetic sequence's seed.
        threads: thread count for opticore and OpenCV alike; left set when this returns.
        out: folder for ``success.png``, ``precision.png`` and ``results.json`` (created).
        json_path: also write the report there.
    """
    if threads < 1:
        raise ValueError(f"threads: expected >= 1, got {threads}")
    names = list(trackers or TRACKERS)
    opticore.set_num_threads(threads)
    try:
        import cv2
        cv2.setNumThreads(threads)
    except ImportError:
        cv2 = None
    n_frames = frames or (60 if quick else 150)
    sequences = default_suite(images, MOTIONS, frames=n_frames, size=FRAME_SIZE, seed=seed,
                              one_image_per_kind=quick)
    sequences += [load_otb(video, gt) for video, gt in otb]
    results = run_all(sequences, names)
    setup = (f"virtual camera over {', '.join(images or BUILTIN_IMAGES)}, {FRAME_SIZE[0]}x{FRAME_SIZE[1]}, "
             f"{n_frames} frames each, seeds {seed}..{seed + len(sequences) - len(otb) - 1}"
             + (f"; {len(otb)} OTB videos" if otb else ""))
    metadata = {"opticore": opticore.__version__, "quick": quick, "threads": threads,
                "cv2": getattr(cv2, "__version__", None), **machine(), "setup": setup,
                "sequences": [s.name for s in sequences], "frames": sum(len(s) for s in sequences),
                "success_thresholds": metrics.SUCCESS_THRESHOLDS.tolist(),
                "precision_thresholds": metrics.PRECISION_THRESHOLDS.tolist()}
    report = {"metadata": metadata, "trackers": results, "comparisons": _comparisons(results)}
    print(format_report(report))
    if out is not None:
        os.makedirs(out, exist_ok=True)
        scored = {n: r for n, r in results.items() if "auc" in r}
        if scored:
            metrics.plot_success({n: r["success"] for n, r in scored.items()}, os.path.join(out, "success.png"),
                                 f"Success plots of OPE ({len(sequences)} sequences)")
            metrics.plot_precision({n: r["precision"] for n, r in scored.items()},
                                   os.path.join(out, "precision.png"),
                                   f"Precision plots of OPE ({len(sequences)} sequences)")
        write_json(report, os.path.join(out, "results.json"))
        print(f"wrote {', '.join(sorted(os.listdir(out)))} to {out}")
    write_json(report, json_path)
    return report


def parse_args(argv: Optional[Seq[str]]) -> argparse.Namespace:
    """The benchmark's options; bad values exit with status 2 before any work starts."""
    parser = argparse.ArgumentParser(prog=prog("tracking"), description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one 60-frame sequence per motion kind")
    parser.add_argument("--trackers", nargs="+", choices=list(TRACKERS), metavar="NAME",
                        help=f"trackers to run (default all: {', '.join(TRACKERS)})")
    parser.add_argument("--images", nargs="+", metavar="PATH",
                        help=f"photographs to film: built-in names ({', '.join(BUILTIN_IMAGES)}) or image files")
    parser.add_argument("--otb", nargs=2, action="append", default=[], metavar=("VIDEO", "GT"),
                        help="add a video file or frames folder with its OTB ground truth (x,y,w,h lines); repeatable")
    parser.add_argument("--frames", type=int, help="frames per synthetic sequence (default 150, --quick 60)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first synthetic sequence (0)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every library (1)")
    parser.add_argument("--out", metavar="DIR", default="opticore-bench-tracking",
                        help="folder for success.png, precision.png, results.json (./opticore-bench-tracking)")
    parser.add_argument("--json", metavar="PATH", dest="json_path", help="also write the results as JSON there")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.frames is not None and args.frames < 2:
        parser.error("--frames must be >= 2")
    for path in args.images or []:
        if path not in BUILTIN_IMAGES and not os.path.isfile(path):
            parser.error(f"--images: no such file {path!r} (built-in names: {', '.join(BUILTIN_IMAGES)})")
    for video, gt in args.otb:
        if not os.path.exists(video) or not os.path.isfile(gt):
            parser.error(f"--otb: no such video/folder {video!r} or ground-truth file {gt!r}")
    if args.json_path and not os.path.isdir(os.path.dirname(os.path.abspath(args.json_path))):
        parser.error(f"--json: no such directory for {args.json_path}")
    return args


def main(argv: Optional[Seq[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    args = parse_args(argv)
    run(quick=args.quick, trackers=args.trackers, images=args.images, otb=args.otb, frames=args.frames,
        seed=args.seed, threads=args.threads, out=args.out, json_path=args.json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
