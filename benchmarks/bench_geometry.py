"""Umeyama, alignment, random_warp; resize / warp / remap / crop_resize speed against OpenCV (``--help``)."""
import sys

from opticore.bench.geometry import main

sys.exit(main())
