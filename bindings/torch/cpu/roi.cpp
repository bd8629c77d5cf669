// The RoI operators for CPU and (where opticore was built with CUDA kernels) CUDA tensors: check
// the tensors, compute half / bfloat16 in float32, view them, call opticore::core on the CPU or
// opticore::cuda on the current stream of the tensors' device.
#include "opticore/torch/roi.hpp"

#include <string>
#include <vector>

#include "on_device.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/cuda/roi.hpp"
#include "opticore/roi/ps_roi_align.hpp"
#include "opticore/roi/ps_roi_pool.hpp"
#include "opticore/roi/roi_align.hpp"
#include "opticore/roi/roi_pool.hpp"
#include "tensor_args.hpp"

namespace opticore::tensor {

using detail::array4_view;
using detail::as_type;
using detail::check_feature_tensor;
using detail::computing_type;
using detail::item_bytes;
using detail::ScalarType;

namespace {

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

/// The output (K, C / (PH * PW), PH, PW) of a position-sensitive forward pass, checked.
std::vector<int64_t> ps_pooled_shape(const Tensor& input, const Tensor& rois, int64_t pooled_height,
                                     int64_t pooled_width, int64_t item) {
  std::vector<int64_t> shape = pooled_shape(input, rois, pooled_height, pooled_width, item);
  const int64_t bins = pooled_height * pooled_width;
  if (shape[1] % bins != 0) {
    detail::fail("input: expected channels divisible by output_size[0] * output_size[1] = " + std::to_string(bins) +
                 ", got " + std::to_string(shape[1]));
  }
  shape[1] /= bins;
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

/// rois (K, 5) in the computing type; C-contiguous for the CUDA kernels.
Tensor prepared_rois(const Tensor& rois, ScalarType type, const Tensor& device) {
  check_feature_tensor(rois, "rois", 2, "(K, 5)", device);
  if (rois.size(1) != 5) detail::fail("rois: expected shape (K, 5), got " + detail::shape_of(rois));
  return device.is_cuda() ? torch::stable::contiguous(as_type(rois, type)) : as_type(rois, type);
}

/// One RoI pass with a single output, forward or backward: `features` (the input, or the incoming
/// gradient) and the RoIs converted to the computing type, the output of shape(features, rois,
/// item bytes) allocated, then cpu(T{}, features, rois, out) or cuda(T{}, features, rois, out,
/// stream) on the features' device. The result comes back in the features' dtype.
template <class Shape, class Cpu, class Cuda>
Tensor roi_pass(const Tensor& features_in, const char* name, const char* layout, const Tensor& rois_in, Shape&& shape,
                Cpu&& cpu, Cuda&& cuda) {
  check_feature_tensor(features_in, name, 4, layout, features_in);
  const ScalarType type = computing_type(features_in.scalar_type());
  const Tensor features = as_type(features_in, type), rois = prepared_rois(rois_in, type, features_in);
  Tensor out = torch::stable::new_empty(features, shape(features, rois, item_bytes(type)), type);
  detail::with_float_type(features, [&](auto t) {
    detail::on_device(
        features, [&] { cpu(t, features, rois, out); }, [&](auto stream) { cuda(t, features, rois, out, stream); });
  });
  return as_type(out, features_in.scalar_type());
}

}  // namespace

Tensor roi_align(const Tensor& input_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                 int64_t pooled_width, int64_t sampling_ratio, bool aligned) {
  const RoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
  return roi_pass(
      input_in, "input", "(N, C, H, W)", rois_in,
      [&](const Tensor& input, const Tensor& rois, int64_t item) {
        return pooled_shape(input, rois, pooled_height, pooled_width, item);
      },
      [&](auto t, const Tensor& input, const Tensor& rois, Tensor& out) {
        using T = decltype(t);
        opticore::roi_align(array4_view<T>(input), detail::matrix_view<T>(rois), options, out.mutable_data_ptr<T>());
      },
      [&](auto t, const Tensor& input, const Tensor& rois, Tensor& out, auto stream) {
        using T = decltype(t);
        opticore::cuda::roi_align(array4_view<T>(input), rois.const_data_ptr<T>(), rois.size(0), options,
                                  out.mutable_data_ptr<T>(), stream);
      });
}

Tensor roi_align_backward(const Tensor& grad_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                          int64_t pooled_width, int64_t batch_size, int64_t channels, int64_t height, int64_t width,
                          int64_t sampling_ratio, bool aligned) {
  const RoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
  return roi_pass(
      grad_in, "grad", "(K, C, PH, PW)", rois_in,
      [&](const Tensor&, const Tensor&, int64_t item) {
        return input_shape(batch_size, channels, height, width, item);
      },
      [&](auto t, const Tensor& grad, const Tensor& rois, Tensor& out) {
        using T = decltype(t);
        opticore::roi_align_backward(array4_view<T>(grad), detail::matrix_view<T>(rois), batch_size, channels, height,
                                     width, options, out.mutable_data_ptr<T>());
      },
      [&](auto t, const Tensor& grad, const Tensor& rois, Tensor& out, auto stream) {
        using T = decltype(t);
        opticore::cuda::roi_align_backward(array4_view<T>(grad), rois.const_data_ptr<T>(), rois.size(0), batch_size,
                                           channels, height, width, options, out.mutable_data_ptr<T>(), stream);
      });
}

std::tuple<Tensor, Tensor> roi_pool(const Tensor& input_in, const Tensor& rois_in, double spatial_scale,
                                    int64_t pooled_height, int64_t pooled_width) {
  check_feature_tensor(input_in, "input", 4, "(N, C, H, W)", input_in);
  const ScalarType type = computing_type(input_in.scalar_type());
  const Tensor input = as_type(input_in, type), rois = prepared_rois(rois_in, type, input_in);
  const auto shape = pooled_shape(input, rois, pooled_height, pooled_width, item_bytes(type) + 8);
  Tensor out = torch::stable::new_empty(input, shape, type);
  Tensor argmax = torch::stable::new_empty(input, shape, ScalarType::Long);
  const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
  detail::with_float_type(input, [&](auto t) {
    using T = decltype(t);
    detail::on_device(
        input,
        [&] {
          opticore::roi_pool(array4_view<T>(input), detail::matrix_view<T>(rois), options, out.mutable_data_ptr<T>(),
                             argmax.mutable_data_ptr<int64_t>());
        },
        [&](auto stream) {
          opticore::cuda::roi_pool(array4_view<T>(input), rois.const_data_ptr<T>(), rois.size(0), options,
                                   out.mutable_data_ptr<T>(), argmax.mutable_data_ptr<int64_t>(), stream);
        });
  });
  return {as_type(out, input_in.scalar_type()), argmax};
}

Tensor roi_pool_backward(const Tensor& grad_in, const Tensor& rois_in, const Tensor& argmax_in, double spatial_scale,
                         int64_t pooled_height, int64_t pooled_width, int64_t batch_size, int64_t channels,
                         int64_t height, int64_t width) {
  check_feature_tensor(grad_in, "grad", 4, "(K, C, PH, PW)", grad_in);
  const ScalarType type = computing_type(grad_in.scalar_type());
  const Tensor grad = as_type(grad_in, type), rois = prepared_rois(rois_in, type, grad_in);
  if (!argmax_in.defined() || argmax_in.scalar_type() != ScalarType::Long || argmax_in.is_cuda() != grad.is_cuda()) {
    detail::fail("argmax: expected the int64 tensor returned by roi_pool, on the device of grad");
  }
  if (argmax_in.dim() != 4 || argmax_in.size(0) != grad.size(0) || argmax_in.size(1) != grad.size(1) ||
      argmax_in.size(2) != grad.size(2) || argmax_in.size(3) != grad.size(3)) {
    detail::fail("argmax: expected the shape of grad " + detail::shape_of(grad) + ", got " +
                 detail::shape_of(argmax_in));
  }
  const Tensor argmax = torch::stable::contiguous(argmax_in);
  Tensor out = torch::stable::new_empty(grad, input_shape(batch_size, channels, height, width, item_bytes(type)), type);
  const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
  detail::with_float_type(grad, [&](auto t) {
    using T = decltype(t);
    detail::on_device(
        grad,
        [&] {
          opticore::roi_pool_backward(array4_view<T>(grad), argmax.const_data_ptr<int64_t>(),
                                      detail::matrix_view<T>(rois), batch_size, channels, height, width, options,
                                      out.mutable_data_ptr<T>());
        },
        [&](auto stream) {
          opticore::cuda::roi_pool_backward(array4_view<T>(grad), argmax.const_data_ptr<int64_t>(),
                                            rois.const_data_ptr<T>(), rois.size(0), batch_size, channels, height, width,
                                            options, out.mutable_data_ptr<T>(), stream);
        });
  });
  return as_type(out, grad_in.scalar_type());
}

Tensor ps_roi_align(const Tensor& input_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                    int64_t pooled_width, int64_t sampling_ratio) {
  const PsRoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio};
  return roi_pass(
      input_in, "input", "(N, C, H, W)", rois_in,
      [&](const Tensor& input, const Tensor& rois, int64_t item) {
        return ps_pooled_shape(input, rois, pooled_height, pooled_width, item);
      },
      [&](auto t, const Tensor& input, const Tensor& rois, Tensor& out) {
        using T = decltype(t);
        opticore::ps_roi_align(array4_view<T>(input), detail::matrix_view<T>(rois), options, out.mutable_data_ptr<T>());
      },
      [&](auto t, const Tensor& input, const Tensor& rois, Tensor& out, auto stream) {
        using T = decltype(t);
        opticore::cuda::ps_roi_align(array4_view<T>(input), rois.const_data_ptr<T>(), rois.size(0), options,
                                     out.mutable_data_ptr<T>(), stream);
      });
}

Tensor ps_roi_align_backward(const Tensor& grad_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                             int64_t pooled_width, int64_t batch_size, int64_t channels, int64_t height, int64_t width,
                             int64_t sampling_ratio) {
  const PsRoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio};
  return roi_pass(
      grad_in, "grad", "(K, C, PH, PW)", rois_in,
      [&](const Tensor&, const Tensor&, int64_t item) {
        return input_shape(batch_size, channels, height, width, item);
      },
      [&](auto t, const Tensor& grad, const Tensor& rois, Tensor& out) {
        using T = decltype(t);
        opticore::ps_roi_align_backward(array4_view<T>(grad), detail::matrix_view<T>(rois), batch_size, channels,
                                        height, width, options, out.mutable_data_ptr<T>());
      },
      [&](auto t, const Tensor& grad, const Tensor& rois, Tensor& out, auto stream) {
        using T = decltype(t);
        opticore::cuda::ps_roi_align_backward(array4_view<T>(grad), rois.const_data_ptr<T>(), rois.size(0), batch_size,
                                              channels, height, width, options, out.mutable_data_ptr<T>(), stream);
      });
}

Tensor ps_roi_pool(const Tensor& input_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                   int64_t pooled_width) {
  const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
  return roi_pass(
      input_in, "input", "(N, C, H, W)", rois_in,
      [&](const Tensor& input, const Tensor& rois, int64_t item) {
        return ps_pooled_shape(input, rois, pooled_height, pooled_width, item);
      },
      [&](auto t, const Tensor& input, const Tensor& rois, Tensor& out) {
        using T = decltype(t);
        opticore::ps_roi_pool(array4_view<T>(input), detail::matrix_view<T>(rois), options, out.mutable_data_ptr<T>());
      },
      [&](auto t, const Tensor& input, const Tensor& rois, Tensor& out, auto stream) {
        using T = decltype(t);
        opticore::cuda::ps_roi_pool(array4_view<T>(input), rois.const_data_ptr<T>(), rois.size(0), options,
                                    out.mutable_data_ptr<T>(), stream);
      });
}

Tensor ps_roi_pool_backward(const Tensor& grad_in, const Tensor& rois_in, double spatial_scale, int64_t pooled_height,
                            int64_t pooled_width, int64_t batch_size, int64_t channels, int64_t height, int64_t width) {
  const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
  return roi_pass(
      grad_in, "grad", "(K, C, PH, PW)", rois_in,
      [&](const Tensor&, const Tensor&, int64_t item) {
        return input_shape(batch_size, channels, height, width, item);
      },
      [&](auto t, const Tensor& grad, const Tensor& rois, Tensor& out) {
        using T = decltype(t);
        opticore::ps_roi_pool_backward(array4_view<T>(grad), detail::matrix_view<T>(rois), batch_size, channels, height,
                                       width, options, out.mutable_data_ptr<T>());
      },
      [&](auto t, const Tensor& grad, const Tensor& rois, Tensor& out, auto stream) {
        using T = decltype(t);
        opticore::cuda::ps_roi_pool_backward(array4_view<T>(grad), rois.const_data_ptr<T>(), rois.size(0), batch_size,
                                             channels, height, width, options, out.mutable_data_ptr<T>(), stream);
      });
}

}  // namespace opticore::tensor
