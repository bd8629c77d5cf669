"""``opticore demo`` and ``opticore bench tracking`` end to end, on short sequences."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import opticore
import opticore.eval.tracking
from opticore import cli

cv2 = pytest.importorskip("cv2")

EXPECTED_TRACKER = "opticore-kcf-dsst"  # the demo's default


def test_demo_default_sequence(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--frames", "30", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "AUC" in printed and "FaceDetector" in printed
    assert "tracker " in printed and " fps (init + update time only)" in printed
    assert " frames/s (frames made, tracked, drawn and encoded: the progress bar's rate)" in printed
    files = {p.name for p in out.iterdir()}
    assert {"boxes.json", "success.png", "precision.png"} <= files
    assert files & {"demo.mp4", "demo.gif"}
    report = json.loads((out / "boxes.json").read_text())
    assert report["tracker"] == EXPECTED_TRACKER and report["sequence"] == "astronaut-demo"
    assert report["init_from"] == "opticore.FaceDetector (MTCNN)"
    x, y, w, h = report["init_box"]  # the face in frame 0 (MTCNN's box is taller than the ground truth's square)
    assert opticore.box_iou(np.array([[x, y, x + w, y + h]]), np.array([[190.0, 131, 288, 229]]))[0, 0] > 0.7
    assert len(report["per_frame"]) == 30 and report["frames"] == 30
    first = report["per_frame"][0]
    assert set(first) >= {"frame", "box", "ok", "score", "gt", "iou"}
    assert len(first["box"]) == 4 and len(first["gt"]) == 4 and first["ok"] is True
    assert 0.4 < report["auc"] <= 20 / 21 and report["precision20"] > 0.8
    assert report["tracker_fps"] > report["demo_fps"] > 0  # the tracker is a part of the demo's time


def test_demo_with_bbox_video_and_no_video(tmp_path, capsys):
    seq = opticore.eval.tracking.astronaut_demo(frames=8, size=(160, 120))
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(seq.frames()):
        cv2.imwrite(str(folder / f"{i:03d}.png"), f)
    gt = tmp_path / "gt.txt"
    gt.write_text("\n".join(",".join(str(v) for v in b) for b in seq.groundtruth))
    out = tmp_path / "out"
    x, y, w, h = seq.groundtruth[0]
    code = cli.main(["demo", "--video", str(folder), "--gt", str(gt), "--bbox", f"{x},{y},{w},{h}",
                     "--tracker", "cv2-kcf", "--no-video", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "boxes.json").read_text())
    assert report["init_from"] == "--bbox" and report["video"] is None and len(report["per_frame"]) == 8
    assert not {"demo.mp4", "demo.gif"} & {p.name for p in out.iterdir()}
    # with --gt and no --bbox, the first ground-truth box starts the tracker (OTB's protocol)
    assert cli.main(["demo", "--video", str(folder), "--gt", str(gt), "--no-video", "--out", str(out)]) == 0
    report = json.loads((out / "boxes.json").read_text())
    assert report["init_from"] == "the ground truth (--gt)" and report["auc"] > 0.5


@pytest.mark.parametrize("args", [["--bbox", "1,2,3"], ["--bbox", "0,0,0,5"], ["--frames", "1"],
                                  ["--tracker", "nonsense"], ["--gt", "gt.txt"], ["--nonsense"]])
def test_demo_bad_usage_exits_2(args, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "--out", str(tmp_path)] + args)
    assert exc.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_demo_missing_video_exits_1(tmp_path, capsys):
    code = cli.main(["demo", "--video", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "o")])
    captured = capsys.readouterr()
    assert code == 1
    assert "opticore demo: error:" in captured.err and "nope.mp4" in captured.err


def test_demo_without_a_face_needs_bbox(tmp_path, capsys):
    folder = tmp_path / "flat"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((60, 80, 3), 127, np.uint8))
    code = cli.main(["demo", "--video", str(folder), "--out", str(tmp_path / "o")])
    assert code == 1 and "no face found" in capsys.readouterr().err


def test_bench_tracking_quick(tmp_path, capsys):
    out = tmp_path / "bench"
    json_path = tmp_path / "r.json"
    code = cli.main(["bench", "tracking", "--quick", "--frames", "12", "--trackers", "cv2-kcf",
                     "--out", str(out), "--json", str(json_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "cv2-kcf" in printed and "AUC" in printed
    assert {"success.png", "precision.png", "results.json"} <= {p.name for p in out.iterdir()}
    report = json.loads(json_path.read_text())
    r = report["trackers"]["cv2-kcf"]
    assert len(r["sequences"]) == 7 and set(r["auc_by_kind"]) == set(opticore.eval.tracking.MOTIONS)
    assert 0 <= r["auc"] <= 1 and len(r["success"]) == 21
    assert r["auc"] == pytest.approx(np.mean(r["success"]), rel=1e-12)
    # fps is every frame over every second of tracker time (7 sequences of 12 frames).
    assert r["frames"] == 7 * 12 == sum(q["frames"] for q in r["sequences"])
    assert r["fps"] == pytest.approx(r["frames"] / sum(q["seconds"] for q in r["sequences"]), rel=1e-12)


def test_bench_tracking_bad_usage(tmp_path):
    from opticore.bench import tracking

    for argv in (["--trackers", "nonsense"], ["--images", str(tmp_path / "no.png")], ["--frames", "1"]):
        with pytest.raises(SystemExit) as exc:
            tracking.main(argv)
        assert exc.value.code == 2


def test_demo_falls_back_to_gif(tmp_path, monkeypatch, capsys):
    class NoEncoder:
        def __init__(self, *args):
            pass

        def isOpened(self):  # noqa: N802 - OpenCV's name
            return False

        def release(self):
            pass

    monkeypatch.setattr(cv2, "VideoWriter", NoEncoder)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    assert cli.main(["demo", "--frames", "4", "--out", str(tmp_path)]) == 0
    from PIL import Image

    with Image.open(tmp_path / "demo.gif") as gif:
        assert gif.n_frames == 4 and gif.size == (480, 360)
    assert json.loads((tmp_path / "boxes.json").read_text())["video"] == "demo.gif"


def _frames_of(path):
    """Every frame of a video file, decoded by OpenCV."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(frame)


def _assert_legend_drawn(written, raw):
    """The legend darkens the bottom-left corner and writes on it; a corner without annotations
    differs from the raw frame by the encoding alone."""
    diff = np.abs(written.astype(np.int16) - raw.astype(np.int16))
    legend, untouched = diff[-30:, 6:150].mean(), diff[-30:, -60:].mean()
    assert legend > 40 and untouched < 8, (legend, untouched)


def test_demo_video_is_h264_with_a_legend(tmp_path, capsys):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    assert cli.main(["demo", "--frames", "12", "--out", str(tmp_path)]) == 0
    assert "warning" not in capsys.readouterr().err
    video = tmp_path / "demo.mp4"
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(video)],
                           capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "yuv420p" in probe and "480x360" in probe, probe
    frames = _frames_of(video)
    assert len(frames) == 12 and frames[0].shape == (360, 480, 3)
    raw = next(opticore.eval.tracking.astronaut_demo(frames=12).frames())
    _assert_legend_drawn(frames[0], raw)
    assert json.loads((tmp_path / "boxes.json").read_text())["video"] == "demo.mp4"


def test_demo_without_imageio_ffmpeg_warns_and_writes_mp4v(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    assert cli.main(["demo", "--frames", "6", "--tracker", "cv2-kcf", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "opticore demo: warning: imageio-ffmpeg is not installed" in err
    assert "browsers do not play" in err and "pip install imageio-ffmpeg" in err
    capture = cv2.VideoCapture(str(tmp_path / "demo.mp4"))
    # MPEG-4 Part 2, which OpenCV's FFmpeg names FMP4
    assert int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little") in (b"FMP4", b"mp4v")
    frames = _frames_of(tmp_path / "demo.mp4")
    assert len(frames) == 6
    _assert_legend_drawn(frames[0], next(opticore.eval.tracking.astronaut_demo(frames=6).frames()))
