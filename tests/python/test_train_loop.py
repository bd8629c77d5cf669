"""The shared training loop (opticore.train.loop): it learns, resumes exactly, keeps the best
checkpoint by the monitored metric, logs every epoch, and runs under torchrun with two processes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from opticore.train.loop import FitConfig, fit, load_checkpoint  # noqa: E402

# A linear target with noise: y = x @ W + b.
_W = torch.tensor([[1.5], [-2.0], [0.5]])


def _data(n: int, seed: int) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return torch.utils.data.TensorDataset(x, x @ _W + 0.3 + 0.01 * torch.randn(n, 1, generator=g))


def _step(net: torch.nn.Module, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(net(x), y), {}


def _validator(data):
    def validate(net: torch.nn.Module):
        x, y = data.tensors
        return {"val_loss": float(torch.nn.functional.mse_loss(net(x), y))}
    return validate


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 1))


def test_fit_learns_and_writes_log_and_checkpoints(tmp_path: Path) -> None:
    train, val = _data(256, 1), _data(128, 2)
    baseline = float(((val.tensors[1] - train.tensors[1].mean()) ** 2).mean())  # predict the mean
    result = fit(_model(), train, _step, _validator(val),
                 FitConfig(out_dir=tmp_path, epochs=8, batch_size=32, lr=3e-2, progress=False), extra={"task": "toy"})
    assert len(result.history) == 8
    assert result.history[-1]["val_loss"] < 0.05 * baseline
    assert result.best == min(row["val_loss"] for row in result.history)
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["epoch"] + 1 == result.best_epoch and best["extra"] == {"task": "toy"}
    with open(tmp_path / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(float(r["epoch"])) for r in rows] == list(range(1, 9))
    assert float(rows[3]["val_loss"]) == pytest.approx(result.history[3]["val_loss"])
    lrs = [row["lr"] for row in result.history]
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] == pytest.approx(3e-2 * 0.01, rel=1e-6)  # cosine to 1%


def test_resume_repeats_the_uninterrupted_run(tmp_path: Path) -> None:
    train, val = _data(200, 3), _data(64, 4)
    config = {"epochs": 4, "batch_size": 16, "progress": False}
    straight = _model()
    fit(straight, train, _step, _validator(val), FitConfig(out_dir=tmp_path / "a", **config))
    again = _model()
    fit(again, train, _step, _validator(val), FitConfig(out_dir=tmp_path / "b", **config))

    calls = {"n": 0}

    def stop_in_third_epoch(net: torch.nn.Module):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user stops the run before epoch 3 is saved
        return _validator(val)(net)

    with pytest.raises(KeyboardInterrupt):
        fit(_model(), train, _step, stop_in_third_epoch, FitConfig(out_dir=tmp_path / "c", **config))
    assert load_checkpoint(tmp_path / "c" / "last.pt")["epoch"] == 1  # epochs 1 and 2 saved
    resumed = _model()
    result = fit(resumed, train, _step, _validator(val), FitConfig(out_dir=tmp_path / "c", resume=True, **config))
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    for name, weight in straight.state_dict().items():
        assert torch.equal(weight, again.state_dict()[name])  # the run is reproducible at all
        assert torch.equal(weight, resumed.state_dict()[name])  # and the resumed one is the same run
    assert not torch.equal(straight[0].weight, _model()[0].weight)  # and it trained


def test_mode_max_keeps_the_highest(tmp_path: Path) -> None:
    scores = iter([0.2, 0.9, 0.5])
    result = fit(_model(), _data(32, 5), _step, lambda net: {"acc": next(scores)},
                 FitConfig(out_dir=tmp_path, epochs=3, batch_size=8, progress=False, monitor="acc", mode="max"))
    assert (result.best, result.best_epoch) == (0.9, 2)
    assert load_checkpoint(tmp_path / "best.pt")["epoch"] == 1


@pytest.mark.parametrize("field, value, message", [
    ("epochs", 0, "epochs must be >= 1"), ("batch_size", 0, "batch_size must be >= 1"),
    ("lr", 0.0, "lr must be > 0"), ("mode", "best", "mode must be 'min' or 'max'"), ("workers", -1, "workers"),
])
def test_bad_config(tmp_path: Path, field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FitConfig(out_dir=tmp_path, **{field: value})


def test_missing_monitor_and_nan_loss_are_reported(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="monitored 'val_loss'"):
        fit(_model(), _data(16, 6), _step, lambda net: {"acc": 1.0}, FitConfig(out_dir=tmp_path, epochs=1,
                                                                                 progress=False))
    nan_step = lambda net, batch: (net(batch[0]).sum() * float("nan"), {})  # noqa: E731
    with pytest.raises(FloatingPointError, match="loss became nan"):
        fit(_model(), _data(16, 6), nan_step, _validator(_data(8, 7)), FitConfig(out_dir=tmp_path, epochs=1,
                                                                                   progress=False))
    with pytest.raises(FileNotFoundError, match="no file"):
        load_checkpoint(tmp_path / "absent.pt")


_DDP_SCRIPT = textwrap.dedent("""
    import sys, torch, torch.distributed as dist
    sys.path.insert(0, {tests!r})
    from test_train_loop import _data, _model, _step, _validator
    from opticore.train.loop import FitConfig, fit
    model = _model()
    result = fit(model, _data(128, 1), _step, _validator(_data(64, 2)),
                 FitConfig(out_dir={out!r}, epochs=6, batch_size=8, lr=3e-2, progress=False))
    # DDP keeps the replicas equal: gather every rank's weights and compare.
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    copies = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
    dist.all_gather(copies, flat)
    assert all(torch.equal(c, copies[0]) for c in copies), "replicas diverged"
    print("rank", dist.get_rank(), "val_loss", result.history[-1]["val_loss"])
    # No destroy_process_group: with gloo it can abort the process at teardown ("terminate called
    # without an active exception"); the trainers leave the group to the interpreter's exit too.
    dist.barrier()
""")


def test_torchrun_two_processes(tmp_path: Path) -> None:
    script = tmp_path / "ddp.py"
    script.write_text(_DDP_SCRIPT.format(tests=str(Path(__file__).parent), out=str(tmp_path / "run")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                           "--standalone", str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]  # each rank asserts its replica equals rank 0's
    assert done.stdout.count("val_loss") == 2  # both ranks ran to the end (their lines may interleave)
    checkpoint = load_checkpoint(tmp_path / "run" / "last.pt")
    assert checkpoint["epoch"] == 5 and len(checkpoint["history"]) == 6
    assert checkpoint["history"][-1]["val_loss"] < 0.05 * checkpoint["history"][0]["val_loss"], checkpoint["history"]
