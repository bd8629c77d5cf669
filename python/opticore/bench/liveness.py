"""fourier_spectrum speed: opticore against the NumPy + OpenCV pipeline of Silent-Face
(cv2.cvtColor to grey, np.fft.fft2, np.fft.fftshift, log(|F| + 1), min-max normalisation,
cv2.resize to the 10x10 target), one image at a time as the reference computes it.

Cases: one 80x80x3 uint8 crop, and a batch of 256 (the reference loops over it; opticore takes
the whole batch in one call, split over ``--threads`` threads). Each figure is the median of
``repeats`` calls after one warm-up call, the two implementations taking turns
(:func:`opticore.bench._common.interleaved_median_ms`); inputs are made before the clock starts. Run
``python -m opticore.bench.liveness --help``.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

import opticore

from . import _common
from ._common import fmt_number, interleaved_median_ms

SETUP = ("crops: 80x80x3 uint8 BGR, random U(0, 255), seed 0; target 10x10 (out_size) and full 80x80; "
         "reference: cv2.cvtColor(BGR2GRAY) + np.fft.fft2 + np.fft.fftshift + np.log(abs + 1) + normalisation "
         "+ cv2.resize(INTER_LINEAR), a Python loop over the batch")


def reference_spectrum(cv2: Any, crop: np.ndarray, out_size: Optional[tuple]) -> np.ndarray:
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    f = np.log(np.abs(np.fft.fftshift(np.fft.fft2(grey))) + 1)
    f = (f - f.min() + 1) / (f.max() - f.min() + 1)
    return f if out_size is None else cv2.resize(f, out_size)


def run(quick: bool = False, threads: int = 1, json_path: Optional[str] = None,
        repeats: Optional[int] = None) -> Dict[str, Any]:
    cv2 = _common.load_cv2(threads)
    repeats = repeats or (3 if quick else 30)
    batch = np.random.default_rng(0).integers(0, 256, (64 if quick else 256, 80, 80, 3), dtype=np.uint8)
    opticore.set_num_threads(threads)
    cases = [(name, out) for name in ("single", "batch") for out in ((10, 10), None)]

    def run_case(case: Any, reps: int) -> Dict[str, Any]:
        name, out = case
        data = batch[0] if name == "single" else batch
        calls = {"opticore": lambda: opticore.fourier_spectrum(data, out_size=out)}
        if cv2 is not None:
            frames = [data] if name == "single" else list(data)
            calls["reference"] = lambda: [reference_spectrum(cv2, f, out) for f in frames]
        timed = interleaved_median_ms(calls, reps)
        ours, ref = timed["opticore"][0], timed["reference"][0] if "reference" in timed else None
        return {"case": f"{name} ({len(data) if name == 'batch' else 1} x 80x80x3)",
                "out_size": "10x10" if out else "80x80", "opticore_ms": ours, "reference_ms": ref,
                "speedup": None if ref is None else ref / ours}

    rows: List[Dict[str, Any]] = _common.time_cases("liveness", cases, run_case, repeats)
    lines = [f"fourier_spectrum, {threads} thread(s), median of {repeats}",
             f"{'case':<26}{'out':>7}{'opticore ms':>13}{'NumPy+cv2 ms':>14}{'ratio':>9}"]
    for r in rows:
        lines.append(f"{r['case']:<26}{r['out_size']:>7}{fmt_number(r['opticore_ms'], 'ms'):>13}"
                     f"{fmt_number(r['reference_ms'], 'ms'):>14}{fmt_number(r['speedup'], 'x'):>9}")
    report = {"meta": _common.timing_metadata(quick, threads, repeats, cv2, SETUP, numpy=np.__version__),
              "results": rows}
    return _common.publish(report, "\n".join(lines), json_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    return _common.cli_main("liveness", run, argv, __doc__.splitlines()[0], "a 64-crop batch, 3 repeats",
                            "timed calls per case (30; --quick: 3)")


if __name__ == "__main__":
    sys.exit(main())
