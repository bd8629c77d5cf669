#include "opticore/boxes/nms.hpp"

#include "boxes/detail/greedy_nms.hpp"

namespace opticore {

template <class T, class S>
std::vector<int64_t> nms(MatrixView<T> boxes, VectorView<S> scores, double iou_threshold, const NmsOptions& options) {
  const int64_t max_output =
      detail::check_nms_arguments(boxes, scores, iou_threshold, options.score_threshold, options.max_output);
  const std::vector<int64_t> order = detail::indices_by_score(scores, options.score_threshold);
  std::vector<int64_t> kept = detail::greedy_nms(detail::load_boxes(boxes, order), iou_threshold, max_output);
  for (int64_t& k : kept) k = order[static_cast<size_t>(k)];  // positions in score order -> indices
  return kept;
}

#define OPTICORE_INSTANTIATE_NMS(T, S) \
  template std::vector<int64_t> nms(MatrixView<T>, VectorView<S>, double, const NmsOptions&);
OPTICORE_INSTANTIATE_NMS(float, float)
OPTICORE_INSTANTIATE_NMS(float, double)
OPTICORE_INSTANTIATE_NMS(double, float)
OPTICORE_INSTANTIATE_NMS(double, double)
#undef OPTICORE_INSTANTIATE_NMS

}  // namespace opticore
