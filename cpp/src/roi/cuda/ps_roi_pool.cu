// Position-sensitive RoI pooling forward and backward on a CUDA device (opticore/cuda/roi.hpp):
// one thread per output value, the RoI and bin rules of cpp/src/roi/detail/sampling.hpp, bins
// clipped to rows 0 .. H - 2 and columns 0 .. W - 2 as on the CPU (torchvision's forward).
#include <algorithm>

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

/// The cells of bin (ph, pw) of RoI k and the input channel it reads.
struct Bin {
  int64_t image = 0, channel = 0, y0 = 0, y1 = 0, x0 = 0, x1 = 0;
};

template <class T>
__device__ Bin bin_of(const T* rois, int64_t index, int64_t C_out, int64_t H, int64_t W,
                      const RoiPoolOptions& options) {
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C_out, k = index / (PW * PH * C_out);
  T row[5];
  opticore::detail::roi_row(rois, 5, 1, k, row);
  const auto roi = opticore::detail::pooled_roi(row, options, /*inclusive=*/false);
  Bin bin;
  bin.image = roi.image, bin.channel = (c * PH + ph) * PW + pw;
  opticore::detail::bin_cells(ph, roi.bin_height, roi.start_y, H > 1 ? H - 1 : 0, bin.y0, bin.y1);
  opticore::detail::bin_cells(pw, roi.bin_width, roi.start_x, W > 1 ? W - 1 : 0, bin.x0, bin.x1);
  return bin;
}

template <class T>
__global__ void forward(Array4View<T> input, const T* rois, int64_t total, int64_t C_out, RoiPoolOptions options,
                        T* output) {
  const int64_t H = input.size[2], W = input.size[3];
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Bin bin = bin_of(rois, index, C_out, H, W, options);
    const T* plane = input.data + bin.image * input.stride[0] + bin.channel * input.stride[1];
    T sum = 0;
    for (int64_t y = bin.y0; y < bin.y1; ++y)
      for (int64_t x = bin.x0; x < bin.x1; ++x) sum += plane[y * input.stride[2] + x * input.stride[3]];
    const int64_t cells = (bin.y1 - bin.y0) * (bin.x1 - bin.x0);
    output[index] = bin.y1 <= bin.y0 || bin.x1 <= bin.x0 ? T(0) : sum / static_cast<T>(cells);
  }
}

template <class T>
__global__ void backward(Array4View<T> grad_output, const T* rois, int64_t total, int64_t C_out, int64_t C, int64_t H,
                         int64_t W, RoiPoolOptions options, T* grad_input) {
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const Bin bin = bin_of(rois, index, C_out, H, W, options);
    if (bin.y1 <= bin.y0 || bin.x1 <= bin.x0) continue;
    const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C_out,
                  k = index / (PW * PH * C_out);
    const T g = grad_output.data[k * grad_output.stride[0] + c * grad_output.stride[1] + ph * grad_output.stride[2] +
                                 pw * grad_output.stride[3]] /
                static_cast<T>((bin.y1 - bin.y0) * (bin.x1 - bin.x0));
    T* plane = grad_input + (bin.image * C + bin.channel) * H * W;
    for (int64_t y = bin.y0; y < bin.y1; ++y)
      for (int64_t x = bin.x0; x < bin.x1; ++x) atomicAdd(plane + y * W + x, g);
  }
}

}  // namespace

template <class T>
void ps_roi_pool(const Array4View<T>& input, const T* rois, int64_t num_rois, const RoiPoolOptions& options, T* output,
                 Stream stream) {
  opticore::detail::check_feature_shape("input", input.size[0], input.size[1], input.size[2], input.size[3]);
  opticore::detail::check_spatial_scale(options.spatial_scale);
  const int64_t C_out =
      opticore::detail::position_sensitive_channels(input.size[1], options.pooled_height, options.pooled_width);
  detail::check_rois(rois, num_rois, input.size[0], options.spatial_scale, stream);
  const int64_t total = num_rois * C_out * options.pooled_height * options.pooled_width;
  if (total == 0) return;
  forward<<<blocks_for(total), kThreads, 0, stream>>>(input, rois, total, C_out, options, output);
  detail::check_launch("ps_roi_pool forward");
}

template <class T>
void ps_roi_pool_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch,
                          int64_t channels, int64_t height, int64_t width, const RoiPoolOptions& options, T* grad_input,
                          Stream stream) {
  opticore::detail::check_feature_shape("input", batch, channels, height, width);
  opticore::detail::check_spatial_scale(options.spatial_scale);
  const int64_t C_out =
      opticore::detail::position_sensitive_channels(channels, options.pooled_height, options.pooled_width);
  opticore::detail::check_grad_output_shape(grad_output, num_rois, C_out, options.pooled_height, options.pooled_width);
  detail::check_rois(rois, num_rois, batch, options.spatial_scale, stream);
  detail::check(cudaMemsetAsync(grad_input, 0, sizeof(T) * batch * channels * height * width, stream), "memset");
  const int64_t total = num_rois * C_out * options.pooled_height * options.pooled_width;
  if (total == 0 || height == 0 || width == 0) return;
  backward<<<blocks_for(total), kThreads, 0, stream>>>(grad_output, rois, total, C_out, channels, height, width,
                                                       options, grad_input);
  detail::check_launch("ps_roi_pool backward");
}

template void ps_roi_pool<float>(const Array4View<float>&, const float*, int64_t, const RoiPoolOptions&, float*,
                                 Stream);
template void ps_roi_pool<double>(const Array4View<double>&, const double*, int64_t, const RoiPoolOptions&, double*,
                                  Stream);
template void ps_roi_pool_backward<float>(const Array4View<float>&, const float*, int64_t, int64_t, int64_t, int64_t,
                                          int64_t, const RoiPoolOptions&, float*, Stream);
template void ps_roi_pool_backward<double>(const Array4View<double>&, const double*, int64_t, int64_t, int64_t, int64_t,
                                           int64_t, const RoiPoolOptions&, double*, Stream);

}  // namespace opticore::cuda
