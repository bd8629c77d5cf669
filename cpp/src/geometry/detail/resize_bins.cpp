// "bins" resampling: torch's adaptive average pooling, which is what
// torch.nn.functional.interpolate(mode="area") computes (and what facenet-pytorch's MTCNN resizes
// with). Output pixel (y, x) is the plain mean of the source pixels in rows
// [floor(y * H / h), ceil((y + 1) * H / h)) and columns [floor(x * W / w), ceil((x + 1) * W / w)):
// every pixel a bin touches counts fully, so bins overlap where a side does not divide evenly (and
// always when enlarging). That is not OpenCV's INTER_AREA, which weighs partial pixels by their
// share; detectors trained on one are measurably sensitive to the other.
//
// Sums are exact (int64 for uint8, double for float32 values of a few hundred thousand pixels per
// bin), so the mean is rounded once: uint8 to nearest with halves up, float32 from double.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/resize_kernels.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/core/limits.hpp"

namespace opticore::detail {
namespace {

// Sides up to 2^31 keep index * size within int64.
constexpr int64_t kMaxBinsSide = int64_t{1} << 31;

/// Bin i < out over `in` source pixels: [begin[i], end[i]).
struct Bins {
  Bins(int64_t in, int64_t out) : begin(static_cast<size_t>(out)), end(static_cast<size_t>(out)) {
    if (in > kMaxBinsSide || out > kMaxBinsSide) {
      fail("dsize: \"bins\" takes sides up to 2^31, got ", in, " -> ", out);
    }
    for (int64_t i = 0; i < out; ++i) {
      begin[i] = i * in / out;
      end[i] = ((i + 1) * in + out - 1) / out;
    }
  }
  SmallBuffer<int64_t, kSmallTaps> begin, end;
};

template <class T>
using Sum = std::conditional_t<std::is_same_v<T, uint8_t>, int64_t, double>;

template <class T>
T mean(Sum<T> sum, int64_t count) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return static_cast<uint8_t>((2 * sum + count) / (2 * count));
  } else {
    return static_cast<T>(sum / static_cast<double>(count));
  }
}

}  // namespace

template <class T>
void resize_bins(const ImageView<T>& im, const OutputImage<T>& dst, bool parallel) {
  check_array_size("dsize", {2, dst.width}, sizeof(int64_t));
  const Bins bx(im.width, dst.width), by(im.height, dst.height);
  const int64_t C = im.channels, row_values = im.width * C;
  check_array_size("image", {row_values}, sizeof(Sum<T>));
  const auto body = [&](int64_t begin, int64_t end) {
    // Column sums of the output row's source rows, then bin sums along the row.
    std::vector<Sum<T>> columns(static_cast<size_t>(row_values));
    for (int64_t y = begin; y < end; ++y) {
      std::fill(columns.begin(), columns.end(), Sum<T>{0});
      for (int64_t sy = by.begin[y]; sy < by.end[y]; ++sy) {
        const T* src = im.data + sy * im.row_stride;
        if (im.col_stride == C) {
          for (int64_t v = 0; v < row_values; ++v) columns[v] += src[v];
        } else {
          for (int64_t x = 0; x < im.width; ++x) {
            for (int64_t c = 0; c < C; ++c) columns[x * C + c] += src[x * im.col_stride + c];
          }
        }
      }
      const int64_t rows = by.end[y] - by.begin[y];
      T* out = dst.data + y * dst.width * C;
      for (int64_t x = 0; x < dst.width; ++x) {
        Sum<T> sums[4] = {};  // per channel, the bin's columns read in memory order
        for (int64_t sx = bx.begin[x]; sx < bx.end[x]; ++sx) {
          for (int64_t c = 0; c < C; ++c) sums[c] += columns[sx * C + c];
        }
        const int64_t count = rows * (bx.end[x] - bx.begin[x]);
        for (int64_t c = 0; c < C; ++c) out[x * C + c] = mean<T>(sums[c], count);
      }
    }
  };
  if (parallel) {
    parallel_for(dst.height, rows_per_chunk(dst.height, dst.width, C), body);
  } else {
    body(0, dst.height);
  }
}

template void resize_bins(const ImageView<uint8_t>&, const OutputImage<uint8_t>&, bool);
template void resize_bins(const ImageView<float>&, const OutputImage<float>&, bool);

}  // namespace opticore::detail
