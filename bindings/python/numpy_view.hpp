// From NumPy arrays to the core's strided views, with the argument checks that belong to the
// Python boundary (dimensions and dtypes). Shape and value checks live in the core.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "opticore/core/view.hpp"

namespace opticore::python {

namespace py = pybind11;

std::string shape_string(const py::array& a);
std::string dtype_name(const py::array& a);

/// The array itself when it is in native byte order and its strides are whole elements, else a
/// C-contiguous native copy. Every array the core reads goes through here (image_arg.hpp too).
py::array element_strided(const py::array& a);

/// Raises ValueError unless `a` has `ndim` dimensions; `expected` describes the shape wanted.
void require_ndim(const py::array& a, int ndim, const char* name, const char* expected);

/// A Python integer (or NumPy integer; not a bool) as int64: TypeError for other types,
/// ValueError naming `name` when it does not fit in int64.
int64_t as_int64(const py::handle& value, const char* name);

/// Raises TypeError unless `a` is float32 or float64.
void require_float(const py::array& a, const char* name);

template <class T>
MatrixView<T> matrix_view(const py::array& a) {
  return {static_cast<const T*>(a.data()), a.shape(0), a.shape(1), a.strides(0) / static_cast<py::ssize_t>(sizeof(T)),
          a.strides(1) / static_cast<py::ssize_t>(sizeof(T))};
}

/// A (B, N, D) array (element-strided) as a batch of matrices.
template <class T>
MatrixBatchView<T> batch_view(const py::array& a) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  return {static_cast<const T*>(a.data()),
          a.shape(0),
          a.shape(1),
          a.shape(2),
          a.strides(0) / item,
          a.strides(1) / item,
          a.strides(2) / item};
}

template <class T>
VectorView<T> vector_view(const py::array& a) {
  return {static_cast<const T*>(a.data()), a.shape(0), a.strides(0) / static_cast<py::ssize_t>(sizeof(T))};
}

/// Calls f(T{}) with T = float or double, after `a`'s dtype.
template <class F>
decltype(auto) with_float_type(const py::array& a, F&& f) {
  if (a.dtype().itemsize() == 4) return f(float{});
  return f(double{});
}

/// A fresh 1-D NumPy array holding `values`.
template <class T, class Vector>
py::array_t<T> to_numpy(const Vector& values) {
  py::array_t<T> out(static_cast<py::ssize_t>(values.size()));
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

}  // namespace opticore::python
