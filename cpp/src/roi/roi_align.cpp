#include "opticore/roi/roi_align.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "roi/detail/align_bins.hpp"
#include "roi/detail/roi_args.hpp"

namespace opticore {

template <class T>
void roi_align(const Array4View<T>& input, const MatrixView<T>& rois, const RoiAlignOptions& options, T* output) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  detail::check_align_arguments(rois, N, C, H, W, options);
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
    detail::AxisSamples<T> ys, xs;
    std::vector<T> sums(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C - c0);
      const detail::AlignedRoi<T> roi = detail::aligned_roi_at(rois, k, options);
      detail::axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
      detail::axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
      const T* base = features.data + roi.image * features.image + c0;
      detail::gather_bins(base, features.row, features.col, 0, ys, xs, n_channels, roi.count, sums.data(),
                          output + (k * C + c0) * PH * PW);
    }
  });
}

template <class T>
void roi_align_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                        int64_t height, int64_t width, const RoiAlignOptions& options, T* grad_input) {
  const int64_t N = batch, C = channels, H = height, W = width;
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  detail::check_align_arguments(rois, N, C, H, W, options);
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
    detail::AxisSamples<T> ys, xs;
    std::vector<T> grads(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C - c0);
      T* base = accumulated + n * H * W * C + c0;
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        const detail::AlignedRoi<T> roi = detail::aligned_roi_at(rois, k, options);
        detail::axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
        detail::axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
        detail::scatter_bins(grad_output, k, c0, base, W * C, C, 0, ys, xs, n_channels, roi.count, grads.data());
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
