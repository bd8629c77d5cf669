"""torch's extension autoloading hook for opticore (the ``torch.backends`` entry point).

torch calls :func:`load` at the end of ``import torch``, and turns any exception raised while
loading an entry point into a failure of ``import torch`` itself. This module lives outside the
``opticore`` package so that nothing of opticore is imported before the ``try``: a broken
opticore installation then costs a warning, never the user's torch.
"""

from __future__ import annotations

import warnings


def load() -> None:
    """Registers the ``torch.ops.opticore`` operators; never raises."""
    try:
        from opticore.torch import _autoload
    except Exception as error:  # noqa: BLE001  (anything: torch's import must go on)
        warnings.warn(f"opticore: torch operators not loaded at torch import: {error}", RuntimeWarning, stacklevel=2)
        return
    _autoload()
