// Trackers: MOSSE and KCF (+ DSST scale). Frames are (H, W) or (H, W, C) uint8 / float32 arrays
// with 1, 3 (BGR) or 4 channels; boxes (x, y, w, h). init / update release the GIL; each bound
// tracker carries a mutex, so two Python threads sharing one tracker are serialised, never racing.
//
// The parameters: MosseParams and KcfParams are bound field by field by ParamsClass, under the
// C++ names (which are the Python API's), with the C++ defaults; opticore.MOSSETracker /
// KCFTracker take the same names and a test checks their defaults against these. A wrong type
// raises TypeError and an out-of-range int ValueError naming the field; the tracker's
// constructor checks the ranges (std::invalid_argument -> ValueError naming the field).
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "image_arg.hpp"
#include "opticore/tracking/kcf.hpp"
#include "opticore/tracking/mosse.hpp"

namespace opticore::python {
namespace {

// ---------------------------------------------------------------- parameter values

/// The choices of an enum parameter, by their Python spelling.
template <class E>
using Choices = std::vector<std::pair<const char*, E>>;

const Choices<KcfFeatures> kFeatures = {
    {"hog", KcfFeatures::Hog}, {"gray", KcfFeatures::Gray}, {"hog+gray", KcfFeatures::HogGray}};
const Choices<KcfKernel> kKernels = {{"gaussian", KcfKernel::Gaussian}, {"linear", KcfKernel::Linear}};
const Choices<KcfScale> kScales = {{"dsst", KcfScale::Dsst}, {"none", KcfScale::None}};

template <class E>
const Choices<E>& choices_of() {
  if constexpr (std::is_same_v<E, KcfFeatures>) {
    return kFeatures;
  } else if constexpr (std::is_same_v<E, KcfKernel>) {
    return kKernels;
  } else {
    return kScales;
  }
}

std::string describe(py::handle value) {
  return std::string(py::str(py::type::handle_of(value).attr("__name__"))) + " " + std::string(py::repr(value));
}

[[noreturn]] void wrong_type(const char* name, const char* expected, py::handle value) {
  throw py::type_error(std::string(name) + ": expected " + expected + ", got " + describe(value));
}

/// A Python integer (int, NumPy integer; not bool) as an int64 / uint64.
template <class T>
T int_from_python(py::handle value, const char* name) {
  if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr())) wrong_type(name, "an int", value);
  const py::int_ i = py::reinterpret_steal<py::int_>(PyNumber_Index(value.ptr()));
  if (!i) throw py::error_already_set();
  if constexpr (std::is_signed_v<T>) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow != 0) {
      throw py::value_error(std::string(name) + ": expected an int in the int64 range, got " +
                            std::string(py::repr(value)));
    }
    return static_cast<T>(v);
  } else {
    if (PyObject_RichCompareBool(i.ptr(), py::int_(0).ptr(), Py_LT) == 1) {
      throw py::value_error(std::string(name) + ": expected an int >= 0, got " + std::string(py::repr(value)));
    }
    const unsigned long long v = PyLong_AsUnsignedLongLong(i.ptr());
    if (PyErr_Occurred() != nullptr) {
      PyErr_Clear();
      throw py::value_error(std::string(name) + ": expected an int < 2**64, got " + std::string(py::repr(value)));
    }
    return static_cast<T>(v);
  }
}

/// A Python value as the C++ field type T, or TypeError / ValueError naming the field.
template <class T>
T from_python(py::handle value, const char* name) {
  if constexpr (std::is_same_v<T, double>) {
    // float, int, NumPy scalars; not bool, str or None.
    const bool number = PyFloat_Check(value.ptr()) || PyIndex_Check(value.ptr()) ||
                        (py::hasattr(value, "__float__") && !PyUnicode_Check(value.ptr()));
    if (PyBool_Check(value.ptr()) || !number) wrong_type(name, "a float", value);
    const double v = PyFloat_AsDouble(value.ptr());
    if (v == -1.0 && PyErr_Occurred() != nullptr) {  // an int beyond the float range
      PyErr_Clear();
      throw py::value_error(std::string(name) + ": expected a float, got " + describe(value));
    }
    return v;
  } else if constexpr (std::is_integral_v<T>) {
    return int_from_python<T>(value, name);
  } else if constexpr (std::is_enum_v<T>) {
    if (!PyUnicode_Check(value.ptr())) wrong_type(name, "a str", value);
    const std::string s = value.cast<std::string>();
    std::string names;
    for (const auto& [key, e] : choices_of<T>()) {
      if (s == key) return e;
      names += (names.empty() ? "'" : ", '") + std::string(key) + "'";
    }
    throw py::value_error(std::string(name) + ": expected one of " + names + ", got '" + s + "'");
  } else {  // std::optional<U>: None or a U
    if (value.is_none()) return std::nullopt;
    return from_python<typename T::value_type>(value, name);
  }
}

template <class T>
py::object to_python(const T& value) {
  if constexpr (std::is_enum_v<T>) {
    for (const auto& [key, e] : choices_of<T>()) {
      if (e == value) return py::str(key);
    }
    return py::none();
  } else {
    return py::cast(value);  // std::optional: None when unset
  }
}

// ---------------------------------------------------------------- Params structs

/// Binds a Params struct: one Python property per field (name, conversion, C++ default; the
/// meaning and range are documented once, in the C++ header), a keyword constructor, `_fields`
/// (the names, in order) and a repr.
template <class P>
class ParamsClass {
 public:
  ParamsClass(py::module_& m, const char* name, const char* doc)
      : cls_(m, name, doc), setters_(std::make_shared<Setters>()) {}

  template <class T>
  ParamsClass& field(const char* name, T P::* member) {
    const auto set = [member, name](P& p, py::handle value) { p.*member = from_python<T>(value, name); };
    cls_.def_property(name, [member](const P& p) { return to_python(p.*member); }, set);
    (*setters_)[name] = set;
    names_.emplace_back(name);
    return *this;
  }

  void finish() {
    const auto setters = setters_;
    const std::string type_name = py::str(cls_.attr("__name__"));
    cls_.def(py::init([setters, type_name](const py::kwargs& kwargs) {
      P p;
      for (const auto& [key, value] : kwargs) {
        const std::string name = py::str(key);
        const auto it = setters->find(name);
        if (it == setters->end()) throw py::type_error(type_name + ": unexpected parameter '" + name + "'");
        it->second(p, value);
      }
      return p;
    }));
    py::tuple fields(names_.size());
    for (size_t i = 0; i < names_.size(); ++i) fields[i] = py::str(names_[i]);
    cls_.attr("_fields") = fields;
    cls_.def("__repr__", [type_name, fields](const py::object& self) {
      std::string s = type_name + "(";
      for (size_t i = 0; i < fields.size(); ++i) {
        const py::handle f = fields[i];
        s += (i ? ", " : "") + std::string(py::str(f)) + "=" + std::string(py::repr(self.attr(f)));
      }
      return s + ")";
    });
  }

 private:
  using Setters = std::map<std::string, std::function<void(P&, py::handle)>>;
  py::class_<P> cls_;
  std::shared_ptr<Setters> setters_;
  std::vector<std::string> names_;
};

// The Python name of a field is its C++ name, spelled once.
#define OPTICORE_FIELD(P, name) field(#name, &P::name)

void bind_params(py::module_& m) {
  ParamsClass<MosseParams>(m, "MosseParams", "MOSSE's parameters (opticore/tracking/mosse.hpp)")
      .OPTICORE_FIELD(MosseParams, learning_rate)
      .OPTICORE_FIELD(MosseParams, sigma)
      .OPTICORE_FIELD(MosseParams, regularization)
      .OPTICORE_FIELD(MosseParams, perturbations)
      .OPTICORE_FIELD(MosseParams, psr_threshold)
      .OPTICORE_FIELD(MosseParams, max_patch_side)
      .OPTICORE_FIELD(MosseParams, seed)
      .finish();

  ParamsClass<KcfParams>(m, "KcfParams", "KCF's parameters (opticore/tracking/kcf.hpp)")
      .OPTICORE_FIELD(KcfParams, features)
      .OPTICORE_FIELD(KcfParams, kernel)
      .OPTICORE_FIELD(KcfParams, scale)
      .OPTICORE_FIELD(KcfParams, padding)
      .OPTICORE_FIELD(KcfParams, regularization)
      .OPTICORE_FIELD(KcfParams, output_sigma_factor)
      .OPTICORE_FIELD(KcfParams, interp_factor)
      .OPTICORE_FIELD(KcfParams, kernel_sigma)
      .OPTICORE_FIELD(KcfParams, cell_size)
      .OPTICORE_FIELD(KcfParams, template_size)
      .OPTICORE_FIELD(KcfParams, psr_threshold)
      .OPTICORE_FIELD(KcfParams, num_scales)
      .OPTICORE_FIELD(KcfParams, scale_step)
      .OPTICORE_FIELD(KcfParams, scale_sigma_factor)
      .OPTICORE_FIELD(KcfParams, scale_learning_rate)
      .OPTICORE_FIELD(KcfParams, scale_regularization)
      .OPTICORE_FIELD(KcfParams, scale_model_max_area)
      .finish();
}

#undef OPTICORE_FIELD

// ---------------------------------------------------------------- the trackers

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

/// Any opticore::Tracker, its parameters, and the lock that serialises Python threads.
struct BoundTracker {
  std::unique_ptr<Tracker> tracker;
  std::function<py::object()> params;  // a copy of the tracker's, with the defaults filled in
  std::mutex mutex;

  template <class T, class P>
  static std::unique_ptr<BoundTracker> make(const P& params) {
    auto bound = std::make_unique<BoundTracker>();
    auto tracker = std::make_unique<T>(params);
    bound->params = [t = tracker.get()] { return py::cast(t->params()); };
    bound->tracker = std::move(tracker);
    return bound;
  }

  template <class F>
  auto on_frame(const py::array& image_in, F&& f) {
    const py::array image = prepare_frame(image_in);
    return with_image_type(image, [&](auto t) {
      const Frame frame = image_view<decltype(t)>(image);
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex);
      return f(frame);
    });
  }

  TrackResult last() {
    std::lock_guard<std::mutex> lock(mutex);
    return tracker->last();
  }
};

}  // namespace

void bind_tracking(py::module_& m) {
  bind_params(m);
  using B = BoundTracker;
  py::class_<B>(m, "Tracker", "A MOSSE or KCF tracker, by the type of its parameters")
      .def(py::init(&B::make<MosseTracker, MosseParams>), py::arg("params"))
      .def(py::init(&B::make<KcfTracker, KcfParams>), py::arg("params"))
      .def(
          "init",
          [](B& self, const py::array& image, const py::object& box_in) {
            const TrackBox box = parse_box(box_in);
            self.on_frame(image, [&](const Frame& frame) { self.tracker->init(frame, box); });
          },
          py::arg("image"), py::arg("box"))
      .def(
          "update",
          [](B& self, const py::array& image) {
            const TrackResult r = self.on_frame(image, [&](const Frame& frame) { return self.tracker->update(frame); });
            return UpdateResult{r.ok, to_tuple(r.box), r.score};
          },
          py::arg("image"))
      .def_property_readonly("initialized",
                             [](B& self) {
                               std::lock_guard<std::mutex> lock(self.mutex);
                               return self.tracker->initialized();
                             })
      .def_property_readonly("score", [](B& self) { return self.last().score; })
      .def_property_readonly("ok", [](B& self) { return self.last().ok; })
      .def_property_readonly("box", [](B& self) { return to_tuple(self.last().box); })
      .def_property_readonly("params", [](B& self) { return self.params(); });
}

}  // namespace opticore::python
