// What warp_affine and remap share: argument checks, OpenCV-compatible rounding, border index
// arithmetic, and the row sampler that turns quantised source coordinates into output pixels.
//
// A source position is given as integer pixel (sx, sy) plus a 5-bit fraction per axis packed into
// frac = fy * 32 + fx (OpenCV's INTER_BITS = 5 scheme). For "nearest" (sx, sy) is already the
// rounded pixel and frac is ignored.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "core/detail/check.hpp"
#include "core/detail/small_buffer.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/core/threading.hpp"
#include "opticore/geometry/warp.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace opticore::detail {

constexpr int kInterBits = 5;                             // 1/32 pixel
constexpr int kInterTabSize = 1 << kInterBits;            // 32 fractional positions per axis
constexpr int kRemapCoefBits = 15;                        // uint8 weights sum to 1 << 15
constexpr int32_t kCoordMin = -32768, kCoordMax = 32767;  // OpenCV keeps source pixels in int16
constexpr int64_t kMaxWarpSide = 32767;

/// Round half to even, like OpenCV's cvRound (SSE2 conversion uses the default rounding mode).
inline int64_t round_half_even(double v) {
#if defined(__SSE2__)
  if (std::fabs(v) < 2147483647.0) return _mm_cvtsd_si32(_mm_set_sd(v));
#endif
  return static_cast<int64_t>(std::nearbyint(v));
}

/// cvRound with saturation to int32; NaN maps to INT32_MIN (what the x86 conversion gives).
inline int32_t saturate_round(double v) {
  if (!(v >= -2147483648.0)) return INT32_MIN;
  if (v >= 2147483647.0) return INT32_MAX;
  return static_cast<int32_t>(round_half_even(v));
}

inline int32_t clamp_coord(int64_t v) {
  return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(v, kCoordMin), kCoordMax));
}

/// Where a tap at index p of an axis of length n reads, or -1 for "the border value" (Constant).
/// Same rules as cv::borderInterpolate.
inline int64_t border_index(int64_t p, int64_t n, BorderMode mode) {
  if (p >= 0 && p < n) return p;
  switch (mode) {
    case BorderMode::Constant:
      return -1;
    case BorderMode::Replicate:
      return p < 0 ? 0 : n - 1;
    case BorderMode::Reflect:
    case BorderMode::Reflect101: {
      if (n == 1) return 0;
      const int64_t delta = mode == BorderMode::Reflect101 ? 1 : 0;
      // A reflected index repeats with period 2n (Reflect) or 2n - 2 (Reflect101).
      const int64_t period = 2 * n - 2 * delta;
      p %= period;
      if (p < 0) p += period;
      if (p >= n) p = period - p - 1 + delta;
      return p;
    }
  }
  return -1;
}

/// The image a warp reads: non-empty, 1..4 channels, sides small enough for int16 coordinates.
template <class T>
void check_image(const ImageView<T>& image, int64_t max_side) {
  if (image.data == nullptr || image.height <= 0 || image.width <= 0) {
    fail("image: expected a non-empty image, got height ", image.height, " and width ", image.width);
  }
  if (image.channels < 1 || image.channels > 4) {
    fail("image: expected 1 to 4 channels, got ", image.channels);
  }
  if (image.height > max_side || image.width > max_side) {
    fail("image: expected width and height <= ", max_side, ", got (", image.width, ", ", image.height, ")");
  }
}

/// Warps sample points: "area" and "bins" have no meaning there.
inline void check_warp_interpolation(Interpolation interpolation) {
  if (interpolation == Interpolation::Area || interpolation == Interpolation::Bins) {
    fail("interpolation: expected nearest, linear or cubic for a warp, got ",
         interpolation == Interpolation::Area ? "area" : "bins", " (resize only)");
  }
}

/// The output: dsize = (width, height) positive, the image's channel count.
template <class T>
void check_output(const OutputImage<T>& dst, int64_t channels) {
  if (dst.width <= 0 || dst.height <= 0) {
    fail("dsize: expected positive width and height, got (", dst.width, ", ", dst.height, ")");
  }
  if (dst.channels != channels) fail("dst: expected ", channels, " channels like image, got ", dst.channels);
  if (dst.data == nullptr) fail("dst: expected an allocated output image");
}

/// Reads the border value per channel: saturated and rounded for uint8 (as cv::saturate_cast).
template <class T>
std::array<T, 4> border_value_as(const std::array<double, 4>& value) {
  std::array<T, 4> out{};
  for (size_t c = 0; c < 4; ++c) {
    if constexpr (std::is_same_v<T, uint8_t>) {
      if (std::isnan(value[c])) fail("border_value: expected numbers for a uint8 image, got NaN");
      out[c] = static_cast<uint8_t>(round_half_even(std::clamp(value[c], 0.0, 255.0)));
    } else {
      out[c] = static_cast<T>(value[c]);
    }
  }
  return out;
}

/// Keys' cubic convolution weights (A = -0.75) of the 4 taps around fraction x in [0, 1),
/// evaluated in float as OpenCV does.
void keys_cubic(float x, float* c);

/// Per-position interpolation weights (OpenCV's initInterTab2D): 1024 entries of 2x2 (linear) or
/// 4x4 (cubic) weights, row-major (y tap, x tap); the int16 ones sum to exactly 1 << 15.
const int16_t* linear_weights_i16();
const float* linear_weights_f32();
const int16_t* cubic_weights_i16();
const float* cubic_weights_f32();

/// Turns one output row of quantised source positions into pixels.
template <class T>
struct Sampler {
  ImageView<T> image;
  Interpolation interpolation = Interpolation::Linear;
  BorderMode border_mode = BorderMode::Constant;
  std::array<T, 4> border_value{};

  /// Writes n pixels (n * channels values) to `out`.
  void row(const int32_t* sx, const int32_t* sy, const uint16_t* frac, int64_t n, T* out) const;
};

extern template struct Sampler<uint8_t>;
extern template struct Sampler<float>;

#if defined(__GNUC__) && defined(__x86_64__)
#define OPTICORE_SSSE3_KERNELS 1
/// Whether the CPU has SSSE3 (the uint8 bilinear kernels with pshufb are chosen at run time) and
/// the environment variable OPTICORE_NO_SSSE3 is not set.
bool has_ssse3();

/// pshufb mask spreading a pixel pair (C = 3 or 4 bytes each, adjacent) into 16-bit lanes
/// (left c0, right c0, left c1, right c1, ...), unused lanes 0.
inline __m128i pair_spread_mask(int C) {
  return C == 3 ? _mm_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1)
                : _mm_setr_epi8(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1);
}
#endif

/// The inverse of the 2x3 affine M (row-major) as cv::warpAffine computes it, or nothing when M
/// is singular or the inverse is not finite.
std::optional<std::array<double, 6>> invert_affine(const std::array<double, 6>& M);

/// Output row positions (of a warp's coordinate rows) held without a heap allocation.
constexpr size_t kSmallRow = 512;

/// Output values per parallel chunk: 256k, about a millisecond of work; only outputs of two
/// chunks or more are split. (parallel_for's pool threads wake in microseconds, but on a busy
/// machine a woken thread may wait far longer for a core, so small outputs stay on one thread.)
constexpr int64_t kValuesPerChunk = int64_t{1} << 18;

/// Rows (of width x channels values) per parallel chunk for `rows` rows: all of them when they
/// hold less than two chunks' values, else about four chunks a thread, so that the threads
/// finish together.
inline int64_t rows_per_chunk(int64_t rows, int64_t width, int64_t channels) {
  const int64_t by_values = std::max<int64_t>(1, kValuesPerChunk / std::max<int64_t>(width * channels, 1));
  if (rows < 2 * by_values) return std::max<int64_t>(rows, 1);
  return std::max<int64_t>(1, std::min<int64_t>(by_values, rows / (4 * int64_t{get_num_threads()})));
}

}  // namespace opticore::detail
