// Point-set alignment: Umeyama similarity estimation, single and batched.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "numpy_view.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/geometry/face_templates.hpp"
#include "opticore/geometry/umeyama.hpp"

namespace opticore::python {
namespace {

py::array umeyama_py(const py::array& src_in, const py::array& dst_in, bool estimate_scale) {
  require_float(src_in, "src");
  require_float(dst_in, "dst");
  if (src_in.ndim() != 2 && src_in.ndim() != 3) {
    throw py::value_error("src: expected shape (N, D) or (B, N, D), got " + shape_string(src_in));
  }
  if (dst_in.ndim() != src_in.ndim()) {
    throw py::value_error("dst: expected the shape of src " + shape_string(src_in) + ", got " + shape_string(dst_in));
  }
  // Points are few per set: one common precision (float64 unless both are float32) is simplest.
  const bool both_f32 = src_in.dtype().itemsize() == 4 && dst_in.dtype().itemsize() == 4;
  const char* dtype = both_f32 ? "float32" : "float64";
  const py::array src = element_strided(src_in.attr("astype")(dtype, py::arg("copy") = false).cast<py::array>());
  const py::array dst = element_strided(dst_in.attr("astype")(dtype, py::arg("copy") = false).cast<py::array>());

  const py::ssize_t d = src.shape(src.ndim() - 1);
  return with_float_type(src, [&](auto t) -> py::array {
    using T = decltype(t);
    if (src.ndim() == 2) {
      const auto sv = matrix_view<T>(src), dv = matrix_view<T>(dst);
      std::vector<double> m;
      {
        py::gil_scoped_release release;
        m = umeyama(sv, dv, estimate_scale);
      }
      py::array_t<double> out({d + 1, d + 1});
      std::copy(m.begin(), m.end(), out.mutable_data());
      return std::move(out);
    }
    check_array_size("src", {src.shape(0), d + 1, d + 1}, sizeof(double));
    py::array_t<double> out({src.shape(0), d + 1, d + 1});
    const auto sv = batch_view<T>(src), dv = batch_view<T>(dst);
    double* dst_ptr = out.mutable_data();
    py::gil_scoped_release release;
    umeyama_batch(sv, dv, estimate_scale, dst_ptr);
    return std::move(out);
  });
}

template <class Points>
py::array_t<double> points_array(const Points& points) {
  py::array_t<double> out({static_cast<py::ssize_t>(points.size()), py::ssize_t{2}});
  auto w = out.mutable_unchecked<2>();
  for (size_t i = 0; i < points.size(); ++i) {
    w(i, 0) = points[i][0];
    w(i, 1) = points[i][1];
  }
  return out;
}

}  // namespace

void bind_alignment(py::module_& m) {
  m.def("umeyama", &umeyama_py, py::arg("src"), py::arg("dst"), py::kw_only(), py::arg("estimate_scale") = true);
  m.def("arcface_template", [](int64_t size) { return points_array(face::arcface_template(size)); }, py::arg("size"));
  m.def("mean_shape68", [](int64_t size) { return points_array(face::mean_shape68(size)); }, py::arg("size"));
}

}  // namespace opticore::python
