"""fourier_spectrum against the NumPy + OpenCV Silent-Face pipeline, one crop and 256 (``--help``)."""
import sys

from opticore.bench.liveness import main

sys.exit(main())
