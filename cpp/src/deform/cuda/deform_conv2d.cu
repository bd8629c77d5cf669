// Deformable convolution forward and backward on a CUDA device (opticore/cuda/deform.hpp).
#include <algorithm>

#include "core/cuda/device.cuh"
#include "deform/detail/sample.hpp"
#include "deform/detail/shape.hpp"
#include "opticore/cuda/deform.hpp"

namespace opticore::cuda {
namespace {

using detail::blocks_for;
using detail::DeviceBuffer;
using detail::kThreads;
using opticore::detail::DeformShape;

/// Element (n, c, y, x) of a device view (Array4View's operator() is host code).
template <class T>
__device__ T at(const Array4View<T>& v, int64_t n, int64_t c, int64_t y, int64_t x) {
  return v.data[n * v.stride[0] + c * v.stride[1] + y * v.stride[2] + x * v.stride[3]];
}

/// Where tap k of offset group g samples for output pixel `pixel` of image n.
template <class T>
__device__ opticore::detail::Sample<T> sample_at(const DeformShape& s, const Array4View<T>& offset, bool use_mask,
                                                 const Array4View<T>& mask, const DeformConv2dOptions& o, int64_t n,
                                                 int64_t g, int64_t k, int64_t pixel) {
  const int64_t taps = s.taps(), oy = pixel / s.OW, ox = pixel % s.OW, i = k / s.KW, j = k % s.KW;
  const T y =
      static_cast<T>(oy * o.stride_h - o.padding_h + i * o.dilation_h) + at(offset, n, 2 * (g * taps + k), oy, ox);
  const T x =
      static_cast<T>(ox * o.stride_w - o.padding_w + j * o.dilation_w) + at(offset, n, 2 * (g * taps + k) + 1, oy, ox);
  const T m = use_mask ? at(mask, n, g * taps + k, oy, ox) : T(1);
  return opticore::detail::make_sample(y, x, m, s.H, s.W);
}

/// columns[(c * taps + k) * count + p] for pixels [p0, p0 + count) of image n.
template <class T>
__global__ void im2col(DeformShape s, Array4View<T> input, Array4View<T> offset, bool use_mask, Array4View<T> mask,
                       DeformConv2dOptions o, int64_t n, int64_t p0, int64_t count, T* columns) {
  const int64_t taps = s.taps(), total = s.C_in * taps * count;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = index % count, k = (index / count) % taps, c = index / (count * taps);
    const auto a = sample_at(s, offset, use_mask, mask, o, n, c / s.channels_per_offset_group(), k, p0 + p);
    const T* v = input.data + n * input.stride[0] + c * input.stride[1] + a.y * input.stride[2] + a.x * input.stride[3];
    const int64_t down = a.dy * input.stride[2], across = a.dx * input.stride[3];
    columns[index] = a.w[0] * v[0] + a.w[1] * v[across] + a.w[2] * v[down] + a.w[3] * v[down + across];
  }
}

/// C (M x N, row stride ldc) = (accumulate ? C : 0) + A * B with A(i, k) = A[i * a_row + k * a_col]
/// and B(k, j) = B[k * b_row + j * b_col]: 16 x 16 tiles through shared memory.
constexpr int kTile = 16;
template <class T>
__global__ void matmul(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_row, int64_t a_col, const T* B,
                       int64_t b_row, int64_t b_col, T* C, int64_t ldc, bool accumulate) {
  __shared__ T a_tile[kTile][kTile];
  __shared__ T b_tile[kTile][kTile];
  const int64_t row = blockIdx.y * static_cast<int64_t>(kTile) + threadIdx.y;
  const int64_t col = blockIdx.x * static_cast<int64_t>(kTile) + threadIdx.x;
  T sum = 0;
  for (int64_t k0 = 0; k0 < K; k0 += kTile) {
    const int64_t ka = k0 + threadIdx.x, kb = k0 + threadIdx.y;
    a_tile[threadIdx.y][threadIdx.x] = row < M && ka < K ? A[row * a_row + ka * a_col] : T(0);
    b_tile[threadIdx.y][threadIdx.x] = kb < K && col < N ? B[kb * b_row + col * b_col] : T(0);
    __syncthreads();
    for (int q = 0; q < kTile; ++q) sum += a_tile[threadIdx.y][q] * b_tile[q][threadIdx.x];
    __syncthreads();
  }
  if (row < M && col < N) C[row * ldc + col] = accumulate ? C[row * ldc + col] + sum : sum;
}

template <class T>
void launch_matmul(int64_t M, int64_t N, int64_t K, const T* A, int64_t a_row, int64_t a_col, const T* B, int64_t b_row,
                   int64_t b_col, T* C, int64_t ldc, bool accumulate, Stream stream) {
  if (M == 0 || N == 0) return;
  const dim3 threads(kTile, kTile),
      blocks(static_cast<unsigned>((N + kTile - 1) / kTile), static_cast<unsigned>((M + kTile - 1) / kTile));
  matmul<<<blocks, threads, 0, stream>>>(M, N, K, A, a_row, a_col, B, b_row, b_col, C, ldc, accumulate);
  detail::check_launch("deform_conv2d matmul");
}

template <class T>
__global__ void add_bias(T* output, const T* bias, int64_t total, int64_t C_out, int64_t pixels) {
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    output[index] += bias[(index / pixels) % C_out];
  }
}

/// The column gradient scattered to the input planes (atomic adds), one thread per (c, k, p).
template <class T>
__global__ void col2im(DeformShape s, Array4View<T> offset, bool use_mask, Array4View<T> mask, DeformConv2dOptions o,
                       int64_t n, int64_t p0, int64_t count, const T* grad_columns, T* grad_input) {
  const int64_t taps = s.taps(), total = s.C_in * taps * count;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = index % count, k = (index / count) % taps, c = index / (count * taps);
    const auto a = sample_at(s, offset, use_mask, mask, o, n, c / s.channels_per_offset_group(), k, p0 + p);
    if (!a.inside) continue;
    const T g = grad_columns[index];
    T* v = grad_input + ((n * s.C_in + c) * s.H + a.y) * s.W + a.x;
    const int64_t down = a.dy * s.W, across = a.dx;
    if (a.corner[0]) atomicAdd(v, a.w[0] * g);
    if (a.corner[1]) atomicAdd(v + across, a.w[1] * g);
    if (a.corner[2]) atomicAdd(v + down, a.w[2] * g);
    if (a.corner[3]) atomicAdd(v + down + across, a.w[3] * g);
  }
}

/// The offset and mask gradients, one thread per (offset group, tap, pixel), summing its channels.
template <class T>
__global__ void coordinate_grads(DeformShape s, Array4View<T> input, Array4View<T> offset, bool use_mask,
                                 Array4View<T> mask, DeformConv2dOptions o, int64_t n, int64_t p0, int64_t count,
                                 const T* grad_columns, T* grad_offset, T* grad_mask) {
  const int64_t taps = s.taps(), total = s.offset_groups * taps * count, per_group = s.channels_per_offset_group();
  const int64_t OHW = s.pixels();
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = index % count, k = (index / count) % taps, g = index / (count * taps), pixel = p0 + p;
    const auto a = sample_at(s, offset, use_mask, mask, o, n, g, k, pixel);
    T d_y = 0, d_x = 0, d_mask = 0;
    if (a.inside) {
      const T hy = T(1) - a.ly, hx = T(1) - a.lx;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
        const T* v =
            input.data + n * input.stride[0] + c * input.stride[1] + a.y * input.stride[2] + a.x * input.stride[3];
        const int64_t down = a.dy * input.stride[2], across = a.dx * input.stride[3];
        const T v1 = a.corner[0] ? v[0] : T(0), v2 = a.corner[1] ? v[across] : T(0);
        const T v3 = a.corner[2] ? v[down] : T(0), v4 = a.corner[3] ? v[down + across] : T(0);
        const T gc = grad_columns[(c * taps + k) * count + p];
        d_y += gc * (-hx * v1 - a.lx * v2 + hx * v3 + a.lx * v4);
        d_x += gc * (-hy * v1 + hy * v2 - a.ly * v3 + a.ly * v4);
        d_mask += gc * (hy * hx * v1 + hy * a.lx * v2 + a.ly * hx * v3 + a.ly * a.lx * v4);
      }
    }
    if (grad_offset != nullptr) {
      T* go = grad_offset + (n * 2 * s.offset_groups * taps + 2 * (g * taps + k)) * OHW + pixel;
      go[0] = d_y * a.mask;
      go[OHW] = d_x * a.mask;
    }
    if (grad_mask != nullptr) grad_mask[(n * s.offset_groups * taps + g * taps + k) * OHW + pixel] = d_mask;
  }
}

template <class T>
__global__ void sum_bias(Array4View<T> grad_output, T* grad_bias) {
  const int64_t C_out = grad_output.size[1];
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < C_out;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T sum = 0;
    for (int64_t n = 0; n < grad_output.size[0]; ++n)
      for (int64_t y = 0; y < grad_output.size[2]; ++y)
        for (int64_t x = 0; x < grad_output.size[3]; ++x) sum += at(grad_output, n, o, y, x);
    grad_bias[o] = sum;
  }
}

/// grad_output's image n, pixels [p0, p0 + count), as a contiguous (C_out, count) matrix.
template <class T>
__global__ void gather_grad_output(Array4View<T> grad_output, int64_t n, int64_t p0, int64_t count, T* out) {
  const int64_t C_out = grad_output.size[1], W = grad_output.size[3], total = C_out * count;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t p = index % count, o = index / count, pixel = p0 + p;
    out[index] = at(grad_output, n, o, pixel / W, pixel % W);
  }
}

/// Pixels per tile: the column buffer within 256 MB.
int64_t tile_pixels(const DeformShape& s, int64_t item_bytes) {
  const int64_t rows = std::max<int64_t>(1, s.C_in * s.taps());
  return std::max<int64_t>(1, std::min(s.pixels(), (int64_t{256} << 20) / (rows * item_bytes)));
}

/// The weight as a C-contiguous (C_out, C_in / groups * taps) device matrix.
template <class T>
__global__ void pack_weight(Array4View<T> weight, T* out) {
  const int64_t per = weight.size[1], KH = weight.size[2], KW = weight.size[3];
  const int64_t total = weight.size[0] * per * KH * KW;
  for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
       index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = index % KW, i = (index / KW) % KH, c = (index / (KW * KH)) % per, o = index / (KW * KH * per);
    out[index] = at(weight, o, c, i, j);
  }
}

}  // namespace

template <class T>
void deform_conv2d(const Array4View<T>& input, const Array4View<T>& weight, const Array4View<T>& offset,
                   const Array4View<T>* mask, const T* bias, const DeformConv2dOptions& options, T* output,
                   Stream stream) {
  const DeformShape s = opticore::detail::check_deform_shapes(input, weight, offset, mask, options);
  if (s.N == 0 || s.C_out == 0) return;
  const int64_t taps = s.taps(), in_per_group = s.C_in / s.groups, out_per_group = s.C_out / s.groups;
  const int64_t depth = in_per_group * taps, OHW = s.pixels(), P = tile_pixels(s, sizeof(T));
  DeviceBuffer<T> w(s.C_out * depth, stream), columns(s.C_in * taps * P, stream);
  pack_weight<<<blocks_for(s.C_out * depth), kThreads, 0, stream>>>(weight, w.get());
  detail::check_launch("deform_conv2d pack_weight");
  const bool use_mask = mask != nullptr;
  const Array4View<T> mask_view = use_mask ? *mask : Array4View<T>();
  for (int64_t n = 0; n < s.N; ++n) {
    for (int64_t p0 = 0; p0 < OHW; p0 += P) {
      const int64_t count = std::min(P, OHW - p0);
      im2col<<<blocks_for(s.C_in * taps * count), kThreads, 0, stream>>>(s, input, offset, use_mask, mask_view, options,
                                                                         n, p0, count, columns.get());
      detail::check_launch("deform_conv2d im2col");
      for (int64_t g = 0; g < s.groups; ++g) {
        launch_matmul<T>(out_per_group, count, depth, w.get() + g * out_per_group * depth, depth, 1,
                         columns.get() + g * depth * count, count, 1,
                         output + (n * s.C_out + g * out_per_group) * OHW + p0, OHW, false, stream);
      }
    }
  }
  if (bias != nullptr) {
    const int64_t total = s.N * s.C_out * OHW;
    add_bias<<<blocks_for(total), kThreads, 0, stream>>>(output, bias, total, s.C_out, OHW);
    detail::check_launch("deform_conv2d bias");
  }
}

template <class T>
void deform_conv2d_backward(const Array4View<T>& grad_output, const Array4View<T>& input, const Array4View<T>& weight,
                            const Array4View<T>& offset, const Array4View<T>* mask, const DeformConv2dOptions& options,
                            const DeformConv2dGrads<T>& grads, Stream stream) {
  const DeformShape s = opticore::detail::check_deform_shapes(input, weight, offset, mask, options);
  opticore::detail::check_deform_grad_output(grad_output, s);
  const int64_t taps = s.taps(), in_per_group = s.C_in / s.groups, out_per_group = s.C_out / s.groups;
  const int64_t depth = in_per_group * taps, OHW = s.pixels(), P = tile_pixels(s, 2 * sizeof(T));
  if (grads.input)
    detail::check(cudaMemsetAsync(grads.input, 0, sizeof(T) * s.N * s.C_in * s.H * s.W, stream), "memset");
  if (grads.weight) detail::check(cudaMemsetAsync(grads.weight, 0, sizeof(T) * s.C_out * depth, stream), "memset");
  if (grads.bias && s.C_out > 0) {
    sum_bias<<<blocks_for(s.C_out), kThreads, 0, stream>>>(grad_output, grads.bias);
    detail::check_launch("deform_conv2d grad bias");
  }
  if (s.N == 0 || s.C_out == 0 || OHW == 0) return;
  DeviceBuffer<T> w(s.C_out * depth, stream), columns(s.C_in * taps * P, stream),
      grad_columns(s.C_in * taps * P, stream);
  DeviceBuffer<T> grad_out(s.C_out * P, stream);
  pack_weight<<<blocks_for(s.C_out * depth), kThreads, 0, stream>>>(weight, w.get());
  detail::check_launch("deform_conv2d pack_weight");
  const bool use_mask = mask != nullptr;
  const Array4View<T> mask_view = use_mask ? *mask : Array4View<T>();
  T* grad_mask = mask != nullptr ? grads.mask : nullptr;
  for (int64_t n = 0; n < s.N; ++n) {
    for (int64_t p0 = 0; p0 < OHW; p0 += P) {
      const int64_t count = std::min(P, OHW - p0);
      gather_grad_output<<<blocks_for(s.C_out * count), kThreads, 0, stream>>>(grad_output, n, p0, count,
                                                                               grad_out.get());
      detail::check_launch("deform_conv2d gather");
      if (grads.weight) {  // grad_w[g] += grad_out[g] * columns[g]^T
        im2col<<<blocks_for(s.C_in * taps * count), kThreads, 0, stream>>>(s, input, offset, use_mask, mask_view,
                                                                           options, n, p0, count, columns.get());
        detail::check_launch("deform_conv2d im2col");
        for (int64_t g = 0; g < s.groups; ++g) {
          launch_matmul<T>(out_per_group, depth, count, grad_out.get() + g * out_per_group * count, count, 1,
                           columns.get() + g * depth * count, 1, count, grads.weight + g * out_per_group * depth, depth,
                           true, stream);
        }
      }
      if (!grads.input && !grads.offset && !grad_mask) continue;
      for (int64_t g = 0; g < s.groups; ++g) {  // grad_columns[g] = w[g]^T * grad_out[g]
        launch_matmul<T>(depth, count, out_per_group, w.get() + g * out_per_group * depth, 1, depth,
                         grad_out.get() + g * out_per_group * count, count, 1, grad_columns.get() + g * depth * count,
                         count, false, stream);
      }
      if (grads.input) {
        col2im<<<blocks_for(s.C_in * taps * count), kThreads, 0, stream>>>(s, offset, use_mask, mask_view, options, n,
                                                                           p0, count, grad_columns.get(), grads.input);
        detail::check_launch("deform_conv2d col2im");
      }
      if (grads.offset || grad_mask) {
        coordinate_grads<<<blocks_for(s.offset_groups * taps * count), kThreads, 0, stream>>>(
            s, input, offset, use_mask, mask_view, options, n, p0, count, grad_columns.get(), grads.offset, grad_mask);
        detail::check_launch("deform_conv2d coordinate grads");
      }
    }
  }
}

template void deform_conv2d<float>(const Array4View<float>&, const Array4View<float>&, const Array4View<float>&,
                                   const Array4View<float>*, const float*, const DeformConv2dOptions&, float*, Stream);
template void deform_conv2d<double>(const Array4View<double>&, const Array4View<double>&, const Array4View<double>&,
                                    const Array4View<double>*, const double*, const DeformConv2dOptions&, double*,
                                    Stream);
template void deform_conv2d_backward<float>(const Array4View<float>&, const Array4View<float>&,
                                            const Array4View<float>&, const Array4View<float>&,
                                            const Array4View<float>*, const DeformConv2dOptions&,
                                            const DeformConv2dGrads<float>&, Stream);
template void deform_conv2d_backward<double>(const Array4View<double>&, const Array4View<double>&,
                                             const Array4View<double>&, const Array4View<double>&,
                                             const Array4View<double>*, const DeformConv2dOptions&,
                                             const DeformConv2dGrads<double>&, Stream);

}  // namespace opticore::cuda
