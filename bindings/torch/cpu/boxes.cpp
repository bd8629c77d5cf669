// CPU kernels of the box operators: check the tensors, view them, call opticore::core.
#include "opticore/torch/boxes.hpp"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "opticore/boxes/batched_nms.hpp"
#include "opticore/boxes/iou.hpp"
#include "opticore/boxes/nms.hpp"
#include "opticore/boxes/soft_nms.hpp"

namespace opticore::tensor {
namespace {

void check_float_tensor(const at::Tensor& t, const char* name, int64_t dim, const char* shape) {
  TORCH_CHECK_TYPE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble, name,
                   ": expected float32 or float64, got ", c10::getDtypeNames(t.scalar_type()).first);
  TORCH_CHECK_VALUE(t.dim() == dim, name, ": expected shape ", shape, ", got ", t.sizes());
  TORCH_CHECK_VALUE(t.device().is_cpu(), name, ": expected a CPU tensor, got device ", t.device());
}

template <class T>
MatrixView<T> matrix_view(const at::Tensor& t) {
  return {t.const_data_ptr<T>(), t.size(0), t.size(1), t.stride(0), t.stride(1)};
}

template <class T>
VectorView<T> vector_view(const at::Tensor& t) {
  return {t.const_data_ptr<T>(), t.size(0), t.stride(0)};
}

/// Runs a core call, turning its std::invalid_argument into c10::ValueError (Python ValueError).
template <class F>
decltype(auto) core_call(F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

/// Calls f(T{}) with T the C++ type of a float32 / float64 tensor.
template <class F>
decltype(auto) with_float_type(const at::Tensor& t, F&& f) {
  if (t.scalar_type() == at::kFloat) return f(float{});
  return f(double{});
}

at::Tensor indices_tensor(const std::vector<int64_t>& kept) {
  at::Tensor out = at::empty({static_cast<int64_t>(kept.size())}, at::kLong);
  std::copy(kept.begin(), kept.end(), out.data_ptr<int64_t>());
  return out;
}

SoftNmsMethod parse_method(std::string_view method) {
  if (method == "gaussian") return SoftNmsMethod::Gaussian;
  TORCH_CHECK_VALUE(method == "linear", "method: expected 'gaussian' or 'linear', got '", std::string(method), "'");
  return SoftNmsMethod::Linear;
}

}  // namespace

at::Tensor box_area(const at::Tensor& boxes) {
  check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  at::Tensor out = at::empty({boxes.size(0)}, boxes.options());
  with_float_type(boxes, [&](auto t) {
    using T = decltype(t);
    core_call([&] { opticore::box_area(matrix_view<T>(boxes), out.data_ptr<T>()); });
  });
  return out;
}

at::Tensor box_iou(const at::Tensor& boxes1_in, const at::Tensor& boxes2_in) {
  check_float_tensor(boxes1_in, "boxes1", 2, "(N, 4)");
  check_float_tensor(boxes2_in, "boxes2", 2, "(M, 4)");
  const auto dtype = at::promote_types(boxes1_in.scalar_type(), boxes2_in.scalar_type());
  const at::Tensor boxes1 = boxes1_in.to(dtype), boxes2 = boxes2_in.to(dtype);
  at::Tensor out = at::empty({boxes1.size(0), boxes2.size(0)}, boxes1.options());
  with_float_type(boxes1, [&](auto t) {
    using T = decltype(t);
    core_call([&] { opticore::box_iou(matrix_view<T>(boxes1), matrix_view<T>(boxes2), out.data_ptr<T>()); });
  });
  return out;
}

at::Tensor nms(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold,
               std::optional<double> score_threshold, std::optional<int64_t> max_output) {
  check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  check_float_tensor(scores, "scores", 1, "(N,)");
  const NmsOptions options{score_threshold, max_output};
  return indices_tensor(with_float_type(boxes, [&](auto t) {
    return with_float_type(scores, [&](auto s) {
      return core_call([&] {
        return opticore::nms(matrix_view<decltype(t)>(boxes), vector_view<decltype(s)>(scores), iou_threshold, options);
      });
    });
  }));
}

at::Tensor batched_nms(const at::Tensor& boxes, const at::Tensor& scores, const at::Tensor& labels_in,
                       double iou_threshold, std::optional<double> score_threshold,
                       std::optional<int64_t> max_output) {
  check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  check_float_tensor(scores, "scores", 1, "(N,)");
  TORCH_CHECK_TYPE(at::isIntegralType(labels_in.scalar_type(), /*includeBool=*/false),
                   "labels: expected an integer tensor, got ", c10::getDtypeNames(labels_in.scalar_type()).first);
  TORCH_CHECK_VALUE(labels_in.dim() == 1, "labels: expected shape (N,), got ", labels_in.sizes());
  const at::Tensor labels = labels_in.to(at::kLong);
  const NmsOptions options{score_threshold, max_output};
  return indices_tensor(with_float_type(boxes, [&](auto t) {
    return with_float_type(scores, [&](auto s) {
      return core_call([&] {
        return opticore::batched_nms(matrix_view<decltype(t)>(boxes), vector_view<decltype(s)>(scores),
                                     vector_view<int64_t>(labels), iou_threshold, options);
      });
    });
  }));
}

std::tuple<at::Tensor, at::Tensor> soft_nms(const at::Tensor& boxes, const at::Tensor& scores,
                                            std::string_view method, double sigma, double iou_threshold,
                                            double score_threshold, std::optional<int64_t> max_output) {
  check_float_tensor(boxes, "boxes", 2, "(N, 4)");
  check_float_tensor(scores, "scores", 1, "(N,)");
  SoftNmsOptions options;
  options.method = parse_method(method);
  options.sigma = sigma;
  options.iou_threshold = iou_threshold;
  options.score_threshold = score_threshold;
  options.max_output = max_output;
  return with_float_type(boxes, [&](auto t) {
    return with_float_type(scores, [&](auto s) {
      using S = decltype(s);
      const auto result = core_call([&] {
        return opticore::soft_nms(matrix_view<decltype(t)>(boxes), vector_view<S>(scores), options);
      });
      at::Tensor rescored = at::empty({static_cast<int64_t>(result.scores.size())}, scores.options());
      std::copy(result.scores.begin(), result.scores.end(), rescored.data_ptr<S>());
      return std::make_tuple(indices_tensor(result.indices), rescored);
    });
  });
}

}  // namespace opticore::tensor
