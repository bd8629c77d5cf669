"""What every benchmark shares: timing, machine description, command-line options, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import opticore

from .._progress import progress_bar


def median_ms(call: Callable[[], Any], repeats: int) -> Tuple[float, Any]:
    """Median wall time of ``repeats`` calls in milliseconds, and the warm-up call's result."""
    out = call()  # warm-up: first-call costs (page faults, lazy initialisation) are not measured
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, out


def interleaved_median_ms(calls: Dict[str, Callable[[], Any]], repeats: int) -> Dict[str, Tuple[float, Any]]:
    """Median wall time (ms) of ``repeats`` calls of each, and its warm-up call's result. The calls
    take turns in ten rounds of blocks (``repeats // 10`` calls of one, then of the next), so that
    a machine whose speed drifts during the run (other tenants, frequency changes) slows every
    implementation alike and their ratios hold, while a library's worker threads that spin for a
    while after its calls (OpenMP, onnxruntime) disturb only the first call of the next block."""
    out = {name: call() for name, call in calls.items()}  # warm-up
    times: Dict[str, List[float]] = {name: [] for name in calls}
    block = max(1, repeats // 10)
    while any(len(t) < repeats for t in times.values()):
        for name, call in calls.items():
            for _ in range(min(block, repeats - len(times[name]))):
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]) * 1e3, out[name]) for name in calls}


def time_cases(name: str, cases: Sequence[Any], run_case: Callable[[Any, int], Dict[str, Any]],
               repeats: int) -> List[Dict[str, Any]]:
    """``run_case(case, repeats)`` for each case, under a progress bar named after benchmark ``name``."""
    progress = progress_bar(len(cases), f"bench {name}", "case")
    results = []
    try:
        for case in cases:
            results.append(run_case(case, repeats))
            progress.update()
    finally:
        progress.close()
    return results


def load_cv2(threads: int) -> Optional[Any]:
    """OpenCV set to ``threads`` threads, or None where it is not installed."""
    try:
        import cv2
    except ImportError:
        return None
    cv2.setNumThreads(threads)
    return cv2


#: How to get torchvision for the comparison (printed when it cannot be imported).
TORCHVISION_HINT = (
    "to compare with it, install torch with its matching torchvision in a separate virtual environment, "
    "e.g. pip install torch==2.14.1 torchvision==0.29.1 (PyPI's torchvision does not import beside the "
    "torch 2.13.0 CPU build)"
)


def load_torchvision(threads: int) -> Tuple[Optional[Tuple[Any, Any]], Optional[str]]:
    """``((torch, torchvision), None)``, or ``(None, why not and how to get it)``."""
    try:  # torchvision first: where it is missing, torch is not imported for nothing
        import torchvision
        import torch
    except ImportError as exc:
        missing = "torchvision" if exc.name in (None, "torchvision") else f"{exc.name} (needed by torchvision)"
        return None, f"{missing} not installed; {TORCHVISION_HINT}"
    except (RuntimeError, OSError) as exc:  # e.g. a torchvision built for another torch
        return None, f"torchvision failed to import ({exc}); {TORCHVISION_HINT}"
    torch.set_num_threads(threads)
    return (torch, torchvision), None


def fmt_number(value: Optional[float], kind: str) -> str:
    """A timing (``kind`` "ms") or a ratio ("x") for a report's table; ``n/a`` for None."""
    if value is None:
        return "n/a"
    if kind == "ms":
        return f"{value:.3f}" if value < 10 else f"{value:.1f}"
    if kind == "x":
        return f"{value:.2f}x" if value < 1 else f"{value:.1f}x"
    raise ValueError(f"kind: expected 'ms' or 'x', got {kind!r}")


def cpu_name() -> str:
    # platform.processor() is empty on most Linux systems, where /proc/cpuinfo names the model.
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        models = []
    return models[0] if models else platform.processor() or platform.machine()


def machine() -> Dict[str, Any]:
    """CPU model, CPU count and Python version, for a report's metadata."""
    return {"cpu": cpu_name(), "cpu_count": os.cpu_count(), "python": platform.python_version()}


def timing_metadata(
    quick: bool, threads: int, repeats: Optional[int], cv2: Any, setup: str, **versions: Optional[str]
) -> Dict[str, Any]:
    """A timing benchmark's report metadata: its options, opticore's, OpenCV's and ``versions``'
    versions (None: not installed), the machine and ``setup``."""
    return {"opticore": opticore.__version__, "quick": quick, "threads": threads, "repeats": repeats,
            "cv2": getattr(cv2, "__version__", None), **versions, **machine(), "setup": setup}


def write_json(report: Dict[str, Any], path: Optional[str]) -> None:
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


def publish(report: Dict[str, Any], text: str, json_path: Optional[str]) -> Dict[str, Any]:
    """Print ``text`` (the report as a table), write ``report`` as JSON where asked; ``report``."""
    print(text)
    write_json(report, json_path)
    return report


def prog(name: str) -> str:
    """Benchmark ``name``'s program name in its usage and error lines, however it was started."""
    return f"opticore bench {name}"


def parse_args(
    name: str, argv: Optional[Sequence[str]], description: str, quick_help: str, repeats_help: str
) -> argparse.Namespace:
    """The options every timing benchmark takes: --quick, --threads, --json PATH, --repeats.
    Bad values exit with status 2 (argparse's convention) before any work starts."""
    parser = argparse.ArgumentParser(prog=prog(name), description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--threads", type=int, default=1, help="threads for every library (1)")
    parser.add_argument("--json", metavar="PATH", dest="json_path", help="also write the results as JSON")
    parser.add_argument("--repeats", type=int, help=repeats_help)
    args = parser.parse_args(argv)
    if args.threads < 1 or (args.repeats is not None and args.repeats < 1):
        parser.error("--threads and --repeats must be >= 1")
    # Checked now rather than after a run of minutes.
    if args.json_path and not os.path.isdir(os.path.dirname(os.path.abspath(args.json_path))):
        parser.error(f"--json: no such directory for {args.json_path}")
    return args


def cli_main(
    name: str, run: Callable[..., Any], argv: Optional[Sequence[str]], description: str, quick_help: str,
    repeats_help: str,
) -> int:
    """Timing benchmark ``name``'s command line: :func:`parse_args`, then ``run`` with the options; 0."""
    args = parse_args(name, argv, description, quick_help, repeats_help)
    run(quick=args.quick, threads=args.threads, json_path=args.json_path, repeats=args.repeats)
    return 0
