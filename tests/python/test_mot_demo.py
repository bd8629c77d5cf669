"""``opticore demo mot`` and ``opticore track`` end to end, on short sequences."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from opticore import cli
from opticore.eval.mot import read_mot, simulate_crowd, track_detections
from opticore.mot import MultiTracker
from opticore.mot.demo import VTEST

cv2 = pytest.importorskip("cv2")


def test_demo_mot_synthetic(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "mot", "--synthetic", "--frames", "40", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "against the exact ground truth: HOTA" in printed and "tracker " in printed
    files = {p.name for p in out.iterdir()}
    assert {"tracks.txt", "det.txt", "gt.txt", "summary.json"} <= files and files & {"demo.mp4", "demo.gif"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 40 and summary["method"] == "bytetrack"
    assert summary["HOTA"] > 0.6 and summary["MOTA"] > 0.6
    tracks = read_mot(out / "tracks.txt")
    assert tracks.num_frames == 40 and set(tracks.ids.tolist()) >= {1, 2, 3}


NO_VTEST = "opencv-doc's vtest.avi not installed (apt-get install opencv-doc)"


@pytest.mark.skipif(not os.path.exists(VTEST), reason=NO_VTEST)
def test_demo_mot_vtest(tmp_path):
    out = tmp_path / "vtest"
    assert cli.main(["demo", "mot", "--frames", "4", "--no-video", "--camera-motion", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"] == "vtest.avi" and summary["detector"] == "HOG + opticore NMS"
    assert summary["frames"] == 4 and summary["detections"] > 4  # HOG finds pedestrians on the square
    assert summary["tracks"] >= 1 and summary["detector_fps"] > 0


def test_track_replays_a_detection_file(tmp_path):
    crowd = simulate_crowd(num_objects=6, num_frames=12, width=160, height=120, seed=2)
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(12):
        cv2.imwrite(str(frames / f"{i:03d}.png"), np.full((120, 160, 3), 90, np.uint8))
    det = tmp_path / "det.txt"
    from opticore.eval.mot import write_mot

    write_mot(det, crowd.detections)
    out = tmp_path / "out"
    assert cli.main(["track", str(frames), "--detections", str(det), "--method", "ocsort", "--out", str(out)]) == 0
    # The same ids as the tracker run directly on the (rounded, as written) detections.
    expected = track_detections(MultiTracker("ocsort", frame_rate=30.0), read_mot(det), 12)
    got = read_mot(out / "tracks.txt")
    np.testing.assert_array_equal(got.ids, expected.ids)
    np.testing.assert_allclose(got.boxes, expected.boxes, atol=0.011)  # x2 = left + width, each to 0.01


@pytest.mark.parametrize(
    "argv, words",
    [
        (["track", "x.avi"], "--detections"),
        (["demo", "mot", "--synthetic", "--video", "x.avi"], "give one"),
        (["demo", "mot", "--frames", "0"], "expected an integer >= 2"),
        (["demo", "mot", "--method", "deepsort"], "invalid choice"),
    ],
)
def test_bad_usage(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err


def test_missing_video_is_a_failure(tmp_path, capsys):
    det = tmp_path / "det.txt"
    det.write_text("1,-1,0,0,10,10,0.9,-1,-1,-1\n")
    assert cli.main(["track", str(tmp_path / "none.avi"), "--detections", str(det), "--out", str(tmp_path)]) == 1
    assert "opticore track: error:" in capsys.readouterr().err
