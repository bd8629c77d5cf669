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

  detail::align_forward(input, rois, options, C, 1, output);
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

  detail::align_backward(grad_output, rois, N, C, H, W, options, C, 1, grad_input);
}

template void roi_align<float>(const Array4View<float>&, const MatrixView<float>&, const RoiAlignOptions&, float*);
template void roi_align<double>(const Array4View<double>&, const MatrixView<double>&, const RoiAlignOptions&, double*);
template void roi_align_backward<float>(const Array4View<float>&, const MatrixView<float>&, int64_t, int64_t, int64_t,
                                        int64_t, const RoiAlignOptions&, float*);
template void roi_align_backward<double>(const Array4View<double>&, const MatrixView<double>&, int64_t, int64_t,
                                         int64_t, int64_t, const RoiAlignOptions&, double*);

}  // namespace opticore
