"""opticore.runtime: the C++ runner of AOTInductor packages and the face pipelines on it, against
eager PyTorch and a pure-Python composition of the same steps (opticore's crops + the eager
models); bad paths, corrupt files, wrong inputs."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import opticore  # noqa: E402
import opticore.runtime as rt  # noqa: E402
from cpp_examples import build_example, write_ppm  # noqa: E402
from gil_check import assert_releases_gil  # noqa: E402

ok, why = rt.available()
pytestmark = pytest.mark.skipif(not ok, reason=why)


def export(model, example, path, *, batch=(1, 16), metadata=None, with_specs=True):
    dynamic = ({0: torch.export.Dim("batch", min=batch[0], max=batch[1])},) if batch else None
    program = torch.export.export(model, (example,), dynamic_shapes=dynamic)
    meta = dict(rt.package_metadata(program) if with_specs else {}, **(metadata or {}))
    torch._inductor.aoti_compile_and_package(program, package_path=str(path),
                                             inductor_configs={"aot_inductor.metadata": meta})
    return str(path)


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    from opticore.models.minifasnet import MiniFASNet
    from opticore.models.pfld import PFLD

    folder = tmp_path_factory.mktemp("packages")
    torch.manual_seed(0)
    pfld = PFLD(68, 0.25).eval()
    live = MiniFASNet("v2", 3).eval()
    # An untrained MiniFASNet's logits are about 1e-5 and barely depend on the input: scaled up,
    # its softmax does (probabilities spread over about 0.1-0.6), so a wrong crop shows.
    with torch.no_grad():
        live.prob.weight.mul_(1e5)
    small = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2)).eval()
    small(torch.zeros(1, 3, 8, 8))
    return {
        "pfld_model": pfld, "live_model": live, "small_model": small,
        "pfld": export(pfld, torch.zeros(2, 3, 112, 112), folder / "pfld.pt2", metadata={"opticore.margin": "0.2"}),
        "live": export(live, torch.zeros(2, 3, 80, 80), folder / "live.pt2", batch=(1, 4),
                       metadata={"opticore.scale": "2.7"}),
        "small": export(small, torch.zeros(2, 3, 8, 8), folder / "small.pt2"),
        "small_no_specs": export(small, torch.zeros(2, 3, 8, 8), folder / "small_no_specs.pt2", with_specs=False),
    }


def test_input_specs_of_an_exported_program():
    program = torch.export.export(torch.nn.Linear(4, 2), (torch.zeros(3, 4),),
                                  dynamic_shapes=({0: torch.export.Dim("b", min=2)},))
    assert rt.input_specs(program) == "float32[2..,4]"


def test_runner_equals_eager_pytorch(packages):
    runner = rt.Runner(packages["pfld"])
    assert runner.input_specs == "float32[1..16,3,112,112]"
    assert runner.metadata["opticore.margin"] == "0.2"
    x = torch.rand(5, 3, 112, 112, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = packages["pfld_model"](x)
    got = runner(x)[0]
    assert isinstance(got, torch.Tensor) and got.shape == expected.shape == (5, 68, 2)
    err = (got - expected).abs().max().item()
    assert err < 1e-4, err
    # NumPy in, NumPy out; any layout (a channels-last view of the same values).
    as_numpy = runner(np.ascontiguousarray(x.permute(0, 2, 3, 1).numpy()).transpose(0, 3, 1, 2))[0]
    assert isinstance(as_numpy, np.ndarray)
    np.testing.assert_array_equal(as_numpy, got.numpy())


def test_runner_checks_inputs(packages):
    runner = rt.Runner(packages["small"], warmup_runs=0)
    assert runner.input_specs == "float32[1..16,3,8,8]"
    with pytest.raises(ValueError, match=r"inputs\[0\]: expected float32\[1..16,3,8,8\], got shape \[2, 3, 9, 8\]"):
        runner(np.zeros((2, 3, 9, 8), np.float32))
    with pytest.raises(ValueError, match=r"got shape \[17, 3, 8, 8\]"):
        runner(np.zeros((17, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"got shape \[2, 3, 8\]"):
        runner(np.zeros((2, 3, 8), np.float32))
    with pytest.raises(TypeError, match=r"inputs\[0\]: expected float32\[1..16,3,8,8\], got dtype float64"):
        runner(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"takes 1 input\(s\) \(float32\[1..16,3,8,8\]\), got 2"):
        runner(np.zeros((2, 3, 8, 8), np.float32), np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(TypeError, match=r"inputs\[0\]: expected a NumPy array .* got list"):
        runner([[1.0]])
    with pytest.raises(TypeError, match=r"got a object array"):
        runner(np.zeros((2, 3, 8, 8), object))
    x = torch.rand(3, 3, 8, 8)
    with torch.no_grad():
        np.testing.assert_allclose(runner(x)[0].numpy(), packages["small_model"](x).numpy(), atol=1e-5)


def test_package_without_specs_needs_them(packages):
    with pytest.raises(ValueError, match='has no "opticore.inputs" metadata'):
        rt.Runner(packages["small_no_specs"])
    runner = rt.Runner(packages["small_no_specs"], input_specs="float32[1..16,3,8,8]")
    assert runner(np.zeros((1, 3, 8, 8), np.float32))[0].shape == (1, 2)
    with pytest.raises(ValueError, match=r'input specs "float32\[1..16,3,8\]x": unexpected text at position 18'):
        rt.Runner(packages["small_no_specs"], input_specs="float32[1..16,3,8]x")
    with pytest.raises(ValueError, match="unknown dtype 'float8'"):
        rt.Runner(packages["small_no_specs"], input_specs="float8[1]")
    with pytest.raises(ValueError, match="an empty range of sizes"):
        rt.Runner(packages["small_no_specs"], input_specs="float32[4..2,3,8,8]")


def test_bad_files_and_devices(packages, tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        rt.Runner(tmp_path / "missing.pt2")
    garbage = tmp_path / "garbage.pt2"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(RuntimeError, match="not a .pt2 package"):
        rt.Runner(garbage)
    not_a_package = tmp_path / "other.pt2"
    with zipfile.ZipFile(not_a_package, "w") as z:
        z.writestr("hello.txt", "not a model")
    with pytest.raises(RuntimeError, match="cannot read the metadata of package"):
        rt.Runner(not_a_package)
    truncated = tmp_path / "truncated.pt2"
    truncated.write_bytes(open(packages["small"], "rb").read()[:2000])
    with pytest.raises(RuntimeError, match=str(truncated)):
        rt.Runner(truncated)
    with pytest.raises(ValueError, match='device: expected "cpu", "cuda" or "cuda:N", got "gpu0"'):
        rt.Runner(packages["small"], device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA support or no GPU"):
            rt.Runner(packages["small"], device="cuda:0")
    with pytest.raises(TypeError, match="path: expected a file path"):
        rt.Runner(3)
    with pytest.raises(ValueError, match="num_threads"):
        rt.Runner(packages["small"], num_threads=0)


def test_runner_releases_the_gil_and_is_thread_safe(packages):
    runner = rt.Runner(packages["pfld"])
    x = torch.rand(16, 3, 112, 112, generator=torch.Generator().manual_seed(2))
    expected = runner(x)[0]
    repeat = max(1, int(0.2 / _seconds(lambda: runner(x))))

    def calls():
        return [runner(x)[0] for _ in range(repeat)]

    for out in assert_releases_gil(calls):
        torch.testing.assert_close(out, expected, rtol=0, atol=0)


def _seconds(call):
    import time

    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_cuda_runner_matches_the_cpu(packages, tmp_path):
    model = packages["pfld_model"].cuda()
    path = export(model, torch.zeros(2, 3, 112, 112, device="cuda"), tmp_path / "pfld_cuda.pt2")
    runner = rt.Runner(path, device="cuda")
    x = torch.rand(4, 3, 112, 112)
    cpu = rt.Runner(packages["pfld"])(x)[0]
    got = runner(x)[0]
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), cpu, atol=1e-4, rtol=0)
    with pytest.raises(ValueError, match='was compiled for "cuda"'):
        rt.Runner(path, device="cpu")


# --- the pipelines against a pure-Python composition of the same steps --------------------------------


def _image_and_boxes():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    boxes = np.array([[60.0, 40.0, 150.0, 150.0], [200.5, 100.25, 260.0, 170.0], [0.0, 0.0, 30.0, 20.0],
                      [250.0, 180.0, 330.0, 260.0]])  # the last one reaches past the image
    return image, boxes


def test_landmark_detector_equals_the_python_composition(packages):
    from opticore.face_landmarks import predict_landmarks

    image, boxes = _image_and_boxes()
    detector = rt.LandmarkDetector(packages["pfld"])
    assert detector.margin == 0.2 and detector.crop_size == 112
    got = detector(image, boxes)
    expected = predict_landmarks(packages["pfld_model"], image, boxes, margin=0.2)
    assert got.shape == expected.shape == (4, 68, 2)
    err = np.abs(got - expected).max()
    assert err < 2e-4, err  # pixels; float32 model outputs scaled by up to side / 112
    assert rt.LandmarkDetector(packages["pfld"], margin=0.5)(image, boxes[:1]).shape == (1, 68, 2)
    assert detector(image, np.zeros((0, 4))).shape == (0, 0, 2)
    # 20 faces: more than the package's largest batch (16), run in two batches.
    many = np.repeat(boxes[:1], 20, axis=0)
    np.testing.assert_allclose(detector(image, many), np.repeat(got[:1], 20, axis=0), atol=1e-9)


def _python_liveness(model, image, boxes, scales):
    from opticore.liveness import crop_face

    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]])
    total = np.zeros(len(boxes))
    for scale in scales:
        crops = crop_face(image, xywh, scale=scale, out_size=(80, 80))
        x = torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2))).float() / 255.0
        with torch.no_grad():
            total += torch.softmax(model(x), dim=1)[:, 1].numpy()
    return total / len(scales)


def test_liveness_detector_equals_the_python_composition(packages):
    image, boxes = _image_and_boxes()
    fused = rt.LivenessDetector([(packages["live"], 2.7), (packages["live"], 4.0)])
    assert fused.scales == (2.7, 4.0)
    got = fused(image, boxes)
    expected = _python_liveness(packages["live_model"], image, boxes, (2.7, 4.0))
    assert got.dtype == np.float32 and got.shape == (4,)
    err = np.abs(got - expected).max()
    assert err < 1e-5, err
    assert np.ptp(got) > 0.02, got  # 0.042 measured
    # A path alone takes the package's scale (2.7); different scales see different crops.
    single = rt.LivenessDetector(packages["live"])
    assert single.scales == (2.7,)
    np.testing.assert_allclose(single(image, boxes), _python_liveness(packages["live_model"], image, boxes, (2.7,)),
                               atol=1e-5)
    assert np.abs(single(image, boxes) - got).max() > 0.01


def test_face_pipeline_equals_the_python_composition(packages):
    image, boxes = _image_and_boxes()
    landmarks = rt.LandmarkDetector(packages["pfld"])
    liveness = rt.LivenessDetector(packages["live"])
    faces = rt.FacePipeline(landmarks, liveness)(image, boxes)
    np.testing.assert_array_equal(faces["landmarks"], landmarks(image, boxes))
    np.testing.assert_array_equal(faces["live"], liveness(image, boxes))
    crops, matrices = opticore.align_faces(image, faces["landmarks"])
    np.testing.assert_allclose(faces["matrices"], matrices, atol=1e-9)
    assert faces["aligned"].shape == (4, 112, 112, 3)
    np.testing.assert_array_equal(faces["aligned"], crops)
    assert rt.FacePipeline(landmarks, aligned_size=64)(image, boxes[:1])["live"] is None


def test_pipeline_input_errors(packages):
    image, boxes = _image_and_boxes()
    detector = rt.LandmarkDetector(packages["pfld"])
    with pytest.raises(TypeError, match="image: expected uint8, got float32"):
        detector(image.astype(np.float32), boxes)
    with pytest.raises(ValueError, match=r"image: expected a non-empty \(H, W, 3\) image, got shape \(240, 320\)"):
        detector(image[..., 0], boxes)
    with pytest.raises(ValueError, match=r"image: expected a non-empty .* got shape \(0, 320, 3\)"):
        detector(image[:0], boxes)
    with pytest.raises(ValueError, match=r"boxes: expected shape \(F, 4\)"):
        detector(image, boxes[:, :3])
    with pytest.raises(ValueError, match="boxes: row 1 is not a finite box"):
        detector(image, np.array([[0, 0, 10, 10], [5, 5, np.nan, 10]]))
    with pytest.raises(ValueError, match="boxes: row 0 is not a finite box"):
        rt.LivenessDetector(packages["live"])(image, np.array([[10, 10, 10, 20]]))
    # An 8 x 8 image model, but not a landmark model: its (B, 2) output is refused.
    with pytest.raises(ValueError, match=r"LandmarkDetector: package .* must return \(B, K, 2\) landmarks"):
        rt.LandmarkDetector(packages["small"])(image, boxes)


# --- the C++ example application, built against the installed package ------------------------------


def test_cpp_example_app_finds_landmarks_and_aligns(packages, tmp_path):
    import subprocess

    program = build_example("face_landmarks", tmp_path / "build")
    image, boxes = _image_and_boxes()
    write_ppm(tmp_path / "face.ppm", image)
    out = tmp_path / "aligned.ppm"
    run = subprocess.run([str(program), packages["pfld"], str(tmp_path / "face.ppm"),
                          *map(str, boxes[1]), str(out), packages["live"]], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.split("\n")
    points = np.array([[float(v) for v in line.split()] for line in lines[:68]])
    live = float(lines[68].split()[1])
    faces = rt.FacePipeline(rt.LandmarkDetector(packages["pfld"]), rt.LivenessDetector(packages["live"]))(
        image, boxes[1:2])
    np.testing.assert_allclose(points, faces["landmarks"][0], atol=1e-6)  # printed with 6 decimals
    assert abs(live - faces["live"][0]) < 1e-6
    header = b"P6\n112 112\n255\n"
    written = out.read_bytes()
    assert written.startswith(header)
    np.testing.assert_array_equal(np.frombuffer(written[len(header):], np.uint8).reshape(112, 112, 3),
                                  faces["aligned"][0])
    failed = subprocess.run([str(program), str(tmp_path / "missing.pt2"), str(tmp_path / "face.ppm"),
                             "0", "0", "10", "10", str(out)], capture_output=True, text=True)
    assert failed.returncode == 1 and "no such file" in failed.stderr


def test_demo_draws_landmarks_and_liveness(packages, tmp_path):
    import json

    from opticore.demo import main

    out = tmp_path / "demo"
    assert main(["--frames", "8", "--out", str(out), "--bbox", "190,90,110,130",
                 "--landmarks", packages["pfld"], "--liveness", packages["live"]]) == 0
    report = json.loads((out / "boxes.json").read_text())
    frames = report["per_frame"]
    assert len(frames) == 8
    for entry in frames:
        assert np.isfinite(entry["landmarks"]).all() and np.shape(entry["landmarks"]) == (68, 2)
        assert 0.0 <= entry["live"] <= 1.0
    assert (out / "demo.mp4").exists() or (out / "demo.gif").exists()
    # The first frame's values are the pipelines' on that frame and box.
    from opticore.eval.tracking import astronaut_demo

    frame = next(astronaut_demo(frames=8).frames())
    x, y, w, h = frames[0]["box"]
    corners = [[x, y, x + w, y + h]]
    np.testing.assert_allclose(frames[0]["landmarks"], rt.LandmarkDetector(packages["pfld"])(frame, corners)[0],
                               atol=0.006)  # rounded to 2 decimals
    assert abs(frames[0]["live"] - rt.LivenessDetector(packages["live"])(frame, corners)[0]) < 1e-6
