#include "numpy_view.hpp"

#include <cstdint>
#include <cstring>
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
  // Big-endian data (">f4" from a FITS file, say) would be read as garbage: convert it. So are
  // strides that are not whole elements (views into structured arrays), which the core cannot index.
  // Read from the dtype's byte order field rather than its Python attribute "isnative", whose
  // lookup is a measurable part of a small resize. NumPy writes a native order as '=' (or '|').
  const uint16_t probe = 1;
  unsigned char low_byte_first = 0;
  std::memcpy(&low_byte_first, &probe, 1);
  bool copy = a.dtype().byteorder() == (low_byte_first == 1 ? '>' : '<');
  const auto item = a.dtype().itemsize();
  for (py::ssize_t d = 0; d < a.ndim() && !copy; ++d) copy = a.strides(d) % item != 0;
  if (!copy) return a;
  const py::object native = a.dtype().attr("newbyteorder")("=");
  return py::module_::import("numpy").attr("ascontiguousarray")(a, native).cast<py::array>();
}

int64_t as_int64(const py::handle& value, const char* name) {
  if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr())) {
    throw py::type_error(std::string(name) + ": expected an integer, got " + py::repr(value).cast<std::string>());
  }
  const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!index) {  // e.g. a NumPy array with more than one element
    PyErr_Clear();
    throw py::type_error(std::string(name) + ": expected an integer, got " + py::repr(value).cast<std::string>());
  }
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (overflow != 0) {
    throw py::value_error(std::string(name) + ": expected an integer within int64, got " +
                          py::repr(value).cast<std::string>());
  }
  return static_cast<int64_t>(v);
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
