#include "opticore/boxes/batched_nms.hpp"

#include <algorithm>
#include <utility>

#include "boxes/detail/greedy_nms.hpp"
#include "core/detail/parallel.hpp"

namespace opticore {

template <class T, class S>
std::vector<int64_t> batched_nms(MatrixView<T> boxes, VectorView<S> scores, VectorView<int64_t> labels,
                                 double iou_threshold, const NmsOptions& options) {
  const int64_t max_output =
      detail::check_nms_arguments(boxes, scores, iou_threshold, options.score_threshold, options.max_output);
  if (labels.size != boxes.rows) {
    detail::fail("labels: expected ", boxes.rows, " values (one per box), got ", labels.size);
  }

  // Global visiting order, then the ranks in that order grouped by label: sorting (label, rank)
  // pairs keeps each group in visiting order, ready for the greedy loop as it is.
  const std::vector<int64_t> order = detail::indices_by_score(scores, options.score_threshold);
  std::vector<std::pair<int64_t, int64_t>> by_label(order.size());  // (label, rank)
  for (size_t r = 0; r < order.size(); ++r) by_label[r] = {labels[order[r]], static_cast<int64_t>(r)};
  std::sort(by_label.begin(), by_label.end());
  std::vector<int64_t> ranks(order.size());
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) into ranks
  for (size_t k = 0; k < by_label.size(); ++k) {
    ranks[k] = by_label[k].second;
    if (k == 0 || by_label[k].first != by_label[k - 1].first) groups.emplace_back(k, k);
    groups.back().second = k + 1;
  }

  // Each label on its own. A group can contribute at most max_output boxes to the global top
  // max_output, so capping every group at max_output is exact.
  std::vector<std::vector<int64_t>> kept_ranks(groups.size());
  const auto run_groups = [&](int64_t first, int64_t last) {
    for (int64_t g = first; g < last; ++g) {
      const auto [begin, end] = groups[static_cast<size_t>(g)];
      std::vector<detail::Box> group_boxes;
      group_boxes.reserve(end - begin);
      for (size_t r = begin; r < end; ++r) group_boxes.push_back(detail::load_box(boxes, order[ranks[r]]));
      std::vector<int64_t> kept = detail::greedy_nms(group_boxes, iou_threshold, max_output);
      for (int64_t& k : kept) k = ranks[begin + static_cast<size_t>(k)];
      kept_ranks[static_cast<size_t>(g)] = std::move(kept);
    }
  };
  const int64_t n_groups = static_cast<int64_t>(groups.size());
  detail::parallel_for(n_groups, std::max<int64_t>(1, n_groups / 64), run_groups);

  // Merge: ascending global rank is descending score with ties by lower index.
  std::vector<int64_t> merged;
  for (const auto& kept : kept_ranks) merged.insert(merged.end(), kept.begin(), kept.end());
  std::sort(merged.begin(), merged.end());
  if (static_cast<int64_t>(merged.size()) > max_output) merged.resize(static_cast<size_t>(max_output));
  for (int64_t& r : merged) r = order[static_cast<size_t>(r)];
  return merged;
}

#define OPTICORE_INSTANTIATE_BATCHED_NMS(T, S)                                                         \
  template std::vector<int64_t> batched_nms(MatrixView<T>, VectorView<S>, VectorView<int64_t>, double, \
                                            const NmsOptions&);
OPTICORE_INSTANTIATE_BATCHED_NMS(float, float)
OPTICORE_INSTANTIATE_BATCHED_NMS(float, double)
OPTICORE_INSTANTIATE_BATCHED_NMS(double, float)
OPTICORE_INSTANTIATE_BATCHED_NMS(double, double)
#undef OPTICORE_INSTANTIATE_BATCHED_NMS

}  // namespace opticore
