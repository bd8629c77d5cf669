#include "detail/nms_min.hpp"

#include <algorithm>
#include <numeric>

namespace opticore::runtime::detail {

std::vector<int64_t> nms_min(MatrixView<double> boxes, VectorView<float> scores, double threshold) {
  const int64_t n = boxes.rows;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  std::vector<double> area(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    area[i] = std::max(boxes(i, 2) - boxes(i, 0) + 1.0, 0.0) * std::max(boxes(i, 3) - boxes(i, 1) + 1.0, 0.0);
  }
  std::vector<int64_t> kept;
  for (const int64_t i : order) {
    const bool suppressed = std::any_of(kept.begin(), kept.end(), [&](int64_t k) {
      const double w = std::max(std::min(boxes(k, 2), boxes(i, 2)) - std::max(boxes(k, 0), boxes(i, 0)) + 1.0, 0.0);
      const double h = std::max(std::min(boxes(k, 3), boxes(i, 3)) - std::max(boxes(k, 1), boxes(i, 1)) + 1.0, 0.0);
      const double smaller = std::min(area[k], area[i]);
      return smaller > 0.0 && w * h / smaller > threshold;
    });
    if (!suppressed) kept.push_back(i);
  }
  return kept;
}

}  // namespace opticore::runtime::detail
