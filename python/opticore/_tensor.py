"""Telling torch tensors from arrays without importing torch (``import opticore`` stays torch-free)."""

from __future__ import annotations

import sys
from typing import Any


def is_tensor(x: Any) -> bool:
    """True if ``x`` is a ``torch.Tensor``. Never imports torch: if torch is not imported yet,
    nothing can be a tensor."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)
