"""The package as a user meets it: import cost, version, threads, build info, stubs, CLI and the
installed C++ package."""

from __future__ import annotations

import ast
import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import opticore

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout


def test_import_does_not_import_torch_or_other_heavy_packages():
    """`import opticore` pulls in NumPy and opticore's own modules only (no torch, OpenCV,
    scikit-image, matplotlib, the evaluation harness or the benchmarks): that is what keeps it
    fast. (Time itself is not asserted: it swings with the machine's load.)"""
    heavy = ["torch", "cv2", "skimage", "matplotlib", "scipy", "tqdm", "opticore.eval", "opticore.bench"]
    out = run_python(
        f"import sys, opticore; opticore.nms([[0.0, 0, 1, 1]], [1.0], 0.5); "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    assert out.strip() == "[]"


def test_version_comes_from_cmakelists():
    text = (ROOT / "CMakeLists.txt").read_text()
    version = re.search(r"project\(opticore\s+VERSION\s+([0-9.]+)", text).group(1)
    assert opticore.__version__ == version
    assert opticore.build_info()["version"] == version


def test_build_info_fields():
    info = opticore.build_info()
    assert set(info) >= {
        "version",
        "compiler",
        "build_type",
        "torch_version",
        "torch_min_version",
        "cuda",
        "num_threads",
        "torch_ops",
    }
    assert info["num_threads"] == opticore.get_num_threads()
    # True exactly when the core library holds the CUDA kernels (opticore::cuda::*): the build
    # compiles them whenever it finds nvcc.
    (core,) = glob.glob(os.path.join(os.path.dirname(opticore.__file__), "lib", "libopticore_core.so*"))
    with open(core, "rb") as f:
        assert info["cuda"] is (b"_ZN8opticore4cuda" in f.read())
    if info["torch_ops"]:
        assert info["torch_min_version"] == "2.10" and info["torch_version"]
    else:
        assert info["torch_min_version"] is None


def test_set_num_threads():
    before = opticore.get_num_threads()
    try:
        opticore.set_num_threads(1)
        assert opticore.get_num_threads() == 1
        with pytest.raises(ValueError, match="n: expected an int >= 1, got 0"):
            opticore.set_num_threads(0)
        with pytest.raises(TypeError, match="n: expected an int"):
            opticore.set_num_threads(2.5)
        opticore.set_num_threads(1024)  # the documented cap
        assert opticore.get_num_threads() == 1024
        for n in (1025, 2**70):
            with pytest.raises(ValueError, match=f"n: expected an int <= 1024, got {n}"):
                opticore.set_num_threads(n)
        with pytest.raises(ValueError, match="n: expected a thread count in \\[1, 1024\\], got 1025"):
            opticore._core.set_num_threads(1025)  # the core checks too
    finally:
        opticore.set_num_threads(before)


def test_parallel_call_survives_when_threads_cannot_be_created():
    # 1000 threads of 8 MiB stacks cannot fit in 4 GiB of address space: thread creation fails
    # part way, and the call must finish on the threads it got (it used to abort the process).
    code = (
        "import resource, numpy as np, opticore\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "opticore.set_num_threads(1000)\n"
        "img = np.arange(400, dtype=np.uint8).reshape(10, 10, 4)\n"
        "out = opticore.warp_affine(img, np.eye(2, 3), (16384, 2000))\n"
        "ref = np.zeros_like(out); ref[:10, :10] = img\n"
        "print(np.array_equal(out, ref))\n"
    )
    assert run_python(code).strip() == "True"


def test_stub_names_match_the_compiled_module():
    stub = ast.parse((ROOT / "python" / "opticore" / "_core.pyi").read_text())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {n.target.id for n in stub.body if isinstance(n, ast.AnnAssign)}
    public = {n for n in dir(opticore._core) if not n.startswith("_")} | {"__version__"}
    assert stubbed == public


def test_public_functions_are_documented_with_examples():
    for name in opticore.__all__:
        obj = getattr(opticore, name)
        if callable(obj):
            doc = obj.__doc__ or ""
            assert doc.strip(), name
            if name not in ("get_num_threads",):
                assert "Example" in doc, name


def test_cli_help_info_and_errors():
    cli = [sys.executable, "-m", "opticore"]
    help_text = subprocess.run(cli + ["--help"], check=True, capture_output=True, text=True).stdout
    assert "info" in help_text and "bench" in help_text
    info = subprocess.run(cli + ["info"], check=True, capture_output=True, text=True).stdout
    assert opticore.__version__ in info
    bad = subprocess.run(cli + ["bench", "nonsense"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and bad.stdout == ""
    none = subprocess.run(cli, capture_output=True, text=True)
    assert none.returncode == 2


def test_cli_bench_boxes_quick(tmp_path):
    out = tmp_path / "boxes.json"
    result = subprocess.run(
        [sys.executable, "-m", "opticore", "bench", "boxes", "--quick", "--repeats", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "nms" in result.stdout
    assert out.exists() and out.stat().st_size > 0


@pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake not installed")
def test_consumer_builds_against_the_installed_wheel(tmp_path):
    """A C++ project finds the CMake package shipped inside the installed wheel."""
    env = dict(os.environ, CMAKE_PREFIX_PATH=opticore.cmake_prefix_path)
    build = tmp_path / "build"
    subprocess.run(
        ["cmake", "-S", str(ROOT / "tests" / "consumer"), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"],
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True, env=env)
    out = subprocess.run([str(build / "opticore_consumer")], check=True, capture_output=True, text=True).stdout
    assert "consumer ok" in out


def test_the_oldest_supported_torch_is_the_same_everywhere():
    """The stable-ABI target (CMake), the package metadata and the runtime check agree."""
    import opticore.torch

    cmake = re.search(
        r"set\(OPTICORE_TORCH_MIN_VERSION (\d+)\.(\d+)\)", (ROOT / "cmake" / "OpticoreTorch.cmake").read_text()
    )
    pyproject = re.search(r'torch = \["torch>=(\d+)\.(\d+)"\]', (ROOT / "pyproject.toml").read_text())
    assert cmake and pyproject
    expected = tuple(int(v) for v in cmake.groups())
    assert tuple(int(v) for v in pyproject.groups()) == expected
    assert opticore.torch.MIN_TORCH_VERSION == expected
