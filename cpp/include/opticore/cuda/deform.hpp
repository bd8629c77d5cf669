// Deformable convolution on a CUDA device, over raw device pointers and a stream, with the
// semantics of opticore/deform/deform_conv2d.hpp: im2col on tiles of output pixels (the CPU's
// sampling code, __host__ __device__), a tiled matrix product per group, and for the backward the
// column gradient scattered to the input with atomic adds (so its float sums are not in a fixed
// order; the CPU backward is deterministic), the offset and mask gradients one thread per tap and
// pixel. Views are device arrays of any strides; outputs C-contiguous on the device; `mask` and
// `bias` may be null, and so may any gradient not wanted. std::invalid_argument for bad shapes,
// std::runtime_error for a CUDA error. Compiled only when the build finds nvcc.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"
#include "opticore/cuda/stream.hpp"
#include "opticore/deform/deform_conv2d.hpp"

namespace opticore::cuda {

template <class T>
void deform_conv2d(const Array4View<T>& input, const Array4View<T>& weight, const Array4View<T>& offset,
                   const Array4View<T>* mask, const T* bias, const DeformConv2dOptions& options, T* output,
                   Stream stream);

template <class T>
void deform_conv2d_backward(const Array4View<T>& grad_output, const Array4View<T>& input, const Array4View<T>& weight,
                            const Array4View<T>& offset, const Array4View<T>* mask, const DeformConv2dOptions& options,
                            const DeformConv2dGrads<T>& grads, Stream stream);

}  // namespace opticore::cuda
