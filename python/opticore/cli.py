"""The ``opticore`` command line.

    opticore info                    how this opticore was built
    opticore demo [--video PATH]        find a face, track it, write an annotated video, boxes and plots
    opticore bench boxes [--quick]      NMS / batched NMS / Soft-NMS against OpenCV and torchvision
    opticore bench geometry [--quick]   umeyama, warp_affine, align_faces, random_warp vs scikit-image / NumPy + OpenCV
    opticore bench tracking [--quick]   MOSSE / KCF / KCF+DSST against OpenCV's trackers (OTB protocol)

Exit codes: 0 success, 1 failure while running, 2 bad usage. Errors go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import List, Optional

# Benchmarks by name: module under opticore.bench with a main(argv) -> int.
BENCHMARKS = {
    "boxes": "opticore.bench.boxes",
    "geometry": "opticore.bench.geometry",
    "tracking": "opticore.bench.tracking",
}


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


def _demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.run(args, args.demo_parser)


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

    from . import demo

    demo_parser = commands.add_parser("demo", help="track a face in a built-in sequence (or --video) and score it",
                                      description=demo.DESCRIPTION)
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(run=_demo, demo_parser=demo_parser)

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
