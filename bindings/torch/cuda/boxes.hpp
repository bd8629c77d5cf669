// The CUDA kernels of torch.ops.opticore.nms / batched_nms (cuda/boxes.cpp), registered in
// register.cpp when opticore is built with CUDA kernels. Same schemas and rules as the CPU ones.
#pragma once

#include <torch/csrc/stable/tensor.h>

#include <cstdint>
#include <optional>

namespace opticore::tensor {

using torch::stable::Tensor;

Tensor nms_cuda(const Tensor& boxes, const Tensor& scores, double iou_threshold, std::optional<double> score_threshold,
                std::optional<int64_t> max_output);

Tensor batched_nms_cuda(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold,
                        std::optional<double> score_threshold, std::optional<int64_t> max_output);

}  // namespace opticore::tensor
