// RoI operators on torch tensors (opticore::torch), on LibTorch's stable ABI; the same functions
// back torch.ops.opticore.roi_align / roi_pool and their backward operators. Semantics, argument
// rules and costs are those of opticore/roi/roi_align.hpp and roi_pool.hpp.
//
// input (N, C, H, W): float16, bfloat16, float32 or float64, any strides (channels-last included);
// half and bfloat16 are computed in float32 (positions, weights and sums) and rounded once at the
// end. rois (K, 5) (batch_index, x1, y1, x2, y2): any float dtype, converted to the computing
// type. CPU tensors. Bad arguments throw std::invalid_argument naming the argument.
#pragma once

#include <torch/csrc/stable/tensor.h>

#include <cstdint>
#include <tuple>

#include "opticore/torch/export.hpp"

namespace opticore::tensor {

using torch::stable::Tensor;

/// (K, C, pooled_height, pooled_width), dtype of input.
OPTICORE_TORCH_EXPORT Tensor roi_align(const Tensor& input, const Tensor& rois, double spatial_scale,
                                       int64_t pooled_height, int64_t pooled_width, int64_t sampling_ratio,
                                       bool aligned);

/// The gradient with respect to the input (batch_size, channels, height, width), C-contiguous, dtype
/// of grad; grad (K, C, pooled_height, pooled_width) of any strides.
OPTICORE_TORCH_EXPORT Tensor roi_align_backward(const Tensor& grad, const Tensor& rois, double spatial_scale,
                                                int64_t pooled_height, int64_t pooled_width, int64_t batch_size,
                                                int64_t channels, int64_t height, int64_t width, int64_t sampling_ratio,
                                                bool aligned);

/// (output, argmax), both (K, C, pooled_height, pooled_width); argmax int64, the index y * W + x of
/// each maximum in its (n, c) plane, -1 for an empty bin.
OPTICORE_TORCH_EXPORT std::tuple<Tensor, Tensor> roi_pool(const Tensor& input, const Tensor& rois, double spatial_scale,
                                                          int64_t pooled_height, int64_t pooled_width);

/// The gradient with respect to the input (batch_size, channels, height, width).
OPTICORE_TORCH_EXPORT Tensor roi_pool_backward(const Tensor& grad, const Tensor& rois, const Tensor& argmax,
                                               double spatial_scale, int64_t pooled_height, int64_t pooled_width,
                                               int64_t batch_size, int64_t channels, int64_t height, int64_t width);

/// Position-sensitive RoIAlign: (K, C / (PH * PW), pooled_height, pooled_width), dtype of input.
OPTICORE_TORCH_EXPORT Tensor ps_roi_align(const Tensor& input, const Tensor& rois, double spatial_scale,
                                          int64_t pooled_height, int64_t pooled_width, int64_t sampling_ratio);

/// The gradient of ps_roi_align with respect to the input (batch_size, channels, height, width).
OPTICORE_TORCH_EXPORT Tensor ps_roi_align_backward(const Tensor& grad, const Tensor& rois, double spatial_scale,
                                                   int64_t pooled_height, int64_t pooled_width, int64_t batch_size,
                                                   int64_t channels, int64_t height, int64_t width,
                                                   int64_t sampling_ratio);

/// Position-sensitive RoI pooling (bin means): (K, C / (PH * PW), pooled_height, pooled_width).
OPTICORE_TORCH_EXPORT Tensor ps_roi_pool(const Tensor& input, const Tensor& rois, double spatial_scale,
                                         int64_t pooled_height, int64_t pooled_width);

/// The gradient of ps_roi_pool with respect to the input (batch_size, channels, height, width).
OPTICORE_TORCH_EXPORT Tensor ps_roi_pool_backward(const Tensor& grad, const Tensor& rois, double spatial_scale,
                                                  int64_t pooled_height, int64_t pooled_width, int64_t batch_size,
                                                  int64_t channels, int64_t height, int64_t width);

}  // namespace opticore::tensor
