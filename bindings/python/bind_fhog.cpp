// FHOG features: fhog(image, cell_size) -> (rows, cols, 31) float32. The image is (H, W) or
// (H, W, C), uint8 or float32, any layout, read in place; the GIL is released around the core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "image_arg.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/tracking/fhog.hpp"

namespace opticore::python {

void bind_fhog(py::module_& m) {
  m.def(
      "fhog",
      [](const py::array& image_in, const py::handle& cell_size_in) -> py::array {
        const py::array image = prepare_image(image_in);
        const int64_t cell_size = as_int64(cell_size_in, "cell_size");
        const FhogSize grid = fhog_size(image.shape(0), image.shape(1), cell_size);  // ValueError first
        check_array_size("image, cell_size", {grid.rows, grid.cols, kFhogChannels}, sizeof(float));
        py::array_t<float> out({grid.rows, grid.cols, kFhogChannels});
        float* dst = out.mutable_data();
        with_image_type(image, [&](auto t) {
          using T = decltype(t);
          const auto src = image_view<T>(image);
          py::gil_scoped_release release;
          fhog(src, cell_size, dst);
        });
        return std::move(out);
      },
      py::arg("image"), py::arg("cell_size") = 4);
}

}  // namespace opticore::python
