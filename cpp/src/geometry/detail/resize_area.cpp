// INTER_AREA for shrinking: OpenCV's block sums for whole-number factors, else its per-axis
// coverage tables, accumulated in float in OpenCV's order so that uint8 results round the same.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/resize_kernels.hpp"
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

template <class T>
T saturate(float v) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    if (!(v >= 0.f)) return 0;  // also NaN, as cvRound's INT_MIN saturates to 0
    return static_cast<uint8_t>(std::min<int64_t>(round_half_even(static_cast<double>(v)), 255));
  } else {
    return v;
  }
}

/// A 2 x 2 block's mean, as OpenCV rounds it.
template <class T>
T mean4(T a, T b, T c, T d) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return static_cast<uint8_t>((a + b + c + d + 2) >> 2);
  } else {
    return (a + b + c + d) * 0.25f;
  }
}

template <class T, int C>
void half_row_strided(const T* r0, const T* r1, int64_t cs, T* out, int64_t width) {
  for (int64_t x = 0; x < width; ++x) {
    for (int c = 0; c < C; ++c) {
      const int64_t o = 2 * x * cs + c;
      out[x * C + c] = mean4(r0[o], r0[o + cs], r1[o], r1[o + cs]);
    }
  }
}

#if defined(__SSE2__)
/// 2 x 2 means (sum + 2) >> 2 of one output row from t, the column sums of its two source rows
/// (uint16, at least 32 spare values after 2 * width * C); returns the pixels done.
template <int C>
int64_t half_means_sse2(const uint16_t* t, uint8_t* out, int64_t width) {
  const auto load = [](const uint16_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); };
  const __m128i two = _mm_set1_epi16(2);
  const auto finish = [&](__m128i a, __m128i b) {  // 16 sums as int16 -> 16 means as bytes
    return _mm_packus_epi16(_mm_srli_epi16(_mm_add_epi16(a, two), 2), _mm_srli_epi16(_mm_add_epi16(b, two), 2));
  };
  int64_t x = 0;
  if constexpr (C == 1) {  // neighbours are adjacent lanes: pmaddwd with ones adds them
    const __m128i ones = _mm_set1_epi16(1);
    for (; x + 8 <= width; x += 8) {
      const __m128i s =
          _mm_packs_epi32(_mm_madd_epi16(load(t + 2 * x), ones), _mm_madd_epi16(load(t + 2 * x + 8), ones));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + x), finish(s, s));
    }
  } else if constexpr (C == 4) {  // two pixels a register: add its halves
    for (; x + 2 <= width; x += 2) {
      const __m128i a = load(t + 8 * x), b = load(t + 8 * x + 8);
      const __m128i s =
          _mm_unpacklo_epi64(_mm_add_epi16(a, _mm_srli_si128(a, 8)), _mm_add_epi16(b, _mm_srli_si128(b, 8)));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 4 * x), finish(s, s));
    }
  } else if constexpr (C == 3) {
    // u[j] = t[j] + t[j + 3]; the means of 4 pixels are u lanes 0-2, 6-8, 12-14, 18-20, gathered
    // from three registers with masks and byte shifts.
    const auto mask = [](int lo, int hi) {
      alignas(16) int16_t m[8] = {};
      for (int i = lo; i <= hi; ++i) m[i] = -1;
      return _mm_load_si128(reinterpret_cast<const __m128i*>(m));
    };
    const __m128i m0_2 = mask(0, 2), m6_7 = mask(6, 7), m0 = mask(0, 0), m4_5 = mask(4, 5), m6 = mask(6, 6),
                  m2_4 = mask(2, 4);
    for (; x + 4 <= width; x += 4) {
      const uint16_t* p = t + 6 * x;
      const __m128i a = _mm_add_epi16(load(p), load(p + 3)), b = _mm_add_epi16(load(p + 8), load(p + 11)),
                    c = _mm_add_epi16(load(p + 16), load(p + 19));
      const __m128i lo = _mm_or_si128(
          _mm_or_si128(_mm_and_si128(a, m0_2), _mm_srli_si128(_mm_and_si128(a, m6_7), 6)),
          _mm_or_si128(_mm_slli_si128(_mm_and_si128(b, m0), 10), _mm_slli_si128(_mm_and_si128(b, m4_5), 4)));
      const __m128i hi =
          _mm_or_si128(_mm_srli_si128(_mm_and_si128(b, m6), 12), _mm_srli_si128(_mm_and_si128(c, m2_4), 2));
      const __m128i v = finish(lo, hi);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 3 * x), v);
      const int32_t last = _mm_cvtsi128_si32(_mm_srli_si128(v, 8));
      std::memcpy(out + 3 * x + 8, &last, 4);
    }
  }
  return x;
}
#endif

#if defined(OPTICORE_SSSE3_KERNELS)
/// The means of the blocks of 16 bytes at r0 and r1 whose horizontal pairs `pairs` makes
/// adjacent, as 16-bit lanes (a lane of two -1 indices is 0).
__attribute__((target("ssse3"))) inline __m128i block_means_ssse3(const uint8_t* r0, const uint8_t* r1, __m128i pairs) {
  const __m128i ones = _mm_set1_epi8(1);
  const __m128i s0 =
      _mm_maddubs_epi16(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r0)), pairs), ones);
  const __m128i s1 =
      _mm_maddubs_epi16(_mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r1)), pairs), ones);
  return _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(s0, s1), _mm_set1_epi16(2)), 2);
}

/// 2 x 2 means (a + b + c + d + 2) >> 2 of one output row straight from its two source rows r0,
/// r1 (2 * width * C bytes each, channels adjacent), with SSSE3 (chosen at run time): pshufb puts
/// the two bytes of each horizontal pair side by side and pmaddubsw with ones adds them into a
/// 16-bit lane, the two rows' pair sums are added, rounded and packed. Reads only inside the two
/// rows; returns the pixels done.
template <int C>
__attribute__((target("ssse3"))) int64_t half_means_ssse3(const uint8_t* r0, const uint8_t* r1, uint8_t* out,
                                                          int64_t width) {
  int64_t x = 0;
  if constexpr (C == 1) {  // neighbours are adjacent bytes already
    const __m128i same = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (; x + 16 <= width; x += 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x),
                       _mm_packus_epi16(block_means_ssse3(r0 + 2 * x, r1 + 2 * x, same),
                                        block_means_ssse3(r0 + 2 * x + 16, r1 + 2 * x + 16, same)));
    }
  } else if constexpr (C == 4) {  // 16 bytes: two blocks of two pixels
    const __m128i pairs = _mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15);
    for (; x + 4 <= width; x += 4) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 4 * x),
                       _mm_packus_epi16(block_means_ssse3(r0 + 8 * x, r1 + 8 * x, pairs),
                                        block_means_ssse3(r0 + 8 * x + 16, r1 + 8 * x + 16, pairs)));
    }
  } else if constexpr (C == 3) {
    // 8 output pixels from 48 bytes a row: four 16-byte windows of two blocks (12 bytes) each, at
    // bytes 0, 12, 24 and 32 (the last one's blocks start at its byte 4, so that no read passes
    // byte 48); six means a window in lanes 0-5, then packed and joined into 24 bytes.
    const __m128i pairs = _mm_setr_epi8(0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11, -1, -1, -1, -1);
    const __m128i pairs_last = _mm_setr_epi8(4, 7, 5, 8, 6, 9, 10, 13, 11, 14, 12, 15, -1, -1, -1, -1);
    const __m128i join = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, -1, -1, -1, -1);
    for (; x + 8 <= width; x += 8) {
      const uint8_t *a = r0 + 6 * x, *b = r1 + 6 * x;
      const __m128i m0 = block_means_ssse3(a, b, pairs), m1 = block_means_ssse3(a + 12, b + 12, pairs);
      const __m128i m2 = block_means_ssse3(a + 24, b + 24, pairs), m3 = block_means_ssse3(a + 32, b + 32, pairs_last);
      const __m128i lo = _mm_shuffle_epi8(_mm_packus_epi16(m0, m1), join);
      const __m128i hi = _mm_shuffle_epi8(_mm_packus_epi16(m2, m3), join);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * x), _mm_or_si128(lo, _mm_slli_si128(hi, 12)));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 3 * x + 16), _mm_srli_si128(hi, 4));
    }
  }
  return x;
}
#endif

/// uint8 blocks of adjacent pixels (column stride C): per output row the fy source rows summed
/// column by column, then fx neighbours per output: (sum + 2) >> 2 for 2 x 2 blocks (OpenCV has
/// no such path for 2 channels), else sum * (1 / area) in float rounded to even, as OpenCV.
template <int C>
void blocks_u8_row(const uint8_t* row0, int64_t rs, int64_t fx, int64_t fy, float inv_area, int32_t* t, uint16_t* t16,
                   uint8_t* out, int64_t width) {
  const int64_t n = width * fx * C;
  if (fx == 2 && fy == 2 && C != 2) {
#if defined(OPTICORE_SSSE3_KERNELS)
    if (has_ssse3()) {
      const int64_t x = half_means_ssse3<C>(row0, row0 + rs, out, width);
      return half_row_strided<uint8_t, C>(row0 + 2 * x * C, row0 + rs + 2 * x * C, C, out + x * C, width - x);
    }
#endif
    for (int64_t j = 0; j < n; ++j) t16[j] = static_cast<uint16_t>(row0[j] + row0[rs + j]);
    int64_t x = 0;
#if defined(__SSE2__)
    x = half_means_sse2<C>(t16, out, width);
#endif
    for (; x < width; ++x) {
      for (int c = 0; c < C; ++c) {
        out[x * C + c] = static_cast<uint8_t>((t16[2 * x * C + c] + t16[2 * x * C + C + c] + 2) >> 2);
      }
    }
    return;
  }
  for (int64_t j = 0; j < n; ++j) t[j] = row0[j];
  for (int64_t by = 1; by < fy; ++by) {
    const uint8_t* r = row0 + by * rs;
    for (int64_t j = 0; j < n; ++j) t[j] += r[j];
  }
  for (int64_t x = 0; x < width; ++x) {
    for (int c = 0; c < C; ++c) {
      int32_t sum = 0;
      for (int64_t bx = 0; bx < fx; ++bx) sum += t[(x * fx + bx) * C + c];
      t[x * C + c] = sum;  // reads stay ahead of writes: (x fx + bx) C + c >= x C + c
    }
  }
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128 scale = _mm_set1_ps(inv_area);
  const auto mean = [&](int64_t k) {
    return _mm_cvtps_epi32(
        _mm_mul_ps(_mm_cvtepi32_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t + k))), scale));
  };
  for (; i + 8 <= width * C; i += 8) {
    const __m128i v = _mm_packs_epi32(mean(i), mean(i + 4));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(v, v));
  }
#endif
  for (; i < width * C; ++i) out[i] = saturate<uint8_t>(static_cast<float>(t[i]) * inv_area);
}

/// Whole-number factors fx x fy: the mean of each block (its sum times 1 / area in float, rounded;
/// a 2 x 2 uint8 block is (sum + 2) >> 2 as in OpenCV's fast path). The image has channel_stride 1.
template <class T, int C>
void area_blocks(const ImageView<T>& im, const OutputImage<T>& dst, int64_t fx, int64_t fy, bool parallel) {
  const int64_t width = dst.width, rs = im.row_stride, cs = im.col_stride;
  const float inv_area = 1.f / static_cast<float>(fx * fy);
  const T* data = im.data;
  T* out_data = dst.data;
  // int32 column and block sums: blocks of up to 8M pixels.
  const bool packed_u8 = std::is_same_v<T, uint8_t> && cs == C && fx * fy <= 8000000;
  if (packed_u8) check_array_size("dsize", {width * fx * C + 32}, sizeof(int32_t) + sizeof(uint16_t));
  const auto body = [=](int64_t begin, int64_t end) {
    SmallBuffer<int32_t, 2048> t(packed_u8 ? static_cast<size_t>(width * fx * C + 32) : 0);
    SmallBuffer<uint16_t, 2048> t16(t.size());
    for (int64_t y = begin; y < end; ++y) {
      const T* block_row = data + y * fy * rs;
      T* out = out_data + y * width * C;
      if constexpr (std::is_same_v<T, uint8_t>) {
        if (packed_u8) {
          blocks_u8_row<C>(block_row, rs, fx, fy, inv_area, t.data(), t16.data(), out, width);
          continue;
        }
      }
      // OpenCV's (sum + 2) >> 2 path has no 2-channel version: those round sum / 4 to even below.
      if (fx == 2 && fy == 2 && (C != 2 || !std::is_same_v<T, uint8_t>)) {
        half_row_strided<T, C>(block_row, block_row + rs, cs, out, width);
        continue;
      }
      // Exact for uint8; double for float, so that large blocks do not drift as a float sum would.
      using Acc = std::conditional_t<std::is_same_v<T, uint8_t>, int64_t, double>;
      for (int64_t x = 0; x < width; ++x) {
        for (int c = 0; c < C; ++c) {
          Acc sum = 0;
          for (int64_t by = 0; by < fy; ++by) {
            const T* p = block_row + by * rs + x * fx * cs + c;
            for (int64_t bx = 0; bx < fx; ++bx) sum += p[bx * cs];
          }
          out[x * C + c] = saturate<T>(static_cast<float>(sum) * inv_area);
        }
      }
    }
  };
  if (parallel) {
    parallel_for(dst.height, rows_per_chunk(dst.height, width, C), body);
  } else {
    body(0, dst.height);
  }
}

/// One axis' coverage: output index d takes source pixels src[k] with weights w[k] for k in
/// [first[d], first[d + 1]), each weight the share of the output cell the source pixel covers.
struct Coverage {
  std::vector<int64_t> first, src;
  std::vector<float> w;
};

Coverage coverage(int64_t in, int64_t out, const char* name) {
  const double scale = resize_scale(in, out);
  check_array_size(name, {in + 2 * out}, sizeof(int64_t) * 2 + sizeof(float));
  Coverage cov;
  cov.first.reserve(static_cast<size_t>(out + 1));
  for (int64_t d = 0; d < out; ++d) {
    cov.first.push_back(static_cast<int64_t>(cov.src.size()));
    const double f1 = static_cast<double>(d) * scale, f2 = f1 + scale;
    const double cell = std::min(scale, static_cast<double>(in) - f1);  // the last cell may be cut
    int64_t s1 = static_cast<int64_t>(std::ceil(f1)), s2 = static_cast<int64_t>(std::floor(f2));
    s2 = std::min(s2, in - 1);
    s1 = std::min(s1, s2);
    const auto add = [&](int64_t s, double share) {
      cov.src.push_back(s);
      cov.w.push_back(static_cast<float>(share / cell));
    };
    if (static_cast<double>(s1) - f1 > 1e-3) add(s1 - 1, static_cast<double>(s1) - f1);  // partial left pixel
    for (int64_t s = s1; s < s2; ++s) add(s, 1.0);
    if (f2 - static_cast<double>(s2) > 1e-3) add(s2, std::min(std::min(f2 - static_cast<double>(s2), 1.0), cell));
  }
  cov.first.push_back(static_cast<int64_t>(cov.src.size()));
  return cov;
}

template <class T, int C>
void area_general(const ImageView<T>& im, const OutputImage<T>& dst, bool parallel) {
  const Coverage cx = coverage(im.width, dst.width, "dsize"), cy = coverage(im.height, dst.height, "dsize");
  const int64_t row_len = dst.width * C;
  check_array_size("dsize", {2, row_len}, sizeof(float));
  const auto body = [&](int64_t begin, int64_t end) {
    std::vector<float> buf(static_cast<size_t>(row_len)), sum(static_cast<size_t>(row_len));
    for (int64_t y = begin; y < end; ++y) {
      for (int64_t j = cy.first[y]; j < cy.first[y + 1]; ++j) {
        const T* src = im.data + cy.src[j] * im.row_stride;
        std::fill(buf.begin(), buf.end(), 0.f);
        for (int64_t x = 0; x < dst.width; ++x) {
          for (int64_t k = cx.first[x]; k < cx.first[x + 1]; ++k) {
            const T* p = src + cx.src[k] * im.col_stride;
            for (int c = 0; c < C; ++c) buf[x * C + c] += static_cast<float>(p[c]) * cx.w[k];
          }
        }
        const float beta = cy.w[j];
        if (j == cy.first[y]) {
          for (int64_t i = 0; i < row_len; ++i) sum[i] = beta * buf[i];
        } else {
          for (int64_t i = 0; i < row_len; ++i) sum[i] += beta * buf[i];
        }
      }
      T* out = dst.data + y * row_len;
      for (int64_t i = 0; i < row_len; ++i) out[i] = saturate<T>(sum[i]);
    }
  };
  if (parallel) {
    parallel_for(dst.height, rows_per_chunk(dst.height, dst.width, C), body);
  } else {
    body(0, dst.height);
  }
}

template <class T, int C>
void area_channels(const ImageView<T>& im, const OutputImage<T>& dst, bool parallel) {
  // OpenCV's test for whole-number factors, on the same doubles.
  const double sx = resize_scale(im.width, dst.width), sy = resize_scale(im.height, dst.height);
  const double ix = std::nearbyint(sx), iy = std::nearbyint(sy);
  if (std::fabs(sx - ix) < DBL_EPSILON && std::fabs(sy - iy) < DBL_EPSILON) {
    return area_blocks<T, C>(im, dst, static_cast<int64_t>(ix), static_cast<int64_t>(iy), parallel);
  }
  area_general<T, C>(im, dst, parallel);
}

}  // namespace

template <class T>
void resize_area(const ImageView<T>& image, const OutputImage<T>& dst, bool parallel) {
  switch (image.channels) {
    case 1:
      return area_channels<T, 1>(image, dst, parallel);
    case 2:
      return area_channels<T, 2>(image, dst, parallel);
    case 3:
      return area_channels<T, 3>(image, dst, parallel);
    default:
      return area_channels<T, 4>(image, dst, parallel);
  }
}

template void resize_area(const ImageView<uint8_t>&, const OutputImage<uint8_t>&, bool);
template void resize_area(const ImageView<float>&, const OutputImage<float>&, bool);

}  // namespace opticore::detail
