"""Progress bars for long work (benchmarks, the demo): tqdm when installed, else silence."""

from __future__ import annotations

import sys
from typing import Any, Optional


class _NoProgress:
    """What :func:`progress_bar` gives without tqdm: the calls a tqdm bar takes here, doing nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: Optional[int], desc: str, unit: str) -> Any:
    """A tqdm bar on stderr that clears itself when closed, or a silent stand-in without tqdm.
    tqdm is imported here, not at ``import opticore``."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
