"""opticore train / eval liveness end to end: V2SE with the FT head learns the generated
recaptures (held-out photographs) well above chance in a couple of CPU minutes; seeded runs, the
checkpoint contents, the eval outputs (metrics.json, roc.png, fusion of two checkpoints), bad
arguments, and a torchrun run with two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from opticore.eval import liveness as eval_liveness  # noqa: E402
from opticore.train import liveness as train_liveness  # noqa: E402
from opticore.train.loop import load_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("liveness") / "gen"
    train_liveness.make_synthetic(root, 200, 40, seed=0)
    return root


def test_v2se_learns_generated_recaptures(generated: Path, tmp_path: Path) -> None:
    torch.set_num_threads(2)
    out = tmp_path / "run"
    assert train_liveness.main(["--synthetic", str(generated), "--synthetic-per-class", "200", "--model", "v2se",
                                "--epochs", "5", "--batch-size", "16", "--lr", "2e-3", "--out", str(out),
                                "--no-progress"]) == 0
    checkpoint = load_checkpoint(out / "best.pt")
    assert checkpoint["extra"] == {"task": "liveness", "variant": "v2se", "num_classes": 3, "ft_weight": 1.0,
                                   "size": 80, "scale": 2.7}
    assert any(key.startswith("ft.") for key in checkpoint["model"])  # the FT head was trained
    assert eval_liveness.main(["--checkpoint", str(out / "best.pt"), "--data", str(generated / "test"),
                               "--out", str(tmp_path / "eval")]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert (metrics["n_live"], metrics["n_attack"]) == (40, 80)  # held-out photographs only
    # Chance is ACER 0.5, AUC 0.5. Measured with this budget (5 epochs of 510 crops, about a minute):
    # held-out ACER 0.219, AUC 0.938 (0.156 and 0.951 on an earlier build: on 120 test crops one
    # crop moves ACER by 0.0125-0.025). The ACER <= 0.10 takes the longer run of the README
    # (400 images per class, 8-10 epochs: 0.066-0.090).
    assert metrics["acer"] <= 0.30, metrics
    assert metrics["auc"] >= 0.90, metrics
    assert (tmp_path / "eval" / "roc.png").stat().st_size > 1000

    # Fusing two checkpoints (best and last of the run).
    assert eval_liveness.main(["--checkpoint", str(out / "best.pt"), "--checkpoint", str(out / "last.pt"),
                               "--data", str(generated / "test"), "--out", str(tmp_path / "fused")]) == 0
    fused = json.loads((tmp_path / "fused" / "metrics.json").read_text())
    assert fused["checkpoints"] == [str(out / "best.pt"), str(out / "last.pt")] and fused["auc"] >= 0.90


def test_seeded_runs_repeat_and_no_ft_head(generated: Path, tmp_path: Path) -> None:
    args = ["--data", str(generated / "test"), "--model", "v1", "--ft-weight", "0", "--epochs", "1",
            "--batch-size", "32", "--no-progress"]
    for name in ("a", "b"):
        assert train_liveness.main(args + ["--out", str(tmp_path / name)]) == 0
    a, b = (load_checkpoint(tmp_path / name / "last.pt")["model"] for name in ("a", "b"))
    assert not any(key.startswith("ft.") for key in a)  # no FT head
    assert all(torch.equal(value, b[name]) for name, value in a.items())  # seeded: the same run twice
    model, extra = train_liveness.load_model(str(tmp_path / "a" / "best.pt"))
    assert extra["ft_weight"] == 0 and not model.training


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        train_liveness.main(["--data", str(tmp_path), "--size", "70"])
    with pytest.raises(SystemExit):
        train_liveness.main(["--model", "v2se"])  # neither --data nor --synthetic
    with pytest.raises(FileNotFoundError, match="no folder"):
        train_liveness.main(["--data", str(tmp_path / "absent"), "--no-progress"])
    torch.save({"model": {}, "extra": {"task": "pfld"}}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a liveness checkpoint"):
        train_liveness.load_model(str(tmp_path / "other.pt"))


def test_torchrun_two_processes(generated: Path, tmp_path: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
                           "-m", "opticore", "train", "liveness", "--data", str(generated / "test"), "--model", "v2",
                           "--epochs", "1", "--batch-size", "16", "--out", str(tmp_path / "ddp"), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]  # torchrun fails when either rank does
    assert "best epoch 1" in done.stdout  # (the two ranks' lines may interleave, so no count)
    checkpoint = load_checkpoint(tmp_path / "ddp" / "last.pt")
    assert checkpoint["epoch"] == 0 and len(checkpoint["history"]) == 1
