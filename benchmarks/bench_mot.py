"""Multi-object trackers: opticore's SORT / ByteTrack / OC-SORT beside roboflow trackers' (``--help`` for options)."""
import sys

from opticore.bench.mot import main

sys.exit(main())
