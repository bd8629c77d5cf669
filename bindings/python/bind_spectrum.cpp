// Spectrum features: fourier_spectrum over a (B, H, W, C) uint8 / float32 batch of any layout
// (the typed wrapper in opticore.liveness turns one image or a grey batch into that shape).
// Returns a new (B, out_height, out_width) float32 array; the GIL is released during the call.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "numpy_view.hpp"
#include "opticore/core/image.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/spectrum/fourier.hpp"

namespace opticore::python {

void bind_spectrum(py::module_& m) {
  // out_size: (width, height), or None for the image's own size.
  m.def(
      "fourier_spectrum",
      [](const py::array& images_in, const py::object& out_size, const std::string& color) -> py::array {
        require_ndim(images_in, 4, "image", "(B, H, W, C)");
        const char kind = images_in.dtype().kind();
        const auto itemsize = images_in.dtype().itemsize();
        if (!((kind == 'u' && itemsize == 1) || (kind == 'f' && itemsize == 4))) {
          throw py::type_error("image: expected uint8 or float32, got " + dtype_name(images_in));
        }
        if (color != "bgr" && color != "rgb")
          throw py::value_error("color: expected 'bgr' or 'rgb', got '" + color + "'");
        const py::array images = element_strided(images_in);
        const int64_t B = images.shape(0), H = images.shape(1), W = images.shape(2), C = images.shape(3);
        int64_t out_w = W, out_h = H;
        if (!out_size.is_none()) {
          const auto seq = out_size.cast<py::sequence>();
          out_w = as_int64(seq[0], "out_size");
          out_h = as_int64(seq[1], "out_size");
        }
        const ColorOrder order = color == "bgr" ? ColorOrder::Bgr : ColorOrder::Rgb;
        if (out_w >= 1 && out_h >= 1) check_array_size("out_size", {B, out_h, out_w}, sizeof(float));
        py::array_t<float> out({B, std::max<int64_t>(out_h, 0), std::max<int64_t>(out_w, 0)});
        auto run = [&](auto t) {
          using T = decltype(t);
          const auto item = static_cast<py::ssize_t>(sizeof(T));
          const ImageView<T> first(static_cast<const T*>(images.data()), H, W, C, images.strides(1) / item,
                                   images.strides(2) / item, images.strides(3) / item);
          const int64_t batch_stride = images.strides(0) / item;
          float* dst = out.mutable_data();
          py::gil_scoped_release release;
          fourier_spectrum(first, B, batch_stride, dst, out_h, out_w, order);
        };
        if (itemsize == 1) {
          run(uint8_t{});
        } else {
          run(float{});
        }
        return std::move(out);
      },
      py::arg("images"), py::arg("out_size") = py::none(), py::arg("color") = "bgr");
}

}  // namespace opticore::python
