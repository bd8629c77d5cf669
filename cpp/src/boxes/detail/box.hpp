// The one definition of box geometry used by every box operator: a box copied to double, with its
// clamped area, and IoU computed the same way everywhere (so nms, soft_nms and box_iou agree).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore::detail {

struct Box {
  double x1, y1, x2, y2, area;
};

inline double clamped_area(double x1, double y1, double x2, double y2) {
  const double w = x2 - x1;
  const double h = y2 - y1;
  return (w > 0.0 && h > 0.0) ? w * h : 0.0;
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

/// inter / (area_a + area_b - inter); 0 when the boxes do not overlap or the union is empty.
inline double iou(const Box& a, const Box& b) {
  const double w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (!(w > 0.0)) return 0.0;
  const double h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (!(h > 0.0)) return 0.0;
  const double inter = w * h;
  const double union_area = a.area + b.area - inter;
  return union_area > 0.0 ? inter / union_area : 0.0;
}

}  // namespace opticore::detail
