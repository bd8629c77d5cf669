"""Face detection time per 640x480 image: opticore's FaceDetector (eager torch stages) and its C++
runner (opticore.runtime.FaceDetector, .pt2 stages) beside facenet-pytorch's MTCNN and OpenCV's
Haar cascade, timed in one process on 1 and 2 threads.

The image is opencv-doc's basketball1.png (640x480, one player) when installed, else scikit-image's
astronaut resized to 640x480. facenet-pytorch needs torchvision: run this in an environment with
both (``pip install torch==2.14.1 torchvision==0.29.1``, ``pip install --no-deps facenet-pytorch
requests tqdm``) for its column; elsewhere it reads n/a. Each figure is the median of ``repeats``
calls after one warm-up call, the implementations taking turns call by call
(:func:`opticore.bench._common.interleaved_median_ms`). ``x`` columns are facenet-pytorch's time
over the other's (>1: faster than facenet-pytorch). Run ``python -m opticore.bench.faces --help``.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

import opticore

from . import _common
from ._common import fmt_number, interleaved_median_ms

OPENCV_DOC_IMAGE = "/usr/share/doc/opencv-doc/examples/data/basketball1.png"
#: Columns, in order. "runner": the C++ cascade over the exported .pt2 stages
#: (:func:`runner_detector`; n/a where opticore's runtime cannot run).
IMPLEMENTATIONS = ("opticore", "opticore area", "runner", "facenet-pytorch", "haar")


def test_image() -> np.ndarray:
    """``(480, 640, 3)`` uint8 BGR."""
    from ..eval.tracking import load_image

    if os.path.isfile(OPENCV_DOC_IMAGE):
        return load_image(OPENCV_DOC_IMAGE)
    return opticore.resize(load_image("astronaut"), (640, 480), interpolation="area")


def runner_detector() -> Optional[Callable[[np.ndarray], Any]]:
    """The runner column: :class:`opticore.runtime.FaceDetector` (the C++ cascade over the stages
    as ``.pt2`` packages) on a BGR image, or None where the runtime cannot run.

    The packages are exported once (:func:`opticore.runtime.export_mtcnn`, a minute or two) into
    ``$XDG_CACHE_HOME/opticore/mtcnn-pt2/torch-<version>`` (default ``~/.cache``) and reused."""
    import opticore.runtime as rt

    ok, why = rt.available()
    if not ok:
        print(f"bench faces: runner not available ({why})", file=sys.stderr)
        return None
    import torch

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(cache, "opticore", "mtcnn-pt2", f"torch-{torch.__version__}")
    if not all(os.path.isfile(os.path.join(folder, name)) for name in rt.detector.PACKAGES):
        print(f"bench faces: exporting MTCNN's stages to {folder} (once; a minute or two)", file=sys.stderr)
        rt.export_mtcnn(folder)
    return rt.FaceDetector(folder)


def detectors(threads: int) -> Dict[str, Optional[Callable[[np.ndarray], Any]]]:
    """Each implementation as a call on a BGR image (None: not available here)."""
    calls: Dict[str, Optional[Callable[[np.ndarray], Any]]] = dict.fromkeys(IMPLEMENTATIONS)
    calls["opticore"] = opticore.FaceDetector()
    calls["opticore area"] = opticore.FaceDetector(interpolation="area")
    calls["runner"] = runner_detector()
    try:
        from facenet_pytorch import MTCNN

        mtcnn = MTCNN(keep_all=True)
        calls["facenet-pytorch"] = lambda bgr: mtcnn.detect(np.ascontiguousarray(bgr[:, :, ::-1]), landmarks=True)
    except (ImportError, RuntimeError, OSError) as exc:
        print(f"bench faces: facenet-pytorch not available ({exc}); it needs torchvision", file=sys.stderr)
    cv2 = _common.load_cv2(threads)
    path = os.path.join(getattr(getattr(cv2, "data", None), "haarcascades", "") or "",
                        "haarcascade_frontalface_default.xml")
    if cv2 is not None and os.path.isfile(path):
        cascade = cv2.CascadeClassifier(path)
        calls["haar"] = lambda bgr: cascade.detectMultiScale(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 1.1, 5,
                                                             minSize=(20, 20))
    return calls


def run(quick: bool = False, threads: int = 1, json_path: Optional[str] = None,
        repeats: Optional[int] = None) -> Dict[str, Any]:
    """Time every detector on 1 and ``max(threads, 2)`` threads; print the table and return
    ``{"metadata": {...}, "cases": [...]}``.

    Raises:
        RuntimeError: torch or the MTCNN weights (facenet-pytorch) are not installed.
    """
    try:
        import torch
    except ImportError:
        raise RuntimeError("bench faces needs torch (the MTCNN stages)") from None
    repeats = (3 if quick else 10) if repeats is None else repeats
    image = test_image()
    cases = []
    for n in sorted({1, max(threads, 2)}):
        opticore.set_num_threads(n)
        torch.set_num_threads(n)
        available = {name: call for name, call in detectors(n).items() if call is not None}
        timed = interleaved_median_ms({name: (lambda c=call: c(image)) for name, call in available.items()}, repeats)
        ms: Dict[str, Optional[float]] = dict.fromkeys(IMPLEMENTATIONS)
        faces: Dict[str, Optional[int]] = dict.fromkeys(IMPLEMENTATIONS)
        for name, (time_ms, out) in timed.items():
            ms[name] = time_ms
            faces[name] = len(out[0]) if isinstance(out, tuple) and out[0] is not None else len(out)
        ref = ms["facenet-pytorch"]
        speedup = {k: (ref / v if ref and v else None) for k, v in ms.items()}
        cases.append({"threads": n, "ms": ms, "faces": faces, "x_vs_facenet_pytorch": speedup})
    setup = f"one 640x480 image ({'basketball1.png' if os.path.isfile(OPENCV_DOC_IMAGE) else 'astronaut'}), " \
            "MTCNN min_face_size 20, factor 0.709, thresholds 0.6/0.7/0.7; Haar: scale 1.1, 5 neighbours, min 20 px"
    metadata = _common.timing_metadata(quick, threads, repeats, _common.load_cv2(threads), setup,
                                       torch=torch.__version__)
    report = {"metadata": metadata, "cases": cases}
    return _common.publish(report, format_report(report), json_path)


def format_report(report: Dict[str, Any]) -> str:
    m = report["metadata"]
    header = (f"opticore {m['opticore']} | repeats {m['repeats']} | torch {m['torch']} | cv2 {m['cv2']} | "
              f"{m['cpu']}, {m['cpu_count']} CPUs | Python {m['python']}")
    rows: List[List[str]] = [["threads", "implementation", "ms / image", "faces", "x vs facenet-pytorch"]]
    for case in report["cases"]:
        for name in IMPLEMENTATIONS:
            faces = case["faces"][name]
            rows.append([str(case["threads"]), name, fmt_number(case["ms"][name], "ms"),
                         "n/a" if faces is None else str(faces), fmt_number(case["x_vs_facenet_pytorch"][name], "x")])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    legend = ("x = facenet-pytorch ms / this ms (>1: faster than facenet-pytorch); opticore: interpolation 'bins' "
              "(facenet-pytorch's numbers), opticore area: opticore.crop_resize's INTER_AREA; runner: the "
              "same cascade ('bins') in C++ over .pt2 packages")
    return "\n".join([header, m["setup"], "", lines[0], "-" * len(lines[0])] + lines[1:] + ["", legend])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    return _common.cli_main("faces", run, argv, __doc__.splitlines()[0], "3 repeats instead of 10",
                            "timed calls per detector and thread count (10; --quick: 3)")


if __name__ == "__main__":
    sys.exit(main())
