"""Synthetic sequences: deterministic per seed, ground truth exactly where the camera puts the
target, every motion kind; the OTB / video loaders."""

from __future__ import annotations

import numpy as np
import pytest

import opticore

from opticore.eval.tracking import (
    MOTIONS,
    astronaut_demo,
    default_suite,
    load_image,
    load_otb,
    load_video,
    read_otb_groundtruth,
    synthetic_sequence,
)

TARGET = (70.0, 50.0, 41.0, 31.0)  # x, y, w, h in the source image


def blobs(points, shape=(200, 240), sigma=2.0):
    """A black BGR image with a white gaussian blob at each (x, y) pixel-centre position."""
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    img = sum(np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)) for x, y in points)
    return np.repeat((255 * np.clip(img, 0, 1)).astype(np.uint8)[:, :, None], 3, axis=2)


def centroid(frame, near, radius=12):
    grey = frame[:, :, 1].astype(np.float64)
    yy, xx = np.mgrid[: grey.shape[0], : grey.shape[1]]
    w = grey * (np.hypot(xx - near[0], yy - near[1]) < radius)
    return np.array([(w * xx).sum(), (w * yy).sum()]) / w.sum()


def centre(box):
    x, y, w, h = box
    return np.array([x + (w - 1) / 2, y + (h - 1) / 2])


@pytest.mark.parametrize("kind", [k for k in MOTIONS if k != "occlusion"])
def test_target_centre_lands_on_the_ground_truth_centre(kind):
    x, y, w, h = TARGET
    src = blobs([(x + (w - 1) / 2, y + (h - 1) / 2)])
    seq = synthetic_sequence(src, TARGET, kind, seed=3, frames=24, size=(160, 120), target_size=40)
    tol = 0.5 if kind == "blur" else 0.1  # blur: the mean pose over the exposure, not the mid pose
    for t, frame in enumerate(seq.frames()):
        c = centre(seq.groundtruth[t])
        np.testing.assert_allclose(centroid(frame, c), c, atol=tol, err_msg=f"{kind} frame {t}")


def test_ground_truth_size_follows_the_zoom():
    x, y, w, h = TARGET
    corners = [(x, y), (x + w - 1, y + h - 1)]  # the centres of the target's corner pixels
    seq = synthetic_sequence(blobs(corners, sigma=1.5), TARGET, "scale", seed=1, frames=40, size=(200, 160),
                             target_size=40)
    zoom = seq.camera.zoom
    assert zoom.max() / zoom.min() > 1.5
    np.testing.assert_allclose(seq.groundtruth[:, 2:], np.outer(zoom, [w, h]))
    for t, frame in enumerate(seq.frames()):
        gx, gy, gw, gh = seq.groundtruth[t]
        half = (zoom[t] - 1) / 2  # a corner pixel's centre sits half a (zoomed) pixel inside the box edge
        np.testing.assert_allclose(centroid(frame, (gx + half, gy + half), 6), (gx + half, gy + half), atol=0.15)
        far = (gx + gw - 1 - half, gy + gh - 1 - half)
        np.testing.assert_allclose(centroid(frame, far, 6), far, atol=0.15)


def test_every_kind_makes_frames_and_is_deterministic():
    img = load_image("astronaut")
    for kind in MOTIONS:
        a = synthetic_sequence(img, (177, 66, 95, 95), kind, seed=7, frames=6, size=(96, 72), target_size=24)
        b = synthetic_sequence(img, (177, 66, 95, 95), kind, seed=7, frames=6, size=(96, 72), target_size=24)
        fa, fb = list(a.frames()), list(b.frames())
        assert len(fa) == 6 and fa[0].shape == (72, 96, 3) and fa[0].dtype == np.uint8
        np.testing.assert_array_equal(a.groundtruth, b.groundtruth)
        for p, q in zip(fa, fb):
            np.testing.assert_array_equal(p, q)
        assert a.groundtruth.shape == (6, 4) and np.isfinite(a.groundtruth).all()
        np.testing.assert_array_equal(a.groundtruth[0], a.first_box())
    c = synthetic_sequence(img, (177, 66, 95, 95), "translation", seed=8, frames=6, size=(96, 72), target_size=24)
    assert not np.array_equal(c.groundtruth, a.groundtruth)


def test_effects_change_the_frames():
    """Illumination, occlusion and blur change the target's pixels against a plain warp of the same pose."""
    img = load_image("coffee")
    for kind in ("illumination", "occlusion", "blur"):
        seq = synthetic_sequence(img, (328, 232, 80, 80), kind, seed=0, frames=40, size=(160, 120), target_size=40)
        mid = 20  # inside the occluder's pass
        frame = list(seq.frames())[mid]
        bare = opticore.warp_affine(img, seq.camera.matrix(mid), seq.camera.size, border_mode="replicate")
        x, y, w, h = np.round(seq.groundtruth[mid]).astype(int)
        diff = np.abs(frame.astype(int) - bare)[y:y + h, x:x + w].mean()
        assert diff > 3, (kind, diff)


def test_default_suite_and_demo():
    suite = default_suite(["astronaut", "chelsea"], ["fast", "rotation", "scale"], frames=3, one_image_per_kind=True)
    assert [s.name for s in suite] == ["astronaut-fast", "chelsea-rotation", "astronaut-scale"]
    demo = astronaut_demo(frames=4)
    frames = list(demo.frames())
    assert len(frames) == 4 and frames[0].shape == (360, 480, 3)
    np.testing.assert_allclose(demo.groundtruth[0, 2:], [95, 95])  # zoom 1 in the first frame
    with pytest.raises(ValueError, match="kind: expected one of"):
        synthetic_sequence(frames[0], (0, 0, 10, 10), "wobble")
    with pytest.raises(FileNotFoundError):
        load_image("/no/such/image.png")


def test_user_image_path(tmp_path):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), load_image("rocket"))
    seq = default_suite([str(path)], ["translation"], frames=3)[0]
    assert seq.name == "photo-translation" and len(list(seq.frames())) == 3


@pytest.fixture
def tiny_clip(tmp_path):
    seq = synthetic_sequence(load_image("chelsea"), (154, 172, 60, 60), "translation", frames=6, size=(96, 80),
                             target_size=30)
    frames = list(seq.frames())
    gt = tmp_path / "groundtruth_rect.txt"
    lines = [",".join(f"{v:.3f}" for v in b) if i % 2 else "\t".join(f"{v:.3f}" for v in b)
             for i, b in enumerate(seq.groundtruth)]
    gt.write_text("\n".join(lines) + "\n\n")
    return frames, seq.groundtruth, gt


def test_otb_frames_folder_round_trip(tmp_path, tiny_clip):
    cv2 = pytest.importorskip("cv2")
    frames, truth, gt = tiny_clip
    (tmp_path / "seq" / "img").mkdir(parents=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / "seq" / "img" / f"{i + 1:04d}.png"), f)
    np.testing.assert_allclose(read_otb_groundtruth(str(gt)), truth, atol=1e-3)
    seq = load_otb(str(tmp_path / "seq"), str(gt))
    assert seq.name == "seq" and len(seq) == 6
    for a, b in zip(seq.frames(), frames):
        np.testing.assert_array_equal(a, b)  # PNG: lossless
    short = tmp_path / "short.txt"
    short.write_text("1,2,3,4\n" * 7)
    with pytest.raises(ValueError, match="6 frames but 7 ground-truth boxes"):
        load_otb(str(tmp_path / "seq"), str(short))


def test_otb_video_round_trip(tmp_path, tiny_clip):
    cv2 = pytest.importorskip("cv2")
    frames, _, gt = tiny_clip
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25, (96, 80))
    if not writer.isOpened():
        pytest.skip("no MJPG encoder in this OpenCV")
    for f in frames:
        writer.write(f)
    writer.release()
    seq = load_otb(path, str(gt))
    read = list(seq.frames())
    assert len(read) == 6 and read[0].shape == (80, 96, 3)
    assert np.abs(read[3].astype(int) - frames[3]).mean() < 8  # JPEG-compressed
    assert seq.fps == pytest.approx(25)
    assert len(list(load_video(path).frames())) == 6  # no ground truth: every frame


def test_bad_ground_truth_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(ValueError, match="bad.txt:2: expected 4 numbers"):
        read_otb_groundtruth(str(bad))
    with pytest.raises(FileNotFoundError):
        load_video(str(tmp_path / "missing.mp4"))
