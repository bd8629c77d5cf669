"""Liveness data: folder and CSV readers (class ids, 2-class mapping, boxes, errors), the dataset
(the Fourier target is that of the augmented crop the network sees; boxes go through crop_face),
and the recapture generator (labels, determinism, written files)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import opticore  # noqa: E402
from opticore.data.liveness import (LivenessDataset, Sample, generate_spoof_dataset, read_csv,  # noqa: E402
                                    read_folder, read_samples, recapture_print, recapture_replay, source_photos)


def _write(path: Path, image: np.ndarray) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return str(path)


def test_read_folder_names_ids_and_two_classes(tmp_path: Path) -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    for name in ("print", "1", "replay", "notes"):
        _write(tmp_path / name / "a.png", img)
        _write(tmp_path / name / "deeper" / "b.JPG", img)
    (tmp_path / "1" / "readme.txt").write_text("not an image")
    labels = {str(Path(s.path).relative_to(tmp_path)): s.label for s in read_folder(tmp_path)}
    assert labels == {"1/a.png": 1, "1/deeper/b.JPG": 1, "print/a.png": 0, "print/deeper/b.JPG": 0,
                      "replay/a.png": 2, "replay/deeper/b.JPG": 2}
    assert sorted(s.label for s in read_folder(tmp_path, classes=2)) == [0, 0, 0, 0, 1, 1]
    assert [s.label for s in read_samples(tmp_path)] == [s.label for s in read_folder(tmp_path)]
    with pytest.raises(FileNotFoundError, match="no folder"):
        read_folder(tmp_path / "absent")
    with pytest.raises(ValueError, match="no images under"):
        read_folder(tmp_path / "notes")
    with pytest.raises(ValueError, match="classes: expected 2 or 3"):
        read_folder(tmp_path, classes=4)


def test_read_csv(tmp_path: Path) -> None:
    csv = tmp_path / "list.csv"
    csv.write_text("path,label,x,y,w,h\nimgs/a.png,1,1,2,3,4\n/abs/b.png,2\n\nc.png,0,0,0,5,5\n")
    samples = read_csv(csv)
    assert samples == [Sample(str(tmp_path / "imgs/a.png"), 1, (1.0, 2.0, 3.0, 4.0)), Sample("/abs/b.png", 2, None),
                       Sample(str(tmp_path / "c.png"), 0, (0.0, 0.0, 5.0, 5.0))]
    assert [s.label for s in read_samples(csv, classes=2)] == [1, 0, 0]
    for text, message in [("a.png,1,2\n", "expected path,label"), ("a.png,x\n", "integer label"),
                          ("a.png,3\n", "label in 0..2"), ("", "no rows")]:
        csv.write_text(text)
        with pytest.raises(ValueError, match=message):
            read_csv(csv)


def test_dataset_target_is_the_spectrum_of_the_augmented_crop(tmp_path: Path, astronaut: np.ndarray) -> None:
    whole = _write(tmp_path / "1" / "whole.png", astronaut[:200, :240])
    boxed = _write(tmp_path / "boxed.png", astronaut)
    samples = [Sample(whole, 1), Sample(boxed, 0, (200.0, 80.0, 60.0, 70.0))]
    plain = LivenessDataset(samples)
    np.testing.assert_array_equal(plain.crop(0), opticore.resize(astronaut[:200, :240], (80, 80)))
    np.testing.assert_array_equal(plain.crop(1), opticore.crop_face(astronaut, (200, 80, 60, 70)))
    augmented = LivenessDataset(samples, augment=True)
    np.random.seed(3)
    for i in range(2):
        image, ft, label = augmented[i]
        assert image.shape == (3, 80, 80) and image.dtype == torch.float32 and ft.shape == (1, 10, 10)
        assert int(label) == samples[i].label
        pixels = (image.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
        assert not np.array_equal(pixels, plain.crop(i))  # it was augmented
        np.testing.assert_allclose(ft[0].numpy(), opticore.fourier_spectrum(pixels, out_size=(10, 10)), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="cannot read image"):
        LivenessDataset([Sample(str(tmp_path / "absent.png"), 1)])[0]


def test_generator_labels_files_and_determinism(tmp_path: Path) -> None:
    photos = source_photos()
    assert len(photos) >= 10  # scikit-image's samples alone give 14
    assert all(p.dtype == np.uint8 and p.ndim == 3 and p.shape[2] == 3 for _, p in photos)
    first = generate_spoof_dataset(tmp_path / "a", photos[:3], 2, side=48, seed=4)
    again = generate_spoof_dataset(tmp_path / "b", photos[:3], 2, side=48, seed=4)
    assert [s.label for s in first] == [0, 0, 1, 1, 2, 2]
    assert [s.label for s in read_folder(tmp_path / "a")] == [1, 1, 0, 0, 2, 2]  # folders sort live, print, replay
    for s, t in zip(first, again):
        np.testing.assert_array_equal(cv2.imread(s.path), cv2.imread(t.path))
        assert cv2.imread(s.path).shape == (48, 48, 3)
    with pytest.raises(ValueError, match="photos: expected at least one"):
        generate_spoof_dataset(tmp_path / "c", [], 1)


def test_recaptures_leave_their_traces_in_the_spectrum() -> None:
    # A smooth blob has almost no energy at high frequencies (measured 6e-5 of its variance beyond
    # a sixth of the sampling rate); the halftone and the screen grid put 1.8-20 % there (measured).
    rng = np.random.default_rng(0)
    blob = np.exp(-((np.indices((240, 240)) - 120) ** 2).sum(0) / (2 * 50.0**2))
    smooth = np.dstack([60 + 140 * blob] * 3).astype(np.uint8)

    def high_band(img: np.ndarray) -> float:
        grey = img.mean(axis=2)
        power = np.abs(np.fft.fftshift(np.fft.fft2(grey - grey.mean()))) ** 2
        yy, xx = np.indices(power.shape) - np.array(power.shape)[:, None, None] // 2
        return float(power[np.hypot(yy, xx) > power.shape[0] / 6].sum() / power.sum())

    assert high_band(smooth) < 1e-4
    for _ in range(3):
        assert high_band(recapture_print(smooth, rng)) > 0.005
        assert high_band(recapture_replay(smooth, rng)) > 0.005
