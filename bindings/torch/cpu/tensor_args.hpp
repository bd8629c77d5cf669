// Argument checks and views shared by the CPU kernels (stable ABI: no ATen, no c10).
// Every message names the argument, the expected and the actual value.
#pragma once

#include <torch/csrc/stable/ops.h>
#include <torch/csrc/stable/tensor.h>
#include <torch/headeronly/core/ScalarType.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore::tensor::detail {

using torch::headeronly::ScalarType;
using torch::stable::Tensor;

inline std::string shape_of(const Tensor& t) {
  std::ostringstream s;
  s << "(";
  for (int64_t d = 0; d < t.dim(); ++d) s << (d ? ", " : "") << t.size(d);
  s << (t.dim() == 1 ? ",)" : ")");
  return s.str();
}

inline const char* dtype_name(ScalarType type) {
  switch (type) {
    case ScalarType::Float:
      return "float32";
    case ScalarType::Double:
      return "float64";
    case ScalarType::Half:
      return "float16";
    case ScalarType::BFloat16:
      return "bfloat16";
    case ScalarType::Bool:
      return "bool";
    case ScalarType::Byte:
      return "uint8";
    case ScalarType::Char:
      return "int8";
    case ScalarType::Short:
      return "int16";
    case ScalarType::Int:
      return "int32";
    case ScalarType::Long:
      return "int64";
    default:
      return "a non-real dtype";
  }
}

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

inline bool is_integer(ScalarType type) {
  return type == ScalarType::Byte || type == ScalarType::Char || type == ScalarType::Short || type == ScalarType::Int ||
         type == ScalarType::Long;
}

/// A tensor of `dim` dimensions (`shape` is how the message spells it) on the CPU, or, given
/// `like` (the argument `like_name`) on a CUDA device, on that device.
inline void check_dims_and_device(const Tensor& t, const char* name, int64_t dim, const char* shape,
                                  const Tensor* like = nullptr, const char* like_name = nullptr) {
  if (t.dim() != dim) fail(std::string(name) + ": expected shape " + shape + ", got " + shape_of(t));
  if (like != nullptr && like->is_cuda()) {
    if (!t.is_cuda() || t.get_device_index() != like->get_device_index())
      fail(std::string(name) + ": expected a CUDA tensor on the device of " + like_name);
  } else if (!t.is_cpu()) {
    fail(std::string(name) + ": expected a CPU tensor");
  }
}

/// A strided float32 / float64 tensor of `dim` dimensions on the CPU (or the CUDA device of
/// `like`, see check_dims_and_device).
inline void check_float_tensor(const Tensor& t, const char* name, int64_t dim, const char* shape,
                               const Tensor* like = nullptr, const char* like_name = nullptr) {
  if (!t.defined()) fail(std::string(name) + ": expected a tensor, got None");
  if (t.scalar_type() != ScalarType::Float && t.scalar_type() != ScalarType::Double)
    fail(std::string(name) + ": expected float32 or float64, got " + dtype_name(t.scalar_type()));
  check_dims_and_device(t, name, dim, shape, like, like_name);
}

template <class T>
MatrixView<T> matrix_view(const Tensor& t) {
  return {t.const_data_ptr<T>(), t.size(0), t.size(1), t.stride(0), t.stride(1)};
}

template <class T>
VectorView<T> vector_view(const Tensor& t) {
  return {t.const_data_ptr<T>(), t.size(0), t.stride(0)};
}

/// Calls f(T{}) with T the C++ type of a float32 / float64 tensor.
template <class F>
decltype(auto) with_float_type(const Tensor& t, F&& f) {
  if (t.scalar_type() == ScalarType::Float) return f(float{});
  return f(double{});
}

/// A new 1-D CPU tensor holding `values`.
template <class T>
Tensor vector_tensor(const std::vector<T>& values, ScalarType type) {
  Tensor out = torch::stable::empty({static_cast<int64_t>(values.size())}, type);
  std::copy(values.begin(), values.end(), out.mutable_data_ptr<T>());
  return out;
}

// Feature maps (the RoI and deformable operators): float16 / bfloat16 computed in float32.

inline bool is_half(ScalarType type) { return type == ScalarType::Half || type == ScalarType::BFloat16; }

/// A float16 / bfloat16 / float32 / float64 tensor of `dim` dimensions, on the CPU or, when
/// `device` is a CUDA tensor, on its CUDA device.
inline void check_feature_tensor(const Tensor& t, const char* name, int64_t dim, const char* shape,
                                 const Tensor& device) {
  if (!t.defined()) fail(std::string(name) + ": expected a tensor, got None");
  const ScalarType type = t.scalar_type();
  if (!is_half(type) && type != ScalarType::Float && type != ScalarType::Double)
    fail(std::string(name) + ": expected a float tensor, got " + dtype_name(type));
  check_dims_and_device(t, name, dim, shape, &device, "the features");
}

/// The type the kernels compute in for a tensor of `type`: float64 stays, everything else float32.
inline ScalarType computing_type(ScalarType type) { return type == ScalarType::Double ? type : ScalarType::Float; }

inline Tensor as_type(const Tensor& t, ScalarType type) {
  return t.scalar_type() == type ? t : torch::stable::to(t, type);
}

template <class T>
Array4View<T> array4_view(const Tensor& t) {
  const int64_t size[4] = {t.size(0), t.size(1), t.size(2), t.size(3)};
  const int64_t stride[4] = {t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
  return {t.const_data_ptr<T>(), size, stride};
}

inline int64_t item_bytes(ScalarType type) { return type == ScalarType::Double ? 8 : 4; }

}  // namespace opticore::tensor::detail
