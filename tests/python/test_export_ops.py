"""Models that call torch.ops.opticore.* export with them: to .pt2 (the operators run inside the
package, loaded back in Python) and to ONNX, where nms and roi_align become NonMaxSuppression and
RoiAlign. The translations are also checked one by one (onnxscript runs them eagerly on
onnxruntime) against opticore's NumPy operators on random and adversarial inputs: ties, IoU
exactly at the threshold, scores at the score threshold, RoIs past the border, empty RoIs."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

import opticore  # noqa: E402
import opticore.torch  # noqa: E402
from opticore.export import export_model, load_exported  # noqa: E402
from opticore.export.onnx import _nms, _roi_align  # noqa: E402


class Detector(torch.nn.Module):
    """A detection head's tail: RoIAlign of proposals, a score per RoI, NMS of the boxes."""

    def forward(self, features, rois, boxes, scores):
        pooled = torch.ops.opticore.roi_align(features, rois, 0.5, 3, 3, 2, True)
        keep = torch.ops.opticore.nms(boxes, scores + pooled.mean(dim=(1, 2, 3)), 0.5, None, None)
        return pooled, keep


def _case(seed: int, n: int = 12):
    g = torch.Generator().manual_seed(seed)
    features = torch.rand(2, 4, 16, 16, generator=g)
    xy = torch.rand(n, 2, generator=g) * 10  # crowded: NMS drops some boxes
    boxes = torch.cat([xy, xy + torch.rand(n, 2, generator=g) * 12 + 4], 1)
    rois = torch.cat([torch.randint(0, 2, (n, 1), generator=g).float(), boxes], 1)
    return features, rois, boxes, torch.rand(n, generator=g)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("ops")


@pytest.mark.parametrize("fmt", ["pt2", "onnx"])
def test_a_model_calling_opticore_ops_exports(folder, fmt):
    model = Detector()
    report = export_model(model, _case(0), fmt, folder / f"det.{fmt}", dynamic_batch=False)
    assert report.ok and report.max_abs_error <= 1e-6
    run = load_exported(report.path)
    for seed in (1, 2, 3):  # new data, the same shapes; NMS keeps a data-dependent number of boxes
        case = _case(seed)
        pooled, keep = model(*case)
        got_pooled, got_keep = run(*case)
        assert torch.allclose(got_pooled, pooled, atol=1e-6, rtol=0)
        assert torch.equal(got_keep, keep) and 0 < len(keep) < 12


def test_onnx_file_has_standard_operators_only(folder):
    onnx = pytest.importorskip("onnx")
    path = folder / "det.onnx"
    if not path.exists():
        export_model(Detector(), _case(0), "onnx", path, dynamic_batch=False)
    graph = onnx.load(str(path)).graph
    ops = {node.op_type for node in graph.node} | {n.op_type for f in onnx.load(str(path)).functions for n in f.node}
    assert {"NonMaxSuppression", "RoiAlign"} <= ops
    assert all(node.domain in ("", "ai.onnx") for node in graph.node)


def test_untranslated_opticore_op_is_refused(tmp_path):
    class Area(torch.nn.Module):
        def forward(self, boxes):
            return torch.ops.opticore.box_area(boxes)

    boxes = torch.tensor([[0.0, 0.0, 2.0, 3.0], [1.0, 1.0, 2.0, 2.0]])
    with pytest.raises(Exception, match="box_area"):
        export_model(Area(), boxes, "onnx", tmp_path / "area.onnx", dynamic_batch=False)


def _onnx_nms(boxes, scores, iou, score_threshold=None, max_output=None):
    return np.asarray(_nms(boxes, scores, iou, score_threshold, max_output).value)


def test_nms_translation_rules():
    # IoU of boxes 0 and 1 is exactly 0.5 (strict: kept at 0.5, dropped below); 2 and 3 are equal
    # boxes with equal scores (the lower index wins); a score equal to the score threshold is out.
    boxes = np.array([[0, 0, 4, 1], [0, 0, 2, 1], [10, 10, 12, 12], [10, 10, 12, 12]], np.float32)
    scores = np.array([0.9, 0.8, 0.5, 0.5], np.float32)
    for iou, score_threshold, max_output in [(0.5, None, None), (0.49, None, None), (0.5, 0.5, None),
                                             (0.5, 0.49, None), (0.5, None, 2), (0.0, None, None), (1.0, None, None)]:
        expected = opticore.nms(boxes, scores, iou, score_threshold=score_threshold, max_output=max_output)
        np.testing.assert_array_equal(_onnx_nms(boxes, scores, iou, score_threshold, max_output), expected)


def test_nms_translation_random():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = int(rng.integers(1, 60))
        xy = rng.uniform(0, 50, (n, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(0.5, 30, (n, 2))], 1).astype(np.float32)
        scores = rng.choice([0.1, 0.5, 0.7, 0.9], n).astype(np.float32) if trial % 2 else rng.random(n, np.float32)
        iou = float(rng.choice([0.0, 0.3, 0.5, 0.7]))
        np.testing.assert_array_equal(_onnx_nms(boxes, scores, iou), opticore.nms(boxes, scores, iou))


def test_nms_translation_documented_difference():
    # ONNX reads x1 > x2 as the box between them; opticore gives such a box zero area.
    boxes = np.array([[4, 0, 0, 1], [0, 0, 4, 1]], np.float32)
    scores = np.array([0.9, 0.8], np.float32)
    np.testing.assert_array_equal(opticore.nms(boxes, scores, 0.3), [0, 1])
    np.testing.assert_array_equal(_onnx_nms(boxes, scores, 0.3), [0])


def test_roi_align_translation():
    rng = np.random.default_rng(1)
    features = rng.random((2, 3, 9, 11)).astype(np.float32)
    adversarial = np.array([[0, 1, 1, 5, 5], [1, -3, -3, 10, 12], [0, 2, 2, 2.5, 2.2], [1, 3, 3, 3, 3],
                            [0, -8, -8, -6, -6], [1, 20, 2, 30, 30], [0, 5.5, 0.2, 5.7, 17]], np.float32)
    xy = rng.uniform(-4, 20, (20, 2))
    random = np.concatenate([rng.integers(0, 2, (20, 1)), xy, xy + rng.uniform(0, 12, (20, 2))], 1)
    rois = np.concatenate([adversarial, random.astype(np.float32)])
    for aligned in (False, True):
        for sampling_ratio in (-1, 0, 1, 3):
            for scale, size in ((1.0, (2, 2)), (0.5, (3, 4))):
                got = np.asarray(_roi_align(features, rois, scale, *size, sampling_ratio, aligned).value)
                expected = opticore.roi_align(features, rois, size, scale, sampling_ratio, aligned)
                np.testing.assert_allclose(got, expected, atol=2e-6, rtol=0,
                                           err_msg=f"aligned={aligned} sampling_ratio={sampling_ratio} scale={scale}")
