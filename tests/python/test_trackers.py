"""MOSSE and KCF (+ DSST) on sequences with exact ground truth: following a pan and a zoom,
reporting loss, frame kinds, determinism, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import opticore
from tracking_scenes import camera, face_sequence, centre_error, cv2


# ---------------------------------------------------------------- behaviour


TRACKERS = {
    "mosse": lambda: opticore.MOSSETracker(),
    "kcf-gray": lambda: opticore.KCFTracker(features="gray", scale="none"),
    "kcf-hog": lambda: opticore.KCFTracker(features="hog", scale="none"),
    "kcf-hog+gray-dsst": lambda: opticore.KCFTracker(features="hog+gray"),
}


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_follows_a_panning_camera(astronaut, name):
    frames, truth = face_sequence(astronaut, 30)
    tracker = TRACKERS[name]()
    tracker.init(frames[0], truth[0])
    errors = []
    for frame, gt in zip(frames[1:], truth[1:]):
        _, box = tracker.update(frame)
        errors.append(centre_error(box, gt))
    assert max(errors) < 4.0, errors


@pytest.mark.parametrize("zoom_rate", [1.02, 1 / 1.02])
def test_dsst_follows_the_scale(astronaut, zoom_rate):
    frames, truth = face_sequence(astronaut, 25, zoom_rate)
    tracker = opticore.KCFTracker(features="hog", scale="dsst")
    fixed = opticore.KCFTracker(features="hog", scale="none")
    tracker.init(frames[0], truth[0])
    fixed.init(frames[0], truth[0])
    for frame in frames[1:]:
        _, box = tracker.update(frame)
        fixed.update(frame)
    assert box[2] / truth[-1][2] == pytest.approx(1.0, abs=0.08)  # truth has grown / shrunk by 1.6x
    assert fixed.box[2] == truth[0][2]
    assert centre_error(box, truth[-1]) < 5


def test_loss_is_reported(astronaut):
    frames, truth = face_sequence(astronaut, 5)
    noise = np.random.default_rng(1).integers(0, 256, frames[0].shape, dtype=np.uint8)
    for tracker in (opticore.MOSSETracker(), opticore.KCFTracker()):
        tracker.init(frames[0], truth[0])
        assert tracker.update(frames[1])[0]
        assert tracker.score > 8
        ok, _ = tracker.update(noise)
        assert not ok and tracker.score < 6


def test_float_grey_and_bgra_frames_agree(astronaut):
    frames, truth = face_sequence(astronaut, 6)
    variants = {
        "u8": frames,
        "f32": [f.astype(np.float32) for f in frames],
        "bgra": [np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]) for f in frames],
        "strided": [np.asfortranarray(f)[::1, ::1] for f in frames],
    }
    results = {}
    for key, seq in variants.items():
        tracker = opticore.KCFTracker()
        tracker.init(seq[0], truth[0])
        results[key] = [tracker.update(f)[1] for f in seq[1:]]
    # float frames are interpolated in float, uint8 ones in OpenCV's fixed point: tiny differences
    for key in ("f32", "bgra", "strided"):
        np.testing.assert_allclose(results[key], results["u8"], atol=0.1 if key == "f32" else 1e-9, err_msg=key)
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    tracker = opticore.MOSSETracker()
    tracker.init(grey[0], truth[0])
    assert all(tracker.update(f)[0] for f in grey[1:])


def test_mosse_seeded_perturbations(astronaut):
    frames, truth = face_sequence(astronaut, 4)

    def run(seed):
        tracker = opticore.MOSSETracker(seed=seed)
        tracker.init(frames[0], truth[0])
        return [(tracker.update(f), tracker.score) for f in frames[1:]]

    assert run(3) == run(3)
    assert run(3) != run(4)  # the perturbations depend on the seed


def test_trackers_are_independent_across_threads(astronaut):
    frames, truth = face_sequence(astronaut, 12)

    def run():
        tracker = opticore.KCFTracker()
        tracker.init(frames[0], truth[0])
        return [tracker.update(f) for f in frames[1:]]

    expected = run()
    results = [None] * 4

    def work(i):
        results[i] = run()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_box_outside_the_frame_is_followed_without_crash(astronaut):
    frame, _ = camera(astronaut, 224, 113)
    for tracker in (opticore.MOSSETracker(), opticore.KCFTracker()):
        tracker.init(frame, (-40, -30, 60, 50))  # partly outside: borders are replicated
        for _ in range(3):
            _, box = tracker.update(frame)
            assert np.all(np.isfinite(box))
        tracker.init(frame, (300, 220, 400, 400))
        tracker.update(frame)
