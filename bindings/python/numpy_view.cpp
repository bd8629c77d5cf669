#include "numpy_view.hpp"

#include <sstream>

namespace opticore::python {

std::string shape_string(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s << (d ? ", " : "") << a.shape(d);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

py::array element_strided(const py::array& a) {
  const auto item = a.dtype().itemsize();
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    if (a.strides(d) % item != 0) {
      return py::module_::import("numpy").attr("ascontiguousarray")(a).cast<py::array>();
    }
  }
  return a;
}

void require_ndim(const py::array& a, int ndim, const char* name, const char* expected) {
  if (a.ndim() != ndim) {
    throw py::value_error(std::string(name) + ": expected shape " + expected + ", got " + shape_string(a));
  }
}

void require_float(const py::array& a, const char* name) {
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  if (kind != 'f' || (size != 4 && size != 8)) {
    throw py::type_error(std::string(name) + ": expected float32 or float64, got " + dtype_name(a));
  }
}

}  // namespace opticore::python
