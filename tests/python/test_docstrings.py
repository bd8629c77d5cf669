"""The examples in the public docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

# Modules whose docstrings carry no examples, and why. Every other public module must have some.
WITHOUT_EXAMPLES = {
    "opticore.cli": "the command line; tested as a program in test_cli",
    "opticore.demo": "needs OpenCV; run by test_demo_docstring_examples",
    "opticore.eval": "a namespace for the harnesses below",
    "opticore.data": "a namespace for the data modules below",
    "opticore.models": "a namespace for the models below",
    "opticore.train": "a namespace for the training modules below",
    "opticore.torch": "needs torch; run by test_torch_docstring_example",
    "opticore.export": "needs the opticore[edge] extra; run by test_export.py",
    "opticore.export.command": "needs the opticore[edge] extra; run by test_export.py",
    "opticore.export.onnx": "needs the opticore[edge] extra; run by test_export.py",
    "opticore.export.pt2": "compiles C++ (AOTInductor); run by test_export.py",
    "opticore.export.pte": "needs the opticore[edge] extra; run by test_export.py",
}


def public_modules():
    """opticore and every module under it whose name has no part starting with '_', except the
    benchmarks (programs, run by test_cli / test_package)."""
    import opticore

    names = ["opticore"]
    for info in pkgutil.walk_packages(opticore.__path__, "opticore."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] == "bench":
            continue
        if len(parts) > 2 and ".".join(parts[:2]) == "opticore.torch":
            continue  # torch's fake kernels and autograd registrations import torch
        names.append(info.name)
    return sorted(n for n in names if n not in WITHOUT_EXAMPLES)


MODULES = public_modules()


def test_every_public_module_is_covered():
    assert {"opticore.boxes", "opticore.warp", "opticore.alignment", "opticore.tracking.trackers"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_demo_docstring_examples():
    pytest.importorskip("cv2")  # the demo's face detector
    import opticore.demo

    result = doctest.testmod(opticore.demo, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_torch_docstring_example():
    pytest.importorskip("torch")
    import opticore.torch

    if opticore.torch.library_path() is None:
        pytest.skip("built without torch operators")
    result = doctest.testmod(opticore.torch, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
