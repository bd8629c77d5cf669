"""ONNX files: ``torch.onnx.export(..., dynamo=True)``, run back with onnxruntime.

The ``torch.ops.opticore`` operators a model calls are translated to standard ONNX operators by
:data:`TRANSLATIONS` (the exporter's ``custom_translation_table``), so the file runs in any ONNX
runtime without opticore:

* ``opticore::nms`` -> ``NonMaxSuppression`` (one batch, one class, ``center_point_box=0``) and
  the box column of its ``(K, 3)`` output. The rules match opticore's (checked against
  :func:`opticore.nms` in tests/python/test_export_ops.py): a box is suppressed when its IoU with
  a kept box is **strictly greater** than ``iou_threshold``; with ``score_threshold`` only boxes
  with ``score > score_threshold`` take part; the result is sorted by descending score, equal
  scores by the lower index; ``max_output=None`` is no limit. Differences: boxes and scores
  are computed in float32 (float64 inputs are cast); ONNX does not order a box's corners
  (``x1 > x2`` is read as the box between them) where opticore computes a zero area.
* ``opticore::roi_align`` -> ``RoiAlign`` (average mode, opset 16+) with ``rois`` split into the
  ``(K,)`` batch indices and ``(K, 4)`` boxes; ``aligned=True`` is
  ``coordinate_transformation_mode="half_pixel"``, ``aligned=False`` is ``"output_half_pixel"``
  (then both widen a RoI narrower than 1 to 1); ``sampling_ratio <= 0`` (adaptive,
  ``ceil(roi_size / pooled_size)``) is ONNX's 0. Sampling, clamping at the border, the zero
  outside ``[-1, H]`` and the divisor (at least 1, so an empty RoI gives 0) are the same rule:
  the outputs are equal to float32 rounding.

Other opticore operators have no translation: exporting a model that calls them raises.

Dynamic batch: supported (dimension 0 symbolic, ``max_batch`` is not needed by ONNX and ignored
by the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from ._shapes import dynamic_batch, open_file, trace_inputs

__all__ = ["OPSET", "TRANSLATIONS", "export_onnx", "load_onnx"]

#: The ONNX opset the files use (RoiAlign's coordinate_transformation_mode needs 16).
OPSET = 18

_INT64_MAX = 2**63 - 1


def _opset() -> Any:
    """onnxscript's opset 18 builder (typed Any: its generic stubs do not follow values through Cast)."""
    from onnxscript import opset18

    return opset18


def _ints(op: Any, *values: int) -> Any:
    """A constant int64 vector (the index arguments of Slice, Unsqueeze, Reshape)."""
    return op.Constant(value_ints=list(values))


def _nms(boxes: Any, scores: Any, iou_threshold: float, score_threshold: Optional[float] = None,
         max_output: Optional[int] = None) -> Any:
    from onnxscript import FLOAT

    op = _opset()

    boxes = op.Unsqueeze(op.Cast(boxes, to=FLOAT.dtype), _ints(op, 0))  # (1, N, 4)
    scores = op.Unsqueeze(op.Cast(scores, to=FLOAT.dtype), _ints(op, 0, 1))  # (1, 1, N)
    limit = op.Constant(value_ints=[_INT64_MAX if max_output is None else max_output])
    threshold = op.Constant(value_floats=[iou_threshold])
    if score_threshold is None:
        selected = op.NonMaxSuppression(boxes, scores, limit, threshold, center_point_box=0)
    else:
        floor = op.Constant(value_floats=[score_threshold])
        selected = op.NonMaxSuppression(boxes, scores, limit, threshold, floor, center_point_box=0)
    # (K, 3) rows (batch, class, box) -> the (K,) box indices
    return op.Reshape(op.Slice(selected, _ints(op, 2), _ints(op, 3), _ints(op, 1)), _ints(op, -1))


def _roi_align(input: Any, rois: Any, spatial_scale: float, pooled_height: int, pooled_width: int,
               sampling_ratio: int, aligned: bool) -> Any:
    from onnxscript import INT64

    op = _opset()

    batch_indices = op.Cast(op.Reshape(op.Slice(rois, _ints(op, 0), _ints(op, 1), _ints(op, 1)), _ints(op, -1)),
                            to=INT64.dtype)
    boxes = op.Slice(rois, _ints(op, 1), _ints(op, 5), _ints(op, 1))
    return op.RoiAlign(input, boxes, batch_indices, mode="avg",
                       coordinate_transformation_mode="half_pixel" if aligned else "output_half_pixel",
                       output_height=pooled_height, output_width=pooled_width,
                       sampling_ratio=max(0, sampling_ratio), spatial_scale=spatial_scale)


def _translations() -> Dict[Callable[..., Any], Callable[..., Any]]:
    from ..torch import ops

    library = ops()
    return {library.nms.default: _nms, library.roi_align.default: _roi_align}


#: opticore operator -> its ONNX translation; filled on first use (it loads the operator library).
TRANSLATIONS: Dict[Callable[..., Any], Callable[..., Any]] = {}


def export_onnx(model: torch.nn.Module, inputs: Tuple[torch.Tensor, ...], out: Path, *, dynamic: bool = True,
                max_batch: int = 64) -> None:
    """Write ``model`` (traced on ``inputs``) as the ONNX file ``out`` (weights inside the file).

    ``dynamic``: dimension 0 of every input is the batch. Use
    :func:`opticore.export.export_model`, which also checks the result.

    Example:
        >>> import tempfile, torch
        >>> from pathlib import Path
        >>> from opticore.export.onnx import export_onnx, load_onnx
        >>> model = torch.nn.Conv2d(3, 4, 3).eval()
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     export_onnx(model, (torch.rand(2, 3, 8, 8),), Path(tmp) / "m.onnx")
        ...     load_onnx(Path(tmp) / "m.onnx")(torch.rand(5, 3, 8, 8))[0].shape
        torch.Size([5, 4, 6, 6])
    """
    if not TRANSLATIONS:
        TRANSLATIONS.update(_translations())
    traced = trace_inputs(inputs) if dynamic else inputs
    shapes = dynamic_batch(traced, max_batch) if dynamic else None
    program = torch.onnx.export(model, traced, dynamo=True, dynamic_shapes=shapes, opset_version=OPSET,
                                custom_translation_table=TRANSLATIONS, external_data=False, verbose=False)
    assert program is not None  # dynamo=True always returns the program
    program.save(str(out), external_data=False)


def load_onnx(path: Path, threads: Optional[int] = None) -> Callable[..., List[torch.Tensor]]:
    """The ONNX file at ``path`` in an onnxruntime CPU session, as a callable on CPU tensors
    (its outputs as a list of tensors). ``threads``: onnxruntime's intra-op threads (default: its own).

    A missing file raises ``FileNotFoundError``; a file onnxruntime cannot read raises
    ``ValueError`` naming it.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = open_file("onnx", path, lambda p: onnxruntime.InferenceSession(
        str(p), options, providers=["CPUExecutionProvider"]), "a readable ONNX model")
    names = [i.name for i in session.get_inputs()]

    def run(*inputs: torch.Tensor) -> List[torch.Tensor]:
        if len(inputs) != len(names):
            raise ValueError(f"onnx: expected {len(names)} inputs, got {len(inputs)}")
        feed = {n: np.ascontiguousarray(t.detach().cpu().numpy()) for n, t in zip(names, inputs)}
        return [torch.from_numpy(np.asarray(o)) for o in session.run(None, feed)]

    return run
