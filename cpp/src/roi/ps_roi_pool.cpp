#include "opticore/roi/ps_roi_pool.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/detail/vector_clones.hpp"
#include "roi/detail/roi_args.hpp"
#include "roi/detail/sampling.hpp"

namespace opticore {
namespace {

/// The cells of bin (ph, pw): rows [y0, y1) and columns [x0, x1), clipped to [0, H - 1) and
/// [0, W - 1) as torchvision clips them: the map's last row and column are never pooled.
struct Cells {
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
  bool empty() const { return y1 <= y0 || x1 <= x0; }
  int64_t count() const { return (y1 - y0) * (x1 - x0); }
};

template <class T>
Cells bin_cells(const detail::PooledRoi<T>& roi, int64_t ph, int64_t pw, int64_t H, int64_t W) {
  Cells cells;
  detail::bin_cells(ph, roi.bin_height, roi.start_y, std::max<int64_t>(H - 1, 0), cells.y0, cells.y1);
  detail::bin_cells(pw, roi.bin_width, roi.start_x, std::max<int64_t>(W - 1, 0), cells.x0, cells.x1);
  return cells;
}

/// Forward of one RoI for n_channels output channels; bin b's channels start at base + b * bin_step.
template <class T>
OPTICORE_VECTOR_CLONES void mean_bins(const T* features, int64_t row, int64_t col, int64_t bin_step,
                                      const detail::PooledRoi<T>& roi, int64_t PH, int64_t PW, int64_t H, int64_t W,
                                      int64_t n_channels, T* __restrict acc, T* out) {
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      const Cells cells = bin_cells(roi, ph, pw, H, W);
      const T* base = features + (ph * PW + pw) * bin_step;
      std::fill(acc, acc + n_channels, T(0));
      for (int64_t y = cells.y0; y < cells.y1; ++y) {
        for (int64_t x = cells.x0; x < cells.x1; ++x) {
          const T* v = base + y * row + x * col;
          for (int64_t c = 0; c < n_channels; ++c) acc[c] += v[c];
        }
      }
      const T area = static_cast<T>(std::max<int64_t>(cells.count(), 1));
      for (int64_t c = 0; c < n_channels; ++c) out[(c * PH + ph) * PW + pw] = cells.empty() ? T(0) : acc[c] / area;
    }
  }
}

/// Backward of mean_bins for RoI k: adds grad_output(k, c0 + c, ph, pw) / area to every cell of the bin.
template <class T>
OPTICORE_VECTOR_CLONES void spread_bins(const Array4View<T>& grad_output, int64_t k, int64_t c0, T* features,
                                        int64_t row, int64_t col, int64_t bin_step, const detail::PooledRoi<T>& roi,
                                        int64_t PH, int64_t PW, int64_t H, int64_t W, int64_t n_channels,
                                        T* __restrict g) {
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      const Cells cells = bin_cells(roi, ph, pw, H, W);
      if (cells.empty()) continue;
      const T area = static_cast<T>(cells.count());
      for (int64_t c = 0; c < n_channels; ++c) g[c] = grad_output(k, c0 + c, ph, pw) / area;
      T* base = features + (ph * PW + pw) * bin_step;
      for (int64_t y = cells.y0; y < cells.y1; ++y) {
        for (int64_t x = cells.x0; x < cells.x1; ++x) {
          T* v = base + y * row + x * col;
          for (int64_t c = 0; c < n_channels; ++c) v[c] += g[c];
        }
      }
    }
  }
}

template <class T>
int64_t check_arguments(const MatrixView<T>& rois, int64_t N, int64_t C, int64_t H, int64_t W,
                        const RoiPoolOptions& options) {
  detail::check_roi_arguments(rois, N, C, H, W, options.pooled_height, options.pooled_width, options.spatial_scale);
  return detail::position_sensitive_channels(C, options.pooled_height, options.pooled_width);
}

}  // namespace

template <class T>
void ps_roi_pool(const Array4View<T>& input, const MatrixView<T>& rois, const RoiPoolOptions& options, T* output) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  const int64_t C_out = check_arguments(rois, N, C, H, W, options), K = rois.rows;
  check_array_size("output_size", {K, C_out, PH, PW}, sizeof(T));
  if (K == 0 || C_out == 0) return;
  const detail::ChannelsLast<T> features = detail::channels_last(input, PH * PW);
  const int64_t block = detail::kRoiChannelBlock, blocks = (C_out + block - 1) / block;
  detail::parallel_for(K * blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> sums(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C_out - c0);
      const detail::PooledRoi<T> roi = detail::pooled_roi_at(rois, k, options, /*inclusive=*/false);
      const T* base = features.data + roi.image * features.image + c0;
      mean_bins(base, features.row, features.col, C_out, roi, PH, PW, H, W, n_channels, sums.data(),
                output + (k * C_out + c0) * PH * PW);
    }
  });
}

template <class T>
void ps_roi_pool_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                          int64_t height, int64_t width, const RoiPoolOptions& options, T* grad_input) {
  const int64_t N = batch, C = channels, H = height, W = width;
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  const int64_t C_out = check_arguments(rois, N, C, H, W, options), K = rois.rows;
  detail::check_grad_output_shape(grad_output, K, C_out, PH, PW);
  check_array_size("input", {N, C, H, W}, sizeof(T));
  std::vector<T> scratch(static_cast<size_t>(N * H * W * C));
  const auto by_image = detail::rois_by_image(rois, N);
  const int64_t block = detail::roi_channel_block(N, C_out), blocks = (C_out + block - 1) / block;
  detail::parallel_for(N * blocks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> grads(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C_out - c0);
      T* base = scratch.data() + n * H * W * C + c0;
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        spread_bins(grad_output, k, c0, base, W * C, C, C_out,
                    detail::pooled_roi_at(rois, k, options, /*inclusive=*/false), PH, PW, H, W, n_channels,
                    grads.data());
      }
    }
  });
  detail::channels_first(scratch.data(), N, C, H, W, grad_input, PH * PW);
}

template void ps_roi_pool<float>(const Array4View<float>&, const MatrixView<float>&, const RoiPoolOptions&, float*);
template void ps_roi_pool<double>(const Array4View<double>&, const MatrixView<double>&, const RoiPoolOptions&, double*);
template void ps_roi_pool_backward<float>(const Array4View<float>&, const MatrixView<float>&, int64_t, int64_t, int64_t,
                                          int64_t, const RoiPoolOptions&, float*);
template void ps_roi_pool_backward<double>(const Array4View<double>&, const MatrixView<double>&, int64_t, int64_t,
                                           int64_t, int64_t, const RoiPoolOptions&, double*);

}  // namespace opticore
