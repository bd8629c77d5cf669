// opticore._core: one bind_<topic> per file, all called from here.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace opticore::python {
void bind_runtime(py::module_& m);
void bind_boxes(py::module_& m);
void bind_roi(py::module_& m);
void bind_alignment(py::module_& m);
void bind_warp(py::module_& m);
void bind_fhog(py::module_& m);
void bind_tracking(py::module_& m);
void bind_mot(py::module_& m);
void bind_spectrum(py::module_& m);
}  // namespace opticore::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "opticore's compiled core (NumPy in, NumPy out). Use the typed wrappers in `opticore`.";
  m.attr("__version__") = OPTICORE_PYTHON_MODULE_VERSION;
  opticore::python::bind_runtime(m);
  opticore::python::bind_boxes(m);
  opticore::python::bind_roi(m);
  opticore::python::bind_alignment(m);
  opticore::python::bind_warp(m);
  opticore::python::bind_fhog(m);
  opticore::python::bind_tracking(m);
  opticore::python::bind_mot(m);
  opticore::python::bind_spectrum(m);
}
