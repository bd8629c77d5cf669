"""Liveness evaluation: ISO/IEC 30107-3 error rates (APCER, BPCER, ACER) at a threshold, the ROC
curve, its AUC and the true-live rate at low false-accept rates, with score fusion over several
models / crop scales as Silent-Face does (softmax summed over models).

Conventions: a score is the (fused) probability of the *live* class; a sample is accepted as live
when ``score >= threshold``. APCER = attacks accepted / attacks (the worst attack type is also
reported, as the standard asks), BPCER = live rejected / live, ACER = (APCER + BPCER) / 2. The
ROC treats live as positive: FPR = APCER and TPR = 1 - BPCER as the threshold sweeps.

``opticore eval liveness --checkpoint best.pt [--checkpoint other.pt] --data DIR --out OUT``
writes ``OUT/metrics.json`` and ``OUT/roc.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["error_rates", "fuse_scores", "main", "roc_curve", "summary", "tpr_at_fpr"]


def roc_curve(scores: np.ndarray, live: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fpr, tpr, thresholds)`` with one point per distinct score, from (0, 0) to (1, 1):
    accepting ``score >= thresholds[i]`` gives ``fpr[i]`` (attacks accepted) and ``tpr[i]`` (live
    accepted). Needs at least one live and one attack sample.

    Example:
        >>> import numpy as np
        >>> from opticore.eval.liveness import roc_curve
        >>> fpr, tpr, _ = roc_curve(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 0, 1, 0]))
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    s, y = np.asarray(scores, np.float64), np.asarray(live).astype(bool)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"scores, live: expected two 1-D arrays of one length, got {s.shape} and {y.shape}")
    n_live, n_attack = int(y.sum()), int((~y).sum())
    if n_live == 0 or n_attack == 0:
        raise ValueError(f"live: expected live and attack samples, got {n_live} live and {n_attack} attacks")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # the last index of each distinct score
    tp, fp = np.cumsum(y)[last], np.cumsum(~y)[last]
    return np.r_[0.0, fp / n_attack], np.r_[0.0, tp / n_live], np.r_[np.inf, s[last]]


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """The highest TPR among the ROC's thresholds whose FPR is at most ``target``."""
    return float(tpr[fpr <= target + 1e-12].max())


def error_rates(scores: np.ndarray, labels: np.ndarray, threshold: float, live_label: int = 1) -> Dict[str, Any]:
    """APCER (overall and per attack class), BPCER and ACER at ``threshold``.

    Example:
        >>> import numpy as np
        >>> from opticore.eval.liveness import error_rates
        >>> r = error_rates(np.array([0.9, 0.4, 0.6, 0.2]), np.array([1, 1, 0, 2]), 0.5)
        >>> r["apcer"], r["bpcer"], r["acer"], r["apcer_per_class"]
        (0.5, 0.5, 0.5, {'0': 1.0, '2': 0.0})
    """
    s, y = np.asarray(scores, np.float64), np.asarray(labels)
    accepted = s >= threshold
    live = y == live_label
    per_class = {str(int(c)): float(accepted[y == c].mean()) for c in np.unique(y[~live])}
    apcer = float(accepted[~live].mean()) if (~live).any() else float("nan")
    bpcer = float((~accepted[live]).mean()) if live.any() else float("nan")
    return {"threshold": threshold, "apcer": apcer, "bpcer": bpcer, "acer": (apcer + bpcer) / 2,
            "apcer_worst_class": max(per_class.values(), default=float("nan")), "apcer_per_class": per_class}


def summary(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.5, live_label: int = 1) -> Dict[str, Any]:
    """:func:`error_rates` plus ``auc``, ``tpr_at_fpr_1e-2`` and ``tpr_at_fpr_1e-3`` and the counts."""
    y = np.asarray(labels)
    fpr, tpr, _ = roc_curve(scores, y == live_label)
    out = error_rates(scores, y, threshold, live_label)
    out.update(auc=float(np.trapezoid(tpr, fpr)), **{"tpr_at_fpr_1e-2": tpr_at_fpr(fpr, tpr, 1e-2),
                                                     "tpr_at_fpr_1e-3": tpr_at_fpr(fpr, tpr, 1e-3)},
               n_live=int((y == live_label).sum()), n_attack=int((y != live_label).sum()))
    return out


def fuse_scores(probabilities: Sequence[np.ndarray], live_label: int = 1) -> np.ndarray:
    """Silent-Face's fusion: the softmax outputs ``(N, classes)`` of several models (or crop
    scales) summed, then divided by their count; returns the live probability ``(N,)``."""
    return np.sum(probabilities, axis=0)[:, live_label] / len(probabilities)


def predict(checkpoints: Sequence[str], samples: List[Any], batch_size: int = 128) -> List[np.ndarray]:
    """Softmax outputs of each checkpoint's model on ``samples``, each at its own crop scale."""
    import torch

    from ..data.liveness import LivenessDataset
    from ..train.liveness import load_model

    outputs = []
    for path in checkpoints:
        model, extra = load_model(path)
        data = LivenessDataset(samples, size=int(extra["size"]), scale=float(extra["scale"]), cache=False)
        loader = torch.utils.data.DataLoader(data, batch_size=batch_size)
        with torch.no_grad():
            probs = [torch.softmax(model(images), 1) for images, _, _ in loader]
        outputs.append(torch.cat(probs).numpy())
    return outputs


def plot_roc(fpr: np.ndarray, tpr: np.ndarray, auc: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, lw=2, label=f"AUC {auc:.4f}")
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.set(xlabel="FPR (attacks accepted, APCER)", ylabel="TPR (live accepted, 1 - BPCER)", title=title,
           xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="opticore eval liveness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", action="append", required=True,
                        help="a checkpoint of 'opticore train liveness' (repeat to fuse models / scales)")
    parser.add_argument("--data", required=True, help="held-out images: a class folder or a CSV")
    parser.add_argument("--out", default="liveness_eval", help="folder for metrics.json and roc.png")
    parser.add_argument("--threshold", type=float, default=0.5, help="accept as live when score >= this")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    from ..data.liveness import read_samples
    from ..train.liveness import load_model

    classes = int(load_model(args.checkpoint[0])[1]["num_classes"])
    samples = read_samples(args.data, classes)
    scores = fuse_scores(predict(args.checkpoint, samples, args.batch_size))
    labels = np.array([s.label for s in samples])
    result = summary(scores, labels, args.threshold)
    result.update(checkpoints=list(args.checkpoint), data=str(args.data))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fpr, tpr, _ = roc_curve(scores, labels == 1)
    plot_roc(fpr, tpr, result["auc"], out / "roc.png", f"liveness: {Path(args.data).name}")
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    print(f"APCER {result['apcer']:.4f}  BPCER {result['bpcer']:.4f}  ACER {result['acer']:.4f}  "
          f"AUC {result['auc']:.4f}  TPR@FPR=1e-2 {result['tpr_at_fpr_1e-2']:.4f}  "
          f"TPR@FPR=1e-3 {result['tpr_at_fpr_1e-3']:.4f}  ({result['n_live']} live, {result['n_attack']} attacks)")
    print(f"wrote {out / 'metrics.json'} and {out / 'roc.png'}")
    return 0
