// Images from NumPy: (H, W) or (H, W, C) arrays with C in 1..4, uint8 or float32, read in place
// through the core's strided ImageView. Shared by the bindings that take an image.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "numpy_view.hpp"
#include "opticore/core/image.hpp"

namespace opticore::python {

/// (H, W) or (H, W, C) with C in 1..4, uint8 or float32; element-strided (copied otherwise).
/// Wrong dimensions or channels raise ValueError, a wrong dtype TypeError, naming `image`.
inline py::array prepare_image(const py::array& image) {
  if (image.ndim() != 2 && image.ndim() != 3) {
    throw py::value_error("image: expected shape (H, W) or (H, W, C), got " + shape_string(image));
  }
  const char kind = image.dtype().kind();
  const auto size = image.dtype().itemsize();
  if (!((kind == 'u' && size == 1) || (kind == 'f' && size == 4))) {
    throw py::type_error("image: expected uint8 or float32, got " + dtype_name(image));
  }
  if (image.ndim() == 3 && (image.shape(2) < 1 || image.shape(2) > 4)) {
    throw py::value_error("image: expected 1 to 4 channels, got shape " + shape_string(image));
  }
  return element_strided(image);
}

inline int64_t channels_of(const py::array& image) { return image.ndim() == 3 ? image.shape(2) : 1; }

/// The strided view of an image checked by prepare_image.
template <class T>
ImageView<T> image_view(const py::array& a) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  const bool has_c = a.ndim() == 3;
  return {static_cast<const T*>(a.data()), a.shape(0),          a.shape(1),
          has_c ? a.shape(2) : 1,          a.strides(0) / item, a.strides(1) / item,
          has_c ? a.strides(2) / item : 1};
}

/// Calls f(T{}) with T = uint8_t or float, after the (checked) image's dtype.
template <class F>
decltype(auto) with_image_type(const py::array& image, F&& f) {
  if (image.dtype().itemsize() == 1) return f(uint8_t{});
  return f(float{});
}

}  // namespace opticore::python
