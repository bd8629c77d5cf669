// opticore._runtime: the runners for Python. Tensors cross as DLPack capsules ("dltensor", as
// torch.utils.dlpack makes them), so this module links neither libtorch_python nor torch's own
// pybind11; python/opticore/runtime wraps it. The GIL is released while a package runs.
#include <ATen/DLConvertor.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "opticore/runtime/runner.hpp"

namespace py = pybind11;
using opticore::runtime::Runner;
using opticore::runtime::RunnerOptions;

namespace {

at::Tensor from_capsule(py::capsule capsule) {
  if (std::string(capsule.name() ? capsule.name() : "") != "dltensor") {
    throw py::type_error("expected an unused DLPack capsule named 'dltensor'");
  }
  auto* managed = capsule.get_pointer<DLManagedTensor>();
  at::Tensor tensor = at::fromDLPack(managed);
  capsule.set_name("used_dltensor");  // the tensor owns it now
  return tensor;
}

py::capsule to_capsule(const at::Tensor& tensor) {
  DLManagedTensor* managed = at::toDLPack(tensor);
  return py::capsule(managed, "dltensor", [](PyObject* object) {
    // Deleted unconsumed: free it; a consumer renames the capsule and owns the tensor.
    if (PyCapsule_IsValid(object, "dltensor")) {
      auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(object, "dltensor"));
      if (m != nullptr && m->deleter != nullptr) m->deleter(m);
    }
  });
}

std::vector<py::capsule> run(const Runner& runner, const std::vector<py::capsule>& capsules) {
  std::vector<at::Tensor> inputs;
  inputs.reserve(capsules.size());
  for (const py::capsule& c : capsules) inputs.push_back(from_capsule(c));
  std::vector<at::Tensor> outputs;
  {
    py::gil_scoped_release release;
    outputs = runner.run(inputs);
  }
  std::vector<py::capsule> result;
  result.reserve(outputs.size());
  for (const at::Tensor& t : outputs) result.push_back(to_capsule(t));
  return result;
}

}  // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "opticore's AOTInductor package runners (see opticore.runtime)";
  m.attr("TORCH_VERSION") = OPTICORE_LIBTORCH_VERSION;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const opticore::runtime::InputTypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });

  py::class_<Runner>(m, "Runner")
      .def(py::init([](const std::string& path, const std::string& device, int64_t num_threads, int64_t warmup_runs,
                       const std::string& inputs) {
             RunnerOptions options;
             options.device = device;
             options.num_threads = num_threads;
             options.warmup_runs = warmup_runs;
             if (!inputs.empty()) options.inputs = opticore::runtime::parse_input_specs(inputs);
             py::gil_scoped_release release;
             return Runner(path, options);
           }),
           py::arg("path"), py::arg("device"), py::arg("num_threads"), py::arg("warmup_runs"), py::arg("inputs"))
      .def("run", &run, py::arg("inputs"))
      .def_property_readonly("input_specs",
                             [](const Runner& r) { return opticore::runtime::format_input_specs(r.input_specs()); })
      .def_property_readonly("device", [](const Runner& r) { return r.device().str(); })
      .def_property_readonly("metadata", &Runner::metadata)
      .def_property_readonly("path", &Runner::path);
}
