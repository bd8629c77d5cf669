"""Trackers scored with the OTB protocol: opticore's beside OpenCV's MOSSE / KCF / CSRT (``--help`` for options)."""
import sys

from opticore.bench.tracking import main

sys.exit(main())
