// The shapes of a deformable convolution (opticore/deform/deform_conv2d.hpp), checked once for
// the CPU and CUDA kernels alike.
#pragma once

#include <cstdint>

#include "core/detail/check.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/core/view.hpp"
#include "opticore/deform/deform_conv2d.hpp"
#include "roi/detail/sampling.hpp"  // OPTICORE_HOST_DEVICE

namespace opticore::detail {

/// The shapes of one call, checked.
struct DeformShape {
  int64_t N = 0, C_in = 0, H = 0, W = 0, C_out = 0, KH = 0, KW = 0, OH = 0, OW = 0;
  int64_t groups = 1, offset_groups = 1;
  OPTICORE_HOST_DEVICE int64_t taps() const { return KH * KW; }
  OPTICORE_HOST_DEVICE int64_t pixels() const { return OH * OW; }
  OPTICORE_HOST_DEVICE int64_t channels_per_offset_group() const { return C_in / offset_groups; }
};

template <class T>
DeformShape check_deform_shapes(const Array4View<T>& input, const Array4View<T>& weight, const Array4View<T>& offset,
                                const Array4View<T>* mask, const DeformConv2dOptions& options) {
  DeformShape s;
  s.N = input.size[0], s.C_in = input.size[1], s.H = input.size[2], s.W = input.size[3];
  s.C_out = weight.size[0], s.KH = weight.size[2], s.KW = weight.size[3];
  for (int d = 0; d < 4; ++d) {
    if (input.size[d] < 0 || weight.size[d] < 0 || offset.size[d] < 0) fail("input: negative size");
  }
  if (s.KH < 1 || s.KW < 1 || weight.size[1] < 1) {
    fail("weight: expected shape (C_out, C_in / groups, KH, KW) with positive sizes, got (", s.C_out, ", ",
         weight.size[1], ", ", s.KH, ", ", s.KW, ")");
  }
  if (s.C_in % weight.size[1] != 0) {
    fail("weight: expected size(1) to divide the input's ", s.C_in, " channels, got ", weight.size[1]);
  }
  s.groups = s.C_in / weight.size[1];
  if (s.groups < 1 || s.C_out % s.groups != 0) {
    fail("weight: expected C_out divisible by groups = ", s.groups, ", got ", s.C_out);
  }
  const Size2 out = deform_conv2d_output_size(s.H, s.W, s.KH, s.KW, options);
  s.OH = out.height, s.OW = out.width;
  const int64_t taps = s.taps();
  if (offset.size[0] != s.N || offset.size[1] % (2 * taps) != 0 || offset.size[1] == 0 || offset.size[2] != s.OH ||
      offset.size[3] != s.OW) {
    fail("offset: expected shape (", s.N, ", 2 * offset_groups * ", taps, ", ", s.OH, ", ", s.OW, "), got (",
         offset.size[0], ", ", offset.size[1], ", ", offset.size[2], ", ", offset.size[3], ")");
  }
  s.offset_groups = offset.size[1] / (2 * taps);
  if (s.C_in % s.offset_groups != 0) {
    fail("offset: expected offset_groups = ", s.offset_groups, " to divide the input's ", s.C_in, " channels");
  }
  if (mask != nullptr && (mask->size[0] != s.N || mask->size[1] != s.offset_groups * taps || mask->size[2] != s.OH ||
                          mask->size[3] != s.OW)) {
    fail("mask: expected shape (", s.N, ", ", s.offset_groups * taps, ", ", s.OH, ", ", s.OW, "), got (", mask->size[0],
         ", ", mask->size[1], ", ", mask->size[2], ", ", mask->size[3], ")");
  }
  check_array_size("output", {s.N, s.C_out, s.OH, s.OW}, sizeof(T));
  return s;
}

/// grad_output of the backward: (N, C_out, OH, OW).
template <class T>
void check_deform_grad_output(const Array4View<T>& grad_output, const DeformShape& s) {
  const int64_t expected[4] = {s.N, s.C_out, s.OH, s.OW};
  for (int d = 0; d < 4; ++d) {
    if (grad_output.size[d] != expected[d]) {
      fail("grad_output: expected shape (", s.N, ", ", s.C_out, ", ", s.OH, ", ", s.OW, "), got (", grad_output.size[0],
           ", ", grad_output.size[1], ", ", grad_output.size[2], ", ", grad_output.size[3], ")");
    }
  }
}

}  // namespace opticore::detail
