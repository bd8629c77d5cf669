// Pairwise generalized, distance and complete IoU (GIoU, DIoU, CIoU): the overlap measures of
// the IoU-based detection losses, for every pair of two box sets.
//
// Convention: boxes are (x1, y1, x2, y2) rows; IoU is box_iou's (an inverted box has zero area,
// 0 without overlap). With C the smallest box enclosing both, c^2 its squared diagonal, d^2 the
// squared distance between the two centres and w, h a box's width and height (clamped at 0):
//   GIoU = IoU - (area(C) - union) / area(C)            (= IoU when area(C) is 0)
//   DIoU = IoU - d^2 / (c^2 + eps)
//   CIoU = DIoU - alpha * v,  v = 4/pi^2 * (atan2(w2, h2) - atan2(w1, h1))^2,  alpha = v / (1 - IoU + v + eps)
// These are torchvision.ops.{generalized,distance,complete}_box_iou for every box of positive size;
// where torchvision divides 0 by 0 (GIoU of two boxes that collapse to one point, CIoU of a box
// of zero height) or uses a negative area (inverted boxes), the rules above give finite numbers.
// Arithmetic is in double. Results are (N, M), row-major; large inputs are split over threads.
//
// Requires: a.cols == b.cols == 4, every coordinate finite, eps >= 0 and finite.
// Throws:   std::invalid_argument naming the argument otherwise.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"

namespace opticore {

enum class IouVariant { kGeneralized, kDistance, kComplete };

/// Parses "generalized", "distance" or "complete"; throws std::invalid_argument naming `name`.
IouVariant iou_variant(const char* text, const char* name = "kind");

/// out[i * M + j] = variant(a[i], b[j]) for a (N, 4) and b (M, 4); `eps` is used by kDistance
/// and kComplete (torchvision's default is 1e-7).
template <class T>
void box_iou_variant(MatrixView<T> a, MatrixView<T> b, IouVariant variant, double eps, T* out);

}  // namespace opticore
