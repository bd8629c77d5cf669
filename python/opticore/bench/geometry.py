"""Umeyama, warp_affine, align_faces, random_warp, and resize / warp / remap / crop_resize speed:
opticore beside scikit-image, NumPy and OpenCV, in one process.

Every case times opticore and its reference on the same inputs, converted before the clock starts;
each figure is the median of ``repeats`` calls after one warm-up call. The speed cases (resize,
warp_affine, remap, crop_resize against OpenCV) run at 1 and at 2 threads in every run, whatever
``--threads`` says, opticore's and OpenCV's calls in alternating blocks (see paired_median_ms).
The scikit-image Umeyama loop is timed on a subset of the sets and scaled linearly to the full
batch (marked ``*``). A reference that cannot be imported is reported as ``n/a``. Run
``python -m opticore.bench.geometry --help``.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import opticore

from .._progress import progress_bar
from . import _common
from ._common import fmt_number, interleaved_median_ms, median_ms

CROP = 112
SETUP = (
    f"faces: ARCFACE_112 rotated U(-30,30) deg, scaled U(0.8,2.5), centred U(130,382) px, noise "
    f"N(0,1) px, seed 0; image skimage.data.astronaut() 512x512x3 uint8; crops {CROP}x{CROP} bilinear, "
    "border 0; references: skimage SimilarityTransform (loop), cv2.warpAffine; random_warp: the image "
    "resized to 256x256x3, grid 5, out 64, noise 5/256, replicate border, jitter drawn per call, against "
    "a faceswap-style NumPy + OpenCV reference"
)


def face_landmarks(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 5, 2)`` float64 ArcFace-order landmarks: jittered similarity copies of ARCFACE_112."""
    angle = np.deg2rad(rng.uniform(-30, 30, n))
    scale = rng.uniform(0.8, 2.5, n)
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], 1)  # (n, 2, 2)
    centred = opticore.ARCFACE_112 - CROP / 2
    pts = np.einsum("nij,kj->nki", rot, centred) + rng.uniform(130, 382, (n, 1, 2))
    return pts + rng.normal(0, 1.0, pts.shape)


def _skimage_estimate() -> Optional[Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    """``f(src, dst) -> (3, 3) params`` with scikit-image's SimilarityTransform, or None."""
    try:
        from skimage.transform import SimilarityTransform
    except ImportError:
        return None
    if hasattr(SimilarityTransform, "from_estimate"):  # scikit-image >= 0.26
        return lambda src, dst: SimilarityTransform.from_estimate(src, dst).params

    def estimate(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        t = SimilarityTransform()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            t.estimate(src, dst)
        return t.params
    return estimate


def _umeyama_np(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Plain NumPy Umeyama similarity (what faceswap ships), ``(3, 3)``."""
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    a = d.T @ s / len(src)
    u, sv, vt = np.linalg.svd(a)
    sign = np.array([1.0, -1.0 if np.linalg.det(a) < 0 else 1.0])
    r = (u * sign) @ vt
    c = (sv * sign).sum() / (s * s).sum(1).mean()
    m = np.eye(3)
    m[:2, :2] = c * r
    m[:2, 2] = md - c * r @ ms
    return m


def reference_random_warp(cv2: Any, image: np.ndarray, jitter: np.ndarray, grid: int = 5,
                          coverage: float = 0.625, noise: float = 5 / 256,
                          out_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """faceswap's ``random_warp`` in NumPy + OpenCV, with opticore.random_warp's conventions.

    ``jitter`` is the ``(2, grid, grid)`` standard-normal draw. The dense map is faceswap's
    ``cv2.resize`` of the control grid followed by a crop, so ``out_size`` must make both the
    resized side ``out_size * grid / (grid - 1)`` and the crop ``out_size / (2 (grid - 1))``
    whole numbers (true for the faceswap case 5 / 64). Borders replicate.
    """
    if (out_size * grid) % (grid - 1) or out_size % (2 * (grid - 1)):
        raise ValueError(f"grid {grid} and out_size {out_size}: the resize-and-crop map is not exact")
    h, w = image.shape[:2]
    t = np.linspace(-0.5, 0.5, grid)
    mapx = np.broadcast_to((w - 1) / 2 + t * coverage * w, (grid, grid)) + jitter[0] * (noise * w)
    mapy = np.broadcast_to(((h - 1) / 2 + t * coverage * h)[:, None], (grid, grid)) + jitter[1] * (noise * h)
    big, pad = out_size * grid // (grid - 1), out_size // (2 * (grid - 1))
    interp_x = cv2.resize(mapx, (big, big))[pad:pad + out_size, pad:pad + out_size].astype(np.float32)
    interp_y = cv2.resize(mapy, (big, big))[pad:pad + out_size, pad:pad + out_size].astype(np.float32)
    warped = cv2.remap(image, interp_x, interp_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    nodes = np.arange(grid) * (out_size / (grid - 1)) - 0.5
    dst = np.stack(np.meshgrid(nodes, nodes), -1).reshape(-1, 2)
    src = np.stack([mapx.ravel(), mapy.ravel()], -1)
    m = _umeyama_np(src, dst)[:2]
    target = cv2.warpAffine(image, m, (out_size, out_size), borderMode=cv2.BORDER_REPLICATE)
    return warped, target


SPEED_SETUP = (
    "speed cases (uint8, 3 channels, at 1 and 2 threads for both libraries): astronaut resized to each input "
    "size; resize 1920x1080 -> 640x360 linear / area; 640x480 -> MTCNN pyramid (320x240 scaled by 0.709 "
    "down to 12 px, each level from the frame), -> 320x240, -> 12x12; warp_affine 512x512 -> 112x112, "
    "rotation 0.3 rad, scale 0.3; remap 256x256 with a dense smooth map; crop_resize: 64 square boxes, "
    "sides U(40, 200), in a 1280x720 frame, -> 80x80 linear, against a Python loop of cv2.resize over "
    "slices"
)


SPEED_REFERENCES = {
    "resize linear": "cv2.resize",
    "resize area": "cv2.resize INTER_AREA",
    "resize pyramid": "cv2.resize per level",
    "warp_affine": "cv2.warpAffine",
    "remap": "cv2.remap",
    "crop_resize": "Python loop of cv2.resize over slices",
}


def paired_median_ms(ours: Callable[[], Any], ref: Callable[[], Any], repeats: int) -> Tuple[float, float, Any, Any]:
    """Median times of ``ours`` and ``ref`` in ms and their warm-up results, the two taking turns
    in ten rounds of blocks (:func:`opticore.bench._common.interleaved_median_ms`): a machine's
    changing load falls on both alike, and OpenCV's worker threads, which spin for a while after
    each call, disturb only the first call of a block of opticore's."""
    timed = interleaved_median_ms({"ours": ours, "ref": ref}, repeats)
    return timed["ours"][0], timed["ref"][0], timed["ours"][1], timed["ref"][1]


def speed_cases(quick: bool, repeats: Optional[int], cv2: Any) -> List[Tuple[str, str, Callable, Callable, float, int]]:
    """(case, size, opticore call, OpenCV call, target ratio, default repeats) for the speed table;
    the reference of each case is SPEED_REFERENCES[case]."""
    from skimage.data import astronaut
    astro = np.ascontiguousarray(astronaut())
    hd = opticore.resize(astro, (1920, 1080))
    vga = opticore.resize(astro, (640, 480))
    frame = opticore.resize(astro, (1280, 720))
    rng = np.random.default_rng(5)
    a, sc = 0.3, 0.3
    m = np.array([[sc * np.cos(a), -sc * np.sin(a), 40.0], [sc * np.sin(a), sc * np.cos(a), 10.0]])
    small = np.ascontiguousarray(astro[128:384, 128:384])
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    map_x = (xx + 4 * np.sin(yy / 13) + rng.normal(0, 0.3, xx.shape)).astype(np.float32)
    map_y = (yy + 4 * np.cos(xx / 17) + rng.normal(0, 0.3, xx.shape)).astype(np.float32)
    levels, size = [], (320, 240)
    while min(size) >= 12:
        levels.append(size)
        size = (int(size[0] * 0.709), int(size[1] * 0.709))
    side = rng.integers(40, 201, 64)
    x1, y1 = rng.integers(0, 1280 - side), rng.integers(0, 720 - side)
    boxes = np.stack([x1, y1, x1 + side, y1 + side], 1)
    slices = [(int(b[0]), int(b[1]), int(b[2]), int(b[3])) for b in boxes]
    r = 10 if quick else 1
    return [
        ("resize linear", "1920x1080 -> 640x360", lambda: opticore.resize(hd, (640, 360)),
         lambda: cv2.resize(hd, (640, 360)), 1.0, 300 // r),
        ("resize area", "1920x1080 -> 640x360", lambda: opticore.resize(hd, (640, 360), interpolation="area"),
         lambda: cv2.resize(hd, (640, 360), interpolation=cv2.INTER_AREA), 1.0, 300 // r),
        ("resize pyramid", f"640x480 -> {len(levels)} levels",
         lambda: [opticore.resize(vga, s) for s in levels], lambda: [cv2.resize(vga, s) for s in levels], 1.0,
         1000 // r),
        ("resize linear", "640x480 -> 320x240", lambda: opticore.resize(vga, (320, 240)),
         lambda: cv2.resize(vga, (320, 240)), 1.0, 2000 // r),
        ("resize linear", "640x480 -> 12x12", lambda: opticore.resize(vga, (12, 12)),
         lambda: cv2.resize(vga, (12, 12)), 1.0, 5000 // r),
        ("warp_affine", "512x512 -> 112x112", lambda: opticore.warp_affine(astro, m, (112, 112)),
         lambda: cv2.warpAffine(astro, m, (112, 112)), 1.0, 3000 // r),
        ("remap", "256x256 dense map", lambda: opticore.remap(small, map_x, map_y),
         lambda: cv2.remap(small, map_x, map_y, cv2.INTER_LINEAR), 1.0, 1000 // r),
        ("crop_resize", "64 boxes -> 80x80", lambda: opticore.crop_resize(frame, boxes, (80, 80)),
         lambda: np.stack([cv2.resize(frame[b:d, a:c], (80, 80)) for a, b, c, d in slices]), 1.5, 500 // r),
    ]


def run_speed(quick: bool, repeats: Optional[int], cv2: Any, progress: Any) -> List[Dict]:
    """The speed table: every speed case at 1 and at 2 threads for both libraries."""
    rows = []
    for threads in (1, 2):
        opticore.set_num_threads(threads)
        cv2.setNumThreads(threads)
        for case, size, ours, ref, target, reps in speed_cases(quick, repeats, cv2):
            t_ours, t_ref, out_ours, out_ref = paired_median_ms(ours, ref, repeats or reps)
            if isinstance(out_ours, list):
                out_ours, out_ref = np.concatenate([o.ravel() for o in out_ours]), np.concatenate(
                    [o.ravel() for o in out_ref])
            equal = float(np.mean(out_ours == np.asarray(out_ref).reshape(out_ours.shape)))
            rows.append(_row(f"{case} ({threads}t)", size, t_ours, t_ref, target, equal, "equal",
                             SPEED_REFERENCES[case]))
            progress.update()
    return rows


def _within1(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.mean(np.abs(ours.astype(np.int16) - theirs.astype(np.int16)) <= 1))


def _row(case: str, size: str, ours: Optional[float], ref: Optional[float], target: float,
         agree: Optional[float], agree_kind: str, reference: str, note: str = "",
         extrapolated_from: Optional[int] = None) -> Dict[str, Any]:
    ratio = ref / ours if ours and ref else None
    return {"case": case, "size": size, "reference": reference, "ms": {"opticore": ours, "reference": ref},
            "extrapolated_from": extrapolated_from, "ratio": ratio, "target": target,
            "met": None if ratio is None else ratio >= target,
            "agree": {"kind": agree_kind, "value": agree}, "note": note}


def run_cases(quick: bool, repeats: Optional[int], cv2: Any, estimate: Any, progress: Any) -> List[Dict]:
    rng = np.random.default_rng(0)
    template = opticore.arcface_template(CROP)
    rows = []
    # 1. Umeyama: one batched call against a Python loop of scikit-image estimates on a subset.
    n, subset = (2_000, 200) if quick else (10_000, 1_000)
    src = face_landmarks(rng, n)
    dst = np.ascontiguousarray(np.broadcast_to(template, src.shape))
    ours, mats = median_ms(lambda: opticore.umeyama(src, dst), repeats or (3 if quick else 7))
    ref = agree = None
    if estimate is not None:
        sub_src, sub_dst = list(src[:subset]), list(dst[:subset])
        loop = lambda: [estimate(a, b) for a, b in zip(sub_src, sub_dst)]  # noqa: E731
        ref_ms, params = median_ms(loop, min(repeats or 5, 3 if quick else 5))  # ~50 us per set
        ref = ref_ms * n / subset
        agree = float(np.max(np.abs(mats[:subset] - np.stack(params))))
    rows.append(_row("umeyama batch", f"{n} x 5 pts", ours, ref, 50, agree, "max|dM|",
                     "skimage SimilarityTransform loop", extrapolated_from=subset))
    progress.update()
    # 2. warp_affine: one 512x512x3 image to a 112x112 crop with a face-alignment matrix.
    from skimage.data import astronaut
    image = np.ascontiguousarray(astronaut())
    face = face_landmarks(rng, 1)[0]
    m = opticore.umeyama(face, template)[:2]
    reps = repeats or (300 if quick else 2000)
    ours, crop = median_ms(lambda: opticore.warp_affine(image, m, (CROP, CROP)), reps)
    ref = agree = None
    if cv2 is not None:
        ref, ref_crop = median_ms(lambda: cv2.warpAffine(image, m, (CROP, CROP)), reps)
        agree = _within1(crop, ref_crop)
    rows.append(_row("warp_affine", f"512x512x3 -> {CROP}", ours, ref, 0.8, agree, "px within 1",
                     "cv2.warpAffine"))
    progress.update()
    # 3. align_faces: 64 faces of one image against insightface's norm_crop per face.
    faces = face_landmarks(rng, 64)
    reps = repeats or (10 if quick else 100)
    ours, (crops, _) = median_ms(lambda: opticore.align_faces(image, faces, size=CROP), reps)
    ref = agree = None
    if cv2 is not None and estimate is not None:
        def norm_crop() -> np.ndarray:
            return np.stack([cv2.warpAffine(image, estimate(f, template)[:2], (CROP, CROP), borderValue=0.0)
                             for f in faces])
        ref, ref_crops = median_ms(norm_crop, reps)
        agree = _within1(crops, ref_crops)
    rows.append(_row("align_faces", f"64 faces, {CROP}x{CROP}", ours, ref, 2, agree, "px within 1",
                     "skimage estimate + cv2.warpAffine per face"))
    progress.update()
    # 4. random_warp: faceswap's case (256x256x3 -> 64, grid 5), a fresh jitter every call on both sides.
    face = opticore.resize(image, (256, 256))
    reps = repeats or (300 if quick else 2000)
    ours_rng = np.random.default_rng(1)
    ours, _ = median_ms(lambda: opticore.random_warp(face, rng=ours_rng), reps)
    ref = agree = None
    if cv2 is not None:
        ref_rng = np.random.default_rng(1)
        ref, _ = median_ms(lambda: reference_random_warp(cv2, face, ref_rng.normal(size=(2, 5, 5))), reps)
        pairs = [(opticore.random_warp(face, rng=seed),
                  reference_random_warp(cv2, face, np.random.default_rng(seed).normal(size=(2, 5, 5))))
                 for seed in range(20)]
        agree = _within1(np.stack([np.stack(p[0]) for p in pairs]), np.stack([np.stack(p[1]) for p in pairs]))
    rows.append(_row("random_warp", "256x256x3 -> 64, grid 5", ours, ref, 2, agree, "px within 1",
                     "NumPy + cv2 (resize, remap, umeyama, warpAffine)"))
    progress.update()
    return rows


def _fmt_agree(value: Optional[float], kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "max|dM|":
        return f"max|dM| {value:.1e}"
    if kind == "equal":
        return f"{math.floor(value * 10000) / 100:.2f}% equal"
    return f"{math.floor(value * 10000) / 100:.2f}% <=1"  # truncated: "100.00%" only when all are


def format_report(report: Dict[str, Any]) -> str:
    """``report`` (as returned by :func:`run`) as a header, an aligned plain-text table and a legend."""
    m = report["metadata"]
    header = (f"opticore {m['opticore']} | threads {m['threads']} | cv2 {m['cv2'] or 'not installed'} | "
              f"scikit-image {m['skimage'] or 'not installed'} | {m['cpu']}, {m['cpu_count']} CPUs | "
              f"Python {m['python']}")
    rows = [["case", "size", "opticore ms", "reference ms", "ratio", "target", "met?", "agree"]]
    for r in report["cases"]:
        if r["note"]:
            rows.append([r["case"], r["size"], r["note"], "", "", "", "", ""])
            continue
        ref = fmt_number(r["ms"]["reference"], "ms") + ("*" if r["extrapolated_from"] else "")
        met = "n/a" if r["met"] is None else ("yes" if r["met"] else "NO")
        rows.append([r["case"], r["size"], fmt_number(r["ms"]["opticore"], "ms"), ref, fmt_number(r["ratio"], "x"),
                     f">={r['target']:g}x", met, _fmt_agree(r["agree"]["value"], r["agree"]["kind"])])
    widths = [max(len(row[i]) for row in rows if row[3] or i < 3) for i in range(len(rows[0]))]
    lines = ["  ".join([row[0].ljust(widths[0]), row[1].ljust(widths[1])]
                       + [c.rjust(w) for c, w in zip(row[2:], widths[2:]) if row[3]]
                       + ([] if row[3] else [row[2]])).rstrip() for row in rows]
    named: Dict[str, str] = {}  # each case once, without its thread count
    for r in report["cases"]:
        if not r["note"]:
            named.setdefault(r["case"].split(" (")[0], r["reference"])
    refs = "; ".join(f"{case}: {ref}" for case, ref in named.items())
    extra = [f"* {r['case']}: reference timed on the first {r['extrapolated_from']} sets, scaled linearly "
             f"to {r['size'].split()[0]}" for r in report["cases"] if r["extrapolated_from"]]
    legend = ("ratio = reference ms / opticore ms (>1: opticore faster); agree: max abs difference of "
              "the matrices, or share of crop pixels within +-1 of the reference, or share of output values "
              "equal to the reference's; (1t) / (2t): both libraries at 1 / 2 threads")
    if m.get("load"):
        header += f" | load {m['load']}"
    return "\n".join([header, SETUP, SPEED_SETUP, "", lines[0], "-" * len(lines[0])] + lines[1:]
                     + ["", "references: " + refs] + extra + [legend])


def _load() -> Optional[str]:
    """The 1 / 5 / 15 minute load averages, where the system reports them (timings are noisy under load)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        return None


def run(quick: bool = False, threads: int = 1, json_path: Optional[str] = None,
        repeats: Optional[int] = None) -> Dict[str, Any]:
    """Run every case, print the table and return ``{"metadata": {...}, "cases": [...]}``.

    Args:
        quick: smaller batches and fewer repeats (a few seconds).
        threads: thread count for opticore and cv2 alike; left set when this returns.
        json_path: if given, the returned dict is also written there as JSON.
        repeats: timed calls per case (default per case: umeyama 7, warp_affine 2000,
            align_faces 100, random_warp 2000; --quick: 3, 300, 10, 300; speed cases 300 to 5000,
            a tenth with --quick); the median is reported.
    """
    if threads < 1 or (repeats is not None and repeats < 1):
        raise ValueError(f"threads and repeats must be >= 1, got {threads}, {repeats}")
    opticore.set_num_threads(threads)
    cv2 = _common.load_cv2(threads)
    estimate = _skimage_estimate()
    progress = progress_bar(4 + (16 if cv2 is not None else 0), "bench geometry", "case")
    try:
        cases = run_cases(quick, repeats, cv2, estimate, progress)
        if cv2 is not None:
            cases += run_speed(quick, repeats, cv2, progress)
    finally:
        progress.close()
        opticore.set_num_threads(threads)
        if cv2 is not None:
            cv2.setNumThreads(threads)
    try:
        import skimage
        skimage_version: Optional[str] = skimage.__version__
    except ImportError:
        skimage_version = None
    metadata = _common.timing_metadata(quick, threads, repeats, cv2, SETUP + "; " + SPEED_SETUP,
                                       skimage=skimage_version, load=_load())
    report = {"metadata": metadata, "cases": cases}
    return _common.publish(report, format_report(report), json_path)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point: 0 on success; argparse exits with 2 on bad arguments."""
    return _common.cli_main("geometry", run, argv, __doc__.splitlines()[0], "smaller batches, fewer repeats",
                            "timed calls per case (default: per case)")


if __name__ == "__main__":
    sys.exit(main())
