"""MOSSE and KCF: one update step against plain NumPy references of the same algorithms (patches
by cv2.warpAffine, which opticore's patch sampling matches bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest

import opticore
from tracking_scenes import camera, cv2


# ---------------------------------------------------------------- NumPy references


def fft_size_at_least(n: int, multiple: int = 1) -> int:
    m = -(-max(n, 1) // multiple) * multiple
    while True:
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += multiple


def sample(frame, cx, cy, region_w, region_h, out_w, out_h):
    sx, sy = out_w / region_w, out_h / region_h
    M = np.array([[sx, 0, (out_w - 1) / 2 - sx * cx], [0, sy, (out_h - 1) / 2 - sy * cy]])
    return cv2.warpAffine(frame, M, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def shifted_gray(frame, x0, y0, rows, cols):
    """grey(x0 + c, y0 + r): bilinear in float64 over the grey image, borders replicated."""
    g = gray(frame).astype(np.float64)
    xs, ys = x0 + np.arange(cols), y0 + np.arange(rows)
    ix, iy = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - ix, ys - iy
    x_a, x_b = np.clip(ix, 0, g.shape[1] - 1), np.clip(ix + 1, 0, g.shape[1] - 1)
    y_a, y_b = np.clip(iy, 0, g.shape[0] - 1), np.clip(iy + 1, 0, g.shape[0] - 1)
    top = g[y_a][:, x_a] * (1 - fx) + g[y_a][:, x_b] * fx
    bottom = g[y_b][:, x_a] * (1 - fx) + g[y_b][:, x_b] * fx
    return top * (1 - fy[:, None]) + bottom * fy[:, None]


def gray(patch):
    if patch.ndim == 2:
        return patch.astype(np.float32)
    p = patch.astype(np.float32)
    return np.float32(0.114) * p[..., 0] + np.float32(0.587) * p[..., 1] + np.float32(0.299) * p[..., 2]


def wrapped(n):
    i = np.arange(n)
    return np.where(i <= (n - 1) // 2, i, i - n)


def gaussian(rows, cols, sigma):
    dr, dc = np.meshgrid(wrapped(rows), wrapped(cols), indexing="ij")
    return np.exp(-0.5 * (dr**2 + dc**2) / sigma**2)


def hann2d(rows, cols):
    return np.outer(np.hanning(rows), np.hanning(cols))


def refine(response, exclusion):
    """Peak shift (dy, dx), wrapped and parabola-refined, and the PSR."""
    rows, cols = response.shape
    r, c = np.unravel_index(np.argmax(response), response.shape)

    def vertex(left, centre, right):
        curvature = left - 2 * centre + right
        if not curvature < 0:
            return 0.0
        v = 0.5 * (left - right) / curvature
        return v if abs(v) <= 0.5 else 0.0

    p = response[r, c]
    dy = wrapped(rows)[r] + vertex(response[(r - 1) % rows, c], p, response[(r + 1) % rows, c])
    dx = wrapped(cols)[c] + vertex(response[r, (c - 1) % cols], p, response[r, (c + 1) % cols])
    dr = np.abs(wrapped(rows)[(np.arange(rows) - r) % rows])[:, None]
    dc = np.abs(wrapped(cols)[(np.arange(cols) - c) % cols])[None, :]
    side = response[(dr > exclusion) | (dc > exclusion)]
    return dy, dx, (p - side.mean()) / side.std()


def mosse_reference(frame0, frame1, box, sigma=2.0, reg=0.01):
    x, y, w, h = box
    cx, cy = x + (w - 1) / 2, y + (h - 1) / 2
    cols, rows = fft_size_at_least(max(8, round(w)), 4), fft_size_at_least(max(8, round(h)), 2)
    window = hann2d(rows, cols)

    def prep(frame):
        p = np.log1p(shifted_gray(frame, cx - (cols - 1) / 2, cy - (rows - 1) / 2, rows, cols))
        p -= p.mean()
        return p / (np.sqrt((p**2).sum()) + 1e-5) * window

    F = np.fft.fft2(prep(frame0))
    G = np.fft.fft2(gaussian(rows, cols, sigma))
    A, B = G * np.conj(F), np.abs(F) ** 2
    response = np.fft.ifft2(np.fft.fft2(prep(frame1)) * A / (B + reg)).real
    dy, dx, psr = refine(response, 5)
    return (x + dx, y + dy, w, h), psr


def kcf_reference(frame0, frame1, box, features, kernel="gaussian"):
    """KCF, scale fixed, defaults of KCFTracker: one training and one detection step."""
    x, y, w, h = box
    cx, cy = x + (w - 1) / 2, y + (h - 1) / 2
    cell, sigma_k = (1, 0.2) if features == "gray" else (4, 0.5)
    ww, wh = w * 2.5, h * 2.5
    to_template = 128 / np.sqrt(ww * wh)
    cols = fft_size_at_least(max(4, round(ww * to_template / cell)), 2)
    rows = fft_size_at_least(max(4, round(wh * to_template / cell)), 1)
    window = hann2d(rows, cols)

    def feats(frame):
        patch = sample(frame, cx, cy, ww, wh, cols * cell, rows * cell)
        f = opticore.fhog(patch, cell).transpose(2, 0, 1) if features == "hog" else (gray(patch) / 255 - 0.5)[None]
        return f.astype(np.float64) * window

    def kernel_f(a, b):
        cross = (np.conj(np.fft.fft2(a)) * np.fft.fft2(b)).sum(0)
        if kernel == "linear":
            return cross / a.size
        xz = np.fft.ifft2(cross).real
        return np.fft.fft2(np.exp(-np.maximum(0, (a**2).sum() + (b**2).sum() - 2 * xz) / a.size / sigma_k**2))

    sigma = 0.1 * np.sqrt((w * cols / ww) * (h * rows / wh))
    x0 = feats(frame0)
    alphaf = np.fft.fft2(gaussian(rows, cols, sigma)) / (kernel_f(x0, x0) + 1e-4)
    response = np.fft.ifft2(alphaf * kernel_f(x0, feats(frame1))).real
    dy, dx, psr = refine(response, max(1, min(rows, cols) // 8))
    return (x + dx * ww / cols, y + dy * wh / rows, w, h), psr


# ---------------------------------------------------------------- one step vs the references


@pytest.mark.parametrize("dx,dy", [(3.0, 0.0), (-2.5, 1.75), (0.3, -4.2)])
def test_mosse_step_matches_numpy(astronaut, dx, dy):
    frame0, _ = camera(astronaut, 224, 113)
    frame1, _ = camera(astronaut, 224 - dx, 113 - dy)
    box = (120.0, 70.0, 80.0, 90.0)
    tracker = opticore.MOSSETracker(perturbations=0)
    tracker.init(frame0, box)
    ok, got = tracker.update(frame1)
    want, psr = mosse_reference(frame0, frame1, box)
    # Measured: box within 1.1e-7 px, PSR within 4e-7 relative. A PSR whose side-lobe variance
    # divides by n - 1 instead of n is off by about 1 / (2n) = 7e-5 here.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    assert tracker.score == pytest.approx(psr, rel=1e-5)
    assert ok == (psr >= 7.0)
    assert abs(got[0] - box[0] - dx) < 0.5 and abs(got[1] - box[1] - dy) < 0.5


@pytest.mark.parametrize("features", ["gray", "hog"])
@pytest.mark.parametrize("kernel", ["gaussian", "linear"])
def test_kcf_step_matches_numpy(astronaut, features, kernel):
    if features == "hog" and not hasattr(opticore, "fhog"):
        pytest.skip("opticore.fhog missing")
    frame0, _ = camera(astronaut, 224, 113)
    frame1, _ = camera(astronaut, 221.5, 115.25)
    box = (112.0, 64.0, 95.0, 95.0)
    tracker = opticore.KCFTracker(features=features, kernel=kernel, scale="none")
    tracker.init(frame0, box)
    _, got = tracker.update(frame1)
    want, psr = kcf_reference(frame0, frame1, box, features, kernel)
    # Measured: box within 9.9e-5 px (hog + gaussian; the float32 features), 2.2e-6 px otherwise;
    # PSR within 3.8e-5 relative. A variance over n - 1 would move the PSR by 1 / (2n), 5e-4 on HOG cells.
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-4)
    assert tracker.score == pytest.approx(psr, rel=1e-4)
    assert abs(got[0] - box[0] - 2.5) < 0.6 and abs(got[1] - box[1] + 2.25) < 0.6
