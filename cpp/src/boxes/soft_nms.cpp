#include "opticore/boxes/soft_nms.hpp"

#include <cmath>
#include <limits>

#include "boxes/detail/box_grid.hpp"
#include "boxes/detail/max_tree.hpp"
#include "core/detail/check.hpp"

namespace opticore {

SoftNmsMethod soft_nms_method(std::string_view name) {
  if (name == "gaussian") return SoftNmsMethod::Gaussian;
  if (name != "linear") detail::fail("method: expected 'gaussian' or 'linear', got '", name, "'");
  return SoftNmsMethod::Linear;
}

template <class T, class S>
SoftNmsResult<S> soft_nms(MatrixView<T> boxes, VectorView<S> scores, const SoftNmsOptions& options) {
  detail::check_boxes(boxes, "boxes");
  detail::check_scores(scores, boxes.rows, "scores");
  detail::check_positive(options.sigma, "sigma");
  detail::check_unit_interval(options.iou_threshold, "iou_threshold");
  detail::check_finite(options.score_threshold, "score_threshold");
  detail::BoxGrid::check_capacity(boxes.rows);
  const int64_t max_output = detail::check_max_output(options.max_output);
  const double floor = options.score_threshold;
  const bool gaussian = options.method == SoftNmsMethod::Gaussian;

  // Candidates in original order, so the tree's "lowest position wins ties" is "lowest index".
  std::vector<int64_t> index;
  std::vector<double> score;
  for (int64_t i = 0; i < boxes.rows; ++i) {
    if (static_cast<double>(scores[i]) > floor) {
      index.push_back(i);
      score.push_back(static_cast<double>(scores[i]));
    }
  }
  const std::vector<detail::Box> cand = detail::load_boxes(boxes, index);
  detail::BoxGrid grid(cand);
  for (size_t c = 0; c < cand.size(); ++c) grid.insert(static_cast<int32_t>(c), cand[c]);
  detail::MaxTree tree(score);

  // A box sits in several grid cells; `seen` stamps it with the step that last decayed it, so it
  // is decayed once per step.
  std::vector<int64_t> seen(cand.size(), -1);
  SoftNmsResult<S> result;
  for (int64_t step = 0; static_cast<int64_t>(result.indices.size()) < max_output; ++step) {
    const int64_t m = tree.argmax();
    if (m < 0) break;
    result.indices.push_back(index[static_cast<size_t>(m)]);
    result.scores.push_back(static_cast<S>(tree.value(m)));
    tree.set(m, -INFINITY);
    seen[static_cast<size_t>(m)] = step;

    const detail::Box& taken = cand[static_cast<size_t>(m)];
    grid.any_near(taken, [&](int32_t j) {
      if (seen[static_cast<size_t>(j)] == step) return false;
      seen[static_cast<size_t>(j)] = step;
      double s = tree.value(j);
      if (s == -INFINITY) return false;  // already taken or dropped
      const double overlap = detail::iou(taken, cand[static_cast<size_t>(j)]);
      // Weights of exactly 1 (no overlap, or linear below the threshold) change nothing.
      if (overlap == 0.0 || (!gaussian && !(overlap > options.iou_threshold))) return false;
      s *= gaussian ? std::exp(-(overlap * overlap) / options.sigma) : 1.0 - overlap;
      tree.set(j, s > floor ? s : -INFINITY);
      return false;
    });
  }
  return result;
}

#define OPTICORE_INSTANTIATE_SOFT_NMS(T, S) \
  template SoftNmsResult<S> soft_nms(MatrixView<T>, VectorView<S>, const SoftNmsOptions&);
OPTICORE_INSTANTIATE_SOFT_NMS(float, float)
OPTICORE_INSTANTIATE_SOFT_NMS(float, double)
OPTICORE_INSTANTIATE_SOFT_NMS(double, float)
OPTICORE_INSTANTIATE_SOFT_NMS(double, double)
#undef OPTICORE_INSTANTIATE_SOFT_NMS

}  // namespace opticore
