// Deformable convolution on torch tensors (opticore::torch), on LibTorch's stable ABI; the same
// functions back torch.ops.opticore.deform_conv2d and its backward operator. Semantics, argument
// rules and costs are those of opticore/deform/deform_conv2d.hpp.
//
// Tensors: float16, bfloat16, float32 or float64, any strides, CPU; half and bfloat16 are computed
// in float32 and rounded once. `mask` is read only when `use_mask`; `bias` (C_out,) is always
// given (zeros for none), as in torchvision's operator. Bad arguments throw std::invalid_argument.
#pragma once

#include <torch/csrc/stable/tensor.h>

#include <cstdint>
#include <tuple>

#include "opticore/torch/export.hpp"

namespace opticore::tensor {

using torch::stable::Tensor;

/// (N, C_out, OH, OW), dtype of input.
OPTICORE_TORCH_EXPORT Tensor deform_conv2d(const Tensor& input, const Tensor& weight, const Tensor& offset,
                                           const Tensor& mask, const Tensor& bias, int64_t stride_h, int64_t stride_w,
                                           int64_t padding_h, int64_t padding_w, int64_t dilation_h, int64_t dilation_w,
                                           bool use_mask);

/// (grad_input, grad_weight, grad_offset, grad_mask, grad_bias), each in the shape and dtype of its
/// argument (grad_mask zeros of mask's shape without use_mask).
OPTICORE_TORCH_EXPORT std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> deform_conv2d_backward(
    const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& offset, const Tensor& mask,
    const Tensor& bias, int64_t stride_h, int64_t stride_w, int64_t padding_h, int64_t padding_w, int64_t dilation_h,
    int64_t dilation_w, bool use_mask);

}  // namespace opticore::tensor
