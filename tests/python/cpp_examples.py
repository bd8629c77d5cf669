"""Shared by the tests: build a program of examples/cpp against the installed package, and write
the PPM images those programs read."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import opticore

ROOT = Path(__file__).resolve().parents[2]


def build_example(target: str, build: Path) -> Path:
    """Configures examples/cpp in ``build``, builds ``target`` and returns the program's path
    (skips the test without cmake)."""
    if shutil.which("cmake") is None:
        pytest.skip("cmake not installed")
    subprocess.run(["cmake", "-S", str(ROOT / "examples" / "cpp"), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                    f"-DCMAKE_PREFIX_PATH={opticore.cmake_prefix_path}"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", target], check=True, capture_output=True)
    return build / target


def write_ppm(path: Path, image: np.ndarray) -> None:
    """An (H, W, 3) uint8 image as a binary PPM (P6), bytes in the order given."""
    h, w, _ = image.shape
    path.write_bytes(b"P6\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(image).tobytes())
