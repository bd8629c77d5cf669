// Threads and build information.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "numpy_view.hpp"
#include "opticore/core/build_info.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/core/threading.hpp"

namespace opticore::python {

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", [](const py::handle& n) { set_num_threads(as_int64(n, "n")); }, py::arg("n"));
  m.attr("MAX_NUM_THREADS") = kMaxNumThreads;
  // The size limit of opticore/core/limits.hpp, for the Python code that allocates for the core.
  m.attr("MAX_ARRAY_BYTES") = kMaxArrayBytes;
  m.def(
      "check_array_size",
      [](const std::string& name, const std::vector<int64_t>& shape, int64_t item_bytes) {
        check_array_size(name.c_str(), shape, item_bytes);
      },
      py::arg("name"), py::arg("shape"), py::arg("item_bytes"));
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
