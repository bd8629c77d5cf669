// Soft-NMS (Bodla et al., "Soft-NMS -- Improving Object Detection With One Line of Code", 2017).
//
// Repeatedly takes the remaining box with the highest current score (ties: lower original index),
// outputs it with that score, and decays the score s of every other remaining box b by its IoU
// with the taken box m:
//   gaussian: s <- s * exp(-IoU(m, b)^2 / sigma)                      (iou_threshold unused)
//   linear:   s <- s * (1 - IoU(m, b))   if IoU(m, b) > iou_threshold, else unchanged
// A box leaves as soon as its score is <= score_threshold (also before the first step), so every
// returned score is > score_threshold. Decays are computed in double and multiply in the order the
// boxes are taken, so the result equals the textbook O(N^2) loop exactly.
//
// Requires: boxes.cols == 4, scores.size == boxes.rows, finite values, sigma > 0,
//           iou_threshold in [0, 1], score_threshold finite, max_output >= 0 when given.
// Throws:   std::invalid_argument naming the argument otherwise.
//
// Cost: a max-tree over the scores and a uniform grid over the boxes, so each step touches only
// the boxes that overlap the taken one: O(N log N + P log N), P the number of overlapping pairs.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore {

enum class SoftNmsMethod { Linear, Gaussian };

/// The method named "gaussian" or "linear" (the bindings' spelling); throws std::invalid_argument
/// naming `method` otherwise.
SoftNmsMethod soft_nms_method(std::string_view name);

struct SoftNmsOptions {
  SoftNmsMethod method = SoftNmsMethod::Gaussian;
  double sigma = 0.5;              ///< gaussian decay width
  double iou_threshold = 0.3;      ///< linear decay applies above this IoU
  double score_threshold = 0.001;  ///< boxes whose score falls to <= this are dropped
  std::optional<int64_t> max_output;
};

template <class S>
struct SoftNmsResult {
  std::vector<int64_t> indices;  ///< original indices, in the order they were taken
  std::vector<S> scores;         ///< their decayed scores (non-increasing)
};

template <class T, class S>
SoftNmsResult<S> soft_nms(MatrixView<T> boxes, VectorView<S> scores, const SoftNmsOptions& options = {});

}  // namespace opticore
