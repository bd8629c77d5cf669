"""Run exported models from Python through opticore's C++ runtime (``opticore::runtime``).

:class:`Runner` loads an AOTInductor package (``.pt2``, from :func:`torch.export.export` and
``torch._inductor.aoti_compile_and_package``) into the C++ runner and calls it on NumPy arrays
or torch tensors, the GIL released while it runs. The compiled code of a package does not check
the shapes it is given (a wrong shape reads out of bounds), so the runner checks every input
against the package's *input specs*: the metadata entry ``"opticore.inputs"`` that
:func:`package_metadata` makes at export time, or ``input_specs=`` for packages exported
elsewhere.

Input specs, one per input, separated by ``;``: ``DTYPE[DIM,...]``, each ``DIM`` a size, an
inclusive range ``1..64`` or an open range ``1..`` (e.g. ``"float32[1..64,3,112,112]"``).

The runtime is built against the full LibTorch of the torch opticore was built with and runs
only with that torch release (:func:`available` says whether it can run here, and why not).
Importing this module does not import torch; creating a :class:`Runner` does.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["FaceDetector", "FacePipeline", "LandmarkDetector", "LivenessDetector", "Runner", "available",
           "export_mtcnn", "input_specs", "package_metadata"]

_LIB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib")
# The dtypes the runner's specs name (runtime/include/opticore/runtime/input_spec.hpp).
_DTYPES = ("uint8", "int32", "int64", "float16", "bfloat16", "float32", "float64")


def _built_for() -> Optional[str]:
    try:
        with open(os.path.join(_LIB_DIR, "runtime_torch_version.txt")) as f:
            return f.read().strip()
    except OSError:
        return None


def available() -> Tuple[bool, str]:
    """Whether the C++ runtime can run in this process, and if not, why.

    Returns ``(True, "")``, or ``(False, reason)`` when opticore was built without it or the
    installed torch is not the release it was built with. Imports torch (to read its version)
    only when the runtime is installed.

    Example:
        >>> import opticore.runtime
        >>> ok, why = opticore.runtime.available()
        >>> isinstance(ok, bool) and (ok or len(why) > 0)
        True
    """
    built = _built_for()
    if built is None:
        return False, ("this opticore was built without the runtime (torch was not installed at build time, or "
                       "OPTICORE_WITH_RUNTIME=OFF); rebuild with `pip install --no-build-isolation .`")
    import torch

    if torch.__version__ != built:
        return False, (f"opticore's runtime was built with torch {built} and runs only with it; this is torch "
                       f"{torch.__version__} (install torch=={built.split('+')[0]} or rebuild opticore from source "
                       "against this torch)")
    return True, ""


def _module() -> Any:
    ok, why = available()
    if not ok:
        raise RuntimeError(why)
    import opticore.torch

    opticore.torch.load()  # packages may call torch.ops.opticore.*
    from .. import _runtime  # type: ignore[attr-defined]

    return _runtime


def input_specs(program: Any) -> str:
    """The input specs of an exported program, in the runner's text form.

    Args:
        program: a :class:`torch.export.ExportedProgram`. Dynamic dimensions become ranges from
            its range constraints (an unbounded one an open range).

    Returns:
        e.g. ``"float32[1..64,3,112,112]"``.

    Example:
        >>> import torch, opticore.runtime
        >>> ep = torch.export.export(torch.nn.Linear(4, 2), (torch.zeros(3, 4),),
        ...                          dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=64)},))
        >>> opticore.runtime.input_specs(ep)
        'float32[1..64,4]'
    """
    import torch

    user_inputs = set(program.graph_signature.user_inputs)
    specs = []
    for node in program.graph.nodes:
        if node.op != "placeholder" or node.name not in user_inputs:
            continue
        value = node.meta.get("val")
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"program: input {node.name} is not a tensor; the runner takes tensors only")
        dtype = str(value.dtype).replace("torch.", "")
        if dtype not in _DTYPES:
            raise ValueError(f"program: input {node.name} has dtype {dtype}; the runner takes {sorted(_DTYPES)}")
        dims = []
        for size in value.shape:
            if isinstance(size, int):
                dims.append(str(size))
                continue
            bounds = program.range_constraints[size.node.expr]
            low, high = int(bounds.lower), bounds.upper
            # torch's unbounded size (int_oo) calls itself finite; an integer upper bound is one.
            bounded = high.is_Integer and abs(int(high)) < 2**62
            dims.append(f"{low}..{int(high)}" if bounded else f"{low}..")
        specs.append(f"{dtype}[{','.join(dims)}]")
    return ";".join(specs)


def package_metadata(program: Any) -> Dict[str, str]:
    """The metadata opticore's runner reads, for ``aoti_compile_and_package``.

    Pass it as ``inductor_configs={"aot_inductor.metadata": package_metadata(ep)}``.

    Example:
        >>> import torch, opticore.runtime
        >>> ep = torch.export.export(torch.nn.Linear(4, 2), (torch.zeros(3, 4),))
        >>> opticore.runtime.package_metadata(ep)
        {'opticore.inputs': 'float32[3,4]'}
    """
    return {"opticore.inputs": input_specs(program)}


class Runner:
    """An AOTInductor package (``.pt2``) in opticore's C++ runner.

    Args:
        path: the package file.
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; must be the device the package was
            compiled for, and CUDA needs a CUDA build of torch and a GPU.
        num_threads: sets torch's process-wide intra-op thread count (which the package's CPU
            kernels use) when given.
        warmup_runs: runs on zero inputs of the smallest allowed shape at creation.
        input_specs: the specs of a package exported without opticore's metadata (ignored when
            the package has them).

    Calling the runner with one array or tensor per input returns the package's outputs as a
    list: NumPy arrays when every input was a NumPy array, else tensors on the runner's device.
    Inputs are checked first (count, dtype, shape); any layout is accepted.

    Raises:
        RuntimeError: the runtime cannot run here (:func:`available`), or the file is not a
            readable package.
        ValueError: a missing file, a bad device or a device the build or machine lacks, a
            package without input specs; when called, a wrong number of inputs or shape.
        TypeError: when called, an input of the wrong dtype.

    Example:
        >>> import numpy as np, torch, opticore.runtime, tempfile, os
        >>> ep = torch.export.export(torch.nn.Linear(4, 2), (torch.zeros(3, 4),))
        >>> path = os.path.join(tempfile.mkdtemp(), "linear.pt2")
        >>> metadata = opticore.runtime.package_metadata(ep)
        >>> _ = torch._inductor.aoti_compile_and_package(
        ...     ep, package_path=path, inductor_configs={"aot_inductor.metadata": metadata})
        >>> runner = opticore.runtime.Runner(path)
        >>> runner(np.zeros((3, 4), np.float32))[0].shape
        (3, 2)
    """

    def __init__(self, path: str, device: str = "cpu", *, num_threads: Optional[int] = None,
                 warmup_runs: int = 1, input_specs: Optional[str] = None):
        from .._args import integer

        threads = 0 if num_threads is None else integer(num_threads, "num_threads", low=1)
        warmup = integer(warmup_runs, "warmup_runs", low=0)
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path: expected a file path, got {type(path).__name__}")
        if not isinstance(device, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got {type(device).__name__}")
        self._runner = _module().Runner(os.fspath(path), device, threads, warmup, input_specs or "")

    @property
    def input_specs(self) -> str:
        """The specs the inputs are checked against (the text form above)."""
        return str(self._runner.input_specs)

    @property
    def device(self) -> str:
        return str(self._runner.device)

    @property
    def metadata(self) -> Dict[str, str]:
        """The package's metadata: ``AOTI_*`` entries and the exporter's ``opticore.*`` ones."""
        return dict(self._runner.metadata)

    @property
    def path(self) -> str:
        return str(self._runner.path)

    def __call__(self, *inputs: Any) -> List[Any]:
        import numpy as np
        import torch
        from torch.utils import dlpack

        all_numpy = all(isinstance(x, np.ndarray) for x in inputs) and len(inputs) > 0
        tensors = []
        for i, x in enumerate(inputs):
            if isinstance(x, torch.Tensor):
                tensors.append(x.detach())
            elif isinstance(x, np.ndarray) and x.dtype.name in _DTYPES:
                tensors.append(torch.from_numpy(np.ascontiguousarray(x)))
            else:
                what = f"a {x.dtype} array" if isinstance(x, np.ndarray) else type(x).__name__
                raise TypeError(f"inputs[{i}]: expected a NumPy array ({', '.join(_DTYPES[:4])}, float32, float64) "
                                f"or a torch tensor, got {what}")
        outputs = [dlpack.from_dlpack(c) for c in self._runner.run([dlpack.to_dlpack(t) for t in tensors])]
        return [t.cpu().numpy() for t in outputs] if all_numpy else outputs

    def __repr__(self) -> str:
        return f"Runner({self.path!r}, device={self.device!r}, inputs={self.input_specs!r})"


from .pipelines import FacePipeline, LandmarkDetector, LivenessDetector  # noqa: E402  (they use _module)
from .detector import FaceDetector, export_mtcnn  # noqa: E402
