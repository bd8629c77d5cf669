"""Tracker parameters and bad input: one name and one default per parameter (the C++ Params),
clear errors naming the argument, non-finite frames and extreme boxes."""

from __future__ import annotations

import numpy as np
import pytest

import opticore
from tracking_scenes import face_sequence, centre_error, cv2


# ---------------------------------------------------------------- bad input


def test_bad_input():
    frame = np.zeros((60, 80), np.uint8)
    tracker = opticore.KCFTracker()
    with pytest.raises(RuntimeError, match="init"):
        tracker.update(frame)
    for box, match in [
        ((0, 0, 0, 10), "box"),
        ((0, 0, np.nan, 10), "box"),
        ((100, 0, 10, 10), "outside"),
        ((0, 0, 10), "box"),
        ("abcd", "box"),
    ]:
        with pytest.raises((ValueError, TypeError), match=match):
            tracker.init(frame, box)
    with pytest.raises(TypeError, match="image"):
        tracker.init(frame.astype(np.int16), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="image"):
        tracker.init(np.zeros((60, 80, 2), np.uint8), (0, 0, 10, 10))
    with pytest.raises(ValueError, match="image"):
        tracker.init(np.zeros((0, 80), np.uint8), (0, 0, 10, 10))
    tracker.init(frame, (10, 10, 20, 20))
    with pytest.raises(ValueError, match="image"):
        tracker.update(np.zeros((60,), np.uint8))
    ok, box = tracker.update(frame)  # a blank frame: no crash, no confidence
    assert not ok


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: opticore.KCFTracker(features="sift"), "features"),
        (lambda: opticore.KCFTracker(kernel="poly"), "kernel"),
        (lambda: opticore.KCFTracker(scale="fdsst"), "scale"),
        (lambda: opticore.KCFTracker(padding=-1), "padding"),
        (lambda: opticore.KCFTracker(regularization=0), "regularization"),
        (lambda: opticore.KCFTracker(output_sigma_factor=-1), "output_sigma_factor"),
        (lambda: opticore.KCFTracker(scale_sigma_factor=0), "scale_sigma_factor"),
        (lambda: opticore.KCFTracker(scale_regularization=0), "scale_regularization"),
        (lambda: opticore.KCFTracker(template_size=2**70), "template_size"),
        (lambda: opticore.MOSSETracker(seed=-1), "seed: expected an int >= 0, got -1"),
        (lambda: opticore.MOSSETracker(seed=2**64), "seed"),
        (lambda: opticore.MOSSETracker(regularization=float("inf")), "regularization"),
        (lambda: opticore.KCFTracker(interp_factor=1.5), "interp_factor"),
        (lambda: opticore.KCFTracker(cell_size=1), "cell_size"),
        (lambda: opticore.KCFTracker(num_scales=1), "num_scales"),
        (lambda: opticore.KCFTracker(scale_step=1.0), "scale_step"),
        (lambda: opticore.KCFTracker(psr_threshold=np.nan), "psr_threshold"),
        (lambda: opticore.MOSSETracker(learning_rate=0), "learning_rate"),
        (lambda: opticore.MOSSETracker(sigma=-1), "sigma"),
        (lambda: opticore.MOSSETracker(perturbations=-1), "perturbations"),
        (lambda: opticore.create_tracker("csrt"), "name"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: opticore.KCFTracker(padding=None), "padding: expected a float, got NoneType None"),
        (lambda: opticore.KCFTracker(padding="1.5"), "padding: expected a float, got str"),
        (lambda: opticore.KCFTracker(features=None), "features: expected a str"),
        (lambda: opticore.KCFTracker(cell_size=4.0), "cell_size: expected an int, got float"),
        (lambda: opticore.KCFTracker(template_size=True), "template_size: expected an int, got bool"),
        (lambda: opticore.MOSSETracker(seed=1.5), "seed: expected an int"),
        (lambda: opticore.MOSSETracker(sigma=[2.0]), "sigma: expected a float"),
    ],
)
def test_parameters_of_the_wrong_type(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize("cls,params_type", [("MOSSETracker", "MosseParams"), ("KCFTracker", "KcfParams")])
def test_python_parameters_are_the_cpp_params(cls, params_type):
    """Each tracker's keyword arguments are the fields of its C++ Params struct, with the C++
    defaults, and reach the core unchanged."""
    import inspect

    from opticore import _core

    fields = getattr(_core, params_type)._fields
    cpp_defaults = getattr(_core, params_type)()
    signature = inspect.signature(getattr(opticore, cls))
    assert list(signature.parameters) == list(fields)
    for name, parameter in signature.parameters.items():
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default == getattr(cpp_defaults, name), name
        assert type(parameter.default) is type(getattr(cpp_defaults, name)), name
    # A non-default value for every field arrives in the tracker's parameters.
    changed = {
        "learning_rate": 0.25,
        "sigma": 3.0,
        "regularization": 0.02,
        "perturbations": 3,
        "psr_threshold": 6.5,
        "max_patch_side": 64,
        "seed": 2**63 + 5,
        "features": "hog+gray",
        "kernel": "linear",
        "scale": "none",
        "padding": 2.0,
        "output_sigma_factor": 0.125,
        "interp_factor": 0.05,
        "kernel_sigma": 0.75,
        "cell_size": 3,
        "template_size": 96,
        "num_scales": 17,
        "scale_step": 1.05,
        "scale_sigma_factor": 0.5,
        "scale_learning_rate": 0.5,
        "scale_regularization": 0.5,
        "scale_model_max_area": 256,
    }
    tracker = getattr(opticore, cls)(**{name: changed[name] for name in fields})
    for name in fields:
        assert getattr(tracker.params, name) == changed[name], name
        assert changed[name] != getattr(cpp_defaults, name), name


def test_feature_dependent_defaults_are_filled_in():
    assert opticore.KCFTracker().params.cell_size == 4
    gray = opticore.KCFTracker(features="gray").params
    assert (gray.cell_size, gray.interp_factor, gray.kernel_sigma) == (1, 0.075, 0.2)
    assert "features='gray'" in repr(gray)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_float_frames_are_rejected(astronaut, bad):
    frames, truth = face_sequence(astronaut, 3)
    frames = [f.astype(np.float32) for f in frames]
    all_bad = np.full_like(frames[0], bad)
    on_target = frames[1].copy()
    on_target[120, 160, 1] = bad  # the face's centre
    far_away = frames[1].copy()
    far_away[235, 2, 0] = bad  # a corner MOSSE never reads on this update
    for tracker in (opticore.MOSSETracker(), opticore.KCFTracker()):
        with pytest.raises(ValueError, match=r"image: expected finite pixel values, got .*(nan|inf)"):
            tracker.init(all_bad, truth[0])
        with pytest.raises(ValueError, match="image: expected finite .* at row 235, column 2"):
            tracker.init(far_away, truth[0])  # init checks the whole frame
        assert not tracker.initialized
        tracker.init(frames[0], truth[0])
        # KCF used to return ok=True on an all-NaN frame; now the frame is refused, state kept.
        for frame in (all_bad, on_target, np.asfortranarray(on_target)):
            with pytest.raises(ValueError, match="image: expected finite"):
                tracker.update(frame)
        np.testing.assert_array_equal(tracker.box, truth[0])
        ok, box = tracker.update(frames[1])
        assert ok and centre_error(box, truth[1]) < 2
    # update checks the region it may read (the search window and where the target may move):
    # the cost follows the target, not the frame. A pixel beyond it changes nothing.
    clean, dirty = opticore.MOSSETracker(), opticore.MOSSETracker()
    clean.init(frames[0], truth[0])
    dirty.init(frames[0], truth[0])
    assert dirty.update(far_away) == clean.update(frames[1])


@pytest.mark.parametrize(
    "box", [(0, 0, 1e12, 1), (0, 0, 1e6, 1), (0, 0, 1e300, 1), (0, 0, 1, 1e300), (0, 0, 161, 10), (-100, 0, 10, 121)]
)
@pytest.mark.parametrize("make", [opticore.MOSSETracker, opticore.KCFTracker])
def test_boxes_far_larger_than_the_frame_are_rejected_up_front(make, box):
    # (0, 0, 1e12, 1) ran 9 s into std::bad_alloc, (0, 0, 1e6, 1) failed on an internal image and
    # (0, 0, 1e300, 1) tracked to y = 1.4e145: the box is now checked against the frame first.
    frame = np.zeros((60, 80), np.uint8)
    with pytest.raises(ValueError, match=r"box: expected a width and height of at most twice the 80x60 frame"):
        make().init(frame, box)


@pytest.mark.parametrize("box", [(-80, -60, 160, 120), (0, 30, 160, 1), (40, -60, 1, 120)])
@pytest.mark.parametrize("make", [opticore.MOSSETracker, opticore.KCFTracker])
def test_boxes_up_to_twice_the_frame_and_one_pixel_thin_are_tracked(astronaut, make, box):
    frame = cv2.resize(astronaut, (80, 60))
    tracker = make()
    tracker.init(frame, box)
    for _ in range(3):
        _, got = tracker.update(frame)
        assert np.all(np.isfinite(got)) and np.all(np.abs(np.subtract(got, box))[:2] < [160, 120])


def test_create_tracker():
    assert isinstance(opticore.create_tracker("MOSSE", seed=2), opticore.MOSSETracker)
    assert isinstance(opticore.create_tracker("kcf", features="gray"), opticore.KCFTracker)
    with pytest.raises(TypeError):
        opticore.create_tracker("kcf", colour=True)
    with pytest.raises(TypeError, match="name"):
        opticore.create_tracker(3)
