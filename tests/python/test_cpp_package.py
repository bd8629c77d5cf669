"""The C++ package inside the installed wheel, as a C++ user meets it: examples/cpp builds
against it with find_package(opticore ... torch) and runs; a missing torch is named with the way
to point CMake at it; the umbrella header includes every public header."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import opticore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")


def configure(source: Path, build: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["cmake", "-S", str(source), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
         f"-DCMAKE_PREFIX_PATH={opticore.cmake_prefix_path}", *options],
        capture_output=True, text=True, env=dict(os.environ),
    )


def test_examples_build_and_run_against_the_installed_package(tmp_path):
    build = tmp_path / "build"
    configured = configure(ROOT / "examples" / "cpp", build)
    assert configured.returncode == 0, configured.stderr
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
    out = subprocess.run([str(build / "nms_boxes")], check=True, capture_output=True, text=True).stdout
    assert out.strip().endswith("nms kept 0 2")
    if opticore.build_info()["torch_ops"]:
        out = subprocess.run([str(build / "nms_tensors")], check=True, capture_output=True, text=True).stdout
        assert out.strip() == "opticore::tensor::nms kept 0 2"


def test_required_torch_component_says_what_is_missing(tmp_path):
    project = tmp_path / "needs_torch"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(needs_torch LANGUAGES CXX)\n"
        "find_package(opticore REQUIRED COMPONENTS torch)\n"
    )
    result = configure(project, tmp_path / "build", f"-DOPTICORE_TORCH_ROOT={tmp_path / 'no-torch-here'}")
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    if opticore.build_info()["torch_ops"]:
        assert "no stable-ABI headers (include/torch/csrc/stable/library.h) under" in message
        assert "-DOPTICORE_TORCH_ROOT=" in message
    else:
        assert "this opticore was built without torch" in message


def test_umbrella_header_includes_every_public_header():
    include = ROOT / "cpp" / "include"
    umbrella = (include / "opticore" / "opticore.hpp").read_text()
    headers = sorted(p.relative_to(include).as_posix() for p in include.rglob("*.hpp"))
    missing = [h for h in headers if h != "opticore/opticore.hpp" and f'#include "{h}"' not in umbrella]
    assert missing == []


def test_runtime_component_needs_the_torch_it_was_built_with(tmp_path):
    torch = pytest.importorskip("torch")
    import opticore.runtime

    built = opticore.runtime._built_for()
    if built is None:
        pytest.skip("opticore was built without the runtime")
    project = tmp_path / "needs_runtime"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(needs_runtime LANGUAGES CXX)\n"
        "find_package(opticore REQUIRED COMPONENTS runtime)\n"
    )
    # A torch folder with the real headers and libraries but another release's version.py.
    real = Path(torch.__file__).parent
    other = tmp_path / "torch"
    other.mkdir()
    for name in ("include", "lib"):
        (other / name).symlink_to(real / name)
    (other / "version.py").write_text("__version__ = '9.9.0+cpu'\n")
    result = configure(project, tmp_path / "build", f"-DOPTICORE_TORCH_ROOT={other}")
    assert result.returncode != 0
    message = " ".join(result.stderr.split())
    assert f"opticore::runtime was built with torch {built} and runs only with it; found torch 9.9.0+cpu" in message
    ok = configure(project, tmp_path / "build-ok", f"-DOPTICORE_TORCH_ROOT={real}")
    assert ok.returncode == 0, ok.stderr
