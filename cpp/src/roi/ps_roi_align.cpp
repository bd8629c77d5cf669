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
  detail::align_forward(input, rois, options, C_out, PH * PW, output);
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

  detail::align_backward(grad_output, rois, N, C, H, W, options, C_out, PH * PW, grad_input);
}

template void ps_roi_align<float>(const Array4View<float>&, const MatrixView<float>&, const PsRoiAlignOptions&, float*);
template void ps_roi_align<double>(const Array4View<double>&, const MatrixView<double>&, const PsRoiAlignOptions&,
                                   double*);
template void ps_roi_align_backward<float>(const Array4View<float>&, const MatrixView<float>&, int64_t, int64_t,
                                           int64_t, int64_t, const PsRoiAlignOptions&, float*);
template void ps_roi_align_backward<double>(const Array4View<double>&, const MatrixView<double>&, int64_t, int64_t,
                                            int64_t, int64_t, const PsRoiAlignOptions&, double*);

}  // namespace opticore
