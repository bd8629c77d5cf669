#include "opticore/roi/ps_roi_align.hpp"

#include <algorithm>
#include <vector>

#include "roi/detail/align_bins.hpp"
#include "roi/detail/roi_args.hpp"

namespace opticore {
namespace {

RoiAlignOptions align_options(const PsRoiAlignOptions& o) {
  return {o.pooled_height, o.pooled_width, o.spatial_scale, o.sampling_ratio, /*aligned=*/true};
}

}  // namespace

template <class T>
void ps_roi_align(const Array4View<T>& input, const MatrixView<T>& rois, const PsRoiAlignOptions& ps_options,
                  T* output) {
  const RoiAlignOptions options = align_options(ps_options);
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  detail::check_align_arguments(rois, N, C, H, W, options);
  const int64_t C_out = detail::position_sensitive_channels(C, PH, PW), K = rois.rows;
  check_array_size("output_size", {K, C_out, PH, PW}, sizeof(T));
  if (K == 0 || C_out == 0) return;
  if (H == 0 || W == 0) {
    std::fill(output, output + K * C_out * PH * PW, T(0));
    return;
  }
  const detail::ChannelsLast<T> features = detail::channels_last(input, PH * PW);
  const int64_t block = detail::kRoiChannelBlock, blocks = (C_out + block - 1) / block;
  detail::parallel_for(K * blocks, 1, [&](int64_t begin, int64_t end) {
    detail::AxisSamples<T> ys, xs;
    std::vector<T> sums(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C_out - c0);
      const detail::AlignedRoi<T> roi = detail::aligned_roi_at(rois, k, options);
      detail::axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
      detail::axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
      const T* base = features.data + roi.image * features.image + c0;
      detail::gather_bins(base, features.row, features.col, C_out, ys, xs, n_channels, roi.count, sums.data(),
                          output + (k * C_out + c0) * PH * PW);
    }
  });
}

template <class T>
void ps_roi_align_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                           int64_t height, int64_t width, const PsRoiAlignOptions& ps_options, T* grad_input) {
  const RoiAlignOptions options = align_options(ps_options);
  const int64_t N = batch, C = channels, H = height, W = width;
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  detail::check_align_arguments(rois, N, C, H, W, options);
  const int64_t C_out = detail::position_sensitive_channels(C, PH, PW), K = rois.rows;
  detail::check_grad_output_shape(grad_output, K, C_out, PH, PW);
  check_array_size("input", {N, C, H, W}, sizeof(T));

  // As roi_align_backward: each task owns one image's channel block (in every bin's group) and
  // adds its RoIs in index order, channels-last and regrouped; then transposed back.
  std::vector<T> scratch(static_cast<size_t>(N * H * W * C));
  const auto by_image = detail::rois_by_image(rois, N);
  const int64_t block = detail::roi_channel_block(N, C_out), blocks = (C_out + block - 1) / block;
  detail::parallel_for(N * blocks, 1, [&](int64_t begin, int64_t end) {
    detail::AxisSamples<T> ys, xs;
    std::vector<T> grads(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C_out - c0);
      T* base = scratch.data() + n * H * W * C + c0;
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        const detail::AlignedRoi<T> roi = detail::aligned_roi_at(rois, k, options);
        detail::axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
        detail::axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
        detail::scatter_bins(grad_output, k, c0, base, W * C, C, C_out, ys, xs, n_channels, roi.count, grads.data());
      }
    }
  });
  detail::channels_first(scratch.data(), N, C, H, W, grad_input, PH * PW);
}

template void ps_roi_align<float>(const Array4View<float>&, const MatrixView<float>&, const PsRoiAlignOptions&, float*);
template void ps_roi_align<double>(const Array4View<double>&, const MatrixView<double>&, const PsRoiAlignOptions&,
                                   double*);
template void ps_roi_align_backward<float>(const Array4View<float>&, const MatrixView<float>&, int64_t, int64_t,
                                           int64_t, int64_t, const PsRoiAlignOptions&, float*);
template void ps_roi_align_backward<double>(const Array4View<double>&, const MatrixView<double>&, int64_t, int64_t,
                                            int64_t, int64_t, const PsRoiAlignOptions&, double*);

}  // namespace opticore
