// Warps: warp_affine, remap, resize, and the random_warp augmentation. Images are (H, W) or (H, W, C) uint8 / float32
// arrays of any layout, read in place; the output is a new C-contiguous array of the same dtype and layout kind. The
// GIL is released around every call into the core; dtype errors are TypeError, shape and value errors ValueError, each
// naming the argument.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "image_arg.hpp"
#include "numpy_view.hpp"
#include "opticore/core/image.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/geometry/random_warp.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::python {
namespace {

/// A new (height, width) or (height, width, C) array, following the input's layout kind.
template <class T>
py::array_t<T> make_output(int64_t height, int64_t width, const py::array& like) {
  if (like.ndim() == 3) return py::array_t<T>({height, width, like.shape(2)});
  return py::array_t<T>({height, width});
}

template <class T>
OutputImage<T> output_view(py::array_t<T>& out, int64_t channels) {
  return {out.mutable_data(), out.shape(0), out.shape(1), channels};
}

/// A new (height, width[, C]) image like `image`, filled by f(src, dst) with the GIL released.
/// `size_name` is the argument that set the size, named if the output is too large.
template <class F>
py::array warp_into_new(const py::array& image, int64_t height, int64_t width, const char* size_name, F&& f) {
  const int64_t channels = channels_of(image);
  check_array_size(size_name, {height, width, channels}, image.dtype().itemsize());
  return with_image_type(image, [&](auto t) -> py::array {
    using T = decltype(t);
    auto out = make_output<T>(height, width, image);
    const auto src = image_view<T>(image);
    const auto dst = output_view(out, channels);
    py::gil_scoped_release release;
    f(src, dst);
    return std::move(out);
  });
}

Interpolation parse_interpolation(const std::string& name) {
  if (name == "linear") return Interpolation::Linear;
  if (name == "nearest") return Interpolation::Nearest;
  if (name == "cubic") return Interpolation::Cubic;
  throw py::value_error("interpolation: expected 'nearest', 'linear' or 'cubic', got '" + name + "'");
}

/// resize and crop_resize also take "area" and "bins".
Interpolation parse_resize_interpolation(const std::string& name) {
  if (name == "area") return Interpolation::Area;
  if (name == "bins") return Interpolation::Bins;
  if (name != "linear" && name != "nearest" && name != "cubic") {
    throw py::value_error("interpolation: expected 'nearest', 'linear', 'cubic', 'area' or 'bins', got '" + name + "'");
  }
  return parse_interpolation(name);
}

BorderMode parse_border_mode(const std::string& name) {
  if (name == "constant") return BorderMode::Constant;
  if (name == "replicate") return BorderMode::Replicate;
  if (name == "reflect") return BorderMode::Reflect;
  if (name == "reflect101") return BorderMode::Reflect101;
  throw py::value_error("border_mode: expected 'constant', 'replicate', 'reflect' or 'reflect101', got '" + name + "'");
}

double as_number(const py::handle& value, const char* name) {
  // Numbers and NumPy scalars; not bools, not strings (PyNumber_Check is false for those).
  if (PyBool_Check(value.ptr()) || !PyNumber_Check(value.ptr())) {
    throw py::type_error(std::string(name) + ": expected numbers, got " +
                         py::str(py::type::handle_of(value).attr("__name__")).cast<std::string>());
  }
  const double v = PyFloat_AsDouble(value.ptr());
  if (v == -1.0 && PyErr_Occurred()) {  // a complex number, say
    PyErr_Clear();
    throw py::type_error(std::string(name) + ": expected real numbers, got " + py::repr(value).cast<std::string>());
  }
  return v;
}

/// A number (every channel) or one number per channel (a sequence or a 1-D array).
std::array<double, 4> parse_border_value(const py::object& value, int64_t channels) {
  std::array<double, 4> out{};
  py::object values = value;
  if (py::isinstance<py::array>(value)) {
    const auto a = value.cast<py::array>();
    values = a.ndim() == 0 ? value.attr("item")() : value.attr("ravel")().attr("tolist")();
  }
  if (!py::isinstance<py::sequence>(values) || py::isinstance<py::str>(values)) {
    out.fill(as_number(values, "border_value"));
    return out;
  }
  const auto seq = py::reinterpret_borrow<py::sequence>(values);
  if (static_cast<int64_t>(seq.size()) != channels) {
    throw py::value_error("border_value: expected a number or " + std::to_string(channels) +
                          " values (one per channel), got " + std::to_string(seq.size()));
  }
  for (int64_t c = 0; c < channels; ++c) out[c] = as_number(seq[c], "border_value");
  return out;
}

/// 2x3, or 3x3 with last row (0, 0, 1); any real dtype; read as float64.
std::array<double, 6> parse_matrix(const py::object& M_in) {
  const py::array raw = py::isinstance<py::array>(M_in)
                            ? M_in.cast<py::array>()
                            : py::module_::import("numpy").attr("asarray")(M_in).cast<py::array>();
  const char kind = raw.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error("M: expected a float array, got " + dtype_name(raw));
  if (raw.ndim() != 2 || raw.shape(1) != 3 || (raw.shape(0) != 2 && raw.shape(0) != 3)) {
    throw py::value_error("M: expected shape (2, 3) or (3, 3), got " + shape_string(raw));
  }
  const auto M = py::array_t<double, py::array::forcecast>::ensure(raw);
  const auto m = M.unchecked<2>();
  if (raw.shape(0) == 3 && !(m(2, 0) == 0.0 && m(2, 1) == 0.0 && m(2, 2) == 1.0)) {
    throw py::value_error("M: expected the last row of a 3x3 matrix to be (0, 0, 1), got (" + std::to_string(m(2, 0)) +
                          ", " + std::to_string(m(2, 1)) + ", " + std::to_string(m(2, 2)) + ")");
  }
  return {m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2)};
}

/// (width, height), positive integers, as in OpenCV; `name` is the argument.
std::array<int64_t, 2> parse_dsize(const py::object& dsize, const std::string& name = "dsize") {
  if (!py::isinstance<py::sequence>(dsize) || py::len(dsize) != 2) {
    throw py::value_error(name + ": expected (width, height), got " + py::repr(dsize).cast<std::string>());
  }
  std::array<int64_t, 2> out{};
  const auto seq = py::reinterpret_borrow<py::sequence>(dsize);
  for (size_t i = 0; i < 2; ++i) {
    const py::object v = seq[i];
    out[i] = as_int64(v, name.c_str());
  }
  if (out[0] <= 0 || out[1] <= 0) {
    throw py::value_error(name + ": expected positive width and height, got (" + std::to_string(out[0]) + ", " +
                          std::to_string(out[1]) + ")");
  }
  return out;
}

/// A 2-D float32 map (float64 is converted), element-strided.
py::array prepare_map(const py::array& map, const char* name) {
  require_ndim(map, 2, name, "(H, W)");
  if (map.dtype().kind() != 'f') throw py::type_error(std::string(name) + ": expected float32, got " + dtype_name(map));
  if (map.dtype().itemsize() != 4) return py::array_t<float, py::array::forcecast>::ensure(map);
  return element_strided(map);
}

}  // namespace

void bind_warp(py::module_& m) {
  m.def(
      "warp_affine",
      [](const py::array& image_in, const py::object& M_in, const py::object& dsize_in,
         const std::string& interpolation, const std::string& border_mode,
         const py::object& border_value) -> py::array {
        const py::array image = prepare_image(image_in);
        const std::array<double, 6> M = parse_matrix(M_in);
        const auto dsize = parse_dsize(dsize_in);
        const WarpOptions options{parse_interpolation(interpolation), parse_border_mode(border_mode),
                                  parse_border_value(border_value, channels_of(image))};
        return warp_into_new(image, dsize[1], dsize[0], "dsize",
                             [&](auto src, auto dst) { warp_affine(src, M, dst, options); });
      },
      py::arg("image"), py::arg("M"), py::arg("dsize"), py::arg("interpolation") = "linear",
      py::arg("border_mode") = "constant", py::arg("border_value") = 0);

  m.def(
      "remap",
      [](const py::array& image_in, const py::array& map_x_in, const py::array& map_y_in,
         const std::string& interpolation, const std::string& border_mode,
         const py::object& border_value) -> py::array {
        const py::array image = prepare_image(image_in);
        const py::array map_x = prepare_map(map_x_in, "map_x");
        const py::array map_y = prepare_map(map_y_in, "map_y");
        if (map_y.shape(0) != map_x.shape(0) || map_y.shape(1) != map_x.shape(1)) {
          throw py::value_error("map_y: expected shape " + shape_string(map_x) + " like map_x, got " +
                                shape_string(map_y));
        }
        if (map_x.shape(0) == 0 || map_x.shape(1) == 0) {
          throw py::value_error("map_x: expected a non-empty (H, W) map, got " + shape_string(map_x));
        }
        const WarpOptions options{parse_interpolation(interpolation), parse_border_mode(border_mode),
                                  parse_border_value(border_value, channels_of(image))};
        const auto mx = matrix_view<float>(map_x);
        const auto my = matrix_view<float>(map_y);
        return warp_into_new(image, map_x.shape(0), map_x.shape(1), "map_x",
                             [&](auto src, auto dst) { remap(src, mx, my, dst, options); });
      },
      py::arg("image"), py::arg("map_x"), py::arg("map_y"), py::arg("interpolation") = "linear",
      py::arg("border_mode") = "constant", py::arg("border_value") = 0);

  // Jitter comes from the caller (opticore.augment draws it with NumPy), so this call is
  // deterministic. Returns (warped, target, M) with M the (2, 3) float64 matrix of the target.
  m.def(
      "random_warp",
      [](const py::array& image_in, const py::array& jitter_in, int64_t grid, double coverage, double noise,
         int64_t out_size, const std::string& border_mode, const py::object& border_value) -> py::tuple {
        const py::array image = prepare_image(image_in);
        require_float(jitter_in, "jitter");
        require_ndim(jitter_in, 3, "jitter", "(2, grid, grid)");
        const py::array jitter = element_strided(py::array_t<double, py::array::forcecast>::ensure(jitter_in));
        const int64_t channels = channels_of(image);
        RandomWarpOptions options;
        options.grid = grid;
        options.coverage = coverage;
        options.noise = noise;
        options.out_size = out_size;
        options.border_mode = parse_border_mode(border_mode);
        options.border_value = parse_border_value(border_value, channels);
        const MatrixBatchView<double> jv = batch_view<double>(jitter);
        const int64_t side = std::max<int64_t>(out_size, 1);  // the core reports a bad out_size
        check_array_size("out_size", {side, side, channels}, image.dtype().itemsize());
        return with_image_type(image, [&](auto t) -> py::tuple {
          using T = decltype(t);
          auto warped = make_output<T>(side, side, image);
          auto target = make_output<T>(side, side, image);
          py::array_t<double> M({py::ssize_t{2}, py::ssize_t{3}});
          const auto src = image_view<T>(image);
          const auto w = output_view(warped, channels);
          const auto tg = output_view(target, channels);
          std::array<double, 6> m{};
          {
            py::gil_scoped_release release;
            m = random_warp(src, jv, w, tg, options);
          }
          std::copy(m.begin(), m.end(), M.mutable_data());
          return py::make_tuple(std::move(warped), std::move(target), std::move(M));
        });
      },
      py::arg("image"), py::arg("jitter"), py::arg("grid"), py::arg("coverage"), py::arg("noise"), py::arg("out_size"),
      py::arg("border_mode") = "replicate", py::arg("border_value") = 0);

  m.def(
      "resize",
      [](const py::array& image_in, const py::object& dsize_in, const std::string& interpolation) -> py::array {
        const py::array image = prepare_image(image_in);
        const auto dsize = parse_dsize(dsize_in);
        const Interpolation interp = parse_resize_interpolation(interpolation);
        return warp_into_new(image, dsize[1], dsize[0], "dsize", [&](auto src, auto dst) { resize(src, dst, interp); });
      },
      py::arg("image"), py::arg("dsize"), py::arg("interpolation") = "linear");

  // boxes: (N, 4) integer x1, y1, x2, y2 (the typed wrapper converts whole-number floats).
  m.def(
      "crop_resize",
      [](const py::array& image_in, const py::array& boxes_in, const py::object& out_size_in,
         const std::string& interpolation) -> py::array {
        const py::array image = prepare_image(image_in);
        if (boxes_in.dtype().kind() != 'i' && boxes_in.dtype().kind() != 'u') {
          throw py::type_error("boxes: expected an integer array, got " + dtype_name(boxes_in));
        }
        require_ndim(boxes_in, 2, "boxes", "(N, 4)");
        if (boxes_in.shape(1) != 4)
          throw py::value_error("boxes: expected shape (N, 4), got " + shape_string(boxes_in));
        const py::array boxes = element_strided(py::array_t<int64_t, py::array::forcecast>::ensure(boxes_in));
        const auto size = parse_dsize(out_size_in, "out_size");
        const Interpolation interp = parse_resize_interpolation(interpolation);
        const int64_t n = boxes.shape(0), channels = channels_of(image);
        check_array_size("out_size", {n, size[1], size[0], channels}, image.dtype().itemsize());
        const auto bv = matrix_view<int64_t>(boxes);
        return with_image_type(image, [&](auto t) -> py::array {
          using T = decltype(t);
          std::vector<py::ssize_t> shape{n, size[1], size[0]};
          if (image.ndim() == 3) shape.push_back(channels);
          py::array_t<T> out(shape);
          const auto src = image_view<T>(image);
          T* dst = out.mutable_data();
          {
            py::gil_scoped_release release;
            crop_resize(src, bv, dst, size[1], size[0], interp);
          }
          return std::move(out);
        });
      },
      py::arg("image"), py::arg("boxes"), py::arg("out_size"), py::arg("interpolation") = "linear");
}

}  // namespace opticore::python
