// Trackers: MOSSE and KCF (+ DSST scale). Frames are (H, W) or (H, W, C) uint8 / float32 arrays
// with 1, 3 (BGR) or 4 channels; boxes (x, y, w, h). init / update release the GIL; each bound
// object carries a mutex, so two Python threads sharing one tracker are serialised, never racing.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "image_arg.hpp"
#include "opticore/tracking/kcf.hpp"
#include "opticore/tracking/mosse.hpp"

namespace opticore::python {
namespace {

using BoxTuple = std::tuple<double, double, double, double>;
using UpdateResult = std::tuple<bool, BoxTuple, double>;

/// (x, y, w, h): a sequence or array of 4 real numbers.
TrackBox parse_box(const py::object& box) {
  const py::array a = py::module_::import("numpy").attr("asarray")(box).cast<py::array>();
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw py::type_error("box: expected 4 numbers (x, y, w, h), got " + py::repr(box).cast<std::string>());
  }
  if (a.size() != 4 || a.ndim() > 2) {
    throw py::value_error("box: expected 4 numbers (x, y, w, h), got shape " + shape_string(a));
  }
  const auto v = py::array_t<double, py::array::forcecast | py::array::c_style>::ensure(a);
  const double* d = v.data();
  return {d[0], d[1], d[2], d[3]};
}

BoxTuple to_tuple(const TrackBox& b) { return {b.x, b.y, b.width, b.height}; }

/// (H, W) or (H, W, C), C in {1, 3, 4}.
py::array prepare_frame(const py::array& image_in) {
  py::array image = prepare_image(image_in);
  if (image.ndim() == 3 && image.shape(2) == 2) {
    throw py::value_error("image: expected 1 (grey), 3 (BGR) or 4 (BGRA) channels, got shape " + shape_string(image));
  }
  return image;
}

template <class Tracker>
struct Bound {
  Tracker tracker;
  std::mutex mutex;

  explicit Bound(Tracker t) : tracker(std::move(t)) {}

  void init(const py::array& image_in, const py::object& box_in) {
    const py::array image = prepare_frame(image_in);
    const TrackBox box = parse_box(box_in);
    with_image_type(image, [&](auto t) {
      const auto view = image_view<decltype(t)>(image);
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      tracker.init(view, box);
    });
  }

  UpdateResult update(const py::array& image_in) {
    const py::array image = prepare_frame(image_in);
    const TrackResult r = with_image_type(image, [&](auto t) {
      const auto view = image_view<decltype(t)>(image);
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      return tracker.update(view);
    });
    return {r.ok, to_tuple(r.box), r.score};
  }

  TrackResult last() {
    std::lock_guard<std::mutex> lock(mutex);
    return tracker.last();
  }
};

template <class Tracker>
void bind_common(py::class_<Bound<Tracker>>& cls) {
  using B = Bound<Tracker>;
  cls.def("init", &B::init, py::arg("image"), py::arg("box"))
      .def("update", &B::update, py::arg("image"))
      .def_property_readonly("initialized", [](B& self) {
        std::lock_guard<std::mutex> lock(self.mutex);
        return self.tracker.initialized();
      })
      .def_property_readonly("score", [](B& self) { return self.last().score; })
      .def_property_readonly("ok", [](B& self) { return self.last().ok; })
      .def_property_readonly("box", [](B& self) { return to_tuple(self.last().box); });
}

template <class E>
E parse_choice(const std::string& value, const char* name, std::initializer_list<std::pair<const char*, E>> choices) {
  std::string names;
  for (const auto& [key, e] : choices) {
    if (value == key) return e;
    names += (names.empty() ? "'" : ", '") + std::string(key) + "'";
  }
  throw py::value_error(std::string(name) + ": expected one of " + names + ", got '" + value + "'");
}

}  // namespace

void bind_tracking(py::module_& m) {
  using Mosse = Bound<MosseTracker>;
  py::class_<Mosse> mosse(m, "MosseTracker");
  mosse.def(py::init([](double learning_rate, double sigma, double regularization, int64_t perturbations,
                        double psr_threshold, int64_t max_patch_side, uint64_t seed) {
              MosseParams p;
              p.learning_rate = learning_rate;
              p.sigma = sigma;
              p.regularization = regularization;
              p.perturbations = perturbations;
              p.psr_threshold = psr_threshold;
              p.max_patch_side = max_patch_side;
              p.seed = seed;
              return std::make_unique<Mosse>(MosseTracker(p));
            }),
            py::kw_only(), py::arg("learning_rate"), py::arg("sigma"), py::arg("regularization"),
            py::arg("perturbations"), py::arg("psr_threshold"), py::arg("max_patch_side"), py::arg("seed"));
  bind_common(mosse);

  using Kcf = Bound<KcfTracker>;
  py::class_<Kcf> kcf(m, "KcfTracker");
  kcf.def(py::init([](const std::string& features, const std::string& kernel, const std::string& scale,
                      double padding, double lambda, double output_sigma_factor, std::optional<double> interp_factor,
                      std::optional<double> kernel_sigma, std::optional<int64_t> cell_size, int64_t template_size,
                      double psr_threshold, int64_t num_scales, double scale_step, double scale_sigma_factor,
                      double scale_learning_rate, double scale_lambda, int64_t scale_model_max_area) {
            KcfParams p;
            p.features = parse_choice<KcfFeatures>(
                features, "features",
                {{"hog", KcfFeatures::Hog}, {"gray", KcfFeatures::Gray}, {"hog+gray", KcfFeatures::HogGray}});
            p.kernel = parse_choice<KcfKernel>(kernel, "kernel",
                                               {{"gaussian", KcfKernel::Gaussian}, {"linear", KcfKernel::Linear}});
            p.scale = parse_choice<KcfScale>(scale, "scale", {{"dsst", KcfScale::Dsst}, {"none", KcfScale::None}});
            p.padding = padding;
            p.lambda = lambda;
            p.output_sigma_factor = output_sigma_factor;
            p.interp_factor = interp_factor;
            p.kernel_sigma = kernel_sigma;
            p.cell_size = cell_size;
            p.template_size = template_size;
            p.psr_threshold = psr_threshold;
            p.num_scales = num_scales;
            p.scale_step = scale_step;
            p.scale_sigma_factor = scale_sigma_factor;
            p.scale_learning_rate = scale_learning_rate;
            p.scale_lambda = scale_lambda;
            p.scale_model_max_area = scale_model_max_area;
            return std::make_unique<Kcf>(KcfTracker(p));
          }),
          py::kw_only(), py::arg("features"), py::arg("kernel"), py::arg("scale"), py::arg("padding"),
          py::arg("lambda_"), py::arg("output_sigma_factor"), py::arg("interp_factor"), py::arg("kernel_sigma"),
          py::arg("cell_size"), py::arg("template_size"), py::arg("psr_threshold"), py::arg("num_scales"),
          py::arg("scale_step"), py::arg("scale_sigma_factor"), py::arg("scale_learning_rate"),
          py::arg("scale_lambda"), py::arg("scale_model_max_area"));
  kcf.def_property_readonly("resolved", [](Kcf& self) {
    const KcfParams& p = self.tracker.params();
    return py::dict(py::arg("interp_factor") = *p.interp_factor, py::arg("kernel_sigma") = *p.kernel_sigma,
                    py::arg("cell_size") = *p.cell_size);
  });
  bind_common(kcf);
}

}  // namespace opticore::python
