// RoIAlign and position-sensitive RoIAlign, forward and backward, on a CUDA device
// (opticore/cuda/roi.hpp): one thread per output value, the sampling rules of
// cpp/src/roi/detail/sampling.hpp. `groups` is 1 for RoIAlign; PH * PW for the position-sensitive
// form, where output channel c of bin (ph, pw) reads input channel c * groups + ph * PW + pw.
#include "core/cuda/device.cuh"
#include "core/detail/check.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/cuda/roi.hpp"
#include "roi/cuda/check_rois.cuh"
#include "roi/detail/roi_args.hpp"
#include "roi/detail/sampling.hpp"

namespace opticore::cuda {
namespace {

using detail::blocks_for;
using detail::kThreads;

/// Calls visit(offset, weight) for every bilinear tap of bin (ph, pw) of `roi`, offset being
/// y * stride_y + x * stride_x in a map of height x width cells.
template <class T, class Visit>
__device__ void for_each_tap(const opticore::detail::AlignedRoi<T>& roi, int64_t ph, int64_t pw, int64_t height,
                             int64_t width, int64_t stride_y, int64_t stride_x, Visit visit) {
  const T y_start = roi.start_y + static_cast<T>(ph) * roi.bin_height;
  const T x_start = roi.start_x + static_cast<T>(pw) * roi.bin_width;
  int64_t y_first = 0, y_last = 0, x_first = 0, x_last = 0;
  opticore::detail::samples_inside(y_start, roi.bin_height, roi.grid_height, height, y_first, y_last);
  opticore::detail::samples_inside(x_start, roi.bin_width, roi.grid_width, width, x_first, x_last);
  for (int64_t iy = y_first; iy < y_last; ++iy) {
    int64_t y_low = 0, y_high = 0;
    T wy_low = 0, wy_high = 0;
    opticore::detail::bilinear_pair(opticore::detail::sample_position(y_start, roi.bin_height, roi.grid_height, iy),
                                    height, y_low, y_high, wy_low, wy_high);
    for (int64_t ix = x_first; ix < x_last; ++ix) {
      int64_t x_low = 0, x_high = 0;
      T wx_low = 0, wx_high = 0;
      opticore::detail::bilinear_pair(opticore::detail::sample_position(x_start, roi.bin_width, roi.grid_width, ix),
                                      width, x_low, x_high, wx_low, wx_high);
      visit(y_low * stride_y + x_low * stride_x, wy_low * wx_low);
      visit(y_low * stride_y + x_high * stride_x, wy_low * wx_high);
      visit(y_high * stride_y + x_low * stride_x, wy_high * wx_low);
      visit(y_high * stride_y + x_high * stride_x, wy_high * wx_high);
    }
  }
}

template <class T>
__device__ opticore::detail::AlignedRoi<T> roi_at(const T* rois, int64_t k, const RoiAlignOptions& options) {
  T row[5];
  opticore::detail::roi_row(rois, 5, 1, k, row);
  return opticore::detail::aligned_roi(row, options);
}

/// The input channel that output channel c reads in bin (ph, pw).
__device__ int64_t input_channel(int64_t c, int64_t ph, int64_t pw, int64_t PW, int64_t groups) {
  return groups > 1 ? c * groups + ph * PW + pw : c;
}

template <class T>
__global__ void forward(Array4View<T> input, const T* rois, int64_t total, int64_t C, int64_t groups,
                        RoiAlignOptions options, T* output) {
  const int64_t H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C, k = index / (PW * PH * C);
    const auto roi = roi_at(rois, k, options);
    const T* plane = input.data + roi.image * input.stride[0] + input_channel(c, ph, pw, PW, groups) * input.stride[1];
    T sum = 0;
    // Taps in the CPU's order per sample (w1 v1 + w2 v2 + w3 v3 + w4 v4 summed per sample).
    T sample = 0;
    int tap = 0;
    for_each_tap(roi, ph, pw, H, W, input.stride[2], input.stride[3], [&](int64_t offset, T weight) {
      sample = tap == 0 ? weight * plane[offset] : sample + weight * plane[offset];
      if (++tap == 4) sum += sample, tap = 0;
    });
    output[index] = sum / roi.count;
  }
}

template <class T>
__global__ void backward(Array4View<T> grad_output, const T* rois, int64_t total, int64_t C, int64_t groups, int64_t H,
                         int64_t W, RoiAlignOptions options, T* grad_input) {
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C, k = index / (PW * PH * C);
    const auto roi = roi_at(rois, k, options);
    const T g = grad_output.data[k * grad_output.stride[0] + c * grad_output.stride[1] + ph * grad_output.stride[2] +
                                 pw * grad_output.stride[3]] /
                roi.count;
    T* plane = grad_input + (roi.image * C * (groups > 1 ? groups : 1) + input_channel(c, ph, pw, PW, groups)) * H * W;
    for_each_tap(roi, ph, pw, H, W, W, 1, [&](int64_t offset, T weight) { atomicAdd(plane + offset, weight * g); });
  }
}

void check_options(const RoiAlignOptions& options) {
  opticore::detail::check_pooled_size(options.pooled_height, options.pooled_width);
  opticore::detail::check_spatial_scale(options.spatial_scale);
  if (options.sampling_ratio > kMaxSamplingRatio) {
    opticore::detail::fail("sampling_ratio: expected at most ", kMaxSamplingRatio, " (<= 0: adaptive), got ",
                           options.sampling_ratio);
  }
}

/// Both forms: C_out output channels, `groups` input channels per output channel.
template <class T>
void align_forward(const Array4View<T>& input, const T* rois, int64_t num_rois, int64_t C_out, int64_t groups,
                   const RoiAlignOptions& options, T* output, Stream stream) {
  const int64_t total = num_rois * C_out * options.pooled_height * options.pooled_width;
  if (total == 0) return;
  forward<<<blocks_for(total), kThreads, 0, stream>>>(input, rois, total, C_out, groups, options, output);
  detail::check_launch("roi_align forward");
}

template <class T>
void align_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch, int64_t channels,
                    int64_t height, int64_t width, int64_t C_out, int64_t groups, const RoiAlignOptions& options,
                    T* grad_input, Stream stream) {
  opticore::detail::check_grad_output_shape(grad_output, num_rois, C_out, options.pooled_height, options.pooled_width);
  detail::check_rois(rois, num_rois, batch, options.spatial_scale, stream);
  detail::check(cudaMemsetAsync(grad_input, 0, sizeof(T) * batch * channels * height * width, stream), "memset");
  const int64_t total = num_rois * C_out * options.pooled_height * options.pooled_width;
  if (total == 0 || height == 0 || width == 0) return;
  backward<<<blocks_for(total), kThreads, 0, stream>>>(grad_output, rois, total, C_out, groups, height, width, options,
                                                       grad_input);
  detail::check_launch("roi_align backward");
}

RoiAlignOptions ps_options(const PsRoiAlignOptions& o) {
  return {o.pooled_height, o.pooled_width, o.spatial_scale, o.sampling_ratio, /*aligned=*/true};
}

}  // namespace

template <class T>
void roi_align(const Array4View<T>& input, const T* rois, int64_t num_rois, const RoiAlignOptions& options, T* output,
               Stream stream) {
  opticore::detail::check_feature_shape("input", input.size[0], input.size[1], input.size[2], input.size[3]);
  check_options(options);
  detail::check_rois(rois, num_rois, input.size[0], options.spatial_scale, stream);
  align_forward(input, rois, num_rois, input.size[1], 1, options, output, stream);
}

template <class T>
void roi_align_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch,
                        int64_t channels, int64_t height, int64_t width, const RoiAlignOptions& options, T* grad_input,
                        Stream stream) {
  opticore::detail::check_feature_shape("input", batch, channels, height, width);
  check_options(options);
  align_backward(grad_output, rois, num_rois, batch, channels, height, width, channels, 1, options, grad_input, stream);
}

template <class T>
void ps_roi_align(const Array4View<T>& input, const T* rois, int64_t num_rois, const PsRoiAlignOptions& ps, T* output,
                  Stream stream) {
  const RoiAlignOptions options = ps_options(ps);
  opticore::detail::check_feature_shape("input", input.size[0], input.size[1], input.size[2], input.size[3]);
  check_options(options);
  const int64_t C_out =
      opticore::detail::position_sensitive_channels(input.size[1], options.pooled_height, options.pooled_width);
  detail::check_rois(rois, num_rois, input.size[0], options.spatial_scale, stream);
  align_forward(input, rois, num_rois, C_out, options.pooled_height * options.pooled_width, options, output, stream);
}

template <class T>
void ps_roi_align_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch,
                           int64_t channels, int64_t height, int64_t width, const PsRoiAlignOptions& ps, T* grad_input,
                           Stream stream) {
  const RoiAlignOptions options = ps_options(ps);
  opticore::detail::check_feature_shape("input", batch, channels, height, width);
  check_options(options);
  const int64_t C_out =
      opticore::detail::position_sensitive_channels(channels, options.pooled_height, options.pooled_width);
  align_backward(grad_output, rois, num_rois, batch, channels, height, width, C_out,
                 options.pooled_height * options.pooled_width, options, grad_input, stream);
}

template void roi_align<float>(const Array4View<float>&, const float*, int64_t, const RoiAlignOptions&, float*, Stream);
template void roi_align<double>(const Array4View<double>&, const double*, int64_t, const RoiAlignOptions&, double*,
                                Stream);
template void roi_align_backward<float>(const Array4View<float>&, const float*, int64_t, int64_t, int64_t, int64_t,
                                        int64_t, const RoiAlignOptions&, float*, Stream);
template void roi_align_backward<double>(const Array4View<double>&, const double*, int64_t, int64_t, int64_t, int64_t,
                                         int64_t, const RoiAlignOptions&, double*, Stream);

template void ps_roi_align<float>(const Array4View<float>&, const float*, int64_t, const PsRoiAlignOptions&, float*,
                                  Stream);
template void ps_roi_align<double>(const Array4View<double>&, const double*, int64_t, const PsRoiAlignOptions&, double*,
                                   Stream);
template void ps_roi_align_backward<float>(const Array4View<float>&, const float*, int64_t, int64_t, int64_t, int64_t,
                                           int64_t, const PsRoiAlignOptions&, float*, Stream);
template void ps_roi_align_backward<double>(const Array4View<double>&, const double*, int64_t, int64_t, int64_t,
                                            int64_t, int64_t, const PsRoiAlignOptions&, double*, Stream);

}  // namespace opticore::cuda
