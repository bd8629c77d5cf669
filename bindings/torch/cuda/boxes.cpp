// CUDA kernels of the NMS operators: check the tensors, call opticore::cuda on the current stream.
#include <torch/csrc/stable/accelerator.h>
#include <torch/csrc/stable/ops.h>

#include <optional>
#include <string>

#include "../cpu/tensor_args.hpp"
#include "boxes.hpp"
#include "opticore/cuda/boxes.hpp"
#include "stream.hpp"

namespace opticore::tensor {

using detail::ScalarType;

namespace {

Tensor run_nms(const Tensor& boxes_in, const Tensor& scores_in, const Tensor* labels_in, double iou_threshold,
               std::optional<double> score_threshold, std::optional<int64_t> max_output) {
  detail::check_float_tensor(boxes_in, "boxes", 2, "(N, 4)", &boxes_in, "boxes");
  detail::check_float_tensor(scores_in, "scores", 1, "(N,)", &boxes_in, "boxes");
  const int64_t n = boxes_in.size(0);
  if (boxes_in.size(1) != 4) detail::fail("boxes: expected shape (N, 4), got " + detail::shape_of(boxes_in));
  if (scores_in.size(0) != n) {
    detail::fail("scores: expected " + std::to_string(n) + " values (one per box), got " +
                 std::to_string(scores_in.size(0)));
  }
  // One computing type: float64 when the dtypes differ (exact for both, as on the CPU).
  const ScalarType type =
      boxes_in.scalar_type() == scores_in.scalar_type() ? boxes_in.scalar_type() : ScalarType::Double;
  const Tensor boxes = torch::stable::contiguous(torch::stable::to(boxes_in, type));
  const Tensor scores = torch::stable::contiguous(torch::stable::to(scores_in, type));
  std::optional<Tensor> labels;
  if (labels_in != nullptr) {
    if (!labels_in->is_cuda() || labels_in->dim() != 1 || labels_in->size(0) != n)
      detail::fail("labels: expected a CUDA tensor of shape (N,) on the device of boxes, got " +
                   detail::shape_of(*labels_in));
    labels = torch::stable::contiguous(torch::stable::to(*labels_in, ScalarType::Long));
  }
  torch::stable::accelerator::DeviceGuard guard(boxes.get_device_index());
  Tensor kept = torch::stable::new_empty(boxes, {n}, ScalarType::Long);
  const NmsOptions options{score_threshold, max_output};
  const int64_t count = detail::with_float_type(boxes, [&](auto t) {
    using T = decltype(t);
    return opticore::cuda::nms(boxes.const_data_ptr<T>(), scores.const_data_ptr<T>(),
                               labels ? labels->const_data_ptr<int64_t>() : nullptr, n, iou_threshold, options,
                               kept.mutable_data_ptr<int64_t>(), detail::current_cuda_stream(boxes.get_device_index()));
  });
  return torch::stable::narrow(kept, 0, 0, count);
}

}  // namespace

Tensor nms_cuda(const Tensor& boxes, const Tensor& scores, double iou_threshold, std::optional<double> score_threshold,
                std::optional<int64_t> max_output) {
  return run_nms(boxes, scores, nullptr, iou_threshold, score_threshold, max_output);
}

Tensor batched_nms_cuda(const Tensor& boxes, const Tensor& scores, const Tensor& labels, double iou_threshold,
                        std::optional<double> score_threshold, std::optional<int64_t> max_output) {
  if (!labels.defined() || !detail::is_integer(labels.scalar_type())) {
    detail::fail(std::string("labels: expected an integer tensor, got ") +
                 (labels.defined() ? detail::dtype_name(labels.scalar_type()) : "None"));
  }
  return run_nms(boxes, scores, &labels, iou_threshold, score_threshold, max_output);
}

}  // namespace opticore::tensor
