"""ExecuTorch ``.pte`` programs with the XNNPACK delegate, float32 or int8.

``torch.export`` -> (int8: ``torchao.quantization.pt2e`` post-training quantization with
ExecuTorch's ``XNNPACKQuantizer``, symmetric, per-channel weights, calibrated on example batches)
-> ``to_edge_transform_and_lower`` with the ``XnnpackPartitioner`` -> ``.pte``. The file runs on
the ExecuTorch runtime (phones, embedded Linux, and in Python through ``executorch.runtime``:
:func:`load_pte`). Operators XNNPACK does not take (and every ``torch.ops.opticore`` operator,
which ExecuTorch has no kernel for) make the export fail.

Dynamic batch: supported with an upper bound, but the bound the program accepts is ExecuTorch's
memory plan, not ``max_batch`` alone: PFLD 0.25X exported with ``max_batch=64`` takes batches of
1 to 15 (a larger one fails in ``set_inputs`` with "Attempted to resize a bounded tensor"),
although the exported graph's range is [1, 64]. Run a ``.pte`` on batches it was checked with
(:func:`opticore.export.export_model` checks N and N + 1), or export with
``dynamic_batch=False`` for one fixed batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterable, List, Tuple

import torch

from ._shapes import as_inputs, dynamic_batch, open_file, trace_inputs

__all__ = ["export_pte", "load_pte", "quantize_int8"]


def quantize_int8(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...], calibration: Iterable[Any], *,
                  dynamic_shapes: Any = None) -> torch.nn.Module:
    """``model`` with int8 weights and activations (fake-quantised graph, to lower to XNNPACK).

    ``calibration``: batches (a tensor, or a tuple of tensors, each as the model takes) whose
    activation ranges set the scales; a few hundred representative images are enough.

    Example:
        >>> import torch
        >>> from opticore.export.pte import quantize_int8
        >>> model = torch.nn.Conv2d(3, 4, 3).eval()
        >>> q = quantize_int8(model, (torch.rand(2, 3, 8, 8),), [torch.rand(2, 3, 8, 8) for _ in range(4)])
        >>> x = torch.rand(2, 3, 8, 8)   # static shapes here: the traced batch, 2
        >>> bool((q(x) - model(x)).abs().max() < 0.05)   # int8 rounding of outputs of magnitude ~1
        True
    """
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (XNNPACKQuantizer,
                                                                         get_symmetric_quantization_config)
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = XNNPACKQuantizer().set_global(get_symmetric_quantization_config(is_per_channel=True))
    graph = torch.export.export(model, inputs, dynamic_shapes=dynamic_shapes).module()
    prepared = prepare_pt2e(graph, quantizer)
    seen = 0
    with torch.no_grad():
        for batch in calibration:
            prepared(*as_inputs(batch, "calibration"))
            seen += 1
    if seen == 0:
        raise ValueError("calibration: expected at least one batch, got none")
    return convert_pt2e(prepared)


def export_pte(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...], out: Path, *, dynamic: bool = True,
               max_batch: int = 64, int8: bool = False, calibration: Any = None) -> None:
    """Write ``model`` (traced on ``inputs``) as the ExecuTorch program ``out`` (``.pte``),
    delegated to XNNPACK; ``int8`` quantizes it first on the ``calibration`` batches
    (:func:`quantize_int8`). Use :func:`opticore.export.export_model`, which also checks the result.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from opticore.export.pte import export_pte, load_pte
        >>> model = torch.nn.Conv2d(3, 4, 3).eval()
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     export_pte(model, (torch.rand(2, 3, 8, 8),), Path(tmp) / "m.pte")
        ...     load_pte(Path(tmp) / "m.pte")(torch.rand(5, 3, 8, 8))[0].shape
        torch.Size([5, 4, 6, 6])
    """
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    traced = trace_inputs(inputs) if dynamic else inputs
    shapes = dynamic_batch(traced, max_batch) if dynamic else None
    if int8:
        if calibration is None:
            raise ValueError("calibration: int8 needs calibration batches, got None")
        model = quantize_int8(model, traced, calibration, dynamic_shapes=shapes)
    program = torch.export.export(model, traced, dynamic_shapes=shapes)
    lowered = to_edge_transform_and_lower(program, partitioner=[XnnpackPartitioner()]).to_executorch()
    Path(out).write_bytes(lowered.buffer)


def load_pte(path: Path) -> Callable[..., List[torch.Tensor]]:
    """The ExecuTorch program at ``path`` (its ``forward``) as a callable on CPU tensors (its
    outputs as a list of tensors), run by ``executorch.runtime``.

    A missing file raises ``FileNotFoundError``; a file that is not an ExecuTorch program raises
    ``ValueError`` naming it.
    """
    from executorch.runtime import Runtime

    method = open_file("pte", path, lambda p: Runtime.get().load_program(p).load_method("forward"),
                       "a loadable ExecuTorch program")
    if method is None:
        raise ValueError(f"pte: {path} has no forward method")

    def run(*inputs: torch.Tensor) -> List[torch.Tensor]:
        return [torch.as_tensor(o) for o in method.execute([t.contiguous() for t in inputs])]

    return run
