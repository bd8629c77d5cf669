"""The ``torch.ops.opticore`` operators: loading their library, fake kernels, autograd, dispatch.

The operator library (``libopticore_torch.so``) is written against LibTorch's stable ABI, so one
build works with every torch from :data:`MIN_TORCH_VERSION` on. It is loaded

* when torch is imported, if opticore is installed as a package (torch calls the
  ``torch.backends`` entry point ``_opticore_autoload.load``, which calls :func:`_autoload`;
  ``TORCH_DEVICE_BACKEND_AUTOLOAD=0`` turns that off), so ``torch.ops.opticore.*`` exist from
  the start and the first opticore call may sit inside ``torch.compile(fullgraph=True)``;
* otherwise by :func:`ops`, the first time a tensor reaches an opticore operator outside a
  compiled region.

``import opticore`` never imports torch.

Example:
    >>> import torch, opticore.torch
    >>> ops = opticore.torch.ops()          # loads the library once
    >>> ops.nms(torch.rand(5, 4), torch.rand(5), 0.5, None, None).dtype
    torch.int64
"""

from __future__ import annotations

import glob
import os
import re
import threading
import warnings
from typing import Any, Dict, List, Optional, Tuple

#: The oldest torch whose stable ABI the operator library targets (``TORCH_TARGET_VERSION``).
MIN_TORCH_VERSION: Tuple[int, int] = (2, 10)

#: Every operator of the library (the schemas in bindings/torch/register.cpp).
OPERATORS: Tuple[str, ...] = (
    "box_area",
    "box_iou",
    "box_iou_variant",
    "box_loss",
    "box_loss_backward",
    "nms",
    "batched_nms",
    "soft_nms",
    "roi_align",
    "roi_align_backward",
    "roi_pool",
    "ps_roi_align",
    "ps_roi_align_backward",
    "ps_roi_pool",
    "ps_roi_pool_backward",
    "deform_conv2d",
    "deform_conv2d_backward",
    "roi_pool_backward",
)

_LIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
_lock = threading.Lock()
_loaded = False
# Per operator, its arguments as (name, kind) with kind "tensor", "int", "float", "str" or
# "other", read from the schemas once at load time (so that dispatch needs no schema objects,
# which torch.compile cannot trace).
_signatures: Dict[str, List[Tuple[str, str]]] = {}


def library_path() -> Optional[str]:
    """Path of the installed operator library (``libopticore_torch.so``), or None when opticore
    was built without torch. Does not import torch."""
    found = sorted(glob.glob(os.path.join(_LIB_DIR, "libopticore_torch.*")))
    return found[0] if found else None


def _torch_version(version: str) -> Tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _argument_kind(type_name: str) -> str:
    """ "Tensor", "Optional[int]", "float", ... -> "tensor", "int", "float", "str" or "other"."""
    base = re.sub(r"^Optional\[(.*)\]$", r"\1", type_name).rstrip("?")
    return {"Tensor": "tensor", "int": "int", "float": "float", "str": "str"}.get(base, "other")


def load() -> None:
    """Loads the operator library and registers its fake kernels and autograd formulas.

    Idempotent and thread-safe. Call it outside any ``torch.compile`` region.

    Raises:
        RuntimeError: opticore was built without its torch operators, or the installed torch is
            older than :data:`MIN_TORCH_VERSION`.
    """
    global _loaded
    if _loaded:
        return
    import torch

    with _lock:
        if _loaded:
            return
        if _torch_version(torch.__version__) < MIN_TORCH_VERSION:
            raise RuntimeError(
                f"opticore's torch operators need torch >= {MIN_TORCH_VERSION[0]}.{MIN_TORCH_VERSION[1]} "
                f"(any later release works); this is torch {torch.__version__}. NumPy arrays work without torch."
            )
        path = library_path()
        if path is None:
            raise RuntimeError(
                "opticore was built without its torch operators: install torch, then rebuild "
                "opticore with `pip install --no-build-isolation .` so the build finds it"
            )
        torch.ops.load_library(path)
        from . import _autograd, _fake  # noqa: F401  (register the fake kernels and autograd)

        for name in OPERATORS:
            schema = getattr(torch.ops.opticore, name).default._schema
            _signatures[name] = [(a.name, _argument_kind(str(a.type))) for a in schema.arguments]
        _loaded = True


def _autoload() -> None:
    """Called by the ``torch.backends`` entry point (``_opticore_autoload.load``) at the end of
    ``import torch``.

    It never raises (a failure here would break ``import torch``) and stays silent with a torch
    older than :data:`MIN_TORCH_VERSION` (the error comes when an operator is used); any other
    problem is reported as a warning, and :func:`ops` raises it again on use."""
    try:
        import torch

        if library_path() is not None and _torch_version(torch.__version__) >= MIN_TORCH_VERSION:
            load()
    except Exception as error:  # noqa: BLE001  (anything: torch's import must go on)
        warnings.warn(f"opticore: torch operators not loaded at torch import: {error}", RuntimeWarning, stacklevel=2)


def ops() -> Any:
    """``torch.ops.opticore``, after loading the operator library (see :func:`load`).

    Raises:
        RuntimeError: as :func:`load`; or the library is not loaded yet and this call is being
            traced by ``torch.compile`` (call ``opticore.torch.load()`` once before compiling,
            or leave ``TORCH_DEVICE_BACKEND_AUTOLOAD`` on so torch loads it at import).
    """
    import torch

    if not _loaded:
        if torch.compiler.is_compiling():
            raise RuntimeError(
                "opticore's torch operators are not loaded and cannot be loaded inside torch.compile: "
                "call opticore.torch.load() before compiling (torch loads them at import unless "
                "TORCH_DEVICE_BACKEND_AUTOLOAD=0)"
            )
        load()
    return torch.ops.opticore


# The dtypes each tensor argument takes, by name. (The C++ kernels check the same rules, but every
# error that crosses the dispatcher is a ValueError; these are TypeErrors, raised first.)
_FLOAT = ("float32", "float64")
_ANY_FLOAT = ("float16", "bfloat16", "float32", "float64")
_INTEGER = ("integer",)  # any integer dtype
_TENSOR_DTYPES: Dict[str, Tuple[str, ...]] = {
    "boxes": _FLOAT,
    "boxes1": _FLOAT,
    "boxes2": _FLOAT,
    "scores": _FLOAT,
    "labels": _INTEGER,
    "input": _ANY_FLOAT,
    "rois": _ANY_FLOAT,
    "weight": _ANY_FLOAT,
    "offset": _ANY_FLOAT,
    "mask": _ANY_FLOAT,
    "bias": _ANY_FLOAT,
    "grad": _ANY_FLOAT,
    "argmax": ("int64",),
}


def _check_argument(name: str, kind: str, value: Any) -> None:
    """TypeError / ValueError naming the argument, before the dispatcher sees a bad value."""
    import torch

    if kind == "tensor":
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
        if value.layout != torch.strided:
            raise TypeError(f"{name}: expected a dense (strided) tensor, got layout {value.layout}")
        if value.is_quantized:
            raise TypeError(f"{name}: expected a float or integer tensor, got quantized {value.dtype}")
        dtype = str(value.dtype).replace("torch.", "")
        allowed = _TENSOR_DTYPES[name]
        if allowed == _INTEGER:
            if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
                raise TypeError(f"{name}: expected an integer tensor, got {dtype}")
        elif dtype not in allowed:
            raise TypeError(f"{name}: expected {' or '.join(allowed)}, got {dtype}")
    elif value is None:
        return
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name}: expected an int, got {type(value).__name__}")
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"{name}: expected a 64-bit integer, got {value}")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name}: expected a float, got {type(value).__name__}")


def run(name: str, tensors: Tuple[Any, ...], *args: Any) -> Any:
    """Calls ``torch.ops.opticore.<name>(*tensors, *args)`` after checking each argument.

    CPU tensors run the CPU kernels. CUDA tensors run the CUDA kernels where opticore was built
    with them (``opticore.build_info()["cuda"]``: NMS, batched NMS, RoIAlign, RoIPool, their
    position-sensitive forms, deform_conv2d); other operators and devices are computed on the CPU and the results
    moved back to the device of ``tensors[0]``.
    """
    op = getattr(ops(), name)
    for (arg_name, kind), value in zip(_signatures[name], tensors + args):
        _check_argument(arg_name, kind, value)
    device = tensors[0].device
    if device.type in ("cpu", "meta") or (device.type == "cuda" and _has_cuda_kernel(name)):
        return op(*tensors, *args)
    out = op(*(t.cpu() for t in tensors), *args)
    if isinstance(out, tuple):
        return tuple(o.to(device) for o in out)
    return out.to(device)


def _has_cuda_kernel(name: str) -> bool:
    import torch

    return bool(torch._C._dispatch_has_kernel_for_dispatch_key(f"opticore::{name}", "CUDA"))
