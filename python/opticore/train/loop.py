"""The training loop shared by opticore's models.

:func:`fit` does what every task needs and nothing task-specific: seeding, AdamW with a per-step
cosine schedule, a progress bar, a CSV log, checkpoints (``last.pt`` every epoch, ``best.pt`` on the
validation metric) with resume, and scale-out with ``torchrun`` (DDP; gloo on the CPU, NCCL on
CUDA). A task supplies the model, the training set, a ``step`` that turns a batch into a loss, and a
``validate`` that scores the model on a validation split (never the test split).

Example (a two-weight regression, one epoch)::

    >>> import tempfile, torch
    >>> from opticore.train.loop import FitConfig, fit
    >>> data = torch.utils.data.TensorDataset(torch.randn(64, 2), torch.randn(64, 1))
    >>> model = torch.nn.Linear(2, 1)
    >>> def step(net, batch):
    ...     x, y = batch
    ...     return torch.nn.functional.mse_loss(net(x), y), {}
    >>> def validate(net):
    ...     return {"val_loss": float(torch.nn.functional.mse_loss(net(data.tensors[0]), data.tensors[1]))}
    >>> with tempfile.TemporaryDirectory() as out:
    ...     result = fit(model, data, step, validate, FitConfig(out_dir=out, epochs=1, progress=False))
    >>> len(result.history)
    1
"""

from __future__ import annotations

import csv
import math
import os
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
import torch.distributed as dist

from .._progress import progress_bar

Step = Callable[[torch.nn.Module, Any], Tuple[torch.Tensor, Mapping[str, float]]]
Validate = Callable[[torch.nn.Module], Mapping[str, float]]


@dataclass
class FitConfig:
    """How :func:`fit` trains.

    ``batch_size`` is per process (with ``torchrun --nproc-per-node P`` the global batch is
    ``P * batch_size``). ``monitor`` names the key of ``validate``'s result that picks ``best.pt``;
    ``mode`` says whether lower (``"min"``) or higher (``"max"``) is better. ``warmup_epochs`` of
    linear warm-up precede the cosine decay to ``lr * final_lr_fraction``. With ``resume``, training
    continues from ``out_dir/last.pt`` when it exists (same seed: the same run as without the stop).
    """

    out_dir: Union[str, Path]
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 0.0
    final_lr_fraction: float = 0.01
    seed: int = 0
    workers: int = 0
    resume: bool = False
    progress: bool = True
    monitor: str = "val_loss"
    mode: str = "min"

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if not (self.lr > 0):
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")


@dataclass
class FitResult:
    """What :func:`fit` did: one row per epoch (``epoch``, ``train_loss``, ``lr``, ``seconds`` and
    the validation metrics), the best monitored value and its epoch, the checkpoint folder."""

    history: List[Dict[str, float]] = field(default_factory=list)
    best: float = math.nan
    best_epoch: int = -1
    out_dir: Path = Path(".")


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (:func:`fit` reseeds every epoch from
    ``FitConfig.seed``, the epoch and the DDP rank, so that processes draw different augmentations
    and a resumed run repeats the uninterrupted one)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _seed_worker(worker_id: int) -> None:
    # torch seeds each DataLoader worker from the loader's generator; NumPy and random follow it,
    # so that augmentation drawn with np.random differs between workers and repeats between runs.
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def distributed_context() -> Tuple[int, int]:
    """``(rank, world_size)``: ``(0, 1)`` alone; under ``torchrun`` the process group is started
    (gloo on the CPU, NCCL when CUDA is available) the first time this is called."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def save_checkpoint(path: Union[str, Path], payload: Mapping[str, Any]) -> None:
    """Write ``payload`` with ``torch.save`` atomically (to a temporary file, then renamed), so an
    interrupted run never leaves a truncated checkpoint behind."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(payload), tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Union[str, Path]) -> Dict[str, Any]:
    """Read a checkpoint written by :func:`fit`: keys ``model`` (the state dict), ``extra`` (what
    the task stored to rebuild its model), ``epoch``, ``history``, ``optimizer``, ``scheduler``.
    A missing file raises ``FileNotFoundError`` naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint: no file {path}")
    checkpoint: Dict[str, Any] = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(checkpoint, dict) or "model" not in checkpoint:
        raise ValueError(f"checkpoint: {path} is not an opticore training checkpoint (no 'model' entry)")
    return checkpoint


def _cosine_schedule(total_steps: int, warmup_steps: int, final_fraction: float) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return final_fraction + (1.0 - final_fraction) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def _is_better(value: float, best: float, mode: str) -> bool:
    if math.isnan(best):
        return not math.isnan(value)
    return value < best if mode == "min" else value > best


def fit(
    model: torch.nn.Module,
    train_set: torch.utils.data.Dataset,
    step: Step,
    validate: Validate,
    config: FitConfig,
    *,
    collate_fn: Optional[Callable[[List[Any]], Any]] = None,
    extra: Optional[Mapping[str, Any]] = None,
) -> FitResult:
    """Train ``model`` on ``train_set`` for ``config.epochs`` epochs.

    ``step(net, batch) -> (loss, logs)`` runs the forward pass on a batch of the DataLoader and
    returns the scalar loss to minimise (``net`` is the DDP wrapper under torchrun: call it, not
    ``model``, so that gradients are synchronised). ``validate(model) -> metrics`` is called after
    every epoch on every process with the model in eval mode and gradients off; it must return
    ``config.monitor``. ``extra`` (JSON-like: model name, constructor arguments, class names) is
    stored in every checkpoint so that evaluation and export can rebuild the model.

    Writes, on the first process only: ``out_dir/last.pt``, ``out_dir/best.pt`` and
    ``out_dir/log.csv`` (one row per epoch). Returns a :class:`FitResult`.
    """
    rank, world = distributed_context()
    out_dir = Path(config.out_dir)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device("cpu")
    if world > 1 and torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    model.to(device)

    sampler: Optional[torch.utils.data.Sampler[int]] = None
    if world > 1:
        sampler = torch.utils.data.distributed.DistributedSampler(train_set, shuffle=True, seed=config.seed)
    generator = torch.Generator()
    loader = torch.utils.data.DataLoader(
        train_set, batch_size=config.batch_size, shuffle=sampler is None, sampler=sampler,
        num_workers=config.workers, worker_init_fn=_seed_worker, generator=generator,
        collate_fn=collate_fn, drop_last=len(train_set) > config.batch_size * world,  # type: ignore[arg-type]
    )
    steps_per_epoch = max(1, len(loader))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _cosine_schedule(
        config.epochs * steps_per_epoch, round(config.warmup_epochs * steps_per_epoch), config.final_lr_fraction))
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.index is not None
                                                        else None)

    result = FitResult(out_dir=out_dir)
    first_epoch = 0
    last = out_dir / "last.pt"
    if config.resume and last.is_file():
        checkpoint = load_checkpoint(last)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        first_epoch = int(checkpoint["epoch"]) + 1
        result.history = list(checkpoint["history"])
        result.best, result.best_epoch = float(checkpoint["best"]), int(checkpoint["best_epoch"])

    for epoch in range(first_epoch, config.epochs):
        # Every epoch starts from a seed of its own, so that a resumed run draws what the
        # uninterrupted one would have drawn (shuffling, augmentation, dropout).
        epoch_seed = config.seed + 1000 * rank + 1_000_003 * epoch
        seed_everything(epoch_seed)
        generator.manual_seed(epoch_seed)
        if sampler is not None:
            sampler.set_epoch(epoch)  # type: ignore[attr-defined]
        model.train()
        bar = progress_bar(steps_per_epoch, f"epoch {epoch + 1}/{config.epochs}", "batch") \
            if config.progress and rank == 0 else None
        total, count = 0.0, 0
        for batch in loader:
            loss, _ = step(net, _to_device(batch, device))
            if not torch.isfinite(loss):
                value = float(loss.detach())
                raise FloatingPointError(f"training loss became {value} at epoch {epoch + 1}; lower --lr")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach())
            count += 1
            if bar is not None:
                bar.update()
                bar.set_postfix_str(f"loss {total / count:.4f}")
        if bar is not None:
            bar.close()
        model.eval()
        with torch.no_grad():
            metrics = dict(validate(model))
        if config.monitor not in metrics:
            raise KeyError(f"validate() returned {sorted(metrics)}, without the monitored {config.monitor!r}")
        row = {"epoch": float(epoch + 1), "train_loss": _mean_across(total, count, world),
               "lr": optimizer.param_groups[0]["lr"], **{k: float(v) for k, v in metrics.items()}}
        result.history.append(row)
        improved = _is_better(row[config.monitor], result.best, config.mode)
        if improved:
            result.best, result.best_epoch = row[config.monitor], epoch + 1
        if rank == 0:
            payload = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                       "scheduler": scheduler.state_dict(), "epoch": epoch, "history": result.history,
                       "best": result.best, "best_epoch": result.best_epoch,
                       "extra": dict(extra or {}), "config": _plain(asdict(config))}
            save_checkpoint(last, payload)
            if improved:
                save_checkpoint(out_dir / "best.pt", payload)
            _write_log(out_dir / "log.csv", result.history)
    if world > 1:
        dist.barrier()
    return result


def _to_device(batch: Any, device: torch.device) -> Any:
    if device.type == "cpu":
        return batch
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(item, device) for item in batch)
    if isinstance(batch, dict):
        return {key: _to_device(value, device) for key, value in batch.items()}
    return batch


def _mean_across(total: float, count: int, world: int) -> float:
    if world == 1:
        return total / max(1, count)
    sums = torch.tensor([total, float(count)], dtype=torch.float64)
    dist.all_reduce(sums)
    return float(sums[0] / sums[1].clamp(min=1))


def _plain(config: Mapping[str, Any]) -> Dict[str, Any]:
    return {key: str(value) if isinstance(value, Path) else value for key, value in config.items()}


def _write_log(path: Path, history: List[Dict[str, float]]) -> None:
    columns = list(dict.fromkeys(key for row in history for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
