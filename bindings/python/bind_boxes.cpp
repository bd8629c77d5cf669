// Box operators: area, IoU, NMS, batched NMS, Soft-NMS. The GIL is released around every call
// into the core; argument errors surface as ValueError / TypeError naming the argument.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "numpy_view.hpp"
#include "opticore/boxes/batched_nms.hpp"
#include "opticore/boxes/box_loss.hpp"
#include "opticore/boxes/iou.hpp"
#include "opticore/boxes/iou_variants.hpp"
#include "opticore/boxes/nms.hpp"
#include "opticore/boxes/nms_min.hpp"
#include "opticore/boxes/soft_nms.hpp"
#include "opticore/core/limits.hpp"

namespace opticore::python {
namespace {

py::array prepare_boxes(const py::array& boxes, const char* name) {
  require_ndim(boxes, 2, name, "(N, 4)");
  require_float(boxes, name);
  return element_strided(boxes);
}

py::array prepare_scores(const py::array& scores) {
  require_ndim(scores, 1, "scores", "(N,)");
  require_float(scores, "scores");
  return element_strided(scores);
}

py::array prepare_labels(const py::array& labels) {
  require_ndim(labels, 1, "labels", "(N,)");
  const char kind = labels.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    throw py::type_error("labels: expected an integer array, got " + dtype_name(labels));
  }
  return py::module_::import("numpy").attr("ascontiguousarray")(labels, "int64").cast<py::array>();
}

/// boxes1 and boxes2 checked, and both float64 when their precisions differ.
std::pair<py::array, py::array> prepare_box_pair(const py::array& a_in, const py::array& b_in) {
  py::array a = prepare_boxes(a_in, "boxes1");
  py::array b = prepare_boxes(b_in, "boxes2");
  if (a.dtype().itemsize() != b.dtype().itemsize()) {  // mixed precision: compute in float64
    a = a.attr("astype")("float64").cast<py::array>();
    b = b.attr("astype")("float64").cast<py::array>();
  }
  return {a, b};
}

enum class Output { kPairwise, kPerRow };

/// Runs f(view1, view2, out) on two box sets (checked, float64 if their precisions differ) with
/// the GIL released; `out` is (N, M) for kPairwise, (N,) for kPerRow.
template <class F>
py::array on_box_pair(const py::array& a_in, const py::array& b_in, Output shape, F&& f) {
  const auto [a, b] = prepare_box_pair(a_in, b_in);
  if (shape == Output::kPairwise) check_array_size("boxes1, boxes2", {a.shape(0), b.shape(0)}, a.dtype().itemsize());
  return with_float_type(a, [&](auto t) -> py::array {
    using T = decltype(t);
    py::array_t<T> out =
        shape == Output::kPairwise ? py::array_t<T>({a.shape(0), b.shape(0)}) : py::array_t<T>(a.shape(0));
    const auto av = matrix_view<T>(a);
    const auto bv = matrix_view<T>(b);
    T* dst = out.mutable_data();
    py::gil_scoped_release release;
    f(av, bv, dst);
    return std::move(out);
  });
}

/// Calls f(T{}, S{}) with T the boxes' and S the scores' element types.
template <class F>
decltype(auto) with_box_and_score_types(const py::array& boxes, const py::array& scores, F&& f) {
  return with_float_type(boxes, [&](auto t) { return with_float_type(scores, [&](auto s) { return f(t, s); }); });
}

}  // namespace

void bind_boxes(py::module_& m) {
  m.def(
      "box_area",
      [](const py::array& boxes_in) -> py::array {
        const py::array boxes = prepare_boxes(boxes_in, "boxes");
        return with_float_type(boxes, [&](auto t) -> py::array {
          using T = decltype(t);
          py::array_t<T> out(boxes.shape(0));
          const auto view = matrix_view<T>(boxes);
          T* dst = out.mutable_data();
          py::gil_scoped_release release;
          box_area(view, dst);
          return std::move(out);
        });
      },
      py::arg("boxes"));

  m.def(
      "box_iou",
      [](const py::array& a_in, const py::array& b_in) -> py::array {
        return on_box_pair(a_in, b_in, Output::kPairwise, [](auto av, auto bv, auto* dst) { box_iou(av, bv, dst); });
      },
      py::arg("boxes1"), py::arg("boxes2"));

  m.def(
      "box_iou_variant",
      [](const py::array& a_in, const py::array& b_in, const std::string& kind, double eps) -> py::array {
        const IouVariant variant = iou_variant(kind.c_str());
        return on_box_pair(a_in, b_in, Output::kPairwise,
                           [&](auto av, auto bv, auto* dst) { box_iou_variant(av, bv, variant, eps, dst); });
      },
      py::arg("boxes1"), py::arg("boxes2"), py::arg("kind"), py::arg("eps"));

  m.def(
      "box_loss",
      [](const py::array& a_in, const py::array& b_in, const std::string& kind, double eps) -> py::array {
        const IouVariant variant = iou_variant(kind.c_str());
        return on_box_pair(a_in, b_in, Output::kPerRow,
                           [&](auto av, auto bv, auto* dst) { box_loss(av, bv, variant, eps, dst); });
      },
      py::arg("boxes1"), py::arg("boxes2"), py::arg("kind"), py::arg("eps"));

  m.def(
      "nms",
      [](const py::array& boxes_in, const py::array& scores_in, double iou_threshold,
         std::optional<double> score_threshold, std::optional<int64_t> max_output) {
        const py::array boxes = prepare_boxes(boxes_in, "boxes");
        const py::array scores = prepare_scores(scores_in);
        const NmsOptions options{score_threshold, max_output};
        std::vector<int64_t> kept = with_box_and_score_types(boxes, scores, [&](auto t, auto s) {
          const auto bv = matrix_view<decltype(t)>(boxes);
          const auto sv = vector_view<decltype(s)>(scores);
          py::gil_scoped_release release;
          return nms(bv, sv, iou_threshold, options);
        });
        return to_numpy<int64_t>(kept);
      },
      py::arg("boxes"), py::arg("scores"), py::arg("iou_threshold"), py::kw_only(),
      py::arg("score_threshold") = py::none(), py::arg("max_output") = py::none());

  m.def(
      "nms_min",
      [](const py::array& boxes_in, const py::array& scores_in, double threshold) {
        const py::array boxes = prepare_boxes(boxes_in, "boxes");
        const py::array scores = prepare_scores(scores_in);
        std::vector<int64_t> kept = with_box_and_score_types(boxes, scores, [&](auto t, auto s) {
          const auto bv = matrix_view<decltype(t)>(boxes);
          const auto sv = vector_view<decltype(s)>(scores);
          py::gil_scoped_release release;
          return nms_min(bv, sv, threshold);
        });
        return to_numpy<int64_t>(kept);
      },
      py::arg("boxes"), py::arg("scores"), py::arg("threshold"));

  m.def(
      "batched_nms",
      [](const py::array& boxes_in, const py::array& scores_in, const py::array& labels_in, double iou_threshold,
         std::optional<double> score_threshold, std::optional<int64_t> max_output) {
        const py::array boxes = prepare_boxes(boxes_in, "boxes");
        const py::array scores = prepare_scores(scores_in);
        const py::array labels = prepare_labels(labels_in);
        const NmsOptions options{score_threshold, max_output};
        std::vector<int64_t> kept = with_box_and_score_types(boxes, scores, [&](auto t, auto s) {
          const auto bv = matrix_view<decltype(t)>(boxes);
          const auto sv = vector_view<decltype(s)>(scores);
          const auto lv = vector_view<int64_t>(labels);
          py::gil_scoped_release release;
          return batched_nms(bv, sv, lv, iou_threshold, options);
        });
        return to_numpy<int64_t>(kept);
      },
      py::arg("boxes"), py::arg("scores"), py::arg("labels"), py::arg("iou_threshold"), py::kw_only(),
      py::arg("score_threshold") = py::none(), py::arg("max_output") = py::none());

  m.def(
      "soft_nms",
      [](const py::array& boxes_in, const py::array& scores_in, const std::string& method, double sigma,
         double iou_threshold, double score_threshold, std::optional<int64_t> max_output) {
        const py::array boxes = prepare_boxes(boxes_in, "boxes");
        const py::array scores = prepare_scores(scores_in);
        const SoftNmsOptions options{soft_nms_method(method), sigma, iou_threshold, score_threshold, max_output};
        return with_box_and_score_types(boxes, scores, [&](auto t, auto s) -> py::tuple {
          using S = decltype(s);
          const auto bv = matrix_view<decltype(t)>(boxes);
          const auto sv = vector_view<S>(scores);
          SoftNmsResult<S> result;
          {
            py::gil_scoped_release release;
            result = soft_nms(bv, sv, options);
          }
          return py::make_tuple(to_numpy<int64_t>(result.indices), to_numpy<S>(result.scores));
        });
      },
      py::arg("boxes"), py::arg("scores"), py::kw_only(), py::arg("method") = "gaussian", py::arg("sigma") = 0.5,
      py::arg("iou_threshold") = 0.3, py::arg("score_threshold") = 0.001, py::arg("max_output") = py::none());
}

}  // namespace opticore::python
