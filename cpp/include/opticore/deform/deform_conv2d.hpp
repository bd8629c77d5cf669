// Deformable convolution (Dai et al. 2017, DCN v1) and its modulated form (Zhu et al. 2019,
// DCN v2): a convolution whose kernel taps are moved by learned per-pixel offsets and, in v2,
// scaled by learned per-pixel masks. The semantics are torchvision.ops.deform_conv2d's:
//   - input (N, C_in, H, W); weight (C_out, C_in / groups, KH, KW), groups = C_in / weight.size(1);
//   - output (N, C_out, OH, OW), OH = (H + 2 * padding_h - (dilation_h * (KH - 1) + 1)) / stride_h + 1
//     (floor), likewise OW;
//   - offset (N, 2 * offset_groups * KH * KW, OH, OW): for offset group g and tap k = i * KW + j,
//     channel 2 * (g * KH * KW + k) is the y shift and the next one the x shift; input channel c
//     belongs to offset group c / (C_in / offset_groups);
//   - mask (N, offset_groups * KH * KW, OH, OW), optional (v1 without it): channel g * KH * KW + k
//     scales tap k of group g;
//   - tap k of output pixel (oy, ox) samples y = oy * stride_h - padding_h + i * dilation_h + dy,
//     x = ox * stride_w - padding_w + j * dilation_w + dx bilinearly, with zeros outside the
//     image: a position with y <= -1, y >= H, x <= -1 or x >= W (or not finite) reads 0, and a
//     corner outside [0, H - 1] x [0, W - 1] contributes 0 (no clamping);
//   - output = bias + sum over taps and the group's input channels of weight * mask * sample.
// Positions and weights are computed in T, as torchvision does.
//
// Requires: every size >= 0, stride and dilation >= 1, padding >= 0, OH and OW >= 1; C_in and
//           C_out divisible by groups, C_in by offset_groups; offset / mask / bias shapes as above.
// Throws:   std::invalid_argument naming the argument otherwise.
//
// Cost: im2col on tiles of output pixels (the column buffer stays under kMaxDeformColumnBytes per
// thread), one GEMM per tile and group; the forward runs tiles in parallel, the backward runs each
// stage of a tile in parallel over what it owns (input channels, output pixels, weight rows), so
// it has no atomics and gives the same result on any number of threads.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"

namespace opticore {

/// The largest column buffer (bytes) one thread fills at a time.
inline constexpr int64_t kMaxDeformColumnBytes = int64_t{8} << 20;

struct DeformConv2dOptions {
  int64_t stride_h = 1, stride_w = 1;
  int64_t padding_h = 0, padding_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
};

/// (OH, OW) for an H x W input and a KH x KW kernel; throws when either is < 1.
struct Size2 {
  int64_t height = 0, width = 0;
};
Size2 deform_conv2d_output_size(int64_t height, int64_t width, int64_t kernel_h, int64_t kernel_w,
                                const DeformConv2dOptions& options);

/// Forward. `mask` and `bias` (C_out values) may be null. output (N, C_out, OH, OW) C-contiguous.
template <class T>
void deform_conv2d(const Array4View<T>& input, const Array4View<T>& weight, const Array4View<T>& offset,
                   const Array4View<T>* mask, const T* bias, const DeformConv2dOptions& options, T* output);

/// Where the backward writes: each pointer C-contiguous in the shape of its argument, or null when
/// that gradient is not wanted (bias: C_out values; mask: only with a mask).
template <class T>
struct DeformConv2dGrads {
  T* input = nullptr;
  T* weight = nullptr;
  T* offset = nullptr;
  T* mask = nullptr;
  T* bias = nullptr;
};

/// Backward: the gradients of sum(output * grad_output), grad_output (N, C_out, OH, OW) of any
/// strides. Every requested gradient is written in full.
template <class T>
void deform_conv2d_backward(const Array4View<T>& grad_output, const Array4View<T>& input, const Array4View<T>& weight,
                            const Array4View<T>& offset, const Array4View<T>* mask, const DeformConv2dOptions& options,
                            const DeformConv2dGrads<T>& grads);

}  // namespace opticore
