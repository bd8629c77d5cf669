"""RoIAlign / RoIPool forward and backward: opticore beside torchvision (``--help`` for options)."""
import sys

from opticore.bench.roi import main

sys.exit(main())
