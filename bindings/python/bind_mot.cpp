// Multi-object tracking: the linear assignment solver, the box Kalman filter and MultiTracker
// (SORT, ByteTrack, OC-SORT). Arrays are read as float64 / int64 (other real / integer dtypes are
// converted); the GIL is released around the solver and every update; a bound MultiTracker carries
// a mutex, so Python threads sharing one are serialised, never racing.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "numpy_view.hpp"
#include "opticore/mot/assignment.hpp"
#include "opticore/mot/kalman.hpp"
#include "opticore/mot/multi_tracker.hpp"

namespace opticore::python {
namespace {

/// `a` as a C-contiguous array of T with `ndim` dimensions; TypeError unless its dtype is a real
/// (or, for T = int64_t, integer) number.
template <class T>
py::array_t<T> as_contiguous(const py::object& a_in, int ndim, const char* name, const char* shape) {
  const py::array a = py::module_::import("numpy").attr("asarray")(a_in).cast<py::array>();
  const char kind = a.dtype().kind();
  const bool ok =
      std::is_floating_point_v<T> ? (kind == 'f' || kind == 'i' || kind == 'u') : (kind == 'i' || kind == 'u');
  if (!ok) {
    throw py::type_error(std::string(name) + ": expected " + (std::is_floating_point_v<T> ? "real" : "integer") +
                         " numbers, got " + dtype_name(a));
  }
  require_ndim(a, ndim, name, shape);
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
}

py::array_t<double> boxes_arg(const py::object& boxes, const char* name) {
  auto b = as_contiguous<double>(boxes, 2, name, "(N, 4)");
  if (b.shape(1) != 4) throw py::value_error(std::string(name) + ": expected shape (N, 4), got " + shape_string(b));
  return b;
}

// ---------------------------------------------------------------- Kalman filter

using KalmanArrays = std::pair<py::array_t<double>, py::array_t<double>>;

/// (N, 8) means and (N, 8, 8) covariances as states; ValueError unless each covariance has the
/// filter's structure (one symmetric 2x2 block per coordinate, zeros elsewhere).
std::vector<KalmanState> states_from(const py::object& mean_in, const py::object& cov_in) {
  const auto mean = as_contiguous<double>(mean_in, 2, "mean", "(N, 8)");
  const auto cov = as_contiguous<double>(cov_in, 3, "covariance", "(N, 8, 8)");
  if (mean.shape(1) != 8) throw py::value_error("mean: expected shape (N, 8), got " + shape_string(mean));
  if (cov.shape(0) != mean.shape(0) || cov.shape(1) != 8 || cov.shape(2) != 8) {
    throw py::value_error("covariance: expected shape (" + std::to_string(mean.shape(0)) + ", 8, 8), got " +
                          shape_string(cov));
  }
  const double* m = mean.data();
  const double* c = cov.data();
  for (py::ssize_t i = 0; i < mean.size(); ++i) {
    if (!std::isfinite(m[i])) throw py::value_error("mean: expected finite values, got " + std::to_string(m[i]));
  }
  for (py::ssize_t i = 0; i < cov.size(); ++i) {
    if (!std::isfinite(c[i])) throw py::value_error("covariance: expected finite values, got " + std::to_string(c[i]));
  }
  std::vector<KalmanState> states(static_cast<size_t>(mean.shape(0)));
  for (size_t i = 0; i < states.size(); ++i) {
    const double* p = c + i * 64;
    for (int r = 0; r < 8; ++r) {
      for (int q = 0; q < 8; ++q) {
        const bool in_block = (r % 4) == (q % 4);
        if ((!in_block && p[r * 8 + q] != 0.0) || p[r * 8 + q] != p[q * 8 + r]) {
          throw py::value_error(
              "covariance: expected the filter's structure (symmetric, P[i, j] = 0 unless i = j "
              "mod 4), got P[" +
              std::to_string(r) + ", " + std::to_string(q) + "] = " + std::to_string(p[r * 8 + q]) + " in covariance " +
              std::to_string(i));
        }
      }
    }
    for (int k = 0; k < 8; ++k) states[i].mean[static_cast<size_t>(k)] = m[i * 8 + static_cast<size_t>(k)];
    for (int k = 0; k < 4; ++k) {
      states[i].cov[static_cast<size_t>(3 * k)] = p[k * 8 + k];
      states[i].cov[static_cast<size_t>(3 * k + 1)] = p[k * 8 + k + 4];
      states[i].cov[static_cast<size_t>(3 * k + 2)] = p[(k + 4) * 8 + k + 4];
    }
  }
  return states;
}

KalmanArrays arrays_from(const std::vector<KalmanState>& states) {
  const auto n = static_cast<py::ssize_t>(states.size());
  py::array_t<double> mean({n, py::ssize_t{8}});
  py::array_t<double> cov({n, py::ssize_t{8}, py::ssize_t{8}});
  double* m = mean.mutable_data();
  double* c = cov.mutable_data();
  std::fill(c, c + n * 64, 0.0);
  for (size_t i = 0; i < states.size(); ++i) {
    std::copy(states[i].mean.begin(), states[i].mean.end(), m + i * 8);
    double* p = c + i * 64;
    for (int k = 0; k < 4; ++k) {
      p[k * 8 + k] = states[i].cov[static_cast<size_t>(3 * k)];
      p[k * 8 + k + 4] = p[(k + 4) * 8 + k] = states[i].cov[static_cast<size_t>(3 * k + 1)];
      p[(k + 4) * 8 + k + 4] = states[i].cov[static_cast<size_t>(3 * k + 2)];
    }
  }
  return {mean, cov};
}

// ---------------------------------------------------------------- MultiTracker

struct BoundMultiTracker {
  MultiTracker tracker;
  std::mutex mutex;
  explicit BoundMultiTracker(const MotParams& params) : tracker(params) {}
};

/// boxes (M, 4), ids, scores, labels, detections, states (0 tentative, 1 confirmed, 2 lost),
/// time_since_update.
py::tuple tracks_to_python(const std::vector<TrackOutput>& tracks) {
  const auto n = static_cast<py::ssize_t>(tracks.size());
  py::array_t<double> boxes({n, py::ssize_t{4}});
  py::array_t<int64_t> ids(n), labels(n), detections(n), since(n);
  py::array_t<double> scores(n);
  py::array_t<int8_t> states(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    const TrackOutput& t = tracks[static_cast<size_t>(i)];
    std::copy(t.box.begin(), t.box.end(), boxes.mutable_data() + i * 4);
    ids.mutable_data()[i] = t.id;
    scores.mutable_data()[i] = t.score;
    labels.mutable_data()[i] = t.label;
    detections.mutable_data()[i] = t.detection;
    states.mutable_data()[i] = static_cast<int8_t>(t.state);
    since.mutable_data()[i] = t.time_since_update;
  }
  return py::make_tuple(boxes, ids, scores, labels, detections, states, since);
}

// MotParams' numeric fields; the Python name of each is its C++ name, spelled once.
#define OPTICORE_MOT_FIELDS(X) \
  X(high_threshold)            \
  X(low_threshold)             \
  X(new_track_threshold)       \
  X(iou_threshold)             \
  X(low_iou_threshold)         \
  X(track_buffer)              \
  X(min_hits)                  \
  X(frame_rate)                \
  X(momentum_weight)           \
  X(momentum_delta_t)          \
  X(std_weight_position)       \
  X(std_weight_velocity)

/// MotParams from keyword arguments named as its fields (each optional: the C++ default
/// otherwise); TypeError for an unknown name. The Python wrapper has checked the types.
MotParams params_from(const py::kwargs& kwargs) {
  MotParams p;
  size_t known = 0;
  if (kwargs.contains("method")) p.method = mot_method(kwargs["method"].cast<std::string>()), ++known;
#define OPTICORE_SET(name) \
  if (kwargs.contains(#name)) p.name = kwargs[#name].cast<decltype(p.name)>(), ++known;
  OPTICORE_MOT_FIELDS(OPTICORE_SET)
#undef OPTICORE_SET
  if (known != kwargs.size()) {
    throw py::type_error("MultiTracker: unexpected parameter among " + py::repr(kwargs).cast<std::string>());
  }
  return p;
}

/// The parameters as a dict, by field name.
py::dict params_to_python(const MotParams& p) {
  py::dict d;
  d["method"] = mot_method_name(p.method);
#define OPTICORE_GET(name) d[#name] = p.name;
  OPTICORE_MOT_FIELDS(OPTICORE_GET)
#undef OPTICORE_GET
  return d;
}

#undef OPTICORE_MOT_FIELDS

}  // namespace

void bind_mot(py::module_& m) {
  m.def(
      "linear_assignment",
      [](const py::object& cost_in, std::optional<double> max_cost) {
        const auto cost = as_contiguous<double>(cost_in, 2, "cost", "(N, M)");
        const MatrixView<double> view(cost.data(), cost.shape(0), cost.shape(1));
        Assignment result;
        {
          py::gil_scoped_release release;
          result = linear_assignment(view, max_cost.value_or(std::numeric_limits<double>::infinity()));
        }
        return py::make_tuple(to_numpy<int64_t>(result.rows), to_numpy<int64_t>(result.cols));
      },
      py::arg("cost"), py::arg("max_cost") = py::none());

  m.def(
      "kalman_initiate",
      [](const py::object& boxes_in, double wp, double wv) {
        const auto boxes = boxes_arg(boxes_in, "boxes");
        const KalmanParams params{wp, wv};
        check_kalman_params(params);
        const MatrixView<double> view(boxes.data(), boxes.shape(0), 4);
        check_track_boxes(view, "boxes");
        std::vector<KalmanState> states;
        for (int64_t i = 0; i < view.rows; ++i) states.push_back(kalman_initiate(boxes.data() + i * 4, params));
        return arrays_from(states);
      },
      py::arg("boxes"), py::arg("std_weight_position"), py::arg("std_weight_velocity"));

  m.def(
      "kalman_predict",
      [](const py::object& mean, const py::object& cov, double wp, double wv) {
        const KalmanParams params{wp, wv};
        check_kalman_params(params);
        std::vector<KalmanState> states = states_from(mean, cov);
        kalman_predict(states.data(), static_cast<int64_t>(states.size()), params);
        return arrays_from(states);
      },
      py::arg("mean"), py::arg("covariance"), py::arg("std_weight_position"), py::arg("std_weight_velocity"));

  m.def(
      "kalman_update",
      [](const py::object& mean, const py::object& cov, const py::object& boxes_in, double wp, double wv) {
        const KalmanParams params{wp, wv};
        check_kalman_params(params);
        std::vector<KalmanState> states = states_from(mean, cov);
        const auto boxes = boxes_arg(boxes_in, "boxes");
        if (boxes.shape(0) != static_cast<py::ssize_t>(states.size())) {
          throw py::value_error("boxes: expected " + std::to_string(states.size()) + " boxes (one per state), got " +
                                std::to_string(boxes.shape(0)));
        }
        check_track_boxes(MatrixView<double>(boxes.data(), boxes.shape(0), 4), "boxes");
        for (size_t i = 0; i < states.size(); ++i) kalman_update(states[i], boxes.data() + i * 4, params);
        return arrays_from(states);
      },
      py::arg("mean"), py::arg("covariance"), py::arg("boxes"), py::arg("std_weight_position"),
      py::arg("std_weight_velocity"));

  using B = BoundMultiTracker;
  py::class_<B>(m, "MultiTracker", "SORT / ByteTrack / OC-SORT (opticore/mot/multi_tracker.hpp)")
      .def(py::init([](const py::kwargs& kwargs) { return std::make_unique<B>(params_from(kwargs)); }))
      .def(
          "update",
          [](B& self, const py::object& boxes_in, const py::object& scores_in, const py::object& labels_in,
             const py::object& motion_in) {
            const auto boxes = boxes_arg(boxes_in, "boxes");
            const auto scores = as_contiguous<double>(scores_in, 1, "scores", "(N,)");
            std::optional<py::array_t<int64_t>> labels;
            if (!labels_in.is_none()) labels = as_contiguous<int64_t>(labels_in, 1, "labels", "(N,)");
            std::optional<Affine> motion;
            if (!motion_in.is_none()) {
              const auto a = as_contiguous<double>(motion_in, 2, "camera_motion", "(2, 3)");
              if (a.shape(0) != 2 || a.shape(1) != 3) {
                throw py::value_error("camera_motion: expected shape (2, 3), got " + shape_string(a));
              }
              Affine affine;
              std::copy(a.data(), a.data() + 6, affine.begin());
              motion = affine;
            }
            const MatrixView<double> bv(boxes.data(), boxes.shape(0), 4);
            const VectorView<double> sv(scores.data(), scores.shape(0));
            std::optional<VectorView<int64_t>> lv;
            if (labels) lv = VectorView<int64_t>(labels->data(), labels->shape(0));
            std::vector<TrackOutput> out;
            {
              py::gil_scoped_release release;
              std::lock_guard<std::mutex> lock(self.mutex);
              out = self.tracker.update(bv, sv, lv, motion);
            }
            return tracks_to_python(out);
          },
          py::arg("boxes"), py::arg("scores"), py::arg("labels") = py::none(), py::arg("camera_motion") = py::none())
      .def("tracks",
           [](B& self) {
             std::lock_guard<std::mutex> lock(self.mutex);
             return tracks_to_python(self.tracker.tracks());
           })
      .def("reset",
           [](B& self) {
             std::lock_guard<std::mutex> lock(self.mutex);
             self.tracker.reset();
           })
      .def_property_readonly("params", [](B& self) { return params_to_python(self.tracker.params()); })
      .def_property_readonly("frame_count", [](B& self) {
        std::lock_guard<std::mutex> lock(self.mutex);
        return self.tracker.frame_count();
      });
}

}  // namespace opticore::python
