"""Umeyama, warp_affine, face alignment, random_warp: opticore beside scikit-image, NumPy and OpenCV (``--help``)."""
import sys

from opticore.bench.geometry import main

sys.exit(main())
