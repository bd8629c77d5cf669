"""MTCNN FaceDetector (eager stages, C++ runner) per 640x480 image against facenet-pytorch and Haar (``--help``)."""
import sys

from opticore.bench.faces import main

sys.exit(main())
