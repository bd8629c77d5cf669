// The greedy NMS loop shared by nms and batched_nms.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "boxes/detail/box.hpp"
#include "boxes/detail/box_grid.hpp"
#include "core/detail/check.hpp"
#include "opticore/core/view.hpp"

namespace opticore::detail {

/// Original indices of the boxes with score > score_threshold (all when none), sorted by
/// descending score, equal scores by ascending index.
template <class S>
std::vector<int64_t> indices_by_score(const VectorView<S>& scores, std::optional<double> score_threshold);

/// How two boxes' overlap is measured: IoU (nms), or intersection over the smaller area (nms_min).
enum class Overlap { Iou, Min };

/// Greedy NMS over `boxes`, already in visiting order (descending score): a box is dropped when
/// its overlap with a kept one is > threshold. Returns the positions (into `boxes`) of the kept
/// boxes, ascending, at most max_output of them.
std::vector<int64_t> greedy_nms(const std::vector<Box>& boxes, double threshold, int64_t max_output,
                                Overlap overlap = Overlap::Iou);

/// The checks nms, batched_nms and nms_min share; returns max_output with "none" as int64 max.
/// `threshold_name`: the overlap threshold's argument name.
template <class T, class S>
int64_t check_nms_arguments(const MatrixView<T>& boxes, const VectorView<S>& scores, double iou_threshold,
                            const std::optional<double>& score_threshold, const std::optional<int64_t>& max_output,
                            const char* threshold_name = "iou_threshold") {
  check_boxes(boxes, "boxes");
  check_scores(scores, boxes.rows, "scores");
  check_unit_interval(iou_threshold, threshold_name);
  if (score_threshold) check_finite(*score_threshold, "score_threshold");
  BoxGrid::check_capacity(boxes.rows);
  return check_max_output(max_output);
}

}  // namespace opticore::detail
