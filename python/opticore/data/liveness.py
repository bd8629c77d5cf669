"""Liveness (face anti-spoofing) data: folder and CSV readers, the training dataset (crop,
augmentation, then the Fourier target of the *augmented* crop), and a generator of recaptured
spoofs from real photographs for reproducible experiments without a licensed data set.

Class ids (``classes=3``, the default, as Silent-Face): 0 print attack, 1 live, 2 replay attack;
``classes=2``: 0 spoof, 1 live (the 3-class folders ``print`` / ``replay`` both map to 0).

Layouts read:

* a folder ``root/<class>/**/*.{jpg,jpeg,png,bmp}`` with ``<class>`` a class id (``0``, ``1``,
  ``2``) or name (``print``, ``live``, ``replay``; ``spoof`` with 2 classes); the whole image is
  the crop (already cropped faces);
* a CSV file with rows ``path,label[,x,y,w,h]`` (an optional header line starting with ``path``),
  paths relative to the CSV's folder, ``x,y,w,h`` the face box in pixels (then the crop is
  :func:`opticore.crop_face` around it at the dataset's scale).

Public data sets map onto these like so. CelebA-Spoof: write a CSV from its JSON labels —
spoof type 0 → 1 (live), 1–3 (photo, poster, A4 print) → 0, 7–9 (PC, pad, phone screen) → 2,
skip the others (cut-outs, masks) or map them to 0 with ``classes=2``; its ``*_BB.txt`` boxes are
``x, y, w, h`` relative to a 224-pixel side: multiply by ``width / 224`` and ``height / 224``.
CASIA-FASD: extract frames, then videos 1, 2, HR_1 → ``live``, 3–6 and HR_2, HR_3 (warped and
cut photos) → ``print``, 7, 8, HR_4 (video replay) → ``replay``. Keep the data sets' own subject
splits: the test subjects go to a separate folder, never into training or validation.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..liveness import crop_face, fourier_spectrum
from ..warp import resize, warp_affine

__all__ = [
    "CLASS_NAMES",
    "LivenessDataset",
    "Sample",
    "generate_spoof_dataset",
    "read_csv",
    "read_folder",
    "read_samples",
    "recapture_print",
    "recapture_replay",
    "source_photos",
]

#: class names by id, for 3 and 2 classes
CLASS_NAMES: Dict[int, Tuple[str, ...]] = {3: ("print", "live", "replay"), 2: ("spoof", "live")}
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass(frozen=True)
class Sample:
    """One image: its file, class id and optional face box ``(x, y, w, h)``."""

    path: str
    label: int
    box: Optional[Tuple[float, float, float, float]] = None


def _folder_label(name: str, classes: int) -> Optional[int]:
    names = {n: i for i, n in enumerate(CLASS_NAMES[classes])}
    if classes == 2:
        names.update(print=0, replay=0)
    if name in names:
        return names[name]
    if name.isdigit():
        label = int(name)
        if classes == 2 and label in (0, 2):  # a 3-class folder tree read with 2 classes
            return 0
        return label if label < classes else None
    return None


def read_folder(root: Union[str, Path], classes: int = 3) -> List[Sample]:
    """The images of ``root/<class>/**`` (see the module docstring), sorted by path.

    Example:
        >>> import tempfile, pathlib, cv2, numpy as np
        >>> from opticore.data.liveness import read_folder
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name in ("live", "print", "2"):
        ...         (pathlib.Path(d) / name).mkdir()
        ...         _ = cv2.imwrite(f"{d}/{name}/a.png", np.zeros((8, 8, 3), np.uint8))
        ...     [s.label for s in read_folder(d)]
        [2, 1, 0]
    """
    root = Path(root)
    if classes not in CLASS_NAMES:
        raise ValueError(f"classes: expected 2 or 3, got {classes!r}")
    if not root.is_dir():
        raise FileNotFoundError(f"data: no folder {root}")
    samples = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        label = _folder_label(sub.name, classes)
        if label is None:
            continue
        for path in sorted(sub.rglob("*")):
            if path.suffix.lower() in _IMAGE_SUFFIXES:
                samples.append(Sample(str(path), label))
    if not samples:
        raise ValueError(f"data: no images under {root}/<class>/ (class folders: "
                         f"{', '.join(CLASS_NAMES[classes])} or 0..{classes - 1})")
    return samples


def read_csv(path: Union[str, Path], classes: int = 3) -> List[Sample]:
    """Rows ``path,label[,x,y,w,h]`` (see the module docstring).

    Example:
        >>> import tempfile, pathlib
        >>> from opticore.data.liveness import read_csv
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = pathlib.Path(d, "s.csv").write_text("path,label,x,y,w,h\\na.jpg,1,10,20,30,40\\n")
        ...     s = read_csv(pathlib.Path(d, "s.csv"))[0]
        >>> s.label, s.box, pathlib.Path(s.path).name
        (1, (10.0, 20.0, 30.0, 40.0), 'a.jpg')
    """
    path = Path(path)
    samples = []
    with open(path, newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle), 1):
            if not row or (line_no == 1 and row[0].strip().lower() == "path"):
                continue
            if len(row) not in (2, 6):
                raise ValueError(f"{path}:{line_no}: expected path,label[,x,y,w,h], got {row}")
            try:
                label = int(row[1])
                box = tuple(float(v) for v in row[2:]) if len(row) == 6 else None
            except ValueError:
                raise ValueError(f"{path}:{line_no}: expected an integer label and numeric box, got {row}") from None
            if classes == 2 and label == 2:
                label = 0
            if not 0 <= label < classes:
                raise ValueError(f"{path}:{line_no}: expected a label in 0..{classes - 1}, got {label}")
            file = Path(row[0].strip())
            samples.append(Sample(str(file if file.is_absolute() else path.parent / file), label,
                                  box))  # type: ignore[arg-type]
    if not samples:
        raise ValueError(f"data: no rows in {path}")
    return samples


def read_samples(data: Union[str, Path], classes: int = 3) -> List[Sample]:
    """A folder (:func:`read_folder`) or a ``.csv`` file (:func:`read_csv`)."""
    return read_csv(data, classes) if str(data).lower().endswith(".csv") else read_folder(data, classes)


def _augment(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip, a shift by whole pixels (up to a tenth of the side, reflected at the border),
    brightness and contrast — applied before the Fourier target is computed, so the target
    describes the image the network sees.

    No rotation or zoom: resampling at sub-pixel positions is a low-pass filter, and it erases the
    one- to three-pixel patterns that tell a recapture (halftone dots, a screen's grid, their
    moiré) from a live face. Trained with a rotation of up to 10 degrees and a zoom of up to 1.15,
    V2SE's validation ACER on the generated recaptures stayed near 0.2; with whole-pixel shifts it
    reached 0.1 in the same number of steps (measured on a split by photograph of the training
    photographs)."""
    h, w = crop.shape[:2]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    pad_y, pad_x = max(1, h // 10), max(1, w // 10)
    padded = np.pad(crop, ((pad_y, pad_y), (pad_x, pad_x), (0, 0)), mode="reflect")
    y, x = int(rng.integers(0, 2 * pad_y + 1)), int(rng.integers(0, 2 * pad_x + 1))
    crop = padded[y:y + h, x:x + w]
    gain, bias = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
    return np.clip(crop.astype(np.float32) * gain + bias, 0, 255).astype(np.uint8)


class LivenessDataset:
    """A ``torch.utils.data.Dataset`` of ``(image, ft, label)``.

    ``image`` float32 ``(3, size, size)`` BGR / 255; ``ft`` float32 ``(1, size / 8, size / 8)``,
    :func:`opticore.fourier_spectrum` of the (augmented) crop; ``label`` an int64 class id. The
    crop is :func:`opticore.crop_face` at ``scale`` around the sample's box, or the whole image
    resized when it has none. Images are read with OpenCV (colour, BGR).

    Args:
        samples: from :func:`read_folder` / :func:`read_csv`.
        size: crop side (80 for MiniFASNet with the 5x5 final kernel).
        scale: context scale of the crop around a face box (Silent-Face: 2.7 or 4.0).
        augment: random flip, rotation, zoom, shift, brightness and contrast (training).
        cache: keep the crops in memory after the first read (small data sets).
    """

    def __init__(self, samples: Sequence[Sample], *, size: int = 80, scale: float = 2.7, augment: bool = False,
                 cache: bool = True):
        self.samples = list(samples)
        self.size, self.scale, self.augment, self.cache = size, scale, augment, cache
        self._crops: Dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.samples)

    def crop(self, index: int) -> np.ndarray:
        """The uint8 ``(size, size, 3)`` BGR crop of sample ``index``, before augmentation."""
        if index in self._crops:
            return self._crops[index]
        s = self.samples[index]
        image = cv2.imread(s.path, cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"data: cannot read image {s.path}")
        if s.box is None:
            out = resize(image, (self.size, self.size))
        else:
            out = crop_face(image, s.box, scale=self.scale, out_size=(self.size, self.size))
        if self.cache:
            self._crops[index] = out
        return out

    def __getitem__(self, index: int) -> Tuple[Any, Any, Any]:
        import torch

        crop = self.crop(index)
        if self.augment:
            crop = _augment(crop, np.random.default_rng(np.random.randint(2**31)))
        side = self.size // 8
        ft = fourier_spectrum(crop, out_size=(side, side))
        image = torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1))).float().div_(255.0)
        return image, torch.from_numpy(ft)[None], torch.tensor(self.samples[index].label, dtype=torch.int64)


# ----------------------------------------------------------------------------------------------
# The generator: live crops of real photographs, spoofs simulated by recapturing them.

_SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                   "motorcycle_left", "retina", "colorwheel", "grass", "gravel", "brick", "camera", "moon", "coins")
_OPENCV_PHOTOS = ("HappyFish.jpg", "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg",
                  "basketball1.png", "board.jpg", "building.jpg", "butterfly.jpg", "fruits.jpg", "graf1.png",
                  "home.jpg", "leuvenA.jpg", "messi5.jpg", "orange.jpg", "pic1.png", "pic3.png",
                  "rubberwhale1.png", "smarties.png", "squirrel_cls.jpg", "starry_night.jpg", "stuff.jpg",
                  "Blender_Suzanne1.jpg")
OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"


def source_photos() -> List[Tuple[str, np.ndarray]]:
    """The real photographs registry packages ship here, as ``(name, BGR uint8 image)``: the
    scikit-image samples (no download), and the OpenCV sample photos of the ``opencv-doc`` Debian
    package when it is installed. Grey photos are turned into three equal channels."""
    import skimage.data

    photos = []
    for name in _SKIMAGE_PHOTOS:
        try:
            img = getattr(skimage.data, name)()
        except Exception:  # a sample this scikit-image would have to download
            continue
        img = np.asarray(img)
        if img.dtype != np.uint8 or img.ndim not in (2, 3):
            continue
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2BGR)
        photos.append((f"skimage:{name}", img))
    for name in _OPENCV_PHOTOS:
        img = cv2.imread(os.path.join(OPENCV_DATA, name), cv2.IMREAD_COLOR)
        if img is not None:
            photos.append((f"opencv:{name}", img))
    return [(n, p) for n, p in photos if min(p.shape[:2]) >= 128]


def _live_crop(photo: np.ndarray, side: int, rng: np.random.Generator, oversample: int = 1) -> np.ndarray:
    """A random square region of a photo (a sixth to a half of its short side) at side * oversample."""
    h, w = photo.shape[:2]
    s = int(rng.uniform(0.18, 0.5) * min(h, w))
    x, y = int(rng.integers(0, w - s + 1)), int(rng.integers(0, h - s + 1))
    out = side * oversample
    return cv2.resize(photo[y:y + s, x:x + s], (out, out), interpolation=cv2.INTER_AREA)


def _camera(image: np.ndarray, side: int, rng: np.random.Generator) -> np.ndarray:
    """What every capture goes through, live or spoof: a little blur, sensor noise and JPEG — so
    that none of these alone tells the classes apart. A recapture (rendered larger) is first
    sampled by the sensor's grid (bilinear, so fine patterns alias as in a real camera)."""
    if image.shape[0] != side:
        image = cv2.resize(image, (side, side), interpolation=cv2.INTER_LINEAR)
    sigma = rng.uniform(0.0, 0.8)
    if sigma > 0.2:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    noisy = image.astype(np.float32) + rng.normal(0, rng.uniform(0.5, 3.0), image.shape).astype(np.float32)
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))])
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise RuntimeError("recapture: JPEG round trip failed")
    return np.asarray(decoded)


def recapture_print(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A print attack seen by a camera: reduced colour gamut and contrast (ink on paper), a CMY
    halftone (rotated dot screens, one per ink), paper texture, and a slight perspective from
    holding the sheet — at the input's resolution (give it 2-4x the final one).

    Example:
        >>> import numpy as np
        >>> from opticore.data.liveness import recapture_print
        >>> recapture_print(np.full((64, 64, 3), 128, np.uint8), np.random.default_rng(0)).shape
        (64, 64, 3)
    """
    h, w = image.shape[:2]
    f = image.astype(np.float32) / 255.0
    grey = f.mean(axis=2, keepdims=True)
    f = grey + (f - grey) * rng.uniform(0.5, 0.85)  # gamut: less saturation
    f = 0.08 + f * rng.uniform(0.7, 0.88)  # paper white and ink black
    f = f * rng.uniform(0.93, 1.07, 3).astype(np.float32)  # ink / paper tint
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(5.0, 9.0)  # 1.7-3 pixels after the camera's 3x reduction
    cmy = 1.0 - f
    for c, angle in enumerate(np.deg2rad([15.0, 75.0, 0.0]) + rng.uniform(0, np.pi / 2)):
        u = (xx * np.cos(angle) + yy * np.sin(angle)) * (2 * np.pi / period)
        v = (-xx * np.sin(angle) + yy * np.cos(angle)) * (2 * np.pi / period)
        screen = 0.5 + 0.25 * (np.cos(u) + np.cos(v))  # dot screen in [0, 1]
        # A dot prints where the ink coverage exceeds the screen: soft threshold (ink spread).
        cmy[..., c] = 1.0 / (1.0 + np.exp(-(cmy[..., c] - screen) * 12.0))
    f = 1.0 - cmy * rng.uniform(0.75, 0.95)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.7, 2.0))
    f = f * (1.0 + 0.06 * texture[..., None] / max(float(texture.std()), 1e-6))
    out = np.clip(f * 255, 0, 255).astype(np.uint8)
    return _tilt(out, rng, 0.04)


def recapture_replay(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A replay attack seen by a camera: the image on a screen's RGB sub-pixel grid, filmed at a
    slight angle and scale so the grid aliases into moiré, a display gamma and a reflection.

    Example:
        >>> import numpy as np
        >>> from opticore.data.liveness import recapture_replay
        >>> recapture_replay(np.full((64, 64, 3), 128, np.uint8), np.random.default_rng(0)).shape
        (64, 64, 3)
    """
    h, w = image.shape[:2]
    pitch = int(rng.integers(4, 9))  # screen pixel size in input pixels (1.3-2.7 after the camera)
    screen_w, screen_h = max(1, w // pitch), max(1, h // pitch)
    small = cv2.resize(image, (screen_w, screen_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    big = np.repeat(np.repeat(small, pitch, axis=0), pitch, axis=1)
    mask = np.zeros((pitch, pitch, 3), np.float32)
    for c, k in enumerate((2, 1, 0)):  # B, G, R channels; R, G, B stripes left to right
        cols = slice(k * pitch // 3, (k + 1) * pitch // 3 or 1)
        mask[:-1 if pitch > 2 else None, cols, c] = 1.0
    grid = np.tile(mask, (screen_h, screen_w, 1))
    lit = big * (0.25 + 0.75 * grid) ** 1.0
    lit = np.clip(lit, 0, 1) ** rng.uniform(0.75, 1.3)  # display gamma
    lit = cv2.resize(lit, (w, h), interpolation=cv2.INTER_LINEAR) if lit.shape[:2] != (h, w) else lit
    # Filming it: a small rotation and zoom resample the grid (aliasing into moiré).
    angle, zoom = rng.uniform(-8, 8), rng.uniform(0.85, 1.2)
    M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    lit = warp_affine(np.ascontiguousarray(lit, dtype=np.float32), M, (w, h), border_mode="reflect101")
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.3, 0.8) * w
    glare = rng.uniform(0.05, 0.25) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    lit = lit * rng.uniform(0.85, 1.1) + glare[..., None]
    return np.clip(lit * 255, 0, 255).astype(np.uint8)


def _tilt(image: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    h, w = image.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    dst = (src + rng.uniform(-amount, amount, (4, 2)) * (w, h)).astype(np.float32)
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REFLECT101)


def generate_spoof_dataset(
    root: Union[str, Path],
    photos: Sequence[Tuple[str, np.ndarray]],
    per_class: int,
    *,
    side: int = 80,
    seed: int = 0,
) -> List[Sample]:
    """Write ``per_class`` live, print and replay images of ``side`` x ``side`` pixels to
    ``root/{live,print,replay}/`` (PNG) and return them as samples (3-class ids).

    Live images are random crops of ``photos`` (e.g. :func:`source_photos`); spoofs are other
    random crops recaptured by :func:`recapture_print` / :func:`recapture_replay` at 3x the
    resolution. Every image then goes through the same simulated camera (resampling, blur, noise,
    JPEG 70-95). Split train and test by photo, not by image, to keep a test honest.

    Example:
        >>> import tempfile, numpy as np
        >>> from opticore.data.liveness import generate_spoof_dataset, source_photos
        >>> with tempfile.TemporaryDirectory() as d:
        ...     samples = generate_spoof_dataset(d, source_photos()[:2], 2, side=32)
        >>> sorted(s.label for s in samples)
        [0, 0, 1, 1, 2, 2]
    """
    if not photos:
        raise ValueError("photos: expected at least one photograph, got none")
    root = Path(root)
    rng = np.random.default_rng(seed)
    samples = []
    for label, name in enumerate(CLASS_NAMES[3]):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            photo = photos[int(rng.integers(len(photos)))][1]
            if name == "live":
                image = _live_crop(photo, side, rng)
            else:
                recapture = recapture_print if name == "print" else recapture_replay
                image = recapture(_live_crop(photo, side, rng, oversample=3), rng)
            path = root / name / f"{i:05d}.png"
            cv2.imwrite(str(path), _camera(image, side, rng))
            samples.append(Sample(str(path), label))
    return samples


def split_photos(photos: Sequence[Tuple[str, np.ndarray]], test_fraction: float,
                 seed: int = 0) -> Tuple[List[Tuple[str, np.ndarray]], List[Tuple[str, np.ndarray]]]:
    """``(train, test)`` photos: a seeded split by photograph, at least one in each part."""
    order = np.random.default_rng(seed).permutation(len(photos))
    n_test = min(len(photos) - 1, max(1, math.ceil(test_fraction * len(photos))))
    return [photos[i] for i in order[n_test:]], [photos[i] for i in order[:n_test]]
