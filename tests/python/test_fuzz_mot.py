"""Property tests (hypothesis) of the multi-object tracker and the assignment solver: any boxes,
scores, labels, layouts and junk arguments give a valid result or a clear error, never a crash or
a non-finite box.

The strategies and the clear-error rule are in fuzz_strategies.py (the suite runs them
derandomised).
"""

from __future__ import annotations

import numpy as np

# fuzz_strategies skips these tests when hypothesis or OpenCV is missing.
from fuzz_strategies import SPECIAL, boxes_and_scores, expect_clear_error, junk_arguments, layouts
from hypothesis import given
from hypothesis import strategies as st

from opticore.mot import METHODS, MultiTracker, linear_assignment


def check_tracks(tracks, boxes, scores):
    assert len(set(tracks.ids.tolist())) == len(tracks) and (tracks.ids > 0).all()
    assert np.isfinite(tracks.boxes).all()
    assert ((tracks.detections >= 0) & (tracks.detections < len(boxes))).all()
    np.testing.assert_array_equal(tracks.scores, scores.astype(np.float64)[tracks.detections])


@given(method=st.sampled_from(METHODS), frames=st.lists(boxes_and_scores(max_n=8), min_size=1, max_size=5),
       layout=st.data(), labelled=st.booleans())
def test_update_gives_valid_tracks_or_clear_errors(method, frames, layout, labelled):
    tracker = MultiTracker(method, min_hits=1, low_threshold=-100, high_threshold=-10, new_track_threshold=-10)
    for boxes, scores in frames:
        labels = np.arange(len(boxes)) % 2 if labelled else None
        before = tracker.frame_count
        try:
            tracks = tracker.update(layout.draw(layouts(boxes)), layout.draw(layouts(scores)), labels)
        except ValueError as e:
            assert str(e).startswith(("boxes:", "scores:")), e
            assert tracker.frame_count == before  # left as it was
            continue
        check_tracks(tracks, boxes, scores)
        assert np.isfinite(tracker.tracks().boxes).all()


@given(kwargs=junk_arguments(MultiTracker.update, {"boxes": np.array([[0.0, 0, 1, 1]]), "scores": np.array([0.9]),
                                                   "labels": None, "camera_motion": None}))
def test_update_junk_arguments(kwargs):
    tracker = MultiTracker()
    expect_clear_error(MultiTracker.update, lambda: tracker.update(**kwargs))


@given(kwargs=junk_arguments(MultiTracker.__init__, {"method": "ocsort", "iou_threshold": 0.3, "min_hits": 2,
                                                     "track_buffer": 30, "frame_rate": 30.0,
                                                     "std_weight_position": 0.05}))
def test_constructor_junk_arguments(kwargs):
    expect_clear_error(MultiTracker.__init__, lambda: MultiTracker(**kwargs))


@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6)), values=st.data(),
       max_cost=st.sampled_from([None, 0.5, 1e300, -1.0]), layout=st.data())
def test_linear_assignment_valid_or_clear(shape, values, max_cost, layout):
    pool = SPECIAL + [0.25, 0.5, 0.75, np.inf, np.nan, -np.inf]
    cost = np.array(values.draw(st.lists(st.sampled_from(pool), min_size=shape[0] * shape[1],
                                         max_size=shape[0] * shape[1])), np.float64).reshape(shape)
    try:
        rows, cols = linear_assignment(layout.draw(layouts(cost)), max_cost)
    except ValueError as e:
        assert str(e).startswith("cost:"), e
        return
    assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
    if max_cost is None:
        assert len(rows) == min(shape)
    else:
        assert (cost[rows, cols] < max_cost).all()
