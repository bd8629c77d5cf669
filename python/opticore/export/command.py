"""``opticore export pfld|liveness CHECKPOINT --format pt2|onnx|pte``: export a trained model.

Loads a checkpoint written by ``opticore train pfld`` / ``opticore train liveness`` (the model is
rebuilt from the constructor arguments the checkpoint stores), exports it with
:func:`opticore.export.export_model`, runs the file back on generated faces and prints the
largest absolute difference from the eager model and the file size. ``--int8`` (``.pte`` only)
quantizes after calibrating on ``--calibration FOLDER`` (face crops, read with OpenCV as BGR,
resized to the model's input) or, without it, on generated faces
(:mod:`opticore.data.faces_synthetic`, seeds from 3 * 10**6, disjoint from training, validation
and test); for PFLD it also prints the NME of the float and int8 models on held-out generated
faces (the test seeds of ``opticore eval pfld``).

Exit codes: 0 exported and within tolerance, 1 failure (a missing or wrong checkpoint, an export
error, an export beyond its tolerance), 2 bad usage. Errors go to stderr.

Example::

    opticore export pfld runs/pfld/best.pt --format pte --int8 --out pfld-int8.pte
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

__all__ = ["DESCRIPTION", "add_arguments", "calibration_images", "generated_faces", "main", "run"]

DESCRIPTION = __doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1]

#: Generated calibration faces start at this seed (training 0.., validation 10**6.., test 2 * 10**6..).
CALIBRATION_SEED = 3 * 10**6
#: Images the int8 calibration uses at most, and the held-out faces the NME is measured on.
CALIBRATION_COUNT = 256
NME_COUNT = 200
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``opticore export`` (shared by the ``opticore`` command and :func:`main`)."""
    parser.add_argument("model", choices=("pfld", "liveness"), help="what the checkpoint holds")
    parser.add_argument("checkpoint", help="best.pt / last.pt written by `opticore train MODEL`")
    parser.add_argument("--format", required=True, choices=("pt2", "onnx", "pte"),
                        help="pt2: AOTInductor package; onnx; pte: ExecuTorch + XNNPACK")
    parser.add_argument("--int8", action="store_true", help="int8 post-training quantization (pte only)")
    parser.add_argument("--calibration", metavar="FOLDER",
                        help="int8: calibrate on the face crops in FOLDER (default: generated faces)")
    parser.add_argument("--out", help="the file to write (default: CHECKPOINT with the format's suffix)")
    parser.add_argument("--cpu", choices=("native", "avx2", "avx512", "generic"), default="native",
                        help="pt2: the instruction set of the deployment CPU (default: this machine's)")
    parser.add_argument("--max-batch", type=int, default=64, help="the largest batch the file takes (at least 8)")


def generated_faces(count: int, size: int, first_seed: int, margin: float = 0.2) -> np.ndarray:
    """``(count, 3, size, size)`` float32 in ``[0, 1]``, BGR: generated faces cropped around their
    landmarks (:func:`opticore.data.landmarks.crop_face`), seeds ``first_seed ..``.

    Example:
        >>> from opticore.export.command import generated_faces
        >>> generated_faces(2, 112, 0).shape
        (2, 3, 112, 112)
    """
    from ..data.faces_synthetic import render_face
    from ..data.landmarks import crop_face

    crops = []
    for i in range(count):
        face = render_face(first_seed + i)
        crops.append(crop_face(face.image, face.landmarks, size=size, margin=margin)[0])
    return np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def calibration_images(folder: str, size: int, limit: int = CALIBRATION_COUNT) -> np.ndarray:
    """``(n, 3, size, size)`` float32 in ``[0, 1]``, BGR: the first ``limit`` images (sorted by
    path, searched recursively) of ``folder``, resized to ``size x size``.

    Example:
        >>> import tempfile, cv2, numpy as np
        >>> from opticore.export.command import calibration_images
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     _ = cv2.imwrite(f"{tmp}/a.png", np.zeros((40, 30, 3), np.uint8))
        ...     calibration_images(tmp, 112).shape
        (1, 3, 112, 112)
    """
    import cv2

    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"calibration: no folder {root}")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)[:limit]
    images = []
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"calibration: cannot read image {path}")
        images.append(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA))
    if not images:
        raise ValueError(f"calibration: no images ({', '.join(_IMAGE_SUFFIXES)}) under {root}")
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2), dtype=np.float32) / 255.0


def _batches(images: np.ndarray, size: int) -> Iterator[Any]:
    import torch

    for start in range(0, len(images), size):
        yield torch.from_numpy(images[start:start + size])


def _load(model: str, checkpoint: str) -> Tuple[Any, int, float, Dict[str, str]]:
    """``(module, input side, crop margin, .pt2 metadata)`` of a checkpoint; the metadata holds
    the crop rule the runtime's pipelines need (``opticore.margin`` or ``opticore.scale``)."""
    if model == "pfld":
        from ..train.pfld import CROP, load_pfld

        pfld, extra = load_pfld(checkpoint)
        margin = float(extra.get("margin", 0.2))
        return pfld, CROP, margin, {"opticore.margin": repr(margin)}
    from ..train.liveness import load_model

    net, extra = load_model(checkpoint)
    return net, int(extra["size"]), 0.2, {"opticore.scale": repr(float(extra["scale"]))}


def _pfld_nme(net: Any, run: Any, size: int, margin: float) -> Tuple[float, float]:
    """Mean inter-ocular NME of the eager model and of the export on held-out generated faces
    (batches of 8: a .pte takes batches up to its memory plan only, see opticore.export.pte)."""
    import torch

    from ..eval.landmarks import TEST_SEED, nme
    from ..train.pfld import FaceCrops, synthetic_source

    data = FaceCrops(synthetic_source(TEST_SEED), NME_COUNT, augment=False, margin=margin)
    images = torch.stack([data[i][0] for i in range(len(data))])
    target = np.stack([data[i][1].numpy() for i in range(len(data))])
    with torch.no_grad():
        eager = torch.cat([net(b) for b in images.split(8)]).numpy()
        exported = torch.cat([run(b)[0] for b in images.split(8)]).numpy()
    return float(nme(eager, target).mean()), float(nme(exported, target).mean())


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Carry out parsed ``opticore export`` options (see the module docstring); returns the exit code."""
    if args.int8 and args.format != "pte":
        parser.error(f"--int8: int8 quantization is for --format pte, got --format {args.format}")
    if args.calibration and not args.int8:
        parser.error("--calibration: only used with --int8")
    if args.max_batch < 8:
        parser.error(f"--max-batch: expected at least 8, got {args.max_batch}")
    import torch

    from . import export_model, load_exported

    net, size, margin, metadata = _load(args.model, args.checkpoint)
    suffix = ("-int8" if args.int8 else "") + "." + args.format
    out = Path(args.out) if args.out else Path(args.checkpoint).with_suffix("").with_name(
        Path(args.checkpoint).stem + suffix)
    example = torch.from_numpy(generated_faces(4, size, CALIBRATION_SEED + CALIBRATION_COUNT, margin))
    calibration = None
    if args.int8:
        images = (calibration_images(args.calibration, size) if args.calibration
                  else generated_faces(CALIBRATION_COUNT, size, CALIBRATION_SEED, margin))
        calibration = list(_batches(images, min(32, args.max_batch)))
    report = export_model(net, example, args.format, out, int8=args.int8, calibration=calibration,
                          max_batch=args.max_batch, cpu=args.cpu, metadata=metadata)
    print(report.summary())
    if args.model == "pfld" and args.int8:
        eager, exported = _pfld_nme(net, load_exported(out), size, margin)
        print(f"NME on {NME_COUNT} held-out generated faces: float {eager:.4f}, int8 {exported:.4f} "
              f"({100 * (exported / eager - 1):+.1f} %)")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    """``opticore export`` as a function: exit code 0 / 1 / 2 (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="opticore export", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args, parser)
    except Exception as exc:  # a failure while running: one line on stderr, exit code 1
        print(f"opticore export: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
