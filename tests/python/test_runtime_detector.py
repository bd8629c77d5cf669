"""opticore.runtime.FaceDetector (MTCNN's cascade in C++ over .pt2 packages of the three stages)
against the Python opticore.FaceDetector on real photographs (both resamplings), and against
facenet-pytorch's reference outputs (fixtures/faces_mtcnn.npz); channel orders, layouts, bad
input; the C++ example application built and run."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import opticore  # noqa: E402
import opticore.runtime as rt  # noqa: E402
from cpp_examples import build_example, write_ppm  # noqa: E402
from gil_check import assert_releases_gil  # noqa: E402

ok, why = rt.available()
pytestmark = pytest.mark.skipif(not ok, reason=why)
if importlib.util.find_spec("facenet_pytorch") is None:
    pytest.skip("facenet-pytorch not installed (pip install --no-deps facenet-pytorch)", allow_module_level=True)

from test_face_detection import IMAGES, NO_FACE, match, photograph  # noqa: E402


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mtcnn")
    rt.export_mtcnn(folder)
    return folder


@pytest.fixture(scope="module", params=["bins", "area"])
def detectors(packages, request):
    """The C++ detector and the Python one it follows, both on RGB images, for each resampling."""
    return (rt.FaceDetector(packages, color="rgb", interpolation=request.param),
            opticore.FaceDetector(color="rgb", interpolation=request.param))


@pytest.fixture(scope="module")
def detector(packages):
    """The C++ detector with its defaults, on RGB images."""
    return rt.FaceDetector(packages, color="rgb")


def differences(a, b):
    """Worst IoU, landmark distance (px) and score difference between two Detections with the
    same faces, matched one to one by IoU."""
    assert len(a.boxes) == len(b.boxes)
    if len(a.boxes) == 0:
        return 1.0, 0.0, 0.0
    iou = opticore.box_iou(a.boxes, b.boxes)
    best = iou.argmax(1)
    assert sorted(best.tolist()) == list(range(len(best)))  # one to one
    return (float(iou.max(1).min()), float(np.abs(a.landmarks - b.landmarks[best]).max()),
            float(np.abs(a.scores - b.scores[best]).max()))


@pytest.mark.parametrize("name", [n for n, _, _ in IMAGES])
def test_same_faces_as_the_python_detector(detectors, name):
    cpp, python = detectors
    image = photograph(name)
    found, expected = cpp(image), python(image)
    assert found.boxes.dtype == found.scores.dtype == found.landmarks.dtype == np.float32
    assert found.landmarks.shape == (len(found.boxes), 5, 2)
    assert np.all(np.diff(found.scores) <= 0)
    iou, px, score = differences(found, expected)
    # Only the packages' float rounding may differ from eager PyTorch's; measured: identical
    # results on every photograph (IoU 1, 0 px, 0 score difference).
    assert iou > 1 - 1e-6 and px < 1e-3 and score < 1e-6, (iou, px, score)


@pytest.mark.parametrize("name", [n for n, _, _ in IMAGES])
def test_same_faces_as_facenet_pytorch(detector, name):
    """The default ("bins") C++ detector finds facenet-pytorch's faces with its boxes, landmarks
    and scores, as the Python detector does (test_face_detection.py, same tolerances)."""
    iou, px, score = match(detector(photograph(name)), name)
    if name in NO_FACE:
        assert iou >= 0.95 and px <= 0.6 and score <= 0.08
    else:
        assert iou >= 1 - 1e-5 and px <= 1e-3 and score <= 1e-5, (iou, px, score)


def test_channel_orders_grey_alpha_and_layouts(detectors, packages):
    cpp = detectors[0]
    rgb = photograph("messi5")
    found = cpp(rgb)
    bgr = rt.FaceDetector(packages, interpolation=cpp.interpolation)  # the default colour order
    variants = [rgb[:, :, ::-1], np.ascontiguousarray(rgb[:, :, ::-1]),
                np.dstack([rgb[:, :, ::-1], np.full(rgb.shape[:2], 7, np.uint8)])]
    for image in variants:
        for a, b in zip(found, bgr(image)):
            np.testing.assert_array_equal(a, b)
    grey = np.ascontiguousarray(rgb[:, :, 1])
    a = cpp(grey)
    for image in (np.repeat(grey[:, :, None], 3, axis=2), grey[:, :, None]):
        for x, y in zip(a, cpp(image)):
            np.testing.assert_array_equal(x, y)
    assert len(a.boxes) == 1
    # A non-contiguous view (every other column) is read in place, as its copy.
    view = rgb[:, ::2]
    for x, y in zip(cpp(view), cpp(np.ascontiguousarray(view))):
        np.testing.assert_array_equal(x, y)


def test_empty_and_tiny_images(detectors):
    cpp, python = detectors
    assert len(cpp(np.zeros((480, 640, 3), np.uint8)).boxes) == 0
    for shape in [(19, 19, 3), (19, 500, 3), (1, 1, 3), (1, 1)]:  # short side below min_face_size
        empty = cpp(np.full(shape, 128, np.uint8))
        assert empty.boxes.shape == (0, 4) and empty.scores.shape == (0,) and empty.landmarks.shape == (0, 5, 2)
    noise = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    differences(cpp(noise), python(noise))
    for size in [(40, 60), (20, 20), (19, 500), (1000, 13)]:
        assert cpp.scales(*size) == python.scales(*size)


def test_bad_input(detector, packages):
    cpp = detector
    with pytest.raises(TypeError, match="image: expected uint8, got float32"):
        cpp(np.zeros((50, 50, 3), np.float32))
    with pytest.raises(TypeError, match="image: expected a NumPy array"):
        cpp([[0, 1], [2, 3]])
    for shape in [(0, 10, 3), (10, 0)]:
        with pytest.raises(ValueError, match="non-empty"):
            cpp(np.zeros(shape, np.uint8))
    for shape in [(10, 10, 2), (10, 10, 3, 1), (10,)]:
        with pytest.raises(ValueError, match="shape"):
            cpp(np.zeros(shape, np.uint8))
    huge = np.broadcast_to(np.zeros(1, np.uint8), (20000, 20000, 3))  # no memory behind it
    with pytest.raises(ValueError, match="raise min_face_size or downscale the image"):
        cpp(huge)
    # Within MAX_LEVEL_PIXELS but wider than P-Net's largest input (8192) at the first level.
    with pytest.raises(ValueError, match="P-Net package's 8192 x 8192"):
        cpp(np.broadcast_to(np.zeros(1, np.uint8), (40, 20000, 3)))


@pytest.mark.parametrize("kwargs,error", [
    ({"min_face_size": 0}, ValueError), ({"scale_factor": 1.0}, ValueError), ({"scale_factor": "x"}, TypeError),
    ({"thresholds": (0.6, 0.7)}, TypeError), ({"thresholds": (0.6, 0.7, 1.5)}, ValueError),
    ({"nms_thresholds": 0.5}, TypeError), ({"color": "hsv"}, ValueError),
    ({"interpolation": "linear"}, ValueError), ({"num_threads": 0}, ValueError),
])
def test_bad_arguments(packages, kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        rt.FaceDetector(packages, **kwargs)


def test_bad_packages(packages, tmp_path):
    with pytest.raises(ValueError, match="packages: expected a folder holding pnet.pt2"):
        rt.FaceDetector(tmp_path / "missing")
    with pytest.raises(TypeError, match="packages: expected a folder or"):
        rt.FaceDetector([packages / "pnet.pt2"])
    with pytest.raises(ValueError, match="no such file"):
        rt.FaceDetector(tmp_path)
    pnet, rnet, onet = (str(packages / n) for n in rt.detector.PACKAGES)
    with pytest.raises(ValueError, match="P-Net package .* must take one float32"):
        rt.FaceDetector([rnet, rnet, onet])
    with pytest.raises(ValueError, match="R-Net: package .* takes 48 x 48 crops; expected 24 x 24"):
        rt.FaceDetector([pnet, onet, onet])


def test_detection_releases_the_gil(detector):
    image = photograph("breakingbad")
    expected = detector(image)
    found = assert_releases_gil(lambda: detector(image))
    np.testing.assert_array_equal(found.boxes, expected.boxes)


# --- the C++ example application: detection -> five points -> alignment (-> landmarks, liveness) ---


def test_cpp_face_pipeline_app(packages, tmp_path):
    import subprocess

    program = build_example("face_pipeline", tmp_path / "build")
    bgr = np.ascontiguousarray(photograph("breakingbad")[:, :, ::-1])
    write_ppm(tmp_path / "faces.ppm", bgr)
    # With a landmark and a liveness model (untrained: the numbers only have to be the Python runners').
    from opticore.models.minifasnet import MiniFASNet
    from opticore.models.pfld import PFLD
    from test_runtime import export

    torch.manual_seed(0)
    pfld = export(PFLD(68, 0.25).eval(), torch.zeros(2, 3, 112, 112), tmp_path / "pfld.pt2")
    live = export(MiniFASNet("v2", 3).eval(), torch.zeros(2, 3, 80, 80), tmp_path / "live.pt2", batch=(1, 4))
    # One torch thread on both sides: the convolutions' float rounding depends on the thread
    # count, and landmarks a few 1e-6 px apart can move an aligned pixel by one grey level.
    run = subprocess.run([str(program), str(packages), str(tmp_path / "faces.ppm"), str(tmp_path / "face"), pfld,
                          live], capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stderr
    lines = [line.split() for line in run.stdout.strip().split("\n")]
    rows = np.array([[float(v) for v in line[2:]] for line in lines if line[0] == "face"])
    faces = rt.FaceDetector(packages, num_threads=1)(bgr)
    assert rows.shape == (3, 15) and len(faces.boxes) == 3
    np.testing.assert_allclose(rows[:, :4], faces.boxes, atol=1e-3)  # printed with 3 decimals
    np.testing.assert_allclose(rows[:, 4], faces.scores, atol=1e-6)
    np.testing.assert_allclose(rows[:, 5:].reshape(3, 5, 2), faces.landmarks, atol=1e-3)
    points = np.array([[float(v) for v in line[3:]] for line in lines if line[0] == "landmarks"])
    boxes = faces.boxes.astype(np.float64)
    np.testing.assert_allclose(points.reshape(3, 68, 2), rt.LandmarkDetector(pfld)(bgr, boxes), atol=1e-3)
    probabilities = [float(line[2]) for line in lines if line[0] == "live"]
    np.testing.assert_allclose(probabilities, rt.LivenessDetector(live)(bgr, boxes), atol=1e-6)
    crops, _ = opticore.align_faces(bgr, faces.landmarks.astype(np.float64))
    header = b"P6\n112 112\n255\n"
    for i in range(3):
        written = (tmp_path / f"face_{i}.ppm").read_bytes()
        assert written.startswith(header)
        np.testing.assert_array_equal(np.frombuffer(written[len(header):], np.uint8).reshape(112, 112, 3), crops[i])
    failed = subprocess.run([str(program), str(tmp_path / "nowhere"), str(tmp_path / "faces.ppm"),
                             str(tmp_path / "face")], capture_output=True, text=True)
    assert failed.returncode == 1 and "no such file" in failed.stderr
