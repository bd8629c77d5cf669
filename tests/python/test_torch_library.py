"""The operator library as a package: stable ABI only (no at:: / c10:: symbols), loaded when
torch is imported so that the first opticore call may be compiled, and a clear error on a torch
older than the target version."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("torch")

import opticore.torch  # noqa: E402

LIBRARY = opticore.torch.library_path()
if LIBRARY is None:
    pytest.skip("opticore was built without its torch operators", allow_module_level=True)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ, **env), timeout=600
    )


@pytest.mark.skipif(shutil.which("nm") is None, reason="binutils' nm not installed")
def test_library_has_no_aten_or_c10_symbols():
    symbols = subprocess.run(["nm", "-DC", LIBRARY], check=True, capture_output=True, text=True).stdout
    torch_cpp = [line for line in symbols.splitlines() if re.search(r"\b(at|c10)::", line)]
    assert torch_cpp == []
    # What it does use of torch is the stable C shim, and it exports opticore's C++ API.
    assert re.search(r"\bU aoti_torch_\w+", symbols)
    assert re.search(r"\bT opticore::tensor::nms\(", symbols)


def test_the_operator_list_matches_the_registered_schemas():
    import torch

    opticore.torch.load()
    registered = {n.split("::")[1] for n in torch._C._dispatch_get_all_op_names() if n.startswith("opticore::")}
    assert registered == set(opticore.torch.OPERATORS)


def test_torch_import_registers_the_operators():
    out = run_python("import sys, torch; print('opticore' in sys.modules, hasattr(torch.ops.opticore, 'nms'))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_a_broken_opticore_does_not_break_import_torch(tmp_path):
    broken = tmp_path / "opticore"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('opticore broken on purpose')\n")
    out = run_python("import torch; print('torch ok')", PYTHONPATH=str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "torch ok"
    assert "opticore: torch operators not loaded at torch import: opticore broken on purpose" in out.stderr


COMPILE_FIRST = """
import torch, opticore
boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], dtype=torch.float32)
scores = torch.tensor([0.9, 0.8, 0.7])
detect = torch.compile(lambda b, s: b[opticore.nms(b, s, 0.5)], fullgraph=True)
print(detect(boxes, scores).tolist(), detect(boxes[:0], scores[:0]).shape[0])
"""


def test_first_opticore_call_inside_torch_compile_in_a_fresh_process():
    out = run_python(COMPILE_FIRST)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]] 0"


def test_without_autoload_compiling_first_says_what_to_do():
    out = run_python(COMPILE_FIRST, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert out.returncode != 0
    assert "call opticore.torch.load() before compiling" in out.stderr
    fixed = COMPILE_FIRST.replace(
        "import torch, opticore", "import torch, opticore, opticore.torch\nopticore.torch.load()"
    )
    out = run_python(fixed, TORCH_DEVICE_BACKEND_AUTOLOAD="0")
    assert out.returncode == 0, out.stderr


def test_older_torch_is_refused_with_the_versions_that_work():
    out = run_python(
        "import torch; torch.__version__ = '2.9.1'\n"
        "import numpy as np, opticore, opticore.torch\n"
        "print(opticore.nms(np.array([[0.0, 0, 1, 1]]), np.array([1.0]), 0.5))\n"  # NumPy never needs torch
        "opticore.torch.load()",
        TORCH_DEVICE_BACKEND_AUTOLOAD="0",
    )
    assert out.stdout.strip() == "[0]"
    assert (
        "RuntimeError: opticore's torch operators need torch >= 2.10 (any later release works); this is torch 2.9.1"
        in out.stderr
    )
