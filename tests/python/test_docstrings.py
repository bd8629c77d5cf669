"""The examples in the public docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "opticore",
    "opticore.boxes",
    "opticore.alignment",
    "opticore.augment",
    "opticore.tracking",
    "opticore.tracking.fhog",
    "opticore.tracking.trackers",
    "opticore.eval.tracking",
    "opticore.eval.tracking.metrics",
    "opticore.eval.tracking.sequences",
    "opticore.eval.tracking.synthetic",
    "opticore.eval.tracking.run",
]


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
