"""NMS, batched NMS and Soft-NMS: opticore beside OpenCV and torchvision (``--help`` for options)."""
import sys

from opticore.bench.boxes import main

sys.exit(main())
