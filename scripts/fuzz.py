#!/usr/bin/env python3
"""A longer fuzzing campaign over opticore's NumPy bindings, run by hand.

Runs the hypothesis properties of tests/python/test_fuzz_*.py (the suite runs them derandomised,
60 examples each) with fresh random examples, round after round, until the time is up. Each
failure prints hypothesis's falsifying example and a ``@reproduce_failure`` blob; a crash of the
process (a segfault) is a failure too, reported by the exit status. Exits 1 if anything failed.

    python scripts/fuzz.py --minutes 30
    python scripts/fuzz.py --minutes 5 --only nms --examples 2000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default: 10)")
    parser.add_argument("--examples", type=int, default=500,
                        help="examples per property and round (default: 500)")
    parser.add_argument("--only", default="", help="run only the properties whose name contains this")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.examples <= 0:
        parser.error("--minutes and --examples must be positive")

    os.environ["OPTICORE_FUZZ_PROFILE"] = "opticore-campaign"  # read when fuzz_strategies is imported
    sys.path.insert(0, str(ROOT / "tests" / "python"))
    import importlib

    import hypothesis

    modules = [importlib.import_module(p.stem) for p in sorted((ROOT / "tests" / "python").glob("test_fuzz_*.py"))]

    hypothesis.settings.register_profile(
        "opticore-campaign", hypothesis.settings.get_profile("opticore-campaign"), max_examples=args.examples
    )
    hypothesis.settings.load_profile("opticore-campaign")
    properties = {
        name: test
        for module in modules
        for name, test in vars(module).items()
        if name.startswith("test_") and hasattr(test, "hypothesis") and args.only in name
    }
    if not properties:
        parser.error(f"no property matches --only {args.only!r}")

    import opticore

    print(f"opticore {opticore.__version__} from {Path(opticore.__file__).parent}; "
          f"{len(properties)} properties, {args.examples} examples each per round, {args.minutes:g} min")
    deadline = time.monotonic() + 60 * args.minutes
    failed: dict[str, int] = {}
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        for name, test in properties.items():
            if time.monotonic() >= deadline:
                break
            start = time.monotonic()
            try:
                test()
                status = "ok"
            except Exception:  # a failing property: report it and go on with the others
                traceback.print_exc()
                failed[name] = failed.get(name, 0) + 1
                status = "FAILED"
            print(f"round {rounds}  {name:60s} {status} ({time.monotonic() - start:.1f} s)", flush=True)
    print(f"{rounds} round(s); " + (f"failures: {failed}" if failed else "no failures"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
