"""Umeyama, warp_affine and face alignment: opticore beside scikit-image and OpenCV (``--help`` for options)."""
import sys

from opticore.bench.geometry import main

sys.exit(main())
