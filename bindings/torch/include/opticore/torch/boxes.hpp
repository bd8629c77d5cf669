// Box operators on torch tensors (opticore::torch), written against LibTorch's stable ABI
// (torch/csrc/stable): one build of this library loads on every torch from the target version
// (2.10) on. The same functions back the torch.ops.opticore.* operators.
//
// Conventions as in opticore/boxes/*.hpp: boxes (N, 4) x1, y1, x2, y2, float32 or float64, any
// strides; CPU tensors. Bad arguments throw std::invalid_argument whose message names the
// argument (through the dispatcher, a ValueError in Python; opticore's Python wrappers check
// the same rules first and raise TypeError for wrong types).
#pragma once

#include <torch/csrc/stable/tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "opticore/torch/export.hpp"

namespace opticore::tensor {

using torch::stable::Tensor;

/// (N,) areas, dtype of boxes.
OPTICORE_TORCH_EXPORT Tensor box_area(const Tensor& boxes);

/// (N, M) IoU; float64 when the dtypes differ.
OPTICORE_TORCH_EXPORT Tensor box_iou(const Tensor& boxes1, const Tensor& boxes2);

/// (N, M) GIoU / DIoU / CIoU (kind "generalized", "distance", "complete"); float64 when the dtypes differ.
OPTICORE_TORCH_EXPORT Tensor box_iou_variant(const Tensor& boxes1, const Tensor& boxes2, std::string kind, double eps);

/// (N,) GIoU / DIoU / CIoU losses of matched pairs; float64 when the dtypes differ.
OPTICORE_TORCH_EXPORT Tensor box_loss(const Tensor& boxes1, const Tensor& boxes2, std::string kind, double eps);

/// (dL/dboxes1, dL/dboxes2), each (N, 4) in the computing dtype, from grad = dL/dloss (N,).
OPTICORE_TORCH_EXPORT std::tuple<Tensor, Tensor> box_loss_backward(const Tensor& grad, const Tensor& boxes1,
                                                                   const Tensor& boxes2, std::string kind, double eps);

/// int64 (K,) kept indices, by descending score.
OPTICORE_TORCH_EXPORT Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold,
                                 std::optional<double> score_threshold = std::nullopt,
                                 std::optional<int64_t> max_output = std::nullopt);

/// int64 (K,) kept indices; labels (N,) any integer dtype.
OPTICORE_TORCH_EXPORT Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& labels,
                                         double iou_threshold, std::optional<double> score_threshold = std::nullopt,
                                         std::optional<int64_t> max_output = std::nullopt);

/// (int64 indices (K,), decayed scores (K,) in the dtype of scores).
OPTICORE_TORCH_EXPORT std::tuple<Tensor, Tensor> soft_nms(const Tensor& boxes, const Tensor& scores,
                                                          std::string method = "gaussian", double sigma = 0.5,
                                                          double iou_threshold = 0.3, double score_threshold = 0.001,
                                                          std::optional<int64_t> max_output = std::nullopt);

}  // namespace opticore::tensor
