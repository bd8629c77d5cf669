// CPU kernels of the box operators: check the tensors, view them, call opticore::core.
#include "opticore/torch/boxes.hpp"

#include <string>
#include <utility>
#include <vector>

#include "opticore/boxes/batched_nms.hpp"
#include "opticore/boxes/box_loss.hpp"
#include "opticore/boxes/iou.hpp"
#include "opticore/boxes/iou_variants.hpp"
#include "opticore/boxes/nms.hpp"
#include "opticore/boxes/soft_nms.hpp"
#include "tensor_args.hpp"

namespace opticore::tensor {

using detail::ScalarType;

namespace {

void check_labels(const Tensor& labels) {
  if (!labels.defined()) detail::fail("labels: expected a tensor, got None");
  if (!detail::is_integer(labels.scalar_type()))
    detail::fail(std::string("labels: expected an integer tensor, got ") + detail::dtype_name(labels.scalar_type()));
  if (labels.dim() != 1) detail::fail("labels: expected shape (N,), got " + detail::shape_of(labels));
  if (!labels.is_cpu()) detail::fail("labels: expected a CPU tensor");
}

/// boxes1 and boxes2 checked, and both float64 when their dtypes differ.
std::pair<Tensor, Tensor> box_pair(const Tensor& boxes1, const Tensor& boxes2, const char* shape2) {
  detail::check_float_tensor(boxes1, "boxes1", 2, "(N, 4)");
  detail::check_float_tensor(boxes2, "boxes2", 2, shape2);
  if (boxes1.scalar_type() == boxes2.scalar_type()) return {boxes1, boxes2};
  return {torch::stable::to(boxes1, ScalarType::Double), torch::stable::to(boxes2, ScalarType::Double)};
}

}  // namespace

Tensor box_area(const Tensor& boxes) {
  detail::check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  Tensor out = torch::stable::empty({boxes.size(0)}, boxes.scalar_type());
  detail::with_float_type(boxes, [&](auto t) {
    using T = decltype(t);
    opticore::box_area(detail::matrix_view<T>(boxes), out.mutable_data_ptr<T>());
  });
  return out;
}

Tensor box_iou(const Tensor& boxes1_in, const Tensor& boxes2_in) {
  const auto [boxes1, boxes2] = box_pair(boxes1_in, boxes2_in, "(M, 4)");
  Tensor out = torch::stable::empty({boxes1.size(0), boxes2.size(0)}, boxes1.scalar_type());
  detail::with_float_type(boxes1, [&](auto t) {
    using T = decltype(t);
    opticore::box_iou(detail::matrix_view<T>(boxes1), detail::matrix_view<T>(boxes2), out.mutable_data_ptr<T>());
  });
  return out;
}

Tensor box_iou_variant(const Tensor& boxes1_in, const Tensor& boxes2_in, std::string kind, double eps) {
  const IouVariant variant = iou_variant(kind.c_str());
  const auto [boxes1, boxes2] = box_pair(boxes1_in, boxes2_in, "(M, 4)");
  Tensor out = torch::stable::empty({boxes1.size(0), boxes2.size(0)}, boxes1.scalar_type());
  detail::with_float_type(boxes1, [&](auto t) {
    using T = decltype(t);
    opticore::box_iou_variant(detail::matrix_view<T>(boxes1), detail::matrix_view<T>(boxes2), variant, eps,
                              out.mutable_data_ptr<T>());
  });
  return out;
}

Tensor box_loss(const Tensor& boxes1_in, const Tensor& boxes2_in, std::string kind, double eps) {
  const IouVariant variant = iou_variant(kind.c_str());
  const auto [boxes1, boxes2] = box_pair(boxes1_in, boxes2_in, "(N, 4)");
  Tensor out = torch::stable::empty({boxes1.size(0)}, boxes1.scalar_type());
  detail::with_float_type(boxes1, [&](auto t) {
    using T = decltype(t);
    opticore::box_loss(detail::matrix_view<T>(boxes1), detail::matrix_view<T>(boxes2), variant, eps,
                       out.mutable_data_ptr<T>());
  });
  return out;
}

std::tuple<Tensor, Tensor> box_loss_backward(const Tensor& grad_in, const Tensor& boxes1_in, const Tensor& boxes2_in,
                                             std::string kind, double eps) {
  const IouVariant variant = iou_variant(kind.c_str());
  const auto [boxes1, boxes2] = box_pair(boxes1_in, boxes2_in, "(N, 4)");
  detail::check_float_tensor(grad_in, "grad", 1, "(N,)");
  if (grad_in.size(0) != boxes1.size(0))
    detail::fail("grad: expected shape (" + std::to_string(boxes1.size(0)) + ",), got " + detail::shape_of(grad_in));
  const Tensor grad = torch::stable::contiguous(torch::stable::to(grad_in, boxes1.scalar_type()));
  Tensor grad1 = torch::stable::empty({boxes1.size(0), 4}, boxes1.scalar_type());
  Tensor grad2 = torch::stable::empty({boxes1.size(0), 4}, boxes1.scalar_type());
  detail::with_float_type(boxes1, [&](auto t) {
    using T = decltype(t);
    opticore::box_loss_backward(grad.const_data_ptr<T>(), detail::matrix_view<T>(boxes1),
                                detail::matrix_view<T>(boxes2), variant, eps, grad1.mutable_data_ptr<T>(),
                                grad2.mutable_data_ptr<T>());
  });
  return {grad1, grad2};
}

Tensor nms(const Tensor& boxes, const Tensor& scores, double iou_threshold, std::optional<double> score_threshold,
           std::optional<int64_t> max_output) {
  detail::check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  detail::check_float_tensor(scores, "scores", 1, "(N,)");
  const NmsOptions options{score_threshold, max_output};
  const std::vector<int64_t> kept = detail::with_float_type(boxes, [&](auto t) {
    return detail::with_float_type(scores, [&](auto s) {
      return opticore::nms(detail::matrix_view<decltype(t)>(boxes), detail::vector_view<decltype(s)>(scores),
                           iou_threshold, options);
    });
  });
  return detail::vector_tensor(kept, ScalarType::Long);
}

Tensor batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& labels_in, double iou_threshold,
                   std::optional<double> score_threshold, std::optional<int64_t> max_output) {
  detail::check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  detail::check_float_tensor(scores, "scores", 1, "(N,)");
  check_labels(labels_in);
  const Tensor labels =
      labels_in.scalar_type() == ScalarType::Long ? labels_in : torch::stable::to(labels_in, ScalarType::Long);
  const NmsOptions options{score_threshold, max_output};
  const std::vector<int64_t> kept = detail::with_float_type(boxes, [&](auto t) {
    return detail::with_float_type(scores, [&](auto s) {
      return opticore::batched_nms(detail::matrix_view<decltype(t)>(boxes), detail::vector_view<decltype(s)>(scores),
                                   detail::vector_view<int64_t>(labels), iou_threshold, options);
    });
  });
  return detail::vector_tensor(kept, ScalarType::Long);
}

std::tuple<Tensor, Tensor> soft_nms(const Tensor& boxes, const Tensor& scores, std::string method, double sigma,
                                    double iou_threshold, double score_threshold, std::optional<int64_t> max_output) {
  detail::check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  detail::check_float_tensor(scores, "scores", 1, "(N,)");
  const SoftNmsOptions options{soft_nms_method(method), sigma, iou_threshold, score_threshold, max_output};
  return detail::with_float_type(boxes, [&](auto t) {
    return detail::with_float_type(scores, [&](auto s) {
      using S = decltype(s);
      const auto result =
          opticore::soft_nms(detail::matrix_view<decltype(t)>(boxes), detail::vector_view<S>(scores), options);
      return std::make_tuple(detail::vector_tensor(result.indices, ScalarType::Long),
                             detail::vector_tensor(result.scores, scores.scalar_type()));
    });
  });
}

}  // namespace opticore::tensor
