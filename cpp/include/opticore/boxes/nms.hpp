// Greedy non-maximum suppression.
//
// Convention (the same for nms and batched_nms):
//   - boxes (N, 4) as (x1, y1, x2, y2); IoU as in opticore/boxes/iou.hpp (inverted boxes have zero
//     area, so they never suppress and are never suppressed);
//   - boxes are visited by descending score, equal scores by ascending original index;
//   - a box is suppressed when its IoU with an already kept box is > iou_threshold (strict);
//   - with a score_threshold, only boxes with score > score_threshold (strict) take part;
//   - the result holds the kept boxes' original indices, by descending score (ties: lower index
//     first), at most max_output of them.
//
// Requires: boxes.cols == 4, scores.size == boxes.rows, all values finite,
//           iou_threshold in [0, 1], max_output >= 0 when given.
// Throws:   std::invalid_argument naming the argument otherwise. Empty input gives an empty result.
//
// Cost: sorting plus, for each candidate, a look-up of the kept boxes near it in a uniform grid,
// so O(N log N + N k) with k the number of kept neighbours, instead of O(N * kept).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore {

struct NmsOptions {
  std::optional<double> score_threshold;  ///< keep only boxes with score > this; none: no filter
  std::optional<int64_t> max_output;      ///< return at most this many indices; none: all
};

/// Indices of the boxes kept by greedy NMS. T: float or double; S: float or double.
template <class T, class S>
std::vector<int64_t> nms(MatrixView<T> boxes, VectorView<S> scores, double iou_threshold,
                         const NmsOptions& options = {});

}  // namespace opticore
