"""Argument checks shared by the typed wrappers.

Every failure names the argument, what was expected and what was given: ``TypeError`` for a wrong
type, ``ValueError`` for a wrong value. Values are checked here, before they reach the compiled
core, so that a string, ``None`` or an integer beyond int64 never surfaces as pybind11's
"incompatible function arguments".
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Optional, Tuple

import numpy as np

INT64_MAX = 2**63 - 1


def as_array(x: Any) -> np.ndarray:
    """Arrays pass through untouched (any layout); lists and other sequences become arrays."""
    return x if isinstance(x, np.ndarray) else np.asarray(x)


def float_array(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 array (a copy unless it already is one); non-numeric data is a TypeError."""
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected an array of numbers, got {type(x).__name__}") from None


def real(
    value: Any,
    name: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a float. Anything ``float()`` takes except bools and strings (NumPy and torch
    scalars included). With bounds, it must be finite and within them (ends closed unless open)."""
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}") from None
    if low == -math.inf and high == math.inf:
        return v
    inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not (math.isfinite(v) and inside):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name}: expected a finite value in {interval}, got {value!r}")
    return v


def optional_real(value: Any, name: str) -> Optional[float]:
    return None if value is None else real(value, name)


def integer(value: Any, name: str, *, low: Optional[int] = None, high: float = INT64_MAX) -> int:
    """``value`` as a Python int: an int or NumPy integer (not a bool) in ``[low, high]``
    (``high`` defaults to int64's maximum, the most the core takes)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an int, got {value!r}")
    v = operator.index(value)
    if low is not None and v < low:
        raise ValueError(f"{name}: expected an int >= {low}, got {v}")
    if v > high:
        raise ValueError(f"{name}: expected an int <= {high}, got {v}")
    return v


def boolean(value: Any, name: str) -> bool:
    """A bool (or NumPy bool); anything else, even truthy, is a TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {value!r}")
    return bool(value)


def optional_limit(value: Any, name: str) -> Optional[int]:
    """A count limit such as ``max_output``: None (no limit) or an int >= 0. Limits beyond int64
    behave as no limit, so they are passed on as int64's maximum."""
    if value is None:
        return None
    return min(integer(value, name, low=0, high=math.inf), INT64_MAX)


def choice(value: Any, name: str, choices: Tuple[str, ...]) -> None:
    """Checks that ``value`` is one of the strings ``choices`` (the arguments of a ``Literal``)."""
    if isinstance(value, str) and value in choices:
        return
    expected = ", ".join(repr(c) for c in choices)
    error = ValueError if isinstance(value, str) else TypeError
    raise error(f"{name}: expected one of {expected}, got {value!r}")
