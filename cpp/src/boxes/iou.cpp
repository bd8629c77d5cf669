#include "opticore/boxes/iou.hpp"

#include <algorithm>

#include "boxes/detail/box.hpp"
#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"

namespace opticore {

template <class T>
void box_area(MatrixView<T> boxes, T* out) {
  detail::check_boxes(boxes, "boxes");
  for (int64_t i = 0; i < boxes.rows; ++i) out[i] = static_cast<T>(detail::load_box(boxes, i).area);
}

template <class T>
void box_iou(MatrixView<T> a, MatrixView<T> b, T* out) {
  detail::check_boxes(a, "boxes1");
  detail::check_boxes(b, "boxes2");
  std::vector<detail::Box> bs;
  bs.reserve(static_cast<size_t>(b.rows));
  for (int64_t j = 0; j < b.rows; ++j) bs.push_back(detail::load_box(b, j));
  const int64_t m = b.rows;
  // About 64k IoUs per chunk: small inputs stay on the calling thread.
  const int64_t rows_per_chunk = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(m, 1));
  detail::parallel_for(a.rows, rows_per_chunk, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const detail::Box box = detail::load_box(a, i);
      T* row = out + i * m;
      for (int64_t j = 0; j < m; ++j) row[j] = static_cast<T>(detail::iou(box, bs[static_cast<size_t>(j)]));
    }
  });
}

template void box_area(MatrixView<float>, float*);
template void box_area(MatrixView<double>, double*);
template void box_iou(MatrixView<float>, MatrixView<float>, float*);
template void box_iou(MatrixView<double>, MatrixView<double>, double*);

}  // namespace opticore
