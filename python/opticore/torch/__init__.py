"""The ``torch.ops.opticore`` operators: loading their library, fake kernels, dispatch.

Importing this module imports torch. ``opticore.boxes`` and friends import it lazily, the first
time they are given a tensor, so ``import opticore`` stays torch-free.

Example:
    >>> import torch, opticore.torch
    >>> ops = opticore.torch.ops()          # loads the library once
    >>> ops.nms(torch.rand(5, 4), torch.rand(5), 0.5, None, None).dtype
    torch.int64
"""

from __future__ import annotations

import glob
import os
import threading
from typing import Any, Optional, Tuple

_LIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
_lock = threading.Lock()
_loaded = False


def library_path() -> Optional[str]:
    """Path of the installed operator library (``libopticore_torch_ops.so``), or None when
    opticore was built without torch. Does not import torch."""
    found = sorted(glob.glob(os.path.join(_LIB_DIR, "libopticore_torch_ops.*")))
    return found[0] if found else None


def ops() -> Any:
    """``torch.ops.opticore``, after loading the operator library and registering fake kernels.

    Raises:
        RuntimeError: opticore was built without torch (rebuild with torch installed and
            ``pip install --no-build-isolation``).
    """
    global _loaded
    import torch

    if not _loaded:
        with _lock:
            if not _loaded:
                path = library_path()
                if path is None:
                    raise RuntimeError(
                        "opticore was built without its torch operators: install torch, then rebuild "
                        "opticore with `pip install --no-build-isolation .` so the build finds it"
                    )
                torch.ops.load_library(path)
                from . import _fake  # noqa: F401  (registers the fake kernels)

                _loaded = True
    return torch.ops.opticore


def run(name: str, tensors: Tuple[Any, ...], *args: Any) -> Any:
    """Calls ``torch.ops.opticore.<name>(*tensors, *args)``.

    The kernels run on the CPU; tensors on another device are copied to the CPU and the results
    copied back to the device of ``tensors[0]`` (CUDA kernels are a later addition).
    """
    op = getattr(ops(), name)
    device = tensors[0].device
    if device.type == "cpu" or device.type == "meta":
        return op(*tensors, *args)
    out = op(*(t.cpu() for t in tensors), *args)
    if isinstance(out, tuple):
        return tuple(o.to(device) for o in out)
    return out.to(device)
