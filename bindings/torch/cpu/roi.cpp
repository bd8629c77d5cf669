// CPU kernels of the RoI operators: check the tensors, compute half / bfloat16 in float32, view
// them, call opticore::core.
#include "opticore/torch/roi.hpp"

#include <string>
#include <vector>

#include "opticore/core/limits.hpp"

#include "opticore/roi/roi_align.hpp"
#include "opticore/roi/roi_pool.hpp"
#include "tensor_args.hpp"

namespace opticore::tensor {

using detail::ScalarType;

namespace {

bool is_half(ScalarType type) { return type == ScalarType::Half || type == ScalarType::BFloat16; }

/// A float16 / bfloat16 / float32 / float64 CPU tensor of `dim` dimensions.
void check_feature_tensor(const Tensor& t, const char* name, int64_t dim, const char* shape) {
  if (!t.defined()) detail::fail(std::string(name) + ": expected a tensor, got None");
  if (!is_half(t.scalar_type())) return detail::check_float_tensor(t, name, dim, shape);
  if (t.dim() != dim) detail::fail(std::string(name) + ": expected shape " + shape + ", got " + detail::shape_of(t));
  if (!t.is_cpu()) detail::fail(std::string(name) + ": expected a CPU tensor");
}

/// The type the kernels compute in for a tensor of `type`: float64 stays, everything else float32.
ScalarType computing_type(ScalarType type) { return type == ScalarType::Double ? type : ScalarType::Float; }

Tensor as_type(const Tensor& t, ScalarType type) { return t.scalar_type() == type ? t : torch::stable::to(t, type); }

template <class T>
Array4View<T> array4_view(const Tensor& t) {
  const int64_t size[4] = {t.size(0), t.size(1), t.size(2), t.size(3)};
  const int64_t stride[4] = {t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
  return {t.const_data_ptr<T>(), size, stride};
}

int64_t item_bytes(ScalarType type) { return type == ScalarType::Double ? 8 : 4; }

/// The output (K, C, PH, PW) of a forward pass, checked before it is allocated.
std::vector<int64_t> pooled_shape(const Tensor& input, const Tensor& rois, int64_t pooled_height, int64_t pooled_width,
                                  int64_t item) {
  if (pooled_height < 1 || pooled_width < 1) {
    detail::fail("output_size: expected positive sizes, got (" + std::to_string(pooled_height) + ", " +
                 std::to_string(pooled_width) + ")");
  }
  std::vector<int64_t> shape{rois.size(0), input.size(1), pooled_height, pooled_width};
  check_array_size("output_size", shape, item);
  return shape;
}

/// The input (N, C, H, W) of a backward pass, checked before it is allocated.
std::vector<int64_t> input_shape(int64_t batch_size, int64_t channels, int64_t height, int64_t width, int64_t item) {
  if (batch_size < 0 || channels < 0 || height < 0 || width < 0) {
    detail::fail("input: expected non-negative sizes, got (" + std::to_string(batch_size) + ", " +
                 std::to_string(channels) + ", " + std::to_string(height) + ", " + std::to_string(width) + ")");
  }
  std::vector<int64_t> shape{batch_size, channels, height, width};
  check_array_size("input", shape, item);
  return shape;
}

/// rois (K, 5) in the computing type.
Tensor prepared_rois(const Tensor& rois, ScalarType type) {
  check_feature_tensor(rois, "rois", 2, "(K, 5)");
  return as_type(rois, type);
}

}  // namespace

Tensor roi_align(const Tensor& input_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                 int64_t pooled_width, int64_t sampling_ratio, bool aligned) {
  check_feature_tensor(input_in, "input", 4, "(N, C, H, W)");
  const ScalarType type = computing_type(input_in.scalar_type());
  const Tensor input = as_type(input_in, type), rois = prepared_rois(rois_in, type);
  Tensor out = torch::stable::empty(pooled_shape(input, rois, pooled_height, pooled_width, item_bytes(type)), type);
  const RoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
  detail::with_float_type(input, [&](auto t) {
    using T = decltype(t);
    opticore::roi_align(array4_view<T>(input), detail::matrix_view<T>(rois), options, out.mutable_data_ptr<T>());
  });
  return as_type(out, input_in.scalar_type());
}

Tensor roi_align_backward(const Tensor& grad_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                          int64_t pooled_width, int64_t batch_size, int64_t channels, int64_t height, int64_t width,
                          int64_t sampling_ratio, bool aligned) {
  check_feature_tensor(grad_in, "grad", 4, "(K, C, PH, PW)");
  const ScalarType type = computing_type(grad_in.scalar_type());
  const Tensor grad = as_type(grad_in, type), rois = prepared_rois(rois_in, type);
  Tensor out = torch::stable::empty(input_shape(batch_size, channels, height, width, item_bytes(type)), type);
  const RoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
  detail::with_float_type(grad, [&](auto t) {
    using T = decltype(t);
    opticore::roi_align_backward(array4_view<T>(grad), detail::matrix_view<T>(rois), batch_size, channels, height,
                                 width, options, out.mutable_data_ptr<T>());
  });
  return as_type(out, grad_in.scalar_type());
}

std::tuple<Tensor, Tensor> roi_pool(const Tensor& input_in, const Tensor& rois_in, double spatial_scale,
                                    int64_t pooled_height, int64_t pooled_width) {
  check_feature_tensor(input_in, "input", 4, "(N, C, H, W)");
  const ScalarType type = computing_type(input_in.scalar_type());
  const Tensor input = as_type(input_in, type), rois = prepared_rois(rois_in, type);
  const auto shape = pooled_shape(input, rois, pooled_height, pooled_width, item_bytes(type) + 8);
  Tensor out = torch::stable::empty(shape, type);
  Tensor argmax = torch::stable::empty(shape, ScalarType::Long);
  const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
  detail::with_float_type(input, [&](auto t) {
    using T = decltype(t);
    opticore::roi_pool(array4_view<T>(input), detail::matrix_view<T>(rois), options, out.mutable_data_ptr<T>(),
                       argmax.mutable_data_ptr<int64_t>());
  });
  return {as_type(out, input_in.scalar_type()), argmax};
}

Tensor roi_pool_backward(const Tensor& grad_in, const Tensor& rois_in, const Tensor& argmax_in, double spatial_scale,
                         int64_t pooled_height, int64_t pooled_width, int64_t batch_size, int64_t channels,
                         int64_t height, int64_t width) {
  check_feature_tensor(grad_in, "grad", 4, "(K, C, PH, PW)");
  const ScalarType type = computing_type(grad_in.scalar_type());
  const Tensor grad = as_type(grad_in, type), rois = prepared_rois(rois_in, type);
  if (!argmax_in.defined() || argmax_in.scalar_type() != ScalarType::Long || !argmax_in.is_cpu()) {
    detail::fail("argmax: expected the int64 CPU tensor returned by roi_pool");
  }
  if (argmax_in.dim() != 4 || argmax_in.size(0) != grad.size(0) || argmax_in.size(1) != grad.size(1) ||
      argmax_in.size(2) != grad.size(2) || argmax_in.size(3) != grad.size(3)) {
    detail::fail("argmax: expected the shape of grad " + detail::shape_of(grad) + ", got " +
                 detail::shape_of(argmax_in));
  }
  const Tensor argmax = torch::stable::contiguous(argmax_in);
  Tensor out = torch::stable::empty(input_shape(batch_size, channels, height, width, item_bytes(type)), type);
  const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
  detail::with_float_type(grad, [&](auto t) {
    using T = decltype(t);
    opticore::roi_pool_backward(array4_view<T>(grad), argmax.const_data_ptr<int64_t>(), detail::matrix_view<T>(rois),
                                batch_size, channels, height, width, options, out.mutable_data_ptr<T>());
  });
  return as_type(out, grad_in.scalar_type());
}

}  // namespace opticore::tensor
