// RoI operators (forward only; training goes through torch.ops.opticore). The GIL is released
// around the core call; argument errors surface as ValueError / TypeError naming the argument.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "numpy_view.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/roi/ps_roi_align.hpp"
#include "opticore/roi/ps_roi_pool.hpp"
#include "opticore/roi/roi_align.hpp"
#include "opticore/roi/roi_pool.hpp"

namespace opticore::python {
namespace {

/// input (N, C, H, W) float32 / float64, and rois (K, 5) converted to the input's dtype.
std::tuple<py::array, py::array> prepare(const py::array& input_in, const py::array& rois_in) {
  require_ndim(input_in, 4, "input", "(N, C, H, W)");
  require_float(input_in, "input");
  require_ndim(rois_in, 2, "rois", "(K, 5)");
  require_float(rois_in, "rois");
  const py::array input = element_strided(input_in);
  py::array rois = element_strided(rois_in);
  if (rois.dtype().itemsize() != input.dtype().itemsize()) {
    rois = rois.attr("astype")(input.dtype()).cast<py::array>();
  }
  return {input, rois};
}

template <class T>
Array4View<T> array4_view(const py::array& a) {
  const auto item = static_cast<py::ssize_t>(sizeof(T));
  const int64_t size[4] = {a.shape(0), a.shape(1), a.shape(2), a.shape(3)};
  const int64_t stride[4] = {a.strides(0) / item, a.strides(1) / item, a.strides(2) / item, a.strides(3) / item};
  return {static_cast<const T*>(a.data()), size, stride};
}

/// (K, C_out, PH, PW), checked against kMaxArrayBytes before it is allocated: C_out = C, or
/// C / (PH * PW) for the position-sensitive operators.
std::vector<py::ssize_t> output_shape(const py::array& input, const py::array& rois, int64_t pooled_height,
                                      int64_t pooled_width, int64_t item_bytes, bool position_sensitive = false) {
  if (pooled_height < 1 || pooled_width < 1) {
    throw py::value_error("output_size: expected positive sizes, got (" + std::to_string(pooled_height) + ", " +
                          std::to_string(pooled_width) + ")");
  }
  int64_t channels = input.shape(1);
  if (position_sensitive) {
    const int64_t bins = pooled_height * pooled_width;
    if (channels % bins != 0) {
      throw py::value_error("input: expected channels divisible by output_size[0] * output_size[1] = " +
                            std::to_string(bins) + ", got " + std::to_string(channels));
    }
    channels /= bins;
  }
  check_array_size("output_size", {rois.shape(0), channels, pooled_height, pooled_width}, item_bytes);
  return {rois.shape(0), channels, pooled_height, pooled_width};
}

/// Runs f(input view, rois view, out) with the GIL released into a new (K, C_out, PH, PW) array.
template <class F>
py::array pooled(const py::array& input_in, const py::array& rois_in, int64_t pooled_height, int64_t pooled_width,
                 bool position_sensitive, F&& f) {
  const auto [input, rois] = prepare(input_in, rois_in);
  return with_float_type(input, [&](auto t) -> py::array {
    using T = decltype(t);
    py::array_t<T> out(output_shape(input, rois, pooled_height, pooled_width, sizeof(T), position_sensitive));
    const auto input_view = array4_view<T>(input);
    const auto rois_view = matrix_view<T>(rois);
    T* dst = out.mutable_data();
    py::gil_scoped_release release;
    f(input_view, rois_view, dst);
    return std::move(out);
  });
}

}  // namespace

void bind_roi(py::module_& m) {
  m.def(
      "roi_align",
      [](const py::array& input_in, const py::array& rois_in, int64_t pooled_height, int64_t pooled_width,
         double spatial_scale, int64_t sampling_ratio, bool aligned) -> py::array {
        const RoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio, aligned};
        return pooled(input_in, rois_in, pooled_height, pooled_width, false,
                      [&](const auto& input, const auto& rois, auto* out) { roi_align(input, rois, options, out); });
      },
      py::arg("input"), py::arg("rois"), py::arg("pooled_height"), py::arg("pooled_width"), py::arg("spatial_scale"),
      py::arg("sampling_ratio"), py::arg("aligned"));

  m.def(
      "roi_pool",
      [](const py::array& input_in, const py::array& rois_in, int64_t pooled_height, int64_t pooled_width,
         double spatial_scale) -> py::tuple {
        const auto [input, rois] = prepare(input_in, rois_in);
        const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
        return with_float_type(input, [&](auto t) -> py::tuple {
          using T = decltype(t);
          const auto shape = output_shape(input, rois, pooled_height, pooled_width, sizeof(T) + sizeof(int64_t));
          py::array_t<T> out(shape);
          py::array_t<int64_t> argmax(shape);
          const auto input_view = array4_view<T>(input);
          const auto rois_view = matrix_view<T>(rois);
          T* dst = out.mutable_data();
          int64_t* where = argmax.mutable_data();
          {
            py::gil_scoped_release release;
            roi_pool(input_view, rois_view, options, dst, where);
          }
          return py::make_tuple(out, argmax);
        });
      },
      py::arg("input"), py::arg("rois"), py::arg("pooled_height"), py::arg("pooled_width"), py::arg("spatial_scale"));

  m.def(
      "ps_roi_align",
      [](const py::array& input_in, const py::array& rois_in, int64_t pooled_height, int64_t pooled_width,
         double spatial_scale, int64_t sampling_ratio) -> py::array {
        const PsRoiAlignOptions options{pooled_height, pooled_width, spatial_scale, sampling_ratio};
        return pooled(input_in, rois_in, pooled_height, pooled_width, true,
                      [&](const auto& input, const auto& rois, auto* out) { ps_roi_align(input, rois, options, out); });
      },
      py::arg("input"), py::arg("rois"), py::arg("pooled_height"), py::arg("pooled_width"), py::arg("spatial_scale"),
      py::arg("sampling_ratio"));

  m.def(
      "ps_roi_pool",
      [](const py::array& input_in, const py::array& rois_in, int64_t pooled_height, int64_t pooled_width,
         double spatial_scale) -> py::array {
        const RoiPoolOptions options{pooled_height, pooled_width, spatial_scale};
        return pooled(input_in, rois_in, pooled_height, pooled_width, true,
                      [&](const auto& input, const auto& rois, auto* out) { ps_roi_pool(input, rois, options, out); });
      },
      py::arg("input"), py::arg("rois"), py::arg("pooled_height"), py::arg("pooled_width"), py::arg("spatial_scale"));
}

}  // namespace opticore::python
