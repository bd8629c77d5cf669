#include "opticore/roi/roi_pool.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "core/detail/vector_clones.hpp"
#include "roi/detail/roi_args.hpp"
#include "roi/detail/sampling.hpp"

namespace opticore {
namespace {

/// The forward values of one RoI for n_channels channels: output / argmax[(c * PH + ph) * PW + pw],
/// the features read at base + y * row + x * col + c. best / best_at: n_channels values of scratch.
/// Within a bin the maximum's position is kept as an offset into the bin, in an integer of T's
/// width so that the compare-and-select loop vectorises.
template <class T, class Offset>
OPTICORE_VECTOR_CLONES void max_bins(const T* base, int64_t row, int64_t col, const detail::PooledRoi<T>& roi,
                                     int64_t PH, int64_t PW, int64_t H, int64_t W, int64_t n_channels,
                                     T* __restrict best, Offset* __restrict best_at, T* output, int64_t* argmax) {
  for (int64_t ph = 0; ph < PH; ++ph) {
    int64_t y0 = 0, y1 = 0;
    detail::bin_cells(ph, roi.bin_height, roi.start_y, H, y0, y1);
    for (int64_t pw = 0; pw < PW; ++pw) {
      int64_t x0 = 0, x1 = 0;
      detail::bin_cells(pw, roi.bin_width, roi.start_x, W, x0, x1);
      const bool empty = y1 <= y0 || x1 <= x0;
      std::fill(best, best + n_channels, empty ? T(0) : T(-FLT_MAX));
      std::fill(best_at, best_at + n_channels, Offset{-1});
      Offset offset = 0;  // (y - y0) * (x1 - x0) + (x - x0)
      for (int64_t y = y0; y < y1; ++y) {
        for (int64_t x = x0; x < x1; ++x, ++offset) {
          const T* v = base + y * row + x * col;
          for (int64_t c = 0; c < n_channels; ++c) {
            // Strictly greater: the first maximum wins ties, NaN is never taken. The offset is
            // blended through a mask: a conditional store would not vectorise.
            const T value = v[c], current = best[c];
            const Offset mask = -static_cast<Offset>(value > current);
            best[c] = value > current ? value : current;
            best_at[c] = (best_at[c] & ~mask) | (offset & mask);
          }
        }
      }
      const int64_t bin_width = std::max<int64_t>(x1 - x0, 1);
      for (int64_t c = 0; c < n_channels; ++c) {
        const int64_t o = best_at[c];
        output[(c * PH + ph) * PW + pw] = best[c];
        argmax[(c * PH + ph) * PW + pw] = o < 0 ? -1 : (y0 + o / bin_width) * W + x0 + o % bin_width;
      }
    }
  }
}

template <class T, class Offset>
void pool_forward(const detail::ChannelsLast<T>& features, const MatrixView<T>& rois, int64_t C, int64_t H, int64_t W,
                  const RoiPoolOptions& options, T* output, int64_t* argmax) {
  const int64_t K = rois.rows, PH = options.pooled_height, PW = options.pooled_width;
  const int64_t block = detail::kRoiChannelBlock, blocks = (C + block - 1) / block;
  detail::parallel_for(K * blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> maxima(static_cast<size_t>(block));
    std::vector<Offset> where(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C - c0);
      const detail::PooledRoi<T> roi = detail::pooled_roi_at(rois, k, options, /*inclusive=*/true);
      const int64_t at = (k * C + c0) * PH * PW;
      max_bins(features.data + roi.image * features.image + c0, features.row, features.col, roi, PH, PW, H, W,
               n_channels, maxima.data(), where.data(), output + at, argmax + at);
    }
  });
}

}  // namespace

template <class T>
void roi_pool(const Array4View<T>& input, const MatrixView<T>& rois, const RoiPoolOptions& options, T* output,
              int64_t* argmax) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  detail::check_roi_arguments(rois, N, C, H, W, PH, PW, options.spatial_scale);
  const int64_t K = rois.rows;
  check_array_size("output_size", {K, C, PH, PW}, sizeof(T) + sizeof(int64_t));
  if (K == 0 || C == 0) return;
  if (H == 0 || W == 0) {  // every bin is empty
    std::fill(output, output + K * C * PH * PW, T(0));
    std::fill(argmax, argmax + K * C * PH * PW, int64_t{-1});
    return;
  }

  const detail::ChannelsLast<T> features = detail::channels_last(input);
  // Offsets into a bin in int32 beside float32 (see max_bins); int64 where a bin may hold 2^31 cells.
  if (sizeof(T) == 4 && H * W < (int64_t{1} << 31)) {
    pool_forward<T, int32_t>(features, rois, C, H, W, options, output, argmax);
  } else {
    pool_forward<T, int64_t>(features, rois, C, H, W, options, output, argmax);
  }
}

template <class T>
void roi_pool_backward(const Array4View<T>& grad_output, const int64_t* argmax, const MatrixView<T>& rois,
                       int64_t batch, int64_t channels, int64_t height, int64_t width, const RoiPoolOptions& options,
                       T* grad_input) {
  const int64_t N = batch, C = channels, H = height, W = width;
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  detail::check_roi_arguments(rois, N, C, H, W, PH, PW, options.spatial_scale);
  const int64_t K = rois.rows;
  detail::check_grad_output_shape(grad_output, K, C, PH, PW);
  check_array_size("input", {N, C, H, W}, sizeof(T));
  std::fill(grad_input, grad_input + N * C * H * W, T(0));

  // Each task owns the channel block of one image and adds that image's RoIs in index order:
  // deterministic on any number of threads.
  const auto by_image = detail::rois_by_image(rois, N);
  const int64_t block = detail::roi_channel_block(N, C), blocks = (C + block - 1) / block;
  detail::parallel_for(N * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * block, c1 = std::min(C, c0 + block);
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        for (int64_t c = c0; c < c1; ++c) {
          T* plane = grad_input + (n * C + c) * H * W;
          const int64_t* where = argmax + (k * C + c) * PH * PW;
          for (int64_t ph = 0; ph < PH; ++ph) {
            for (int64_t pw = 0; pw < PW; ++pw) {
              const int64_t index = where[ph * PW + pw];
              if (index >= 0 && index < H * W) {
                plane[index] += grad_output(k, c, ph, pw);
              } else if (index != -1) {  // indices come from the caller: never write outside a plane
                detail::fail("argmax: expected indices in [-1, H * W) = [-1, ", H * W, "), got ", index, " at (", k,
                             ", ", c, ", ", ph, ", ", pw, ")");
              }
            }
          }
        }
      }
    }
  });
}

template void roi_pool<float>(const Array4View<float>&, const MatrixView<float>&, const RoiPoolOptions&, float*,
                              int64_t*);
template void roi_pool<double>(const Array4View<double>&, const MatrixView<double>&, const RoiPoolOptions&, double*,
                               int64_t*);
template void roi_pool_backward<float>(const Array4View<float>&, const int64_t*, const MatrixView<float>&, int64_t,
                                       int64_t, int64_t, int64_t, const RoiPoolOptions&, float*);
template void roi_pool_backward<double>(const Array4View<double>&, const int64_t*, const MatrixView<double>&, int64_t,
                                        int64_t, int64_t, int64_t, const RoiPoolOptions&, double*);

}  // namespace opticore
