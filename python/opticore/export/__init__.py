"""Export trained models to deployable files, run them back and compare with the eager model.

Formats (:data:`FORMATS`), one module each:

* ``"pt2"`` (:mod:`opticore.export.pt2`): an AOTInductor package for servers and desktops (C++
  through opticore's runtime runner, or Python); compiled for one CPU instruction set (``cpu=``).
* ``"onnx"`` (:mod:`opticore.export.onnx`): an ONNX file for onnxruntime and other runtimes;
  ``torch.ops.opticore.nms`` / ``roi_align`` become standard ONNX operators.
* ``"pte"`` (:mod:`opticore.export.pte`): an ExecuTorch program with the XNNPACK delegate for
  phones and edge devices, float32 or int8 (``int8=True`` with ``calibration`` batches).

:func:`export_model` writes the file, loads it back with its runtime (``aoti_load_package``,
onnxruntime, ``executorch.runtime``), runs it on the example input and on a batch of another
size (the batch dimension is dynamic in every format), and reports the largest absolute
difference from the eager model and the file size in an :class:`ExportReport`.

Tolerances (:data:`TOLERANCES`, float32): an export must match the eager model within
``tolerance * max(1, max |eager output|)``; a float export beyond it raises ``RuntimeError``
(it is a broken export, not rounding); the measurements are beside :data:`TOLERANCES`. int8
exports have no elementwise tolerance: they are judged by the task's metric (for PFLD, NME on
held-out faces within 5 % of the float model's; see ``opticore export --int8``).

``example_input``: a float32 tensor ``(N, ...)`` (or a tuple of them) as the model takes it, on
the CPU; the model is put in eval mode. Requires the ``opticore[edge]`` extra (onnx,
onnxruntime, onnxscript, executorch, torchao) for ONNX and ``.pte``; ``.pt2`` needs only torch
and a C++ compiler.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

if TYPE_CHECKING:  # torch is imported when an export runs, so that the command line starts fast
    import torch

    Inputs = Union[torch.Tensor, Sequence[torch.Tensor]]

__all__ = ["FORMATS", "TOLERANCES", "ExportReport", "export_model", "load_exported"]

#: The export formats, by file suffix.
FORMATS = ("pt2", "onnx", "pte")

#: Largest accepted ``max |export - eager| / max(1, max |eager|)`` per float32 format. Measured
#: on PFLD 0.25X / 1X and MiniFASNet-V2SE (random weights and batch-norm statistics, batches 1,
#: 2, 3, 7; AMD EPYC, AVX2): at most 1.1e-7 in every format (pt2 8e-8, onnx 1.0e-7, pte 1.0e-7).
#: The bound is 100 times that: other CPUs sum in other orders (AVX-512, fused multiply-add,
#: other oneDNN / XNNPACK convolution algorithms); a wrong fusion or layout is far above it.
TOLERANCES = {"pt2": 1e-5, "onnx": 1e-5, "pte": 1e-5}


@dataclass
class ExportReport:
    """What :func:`export_model` wrote and how the file compares with the eager model.

    ``max_abs_error``: ``max |export - eager|`` over every output element of the checked batches;
    ``scale``: ``max(1, max |eager output|)``; ``tolerance``: the format's :data:`TOLERANCES` entry
    (``None`` for int8, judged by a task metric instead); ``size_bytes``: the file's size;
    ``seconds``: export time; ``dynamic_batch``: whether the file takes any batch size.
    """

    format: str
    path: Path
    size_bytes: int
    max_abs_error: float
    scale: float
    tolerance: Optional[float]
    int8: bool
    dynamic_batch: bool
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether the error is within the tolerance (always true for int8)."""
        return self.tolerance is None or self.max_abs_error <= self.tolerance * self.scale

    def summary(self) -> str:
        """One line: format, path, size, error and tolerance."""
        bound = "int8: no elementwise tolerance" if self.tolerance is None else (
            f"tolerance {self.tolerance * self.scale:.1e}")
        return (f"{self.format}{' int8' if self.int8 else ''}: {self.path} {self.size_bytes / 1e6:.3f} MB, "
                f"max abs error vs eager {self.max_abs_error:.2e} ({bound}), exported in {self.seconds:.1f} s")


def _format_of(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {format!r}")
    return format


def load_exported(path: Union[str, Path], format: Optional[str] = None) -> Callable[..., List[torch.Tensor]]:
    """A file written by :func:`export_model` as a callable: CPU tensors in (as the model took
    them), the model's outputs out as a list of tensors. ``format`` defaults to the suffix.

    Example:
        >>> import tempfile, torch
        >>> from opticore.export import export_model, load_exported
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     report = export_model(torch.nn.Linear(3, 2), torch.rand(4, 3), "onnx", f"{tmp}/m.onnx")
        ...     load_exported(f"{tmp}/m.onnx")(torch.rand(6, 3))[0].shape
        torch.Size([6, 2])
    """
    path = Path(path)
    kind = _format_of(format if format is not None else path.suffix.lstrip("."))
    if kind == "pt2":
        from .pt2 import load_pt2

        return load_pt2(path)
    if kind == "onnx":
        from .onnx import load_onnx

        return load_onnx(path)
    from .pte import load_pte

    return load_pte(path)


def _max_error(expected: Tuple[torch.Tensor, ...], got: Tuple[torch.Tensor, ...], what: str) -> Tuple[float, float]:
    """``(max |got - expected|, max(1, max |expected|))``; outputs must agree in number and shape."""
    import torch

    if len(expected) != len(got):
        raise RuntimeError(f"{what}: the export returned {len(got)} outputs, the model {len(expected)}")
    error, scale = 0.0, 1.0
    for e, g in zip(expected, got):
        if tuple(e.shape) != tuple(g.shape):
            raise RuntimeError(f"{what}: output shape {tuple(g.shape)}, the model's {tuple(e.shape)}")
        if e.numel() and not e.dtype.is_floating_point:  # indices, labels: equal or wrong
            error = max(error, 0.0 if torch.equal(e, g.to(e.dtype)) else math.inf)
        elif e.numel():
            diff = (g.to(torch.float64) - e.to(torch.float64)).abs().max()
            error = max(error, math.inf if torch.isnan(diff) else float(diff))
            scale = max(scale, float(e.abs().max()))
    return error, scale


def export_model(model: torch.nn.Module, example_input: Inputs, format: str, out: Union[str, Path], *,
                 int8: bool = False, calibration: Any = None, dynamic_batch: bool = True, max_batch: int = 64,
                 cpu: str = "native", metadata: Optional[Dict[str, str]] = None) -> ExportReport:
    """Export ``model`` to ``out`` in ``format``, run the file back, compare with the eager model.

    Args:
        model: a ``torch.export``-able module (put in eval mode here).
        example_input: ``(N, ...)`` float32 tensor or tuple of tensors, the model's input; the file
            is checked on it and, with ``dynamic_batch``, on it repeated to ``N + 1`` samples.
        format: ``"pt2"``, ``"onnx"`` or ``"pte"``.
        out: the file to write (its folder is created).
        int8: int8 post-training quantization (``"pte"`` only).
        calibration: with ``int8``, an iterable of input batches (like ``example_input``).
        dynamic_batch: dimension 0 of every input takes any size in ``[1, max_batch]``.
        max_batch: the largest batch (ExecuTorch plans memory for it; pt2 / ONNX accept it too).
        cpu: the instruction set of a ``.pt2`` (see :data:`opticore.export.pt2.CPUS`).
        metadata: extra entries of a ``.pt2``'s metadata (the runtime's pipelines read
            ``opticore.margin`` and ``opticore.scale``); its input specs are always stored.

    Returns:
        an :class:`ExportReport`. Raises ``ValueError`` for a bad argument and ``RuntimeError``
        when a float export differs from the eager model beyond its tolerance.

    Example:
        >>> import tempfile, torch
        >>> from opticore.export import export_model
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU())
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     report = export_model(model, torch.rand(2, 3, 16, 16), "onnx", f"{tmp}/m.onnx")
        >>> report.ok, report.max_abs_error < 1e-5, report.size_bytes > 0
        (True, True, True)
    """
    import torch

    from ._shapes import as_inputs, as_outputs

    kind = _format_of(format)
    if int8 and kind != "pte":
        raise ValueError(f"int8: int8 quantization is for format 'pte' (XNNPACK), got format {kind!r}")
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 2:
        raise ValueError(f"max_batch: expected an int >= 2, got {max_batch!r}")
    inputs = as_inputs(example_input)
    if dynamic_batch and any(t.shape[0] >= max_batch for t in inputs):
        raise ValueError(f"example_input: batch {inputs[0].shape[0]} must be below max_batch {max_batch}")
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"out: expected a file path, got the folder {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()

    start = time.perf_counter()
    if kind == "pt2":
        from .pt2 import export_pt2

        export_pt2(model, inputs, out, dynamic=dynamic_batch, max_batch=max_batch, cpu=cpu, metadata=metadata)
    elif kind == "onnx":
        from .onnx import export_onnx

        export_onnx(model, inputs, out, dynamic=dynamic_batch, max_batch=max_batch)
    else:
        from .pte import export_pte

        export_pte(model, inputs, out, dynamic=dynamic_batch, max_batch=max_batch, int8=int8,
                   calibration=calibration)
    seconds = time.perf_counter() - start

    run = load_exported(out, kind)
    checks = [inputs]
    if dynamic_batch:  # another batch size: N + 1 samples (the example, then its first sample again)
        checks.append(tuple(torch.cat([t, t[:1]]) for t in inputs))
    error, scale = 0.0, 1.0
    with torch.no_grad():
        for batch in checks:
            e, s = _max_error(as_outputs(model(*batch)), as_outputs(run(*batch)), f"{kind} export of {out}")
            error, scale = max(error, e), max(scale, s)
    report = ExportReport(kind, out, out.stat().st_size, error, scale, None if int8 else TOLERANCES[kind], int8,
                          dynamic_batch, seconds)
    if not report.ok:
        raise RuntimeError(f"{kind} export of {out} differs from the eager model: max abs error "
                           f"{error:.3e} > tolerance {TOLERANCES[kind] * scale:.3e}")
    return report
