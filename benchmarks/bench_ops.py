"""PS RoIAlign / RoIPool, deform_conv2d, MultiScaleRoIAlign, CIoU loss: opticore beside torchvision
(``--help`` for options)."""
import sys

from opticore.bench.ops import main

sys.exit(main())
