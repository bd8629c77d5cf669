// opticore._runtime: the runners for Python. Tensors cross as DLPack capsules ("dltensor", as
// torch.utils.dlpack makes them), so this module links neither libtorch_python nor torch's own
// pybind11; python/opticore/runtime wraps it. The GIL is released while a package runs.
#include <ATen/DLConvertor.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstring>
#include <optional>
#include <utility>

#include <string>
#include <vector>

#include "opticore/runtime/face_detector.hpp"
#include "opticore/runtime/face_pipeline.hpp"
#include "opticore/runtime/runner.hpp"

namespace py = pybind11;
using opticore::runtime::FaceDetector;
using opticore::runtime::FacePipeline;
using opticore::runtime::LandmarkDetector;
using opticore::runtime::LivenessDetector;
using opticore::runtime::Runner;
using opticore::runtime::RunnerOptions;

// The pipelines take what opticore.runtime has checked and made contiguous: an H x W x 3 uint8
// image and F x 4 float64 boxes.
using ImageArray = py::array_t<uint8_t, py::array::c_style>;
using BoxArray = py::array_t<double, py::array::c_style>;

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

opticore::ImageView<uint8_t> image_view(const ImageArray& image) {
  if (image.ndim() != 3) throw std::invalid_argument("image: expected H x W x 3");
  return {image.data(), image.shape(0), image.shape(1), image.shape(2)};
}

opticore::MatrixView<double> box_view(const BoxArray& boxes) {
  if (boxes.ndim() != 2) throw std::invalid_argument("boxes: expected F x 4");
  return {boxes.data(), boxes.shape(0), boxes.shape(1)};
}

// A CPU tensor's values as a new NumPy array of the same shape.
template <class T>
py::array_t<T> to_numpy(const at::Tensor& tensor) {
  const at::Tensor t = tensor.contiguous();
  py::array_t<T> out(std::vector<py::ssize_t>(t.sizes().begin(), t.sizes().end()));
  std::memcpy(out.mutable_data(), t.data_ptr<T>(), static_cast<size_t>(t.numel()) * sizeof(T));
  return out;
}

RunnerOptions runner_options(const std::string& device, int64_t num_threads, int64_t warmup_runs,
                             const std::string& inputs) {
  RunnerOptions options;
  options.device = device;
  options.num_threads = num_threads;
  options.warmup_runs = warmup_runs;
  if (!inputs.empty()) options.inputs = opticore::runtime::parse_input_specs(inputs);
  return options;
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
             const RunnerOptions options = runner_options(device, num_threads, warmup_runs, inputs);
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

  // The pipelines hold their own runners: built from paths, with the same runner options.
  py::class_<LandmarkDetector>(m, "LandmarkDetector")
      .def(py::init([](const std::string& path, const std::string& device, int64_t num_threads, double margin) {
             py::gil_scoped_release release;
             return LandmarkDetector(Runner(path, runner_options(device, num_threads, 1, "")), margin);
           }),
           py::arg("path"), py::arg("device"), py::arg("num_threads"), py::arg("margin"))
      .def("detect",
           [](const LandmarkDetector& d, const ImageArray& image, const BoxArray& boxes) {
             at::Tensor points;
             {
               py::gil_scoped_release release;
               points = d.detect(image_view(image), box_view(boxes));
             }
             return to_numpy<double>(points);
           })
      .def_property_readonly("margin", &LandmarkDetector::margin)
      .def_property_readonly("crop_size", &LandmarkDetector::crop_size);

  py::class_<LivenessDetector>(m, "LivenessDetector")
      .def(py::init([](const std::vector<std::pair<std::string, double>>& models, const std::string& device,
                       int64_t num_threads, int64_t live_class) {
             py::gil_scoped_release release;
             std::vector<LivenessDetector::Model> loaded;
             for (const auto& [path, scale] : models) {
               loaded.push_back({Runner(path, runner_options(device, num_threads, 1, "")), scale});
             }
             return LivenessDetector(std::move(loaded), live_class);
           }),
           py::arg("models"), py::arg("device"), py::arg("num_threads"), py::arg("live_class"))
      .def("live_probability",
           [](const LivenessDetector& d, const ImageArray& image, const BoxArray& boxes) {
             at::Tensor live;
             {
               py::gil_scoped_release release;
               live = d.live_probability(image_view(image), box_view(boxes));
             }
             return to_numpy<float>(live);
           })
      .def_property_readonly("scales", [](const LivenessDetector& d) {
        std::vector<double> scales;
        for (const auto& model : d.models()) scales.push_back(model.scale);
        return scales;
      });

  py::class_<FacePipeline>(m, "FacePipeline")
      .def(py::init([](const LandmarkDetector& landmarks, std::optional<LivenessDetector> liveness,
                       int64_t aligned_size) { return FacePipeline(landmarks, std::move(liveness), aligned_size); }),
           py::arg("landmarks"), py::arg("liveness"), py::arg("aligned_size"))
      .def("run", [](const FacePipeline& p, const ImageArray& image, const BoxArray& boxes) {
        opticore::runtime::Faces faces;
        {
          py::gil_scoped_release release;
          faces = p.run(image_view(image), box_view(boxes));
        }
        py::dict out;
        out["landmarks"] = to_numpy<double>(faces.landmarks);
        out["aligned"] = to_numpy<uint8_t>(faces.aligned);
        out["matrices"] = to_numpy<double>(faces.matrices);
        out["live"] = faces.live.defined() ? py::object(to_numpy<float>(faces.live)) : py::object(py::none());
        return out;
      });

  // The detector reads the image in place (any strides; H x W or H x W x C, C = 1, 3 or 4).
  py::class_<FaceDetector>(m, "FaceDetector")
      .def(py::init([](const std::vector<std::string>& paths, const std::string& device, int64_t num_threads,
                       double min_face_size, double scale_factor, const std::array<double, 3>& thresholds,
                       const std::array<double, 4>& nms_thresholds, const std::string& color,
                       const std::string& interpolation) {
             if (paths.size() != 3) throw std::invalid_argument("paths: expected the P-Net, R-Net and O-Net packages");
             opticore::runtime::FaceDetectorOptions options;
             options.min_face_size = min_face_size;
             options.scale_factor = scale_factor;
             options.thresholds = thresholds;
             options.nms_thresholds = nms_thresholds;
             options.color = color == "rgb" ? opticore::ColorOrder::Rgb : opticore::ColorOrder::Bgr;
             options.interpolation =
                 interpolation == "area" ? opticore::Interpolation::Area : opticore::Interpolation::Bins;
             py::gil_scoped_release release;
             const RunnerOptions runner = runner_options(device, num_threads, 1, "");
             return FaceDetector(Runner(paths[0], runner), Runner(paths[1], runner), Runner(paths[2], runner), options);
           }),
           py::arg("paths"), py::arg("device"), py::arg("num_threads"), py::arg("min_face_size"),
           py::arg("scale_factor"), py::arg("thresholds"), py::arg("nms_thresholds"), py::arg("color"),
           py::arg("interpolation"))
      .def("detect",
           [](const FaceDetector& d, const py::array_t<uint8_t, 0>& image) {
             if (image.ndim() != 2 && image.ndim() != 3) throw std::invalid_argument("image: expected H x W (x C)");
             const opticore::ImageView<uint8_t> view(image.data(), image.shape(0), image.shape(1),
                                                     image.ndim() == 3 ? image.shape(2) : 1, image.strides(0),
                                                     image.strides(1), image.ndim() == 3 ? image.strides(2) : 1);
             opticore::runtime::Detections faces;
             {
               py::gil_scoped_release release;
               faces = d.detect(view);
             }
             return py::make_tuple(to_numpy<float>(faces.boxes), to_numpy<float>(faces.scores),
                                   to_numpy<float>(faces.landmarks));
           })
      .def("scales", &FaceDetector::scales, py::arg("height"), py::arg("width"));
}
