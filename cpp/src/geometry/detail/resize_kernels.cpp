// cv::resize's per-axis taps and its separable resampling; see resize_kernels.hpp.
#include "geometry/detail/resize_kernels.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/core/limits.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <tmmintrin.h>
#endif

namespace opticore::detail {

namespace {

/// floor(v) as an integer, for |v| < 2^62: without SSE4.1 std::floor is a libm call or a long
/// emulation, and the tap tables are a measurable part of a small resize.
int64_t floor_int(double v) {
  const auto t = static_cast<int64_t>(v);
  return static_cast<double>(t) > v ? t - 1 : t;
}

/// The number of tap entries, `out` outputs of `taps` taps each, checked against the size limit.
size_t tap_entries(int64_t out, int taps, const char* name) {
  check_array_size(name, {out, taps}, sizeof(int64_t));
  return static_cast<size_t>(out * taps);
}

}  // namespace

ResizeAxis::ResizeAxis(int64_t in, int64_t out, AxisKind kind, bool columns, const char* name)
    : taps(kind == AxisKind::Cubic ? 4 : 2), index(tap_entries(out, taps, name)), wf(index.size()), wi(index.size()) {
  const int K = taps;
  const double scale = resize_scale(in, out), inv_scale = static_cast<double>(out) / static_cast<double>(in);
  for (int64_t d = 0; d < out; ++d) {
    int64_t s = 0;
    float f = 0.f;
    if (kind == AxisKind::AreaLinear) {  // the pixel edges' overlap, as OpenCV's area mode
      s = floor_int(static_cast<double>(d) * scale);
      f = static_cast<float>(static_cast<double>(d + 1) - static_cast<double>(s + 1) * inv_scale);
      f = f <= 0.f ? 0.f : f - static_cast<float>(floor_int(f));
    } else {
      f = static_cast<float>((static_cast<double>(d) + 0.5) * scale - 0.5);
      s = floor_int(f);
      f -= static_cast<float>(s);
    }
    // OpenCV moves a bilinear column tap that falls outside onto the edge pixel with weight 1;
    // rows keep their weights and only their indices are clamped below. The two differ for
    // uint8, whose vertical pass rounds each product separately.
    if (columns && kind != AxisKind::Cubic) {
      if (s < 0) f = 0.f, s = 0;
      if (s >= in - 1) f = 0.f, s = in - 1;
    }
    float c[4];
    if (kind == AxisKind::Cubic) {
      keys_cubic(f, c);
    } else {
      c[0] = 1.f - f;
      c[1] = f;
    }
    for (int k = 0; k < K; ++k) {
      const size_t i = static_cast<size_t>(d * K + k);
      index[i] = std::clamp<int64_t>(s - (K / 2 - 1) + k, 0, in - 1);
      wf[i] = c[k];
      wi[i] = static_cast<int16_t>(
          std::clamp<int64_t>(round_half_even(static_cast<double>(c[k] * (1 << kResizeCoefBits))), -32768, 32767));
    }
  }
}

namespace {

// ----------------------------------------------------------------------------- horizontal pass
// One source row to `n` output pixels of C channels: row[x * C + c] = sum_k src[off[x K + k] + c] w[x K + k].

template <class T, class W, class Acc, int C, int K>
void horizontal(const T* src, const int64_t* off, const W* w, int64_t begin, int64_t n, Acc* row) {
  for (int64_t x = begin; x < n; ++x) {
    const int64_t* o = off + x * K;
    const W* wx = w + x * K;
    for (int c = 0; c < C; ++c) {
      Acc acc = src[o[0] + c] * wx[0];
      for (int k = 1; k < K; ++k) acc += src[o[k] + c] * wx[k];
      row[x * C + c] = acc;
    }
  }
}

#if defined(__SSE2__)
// uint8, 3 or 4 interleaved channels, two taps: both pixels' channels as 16-bit lanes (left,
// right, left, right, ...) times (w0, w1) pairs with pmaddwd, four int32 sums per pixel. Pixels
// in [begin, end) may read 4 bytes at both taps; with C = 3 the fourth sum lands on the next
// pixel's first channel, written after it (the row has one spare value at its end).
template <int C>
void horizontal_linear_u8(const uint8_t* src, const int64_t* off, const int16_t* w, int64_t begin, int64_t end,
                          int32_t* row) {
  const __m128i zero = _mm_setzero_si128();
  for (int64_t x = begin; x < end; ++x) {
    uint32_t a, b;
    int32_t w01;
    std::memcpy(&a, src + off[2 * x], 4);
    std::memcpy(&b, src + off[2 * x + 1], 4);
    std::memcpy(&w01, w + 2 * x, 4);
    const __m128i pair =
        _mm_unpacklo_epi8(_mm_cvtsi32_si128(static_cast<int>(a)), _mm_cvtsi32_si128(static_cast<int>(b)));
    const __m128i sums = _mm_madd_epi16(_mm_unpacklo_epi8(pair, zero), _mm_set1_epi32(w01));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + x * C), sums);
  }
}
#endif

#if defined(OPTICORE_SSSE3_KERNELS)
// The same with SSSE3 (chosen at run time) for pixels [0, end) whose taps are adjacent pixels
// of a packed row and may be read 8 bytes at once: one load, one pshufb.
template <int C>
__attribute__((target("ssse3"))) void horizontal_linear_u8_ssse3(const uint8_t* src, const int64_t* off,
                                                                 const int16_t* w, int64_t end, int32_t* row) {
  const __m128i spread = pair_spread_mask(C);
  for (int64_t x = 0; x < end; ++x) {
    int32_t w01;
    std::memcpy(&w01, w + 2 * x, 4);
    const __m128i pair = _mm_shuffle_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + off[2 * x])), spread);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + x * C), _mm_madd_epi16(pair, _mm_set1_epi32(w01)));
  }
}
#endif

/// Asks for the cache lines a source row's taps read, ahead of their use: the whole span when
/// the taps are dense, else the taps' own lines (a large reduction reads few lines of a row).
template <class T, int K>
void prefetch_taps(const T* row, const int64_t* off, int64_t n) {
#if defined(__GNUC__)
  const char* first = reinterpret_cast<const char*>(row + off[0]);
  const char* last = reinterpret_cast<const char*>(row + off[n * K - 1]);
  if (last - first <= 64 * n) {
    for (const char* p = first; p <= last; p += 64) __builtin_prefetch(p);
  } else {
    for (int64_t x = 0; x < n; ++x) __builtin_prefetch(row + off[x * K]);
  }
#else
  (void)row, (void)off, (void)n;
#endif
}

// ----------------------------------------------------------------------------- vertical pass

/// OpenCV's uint8 bilinear vertical rounding (see resize_kernels.hpp), n values.
void vertical_linear_u8(const int32_t* h0, const int32_t* h1, int16_t b0, int16_t b1, uint8_t* out, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128i vb0 = _mm_set1_epi16(b0), vb1 = _mm_set1_epi16(b1), two = _mm_set1_epi16(2);
  const auto eight = [&](int64_t j) {  // 8 results as int16
    const auto load = [](const int32_t* p) {
      return _mm_srai_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), 4);
    };
    const __m128i s0 = _mm_packs_epi32(load(h0 + j), load(h0 + j + 4));
    const __m128i s1 = _mm_packs_epi32(load(h1 + j), load(h1 + j + 4));
    const __m128i sum = _mm_add_epi16(_mm_mulhi_epi16(s0, vb0), _mm_mulhi_epi16(s1, vb1));
    return _mm_srai_epi16(_mm_add_epi16(sum, two), 2);
  };
  for (; i + 16 <= n; i += 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(eight(i), eight(i + 8)));
  }
  for (; i + 8 <= n; i += 8) {
    const __m128i v = eight(i);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(v, v));
  }
#endif
  for (; i < n; ++i) {
    const auto high = [](int32_t h, int16_t b) {  // int16 saturation, then pmulhw
      const int32_t s = std::clamp<int32_t>(h >> 4, -32768, 32767);
      return (s * b) >> 16;
    };
    const int32_t v = (high(h0[i], b0) + high(h1[i], b1) + 2) >> 2;
    out[i] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
}

template <class T, class W, class Acc, int K>
void vertical(const Acc* const* rows, const W* wy, T* out, int64_t n) {
  W w[K];  // locals: uint8 stores could alias the weights and force reloads
  for (int k = 0; k < K; ++k) w[k] = wy[k];
  for (int64_t i = 0; i < n; ++i) {
    Acc acc = rows[0][i] * w[0];
    for (int k = 1; k < K; ++k) acc += rows[k][i] * w[k];
    if constexpr (std::is_same_v<T, uint8_t>) {
      acc = (acc + (1 << (2 * kResizeCoefBits - 1))) >> (2 * kResizeCoefBits);
      out[i] = static_cast<uint8_t>(acc < 0 ? 0 : (acc > 255 ? 255 : acc));
    } else {
      out[i] = acc;
    }
  }
}

/// OpenCV's uint8 cubic vertical pass: whole blocks of 8 values (its 128-bit SIMD width) in
/// float, s0 b0 + (s1 b1 + (s2 b2 + s3 b3)) with b = weight / 2048^2, rounded to even and
/// saturated; the values after the last whole block in integers, rounded half up, as its scalar
/// tail. (OpenCV's default builds resize uint8 cubic with IPP instead, which differs by 1 on a few
/// percent of the pixels.)
void vertical_cubic_u8(const int32_t* const* rows, const int16_t* wy, uint8_t* out, int64_t n) {
  constexpr float kScale = 1.f / static_cast<float>(1 << (2 * kResizeCoefBits));
  float b[4];
  for (int k = 0; k < 4; ++k) b[k] = static_cast<float>(wy[k]) * kScale;
  const int64_t blocks_end = n - n % 8;
#if defined(__SSE2__)
  const auto four = [&](int64_t j) {
    __m128 v =
        _mm_mul_ps(_mm_cvtepi32_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[3] + j))), _mm_set1_ps(b[3]));
    for (int k = 2; k >= 0; --k) {
      const __m128 s = _mm_cvtepi32_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + j)));
      v = _mm_add_ps(_mm_mul_ps(s, _mm_set1_ps(b[k])), v);
    }
    return _mm_cvtps_epi32(v);
  };
  for (int64_t i = 0; i < blocks_end; i += 8) {
    const __m128i v = _mm_packs_epi32(four(i), four(i + 4));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(v, v));
  }
#else
  for (int64_t i = 0; i < blocks_end; ++i) {  // the same operations one value at a time
    float v = static_cast<float>(rows[3][i]) * b[3];
    for (int k = 2; k >= 0; --k) v = static_cast<float>(rows[k][i]) * b[k] + v;
    out[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(v), 0.f, 255.f));
  }
#endif
  const int32_t* tail[4] = {rows[0] + blocks_end, rows[1] + blocks_end, rows[2] + blocks_end, rows[3] + blocks_end};
  vertical<uint8_t, int16_t, int32_t, 4>(tail, wy, out + blocks_end, n - blocks_end);
}

// ----------------------------------------------------------------------------- the two passes

template <class T, int C, int K>
void separable(const ImageView<T>& im, const ResizeAxis& ax, const ResizeAxis& ay, const OutputImage<T>& dst,
               bool parallel) {
  constexpr bool u8 = std::is_same_v<T, uint8_t>;
  using W = std::conditional_t<u8, int16_t, float>;
  using Acc = std::conditional_t<u8, int32_t, float>;
  const W* wx = [&] {
    if constexpr (u8)
      return ax.wi.data();
    else
      return ax.wf.data();
  }();
  const W* wy = [&] {
    if constexpr (u8)
      return ay.wi.data();
    else
      return ay.wf.data();
  }();
  const int64_t out_width = dst.width, row_len = out_width * C;
  check_array_size("dsize", {K + 1, row_len + 1}, sizeof(Acc));  // each thread's row cache
  SmallBuffer<int64_t, kSmallTaps> off(ax.index.size());         // element offsets of the horizontal taps
  for (size_t i = 0; i < off.size(); ++i) off[i] = ax.index[i] * im.col_stride;
  // Pixels whose taps can be read 4 bytes at a time (all but those reaching the last pixel), and
  // those whose taps are adjacent and can be read 8 bytes at once (the taps move right with x).
  int64_t simd_end = 0, wide_end = 0;
  if constexpr (u8 && K == 2 && (C == 3 || C == 4)) {
    const int64_t row_end = (im.width - 1) * im.col_stride + C;
    while (simd_end < out_width && off[2 * simd_end + 1] + 4 <= row_end) ++simd_end;
#if defined(OPTICORE_SSSE3_KERNELS)
    if (im.col_stride == C && has_ssse3()) {
      while (wide_end < out_width && off[2 * wide_end] + 8 <= row_end && off[2 * wide_end + 1] == off[2 * wide_end] + C)
        ++wide_end;
    }
#endif
  }

  const auto body = [&](int64_t begin, int64_t end) {
    // K horizontally resampled source rows; source row r lives in slot r % K (the taps of one
    // output row are consecutive rows, so they never collide).
    // Each slot has one spare value (see horizontal_linear_u8).
    const int64_t slot = row_len + 1;
    SmallBuffer<Acc, 2048> cache(static_cast<size_t>(K * slot));
    std::array<int64_t, K> cached;
    cached.fill(-1);
    for (int64_t y = begin; y < end; ++y) {
      // The hardware does not foresee the jump to the next output row's source rows: fetch the
      // last of them while this row is computed (cache misses dominate small and shrinking crops).
      if (y + 1 < end)
        prefetch_taps<T, K>(im.data + ay.index[(y + 1) * K + K - 1] * im.row_stride, off.data(), out_width);
      const Acc* rows[K];
      for (int k = 0; k < K; ++k) {
        const int64_t sy = ay.index[y * K + k];
        Acc* row = cache.data() + (sy % K) * slot;
        rows[k] = row;
        if (cached[sy % K] == sy) continue;
        cached[sy % K] = sy;
        const T* src = im.data + sy * im.row_stride;
        int64_t done = 0;
#if defined(__SSE2__)
        if constexpr (u8 && K == 2 && (C == 3 || C == 4)) {
#if defined(OPTICORE_SSSE3_KERNELS)
          if (wide_end > 0) horizontal_linear_u8_ssse3<C>(src, off.data(), wx, wide_end, row);
#endif
          horizontal_linear_u8<C>(src, off.data(), wx, wide_end, std::max(simd_end, wide_end), row);
          done = std::max(simd_end, wide_end);
        }
#endif
        horizontal<T, W, Acc, C, K>(src, off.data(), wx, done, out_width, row);
      }
      T* out = dst.data + y * row_len;
      if constexpr (u8 && K == 2) {
        vertical_linear_u8(rows[0], rows[1], wy[y * 2], wy[y * 2 + 1], out, row_len);
      } else if constexpr (u8 && K == 4) {
        vertical_cubic_u8(rows, wy + y * 4, out, row_len);
      } else {
        vertical<T, W, Acc, K>(rows, wy + y * K, out, row_len);
      }
    }
  };
  if (parallel) {
    parallel_for(dst.height, rows_per_chunk(dst.height, out_width, C), body);
  } else {
    body(0, dst.height);
  }
}

template <class T, int C>
void separable_taps(const ImageView<T>& im, const ResizeAxis& ax, const ResizeAxis& ay, const OutputImage<T>& dst,
                    bool parallel) {
  if (ax.taps == 4) return separable<T, C, 4>(im, ax, ay, dst, parallel);
  return separable<T, C, 2>(im, ax, ay, dst, parallel);
}

}  // namespace

template <class T>
void resize_separable(const ImageView<T>& image, const ResizeAxis& ax, const ResizeAxis& ay, const OutputImage<T>& dst,
                      bool parallel) {
  switch (image.channels) {
    case 1:
      return separable_taps<T, 1>(image, ax, ay, dst, parallel);
    case 2:
      return separable_taps<T, 2>(image, ax, ay, dst, parallel);
    case 3:
      return separable_taps<T, 3>(image, ax, ay, dst, parallel);
    default:
      return separable_taps<T, 4>(image, ax, ay, dst, parallel);
  }
}

template void resize_separable(const ImageView<uint8_t>&, const ResizeAxis&, const ResizeAxis&,
                               const OutputImage<uint8_t>&, bool);
template void resize_separable(const ImageView<float>&, const ResizeAxis&, const ResizeAxis&, const OutputImage<float>&,
                               bool);

}  // namespace opticore::detail
