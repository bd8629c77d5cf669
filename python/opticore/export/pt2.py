"""AOTInductor ``.pt2`` packages: ``torch.export`` -> ``torch._inductor.aoti_compile_and_package``.

A package holds the model's weights and a shared library of C++ kernels that inductor generated
and compiled at export time (a C++ compiler is needed then, about 20 s for PFLD on 2 cores). It
runs without Python: in C++ through ``torch::inductor::AOTIModelPackageLoader`` (opticore's
runtime runner), in Python through :func:`load_pt2`.

Target CPU: by default (``cpu="native"``) the kernels are compiled with ``-march=native`` and
vectorised for the widest instruction set of the exporting machine (AVX-512 on a recent server),
so the package may crash with an illegal instruction on an older deployment CPU. Export for the
deployment CPU with ``cpu=``:

* ``"native"``: the exporting CPU (fastest there, not portable);
* ``"avx2"``: x86-64-v3 (AVX2 + FMA: Intel Haswell 2013 and AMD Zen on), 256-bit vectors;
* ``"avx512"``: x86-64-v4 (AVX-512F/BW/DQ/VL: Skylake-SP, Zen 4), 512-bit vectors;
* ``"generic"``: any x86-64 CPU (SSE2), scalar kernels.

They set inductor's ``cpp.march`` (the ``-march`` flag) and ``cpp.simdlen`` / ``cpp.vec_isa_ok``
(the vector width of the generated kernels); the environment variables
``TORCHINDUCTOR_CPP_MARCH`` and ``ATEN_CPU_CAPABILITY`` do the same for a whole process. The ATen
kernels a package calls (convolutions through oneDNN) pick their instruction set at run time and
need nothing. Exporting for ARM needs an ARM machine (no cross-compilation).

Dynamic batch: supported (dimension 0 in ``[1, max_batch]``, the other dimensions fixed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from ._shapes import as_outputs, dynamic_batch, open_file, trace_inputs

__all__ = ["CPUS", "export_pt2", "load_pt2"]

#: ``cpu=`` name -> the inductor options that target it (see the module docstring).
CPUS: Dict[str, Dict[str, Any]] = {
    "native": {},
    "avx2": {"cpp.march": "x86-64-v3", "cpp.simdlen": 256},
    "avx512": {"cpp.march": "x86-64-v4", "cpp.simdlen": 512},
    "generic": {"cpp.march": "x86-64", "cpp.vec_isa_ok": False},
}


def export_pt2(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...], out: Path, *, dynamic: bool = True,
               max_batch: int = 64, cpu: str = "native", metadata: Optional[Dict[str, str]] = None) -> None:
    """Write ``model`` (traced on ``inputs``) as the AOTInductor package ``out`` (``.pt2``).

    ``dynamic``: dimension 0 of every input is a batch in ``[1, max_batch]``; ``cpu``: a key of
    :data:`CPUS`; ``metadata``: entries stored in the package beside the input specs that
    :class:`opticore.runtime.Runner` checks inputs against (:func:`opticore.runtime.package_metadata`).
    Use :func:`opticore.export.export_model`, which also checks the result.

    Example (compiles C++: about 15 s)::

        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from opticore.export.pt2 import export_pt2, load_pt2
        >>> model = torch.nn.Linear(3, 2).eval()
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     export_pt2(model, (torch.rand(2, 3),), Path(tmp) / "m.pt2", cpu="avx2")
        ...     load_pt2(Path(tmp) / "m.pt2")(torch.rand(5, 3))[0].shape
        torch.Size([5, 2])
    """
    if cpu not in CPUS:
        raise ValueError(f"cpu: expected one of {', '.join(CPUS)}, got {cpu!r}")
    traced = trace_inputs(inputs) if dynamic else inputs
    shapes = dynamic_batch(traced, max_batch) if dynamic else None
    program = torch.export.export(model, traced, dynamic_shapes=shapes)
    from ..runtime import package_metadata

    stored = dict(package_metadata(program), **(metadata or {}))
    with torch._inductor.config.patch(CPUS[cpu]):
        torch._inductor.aoti_compile_and_package(program, package_path=str(out),
                                                 inductor_configs={"aot_inductor.metadata": stored})


def load_pt2(path: Path) -> Callable[..., List[torch.Tensor]]:
    """The package at ``path`` as a callable on CPU tensors (the model's outputs as a list of tensors).

    A missing file raises ``FileNotFoundError``; a file that is not an AOTInductor package raises
    ``ValueError`` naming it.
    """
    package = open_file("pt2", path, lambda p: torch._inductor.aoti_load_package(str(p)),
                        "a readable AOTInductor package")

    def run(*inputs: torch.Tensor) -> List[torch.Tensor]:
        return list(as_outputs(package(*inputs)))  # the package returns a single output bare

    return run
