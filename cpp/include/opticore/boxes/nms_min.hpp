// MTCNN's last non-maximum suppression (Zhang et al. 2016, the "Min" mode of its reference code):
// greedy NMS whose overlap is the intersection over the SMALLER box's area, in inclusive pixel
// sizes (a box (x1, y1, x2, y2) is x2 - x1 + 1 wide and y2 - y1 + 1 high). A box nested inside a
// kept one has overlap 1 and is dropped whatever its size, which IoU would not do.
//
// Convention (otherwise nms's, opticore/boxes/nms.hpp):
//   - boxes (N, 4) as (x1, y1, x2, y2); a box whose inclusive width or height is <= 0 has no area:
//     it never suppresses and is never suppressed;
//   - boxes are visited by descending score, equal scores by ascending original index;
//   - a box is suppressed when its overlap with an already kept box is > threshold (strict);
//   - the result holds the kept boxes' original indices, by descending score.
//
// Requires: boxes.cols == 4, scores.size == boxes.rows, all values finite, threshold in [0, 1].
// Throws:   std::invalid_argument naming the argument otherwise. Empty input gives an empty result.
//
// Cost: nms's (a uniform grid of the kept boxes), O(N log N + N k).
#pragma once

#include <cstdint>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore {

/// Indices of the boxes kept by MTCNN's "Min" NMS. T: float or double; S: float or double.
template <class T, class S>
std::vector<int64_t> nms_min(MatrixView<T> boxes, VectorView<S> scores, double threshold);

}  // namespace opticore
