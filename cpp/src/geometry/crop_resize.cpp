// Many boxes of one image resized to one size in one call: each box is resize() of its crop (a
// view into the image; a zero-padded copy when the box reaches outside), boxes over threads.
#include <algorithm>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/resize_kernels.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore {
namespace {

constexpr int64_t kMaxBoxCoordinate = int64_t{1} << 30;

void check_boxes(const MatrixView<int64_t>& boxes) {
  if (boxes.rows < 0 || boxes.cols != 4) {
    detail::fail("boxes: expected shape (N, 4), got (", boxes.rows, ", ", boxes.cols, ")");
  }
  for (int64_t i = 0; i < boxes.rows; ++i) {
    const int64_t x1 = boxes(i, 0), y1 = boxes(i, 1), x2 = boxes(i, 2), y2 = boxes(i, 3);
    for (int64_t v : {x1, y1, x2, y2}) {
      if (v < -kMaxBoxCoordinate || v > kMaxBoxCoordinate) {
        detail::fail("boxes: expected coordinates within +-2^30, got ", v, " at row ", i);
      }
    }
    if (x2 <= x1 || y2 <= y1) {
      detail::fail("boxes: expected x2 > x1 and y2 > y1, got (", x1, ", ", y1, ", ", x2, ", ", y2, ") at row ", i);
    }
  }
}

/// The box's pixels, zero outside the image, packed into `storage`.
template <class T>
ImageView<T> padded_crop(const ImageView<T>& im, int64_t x1, int64_t y1, int64_t x2, int64_t y2,
                         std::vector<T>& storage) {
  const int64_t w = x2 - x1, h = y2 - y1, C = im.channels;
  check_array_size("boxes", {h, w, C}, sizeof(T));
  storage.assign(static_cast<size_t>(h * w * C), T{0});
  const int64_t xa = std::max<int64_t>(x1, 0), xb = std::min(x2, im.width);
  for (int64_t y = std::max<int64_t>(y1, 0); y < std::min(y2, im.height); ++y) {
    for (int64_t x = xa; x < xb; ++x) {
      for (int64_t c = 0; c < C; ++c) storage[static_cast<size_t>(((y - y1) * w + (x - x1)) * C + c)] = im(y, x, c);
    }
  }
  return ImageView<T>(storage.data(), h, w, C);
}

}  // namespace

template <class T>
void crop_resize(ImageView<T> image, MatrixView<int64_t> boxes, T* dst, int64_t out_height, int64_t out_width,
                 Interpolation interpolation) {
  detail::check_image(image, INT64_MAX);
  check_boxes(boxes);
  if (out_width <= 0 || out_height <= 0) {
    detail::fail("out_size: expected positive width and height, got (", out_width, ", ", out_height, ")");
  }
  // resize's per-call working buffers (row caches, tap tables: a few values per output column),
  // named after the argument that sets them.
  check_array_size("out_size", {5, out_width * image.channels + 1}, sizeof(int64_t));
  check_array_size("out_size", {5, out_height}, sizeof(int64_t));
  if (boxes.rows == 0) return;
  if (dst == nullptr) detail::fail("dst: expected an allocated output");
  std::vector<T> packed;
  const ImageView<T> im = detail::channels_packed(image, packed);
  const int64_t C = im.channels, per_box = out_height * out_width * C;
  detail::parallel_for(boxes.rows, detail::rows_per_chunk(boxes.rows, per_box, 1), [&](int64_t begin, int64_t end) {
    std::vector<T> storage;
    for (int64_t i = begin; i < end; ++i) {
      const int64_t x1 = boxes(i, 0), y1 = boxes(i, 1), x2 = boxes(i, 2), y2 = boxes(i, 3);
      const bool inside = x1 >= 0 && y1 >= 0 && x2 <= im.width && y2 <= im.height;
      const ImageView<T> crop = inside ? ImageView<T>(im.data + y1 * im.row_stride + x1 * im.col_stride, y2 - y1,
                                                      x2 - x1, C, im.row_stride, im.col_stride, 1)
                                       : padded_crop(im, x1, y1, x2, y2, storage);
      detail::resize_view(crop, OutputImage<T>{dst + i * per_box, out_height, out_width, C}, interpolation, false);
    }
  });
}

template void crop_resize(ImageView<uint8_t>, MatrixView<int64_t>, uint8_t*, int64_t, int64_t, Interpolation);
template void crop_resize(ImageView<float>, MatrixView<int64_t>, float*, int64_t, int64_t, Interpolation);

}  // namespace opticore
