"""PFLD inference runtimes: eager PyTorch against its exports, in one run.

PFLD 0.25X and 1X (98 points), 112 x 112, batch 1 and 8, on 1 and 2 threads (and ``--threads``
if more): eager PyTorch (eval, no_grad), the AOTInductor ``.pt2`` package through
``torch._inductor.aoti_load_package`` (Python) and through opticore's C++ runner
(:class:`opticore.runtime.Runner`, when the runtime is available), onnxruntime (CPU provider) on the ONNX file,
the ExecuTorch runtime on the XNNPACK ``.pte`` (float32, and int8 calibrated on generated
faces). Each figure is the median of ``repeats`` calls after a warm-up call, the backends taking
turns call by call (:func:`opticore.bench._common.interleaved_median_ms`); the ratio is eager's
time over the backend's (above 1: faster than eager); sizes are the files'. The models are
untrained (random weights, random batch-norm statistics): speed does not depend on training.
The exports are made first (minutes: ``.pt2`` compiles C++). Run ``python -m
opticore.bench.runtime --help``.

:data:`BACKENDS` is the table of what is timed: a backend is the format it runs and a loader
``(path, threads) -> callable(x)``, ``x`` a float32 NumPy array ``(N, 3, 112, 112)``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence

from . import _common
from ._common import fmt_number, interleaved_median_ms

SETUP = ("PFLD(98, width), eval, random weights and batch-norm statistics (seed 0), input (N, 3, 112, 112) "
         "float32 uniform [0, 1]; int8 calibrated on 64 generated faces")


class Backend(NamedTuple):
    """A runtime to time: ``format`` of the file it runs (``None``: the eager model itself, passed
    as ``path``), ``int8`` whether it runs the int8 ``.pte``, ``load(path, threads) -> run`` where
    ``run(x)`` takes a float32 NumPy array ``(N, 3, 112, 112)``."""

    format: Optional[str]
    load: Callable[[Any, int], Callable[[Any], Any]]
    int8: bool = False


def _eager(model: Any, threads: int) -> Callable[[Any], Any]:
    import torch

    torch.set_num_threads(threads)

    def run(x: Any) -> Any:
        with torch.no_grad():
            return model(torch.from_numpy(x))

    return run


def _pt2(path: Path, threads: int) -> Callable[[Any], Any]:
    import torch

    from ..export.pt2 import load_pt2

    torch.set_num_threads(threads)  # the package's kernels run on torch's OpenMP threads
    package = load_pt2(path)
    return lambda x: package(torch.from_numpy(x))


def _cpp_runner(path: Path, threads: int) -> Callable[[Any], Any]:
    from .. import runtime

    runner = runtime.Runner(path, num_threads=threads)  # NumPy in and out, inputs checked, GIL released
    return lambda x: runner(x)


def _onnx(path: Path, threads: int) -> Callable[[Any], Any]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


def _pte(path: Path, threads: int) -> Callable[[Any], Any]:
    import torch
    from executorch.extension.pybindings.portable_lib import _unsafe_reset_threadpool

    from ..export.pte import load_pte

    _unsafe_reset_threadpool(threads)  # XNNPACK's thread pool
    method = load_pte(path)
    return lambda x: method(torch.from_numpy(x))


#: What is timed, in the table's column order (see the module docstring to add one).
BACKENDS: Dict[str, Backend] = {
    "eager": Backend(None, _eager),
    "pt2 (python)": Backend("pt2", _pt2),
    "pt2 C++ runner": Backend("pt2", _cpp_runner),
    "onnxruntime": Backend("onnx", _onnx),
    "executorch": Backend("pte", _pte),
    "executorch int8": Backend("pte", _pte, int8=True),
}


def _exports(model: Any, folder: Path, name: str, batches: Sequence[int],
             backends: Iterable[Backend]) -> Dict[str, Any]:
    """The model's files, one per (format, int8) the backends need: ``{"pt2": report, ...}``
    (:class:`opticore.export.ExportReport`: path, size, error against eager)."""
    import torch

    from ..export import export_model
    from ..export.command import generated_faces

    calibration = torch.from_numpy(generated_faces(64, 112, 3 * 10**6)).split(8)
    example = torch.rand(2, 3, 112, 112, generator=torch.Generator().manual_seed(1))
    files = {}
    for backend in backends:
        if backend.format is None:
            continue
        key = backend.format + ("-int8" if backend.int8 else "")
        if key not in files:
            # .pte memory plans cap the batch (see opticore.export.pte): export for the largest one.
            out = folder / f"{name}.{key}.{backend.format}"
            files[key] = export_model(model, example, backend.format, out, int8=backend.int8,
                                      calibration=calibration if backend.int8 else None,
                                      max_batch=max(*batches, 8) + 1)  # as --quick: 9
    return files


def run(*, quick: bool = False, threads: int = 1, json_path: Optional[str] = None,
        repeats: Optional[int] = None) -> Dict[str, Any]:
    import numpy as np
    import torch

    from .. import runtime
    from ..models.pfld import PFLD

    backends = dict(BACKENDS)
    usable, why = runtime.available()
    if not usable:
        del backends["pt2 C++ runner"]
        print(f"pt2 C++ runner: n/a ({why})", file=sys.stderr)
    repeats = repeats or (5 if quick else 50)
    widths = (0.25,) if quick else (0.25, 1.0)
    batches = (1,) if quick else (1, 8)
    thread_counts = sorted({1, 2, threads})
    rows: List[Dict[str, Any]] = []
    errors: Dict[str, Dict[str, float]] = {}  # model -> file -> max abs error against eager
    with tempfile.TemporaryDirectory() as tmp:
        for width in widths:
            torch.manual_seed(0)
            model = PFLD(98, width).eval()
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.running_mean.uniform_(-0.2, 0.2)
                        m.running_var.uniform_(0.5, 2.0)
            name = f"PFLD {width:g}X"
            reports = _exports(model, Path(tmp), f"pfld{width:g}", batches, backends.values())
            sizes = {key: report.size_bytes for key, report in reports.items()}
            errors[name] = {key: report.max_abs_error for key, report in reports.items()}
            for t in thread_counts:
                for batch in batches:
                    x = np.random.default_rng(batch).random((batch, 3, 112, 112), dtype=np.float32)
                    row: Dict[str, Any] = {"model": name, "threads": t, "batch": batch, "ms": {}, "mb": {}}
                    calls = {}
                    for label, backend in backends.items():
                        key = None if backend.format is None else backend.format + ("-int8" if backend.int8 else "")
                        runner = backend.load(model if key is None else reports[key].path, t)
                        calls[label] = lambda r=runner, a=x: r(a)
                        row["mb"][label] = (sum(p.numel() for p in model.parameters()) * 4 if key is None
                                            else sizes[key]) / 1e6
                    for label, (time_ms, _) in interleaved_median_ms(calls, repeats).items():
                        row["ms"][label] = time_ms
                    rows.append(row)
    labels = list(backends)
    lines = [f"PFLD inference, 112 x 112, median of {repeats} (ms; ratio = eager / backend); {_common.cpu_name()}",
             f"{'model':<10} {'thr':>3} {'batch':>5} " + " ".join(f"{label:>20}" for label in labels)]
    for r in rows:
        eager = r["ms"]["eager"]
        cells = [f"{fmt_number(r['ms'][label], 'ms')} ({fmt_number(eager / r['ms'][label], 'x')})"
                 for label in labels]
        lines.append(f"{r['model']:<10} {r['threads']:>3} {r['batch']:>5} " + " ".join(f"{c:>20}" for c in cells))
    for width in widths:
        r = next(row for row in rows if row["model"] == f"PFLD {width:g}X")
        lines.append(f"PFLD {width:g}X size MB: " + ", ".join(f"{label} {r['mb'][label]:.3f}" for label in labels)
                     + " (eager: float32 parameters)")
        lines.append(f"PFLD {width:g}X max abs error vs eager: "
                     + ", ".join(f"{key} {error:.1e}" for key, error in errors[f"PFLD {width:g}X"].items()))
    report = {"meta": {"threads": thread_counts, "repeats": repeats, "torch": torch.__version__, "quick": quick,
                       **_common.machine(), "setup": SETUP}, "results": rows,
              "max_abs_error": errors}
    return _common.publish(report, "\n".join(lines), json_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return _common.cli_main("runtime", run, argv, __doc__ or "",
                            "PFLD 0.25X at batch 1 only, 5 repeats",
                            "calls per case (default 50, 5 with --quick); always 1 and 2 threads, "
                            "and --threads if more")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
