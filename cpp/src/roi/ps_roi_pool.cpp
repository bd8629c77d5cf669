#include "opticore/roi/ps_roi_pool.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

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

template <class T>
int64_t check_arguments(const MatrixView<T>& rois, int64_t N, int64_t C, int64_t H, int64_t W,
                        const RoiPoolOptions& options) {
  detail::check_roi_arguments(rois, N, C, H, W, options.pooled_height, options.pooled_width, options.spatial_scale);
  return detail::position_sensitive_channels(C, options.pooled_height, options.pooled_width);
}

/// The cells of every bin of every RoI, bin b = ph * PW + pw of RoI k at [k * PH * PW + b], and
/// each RoI's image: what the kernels need, computed once rather than per channel.
struct RoiCells {
  std::vector<Cells> cells;
  std::vector<int64_t> image;
};

template <class T>
RoiCells roi_cells(const MatrixView<T>& rois, const RoiPoolOptions& options, int64_t H, int64_t W) {
  const int64_t K = rois.rows, PH = options.pooled_height, PW = options.pooled_width;
  RoiCells out;
  out.cells.resize(static_cast<size_t>(K * PH * PW));
  out.image.resize(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) {
    const detail::PooledRoi<T> roi = detail::pooled_roi_at(rois, k, options, /*inclusive=*/false);
    out.image[static_cast<size_t>(k)] = roi.image;
    for (int64_t ph = 0; ph < PH; ++ph)
      for (int64_t pw = 0; pw < PW; ++pw)
        out.cells[static_cast<size_t>((k * PH + ph) * PW + pw)] = bin_cells(roi, ph, pw, H, W);
  }
  return out;
}

/// RoIs per forward task: enough to keep one output channel's score maps in cache across RoIs.
constexpr int64_t kRoisPerTask = 32;

}  // namespace

// Both passes read (write) the maps in place, one output channel at a time: its PH * PW score maps
// (one per bin) stay in cache while every RoI is pooled from them, each bin a few short runs of a
// row. No channels-last copy: a bin reads a map of its own, so nothing is shared between bins.

template <class T>
void ps_roi_pool(const Array4View<T>& input, const MatrixView<T>& rois, const RoiPoolOptions& options, T* output) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width, bins = PH * PW;
  const int64_t C_out = check_arguments(rois, N, C, H, W, options), K = rois.rows;
  check_array_size("output_size", {K, C_out, PH, PW}, sizeof(T));
  if (K == 0 || C_out == 0) return;
  const RoiCells rc = roi_cells(rois, options, H, W);
  const int64_t sy = input.stride[2], sx = input.stride[3], chunks = (K + kRoisPerTask - 1) / kRoisPerTask;
  detail::parallel_for(C_out * chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t c = task / chunks, k0 = (task % chunks) * kRoisPerTask, k1 = std::min(K, k0 + kRoisPerTask);
      for (int64_t k = k0; k < k1; ++k) {
        const T* maps = input.data + rc.image[static_cast<size_t>(k)] * input.stride[0] + c * bins * input.stride[1];
        const Cells* cells = rc.cells.data() + k * bins;
        T* out = output + (k * C_out + c) * bins;
        for (int64_t b = 0; b < bins; ++b) {
          const T* map = maps + b * input.stride[1];
          T sum = 0;
          for (int64_t y = cells[b].y0; y < cells[b].y1; ++y)
            for (int64_t x = cells[b].x0; x < cells[b].x1; ++x) sum += map[y * sy + x * sx];
          out[b] = cells[b].empty() ? T(0) : sum / static_cast<T>(cells[b].count());
        }
      }
    }
  });
}

template <class T>
void ps_roi_pool_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                          int64_t height, int64_t width, const RoiPoolOptions& options, T* grad_input) {
  const int64_t N = batch, C = channels, H = height, W = width;
  const int64_t PH = options.pooled_height, PW = options.pooled_width, bins = PH * PW;
  const int64_t C_out = check_arguments(rois, N, C, H, W, options), K = rois.rows;
  detail::check_grad_output_shape(grad_output, K, C_out, PH, PW);
  check_array_size("input", {N, C, H, W}, sizeof(T));
  std::fill(grad_input, grad_input + N * C * H * W, T(0));
  const RoiCells rc = roi_cells(rois, options, H, W);
  // Each task owns the score maps of one output channel of one image and adds that image's RoIs
  // in index order: deterministic on any number of threads.
  const auto by_image = detail::rois_by_image(rois, N);
  detail::parallel_for(N * C_out, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / C_out, c = task % C_out;
      T* maps = grad_input + (n * C + c * bins) * H * W;
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        const Cells* cells = rc.cells.data() + k * bins;
        for (int64_t b = 0; b < bins; ++b) {
          if (cells[b].empty()) continue;
          const T g = grad_output(k, c, b / PW, b % PW) / static_cast<T>(cells[b].count());
          T* map = maps + b * H * W;
          for (int64_t y = cells[b].y0; y < cells[b].y1; ++y)
            for (int64_t x = cells[b].x0; x < cells[b].x1; ++x) map[y * W + x] += g;
        }
      }
    }
  });
}

template void ps_roi_pool<float>(const Array4View<float>&, const MatrixView<float>&, const RoiPoolOptions&, float*);
template void ps_roi_pool<double>(const Array4View<double>&, const MatrixView<double>&, const RoiPoolOptions&, double*);
template void ps_roi_pool_backward<float>(const Array4View<float>&, const MatrixView<float>&, int64_t, int64_t, int64_t,
                                          int64_t, const RoiPoolOptions&, float*);
template void ps_roi_pool_backward<double>(const Array4View<double>&, const MatrixView<double>&, int64_t, int64_t,
                                           int64_t, int64_t, const RoiPoolOptions&, double*);

}  // namespace opticore
