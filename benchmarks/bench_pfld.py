"""PFLD 0.25X / 1X forward time at batch 1 on one thread beside the paper's (``--help``)."""
import sys

from opticore.bench.pfld import main

sys.exit(main())
