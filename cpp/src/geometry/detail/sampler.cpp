// The row sampler of warp_affine and remap: OpenCV's weight tables and its nearest / bilinear /
// bicubic remap arithmetic, with a branch-light path for pixels whose taps are all inside the
// image and a general path (border_pixel) for the rest.
#include "geometry/detail/sampler.hpp"

#include <cstdlib>
#include <cstring>

#if defined(__GNUC__) && defined(__x86_64__)
#include <tmmintrin.h>
#endif
#include <vector>

namespace opticore::detail {
namespace {

// ----------------------------------------------------------------------------- weight tables

void interpolate_linear(float x, float* c) {
  c[0] = 1.f - x;
  c[1] = x;
}

// K x K weights per fractional position, float and 15-bit fixed point. Rounding each fixed-point
// weight can leave their sum off 1 << 15; like OpenCV we move the difference onto one central
// weight so that a flat image stays exactly flat.
template <int K>
struct WeightTable {
  std::vector<float> f = std::vector<float>(size_t{kInterTabSize * kInterTabSize * K * K});
  std::vector<int16_t> i = std::vector<int16_t>(f.size());

  explicit WeightTable(void (*kernel)(float, float*)) {
    float one_d[kInterTabSize * K];
    for (int t = 0; t < kInterTabSize; ++t) kernel(static_cast<float>(t) * (1.f / kInterTabSize), one_d + t * K);
    constexpr int scale = 1 << kRemapCoefBits;
    for (int fy = 0; fy < kInterTabSize; ++fy) {
      for (int fx = 0; fx < kInterTabSize; ++fx) {
        const size_t base = static_cast<size_t>(fy * kInterTabSize + fx) * K * K;
        float* wf = f.data() + base;
        int16_t* wi = i.data() + base;
        int sum = 0;
        for (int ky = 0; ky < K; ++ky) {
          for (int kx = 0; kx < K; ++kx) {
            const float v = one_d[fy * K + ky] * one_d[fx * K + kx];
            wf[ky * K + kx] = v;
            const int64_t r = std::clamp<int64_t>(round_half_even(static_cast<double>(v * scale)), -32768, 32767);
            wi[ky * K + kx] = static_cast<int16_t>(r);
            sum += static_cast<int>(r);
          }
        }
        const int diff = sum - scale;
        if (diff == 0) continue;
        if (K == 2) {
          // Only (0, 0) is inexact (1.0 saturates to 32767); OpenCV's fix-up lands on weight 3.
          wi[3] = static_cast<int16_t>(wi[3] - diff);
          continue;
        }
        int mk = (K / 2) * K + K / 2, Mk = mk;  // smallest / largest of the central 2x2 weights
        for (int ky = K / 2; ky < K / 2 + 2; ++ky) {
          for (int kx = K / 2; kx < K / 2 + 2; ++kx) {
            const int k = ky * K + kx;
            if (wi[k] < wi[mk])
              mk = k;
            else if (wi[k] > wi[Mk])
              Mk = k;
          }
        }
        const int k = diff < 0 ? Mk : mk;
        wi[k] = static_cast<int16_t>(wi[k] - diff);
      }
    }
  }
};

const WeightTable<2>& linear_table() {
  static const WeightTable<2> table(interpolate_linear);
  return table;
}

const WeightTable<4>& cubic_table() {
  static const WeightTable<4> table(keys_cubic);
  return table;
}

// ----------------------------------------------------------------------------- arithmetic

template <class T>
struct Arith;
template <>
struct Arith<uint8_t> {
  using W = int16_t;
  using Acc = int32_t;
  static const W* linear() { return linear_weights_i16(); }
  static const W* cubic() { return cubic_weights_i16(); }
  static uint8_t finish(Acc v) {  // round, then saturate (cubic weights can be negative)
    v = (v + (1 << (kRemapCoefBits - 1))) >> kRemapCoefBits;
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
  }
};
template <>
struct Arith<float> {
  using W = float;
  using Acc = float;
  static const W* linear() { return linear_weights_f32(); }
  static const W* cubic() { return cubic_weights_f32(); }
  static float finish(Acc v) { return v; }
};

// Any pixel with a tap outside the image: each tap goes through border_index. K taps per axis,
// the first one at (x - K/2 + 1, y - K/2 + 1).
template <class T, int C, int K>
void border_pixel(const Sampler<T>& s, int64_t x, int64_t y, const typename Arith<T>::W* w, T* out) {
  const ImageView<T>& im = s.image;
  const int64_t x0 = x - (K / 2 - 1), y0 = y - (K / 2 - 1);
  if (s.border_mode == BorderMode::Constant && (x0 >= im.width || x0 + K <= 0 || y0 >= im.height || y0 + K <= 0)) {
    for (int c = 0; c < C; ++c) out[c] = s.border_value[c];
    return;
  }
  // Element offsets of the taps; a tap outside the image (Constant mode) reads the border value.
  int64_t xo[K], yo[K];
  bool xin[K], yin[K];
  for (int k = 0; k < K; ++k) {
    const int64_t xi = border_index(x0 + k, im.width, s.border_mode);
    const int64_t yi = border_index(y0 + k, im.height, s.border_mode);
    xin[k] = xi >= 0;
    yin[k] = yi >= 0;
    xo[k] = xin[k] ? xi * im.col_stride : 0;
    yo[k] = yin[k] ? yi * im.row_stride : 0;
  }
  for (int c = 0; c < C; ++c) {
    const T* base = im.data + c * im.channel_stride;
    typename Arith<T>::Acc acc = 0;
    for (int ky = 0; ky < K; ++ky) {
      for (int kx = 0; kx < K; ++kx) {
        const T v = (xin[kx] && yin[ky]) ? base[yo[ky] + xo[kx]] : s.border_value[c];
        acc += v * w[ky * K + kx];
      }
    }
    out[c] = Arith<T>::finish(acc);
  }
}

// The hot loops below copy the image fields into locals first: a uint8 store may alias anything,
// so the compiler would otherwise reload every field after each store.

template <class T, int C>
void nearest_row(const Sampler<T>& s, const int32_t* sx, const int32_t* sy, int64_t n, T* out) {
  const T* data = s.image.data;
  const int64_t width = s.image.width, height = s.image.height;
  const int64_t rs = s.image.row_stride, cs = s.image.col_stride, chs = s.image.channel_stride;
  for (int64_t i = 0; i < n; ++i, out += C) {
    int64_t x = sx[i], y = sy[i];
    if (x < 0 || x >= width || y < 0 || y >= height) {
      x = border_index(x, width, s.border_mode);
      y = border_index(y, height, s.border_mode);
      if (x < 0 || y < 0) {
        for (int c = 0; c < C; ++c) out[c] = s.border_value[c];
        continue;
      }
    }
    const T* p = data + y * rs + x * cs;
    for (int c = 0; c < C; ++c) out[c] = p[c * chs];
  }
}

template <class T, int C>
void linear_row(const Sampler<T>& s, const int32_t* sx, const int32_t* sy, const uint16_t* frac, int64_t n, T* out) {
  const auto* table = Arith<T>::linear();
  const T* data = s.image.data;
  const int64_t xmax = s.image.width - 1, ymax = s.image.height - 1;
  const int64_t rs = s.image.row_stride, cs = s.image.col_stride, chs = s.image.channel_stride;
  for (int64_t i = 0; i < n; ++i, out += C) {
    const int64_t x = sx[i], y = sy[i];
    const auto* w = table + frac[i] * 4;
    if (x >= 0 && x < xmax && y >= 0 && y < ymax) {
      const T* p0 = data + y * rs + x * cs;
      const T* p1 = p0 + rs;
      for (int c = 0; c < C; ++c) {
        const int64_t o = c * chs;
        out[c] = Arith<T>::finish(p0[o] * w[0] + p0[o + cs] * w[1] + p1[o] * w[2] + p1[o + cs] * w[3]);
      }
    } else {
      border_pixel<T, C, 2>(s, x, y, w, out);
    }
  }
}

#if defined(__SSE2__)
// uint8 with 3 or 4 interleaved channels (the common case): one pixel's channels at once, as
// 16-bit lanes (left, right, left, right, ...) multiplied by (w0, w1) pairs with pmaddwd.
#define OPTICORE_INLINE inline __attribute__((always_inline))

template <int C>
OPTICORE_INLINE __m128i load_pair(const uint8_t* p) {
  uint32_t a, b;
  std::memcpy(&a, p, 4);  // channels of the left pixel (+ one byte of the right one when C = 3)
  if (C == 4) {
    std::memcpy(&b, p + 4, 4);
  } else {
    std::memcpy(&b, p + 2, 4);  // ends at the right pixel's last byte: never reads past it
    b >>= 8;
  }
  const __m128i v = _mm_unpacklo_epi8(_mm_cvtsi32_si128(static_cast<int>(a)), _mm_cvtsi32_si128(static_cast<int>(b)));
  return _mm_unpacklo_epi8(v, _mm_setzero_si128());
}

/// top / bottom: the two rows' (left, right) lane pairs; w: the pixel's 4 weights. Writes C bytes
/// (4 when `spare`: the byte after the pixel is written again later).
template <int C>
OPTICORE_INLINE void bilinear_finish(__m128i top, __m128i bottom, const int16_t* w, bool spare, uint8_t* out) {
  int32_t w01, w23;
  std::memcpy(&w01, w, 4);
  std::memcpy(&w23, w + 2, 4);
  const __m128i sum = _mm_add_epi32(_mm_madd_epi16(top, _mm_shuffle_epi32(_mm_cvtsi32_si128(w01), 0)),
                                    _mm_madd_epi16(bottom, _mm_shuffle_epi32(_mm_cvtsi32_si128(w23), 0)));
  __m128i acc = _mm_srai_epi32(_mm_add_epi32(sum, _mm_set1_epi32(1 << (kRemapCoefBits - 1))), kRemapCoefBits);
  acc = _mm_packs_epi32(acc, acc);
  const uint32_t v = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(acc, acc)));
  std::memcpy(out, &v, C == 4 || spare ? 4 : 3);
}

/// A pixel with a tap outside the image: the border value itself, without a call, when no tap
/// is inside ("constant" border; a shrinking or rotated warp has many such pixels), else
/// border_pixel.
template <int C>
OPTICORE_INLINE void outside_pixel(const Sampler<uint8_t>& s, int64_t x, int64_t y, const int16_t* w, uint8_t* out) {
  if (s.border_mode == BorderMode::Constant && (x < -1 || x >= s.image.width || y < -1 || y >= s.image.height)) {
    std::memcpy(out, s.border_value.data(), C);
    return;
  }
  border_pixel<uint8_t, C, 2>(s, x, y, w, out);
}

template <int C>
void linear_row_u8_interleaved(const Sampler<uint8_t>& s, const int32_t* sx, const int32_t* sy, const uint16_t* frac,
                               int64_t n, uint8_t* out) {
  const int16_t* table = linear_weights_i16();
  const uint8_t* data = s.image.data;
  const int64_t xmax = s.image.width - 1, ymax = s.image.height - 1, rs = s.image.row_stride;
  for (int64_t i = 0; i < n; ++i, out += C) {
    const int64_t x = sx[i], y = sy[i];
    const int16_t* w = table + frac[i] * 4;
    if (x >= 0 && x < xmax && y >= 0 && y < ymax) {
      const uint8_t* p0 = data + y * rs + x * C;
      bilinear_finish<C>(load_pair<C>(p0), load_pair<C>(p0 + rs), w, i + 1 < n, out);
    } else {
      outside_pixel<C>(s, x, y, w, out);
    }
  }
}

#if defined(OPTICORE_SSSE3_KERNELS)
// The same with SSSE3 (chosen at run time): each row's pixel pair is one 8-byte load spread into
// (left, right) lanes by one pshufb. An 8-byte load reads up to 2 bytes past the right pixel, so
// pixels whose loads would leave the image's memory (its last row or two) take the 4-byte loads.
template <int C>
__attribute__((target("ssse3"))) void linear_row_u8_ssse3(const Sampler<uint8_t>& s, const int32_t* sx,
                                                          const int32_t* sy, const uint16_t* frac, int64_t n,
                                                          uint8_t* out) {
  const int16_t* table = linear_weights_i16();
  const uint8_t* data = s.image.data;
  const int64_t xmax = s.image.width - 1, ymax = s.image.height - 1, rs = s.image.row_stride;
  const uint8_t* last_load = data + ymax * rs + s.image.width * C - 8;  // rs > 0
  // Below the last two rows both 8-byte loads end inside the image's memory (the bottom one at
  // most 2 bytes past pixel xmax of a row above the last), so those pixels need one unsigned
  // comparison per axis and no address check.
  const auto x_fast = static_cast<uint64_t>(xmax), y_fast = static_cast<uint64_t>(std::max<int64_t>(ymax - 1, 0));
  const __m128i spread = pair_spread_mask(C);
  for (int64_t i = 0; i < n; ++i, out += C) {
    const int64_t x = sx[i], y = sy[i];
    const int16_t* w = table + frac[i] * 4;
    if (static_cast<uint64_t>(x) < x_fast && static_cast<uint64_t>(y) < y_fast) {
      const uint8_t* p0 = data + y * rs + x * C;
      const __m128i top = _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0)), spread);
      const __m128i bottom = _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0 + rs)), spread);
      bilinear_finish<C>(top, bottom, w, i + 1 < n, out);
    } else if (x >= 0 && x < xmax && y >= 0 && y < ymax) {
      const uint8_t* p0 = data + y * rs + x * C;
      if (p0 + rs <= last_load) {
        const __m128i top = _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0)), spread);
        const __m128i bottom = _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p0 + rs)), spread);
        bilinear_finish<C>(top, bottom, w, i + 1 < n, out);
      } else {
        bilinear_finish<C>(load_pair<C>(p0), load_pair<C>(p0 + rs), w, i + 1 < n, out);
      }
    } else {
      outside_pixel<C>(s, x, y, w, out);
    }
  }
}
#endif
#endif

template <class T, int C>
void cubic_row(const Sampler<T>& s, const int32_t* sx, const int32_t* sy, const uint16_t* frac, int64_t n, T* out) {
  const auto* table = Arith<T>::cubic();
  const T* data = s.image.data;
  const int64_t xmax = s.image.width - 2, ymax = s.image.height - 2;
  const int64_t rs = s.image.row_stride, cs = s.image.col_stride, chs = s.image.channel_stride;
  for (int64_t i = 0; i < n; ++i, out += C) {
    const int64_t x = sx[i], y = sy[i];
    const auto* w = table + frac[i] * 16;
    if (x >= 1 && x < xmax && y >= 1 && y < ymax) {
      const T* p = data + (y - 1) * rs + (x - 1) * cs;
      for (int c = 0; c < C; ++c) {
        const T* q = p + c * chs;
        // Row by row, as OpenCV sums (keeps float results identical up to rounding order).
        typename Arith<T>::Acc acc = q[0] * w[0] + q[cs] * w[1] + q[2 * cs] * w[2] + q[3 * cs] * w[3];
        for (int ky = 1; ky < 4; ++ky) {
          const T* r = q + ky * rs;
          const auto* wr = w + 4 * ky;
          acc += r[0] * wr[0] + r[cs] * wr[1] + r[2 * cs] * wr[2] + r[3 * cs] * wr[3];
        }
        out[c] = Arith<T>::finish(acc);
      }
    } else {
      border_pixel<T, C, 4>(s, x, y, w, out);
    }
  }
}

template <class T, int C>
void sample_row(const Sampler<T>& s, const int32_t* sx, const int32_t* sy, const uint16_t* frac, int64_t n, T* out) {
  switch (s.interpolation) {
    case Interpolation::Nearest:
      return nearest_row<T, C>(s, sx, sy, n, out);
    case Interpolation::Area:  // Area and Bins are refused by check_warp_interpolation
    case Interpolation::Bins:
    case Interpolation::Linear:
#if defined(__SSE2__)
      if constexpr (std::is_same_v<T, uint8_t> && (C == 3 || C == 4)) {
        if (s.image.col_stride == C && s.image.channel_stride == 1) {
#if defined(OPTICORE_SSSE3_KERNELS)
          if (s.image.row_stride > 0 && has_ssse3()) return linear_row_u8_ssse3<C>(s, sx, sy, frac, n, out);
#endif
          return linear_row_u8_interleaved<C>(s, sx, sy, frac, n, out);
        }
      }
#endif
      return linear_row<T, C>(s, sx, sy, frac, n, out);
    case Interpolation::Cubic:
      return cubic_row<T, C>(s, sx, sy, frac, n, out);
  }
}

}  // namespace

void keys_cubic(float x, float* c) {
  const float A = -0.75f;
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1.f - c[0] - c[1] - c[2];
}

#if defined(OPTICORE_SSSE3_KERNELS)
bool has_ssse3() {
  // OPTICORE_NO_SSSE3 (any value) keeps the SSE2 paths, as on CPUs without SSSE3 (for tests).
  static const bool yes = __builtin_cpu_supports("ssse3") && std::getenv("OPTICORE_NO_SSSE3") == nullptr;
  return yes;
}
#endif

const int16_t* linear_weights_i16() { return linear_table().i.data(); }
const float* linear_weights_f32() { return linear_table().f.data(); }
const int16_t* cubic_weights_i16() { return cubic_table().i.data(); }
const float* cubic_weights_f32() { return cubic_table().f.data(); }

template <class T>
void Sampler<T>::row(const int32_t* sx, const int32_t* sy, const uint16_t* frac, int64_t n, T* out) const {
  switch (image.channels) {
    case 1:
      return sample_row<T, 1>(*this, sx, sy, frac, n, out);
    case 2:
      return sample_row<T, 2>(*this, sx, sy, frac, n, out);
    case 3:
      return sample_row<T, 3>(*this, sx, sy, frac, n, out);
    default:
      return sample_row<T, 4>(*this, sx, sy, frac, n, out);
  }
}

template struct Sampler<uint8_t>;
template struct Sampler<float>;

}  // namespace opticore::detail
