"""Post-processing the raw output of a detector with opticore: score filter, class-aware NMS,
then Soft-NMS as an alternative. Run: python examples/detection_postprocess.py"""

import numpy as np

import opticore


def fake_detector_output(rng: np.random.Generator, objects: int = 5, per_object: int = 40):
    """Many jittered boxes around a few objects, as a dense detector produces them."""
    centres = rng.uniform(50, 450, size=(objects, 2))
    sizes = rng.uniform(30, 120, size=(objects, 2))
    which = rng.integers(0, objects, size=objects * per_object)
    c = centres[which] + rng.normal(0, 4, size=(which.size, 2))
    s = sizes[which] * rng.uniform(0.9, 1.1, size=(which.size, 2))
    boxes = np.concatenate([c - s / 2, c + s / 2], axis=1).astype(np.float32)
    scores = rng.uniform(0.05, 1.0, size=which.size).astype(np.float32)
    labels = which % 3  # three classes
    return boxes, scores, labels


def main() -> None:
    boxes, scores, labels = fake_detector_output(np.random.default_rng(0))
    keep = opticore.batched_nms(boxes, scores, labels, iou_threshold=0.5, score_threshold=0.3, max_output=100)
    print(f"{len(boxes)} raw boxes -> {len(keep)} after class-aware NMS")
    for i in keep:
        x1, y1, x2, y2 = boxes[i]
        print(f"  label {labels[i]}  score {scores[i]:.2f}  box ({x1:.0f}, {y1:.0f}, {x2:.0f}, {y2:.0f})")

    idx, rescored = opticore.soft_nms(boxes, scores, method="gaussian", sigma=0.5, score_threshold=0.3)
    print(f"Soft-NMS keeps {len(idx)} boxes with decayed score > 0.3; the best five:")
    for i, s in zip(idx[:5], rescored[:5]):
        print(f"  box {i}: score {scores[i]:.2f} -> {s:.2f}")


if __name__ == "__main__":
    main()
