#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore {
namespace {

/// cvRound of a map value (already scaled) to int32, as cv::remap converts float maps on x86:
/// NaN gives INT32_MIN (outside the image). Beyond the int32 range OpenCV's x86 build also gives
/// INT32_MIN (its ARM build saturates); this saturates, so +huge stays on the right of the image.
int64_t round_map(float v) { return detail::saturate_round(static_cast<double>(v)); }

}  // namespace

template <class T>
void remap(ImageView<T> image, MatrixView<float> map_x, MatrixView<float> map_y, OutputImage<T> dst,
           const WarpOptions& options) {
  detail::check_image(image, detail::kMaxWarpSide);
  if (map_x.data == nullptr || map_x.rows <= 0 || map_x.cols <= 0) {
    detail::fail("map_x: expected a non-empty (H, W) map, got (", map_x.rows, ", ", map_x.cols, ")");
  }
  if (map_y.data == nullptr || map_y.rows != map_x.rows || map_y.cols != map_x.cols) {
    detail::fail("map_y: expected shape (", map_x.rows, ", ", map_x.cols, ") like map_x, got (", map_y.rows, ", ",
                 map_y.cols, ")");
  }
  if (dst.height != map_x.rows || dst.width != map_x.cols) {
    detail::fail("dst: expected ", map_x.rows, "x", map_x.cols, " like the maps, got ", dst.height, "x", dst.width);
  }
  detail::check_output(dst, image.channels);
  const detail::Sampler<T> sampler{image, options.interpolation, options.border_mode,
                                   detail::border_value_as<T>(options.border_value)};
  const bool nearest = options.interpolation == Interpolation::Nearest;
  const int64_t width = dst.width;

  detail::parallel_for(dst.height, detail::rows_per_chunk(width, dst.channels), [&](int64_t begin, int64_t end) {
    std::vector<int32_t> sx(static_cast<size_t>(width)), sy(static_cast<size_t>(width));
    std::vector<uint16_t> frac(static_cast<size_t>(width));
    for (int64_t y = begin; y < end; ++y) {
      for (int64_t x = 0; x < width; ++x) {
        const float fx = map_x(y, x), fy = map_y(y, x);
        if (nearest) {  // rounded to the nearest pixel, like OpenCV's saturate_cast<short>
          sx[x] = detail::clamp_coord(round_map(fx));
          sy[x] = detail::clamp_coord(round_map(fy));
        } else {  // quantised to 1/32 pixel (cvRound(v * 32)), then split into pixel + fraction; the
                  // pixel is clamped to int16 after the split, so far maps keep their fraction as in OpenCV
          const int64_t X = round_map(fx * detail::kInterTabSize);
          const int64_t Y = round_map(fy * detail::kInterTabSize);
          sx[x] = detail::clamp_coord(X >> detail::kInterBits);
          sy[x] = detail::clamp_coord(Y >> detail::kInterBits);
          frac[x] = static_cast<uint16_t>((Y & (detail::kInterTabSize - 1)) * detail::kInterTabSize +
                                          (X & (detail::kInterTabSize - 1)));
        }
      }
      sampler.row(sx.data(), sy.data(), frac.data(), width, dst.data + y * width * dst.channels);
    }
  });
}

template void remap(ImageView<uint8_t>, MatrixView<float>, MatrixView<float>, OutputImage<uint8_t>, const WarpOptions&);
template void remap(ImageView<float>, MatrixView<float>, MatrixView<float>, OutputImage<float>, const WarpOptions&);

}  // namespace opticore
