"""opticore.mot.MultiTracker on hand-built frames: a crossing, an occlusion with low-score
detections, a re-appearance, the life cycle, per-class association, camera motion; bad input."""

import numpy as np
import pytest

from gil_check import assert_releases_gil
from opticore.mot import CONFIRMED, LOST, TENTATIVE, MultiTracker, kalman_initiate, kalman_predict, kalman_update

METHODS = ["sort", "bytetrack", "ocsort"]
#: ByteTrack's published score thresholds, spelled out where a test is about them (the defaults,
#: tuned on simulated crowds, are lower).
THRESHOLDS = {"high_threshold": 0.5, "low_threshold": 0.1, "new_track_threshold": 0.6}


def box(x, y, w=40.0, h=100.0):
    return [x, y, x + w, y + h]


def run(tracker, frames):
    """frames: list of (boxes, scores); the Tracks of each frame."""
    return [tracker.update(np.array(b, float).reshape(-1, 4), np.array(s, float)) for b, s in frames]


def id_of(tracks, detection):
    hit = tracks.ids[tracks.detections == detection]
    return int(hit[0]) if len(hit) else None


@pytest.mark.parametrize("method", METHODS)
def test_crossing_keeps_ids(method):
    # Two walkers cross, one in front of the other (boxes overlap up to IoU 0.9): each keeps its id.
    frames = []
    for t in range(40):
        a, b = 100 + 6 * t, 400 - 6 * t
        frames.append(([box(a, 50), box(b, 60)], [0.9, 0.85]))
    out = run(MultiTracker(method), frames)
    first = (id_of(out[0], 0), id_of(out[0], 1))
    assert first == (1, 2)
    for t, tracks in enumerate(out):
        assert (id_of(tracks, 0), id_of(tracks, 1)) == first, (method, t)


def occluded_walker(low_score):
    """A walker detected at 0.9, then 6 frames at `low_score` (occluded), then at 0.9 again;
    a second walker far away all along."""
    frames = []
    for t in range(30):
        score = low_score if 10 <= t < 16 else 0.9
        frames.append(([box(100 + 4 * t, 50), box(600, 300)], [score, 0.9]))
    return frames


def test_bytetrack_follows_low_score_detections():
    out = run(MultiTracker("bytetrack", **THRESHOLDS), occluded_walker(0.3))
    for t in range(10, 16):
        assert id_of(out[t], 0) == 1, t  # low-score detections continue the track
        assert out[t].scores[out[t].ids == 1][0] == pytest.approx(0.3)
    assert id_of(out[29], 0) == 1


@pytest.mark.parametrize("method", ["sort", "ocsort"])
def test_sort_and_ocsort_ignore_low_scores_but_recover(method):
    out = run(MultiTracker(method, **THRESHOLDS), occluded_walker(0.3))
    for t in range(10, 16):
        assert id_of(out[t], 0) is None, t  # only high detections are associated
    assert id_of(out[16], 0) == 1  # the lost track is found again, same id
    assert id_of(out[29], 0) == 1


def test_low_detections_below_low_threshold_are_dropped():
    out = run(MultiTracker("bytetrack", **THRESHOLDS), occluded_walker(0.05))
    assert all(id_of(out[t], 0) is None for t in range(10, 16))
    assert id_of(out[16], 0) == 1


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("gap, same_id", [(8, True), (45, False)])
def test_reappearance(method, gap, same_id):
    # A walker vanishes for `gap` frames and comes back where its motion took it: the same id
    # within track_buffer (30 here), a new one after it.
    frames = []
    for t in range(15 + gap + 5):
        boxes = [box(600, 400)]
        if not 15 <= t < 15 + gap:
            boxes.append(box(100 + 2 * t, 50))
        frames.append((boxes, [0.9] * len(boxes)))
    out = run(MultiTracker(method, track_buffer=30), frames)
    assert id_of(out[14], 1) == 2
    back = id_of(out[15 + gap + 1], 1)
    assert (back == 2) if same_id else (back == 3), (method, back)


def state_box(mean):
    cx, cy, w, h = mean[0, :4]
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


@pytest.mark.parametrize("method", ["sort", "ocsort"])
def test_state_after_a_gap(method):
    # Moving right at 3 px/frame, unseen for 6 frames during which it stopped, then found again.
    # SORT predicts through the gap and corrects once; OC-SORT re-updates from its last observation
    # along the straight virtual path to the new one (observation-centric re-update). Both against
    # the same steps composed from the public Kalman functions.
    seen = [t for t in range(18) if not 10 < t < 17]
    boxes = {t: np.array([box(100 + 3 * min(t, 10), 50, 100, 100)]) for t in seen}
    tracker = MultiTracker(method)
    for t in range(18):
        b = boxes.get(t, np.zeros((0, 4)))
        tracker.update(b, [0.9] * len(b))
    mean, cov = kalman_initiate(boxes[0])
    for t in range(1, 11):
        mean, cov = kalman_update(*kalman_predict(mean, cov), boxes[t])
    last, new = boxes[10], boxes[17]
    for step in range(1, 7):
        mean, cov = kalman_predict(mean, cov)
        if method == "ocsort":
            mean, cov = kalman_update(mean, cov, last + (new - last) * step / 7)
    mean, cov = kalman_update(*kalman_predict(mean, cov), new)
    # (The two methods' states differ by 0.25 px here: the tolerance tells them apart.)
    np.testing.assert_allclose(tracker.tracks().boxes[0], state_box(mean), rtol=0, atol=1e-9)


def test_life_cycle():
    tracker = MultiTracker("bytetrack", min_hits=3, track_buffer=5)
    a = [box(10, 10)]
    assert tracker.update(np.array(a), [0.9]).ids.tolist() == [1]  # confirmed at once in frame 1
    b = [box(10, 10), box(300, 10)]
    assert tracker.update(np.array(b), [0.9, 0.9]).ids.tolist() == [1]  # the new one is tentative
    state = tracker.tracks()
    assert state.ids.tolist() == [1, 0] and state.states.tolist() == [CONFIRMED, TENTATIVE]
    assert tracker.update(np.array(b), [0.9, 0.9]).ids.tolist() == [1]
    assert tracker.update(np.array(b), [0.9, 0.9]).ids.tolist() == [1, 2]  # third hit: confirmed
    # Both vanish: lost, then removed after more than track_buffer frames.
    for k in range(1, 7):
        assert len(tracker.update(np.zeros((0, 4)), [])) == 0
        live = tracker.tracks()
        if k <= 5:
            assert live.states.tolist() == [LOST, LOST] and live.time_since_update.tolist() == [k, k]
            assert live.detections.tolist() == [-1, -1]
        else:
            assert len(live) == 0
    # A tentative track missed once is dropped; ids continue; reset starts again from 1.
    tracker.update(np.array(a), [0.9])
    tracker.update(np.zeros((0, 4)), [])
    assert len(tracker.tracks()) == 0
    tracker.reset()
    assert tracker.frame_count == 0
    assert tracker.update(np.array(a), [0.9]).ids.tolist() == [1]


def test_frame_rate_scales_the_buffer():
    tracker = MultiTracker("sort", track_buffer=10, frame_rate=15)  # kept 5 frames
    tracker.update(np.array([box(0, 0)]), [0.9])
    for _ in range(5):
        tracker.update(np.zeros((0, 4)), [])
    assert len(tracker.tracks()) == 1
    tracker.update(np.zeros((0, 4)), [])
    assert len(tracker.tracks()) == 0


def test_new_track_threshold():
    tracker = MultiTracker("bytetrack", min_hits=1, **THRESHOLDS)
    out = tracker.update(np.array([box(0, 0), box(200, 0)]), [0.55, 0.65])  # high, but 0.55 < 0.6
    assert out.detections.tolist() == [1]


@pytest.mark.parametrize("method", METHODS)
def test_per_class_association(method):
    tracker = MultiTracker(method, min_hits=1)
    b = np.array([box(10, 10), box(12, 10)])
    out = tracker.update(b, [0.9, 0.9], labels=[3, 7])
    assert out.labels.tolist() == [3, 7]
    # The detections swap places but not classes: each stays with its class's track.
    out = tracker.update(b[::-1], [0.9, 0.9], labels=[3, 7])
    assert dict(zip(out.labels.tolist(), out.ids.tolist())) == {3: 1, 7: 2}
    assert out.detections[out.labels == 3][0] == 0
    # A detection of a new class at a track's place starts a new track.
    out = tracker.update(b[:1], [0.9], labels=[5])
    assert out.ids.tolist() == [3] and out.labels.tolist() == [5]


@pytest.mark.parametrize("method", METHODS)
def test_camera_motion(method):
    # Three still walkers filmed by a camera panning 45 px per frame: without compensation the
    # boxes jump too far (IoU ~0.06) and get new ids; with the pan given they keep theirs.
    pan = np.array([[1.0, 0, -45], [0, 1, 0]])
    plain, compensated = MultiTracker(method), MultiTracker(method)
    for t in range(6):
        b = np.array([box(600 - 45 * t + 120 * k, 100) for k in range(3)])
        motion = None if t == 0 else pan
        ids_plain = plain.update(b, [0.9] * 3).ids
        ids_comp = compensated.update(b, [0.9] * 3, camera_motion=motion).ids
        assert ids_comp.tolist() == [1, 2, 3], t
    assert ids_plain.tolist() != [1, 2, 3]  # ids lost


def test_estimate_camera_motion():
    cv2 = pytest.importorskip("cv2")
    from opticore.mot import estimate_camera_motion

    rng = np.random.default_rng(1)
    scene = cv2.GaussianBlur((rng.random((240, 320)) * 255).astype(np.uint8), (0, 0), 2)
    truth = cv2.getRotationMatrix2D((160, 120), 2.0, 1.03)  # rotation, zoom and pan
    truth[:, 2] += (4.5, -2.25)
    moved = cv2.warpAffine(scene, truth, (320, 240))
    found = estimate_camera_motion(cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR), moved)
    np.testing.assert_allclose(found[:, :2], truth[:, :2], atol=2e-3)  # measured 1e-4
    np.testing.assert_allclose(found[:, 2], truth[:, 2], atol=0.2)  # measured 0.03 px
    np.testing.assert_array_equal(estimate_camera_motion(np.zeros((50, 50), np.uint8), scene[:50, :50]), np.eye(2, 3))
    with pytest.raises(ValueError, match="previous, frame: expected uint8 frames of one size"):
        estimate_camera_motion(scene, scene[:10])
    with pytest.raises(ValueError, match="previous, frame"):
        estimate_camera_motion(scene.astype(np.float32), scene.astype(np.float32))


def test_outputs():
    tracker = MultiTracker("sort", min_hits=1)
    b = np.array([box(10, 10), box(300, 10)], np.float32)
    out = tracker.update(b, np.array([0.7, 0.95], np.float32), labels=np.array([2, 2], np.int32))
    assert out.boxes.dtype == np.float64 and out.boxes.shape == (2, 4)
    assert out.ids.dtype == np.int64 and out.labels.dtype == np.int64 and out.detections.dtype == np.int64
    np.testing.assert_allclose(out.boxes, b)  # the first state is the detection itself
    np.testing.assert_allclose(out.scores, [0.7, 0.95], rtol=1e-6)
    assert len(out) == 2 and len(tracker.update([], [])) == 0
    assert "sort" in repr(tracker) and tracker.params["min_hits"] == 1


@pytest.mark.parametrize(
    "boxes, scores, labels, error, words",
    [
        ([[0, 0, 10, np.nan]], [0.9], None, ValueError, "boxes: expected finite"),
        ([[0, 0, -10, 10]], [0.9], None, ValueError, "boxes: expected x2 >= x1"),
        ([[0, 0, 10, 2e30]], [0.9], None, ValueError, r"boxes: expected coordinates within \+-1e\+30"),
        ([[0, 0, 10]], [0.9], None, ValueError, r"boxes: expected shape \(N, 4\)"),
        ([0, 0, 10, 10], [0.9], None, ValueError, r"boxes: expected shape \(N, 4\)"),
        ([[0, 0, 10, 10]], [0.9, 0.8], None, ValueError, "scores: expected 1 values"),
        ([[0, 0, 10, 10]], [np.inf], None, ValueError, "scores: expected finite"),
        ([[0, 0, 10, 10]], [[0.9]], None, ValueError, r"scores: expected shape \(N,\)"),
        ([[0, 0, 10, 10]], [0.9], [1, 2], ValueError, "labels: expected 1 values"),
        ([[0, 0, 10, 10]], [0.9], [1.5], TypeError, "labels: expected integer"),
        ([["a", "b", "c", "d"]], [0.9], None, TypeError, "boxes: expected real"),
    ],
)
def test_bad_input_leaves_tracker_as_it_was(boxes, scores, labels, error, words):
    tracker = MultiTracker("bytetrack")
    tracker.update(np.array([box(0, 0)]), [0.9])
    with pytest.raises(error, match=words):
        tracker.update(boxes, scores, labels)
    assert tracker.frame_count == 1 and tracker.tracks().ids.tolist() == [1]


def test_bad_camera_motion():
    tracker = MultiTracker()
    with pytest.raises(ValueError, match=r"camera_motion: expected shape \(2, 3\)"):
        tracker.update([box(0, 0)], [0.9], camera_motion=np.eye(3))
    with pytest.raises(ValueError, match="camera_motion: expected a finite"):
        tracker.update([box(0, 0)], [0.9], camera_motion=[[1, 0, np.nan], [0, 1, 0]])
    assert tracker.frame_count == 0


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"method": "deepsort"}, ValueError, "method: expected one of"),
        ({"method": 3}, TypeError, "method"),
        ({"min_hits": 0}, ValueError, "min_hits: expected an int >= 1"),
        ({"min_hits": 2.5}, TypeError, "min_hits: expected an int"),
        ({"track_buffer": -1}, ValueError, "track_buffer"),
        ({"iou_threshold": 1.0}, ValueError, r"iou_threshold: expected a value in \[0, 1\)"),
        ({"low_iou_threshold": -0.1}, ValueError, "low_iou_threshold"),
        ({"low_threshold": 0.8}, ValueError, "low_threshold: expected a value <= high_threshold"),
        ({"high_threshold": np.nan}, ValueError, "high_threshold: expected a finite"),
        ({"frame_rate": 0}, ValueError, "frame_rate"),
        ({"momentum_weight": -1}, ValueError, "momentum_weight"),
        ({"momentum_delta_t": 0}, ValueError, "momentum_delta_t"),
        ({"std_weight_velocity": 0}, ValueError, "std_weight_velocity"),
        ({"iou_threshold": "0.3"}, TypeError, "iou_threshold: expected a number"),
    ],
)
def test_bad_parameters(kwargs, error, words):
    with pytest.raises(error, match=words):
        MultiTracker(**kwargs)


def test_defaults_are_the_cores():
    # The wrapper's documented defaults are the C++ MotParams defaults, field for field.
    from opticore import _core

    assert MultiTracker().params == _core.MultiTracker().params
    custom = MultiTracker("ocsort", min_hits=5, momentum_weight=0.5)
    assert custom._impl.params == custom.params
    with pytest.raises(TypeError, match="unexpected parameter"):
        _core.MultiTracker(speed=3)


def test_update_releases_the_gil():
    # A long update: 2000 tracks x 2000 detections, about 0.2 s.
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 4000, (2000, 2))
    boxes = np.hstack([xy, xy + rng.uniform(20, 60, (2000, 2))])
    tracker = MultiTracker("sort", min_hits=1)
    tracker.update(boxes, np.full(2000, 0.9))
    moved = boxes + rng.normal(0, 3, boxes.shape)
    tracks = assert_releases_gil(lambda: tracker.update(moved, np.full(2000, 0.9)))
    assert len(tracks) == 2000
