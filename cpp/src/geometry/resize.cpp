// cv::resize's arithmetic: separable, a horizontal pass per source row (cached, since consecutive
// output rows share source rows) then a vertical pass. "linear" and "cubic" sample at
// (x + 0.5) * in / out - 0.5 with replicated borders; uint8 weights are 11-bit fixed point per axis
// (INTER_RESIZE_COEF_BITS), rounded once at the end. An exact 2x reduction with "linear" is a 2x2
// average, computed directly as OpenCV does.
#include <array>
#include <cmath>
#include <type_traits>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore {
namespace {

constexpr int kResizeCoefBits = 11;

/// Taps and weights along one axis: output index d reads source indices index[d*K + k] (already
/// clamped into the image) with weights w[d*K + k].
template <class W>
struct Axis {
  std::vector<int64_t> index;
  std::vector<W> w;
};

void cubic_coefficients(float x, float* c) {  // OpenCV's interpolateCubic, A = -0.75
  const float A = -0.75f;
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1.f - c[0] - c[1] - c[2];
}

template <class W, int K>
Axis<W> make_axis(int64_t in, int64_t out) {
  const double scale = 1.0 / (static_cast<double>(out) / static_cast<double>(in));  // as OpenCV
  check_array_size("dsize", {out, K}, sizeof(int64_t));
  Axis<W> axis;
  axis.index.resize(static_cast<size_t>(out * K));
  axis.w.resize(static_cast<size_t>(out * K));
  for (int64_t d = 0; d < out; ++d) {
    float f = static_cast<float>((static_cast<double>(d) + 0.5) * scale - 0.5);
    int64_t s = static_cast<int64_t>(std::floor(f));
    f -= static_cast<float>(s);
    float c[4];
    if (K == 2) {  // linear clamps the position itself at the borders
      if (s < 0) f = 0.f, s = 0;
      if (s >= in - 1) f = 0.f, s = in - 1;
      c[0] = 1.f - f;
      c[1] = f;
    } else {
      cubic_coefficients(f, c);
    }
    for (int k = 0; k < K; ++k) {
      axis.index[d * K + k] = std::clamp<int64_t>(s - (K / 2 - 1) + k, 0, in - 1);
      if constexpr (std::is_same_v<W, int16_t>) {
        axis.w[d * K + k] = static_cast<int16_t>(std::clamp<int64_t>(
            detail::round_half_even(static_cast<double>(c[k] * (1 << kResizeCoefBits))), -32768, 32767));
      } else {
        axis.w[d * K + k] = c[k];
      }
    }
  }
  return axis;
}

template <class T>
struct ResizeArith;
template <>
struct ResizeArith<uint8_t> {
  using W = int16_t;
  using Acc = int32_t;
  static uint8_t finish(Acc v) {
    v = (v + (1 << (2 * kResizeCoefBits - 1))) >> (2 * kResizeCoefBits);
    return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
  }
};
template <>
struct ResizeArith<float> {
  using W = float;
  using Acc = float;
  static float finish(Acc v) { return v; }
};

template <class T, int C, int K>
void resize_separable(const ImageView<T>& im, const OutputImage<T>& dst) {
  using W = typename ResizeArith<T>::W;
  using Acc = typename ResizeArith<T>::Acc;
  const Axis<W> ax = make_axis<W, K>(im.width, dst.width);
  const Axis<W> ay = make_axis<W, K>(im.height, dst.height);
  const int64_t row_len = dst.width * C;
  check_array_size("dsize", {K, row_len}, sizeof(Acc));  // each thread's row cache
  std::vector<int64_t> xoff(ax.index.size());            // element offsets of the horizontal taps
  for (size_t i = 0; i < xoff.size(); ++i) xoff[i] = ax.index[i] * im.col_stride;

  detail::parallel_for(dst.height, detail::rows_per_chunk(dst.width, C), [&](int64_t begin, int64_t end) {
    // K horizontally resampled source rows; source row r lives in slot r % K (the taps of one
    // output row are consecutive rows, so they never collide).
    std::vector<Acc> cache(static_cast<size_t>(K * row_len));
    std::array<int64_t, K> cached;
    cached.fill(-1);
    for (int64_t y = begin; y < end; ++y) {
      const Acc* rows[K];
      for (int k = 0; k < K; ++k) {
        const int64_t sy = ay.index[y * K + k];
        Acc* row = cache.data() + (sy % K) * row_len;
        rows[k] = row;
        if (cached[sy % K] == sy) continue;
        cached[sy % K] = sy;
        const T* src = im.data + sy * im.row_stride;
        const int64_t chs = im.channel_stride, out_width = dst.width;
        const int64_t* offsets = xoff.data();
        const W* weights = ax.w.data();
        for (int64_t x = 0; x < out_width; ++x) {
          const int64_t* o = offsets + x * K;
          const W* w = weights + x * K;
          for (int c = 0; c < C; ++c) {
            const T* s = src + c * chs;
            Acc acc = s[o[0]] * w[0];
            for (int t = 1; t < K; ++t) acc += s[o[t]] * w[t];
            row[x * C + c] = acc;
          }
        }
      }
      W wy[K];  // locals: uint8 stores could alias the weights and force reloads
      for (int k = 0; k < K; ++k) wy[k] = ay.w[y * K + k];
      T* out = dst.data + y * row_len;
      for (int64_t i = 0; i < row_len; ++i) {
        Acc acc = rows[0][i] * wy[0];
        for (int k = 1; k < K; ++k) acc += rows[k][i] * wy[k];
        out[i] = ResizeArith<T>::finish(acc);
      }
    }
  });
}

/// in = 2 * out on both axes with "linear": every output is the mean of a 2x2 block.
template <class T, int C>
void resize_half(const ImageView<T>& im, const OutputImage<T>& dst) {
  const int64_t cs = im.col_stride, rs = im.row_stride, chs = im.channel_stride, width = dst.width;
  const T* data = im.data;
  T* dst_data = dst.data;
  detail::parallel_for(dst.height, detail::rows_per_chunk(dst.width, C), [=](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) {
      const T* r0 = data + 2 * y * rs;
      const T* r1 = r0 + rs;
      T* out = dst_data + y * width * C;
      for (int64_t x = 0; x < width; ++x, out += C) {
        const int64_t o = 2 * x * cs;
        for (int c = 0; c < C; ++c) {
          const int64_t oc = o + c * chs;
          if constexpr (std::is_same_v<T, uint8_t>) {
            out[c] = static_cast<uint8_t>((r0[oc] + r0[oc + cs] + r1[oc] + r1[oc + cs] + 2) >> 2);
          } else {
            out[c] = (r0[oc] + r0[oc + cs] + r1[oc] + r1[oc + cs]) * 0.25f;
          }
        }
      }
    }
  });
}

template <class T, int C>
void resize_nearest(const ImageView<T>& im, const OutputImage<T>& dst) {
  // floor(d * in / out), computed as OpenCV does (through the inverse of out / in).
  const double ifx = 1.0 / (static_cast<double>(dst.width) / static_cast<double>(im.width));
  const double ify = 1.0 / (static_cast<double>(dst.height) / static_cast<double>(im.height));
  check_array_size("dsize", {dst.width}, sizeof(int64_t));
  std::vector<int64_t> xoff(static_cast<size_t>(dst.width));
  for (int64_t x = 0; x < dst.width; ++x) {
    xoff[x] =
        std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<double>(x) * ifx)), im.width - 1) * im.col_stride;
  }
  const int64_t* offsets = xoff.data();
  const int64_t chs = im.channel_stride, width = dst.width;
  detail::parallel_for(
      dst.height, detail::rows_per_chunk(dst.width, C), [&, offsets, chs, width](int64_t begin, int64_t end) {
        for (int64_t y = begin; y < end; ++y) {
          const int64_t sy =
              std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<double>(y) * ify)), im.height - 1);
          const T* src = im.data + sy * im.row_stride;
          T* out = dst.data + y * width * C;
          for (int64_t x = 0; x < width; ++x, out += C) {
            for (int c = 0; c < C; ++c) out[c] = src[offsets[x] + c * chs];
          }
        }
      });
}

template <class T, int C>
void resize_channels(const ImageView<T>& im, const OutputImage<T>& dst, Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::Nearest:
      return resize_nearest<T, C>(im, dst);
    case Interpolation::Linear:
      if (im.width == 2 * dst.width && im.height == 2 * dst.height) return resize_half<T, C>(im, dst);
      return resize_separable<T, C, 2>(im, dst);
    case Interpolation::Cubic:
      return resize_separable<T, C, 4>(im, dst);
  }
}

}  // namespace

template <class T>
void resize(ImageView<T> image, OutputImage<T> dst, Interpolation interpolation) {
  detail::check_image(image, INT64_MAX);
  detail::check_output(dst, image.channels);
  switch (image.channels) {
    case 1:
      return resize_channels<T, 1>(image, dst, interpolation);
    case 2:
      return resize_channels<T, 2>(image, dst, interpolation);
    case 3:
      return resize_channels<T, 3>(image, dst, interpolation);
    default:
      return resize_channels<T, 4>(image, dst, interpolation);
  }
}

template void resize(ImageView<uint8_t>, OutputImage<uint8_t>, Interpolation);
template void resize(ImageView<float>, OutputImage<float>, Interpolation);

}  // namespace opticore
