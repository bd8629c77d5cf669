"""What every benchmark shares: timing, machine description, command-line options, JSON output."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any, Callable, Dict, Optional, Sequence, Tuple


def median_ms(call: Callable[[], Any], repeats: int) -> Tuple[float, Any]:
    """Median wall time of ``repeats`` calls in milliseconds, and the warm-up call's result."""
    out = call()  # warm-up: first-call costs (page faults, lazy initialisation) are not measured
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, out


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


def write_json(report: Dict[str, Any], path: Optional[str]) -> None:
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


def parse_args(
    argv: Optional[Sequence[str]], description: str, quick_help: str, repeats_help: str
) -> argparse.Namespace:
    """The options every benchmark takes: --quick, --threads, --json PATH, --repeats.
    Bad values exit with status 2 (argparse's convention) before any work starts."""
    parser = argparse.ArgumentParser(description=description)
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
