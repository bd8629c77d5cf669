"""``opticore train liveness``: MiniFASNet anti-spoofing with the Fourier-spectrum auxiliary head.

Loss = cross-entropy + ``ft_weight`` * MSE(FT head, :func:`opticore.fourier_spectrum` of the
augmented crop at ``size / 8``). A validation split (``--val-fraction`` of ``--data``, stratified
and seeded, or ``--val-data``) picks ``best.pt`` by its ACER; the test data is never seen here
(score it with ``opticore eval liveness``). Checkpoints, resume and torchrun come from
:func:`opticore.train.loop.fit`.

Real data (the default use): ``--data`` a class folder or CSV (see :mod:`opticore.data.liveness`).
Without a data set: ``--synthetic DIR`` first writes generated train and held-out test folders
(``DIR/train``, ``DIR/test``, split by source photograph) and trains on ``DIR/train``::

    opticore train liveness --synthetic gen --model v2se --epochs 20 --out runs/v2se
    opticore eval liveness --checkpoint runs/v2se/best.pt --data gen/test --out runs/v2se/eval
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..data.liveness import (LivenessDataset, Sample, generate_spoof_dataset, read_folder, read_samples,
                             source_photos, split_photos)
from ..eval.liveness import summary
from ..models.minifasnet import VARIANTS, MiniFASNet, MiniFASNetFT
from .loop import FitConfig, FitResult, distributed_context, fit, load_checkpoint

__all__ = ["load_model", "main", "make_synthetic", "split_samples", "train"]


def split_samples(samples: Sequence[Sample], val_fraction: float, seed: int) -> Tuple[List[Sample], List[Sample]]:
    """``(train, val)``: a seeded split stratified by class (at least one validation sample per
    class that has two or more).

    Example:
        >>> from opticore.data.liveness import Sample
        >>> from opticore.train.liveness import split_samples
        >>> samples = [Sample(f"{i}.png", i % 3) for i in range(30)]
        >>> train, val = split_samples(samples, 0.2, seed=0)
        >>> len(train), len(val), sorted(s.label for s in val)
        (24, 6, [0, 0, 1, 1, 2, 2])
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    labels = np.array([s.label for s in samples])
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = min(len(idx) - 1, max(1, round(val_fraction * len(idx)))) if val_fraction > 0 else 0
        val += [samples[i] for i in idx[:n_val]]
        train += [samples[i] for i in idx[n_val:]]
    return train, val


def make_synthetic(root: Path, train_per_class: int, test_per_class: int, seed: int = 0) -> Tuple[Path, Path]:
    """Generate ``root/train`` and ``root/test`` (see :func:`generate_spoof_dataset`) from
    disjoint sets of source photographs, unless they exist already. Returns both folders."""
    train_dir, test_dir = root / "train", root / "test"
    if not train_dir.is_dir() or not test_dir.is_dir():
        train_photos, test_photos = split_photos(source_photos(), 0.3, seed)
        generate_spoof_dataset(train_dir, train_photos, train_per_class, seed=seed)
        generate_spoof_dataset(test_dir, test_photos, test_per_class, seed=seed + 1)
    return train_dir, test_dir


def load_model(path: str) -> Tuple[MiniFASNet, Dict[str, Any]]:
    """The classifier of a checkpoint written by :func:`train` (eval mode), and its ``extra``
    (``variant``, ``num_classes``, ``size``, ``scale``, ``ft_weight``)."""
    checkpoint = load_checkpoint(path)
    extra = checkpoint["extra"]
    if extra.get("task") != "liveness":
        raise ValueError(f"checkpoint: {path} is not a liveness checkpoint (task {extra.get('task')!r})")
    net = MiniFASNetFT(extra["variant"], int(extra["num_classes"]), ft_head=bool(extra["ft_weight"] > 0),
                       conv6_kernel=int(extra["size"]) // 16)
    net.load_state_dict(checkpoint["model"])
    return net.model.eval(), extra


def _collate(batch: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> Tuple[torch.Tensor, ...]:
    images, fts, labels = zip(*batch)
    return torch.stack(images), torch.stack(fts), torch.stack(labels)


def train(train_samples: Sequence[Sample], val_samples: Sequence[Sample], config: FitConfig, *,
          variant: str = "v2se", num_classes: int = 3, ft_weight: float = 1.0, size: int = 80,
          scale: float = 2.7) -> FitResult:
    """Train a MiniFASNet (with the FT head unless ``ft_weight`` is 0); monitor ``val_acer``."""
    torch.manual_seed(config.seed)
    net = MiniFASNetFT(variant, num_classes, ft_head=ft_weight > 0, conv6_kernel=size // 16)
    train_set = LivenessDataset(train_samples, size=size, scale=scale, augment=True)
    val_set = LivenessDataset(val_samples, size=size, scale=scale)
    val_labels = np.array([s.label for s in val_samples])

    def step(model: torch.nn.Module, batch: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, Dict[str, float]]:
        images, ft_target, labels = batch
        logits, ft = model(images)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        if ft is not None:
            loss = loss + ft_weight * torch.nn.functional.mse_loss(ft, ft_target)
        return loss, {}

    def validate(model: torch.nn.Module) -> Dict[str, float]:
        loader = torch.utils.data.DataLoader(val_set, batch_size=256, collate_fn=_collate)  # type: ignore[arg-type]
        probs = torch.cat([torch.softmax(model.model(images), 1) for images, _, _ in loader]).numpy()
        metrics = {"val_acc": float((probs.argmax(1) == val_labels).mean())}
        if len(np.unique(val_labels == 1)) == 2:
            s = summary(probs[:, 1], val_labels)
            metrics.update(val_acer=s["acer"], val_auc=s["auc"])
        else:
            metrics["val_acer"] = 1.0 - metrics["val_acc"]
        return metrics

    extra = {"task": "liveness", "variant": variant, "num_classes": num_classes, "ft_weight": ft_weight,
             "size": size, "scale": scale}
    return fit(net, train_set, step, validate, config, collate_fn=_collate, extra=extra)  # type: ignore[arg-type]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="opticore train liveness", description=__doc__.split("\n\n")[0])
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", help="training images: a class folder root/<class>/* or a CSV path,label[,x,y,w,h]")
    data.add_argument("--synthetic", metavar="DIR",
                      help="generate DIR/train and DIR/test (if absent), train on DIR/train")
    parser.add_argument("--val-data", help="validation images (default: --val-fraction of --data)")
    parser.add_argument("--val-fraction", type=float, default=0.15)
    parser.add_argument("--synthetic-per-class", type=int, default=400, help="train images per class generated")
    parser.add_argument("--model", choices=sorted(VARIANTS), default="v2se")
    parser.add_argument("--classes", type=int, choices=(2, 3), default=3)
    parser.add_argument("--ft-weight", type=float, default=1.0, help="weight of the FT loss; 0 trains without the head")
    parser.add_argument("--scale", type=float, default=2.7, help="crop scale around face boxes (CSV boxes)")
    parser.add_argument("--size", type=int, default=80, help="crop side, a multiple of 16")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/liveness", help="checkpoints and log.csv")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.size < 16 or args.size % 16:
        parser.error(f"--size: expected a positive multiple of 16, got {args.size}")
    if not 0 <= args.val_fraction < 1:
        parser.error(f"--val-fraction: expected a value in [0, 1), got {args.val_fraction}")

    if args.synthetic:
        rank, _ = distributed_context()
        root = Path(args.synthetic)
        if rank == 0:
            make_synthetic(root, args.synthetic_per_class, max(1, args.synthetic_per_class // 3), args.seed)
        if torch.distributed.is_initialized():
            torch.distributed.barrier()
        samples = read_folder(root / "train", args.classes)
    else:
        samples = read_samples(args.data, args.classes)
    if args.val_data:
        train_samples, val_samples = samples, read_samples(args.val_data, args.classes)
    else:
        train_samples, val_samples = split_samples(samples, args.val_fraction, args.seed)
    config = FitConfig(out_dir=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       weight_decay=args.weight_decay, warmup_epochs=min(1.0, args.epochs / 10), seed=args.seed,
                       workers=args.workers, resume=args.resume, progress=not args.no_progress,
                       monitor="val_acer", mode="min")
    result = train(train_samples, val_samples, config, variant=args.model, num_classes=args.classes,
                   ft_weight=args.ft_weight, size=args.size, scale=args.scale)
    best = result.history[result.best_epoch - 1] if result.best_epoch > 0 else {}
    print(f"best epoch {result.best_epoch}: val ACER {best.get('val_acer', float('nan')):.4f}, "
          f"val accuracy {best.get('val_acc', float('nan')):.4f}; checkpoints in {result.out_dir}")
    return 0
