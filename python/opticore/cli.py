"""The ``opticore`` command line.

    opticore info                    how this opticore was built
    opticore bench boxes [--quick]      NMS / batched NMS / Soft-NMS against OpenCV and torchvision
    opticore bench geometry [--quick]   umeyama, warp_affine, align_faces, random_warp vs scikit-image / NumPy + OpenCV

Exit codes: 0 success, 1 failure while running, 2 bad usage. Errors go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import List, Optional

# Benchmarks by name: module under opticore.bench with a main(argv) -> int.
BENCHMARKS = {"boxes": "opticore.bench.boxes", "geometry": "opticore.bench.geometry"}


def _info(args: argparse.Namespace) -> int:
    import opticore

    info = opticore.build_info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    module = importlib.import_module(BENCHMARKS[args.name])
    return int(module.main(args.bench_args))


def build_parser() -> argparse.ArgumentParser:
    import opticore

    parser = argparse.ArgumentParser(
        prog="opticore",
        description="opticore: fast, exact computer-vision operators (C++ core, NumPy and torch APIs).",
    )
    parser.add_argument("--version", action="version", version=f"opticore {opticore.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    info = commands.add_parser("info", help="print how opticore was built (compiler, torch, CUDA, threads)")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(run=_info)

    bench = commands.add_parser(
        "bench",
        help="run a benchmark against the reference implementations",
        description="Run a benchmark; options after the name go to it (try `opticore bench boxes --help`).",
    )
    bench.add_argument("name", choices=sorted(BENCHMARKS), help="which benchmark")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="options for the benchmark, e.g. --quick")
    bench.set_defaults(run=_bench)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("opticore: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a failure while running: one clear line on stderr, exit code 1
        print(f"opticore {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
