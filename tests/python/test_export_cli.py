"""``opticore export``: a checkpoint of ``opticore train pfld`` / ``liveness`` to every format,
run back and checked by the command; PFLD-0.25X int8 ``.pte`` at most 1 MB with its held-out NME
within 5 % of the float model's; usage errors (exit 2) and failures (exit 1) on stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("cv2")
pytest.importorskip("onnxruntime")
pytest.importorskip("executorch")

from opticore.models.minifasnet import MiniFASNetFT  # noqa: E402
from opticore.train.loop import save_checkpoint  # noqa: E402

CLI = [sys.executable, "-m", "opticore", "export"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _export(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=ENV, timeout=timeout)


@pytest.fixture(scope="module")
def pfld_checkpoint(tmp_path_factory) -> Path:
    """A PFLD 0.25X trained the way test_pfld_train does (about a minute on 2 cores: 200 steps of
    16 generated faces, held-out NME about 0.13 against the mean shape's 0.30)."""
    from opticore.train import pfld

    out = tmp_path_factory.mktemp("pfld")
    torch.set_num_threads(1)
    assert pfld.main(["--out", str(out), "--no-progress", "--train-size", "800", "--val-size", "100", "--epochs",
                      "4", "--batch-size", "16", "--cache", "--lr", "3e-3", "--loss", "l2", "--no-augment"]) == 0
    return out / "best.pt"


@pytest.fixture(scope="module")
def liveness_checkpoint(tmp_path_factory) -> Path:
    """An untrained MiniFASNet-V2SE checkpoint in the layout ``opticore train liveness`` writes."""
    torch.manual_seed(0)
    net = MiniFASNetFT("v2se", 3, ft_head=True, conv6_kernel=5)
    path = tmp_path_factory.mktemp("liveness") / "best.pt"
    save_checkpoint(path, {"model": net.state_dict(), "epoch": 1, "extra": {
        "task": "liveness", "variant": "v2se", "num_classes": 3, "ft_weight": 1.0, "size": 80, "scale": 2.7}})
    return path


def test_pfld_int8_pte_is_small_and_accurate(pfld_checkpoint):
    out = pfld_checkpoint.parent / "pfld-int8.pte"
    result = _export("pfld", str(pfld_checkpoint), "--format", "pte", "--int8", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.stat().st_size <= 1_000_000
    match = re.search(r"float ([0-9.]+), int8 ([0-9.]+)", result.stdout)
    assert match, result.stdout
    nme_float, nme_int8 = float(match.group(1)), float(match.group(2))
    assert nme_float < 0.2  # trained: the mean shape scores 0.30
    assert nme_int8 <= 1.05 * nme_float, (nme_float, nme_int8)


@pytest.mark.parametrize("fmt", ["onnx", "pt2"])
def test_pfld_float_export(pfld_checkpoint, fmt):
    result = _export("pfld", str(pfld_checkpoint), "--format", fmt, "--cpu", "avx2")
    assert result.returncode == 0, result.stderr[-3000:]
    out = pfld_checkpoint.with_name(f"best.{fmt}")
    assert out.is_file() and f"{fmt}: {out}" in result.stdout and "max abs error vs eager" in result.stdout
    import opticore.runtime as rt

    if fmt == "pt2" and rt.available()[0]:
        # The package carries what the C++ runtime needs: input specs and the crop margin.
        import numpy as np

        from opticore.face_landmarks import predict_landmarks
        from opticore.train.pfld import load_pfld

        runner = rt.Runner(out)
        assert runner.input_specs == "float32[1..64,3,112,112]"
        assert runner.metadata["opticore.margin"] == "0.2"
        model, _ = load_pfld(str(pfld_checkpoint))
        image = np.random.default_rng(0).integers(0, 256, (200, 240, 3), dtype=np.uint8)
        boxes = np.array([[40.0, 30.0, 150.0, 160.0], [120.0, 80.0, 230.0, 190.0]])
        got = rt.LandmarkDetector(out)(image, boxes)
        np.testing.assert_allclose(got, predict_landmarks(model, image, boxes), atol=2e-4)


def test_liveness_export_with_a_calibration_folder(liveness_checkpoint, tmp_path):
    import cv2
    import numpy as np

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((60, 50, 3), 40 * i, np.uint8))
    out = tmp_path / "live.onnx"
    result = _export("liveness", str(liveness_checkpoint), "--format", "onnx", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert out.is_file() and "onnx: " in result.stdout
    from opticore.export.command import calibration_images

    images = calibration_images(str(tmp_path), 80)
    assert images.shape == (3, 3, 80, 80) and images.dtype == np.float32
    assert np.allclose(images[2], 80 / 255)


def test_usage_errors_and_failures(liveness_checkpoint, tmp_path):
    result = _export("pfld", str(liveness_checkpoint), "--format", "onnx", "--int8")
    assert result.returncode == 2 and "--int8: int8 quantization is for --format pte" in result.stderr
    result = _export("pfld", str(liveness_checkpoint), "--format", "onnx", "--calibration", str(tmp_path))
    assert result.returncode == 2 and "--calibration: only used with --int8" in result.stderr
    result = _export("pfld", str(liveness_checkpoint), "--format", "tflite")
    assert result.returncode == 2 and "invalid choice: 'tflite'" in result.stderr
    result = _export("pfld", str(liveness_checkpoint), "--format", "onnx")
    assert result.returncode == 1 and "is not a PFLD checkpoint (task 'liveness')" in result.stderr
    result = _export("pfld", str(tmp_path / "missing.pt"), "--format", "onnx")
    assert result.returncode == 1 and "checkpoint: no file" in result.stderr
    result = _export("liveness", str(liveness_checkpoint), "--format", "pte", "--int8", "--calibration",
                     str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "calibration: no folder" in result.stderr
    result = subprocess.run([sys.executable, "-m", "opticore", "export", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--format {pt2,onnx,pte}" in result.stdout
