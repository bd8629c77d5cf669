"""The rest of the detection operator family, forward and backward: opticore beside torchvision,
timed in one process. Run ``python -m opticore.bench.ops --help``.

Cases (float32): R-FCN position-sensitive RoIAlign / RoI pooling (7 x 7 bins of 21 classes' score
maps, 1029 channels, 300 RoIs), deformable convolution v2 (256 channels, 64 x 64, 3 x 3), FPN
multi-scale RoIAlign (4 levels, 512 RoIs) and the CIoU loss on 100k box pairs. Backward rows time
``torch.autograd.grad`` of ``sum(output * G)`` through each library's operator; the table's
``max |diff|`` compares the outputs (backward: every gradient, flattened). torchvision's CPU kernels
are serial; opticore's run on ``--threads`` threads.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

import opticore

from . import _common
from .roi import Case, make_rois, run_against_torchvision

SETUP = (
    "R-FCN: score maps (1, 7*7*21, 38, 50) (a 600 x 800 image at stride 16), 300 RoIs of 32..512 px, 7x7, "
    "scale 1/16, sampling 2; DCN v2: input (1, 256, 64, 64), 3x3, padding 1, offsets N(0, 2), mask U(0, 1); "
    "FPN: P2..P5 of a 2 x 256-channel 800 x 800 pyramid, 512 RoIs, 7x7, sampling 2; CIoU loss on 100k pairs"
)


def _backward(torch: Any, forward: Callable[..., Any], inputs: Sequence[Any], seed: int) -> Callable[[], Any]:
    """A call timing the backward of ``forward(*inputs)`` for a fixed incoming gradient."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = forward(*leaves)
    grad = torch.from_numpy(np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(np.float32))
    return lambda: torch.cat([g.flatten() for g in torch.autograd.grad(out, leaves, grad, retain_graph=True)])


def _pair(name: str, k: int, torch: Any, ours: Callable[..., Any], theirs: Optional[Callable[..., Any]],
          inputs: Sequence[Any], rest: Sequence[Any], seed: int) -> List[Case]:
    """The forward and backward cases of one operator, differentiable in ``inputs``."""
    def bound(f: Callable[..., Any]) -> Callable[..., Any]:
        return lambda *t: f(*t, *rest)

    forward: Dict[str, Optional[Callable[[], Any]]] = {"opticore": lambda: bound(ours)(*inputs), "torchvision": None}
    backward: Dict[str, Optional[Callable[[], Any]]] = {"opticore": _backward(torch, bound(ours), inputs, seed),
                                                        "torchvision": None}
    if theirs is not None:
        forward["torchvision"] = lambda: bound(theirs)(*inputs)
        backward["torchvision"] = _backward(torch, bound(theirs), inputs, seed)
    return [Case(f"{name} forward", k, forward), Case(f"{name} backward", k, backward)]


def build_cases(quick: bool, torch: Any, tv: Any) -> List[Case]:
    """Every case, its inputs drawn from a fixed seed so that runs stay comparable."""
    rng = np.random.default_rng(0)
    tv_ops = tv.ops if tv is not None else None

    def tensor(*shape: int, scale: float = 1.0) -> Any:
        return torch.from_numpy((rng.standard_normal(shape) * scale).astype(np.float32))

    cases: List[Case] = []
    k = 100 if quick else 300
    maps = tensor(1, 7 * 7 * 21, 38, 50)
    rois = torch.from_numpy(make_rois(rng, k, 1, 16.0 * 50))
    cases += _pair("ps_roi_align 7x7", k, torch, opticore.ps_roi_align, tv_ops and tv_ops.ps_roi_align, [maps],
                   [rois, 7, 1 / 16, 2], 1)
    cases += _pair("ps_roi_pool 7x7", k, torch, opticore.ps_roi_pool, tv_ops and tv_ops.ps_roi_pool, [maps],
                   [rois, 7, 1 / 16], 2)

    size = 32 if quick else 64
    x, weight = tensor(1, 256, size, size), tensor(256, 256, 3, 3, scale=0.02)
    offset = tensor(1, 18, size, size, scale=2.0)
    mask = torch.from_numpy(rng.uniform(0, 1, (1, 9, size, size)).astype(np.float32))
    cases += _pair("deform_conv2d v2 3x3", 1, torch,
                   lambda a, o, w, m: opticore.deform_conv2d(a, o, w, None, 1, 1, 1, m),
                   tv_ops and (lambda a, o, w, m: tv_ops.deform_conv2d(a, o, w, None, 1, 1, 1, m)),
                   [x, offset, weight, mask], [], 3)

    k = 128 if quick else 512
    pyramid = [tensor(2, 256, 200 >> level, 200 >> level) for level in range(4)]
    fpn_rois = torch.from_numpy(make_rois(rng, k, 2, 800.0))
    names = ["p2", "p3", "p4", "p5"]
    ours_msra = opticore.nn.MultiScaleRoIAlign(names, 7, 2)

    def ours_fpn(*levels: Any) -> Any:
        return ours_msra(dict(zip(names, levels)), _per_image(torch, fpn_rois), [(800, 800)] * 2)

    theirs_fpn = None
    if tv_ops is not None:
        tv_msra = tv_ops.MultiScaleRoIAlign(names, 7, 2)

        def theirs_fpn(*levels: Any) -> Any:
            return tv_msra(dict(zip(names, levels)), _per_image(torch, fpn_rois), [(800, 800)] * 2)

    cases += _pair("MultiScaleRoIAlign 7x7", k, torch, ours_fpn, theirs_fpn, pyramid, [], 4)

    pairs = 20_000 if quick else 100_000
    boxes = torch.from_numpy(make_rois(rng, pairs, 1, 1000.0)[:, 1:])
    targets = boxes + tensor(pairs, 4, scale=20.0)
    cases += _pair("ciou_loss", pairs, torch, opticore.ciou_loss, tv_ops and tv_ops.complete_box_iou_loss,
                   [boxes, targets], [], 5)
    return cases


def _per_image(torch: Any, rois: Any) -> List[Any]:
    return [rois[rois[:, 0] == i, 1:] for i in range(2)]


def run(
    quick: bool = False, threads: int = 1, json_path: Optional[str] = None, repeats: Optional[int] = None
) -> Dict[str, Any]:
    """Run every case, print the table and return ``{"metadata": {...}, "cases": [...]}``.

    Args:
        quick: smaller cases and 3 repeats instead of 5.
        threads: thread count for opticore and torch alike; left set when this returns.
        json_path: if given, the returned dict is also written there as JSON.
        repeats: timed calls per implementation and case; the median is reported.

    Raises:
        RuntimeError: torch or opticore's torch operators are not installed.
    """
    return run_against_torchvision("ops", build_cases, SETUP, quick, threads, json_path,
                                   (3 if quick else 5) if repeats is None else repeats)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    return _common.cli_main("ops", run, argv, __doc__.splitlines()[0], "smaller cases, 3 repeats",
                            "timed calls per case (5; --quick: 3)")


if __name__ == "__main__":
    sys.exit(main())
