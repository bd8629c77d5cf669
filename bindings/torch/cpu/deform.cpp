// The deformable convolution for CPU and (where opticore was built with CUDA kernels) CUDA
// tensors: check, compute half / bfloat16 in float32, view, call opticore::core or opticore::cuda.
#include "opticore/torch/deform.hpp"

#include <string>
#include <vector>

#include "on_device.hpp"
#include "opticore/cuda/deform.hpp"
#include "opticore/deform/deform_conv2d.hpp"
#include "tensor_args.hpp"

namespace opticore::tensor {

using detail::array4_view;
using detail::as_type;
using detail::ScalarType;

namespace {

std::vector<int64_t> shape(const Tensor& t) {
  std::vector<int64_t> sizes;
  for (int64_t d = 0; d < t.dim(); ++d) sizes.push_back(t.size(d));
  return sizes;
}

struct Prepared {
  ScalarType type;
  Tensor input, weight, offset, mask, bias;
  DeformConv2dOptions options;
};

Prepared prepare(const Tensor& input, const Tensor& weight, const Tensor& offset, const Tensor& mask,
                 const Tensor& bias, int64_t stride_h, int64_t stride_w, int64_t padding_h, int64_t padding_w,
                 int64_t dilation_h, int64_t dilation_w, bool use_mask) {
  detail::check_feature_tensor(input, "input", 4, "(N, C_in, H, W)", input);
  detail::check_feature_tensor(weight, "weight", 4, "(C_out, C_in / groups, KH, KW)", input);
  detail::check_feature_tensor(offset, "offset", 4, "(N, 2 * offset_groups * KH * KW, OH, OW)", input);
  if (use_mask) detail::check_feature_tensor(mask, "mask", 4, "(N, offset_groups * KH * KW, OH, OW)", input);
  detail::check_feature_tensor(bias, "bias", 1, "(C_out,)", input);
  if (bias.size(0) != weight.size(0)) {
    detail::fail("bias: expected shape (" + std::to_string(weight.size(0)) + ",), got " + detail::shape_of(bias));
  }
  const ScalarType type = detail::computing_type(input.scalar_type());
  return {type,
          as_type(input, type),
          as_type(weight, type),
          as_type(offset, type),
          use_mask ? as_type(mask, type) : Tensor(),
          torch::stable::contiguous(as_type(bias, type)),
          {stride_h, stride_w, padding_h, padding_w, dilation_h, dilation_w}};
}

}  // namespace

Tensor deform_conv2d(const Tensor& input, const Tensor& weight, const Tensor& offset, const Tensor& mask,
                     const Tensor& bias, int64_t stride_h, int64_t stride_w, int64_t padding_h, int64_t padding_w,
                     int64_t dilation_h, int64_t dilation_w, bool use_mask) {
  const Prepared p = prepare(input, weight, offset, mask, bias, stride_h, stride_w, padding_h, padding_w, dilation_h,
                             dilation_w, use_mask);
  const Size2 size =
      deform_conv2d_output_size(p.input.size(2), p.input.size(3), p.weight.size(2), p.weight.size(3), p.options);
  Tensor out = torch::stable::new_empty(p.input, {p.input.size(0), p.weight.size(0), size.height, size.width}, p.type);
  detail::with_float_type(p.input, [&](auto t) {
    using T = decltype(t);
    const Array4View<T> mask_view = use_mask ? array4_view<T>(p.mask) : Array4View<T>();
    const auto input_view = array4_view<T>(p.input), weight_view = array4_view<T>(p.weight);
    const auto offset_view = array4_view<T>(p.offset);
    const Array4View<T>* mask_arg = use_mask ? &mask_view : nullptr;
    detail::on_device(
        p.input,
        [&] {
          opticore::deform_conv2d(input_view, weight_view, offset_view, mask_arg, p.bias.const_data_ptr<T>(), p.options,
                                  out.mutable_data_ptr<T>());
        },
        [&](auto stream) {
          opticore::cuda::deform_conv2d(input_view, weight_view, offset_view, mask_arg, p.bias.const_data_ptr<T>(),
                                        p.options, out.mutable_data_ptr<T>(), stream);
        });
  });
  return as_type(out, input.scalar_type());
}

std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> deform_conv2d_backward(
    const Tensor& grad, const Tensor& input, const Tensor& weight, const Tensor& offset, const Tensor& mask,
    const Tensor& bias, int64_t stride_h, int64_t stride_w, int64_t padding_h, int64_t padding_w, int64_t dilation_h,
    int64_t dilation_w, bool use_mask) {
  const Prepared p = prepare(input, weight, offset, mask, bias, stride_h, stride_w, padding_h, padding_w, dilation_h,
                             dilation_w, use_mask);
  detail::check_feature_tensor(grad, "grad", 4, "(N, C_out, OH, OW)", input);
  const Tensor g = as_type(grad, p.type);
  auto like = [&](const Tensor& t) { return torch::stable::new_empty(p.input, shape(t), p.type); };
  Tensor grad_input = like(p.input), grad_weight = like(p.weight), grad_offset = like(p.offset);
  Tensor grad_bias = like(p.bias);
  // Without use_mask the mask is a placeholder: its gradient is zeros of its shape.
  Tensor grad_mask = use_mask ? like(p.mask) : torch::stable::new_zeros(mask, shape(mask));
  detail::with_float_type(p.input, [&](auto t) {
    using T = decltype(t);
    const Array4View<T> mask_view = use_mask ? array4_view<T>(p.mask) : Array4View<T>();
    DeformConv2dGrads<T> grads;
    grads.input = grad_input.mutable_data_ptr<T>();
    grads.weight = grad_weight.mutable_data_ptr<T>();
    grads.offset = grad_offset.mutable_data_ptr<T>();
    grads.mask = use_mask ? grad_mask.mutable_data_ptr<T>() : nullptr;
    grads.bias = grad_bias.mutable_data_ptr<T>();
    const auto grad_view = array4_view<T>(g), input_view = array4_view<T>(p.input);
    const auto weight_view = array4_view<T>(p.weight), offset_view = array4_view<T>(p.offset);
    const Array4View<T>* mask_arg = use_mask ? &mask_view : nullptr;
    detail::on_device(
        p.input,
        [&] {
          opticore::deform_conv2d_backward(grad_view, input_view, weight_view, offset_view, mask_arg, p.options, grads);
        },
        [&](auto stream) {
          opticore::cuda::deform_conv2d_backward(grad_view, input_view, weight_view, offset_view, mask_arg, p.options,
                                                 grads, stream);
        });
  });
  return {as_type(grad_input, input.scalar_type()), as_type(grad_weight, weight.scalar_type()),
          as_type(grad_offset, offset.scalar_type()), as_type(grad_mask, mask.scalar_type()),
          as_type(grad_bias, bias.scalar_type())};
}

}  // namespace opticore::tensor
