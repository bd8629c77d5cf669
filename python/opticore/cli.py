"""The ``opticore`` command line.

    opticore info                       how this opticore was built
    opticore demo [--video PATH]        find a face, track it, write an annotated video, boxes and plots
    opticore demo mot [--video PATH]    detect and track people (HOG + MultiTracker), write a video and tracks.txt
    opticore track VIDEO --detections det.txt   track a video's detections, write a video and tracks.txt
    opticore train TASK [...]           train a model (liveness, pfld): checkpoints, resume, torchrun
    opticore eval TASK [...]            evaluate a trained model on held-out data, write metrics and plots
    opticore landmarks IMAGE --model CKPT   draw a trained PFLD's landmarks on a photo (boxes or Haar faces)
    opticore detect IMAGE|VIDEO [--out PATH] [--json PATH]   MTCNN faces drawn, and as JSON
    opticore export pfld|liveness CKPT --format pt2|onnx|pte [--int8]   export a trained model, run it back
    opticore bench                      list the benchmarks
    opticore bench boxes [--quick]      NMS / batched NMS / Soft-NMS against OpenCV and torchvision
    opticore bench geometry [--quick]   umeyama, alignment, random_warp; resize / warps / crop_resize vs OpenCV
    opticore bench tracking [--quick]   MOSSE / KCF / KCF+DSST against OpenCV's trackers (OTB protocol)
    opticore bench roi [--quick]        RoIAlign / RoIPool forward and backward against torchvision
    opticore bench ops [--quick]        the rest of the detection family (R-FCN, DCN, FPN, IoU losses) vs torchvision
    opticore bench mot [--quick]        SORT / ByteTrack / OC-SORT against roboflow trackers' (simulated crowds)
    opticore bench pfld [--quick]       PFLD 0.25X / 1X forward time (batch 1, one thread) beside the paper's
    opticore bench faces [--quick]      MTCNN face detection per 640x480 image vs facenet-pytorch and Haar

Exit codes: 0 success, 1 failure while running, 2 bad usage (an unknown option or value, a missing
command or benchmark name: the usage, and what is wrong, go to stderr). Errors go to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import List, Optional

# Benchmarks by name: (module under opticore.bench with a main(argv) -> int, what it measures).
BENCHMARKS = {
    "boxes": ("opticore.bench.boxes", "NMS / batched NMS / Soft-NMS against OpenCV and torchvision"),
    "geometry": ("opticore.bench.geometry",
                 "umeyama, warp_affine, align_faces, random_warp, resize / remap / crop_resize speed against "
                 "scikit-image / NumPy + OpenCV"),
    "tracking": ("opticore.bench.tracking", "MOSSE / KCF / KCF+DSST against OpenCV's trackers (OTB protocol)"),
    "roi": ("opticore.bench.roi", "RoIAlign / RoIPool forward and backward against torchvision"),
    "ops": ("opticore.bench.ops",
            "PS RoIAlign / RoIPool, deform_conv2d, MultiScaleRoIAlign, CIoU loss against torchvision"),
    "mot": ("opticore.bench.mot", "SORT / ByteTrack / OC-SORT against roboflow trackers' (HOTA, IDF1, MOTA, fps)"),
    "pfld": ("opticore.bench.pfld", "PFLD 0.25X / 1X forward time at batch 1 on one thread beside the paper's"),
    "liveness": ("opticore.bench.liveness", "fourier_spectrum against the NumPy + OpenCV Silent-Face pipeline"),
    "faces": ("opticore.bench.faces", "MTCNN FaceDetector time per 640x480 image against facenet-pytorch and Haar"),
    "runtime": ("opticore.bench.runtime",
                "PFLD 0.25X / 1X: eager PyTorch, AOTInductor .pt2, onnxruntime, ExecuTorch (float32, int8)"),
}

# Training and evaluation tasks by name: (module with a main(argv) -> int, what it does).
TRAINERS = {
    "liveness": ("opticore.train.liveness", "MiniFASNet anti-spoofing with the Fourier-spectrum auxiliary head"),
    "pfld": ("opticore.train.pfld", "PFLD facial landmarks with the auxiliary pose network"),
}
EVALUATORS = {
    "liveness": ("opticore.eval.liveness", "APCER / BPCER / ACER, ROC AUC, TPR at low FPR, a ROC plot"),
    "pfld": ("opticore.eval.landmarks", "NME, failure rate and AUC at 0.1, a CED plot"),
}


# The commands that run a named module's main(argv): command -> (table, what the names are).
MODULE_COMMANDS = {"bench": (BENCHMARKS, "benchmarks"), "train": (TRAINERS, "tasks"), "eval": (EVALUATORS, "tasks")}


def _listing(command: str) -> str:
    table, kind = MODULE_COMMANDS[command]
    width = max(len(name) for name in table)
    lines = [f"  {name:<{width}}  {about}" for name, (_, about) in table.items()]
    return f"{kind} (`opticore {command} NAME --help` for its options):\n" + "\n".join(lines)


def _info(args: argparse.Namespace) -> int:
    import opticore

    info = opticore.build_info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return 0


def _run_module(args: argparse.Namespace) -> int:
    table, kind = MODULE_COMMANDS[args.command]
    if args.name is None:  # e.g. `opticore bench` alone: bad usage (exit 2), the list on stderr
        args.parser.error(f"which of the {kind}?\n" + _listing(args.command))
    module = importlib.import_module(table[args.name][0])
    return int(module.main(args.module_args))


def _demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.run(args, args.parser)


def _demo_mot(args: argparse.Namespace) -> int:
    from .mot import demo as mot_demo

    return mot_demo.run_demo(args, args.parser)


def _track(args: argparse.Namespace) -> int:
    from .mot import demo as mot_demo

    return mot_demo.run_track(args, args.parser)


def _landmarks(args: argparse.Namespace) -> int:
    from . import face_landmarks

    return face_landmarks.run(args, args.parser)


def _detect(args: argparse.Namespace) -> int:
    from . import detect

    return detect.run(args, args.parser)


def _export(args: argparse.Namespace) -> int:
    from .export import command

    return command.run(args, args.parser)


def build_parser() -> argparse.ArgumentParser:
    import opticore

    parser = argparse.ArgumentParser(
        prog="opticore",
        description="opticore: fast, exact computer-vision operators (C++ core, NumPy and torch APIs).",
    )
    parser.add_argument("--version", action="version", version=f"opticore {opticore.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")  # checked in main

    info = commands.add_parser("info", help="print how opticore was built (compiler, torch, CUDA, threads)")
    info.add_argument("--json", action="store_true", help="print JSON instead of a table")
    info.set_defaults(run=_info, parser=info)

    from . import demo

    demo_parser = commands.add_parser("demo", help="track a face in a built-in sequence (or --video) and score it",
                                      description=demo.DESCRIPTION)
    demo.add_arguments(demo_parser)
    demo_parser.set_defaults(run=_demo, parser=demo_parser)
    from .mot import demo as mot_demo

    demo_kinds = demo_parser.add_subparsers(dest="demo_kind", metavar="KIND",
                                            help="mot: track people (`opticore demo mot --help`)")
    mot_parser = demo_kinds.add_parser("mot", help="track people in a video", description=mot_demo.DEMO_DESCRIPTION)
    mot_demo.add_demo_arguments(mot_parser)
    mot_parser.set_defaults(run=_demo_mot, parser=mot_parser)

    track = commands.add_parser("track", help="track the detections of a video (MOTChallenge det.txt)",
                                description=mot_demo.TRACK_DESCRIPTION)
    mot_demo.add_track_arguments(track)
    track.set_defaults(run=_track, parser=track)

    from . import face_landmarks

    landmarks = commands.add_parser("landmarks", help="draw a trained PFLD's landmarks on a photograph",
                                    description=face_landmarks.DESCRIPTION)
    face_landmarks.add_arguments(landmarks)
    landmarks.set_defaults(run=_landmarks, parser=landmarks)

    from . import detect

    detect_parser = commands.add_parser("detect", help="find faces (MTCNN) in an image or video, draw them, write JSON",
                                        description=detect.DESCRIPTION)
    detect.add_arguments(detect_parser)
    detect_parser.set_defaults(run=_detect, parser=detect_parser)

    from .export import command as export_command  # imports neither torch nor the exporters

    export = commands.add_parser("export", help="export a trained model to .pt2 / ONNX / .pte and check it",
                                 description=export_command.DESCRIPTION,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    export_command.add_arguments(export)
    export.set_defaults(run=_export, parser=export)

    helps = {
        "train": ("train a model (alone: list the tasks)", "Train a model; options after the task name go to it."),
        "eval": ("evaluate a trained model (alone: list the tasks)",
                 "Evaluate a model; options after the task name go to it."),
        "bench": ("run a benchmark against the reference implementations (alone: list them)",
                  "Run a benchmark; options after its name go to it."),
    }
    for command, (help_text, description) in helps.items():
        table, kind = MODULE_COMMANDS[command]
        sub = commands.add_parser(command, help=help_text, description=description, epilog=_listing(command),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("name", nargs="?", choices=list(table), metavar="NAME", help=f"which: {', '.join(table)}")
        sub.add_argument("module_args", nargs=argparse.REMAINDER, metavar="...",
                         help="options for it, e.g. --help or --quick")
        sub.set_defaults(run=_run_module, parser=sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's own parser, so that its usage line is the one shown
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.error("which command? info, demo, track, landmarks, detect, export, train, eval or bench "
                     "(`opticore --help` says what each does)")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("opticore: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a failure while running: one clear line on stderr, exit code 1
        print(f"opticore {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
