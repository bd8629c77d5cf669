"""PFLD forward time: 0.25X and 1X (98 points), batch 1, 112 x 112, eager PyTorch, beside the paper.

Each figure is the median of ``repeats`` forward calls (after one warm-up call) in eval mode
without gradients, at ``--threads`` torch threads (1 by default, as the paper's figure). The paper
(Guo et al. 2019, Table 4 / text) gives 1.2 ms for PFLD 0.25X on an i7-6700K CPU and 7 ms on a
Snapdragon 845 (ARM), and model sizes of 2.1 MB (0.25X) and 12.5 MB (1X); it does not say how
its channels are scaled, so sizes differ (see :mod:`opticore.models.pfld`). Run
``python -m opticore.bench.pfld --help``.
"""

from __future__ import annotations

import sys
from typing import Any, Dict, List, Optional, Sequence

from . import _common
from ._common import fmt_number, median_ms

SETUP = "PFLD(98, width), eval mode, torch.no_grad, input (1, 3, 112, 112) float32 uniform [0, 1], seed 0"
# The paper's figures: (forward ms on an i7-6700K, model size in MB).
PAPER = {0.25: (1.2, 2.1), 1.0: (None, 12.5)}


def run(*, quick: bool = False, threads: int = 1, json_path: Optional[str] = None,
        repeats: Optional[int] = None) -> Dict[str, Any]:
    import torch

    from ..models.pfld import PFLD

    torch.set_num_threads(threads)
    repeats = repeats or (10 if quick else 100)
    torch.manual_seed(0)
    x = torch.rand(1, 3, 112, 112)
    rows: List[Dict[str, Any]] = []
    for width in (0.25, 1.0):
        model = PFLD(98, width).eval()
        params = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            ms, _ = median_ms(lambda net=model: net(x), repeats)
        paper_ms, paper_mb = PAPER[width]
        rows.append({"model": f"PFLD {width:g}X", "ms": ms, "params": params, "mb": params * 4 / 1e6,
                     "paper_ms": paper_ms, "paper_mb": paper_mb})
    lines = [f"PFLD forward, batch 1, {threads} thread(s), median of {repeats}; {_common.cpu_name()}",
             f"{'model':<11} {'ms':>8} {'paper ms (i7-6700K)':>20} {'params':>10} {'MB f32':>7} {'paper MB':>9}"]
    for r in rows:
        lines.append(f"{r['model']:<11} {fmt_number(r['ms'], 'ms'):>8} {fmt_number(r['paper_ms'], 'ms'):>20} "
                     f"{r['params']:>10,} {r['mb']:>7.2f} {r['paper_mb']:>9}")
    report = {"meta": {"threads": threads, "repeats": repeats, "torch": torch.__version__, "quick": quick,
                       **_common.machine(), "setup": SETUP}, "results": rows}
    return _common.publish(report, "\n".join(lines), json_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return _common.cli_main("pfld", run, argv, __doc__ or "", "10 repeats instead of 100",
                            "forward calls per model (default 100, 10 with --quick)")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
