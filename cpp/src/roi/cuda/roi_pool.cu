// RoIPool forward and backward on a CUDA device (opticore/cuda/roi.hpp): one thread per output
// value, the bins of cpp/src/roi/detail/sampling.hpp.
#include <cfloat>

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

template <class T>
__global__ void forward(Array4View<T> input, const T* rois, int64_t total, RoiPoolOptions options, T* output,
                        int64_t* argmax) {
  const int64_t C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C, k = index / (PW * PH * C);
    T row[5];
    opticore::detail::roi_row(rois, 5, 1, k, row);
    const auto roi = opticore::detail::pooled_roi(row, options);
    int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
    opticore::detail::bin_cells(ph, roi.bin_height, roi.start_y, H, y0, y1);
    opticore::detail::bin_cells(pw, roi.bin_width, roi.start_x, W, x0, x1);
    const T* plane = input.data + roi.image * input.stride[0] + c * input.stride[1];
    T best = (y1 <= y0 || x1 <= x0) ? T(0) : T(-FLT_MAX);
    int64_t best_at = -1;
    for (int64_t y = y0; y < y1; ++y) {
      for (int64_t x = x0; x < x1; ++x) {
        const T value = plane[y * input.stride[2] + x * input.stride[3]];
        if (value > best) best = value, best_at = y * W + x;  // strict: first maximum, never NaN
      }
    }
    output[index] = best;
    argmax[index] = best_at;
  }
}

template <class T>
__global__ void backward(Array4View<T> grad_output, const int64_t* argmax, const T* rois, int64_t total, int64_t C,
                         int64_t H, int64_t W, int64_t PH, int64_t PW, T* grad_input, unsigned long long* first_bad) {
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t where = argmax[index];
    if (where == -1) continue;
    if (where < -1 || where >= H * W) {  // indices come from the caller: never write outside a plane
      atomicMin(first_bad, static_cast<unsigned long long>(index));
      continue;
    }
    const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C, k = index / (PW * PH * C);
    const int64_t image = static_cast<int64_t>(rois[5 * k]);
    const T g = grad_output.data[k * grad_output.stride[0] + c * grad_output.stride[1] + ph * grad_output.stride[2] +
                                 pw * grad_output.stride[3]];
    atomicAdd(grad_input + (image * C + c) * H * W + where, g);
  }
}

}  // namespace

template <class T>
void roi_pool(const Array4View<T>& input, const T* rois, int64_t num_rois, const RoiPoolOptions& options, T* output,
              int64_t* argmax, Stream stream) {
  opticore::detail::check_feature_shape("input", input.size[0], input.size[1], input.size[2], input.size[3]);
  opticore::detail::check_pooled_size(options.pooled_height, options.pooled_width);
  opticore::detail::check_spatial_scale(options.spatial_scale);
  detail::check_rois(rois, num_rois, input.size[0], options.spatial_scale, stream);
  const int64_t total = num_rois * input.size[1] * options.pooled_height * options.pooled_width;
  if (total == 0) return;
  forward<<<blocks_for(total), kThreads, 0, stream>>>(input, rois, total, options, output, argmax);
  detail::check_launch("roi_pool forward");
}

template <class T>
void roi_pool_backward(const Array4View<T>& grad_output, const int64_t* argmax, const T* rois, int64_t num_rois,
                       int64_t batch, int64_t channels, int64_t height, int64_t width, const RoiPoolOptions& options,
                       T* grad_input, Stream stream) {
  opticore::detail::check_feature_shape("input", batch, channels, height, width);
  opticore::detail::check_pooled_size(options.pooled_height, options.pooled_width);
  opticore::detail::check_spatial_scale(options.spatial_scale);
  opticore::detail::check_grad_output_shape(grad_output, num_rois, channels, options.pooled_height,
                                            options.pooled_width);
  detail::check_rois(rois, num_rois, batch, options.spatial_scale, stream);
  detail::check(cudaMemsetAsync(grad_input, 0, sizeof(T) * batch * channels * height * width, stream), "memset");
  const int64_t total = num_rois * channels * options.pooled_height * options.pooled_width;
  if (total == 0) return;
  detail::DeviceBuffer<unsigned long long> first_bad(1, stream);
  detail::check(cudaMemsetAsync(first_bad.get(), 0xff, sizeof(unsigned long long), stream), "memset");
  backward<<<blocks_for(total), kThreads, 0, stream>>>(grad_output, argmax, rois, total, channels, height, width,
                                                       options.pooled_height, options.pooled_width, grad_input,
                                                       first_bad.get());
  detail::check_launch("roi_pool backward");
  const unsigned long long bad = detail::read_back(first_bad.get(), stream);
  if (bad != detail::kNoRow) {
    opticore::detail::fail("argmax: expected indices in [-1, H * W) = [-1, ", height * width,
                           "), got a value outside at flat index ", bad);
  }
}

template void roi_pool<float>(const Array4View<float>&, const float*, int64_t, const RoiPoolOptions&, float*, int64_t*,
                              Stream);
template void roi_pool<double>(const Array4View<double>&, const double*, int64_t, const RoiPoolOptions&, double*,
                               int64_t*, Stream);
template void roi_pool_backward<float>(const Array4View<float>&, const int64_t*, const float*, int64_t, int64_t,
                                       int64_t, int64_t, int64_t, const RoiPoolOptions&, float*, Stream);
template void roi_pool_backward<double>(const Array4View<double>&, const int64_t*, const double*, int64_t, int64_t,
                                        int64_t, int64_t, int64_t, const RoiPoolOptions&, double*, Stream);

}  // namespace opticore::cuda
