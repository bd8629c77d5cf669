"""RoIAlign and RoIPool, forward and backward: opticore beside torchvision, timed in one process.

Both libraries get the same float32 tensors; each figure is the median of ``repeats`` calls after
one warm-up call. Backward rows time the backward operators alone (``roi_align_backward`` /
torchvision's ``_roi_align_backward``) on the same incoming gradient. torchvision's CPU kernels
are serial; opticore's run on ``--threads`` threads. Run ``python -m opticore.bench.roi --help``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

import opticore

from . import _common
from ._common import fmt_number, median_ms

IMPLEMENTATIONS = ("opticore", "torchvision")
SPATIAL_SCALE = 1 / 16
SAMPLING_RATIO = 2
SETUP = (
    "Mask R-CNN-like: features (2, 256, 64, 64) float32 (a stride-16 map of a 1024 x 1024 image), RoIs "
    f"uniform in the image with sides 32..512 px, spatial_scale 1/16, sampling_ratio {SAMPLING_RATIO}, "
    "aligned=True; backward: the gradient of sum(output * G), G ~ N(0, 1)"
)

Call = Callable[[], Any]


@dataclass(frozen=True)
class Case:
    """One benchmark case: each implementation as a ready-to-time call (None: not available)."""

    name: str
    rois: int
    calls: Dict[str, Optional[Call]]


def make_rois(rng: np.random.Generator, k: int, batch: int, image: float) -> np.ndarray:
    """``(k, 5)`` float32 RoIs over ``batch`` images of ``image`` x ``image`` pixels."""
    size = rng.uniform(32, 512, (k, 2))
    corner = rng.uniform(0, image, (k, 2)) - size / 2
    return np.column_stack([rng.integers(0, batch, k), corner, corner + size]).astype(np.float32)


def build_cases(quick: bool, torch: Any, tv: Any) -> List[Case]:
    """Every case, its inputs drawn from a fixed seed so that runs stay comparable."""
    rng = np.random.default_rng(0)
    n, c, h, w = (2, 256, 64, 64)
    k = 128 if quick else 512
    x = torch.from_numpy(rng.standard_normal((n, c, h, w)).astype(np.float32))
    rois = torch.from_numpy(make_rois(rng, k, n, 16.0 * h))
    ops = opticore.torch.ops()
    cases = []
    for size in (7, 14):
        grad = torch.from_numpy(rng.standard_normal((k, c, size, size)).astype(np.float32))
        align = (SPATIAL_SCALE, size, size, SAMPLING_RATIO, True)
        backward = (SPATIAL_SCALE, size, size, n, c, h, w, SAMPLING_RATIO, True)
        calls: Dict[str, Optional[Call]] = {
            "opticore": lambda a=align: ops.roi_align(x, rois, *a), "torchvision": None}
        back: Dict[str, Optional[Call]] = {
            "opticore": lambda b=backward, g=grad: ops.roi_align_backward(g, rois, *b), "torchvision": None}
        if tv is not None:
            calls["torchvision"] = lambda a=align: tv.ops.roi_align(x, rois, (a[1], a[2]), a[0], a[3], a[4])
            back["torchvision"] = lambda b=backward, g=grad: torch.ops.torchvision._roi_align_backward(g, rois, *b)
        cases.append(Case(f"roi_align forward {size}x{size}", k, calls))
        cases.append(Case(f"roi_align backward {size}x{size}", k, back))
    size = 7
    grad = torch.from_numpy(rng.standard_normal((k, c, size, size)).astype(np.float32))
    _, argmax = ops.roi_pool(x, rois, SPATIAL_SCALE, size, size)
    pool: Dict[str, Optional[Call]] = {"opticore": lambda: ops.roi_pool(x, rois, SPATIAL_SCALE, size, size)[0],
                                       "torchvision": None}
    pool_back: Dict[str, Optional[Call]] = {
        "opticore": lambda: ops.roi_pool_backward(grad, rois, argmax, SPATIAL_SCALE, size, size, n, c, h, w),
        "torchvision": None}
    if tv is not None:
        pool["torchvision"] = lambda: tv.ops.roi_pool(x, rois, size, SPATIAL_SCALE)
        argmax_tv = argmax.int()  # torchvision keeps int32 indices; the same ones (tests/python/test_roi_torchvision)
        pool_back["torchvision"] = lambda: torch.ops.torchvision._roi_pool_backward(
            grad, rois, argmax_tv, SPATIAL_SCALE, size, size, n, c, h, w)
    cases.append(Case(f"roi_pool forward {size}x{size}", k, pool))
    cases.append(Case(f"roi_pool backward {size}x{size}", k, pool_back))
    return cases


def run_case(case: Case, repeats: int) -> Dict[str, Any]:
    """Time every available implementation of ``case``; compare its output with opticore's."""
    ms: Dict[str, float] = {}
    outputs: Dict[str, Any] = {}
    for impl, call in case.calls.items():
        if call is not None:
            ms[impl], outputs[impl] = median_ms(call, repeats)
    diff = None
    if "torchvision" in outputs:
        diff = float((outputs["opticore"] - outputs["torchvision"]).abs().max())
    return {
        "case": case.name,
        "rois": case.rois,
        "ms": {impl: ms.get(impl) for impl in IMPLEMENTATIONS},
        "speedup": ms["torchvision"] / ms["opticore"] if "torchvision" in ms else None,
        "max_abs_diff": diff,
    }


def format_report(report: Dict[str, Any]) -> str:
    """``report`` (as returned by :func:`run`) as a header, an aligned plain-text table and a legend."""
    m = report["metadata"]
    tv = f"torchvision {m['torchvision']}" if m["torchvision"] else "torchvision not installed"
    header = (f"opticore {m['opticore']} | threads {m['threads']} | repeats {m['repeats']} | torch {m['torch']} | "
              f"{tv} | {m['cpu']}, {m['cpu_count']} CPUs | Python {m['python']}")
    rows = [["case", "K", "opticore ms", "torchvision ms", "x vs torchvision", "max |diff|"]]
    for r in report["cases"]:
        diff = "n/a" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.1e}"
        rows.append([r["case"], str(r["rois"])] + [fmt_number(r["ms"][i], "ms") for i in IMPLEMENTATIONS]
                    + [fmt_number(r["speedup"], "x"), diff])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join([row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])])
             for row in rows]
    legend = "x = torchvision ms / opticore ms (>1: opticore faster); max |diff| of the outputs"
    return "\n".join([header, m["setup"], "", lines[0], "-" * len(lines[0])] + lines[1:] + ["", legend])


def run(
    quick: bool = False, threads: int = 1, json_path: Optional[str] = None, repeats: Optional[int] = None
) -> Dict[str, Any]:
    """Run every case, print the table and return ``{"metadata": {...}, "cases": [...]}``.

    Args:
        quick: 128 RoIs instead of 512 and 3 repeats instead of 7.
        threads: thread count for opticore and torch alike; left set when this returns.
        json_path: if given, the returned dict is also written there as JSON.
        repeats: timed calls per implementation and case; the median is reported.

    Raises:
        RuntimeError: torch or opticore's torch operators are not installed.
    """
    return run_against_torchvision("roi", build_cases, SETUP, quick, threads, json_path,
                                   (3 if quick else 7) if repeats is None else repeats)


def run_against_torchvision(
    name: str, build: Callable[[bool, Any, Any], List[Case]], setup: str, quick: bool, threads: int,
    json_path: Optional[str], repeats: int,
) -> Dict[str, Any]:
    """Benchmark ``name``: the cases ``build(quick, torch, torchvision or None)`` makes, timed on
    ``threads`` threads, printed as a table (:func:`format_report`) and returned as a report."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    try:
        import torch
    except ImportError:
        raise RuntimeError(f"bench {name} needs torch (the operators' backward runs on torch tensors)") from None
    import opticore.nn  # noqa: F401  (opticore.torch.ops, and the modules)

    opticore.set_num_threads(threads)
    torch.set_num_threads(threads)
    tv_pair, tv_missing = _common.load_torchvision(threads)
    if tv_missing:
        print(f"bench {name}: {tv_missing}", file=sys.stderr)
    tv = tv_pair[1] if tv_pair is not None else None
    cases = _common.time_cases(name, build(quick, torch, tv), run_case, repeats)
    metadata = _common.timing_metadata(quick, threads, repeats, None, setup, torch=torch.__version__,
                                       torchvision=getattr(tv, "__version__", None))
    report = {"metadata": metadata, "cases": cases}
    return _common.publish(report, format_report(report), json_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    return _common.cli_main("roi", run, argv, __doc__.splitlines()[0], "128 RoIs instead of 512, 3 repeats",
                            "timed calls per case (7; --quick: 3)")


if __name__ == "__main__":
    sys.exit(main())
