#include "boxes/detail/greedy_nms.hpp"

#include <algorithm>

namespace opticore::detail {

template <class S>
std::vector<int64_t> indices_by_score(const VectorView<S>& scores, std::optional<double> score_threshold) {
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(scores.size));
  for (int64_t i = 0; i < scores.size; ++i) {
    if (!score_threshold || static_cast<double>(scores[i]) > *score_threshold) order.push_back(i);
  }
  // Sort (score, index) pairs held together: one indirection less per comparison than sorting
  // indices through the strided scores.
  std::vector<std::pair<S, int64_t>> keyed(order.size());
  for (size_t k = 0; k < order.size(); ++k) keyed[k] = {scores[order[k]], order[k]};
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (size_t k = 0; k < keyed.size(); ++k) order[k] = keyed[k].second;
  return order;
}

template std::vector<int64_t> indices_by_score(const VectorView<float>&, std::optional<double>);
template std::vector<int64_t> indices_by_score(const VectorView<double>&, std::optional<double>);

namespace {

// Below this many boxes a plain scan of the kept list beats building a grid.
constexpr size_t kGridMinBoxes = 64;

// `suppresses(a, b)`: whether the candidate b is suppressed by the kept box a. A template parameter rather than
// a runtime choice, so that nms's IoU test stays inlined in its inner loop.
template <class Suppresses>
std::vector<int64_t> greedy_nms_scan(const std::vector<Box>& boxes, int64_t max_output, const Suppresses& suppresses) {
  std::vector<int64_t> kept;
  for (size_t i = 0; i < boxes.size() && static_cast<int64_t>(kept.size()) < max_output; ++i) {
    bool suppressed = false;
    for (int64_t k : kept) {
      if (suppresses(boxes[static_cast<size_t>(k)], boxes[i])) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(static_cast<int64_t>(i));
  }
  return kept;
}

template <class Suppresses>
std::vector<int64_t> greedy_nms_grid(const std::vector<Box>& boxes, int64_t max_output, const Suppresses& suppresses) {
  if (boxes.size() < kGridMinBoxes) return greedy_nms_scan(boxes, max_output, suppresses);

  BoxGrid grid(boxes);
  std::vector<int64_t> kept;
  for (size_t i = 0; i < boxes.size() && static_cast<int64_t>(kept.size()) < max_output; ++i) {
    const Box& candidate = boxes[i];
    const bool suppressed =
        grid.any_near(candidate, [&](int32_t k) { return suppresses(boxes[static_cast<size_t>(k)], candidate); });
    if (suppressed) continue;
    kept.push_back(static_cast<int64_t>(i));
    grid.insert(static_cast<int32_t>(i), candidate);
  }
  return kept;
}

}  // namespace

std::vector<int64_t> greedy_nms(const std::vector<Box>& boxes, double threshold, int64_t max_output, Overlap overlap) {
  // The grid finds every kept box sharing positive area with the candidate: both overlaps are 0
  // for any other, and a threshold >= 0 never suppresses at 0.
  if (overlap == Overlap::Min) {
    return greedy_nms_grid(boxes, max_output,
                           [&](const Box& a, const Box& b) { return overlap_min(a, b) > threshold; });
  }
  return greedy_nms_grid(boxes, max_output, [&](const Box& a, const Box& b) { return iou(a, b) > threshold; });
}

}  // namespace opticore::detail
