"""``python -m opticore`` is the ``opticore`` command."""

import sys

from .cli import main

sys.exit(main())
