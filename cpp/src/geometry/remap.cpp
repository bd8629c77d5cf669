#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)
/// round_map of 4 values: the x86 conversion rounds half to even and gives INT32_MIN for NaN and
/// below -2^31; from 2^31 on the values saturate to INT32_MAX, as round_map does.
__m128i round_map4(__m128 v) {
  const __m128i rounded = _mm_cvtps_epi32(v);
  const __m128i big = _mm_castps_si128(_mm_cmpge_ps(v, _mm_set1_ps(2147483648.f)));
  return _mm_or_si128(_mm_andnot_si128(big, rounded), _mm_and_si128(big, _mm_set1_epi32(INT32_MAX)));
}

/// clamp_coord of 4 values: saturation to int16 and back.
__m128i clamp_coord4(__m128i v) {
  const __m128i packed = _mm_packs_epi32(v, v);
  return _mm_srai_epi32(_mm_unpacklo_epi16(packed, packed), 16);
}

/// One row of contiguous maps, 4 values at a time (the rest is left to the scalar loop);
/// returns how many were done.
int64_t quantise_row4(const float* mx, const float* my, int64_t n, bool nearest, int32_t* sx, int32_t* sy,
                      uint16_t* frac) {
  const __m128 scale = _mm_set1_ps(static_cast<float>(detail::kInterTabSize));
  const __m128i mask = _mm_set1_epi32(detail::kInterTabSize - 1);
  int64_t x = 0;
  for (; x + 4 <= n; x += 4) {
    const __m128 fx = _mm_loadu_ps(mx + x), fy = _mm_loadu_ps(my + x);
    auto* px = reinterpret_cast<__m128i*>(sx + x);
    auto* py = reinterpret_cast<__m128i*>(sy + x);
    if (nearest) {
      _mm_storeu_si128(px, clamp_coord4(round_map4(fx)));
      _mm_storeu_si128(py, clamp_coord4(round_map4(fy)));
      continue;
    }
    const __m128i X = round_map4(_mm_mul_ps(fx, scale)), Y = round_map4(_mm_mul_ps(fy, scale));
    _mm_storeu_si128(px, clamp_coord4(_mm_srai_epi32(X, detail::kInterBits)));
    _mm_storeu_si128(py, clamp_coord4(_mm_srai_epi32(Y, detail::kInterBits)));
    const __m128i f = _mm_or_si128(_mm_slli_epi32(_mm_and_si128(Y, mask), detail::kInterBits), _mm_and_si128(X, mask));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(frac + x), _mm_packs_epi32(f, f));
  }
  return x;
}
#endif

}  // namespace

template <class T>
void remap(ImageView<T> image, MatrixView<float> map_x, MatrixView<float> map_y, OutputImage<T> dst,
           const WarpOptions& options) {
  detail::check_image(image, detail::kMaxWarpSide);
  detail::check_warp_interpolation(options.interpolation);
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

  detail::parallel_for(
      dst.height, detail::rows_per_chunk(dst.height, width, dst.channels), [&](int64_t begin, int64_t end) {
        detail::SmallBuffer<int32_t, detail::kSmallRow> sx(static_cast<size_t>(width)), sy(static_cast<size_t>(width));
        detail::SmallBuffer<uint16_t, detail::kSmallRow> frac(static_cast<size_t>(width));
        for (int64_t y = begin; y < end; ++y) {
          int64_t x = 0;
#if defined(__SSE2__)
          if (map_x.col_stride == 1 && map_y.col_stride == 1) {
            x = quantise_row4(&map_x(y, 0), &map_y(y, 0), width, nearest, sx.data(), sy.data(), frac.data());
          }
#endif
          for (; x < width; ++x) {
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
