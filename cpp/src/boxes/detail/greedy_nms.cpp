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

std::vector<int64_t> greedy_nms_scan(const std::vector<Box>& boxes, double iou_threshold, int64_t max_output) {
  std::vector<int64_t> kept;
  for (size_t i = 0; i < boxes.size() && static_cast<int64_t>(kept.size()) < max_output; ++i) {
    bool suppressed = false;
    for (int64_t k : kept) {
      if (iou(boxes[static_cast<size_t>(k)], boxes[i]) > iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(static_cast<int64_t>(i));
  }
  return kept;
}

}  // namespace

std::vector<int64_t> greedy_nms(const std::vector<Box>& boxes, double iou_threshold, int64_t max_output) {
  if (boxes.size() < kGridMinBoxes) return greedy_nms_scan(boxes, iou_threshold, max_output);

  BoxGrid grid(boxes);
  std::vector<int64_t> kept;
  for (size_t i = 0; i < boxes.size() && static_cast<int64_t>(kept.size()) < max_output; ++i) {
    const Box& candidate = boxes[i];
    const bool suppressed = grid.any_near(
        candidate, [&](int32_t k) { return iou(boxes[static_cast<size_t>(k)], candidate) > iou_threshold; });
    if (suppressed) continue;
    kept.push_back(static_cast<int64_t>(i));
    grid.insert(static_cast<int32_t>(i), candidate);
  }
  return kept;
}

}  // namespace opticore::detail
