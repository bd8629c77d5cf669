// Box area and pairwise intersection-over-union.
//
// Convention: a box is a row (x1, y1, x2, y2) of an (N, 4) array, float or double. Its width is
// x2 - x1 and its height y2 - y1, both taken as 0 when negative: a box with x2 < x1 or y2 < y1 has
// zero area (never a negative or NaN one). IoU = inter / (area_a + area_b - inter), and 0 when the
// boxes do not overlap. Arithmetic is done in double, whatever the input type, and is exact to
// rounding for every finite box: coordinates near the double limits (1e308) or sizes below its
// normal range (denormal widths) are rescaled internally, never overflow. box_area returns +inf
// only when the area itself exceeds the output type's range (e.g. a float32 box 1e20 wide and
// 1e20 high), and 0 when it is below its smallest value.
//
// Requires: boxes.cols == 4 and every coordinate finite.
// Throws:   std::invalid_argument naming the argument otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "opticore/core/limits.hpp"
#include "opticore/core/view.hpp"

namespace opticore {

/// Areas of N boxes. `out` receives N values.
template <class T>
void box_area(MatrixView<T> boxes, T* out);

template <class T>
std::vector<T> box_area(MatrixView<T> boxes) {
  std::vector<T> out(static_cast<std::size_t>(boxes.rows));
  box_area(boxes, out.data());
  return out;
}

/// IoU of every box of `a` (N, 4) with every box of `b` (M, 4). `out` receives N * M values,
/// row-major: out[i * M + j] = IoU(a[i], b[j]). Large inputs are split over get_num_threads().
template <class T>
void box_iou(MatrixView<T> a, MatrixView<T> b, T* out);

template <class T>
std::vector<T> box_iou(MatrixView<T> a, MatrixView<T> b) {
  check_array_size("boxes1, boxes2", {a.rows, b.rows}, sizeof(T));
  std::vector<T> out(static_cast<std::size_t>(a.rows * b.rows));
  box_iou(a, b, out.data());
  return out;
}

}  // namespace opticore
