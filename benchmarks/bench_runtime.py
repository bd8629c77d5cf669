"""PFLD 0.25X / 1X: eager PyTorch, AOTInductor .pt2 (Python, C++ runner), onnxruntime, ExecuTorch (``--help``)."""
import sys

from opticore.bench.runtime import main

sys.exit(main())
