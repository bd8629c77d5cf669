#include "opticore/boxes/nms_min.hpp"

#include <cstdint>

#include "boxes/detail/greedy_nms.hpp"

namespace opticore {

template <class T, class S>
std::vector<int64_t> nms_min(MatrixView<T> boxes, VectorView<S> scores, double threshold) {
  const int64_t all = detail::check_nms_arguments(boxes, scores, threshold, std::nullopt, std::nullopt, "threshold");
  const std::vector<int64_t> order = detail::indices_by_score(scores, std::nullopt);
  // Inclusive pixel sizes: the exclusive box one pixel larger to the right and below.
  std::vector<detail::Box> loaded;
  loaded.reserve(order.size());
  for (const int64_t i : order) {
    const double x1 = boxes(i, 0), y1 = boxes(i, 1), x2 = static_cast<double>(boxes(i, 2)) + 1.0,
                 y2 = static_cast<double>(boxes(i, 3)) + 1.0;
    loaded.push_back({x1, y1, x2, y2, detail::clamped_area(x1, y1, x2, y2)});
  }
  std::vector<int64_t> kept = detail::greedy_nms(loaded, threshold, all, detail::Overlap::Min);
  for (int64_t& k : kept) k = order[static_cast<size_t>(k)];
  return kept;
}

#define OPTICORE_INSTANTIATE_NMS_MIN(T, S) template std::vector<int64_t> nms_min(MatrixView<T>, VectorView<S>, double);
OPTICORE_INSTANTIATE_NMS_MIN(float, float)
OPTICORE_INSTANTIATE_NMS_MIN(float, double)
OPTICORE_INSTANTIATE_NMS_MIN(double, float)
OPTICORE_INSTANTIATE_NMS_MIN(double, double)
#undef OPTICORE_INSTANTIATE_NMS_MIN

}  // namespace opticore
