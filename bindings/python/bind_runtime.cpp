// Threads and build information.
#include <pybind11/pybind11.h>

#include "opticore/core/build_info.hpp"
#include "opticore/core/threading.hpp"

namespace py = pybind11;

namespace opticore::python {

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("build_info", [] {
    const BuildInfo info = build_info();
    py::dict d;
    d["version"] = info.version;
    d["compiler"] = info.compiler;
    d["build_type"] = info.build_type;
    d["torch_version"] = info.torch_version.empty() ? py::object(py::none()) : py::str(info.torch_version);
    d["cuda"] = info.cuda;
    d["num_threads"] = info.num_threads;
    return d;
  });
}

}  // namespace opticore::python
