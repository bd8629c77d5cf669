// Box operators on ATen tensors (opticore::torch). The same functions back the
// torch.ops.opticore.* operators registered by opticore::torch_ops.
//
// Conventions as in opticore/boxes/*.hpp: boxes (N, 4) x1, y1, x2, y2, float32 or float64, any
// strides; CPU tensors. Wrong dtypes raise c10::TypeError, wrong shapes or values c10::ValueError
// (TypeError / ValueError in Python).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

namespace opticore::tensor {

/// (N,) areas, dtype of boxes.
at::Tensor box_area(const at::Tensor& boxes);

/// (N, M) IoU; float64 when the dtypes differ.
at::Tensor box_iou(const at::Tensor& boxes1, const at::Tensor& boxes2);

/// int64 (K,) kept indices, by descending score.
at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold,
               std::optional<double> score_threshold = std::nullopt,
               std::optional<int64_t> max_output = std::nullopt);

/// int64 (K,) kept indices; labels (N,) any integer dtype.
at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& labels,
                       double iou_threshold, std::optional<double> score_threshold = std::nullopt,
                       std::optional<int64_t> max_output = std::nullopt);

/// (int64 indices (K,), decayed scores (K,) in the dtype of scores).
std::tuple<at::Tensor, at::Tensor> soft_nms(const at::Tensor& boxes, const at::Tensor& scores,
                                            std::string_view method = "gaussian", double sigma = 0.5,
                                            double iou_threshold = 0.3, double score_threshold = 0.001,
                                            std::optional<int64_t> max_output = std::nullopt);

}  // namespace opticore::tensor
