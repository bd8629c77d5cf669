"""opticore.eval.mot: HOTA / CLEAR / Identity against roboflow `trackers`' TrackEval port and
py-motmetrics on the same inputs (skipped where those are not installed); the MOTChallenge files;
the crowd simulator."""

import numpy as np
import pytest

from opticore.eval.mot import (
    MotTable,
    evaluate,
    metrics,
    read_mot,
    read_seqinfo,
    similarities,
    simulate_crowd,
    track_detections,
    write_mot,
)
from opticore.mot import MultiTracker


def perturbed_sequence(seed, frames=40, objects=8):
    """Ground truth of `objects` ids over `frames` frames and a tracker output with misses, false
    positives, id switches, fragments and jitter: per-frame (gt_ids, tracker_ids, similarity)."""
    rng = np.random.default_rng(seed)
    gt_ids, tr_ids, sims = [], [], []
    mapping = {g: 100 + g for g in range(objects)}
    next_id = 200
    for t in range(frames):
        present = [g for g in range(objects) if rng.random() < 0.9]
        for g in present:
            if rng.random() < 0.03:  # an id switch
                mapping[g] = next_id
                next_id += 1
        tracked = [g for g in present if rng.random() < 0.85]
        fps = int(rng.poisson(0.5))
        ti = [mapping[g] for g in tracked] + list(range(900 + 10 * t, 900 + 10 * t + fps))
        sim = np.zeros((len(present), len(ti)))
        for j, g in enumerate(tracked):
            sim[present.index(g), j] = rng.uniform(0.3, 1.0)
        sim += rng.uniform(0, 0.3, sim.shape) * (rng.random(sim.shape) < 0.2)  # near misses
        sims.append(np.clip(sim, 0, 1))
        gt_ids.append(np.array(present, np.int64))
        tr_ids.append(np.array(ti, np.int64))
        order = rng.permutation(len(ti))  # column order must not matter
        tr_ids[-1], sims[-1] = tr_ids[-1][order], sims[-1][:, order]
    return gt_ids, tr_ids, sims


def crowd_sequence(method, seed):
    crowd = simulate_crowd(num_objects=15, num_frames=60, seed=seed)
    result = track_detections(MultiTracker(method), crowd.detections, crowd.num_frames)
    return crowd, result


def reference_eval():
    return pytest.importorskip("trackers.eval", reason="roboflow trackers (the reference metrics) not installed")


def compare(ours, theirs, keys):
    for key in keys:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-12), key


HOTA_KEYS = ["HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA", "HOTA_TP", "HOTA_FN",
             "HOTA_FP"]
CLEAR_KEYS = ["MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA", "CLR_TP", "CLR_FN", "CLR_FP",
              "IDSW", "MT", "PT", "ML", "Frag"]
ID_KEYS = ["IDF1", "IDR", "IDP", "IDTP", "IDFN", "IDFP"]


def inputs():
    for seed in range(6):
        yield f"perturbed-{seed}", perturbed_sequence(seed)
    for seed, method in enumerate(["sort", "bytetrack", "ocsort"]):
        crowd, result = crowd_sequence(method, seed)
        yield f"crowd-{method}", similarities(crowd.groundtruth, result, crowd.num_frames)


CASES = list(inputs())


@pytest.mark.parametrize("name, data", CASES, ids=[c[0] for c in CASES])
def test_metrics_equal_trackers_eval(name, data):
    ref = reference_eval()
    compare(metrics.hota(*data), ref.compute_hota_metrics(*data), HOTA_KEYS)
    compare(metrics.clear(*data), ref.compute_clear_metrics(*data), CLEAR_KEYS)
    compare(metrics.identity(*data), ref.compute_identity_metrics(*data), ID_KEYS)


@pytest.mark.parametrize("name, data", CASES[-3:], ids=[c[0] for c in CASES[-3:]])
def test_metrics_equal_motmetrics(name, data):
    mm = pytest.importorskip("motmetrics", reason="py-motmetrics not installed")
    acc = mm.MOTAccumulator(auto_id=True)
    for g, t, s in zip(*data):
        acc.update(g, t, np.where(s >= 0.5, 1 - s, np.nan))
    summary = mm.metrics.create().compute(acc, metrics=["idf1", "idp", "idr", "num_misses", "num_false_positives",
                                                        "num_switches", "mota", "motp"], name="x")
    ours = {**metrics.clear(*data), **metrics.identity(*data)}
    assert ours["IDF1"] == pytest.approx(summary["idf1"]["x"], rel=1e-12)
    assert ours["IDP"] == pytest.approx(summary["idp"]["x"], rel=1e-12)
    assert ours["IDR"] == pytest.approx(summary["idr"]["x"], rel=1e-12)
    assert ours["CLR_FN"] == summary["num_misses"]["x"] and ours["CLR_FP"] == summary["num_false_positives"]["x"]
    assert ours["IDSW"] == summary["num_switches"]["x"]
    assert ours["MOTA"] == pytest.approx(summary["mota"]["x"], rel=1e-12)
    assert 1 - ours["MOTP"] == pytest.approx(summary["motp"]["x"], rel=1e-9)


def test_edge_cases_equal_trackers_eval():
    ref = reference_eval()
    empty = [np.zeros(0, np.int64)] * 3
    ids = [np.array([1, 2])] * 3
    cases = [
        (ids, empty, [np.zeros((2, 0))] * 3),  # the tracker found nothing
        (empty, ids, [np.zeros((0, 2))] * 3),  # nothing to find
        (ids, ids, [np.eye(2)] * 3),  # perfect
        (ids, [np.array([5, 6]), np.array([6, 5]), np.array([5, 6])], [np.eye(2)] * 3),  # swaps
    ]
    for data in cases:
        compare(metrics.hota(*data), ref.compute_hota_metrics(*data), HOTA_KEYS)
        compare(metrics.clear(*data), ref.compute_clear_metrics(*data), CLEAR_KEYS)
        compare(metrics.identity(*data), ref.compute_identity_metrics(*data), ID_KEYS)


def test_known_values():
    ids = [np.array([1, 2])] * 4
    perfect = {**metrics.hota(ids, ids, [np.eye(2)] * 4), **metrics.clear(ids, ids, [np.eye(2)] * 4),
               **metrics.identity(ids, ids, [np.eye(2)] * 4)}
    assert perfect["HOTA"] == perfect["MOTA"] == perfect["IDF1"] == 1.0 and perfect["IDSW"] == 0
    # One object, its tracker id changes half way: one switch, IDF1 1/2, MOTA 3/4.
    gt = [np.array([1])] * 4
    pred = [np.array([7]), np.array([7]), np.array([8]), np.array([8])]
    one = [np.ones((1, 1))] * 4
    assert metrics.clear(gt, pred, one)["IDSW"] == 1 and metrics.clear(gt, pred, one)["MOTA"] == 0.75
    assert metrics.identity(gt, pred, one)["IDF1"] == 0.5
    # HOTA: DetA 1, AssA = (2 * 2/4 + 2 * 2/4) / 4 = 0.5 at every alpha: sqrt(0.5).
    assert metrics.hota(gt, pred, one)["HOTA"] == pytest.approx(np.sqrt(0.5), rel=1e-15)


def test_bad_metric_input():
    with pytest.raises(ValueError, match="one entry per frame"):
        metrics.hota([np.array([1])], [], [])
    with pytest.raises(ValueError, match=r"similarity: expected values in \[0, 1\]"):
        metrics.clear([np.array([1])], [np.array([1])], [np.array([[1.5]])])


def test_mot_files_round_trip(tmp_path):
    boxes = [[0, 0, 10, 20], [1.5, 2, 3.25, 4], [5, 6, 7, 8]]
    table = MotTable.from_arrays([2, 1, 1], [5, 3, 4], boxes, [0.5, 0.9, 0.7])
    assert table.frames.tolist() == [1, 1, 2] and table.ids.tolist() == [3, 4, 5]  # sorted by frame, id
    write_mot(tmp_path / "res.txt", table)
    back = read_mot(tmp_path / "res.txt")
    np.testing.assert_allclose(back.boxes, table.boxes, atol=5e-3)
    np.testing.assert_allclose(back.scores, table.scores, atol=5e-4)
    assert back.ids.tolist() == [3, 4, 5]
    frames = list(back.by_frame(3))
    assert [f for f, _ in frames] == [1, 2, 3] and [len(r) for _, r in frames] == [2, 1, 0]
    # gt.txt: consider == 0 rows are dropped; class and visibility kept; space-separated accepted.
    (tmp_path / "gt.txt").write_text("1 1 10 10 5 5 1 1 0.5\n1 2 0 0 5 5 0 1 1.0\n\n2 1 11 10 5 5 1 7 0.25\n")
    gt = read_mot(tmp_path / "gt.txt", gt=True)
    assert gt.ids.tolist() == [1, 1] and gt.classes.tolist() == [1, 7] and gt.visibility.tolist() == [0.5, 0.25]
    (tmp_path / "bad.txt").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="bad.txt:1: expected at least 6 values"):
        read_mot(tmp_path / "bad.txt")
    (tmp_path / "bad.txt").write_text("1,2,a,4,5,6\n")
    with pytest.raises(ValueError, match="expected numbers"):
        read_mot(tmp_path / "bad.txt")
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nname=S\nframeRate=25\nimWidth=640\nimExt=.jpg\n")
    assert read_seqinfo(tmp_path / "seqinfo.ini") == {"name": "S", "frameRate": 25, "imWidth": 640, "imExt": ".jpg"}
    with pytest.raises(FileNotFoundError):
        read_seqinfo(tmp_path / "missing.ini")


def test_evaluate_reads_what_track_detections_writes(tmp_path):
    crowd, result = crowd_sequence("bytetrack", 7)
    write_mot(tmp_path / "res.txt", result)
    again = evaluate(crowd.groundtruth, read_mot(tmp_path / "res.txt"), crowd.num_frames)
    direct = evaluate(crowd.groundtruth, result, crowd.num_frames)
    assert again["HOTA"] == pytest.approx(direct["HOTA"], abs=2e-3)
    assert again["IDSW"] == direct["IDSW"]


def test_simulator():
    a = simulate_crowd(num_objects=20, num_frames=80, seed=3)
    b = simulate_crowd(num_objects=20, num_frames=80, seed=3)
    np.testing.assert_array_equal(a.groundtruth.boxes, b.groundtruth.boxes)  # seeded
    np.testing.assert_array_equal(a.detections.scores, b.detections.scores)
    gt = a.groundtruth
    per_frame = np.bincount(gt.frames)[1:]
    assert 12 <= per_frame.mean() <= 26  # about num_objects in view
    assert len(np.unique(gt.ids)) > 20  # walkers left and others entered
    assert gt.visibility.min() < 0.5 < gt.visibility.max() == 1.0  # occlusions happen
    # Detections: misses grow with occlusion, occluded people get lower scores, false positives exist.
    crowd_eval = evaluate(gt, MotTable.from_arrays(a.detections.frames, np.arange(len(a.detections)),
                                                   a.detections.boxes, a.detections.scores))
    assert 0.6 < crowd_eval["CLR_Re"] < 0.98 and crowd_eval["CLR_FP"] > 20
    with pytest.raises(ValueError, match="num_objects"):
        simulate_crowd(num_objects=0)


@pytest.mark.parametrize("method", ["sort", "bytetrack", "ocsort"])
def test_trackers_on_a_crowd(method):
    crowd, result = crowd_sequence(method, 11)
    scores = evaluate(crowd.groundtruth, result, crowd.num_frames)
    assert scores["HOTA"] > 0.55 and scores["MOTA"] > 0.5 and scores["IDF1"] > 0.6, scores
