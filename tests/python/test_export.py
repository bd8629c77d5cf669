"""opticore.export: PFLD and MiniFASNet round-trip through .pt2, ONNX and .pte within each
format's tolerance (checked here against the eager model on inputs the export never saw, not
only through the report), the batch dimension is dynamic, and bad arguments, paths and files
give clear errors."""

from __future__ import annotations

import functools

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
pytest.importorskip("executorch")

from opticore.export import FORMATS, TOLERANCES, export_model, load_exported  # noqa: E402
from opticore.models.minifasnet import MiniFASNet  # noqa: E402
from opticore.models.pfld import PFLD  # noqa: E402

MODELS = {
    # name: (constructor, input side)
    "pfld": (lambda: PFLD(68, 0.25), 112),
    "minifasnet": (lambda: MiniFASNet("v2se", 3, conv6_kernel=5), 80),
}


def _model(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = MODELS[name][0]().eval()
    # Untrained batch norms are the identity; random statistics make the outputs and the
    # activations non-trivial (a wrong fusion of them would show).
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model


def _inputs(name: str, batch: int, seed: int) -> torch.Tensor:
    side = MODELS[name][1]
    return torch.rand(batch, 3, side, side, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``exported(name, format) -> (report, model)``: each export made once for the module."""
    folder = tmp_path_factory.mktemp("exp")

    @functools.lru_cache(maxsize=None)
    def get(name: str, fmt: str):
        model = _model(name)
        return export_model(model, _inputs(name, 2, 0), fmt, folder / f"{name}.{fmt}"), model

    return get


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_within_tolerance(exported, name, fmt):
    report, model = exported(name, fmt)
    assert report.ok and report.format == fmt and report.dynamic_batch and not report.int8
    assert report.path.stat().st_size == report.size_bytes > 100_000
    run = load_exported(report.path)
    for batch, seed in ((1, 1), (7, 2)):  # batches the export never saw: the batch is dynamic
        x = _inputs(name, batch, seed)
        with torch.no_grad():
            expected = model(x)
        got = run(x)
        assert len(got) == 1 and got[0].shape == expected.shape
        scale = max(1.0, float(expected.abs().max()))
        error = float((got[0] - expected).abs().max())
        assert error <= TOLERANCES[fmt] * scale, (name, fmt, error)
        assert float(expected.std()) > 1e-3  # the outputs are not trivially equal


def test_a_wrong_export_fails_the_check(tmp_path, monkeypatch):
    # The check compares with the eager model: an export that is off by 1e-3 is refused.
    import opticore.export as export

    real = export.load_exported

    def off(path, fmt=None):
        run = real(path, fmt)
        return lambda *x: [y + 1e-3 for y in run(*x)]

    monkeypatch.setattr(export, "load_exported", off)
    with pytest.raises(RuntimeError, match="differs from the eager model"):
        export_model(torch.nn.Linear(3, 2), torch.rand(4, 3), "onnx", tmp_path / "m.onnx")


def test_static_batch_and_tuple_outputs(tmp_path):
    class Two(torch.nn.Module):
        def forward(self, x, y):
            return x * 2, (x[:, :1] + y).relu()

    report = export_model(Two(), (torch.rand(3, 4), torch.rand(3, 1)), "onnx", tmp_path / "two.onnx",
                          dynamic_batch=False)
    assert report.ok and not report.dynamic_batch and report.max_abs_error == 0.0
    got = load_exported(tmp_path / "two.onnx")(torch.ones(3, 4), torch.full((3, 1), -5.0))
    assert torch.equal(got[0], torch.full((3, 4), 2.0)) and torch.equal(got[1], torch.zeros(3, 1))


def test_bad_arguments(tmp_path):
    model, x = torch.nn.Linear(3, 2), torch.rand(4, 3)
    with pytest.raises(ValueError, match="format: expected one of pt2, onnx, pte, got 'tflite'"):
        export_model(model, x, "tflite", tmp_path / "m.tflite")
    with pytest.raises(ValueError, match="int8: .*'pte'.* got format 'onnx'"):
        export_model(model, x, "onnx", tmp_path / "m.onnx", int8=True)
    with pytest.raises(ValueError, match="calibration: int8 needs calibration batches"):
        export_model(model, x, "pte", tmp_path / "m.pte", int8=True)
    with pytest.raises(ValueError, match="max_batch: expected an int >= 2, got 1"):
        export_model(model, x, "onnx", tmp_path / "m.onnx", max_batch=1)
    with pytest.raises(ValueError, match="example_input: batch 4 must be below max_batch 4"):
        export_model(model, x, "onnx", tmp_path / "m.onnx", max_batch=4)
    with pytest.raises(TypeError, match="example_input: expected a tensor or a sequence of tensors, got int"):
        export_model(model, 3, "onnx", tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="example_input: expected tensors with a batch dimension"):
        export_model(model, torch.tensor(1.0), "onnx", tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="out: expected a file path, got the folder"):
        export_model(model, x, "onnx", tmp_path)
    with pytest.raises(ValueError, match="cpu: expected one of native, avx2, avx512, generic, got 'arm'"):
        export_model(model, x, "pt2", tmp_path / "m.pt2", cpu="arm")


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_and_corrupt_files(tmp_path, fmt):
    with pytest.raises(FileNotFoundError, match=f"{fmt}: no file .*missing.{fmt}"):
        load_exported(tmp_path / f"missing.{fmt}")
    bad = tmp_path / f"bad.{fmt}"
    bad.write_bytes(b"not a model" * 100)
    with pytest.raises(ValueError, match=f"{fmt}: .*bad.{fmt} is not a"):
        load_exported(bad)
    with pytest.raises(ValueError, match="format: expected one of pt2, onnx, pte, got 'pt'"):
        load_exported(tmp_path / "model.pt")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_files(exported, tmp_path, fmt):
    # A file cut short (an interrupted copy) is refused with the file's name, never a crash.
    report, _ = exported("pfld", fmt)
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(report.path.read_bytes()[: report.size_bytes // 2])
    with pytest.raises(ValueError, match=f"cut.{fmt}"):
        load_exported(cut)(_inputs("pfld", 1, 0))


@pytest.mark.parametrize("name", ["opticore.export", "opticore.export.command", "opticore.export.onnx",
                                  "opticore.export.pt2", "opticore.export.pte"])
def test_docstring_examples(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
