#include "opticore/roi/roi_align.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/detail/vector_clones.hpp"
#include "roi/detail/roi_args.hpp"
#include "roi/detail/sampling.hpp"

namespace opticore {
namespace {

/// The samples of one RoI along one axis that read the feature map, bin by bin: sample s reads
/// rows (or columns) low[s] and high[s] with weights w_low[s] and w_high[s]. Bilinear weights are
/// separable, so two of these describe every sample of every bin.
template <class T>
struct AxisSamples {
  std::vector<int64_t> begin;  ///< the samples of bin p are [begin[p], begin[p + 1])
  std::vector<int64_t> low, high;
  std::vector<T> w_low, w_high;
};

template <class T>
void axis_samples(T start, T bin_size, int64_t grid, int64_t bins, int64_t size, AxisSamples<T>& out) {
  out.begin.assign(1, 0);
  out.low.clear(), out.high.clear(), out.w_low.clear(), out.w_high.clear();
  for (int64_t p = 0; p < bins; ++p) {
    const T bin_start = start + static_cast<T>(p) * bin_size;
    int64_t first = 0, last = 0;
    detail::samples_inside(bin_start, bin_size, grid, size, first, last);
    for (int64_t i = first; i < last; ++i) {
      int64_t low = 0, high = 0;
      T w_low = 0, w_high = 0;
      detail::bilinear_pair(detail::sample_position(bin_start, bin_size, grid, i), size, low, high, w_low, w_high);
      out.low.push_back(low), out.high.push_back(high), out.w_low.push_back(w_low), out.w_high.push_back(w_high);
    }
    out.begin.push_back(static_cast<int64_t>(out.low.size()));
  }
}

/// The RoI k of a checked rois view, in feature-map coordinates.
template <class T>
detail::AlignedRoi<T> aligned_roi(const MatrixView<T>& rois, int64_t k, const RoiAlignOptions& options) {
  T row[5];
  detail::roi_row(rois.data, rois.row_stride, rois.col_stride, k, row);
  return detail::aligned_roi(row, options);
}

/// The forward values of one RoI for n_channels channels: out[(c * PH + ph) * PW + pw], the
/// features read at base + y * row + x * col + c. acc: n_channels values of scratch.
template <class T>
OPTICORE_VECTOR_CLONES void gather_bins(const T* base, int64_t row, int64_t col, const AxisSamples<T>& ys,
                                        const AxisSamples<T>& xs, int64_t n_channels, T count, T* __restrict acc,
                                        T* out) {
  const int64_t PH = static_cast<int64_t>(ys.begin.size()) - 1, PW = static_cast<int64_t>(xs.begin.size()) - 1;
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      std::fill(acc, acc + n_channels, T(0));
      for (int64_t sy = ys.begin[ph]; sy < ys.begin[ph + 1]; ++sy) {
        const T* row_low = base + ys.low[sy] * row;
        const T* row_high = base + ys.high[sy] * row;
        for (int64_t sx = xs.begin[pw]; sx < xs.begin[pw + 1]; ++sx) {
          const T w1 = ys.w_low[sy] * xs.w_low[sx], w2 = ys.w_low[sy] * xs.w_high[sx];
          const T w3 = ys.w_high[sy] * xs.w_low[sx], w4 = ys.w_high[sy] * xs.w_high[sx];
          const T* v1 = row_low + xs.low[sx] * col;
          const T* v2 = row_low + xs.high[sx] * col;
          const T* v3 = row_high + xs.low[sx] * col;
          const T* v4 = row_high + xs.high[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) acc[c] += w1 * v1[c] + w2 * v2[c] + w3 * v3[c] + w4 * v4[c];
        }
      }
      for (int64_t c = 0; c < n_channels; ++c) out[(c * PH + ph) * PW + pw] = acc[c] / count;
    }
  }
}

/// The backward of gather_bins for RoI k: adds grad_output(k, c0 + c, ph, pw) / count times each
/// sample's weights at base + y * row + x * col + c. g: n_channels values of scratch.
template <class T>
OPTICORE_VECTOR_CLONES void scatter_bins(const Array4View<T>& grad_output, int64_t k, int64_t c0, T* base, int64_t row,
                                         int64_t col, const AxisSamples<T>& ys, const AxisSamples<T>& xs,
                                         int64_t n_channels, T count, T* __restrict g) {
  const int64_t PH = static_cast<int64_t>(ys.begin.size()) - 1, PW = static_cast<int64_t>(xs.begin.size()) - 1;
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      if (ys.begin[ph] == ys.begin[ph + 1] || xs.begin[pw] == xs.begin[pw + 1]) continue;
      for (int64_t c = 0; c < n_channels; ++c) g[c] = grad_output(k, c0 + c, ph, pw) / count;
      for (int64_t sy = ys.begin[ph]; sy < ys.begin[ph + 1]; ++sy) {
        T* row_low = base + ys.low[sy] * row;
        T* row_high = base + ys.high[sy] * row;
        for (int64_t sx = xs.begin[pw]; sx < xs.begin[pw + 1]; ++sx) {
          const T w1 = ys.w_low[sy] * xs.w_low[sx], w2 = ys.w_low[sy] * xs.w_high[sx];
          const T w3 = ys.w_high[sy] * xs.w_low[sx], w4 = ys.w_high[sy] * xs.w_high[sx];
          // Four loops, not one: at the border two corners are the same value.
          T* v1 = row_low + xs.low[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v1[c] += w1 * g[c];
          T* v2 = row_low + xs.high[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v2[c] += w2 * g[c];
          T* v3 = row_high + xs.low[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v3[c] += w3 * g[c];
          T* v4 = row_high + xs.high[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v4[c] += w4 * g[c];
        }
      }
    }
  }
}

template <class T>
void check_arguments(const MatrixView<T>& rois, int64_t N, int64_t C, int64_t H, int64_t W,
                     const RoiAlignOptions& options) {
  if (options.sampling_ratio > kMaxSamplingRatio) {
    detail::fail("sampling_ratio: expected at most ", kMaxSamplingRatio, " (<= 0: adaptive), got ",
                 options.sampling_ratio);
  }
  detail::check_roi_arguments(rois, N, C, H, W, options.pooled_height, options.pooled_width, options.spatial_scale);
}

}  // namespace

template <class T>
void roi_align(const Array4View<T>& input, const MatrixView<T>& rois, const RoiAlignOptions& options, T* output) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  check_arguments(rois, N, C, H, W, options);
  const int64_t K = rois.rows;
  check_array_size("output_size", {K, C, PH, PW}, sizeof(T));
  if (K == 0 || C == 0) return;
  if (H == 0 || W == 0) {  // no sample reads an empty map
    std::fill(output, output + K * C * PH * PW, T(0));
    return;
  }

  const detail::ChannelsLast<T> features = detail::channels_last(input);
  const int64_t block = detail::kRoiChannelBlock, blocks = (C + block - 1) / block;
  detail::parallel_for(K * blocks, 1, [&](int64_t begin, int64_t end) {
    AxisSamples<T> ys, xs;
    std::vector<T> sums(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C - c0);
      const detail::AlignedRoi<T> roi = aligned_roi(rois, k, options);
      axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
      axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
      const T* base = features.data + roi.image * features.image + c0;
      gather_bins(base, features.row, features.col, ys, xs, n_channels, roi.count, sums.data(),
                  output + (k * C + c0) * PH * PW);
    }
  });
}

template <class T>
void roi_align_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                        int64_t height, int64_t width, const RoiAlignOptions& options, T* grad_input) {
  const int64_t N = batch, C = channels, H = height, W = width;
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  check_arguments(rois, N, C, H, W, options);
  const int64_t K = rois.rows;
  detail::check_grad_output_shape(grad_output, K, C, PH, PW);
  check_array_size("input", {N, C, H, W}, sizeof(T));

  // Each task owns the channel block of one image and adds that image's RoIs in index order: no
  // two threads write the same value and the sums are the same on any number of threads. The
  // gradient is accumulated channels-last (contiguous channels), then transposed.
  std::vector<T> scratch(C > 1 ? static_cast<size_t>(N * H * W * C) : 0);
  T* accumulated = C > 1 ? scratch.data() : grad_input;
  if (C <= 1) std::fill(grad_input, grad_input + N * C * H * W, T(0));
  const auto by_image = detail::rois_by_image(rois, N);
  const int64_t block = detail::roi_channel_block(N, C), blocks = (C + block - 1) / block;
  detail::parallel_for(N * blocks, 1, [&](int64_t begin, int64_t end) {
    AxisSamples<T> ys, xs;
    std::vector<T> grads(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C - c0);
      T* base = accumulated + n * H * W * C + c0;
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        const detail::AlignedRoi<T> roi = aligned_roi(rois, k, options);
        axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
        axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
        scatter_bins(grad_output, k, c0, base, W * C, C, ys, xs, n_channels, roi.count, grads.data());
      }
    }
  });
  if (C > 1) detail::channels_first(scratch.data(), N, C, H, W, grad_input);
}

template void roi_align<float>(const Array4View<float>&, const MatrixView<float>&, const RoiAlignOptions&, float*);
template void roi_align<double>(const Array4View<double>&, const MatrixView<double>&, const RoiAlignOptions&, double*);
template void roi_align_backward<float>(const Array4View<float>&, const MatrixView<float>&, int64_t, int64_t, int64_t,
                                        int64_t, const RoiAlignOptions&, float*);
template void roi_align_backward<double>(const Array4View<double>&, const MatrixView<double>&, int64_t, int64_t,
                                         int64_t, int64_t, const RoiAlignOptions&, double*);

}  // namespace opticore
