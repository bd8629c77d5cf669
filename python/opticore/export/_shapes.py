"""What every format shares: inputs as a tuple, the dynamic batch dimension, output flattening."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Sequence, Tuple, TypeVar, Union

import torch

Inputs = Union[torch.Tensor, Sequence[torch.Tensor]]
T = TypeVar("T")


def as_inputs(example_input: Inputs, name: str = "example_input") -> Tuple[torch.Tensor, ...]:
    """``example_input`` as a tuple of CPU tensors (one tensor is a 1-tuple)."""
    if isinstance(example_input, torch.Tensor):
        items: Tuple[Any, ...] = (example_input,)
    else:
        items = tuple(example_input) if isinstance(example_input, (list, tuple)) else (example_input,)
    if not items or not all(isinstance(t, torch.Tensor) for t in items):
        raise TypeError(f"{name}: expected a tensor or a sequence of tensors, got {type(example_input).__name__}")
    for t in items:
        if t.dim() == 0:
            raise ValueError(f"{name}: expected tensors with a batch dimension, got a scalar")
        if t.device.type != "cpu":
            raise ValueError(f"{name}: export runs on the CPU, got a tensor on {t.device}")
    return items


def as_outputs(result: Any) -> Tuple[torch.Tensor, ...]:
    """A model's or a loaded export's result (a tensor, or a list / tuple of them) as a tuple."""
    if isinstance(result, torch.Tensor):
        return (result,)
    return tuple(torch.as_tensor(r) for r in result)


def dynamic_batch(inputs: Tuple[torch.Tensor, ...], max_batch: int) -> Tuple[Dict[int, Any], ...]:
    """``dynamic_shapes`` for :func:`torch.export.export`: dimension 0 of every input is one
    shared symbol ``batch`` in ``[1, max_batch]``, the other dimensions are static."""
    batch = torch.export.Dim("batch", min=1, max=max_batch)
    return tuple({0: batch} for _ in inputs)


def trace_inputs(inputs: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, ...]:
    """The inputs traced with a dynamic batch: a batch of 1 is doubled, because torch.export
    specialises a dimension whose example size is 1 (it cannot tell 1 from a broadcast)."""
    return tuple(torch.cat([t, t]) if t.shape[0] == 1 else t for t in inputs)


def open_file(kind: str, path: Path, load: Callable[[Path], T], what: str) -> T:
    """``load(path)``; a missing file raises ``FileNotFoundError``, one ``load`` fails on raises
    ``ValueError`` naming the file and saying it is not ``what``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{kind}: no file {path}")
    try:
        return load(path)
    except Exception as exc:  # each runtime raises its own types (RuntimeError, zipfile, protobuf...)
        raise ValueError(f"{kind}: {path} is not {what} ({exc})") from exc
