// The one definition of box geometry used by every box operator: a box copied to double, with its
// clamped area, and IoU computed the same way everywhere (so nms, soft_nms and box_iou agree).
//
// Every finite box is handled exactly (to double rounding), however large or small: a width that
// overflows (x1 = -1e308, x2 = 1e308) is halved before it is multiplied, and an IoU whose terms
// leave the normal double range (areas beyond 1.8e308, or below 2.2e-308 for denormal sizes) is
// recomputed with each axis rescaled by a power of two, which is exact and leaves IoU unchanged.
#pragma once

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore::detail {

struct Box {
  double x1, y1, x2, y2;
  double area;  ///< may be +inf (beyond the double range) or 0 (below it) for a non-empty box

  /// Zero width or height (inverted boxes included): overlaps nothing. Decided on the
  /// coordinates, not on `area`, which can underflow to 0 for a tiny but real box.
  bool empty() const { return !(x2 > x1 && y2 > y1); }
};

/// (x2 - x1) * (y2 - y1), 0 for an empty box. A side wider than the double range is computed
/// as (x2/2 - x1/2) * 2, so only an area that is itself beyond the range becomes +inf.
inline double clamped_area(double x1, double y1, double x2, double y2) {
  if (!(x2 > x1 && y2 > y1)) return 0.0;
  double w = x2 - x1, h = y2 - y1;
  int exponent = 0;
  if (w == INFINITY) w = 0.5 * x2 - 0.5 * x1, ++exponent;
  if (h == INFINITY) h = 0.5 * y2 - 0.5 * y1, ++exponent;
  return exponent == 0 ? w * h : std::ldexp(w * h, exponent);
}

template <class T>
Box load_box(const MatrixView<T>& boxes, int64_t i) {
  const double x1 = boxes(i, 0), y1 = boxes(i, 1), x2 = boxes(i, 2), y2 = boxes(i, 3);
  return {x1, y1, x2, y2, clamped_area(x1, y1, x2, y2)};
}

/// Boxes i in `indices`, in that order.
template <class T>
std::vector<Box> load_boxes(const MatrixView<T>& boxes, const std::vector<int64_t>& indices) {
  std::vector<Box> out;
  out.reserve(indices.size());
  for (int64_t i : indices) out.push_back(load_box(boxes, i));
  return out;
}

/// Scales four coordinates of one axis by the power of two that brings the largest magnitude
/// to [2^500, 2^501): sides then stay below 2^502 and areas below 2^1004.
inline void rescale_axis(double& a1, double& a2, double& b1, double& b2) {
  const double largest = std::max({std::fabs(a1), std::fabs(a2), std::fabs(b1), std::fabs(b2)});
  const int shift = 500 - std::ilogb(largest);
  a1 = std::scalbn(a1, shift), a2 = std::scalbn(a2, shift);
  b1 = std::scalbn(b1, shift), b2 = std::scalbn(b2, shift);
}

/// IoU of two overlapping boxes whose plain computation left the normal double range. Rare:
/// kept out of line so that the common path of iou() stays small enough to inline and vectorise.
[[gnu::cold, gnu::noinline]] inline double iou_rescaled(Box a, Box b) {
  rescale_axis(a.x1, a.x2, b.x1, b.x2);
  rescale_axis(a.y1, a.y2, b.y1, b.y2);
  const double inter = (std::min(a.x2, b.x2) - std::max(a.x1, b.x1)) * (std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double union_area = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return inter > 0.0 && union_area > 0.0 ? inter / union_area : 0.0;
}

/// Whether the boxes overlap with positive width and height; `inter` then holds the area shared.
inline bool intersect(const Box& a, const Box& b, double& inter) {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (!(w > 0.0)) return false;
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (!(h > 0.0)) return false;
  inter = w * h;
  return true;
}

/// inter / (area_a + area_b - inter); 0 when the boxes do not overlap.
inline double iou(const Box& a, const Box& b) {
  double inter = 0.0;
  if (!intersect(a, b, inter)) return 0.0;
  const double union_area = a.area + b.area - inter;
  // Every term normal and finite (always, for boxes of ordinary sizes): the plain formula is exact.
  if (inter >= DBL_MIN && union_area <= DBL_MAX) return inter / union_area;
  return iou_rescaled(a, b);
}

/// overlap_min's rescaled path (see iou_rescaled).
[[gnu::cold, gnu::noinline]] inline double overlap_min_rescaled(Box a, Box b) {
  rescale_axis(a.x1, a.x2, b.x1, b.x2);
  rescale_axis(a.y1, a.y2, b.y1, b.y2);
  const double inter = (std::min(a.x2, b.x2) - std::max(a.x1, b.x1)) * (std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double smaller = std::min((a.x2 - a.x1) * (a.y2 - a.y1), (b.x2 - b.x1) * (b.y2 - b.y1));
  return inter > 0.0 && smaller > 0.0 ? inter / smaller : 0.0;
}

/// inter / min(area_a, area_b) (MTCNN's "Min" overlap); 0 when the boxes do not overlap.
inline double overlap_min(const Box& a, const Box& b) {
  double inter = 0.0;
  if (!intersect(a, b, inter)) return 0.0;
  const double smaller = std::min(a.area, b.area);
  if (inter >= DBL_MIN && smaller <= DBL_MAX) return inter / smaller;
  return overlap_min_rescaled(a, b);
}

}  // namespace opticore::detail
