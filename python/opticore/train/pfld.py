"""``opticore train pfld``: train PFLD (0.25X or 1X) with its auxiliary pose network.

Data (``--data``):

* ``synthetic`` (default): faces from :mod:`opticore.data.faces_synthetic`, seeds ``0 ..
  train_size - 1`` for training and ``10**6 ..`` for validation (a disjoint range).
* ``wflw``: ``--train-list list_98pt_rect_attr_train.txt --images WFLW_images`` (98 points);
  ``--val-list`` names the validation list, else ``--val-fraction`` of the training list is held
  out (the test list is for ``opticore eval pfld`` only, never for model selection).
* ``csv``: ``--train-list faces.csv`` (:func:`opticore.data.landmarks.read_csv`), same split rules.

Every face is cropped to 112 x 112 around its landmarks (:func:`opticore.data.landmarks.crop_face`,
``--margin``), training crops are augmented (:func:`opticore.data.landmarks.augment_face`: rotation
up to 30 degrees, zoom, shift, mirror with the permutation tables, colour jitter, occlusion), and
the pose that weights the loss is :func:`opticore.data.landmarks.euler_angles` of the final crop's
landmarks (camera from the 112 x 112 crop). The loss (``--loss pfld``, the default) is
:class:`opticore.models.pfld.PFLDLoss` with attribute weights from the training set's class
frequencies; ``--loss l2`` is the plain sum of squared landmark errors plus the squared angle
errors of the auxiliary net (no weighting). The paper's weight ``sum_k (1 - cos theta_k)`` is near
zero for near-frontal faces and for faces whose pose the auxiliary net already predicts, so it
learns slower at first: on generated faces, 120 steps of 16 reach a validation NME of 0.20 with it
and 0.145 with ``l2`` (mean-shape baseline 0.30). AdamW, cosine schedule, checkpoints,
resume, CSV log and ``torchrun`` come from :func:`opticore.train.loop.fit`; ``best.pt`` is chosen by
the validation NME (inter-ocular).

Example::

    opticore train pfld --out runs/pfld --epochs 30 --train-size 20000 --width 0.25
    torchrun --nproc-per-node 2 -m opticore.train.pfld --out runs/pfld   # the same, two processes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..eval.landmarks import nme
from ..data.landmarks import (LandmarkSample, augment_face, crop_face, euler_angles, read_csv, read_wflw, to_units,
                              transform_points)
from ..models.pfld import PFLD, AuxiliaryNet, PFLDLoss, attribute_weights
from .loop import FitConfig, fit

CROP = 112
#: Validation seeds of the synthetic data start here (training seeds are 0 .. train_size - 1).
VALIDATION_SEED = 10**6

# (image uint8 HxWx3, landmarks (K, 2) pixels, attributes (6,)) for sample i.
Source = Callable[[int], Tuple[np.ndarray, np.ndarray, np.ndarray]]


class PFLDWithAux(torch.nn.Module):
    """The module :func:`opticore.train.loop.fit` trains: ``pfld`` and ``aux`` side by side
    (``forward(x) -> (landmarks, angles)``); :func:`load_pfld` takes the ``pfld`` part back out."""

    def __init__(self, num_landmarks: int, width: float) -> None:
        super().__init__()
        self.pfld = PFLD(num_landmarks, width)
        self.aux = AuxiliaryNet(self.pfld.feature_channels, width)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        landmarks, features = self.pfld.forward_features(x)
        return landmarks, self.aux(features)


def load_pfld(path: str | Path) -> Tuple[PFLD, Dict[str, Any]]:
    """The trained :class:`PFLD` (eval mode) of a checkpoint written by ``opticore train pfld``,
    and the checkpoint's ``extra`` (``num_landmarks``, ``width``, ``margin``, ``mean_shape``)."""
    from .loop import load_checkpoint

    checkpoint = load_checkpoint(path)
    extra = checkpoint.get("extra", {})
    if extra.get("task") != "pfld":
        raise ValueError(f"checkpoint: {path} is not a PFLD checkpoint (task {extra.get('task')!r})")
    model = PFLD(int(extra["num_landmarks"]), float(extra["width"]))
    state = {k[len("pfld."):]: v for k, v in checkpoint["model"].items() if k.startswith("pfld.")}
    model.load_state_dict(state)
    return model.eval(), extra


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """``(N, S, S, 3)`` uint8 -> ``(N, 3, S, S)`` float32 in ``[0, 1]`` (the model's input).

    Example:
        >>> import numpy as np
        >>> from opticore.train.pfld import to_tensor
        >>> x = to_tensor(np.full((2, 112, 112, 3), 255, np.uint8))
        >>> tuple(x.shape), float(x.max())
        ((2, 3, 112, 112), 1.0)
    """
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


class FaceCrops(torch.utils.data.Dataset):
    """112 x 112 crops of the faces of ``source`` (``count`` of them), augmented when ``augment``.

    Items: ``(image (3, 112, 112) float32, landmarks (K, 2) float32 model units, angles (3,)
    float32 radians, attributes (6,) float32)``. With ``cache``, the unaugmented crops are made
    once and kept (the synthetic faces are slower to draw than to augment).
    """

    def __init__(self, source: Source, count: int, *, augment: bool, margin: float, cache: bool = False) -> None:
        self.source, self.count, self.augment, self.margin = source, count, augment, margin
        self.cached: Optional[List[Tuple[np.ndarray, np.ndarray, np.ndarray]]] = None
        if cache:
            self.cached = [self.crop(i) for i in range(count)]

    def crop(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        image, landmarks, attributes = self.source(index)
        crop, M = crop_face(image, landmarks, size=CROP, margin=self.margin)
        return crop, transform_points(landmarks, M), attributes

    def __len__(self) -> int:
        return self.count

    def unaugmented(self, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(landmarks (n, K, 2) model units, attributes (n, 6))`` of the first ``n = min(limit,
        count)`` unaugmented crops (from the cache when there is one)."""
        n = min(limit, self.count)
        items = self.cached[:n] if self.cached is not None else [self.crop(i) for i in range(n)]
        return (np.stack([to_units(points, CROP) for _, points, _ in items]),
                np.stack([np.asarray(attributes) for _, _, attributes in items]))

    def __getitem__(self, index: int) -> Tuple[torch.Tensor, ...]:
        crop, points, attributes = self.cached[index] if self.cached is not None else self.crop(index)
        if self.augment:
            crop, points = augment_face(crop, points, np.random.default_rng(np.random.randint(2**31)))
        angles = euler_angles(points, (CROP, CROP))
        return (to_tensor(crop[None])[0], torch.from_numpy(to_units(points, CROP)).float(),
                torch.from_numpy(angles).float(), torch.from_numpy(np.asarray(attributes)).float())


def synthetic_source(first_seed: int) -> Source:
    """Faces of :func:`opticore.data.faces_synthetic.render_face` from seed ``first_seed + i``."""
    from ..data.faces_synthetic import render_face

    def get(index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        face = render_face(first_seed + index)
        return face.image, face.landmarks, face.attributes

    return get


def file_source(samples: Sequence[LandmarkSample]) -> Source:
    """Faces read from disk (BGR) with their annotations."""
    import cv2

    def get(index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        sample = samples[index]
        image = cv2.imread(str(sample.image), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"cannot read image {sample.image}")
        return image, sample.landmarks, sample.attributes

    return get


def _split(samples: List[LandmarkSample], fraction: float, seed: int) -> Tuple[List[LandmarkSample],
                                                                               List[LandmarkSample]]:
    order = np.random.default_rng(seed).permutation(len(samples))
    n_val = max(1, int(round(fraction * len(samples))))
    return [samples[i] for i in order[n_val:]], [samples[i] for i in order[:n_val]]


def build_datasets(args: argparse.Namespace) -> Tuple[FaceCrops, FaceCrops, np.ndarray, int]:
    """``(train, validation, attribute frequencies (6,), K)`` for the parsed options."""
    if args.data == "synthetic":
        train = FaceCrops(synthetic_source(0), args.train_size, augment=not args.no_augment, margin=args.margin,
                          cache=args.cache)
        val = FaceCrops(synthetic_source(VALIDATION_SEED), args.val_size, augment=False, margin=args.margin,
                        cache=True)
        return train, val, train.unaugmented(2000)[1].mean(axis=0), 68
    if args.train_list is None:
        raise ValueError(f"--data {args.data} needs --train-list")
    read = read_wflw if args.data == "wflw" else read_csv
    samples = read(args.train_list, args.images)
    if args.val_list is not None:
        val_samples = read(args.val_list, args.images)
    else:
        samples, val_samples = _split(samples, args.val_fraction, args.seed)
    k = len(samples[0].landmarks)
    frequencies = np.stack([s.attributes for s in samples]).mean(axis=0)
    return (FaceCrops(file_source(samples), len(samples), augment=not args.no_augment, margin=args.margin),
            FaceCrops(file_source(val_samples), len(val_samples), augment=False, margin=args.margin, cache=True),
            frequencies, k)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opticore train pfld", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for last.pt, best.pt and log.csv")
    p.add_argument("--data", choices=("synthetic", "wflw", "csv"), default="synthetic")
    p.add_argument("--train-list", help="WFLW list file or CSV of the training faces")
    p.add_argument("--val-list", help="WFLW list file or CSV of the validation faces")
    p.add_argument("--images", help="folder the image paths are relative to (default: the list's folder)")
    p.add_argument("--val-fraction", type=float, default=0.1, help="held out of --train-list without --val-list")
    p.add_argument("--train-size", type=int, default=20000, help="synthetic training faces")
    p.add_argument("--val-size", type=int, default=500, help="synthetic validation faces")
    p.add_argument("--cache", action="store_true", help="keep the synthetic training crops in memory")
    p.add_argument("--width", type=float, choices=(0.25, 1.0), default=0.25)
    p.add_argument("--margin", type=float, default=0.2, help="crop margin around the landmarks' box")
    p.add_argument("--loss", choices=("pfld", "l2"), default="pfld",
                   help="pfld: the paper's pose- and attribute-weighted loss; l2: unweighted squared errors")
    p.add_argument("--no-augment", action="store_true", help="train on the crops as they are (quick checks)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--no-progress", action="store_true")
    return p


def nme_of(model: torch.nn.Module, data: FaceCrops) -> float:
    """Mean inter-ocular NME of ``model`` (a :class:`PFLD`) on ``data`` (no augmentation)."""
    loader = torch.utils.data.DataLoader(data, batch_size=64)
    preds, targets = [], []
    for images, landmarks, _, _ in loader:
        preds.append(model(images).numpy())
        targets.append(landmarks.numpy())
    return float(nme(np.concatenate(preds), np.concatenate(targets)).mean())


def main(argv: Optional[List[str]] = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.train_size < 1 or args.val_size < 1:
        p.error(f"--train-size and --val-size must be >= 1, got {args.train_size} and {args.val_size}")
    if not 0 < args.val_fraction < 1:
        p.error(f"--val-fraction must be in (0, 1), got {args.val_fraction}")
    torch.manual_seed(args.seed)
    train, val, frequencies, k = build_datasets(args)
    model = PFLDWithAux(k, args.width)
    loss_fn = PFLDLoss()
    freq = torch.as_tensor(frequencies, dtype=torch.float32)

    def step(net: torch.nn.Module, batch: Any) -> Tuple[torch.Tensor, Dict[str, float]]:
        images, landmarks, angles, attributes = batch
        pred, angles_pred = net(images)
        if args.loss == "l2":
            squared = ((pred - landmarks) ** 2).sum(dim=(1, 2)) + ((angles_pred - angles) ** 2).sum(dim=1)
            return squared.mean(), {}
        return loss_fn(pred, landmarks, angles_pred, angles, attribute_weights(attributes, freq)), {}

    def validate(net: torch.nn.Module) -> Dict[str, float]:
        return {"val_nme": nme_of(net.pfld, val)}  # type: ignore[arg-type]

    # The mean unaugmented training crop: the head starts from it (its bias; small weights), so
    # training starts at the mean-shape baseline, which opticore eval pfld also reports.
    mean_shape = train.unaugmented(500)[0].mean(axis=0)
    with torch.no_grad():
        model.pfld.fc.bias.copy_(torch.from_numpy(mean_shape).flatten())
        model.pfld.fc.weight.mul_(0.1)
    baseline = float(nme(np.broadcast_to(mean_shape, val.unaugmented(len(val))[0].shape),
                         val.unaugmented(len(val))[0]).mean())
    print(f"pfld: {len(train)} training faces, {len(val)} validation faces; mean-shape baseline val NME "
          f"{baseline:.4f}")
    config = FitConfig(out_dir=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       weight_decay=args.weight_decay, seed=args.seed, workers=args.workers, resume=args.resume,
                       progress=not args.no_progress, monitor="val_nme", mode="min")
    extra = {"task": "pfld", "num_landmarks": k, "width": args.width, "margin": args.margin, "data": args.data,
             "loss": args.loss,
             "mean_shape": mean_shape.tolist()}
    result = fit(model, train, step, validate, config, extra=extra)
    last = result.history[-1]
    print(f"pfld: {len(result.history)} epochs, val NME {last['val_nme']:.4f} (best {result.best:.4f} at epoch "
          f"{result.best_epoch}); checkpoints in {result.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
