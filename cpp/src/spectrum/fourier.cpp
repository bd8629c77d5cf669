// fourier_spectrum: grey, a real 2-D FFT, log magnitude with the centre shift, normalisation and
// an optional resize, one image at a time with per-thread scratch buffers.
//
// The real 2-D FFT, in three passes over interleaved data (every butterfly runs over a whole row
// of contiguous values, see complex_fft.hpp; complex values are split into real and imaginary
// arrays):
//   1. columns: columns 2k and 2k + 1 of the grey image go through one complex FFT as the real and
//      imaginary parts, z = a + i b; their spectra are A[u] = (Z[u] + conj Z[-u]) / 2 and
//      B[u] = (Z[u] - conj Z[-u]) / 2i. Only rows u = 0..H/2 are kept (the spectrum of a real
//      column is Hermitian), written transposed (x major) for the next pass;
//   2. rows: the W-point FFT of each kept row u;
//   3. magnitudes: F(u, v) for u <= H/2 and, by Hermitian symmetry, |F(-u, -v)| = |F(u, v)|
//      for the other rows, written at their shifted positions.
#include "opticore/spectrum/fourier.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "core/detail/vector_clones.hpp"
#include "geometry/detail/resize_kernels.hpp"
#include "opticore/core/limits.hpp"
#include "spectrum/detail/complex_fft.hpp"

namespace opticore {
namespace {

using detail::ComplexFft;
using detail::SplitComplex;

/// n complex values, split.
struct SplitBuffer {
  std::vector<double> re, im;
  explicit SplitBuffer(size_t n) : re(n), im(n) {}
  SplitComplex view() { return {re.data(), im.data()}; }
};

/// What every image of a call shares (read-only, so threads share it too).
struct Plan {
  int64_t height, width;
  int64_t pairs;        // (W + 1) / 2 column pairs (the last one alone when W is odd)
  int64_t half_height;  // H / 2 + 1 rows of the spectrum computed
  ComplexFft cols, rows;
  double weight[4];         // grey weight of each channel
  double weighted[3][256];  // weight[c] * v for uint8 values v: a lookup instead of a conversion and a product

  Plan(int64_t h, int64_t w, int64_t channels, ColorOrder color)
      : height(h), width(w), pairs((w + 1) / 2), half_height(h / 2 + 1), cols(h), rows(w), weight{1.0, 0.0, 0.0, 0.0} {
    if (channels >= 3) {
      const bool bgr = color == ColorOrder::Bgr;
      weight[0] = bgr ? 0.114 : 0.299;
      weight[1] = 0.587;
      weight[2] = bgr ? 0.299 : 0.114;
    }
    for (int c = 0; c < 3; ++c) {
      for (int v = 0; v < 256; ++v) weighted[c][v] = weight[c] * static_cast<double>(v);
    }
  }
};

/// One thread's working buffers.
struct Scratch {
  SplitBuffer packed;    // H x pairs: column pairs as complex values
  SplitBuffer columns;   // H x pairs: their column spectra
  SplitBuffer half;      // W x half_height: kept rows of the column spectra, transposed
  SplitBuffer spectrum;  // W x half_height: the 2-D spectrum, v major
  std::vector<double> fft;
  std::vector<double> magnitude;  // W x half_height: |F| + 1, then its log; v major
  std::vector<double> logmag;     // H x W, shifted
  std::vector<float> full;        // the normalised map before a resize

  Scratch(const Plan& p, bool resized)
      : packed(static_cast<size_t>(p.height * p.pairs)),
        columns(packed.re.size()),
        half(static_cast<size_t>(p.width * p.half_height)),
        spectrum(half.re.size()),
        fft(static_cast<size_t>(std::max(p.rows.scratch_size(), p.cols.scratch_size()))),
        magnitude(half.re.size()),
        logmag(static_cast<size_t>(p.height * p.width)),
        full(resized ? static_cast<size_t>(p.height * p.width) : 0) {}
};

/// The grey image into packed[y * pairs + k] = g(y, 2k) + i g(y, 2k + 1).
template <class T>
void pack_grey(const ImageView<T>& im, const Plan& p, Scratch& s, int64_t index) {
  const double w0 = p.weight[0], w1 = p.weight[1], w2 = p.weight[2];
  const int64_t cs = im.channel_stride;
  for (int64_t y = 0; y < im.height; ++y) {
    double* re = &s.packed.re[static_cast<size_t>(y * p.pairs)];
    double* im_part = &s.packed.im[static_cast<size_t>(y * p.pairs)];
    const auto grey = [&](int64_t x) {
      // The sum in the order of the weights over three channels; grey images skip it.
      const T* px = &im(y, x);
      if constexpr (std::is_same_v<T, uint8_t>) {  // the same products, looked up
        return im.channels >= 3 ? p.weighted[0][px[0]] + p.weighted[1][px[cs]] + p.weighted[2][px[2 * cs]]
                                : static_cast<double>(px[0]);
      } else {
        const double g = im.channels >= 3 ? w0 * static_cast<double>(px[0]) + w1 * static_cast<double>(px[cs]) +
                                                w2 * static_cast<double>(px[2 * cs])
                                          : static_cast<double>(px[0]);
        if (!std::isfinite(g)) {
          detail::fail("image: expected finite pixel values, got a non-finite value in image ", index, " at (y=", y,
                       ", x=", x, ")");
        }
        return g;
      }
    };
    for (int64_t k = 0; k < im.width / 2; ++k) re[k] = grey(2 * k), im_part[k] = grey(2 * k + 1);
    if (im.width % 2 == 1) re[p.pairs - 1] = grey(im.width - 1), im_part[p.pairs - 1] = 0.0;
  }
}

/// Pass 1: column spectra, rows 0..H/2, into half[x * half_height + u].
void column_spectra(const Plan& p, Scratch& s) {
  const int64_t H = p.height, P = p.pairs, Hh = p.half_height;
  p.cols.forward(s.packed.view(), P, s.columns.view(), P, s.fft.data());
  for (int64_t u = 0; u < Hh; ++u) {
    const double* zr = &s.columns.re[static_cast<size_t>(u * P)];
    const double* zi = &s.columns.im[static_cast<size_t>(u * P)];
    const double* mr = &s.columns.re[static_cast<size_t>(((H - u) % H) * P)];  // Z[-u]
    const double* mi = &s.columns.im[static_cast<size_t>(((H - u) % H) * P)];
    for (int64_t k = 0; k < P; ++k) {
      // A = (Z[u] + conj Z[-u]) / 2, B = (Z[u] - conj Z[-u]) / 2i.
      const auto even = static_cast<size_t>((2 * k) * Hh + u), odd = even + static_cast<size_t>(Hh);
      s.half.re[even] = 0.5 * (zr[k] + mr[k]);
      s.half.im[even] = 0.5 * (zi[k] - mi[k]);
      if (2 * k + 1 < p.width) {
        s.half.re[odd] = 0.5 * (zi[k] + mi[k]);
        s.half.im[odd] = 0.5 * (mr[k] - zr[k]);
      }
    }
  }
}

/// x[i] = log(x[i]) for finite x >= 1: x = z 2^k with z in [0.7, 1.4) taken from the bits,
/// then log z = 2 atanh(t), t = (z - 1) / (z + 1), |t| < 0.18, by its series to t^15 (the next
/// term is under 1e-14 relative). Written without calls or branches so that the loop vectorises:
/// libm's log, one value at a time, took as long as the whole 2-D FFT.
OPTICORE_VECTOR_CLONES void log_in_place(double* x, int64_t n) {
  constexpr uint64_t kOffset = 0x3fe6600000000000u;  // the bits of 0.6992: z starts there
  constexpr uint64_t kExponent = 0xfff0000000000000u;
  constexpr double kLn2 = 0.693147180559945309417;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t bits;
    std::memcpy(&bits, &x[i], sizeof bits);
    const uint64_t shifted = bits - kOffset;  // x >= 1 > 0.6992: no wrap-around
    const uint64_t z_bits = bits - (shifted & kExponent);
    double z;
    std::memcpy(&z, &z_bits, sizeof z);
    const double t = (z - 1.0) / (z + 1.0), t2 = t * t;
    const double series =
        1.0 +
        t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 * (1.0 / 11 + t2 * (1.0 / 13 + t2 / 15))))));
    x[i] = static_cast<double>(static_cast<int32_t>(shifted >> 52)) * kLn2 + 2.0 * t * series;
  }
}

/// Passes 2 and 3: row spectra, then log magnitudes written shifted into logmag (the computed
/// rows and their mirror images); returns {min, max}.
std::pair<double, double> log_magnitudes(const Plan& p, Scratch& s) {
  const int64_t H = p.height, W = p.width, Hh = p.half_height;
  p.rows.forward(s.half.view(), Hh, s.spectrum.view(), Hh, s.fft.data());
  // |F| < 1e154 for finite pixels, so the squares cannot overflow (std::abs would call hypot).
  const int64_t n = W * Hh;
  const double* re = s.spectrum.re.data();
  const double* im = s.spectrum.im.data();
  for (int64_t i = 0; i < n; ++i) s.magnitude[i] = std::sqrt(re[i] * re[i] + im[i] * im[i]) + 1.0;
  log_in_place(s.magnitude.data(), n);
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t v = 0; v < W; ++v) {
    // Shifted columns of v and of its mirror -v; rows follow u and -u with wrap-around.
    double* column = &s.logmag[(v + W / 2) % W];
    double* mirror = &s.logmag[((W - v) % W + W / 2) % W];
    const double* f = &s.magnitude[v * Hh];
    int64_t row = H / 2, mirror_row = H / 2;  // shifted rows of u and of -u, for u = 0
    for (int64_t u = 0; u < Hh; ++u) {
      lo = std::min(lo, f[u]);
      hi = std::max(hi, f[u]);
      column[row * W] = f[u];
      mirror[mirror_row * W] = f[u];  // |F(-u, -v)| = |F(u, v)|
      if (++row == H) row = 0;
      if (--mirror_row < 0) mirror_row = H - 1;
    }
  }
  return {lo, hi};
}

template <class T>
void spectrum_one(const ImageView<T>& im, const Plan& p, Scratch& s, const OutputImage<float>& dst, int64_t index) {
  pack_grey(im, p, s, index);
  column_spectra(p, s);
  const auto [lo, hi] = log_magnitudes(p, s);
  const bool resized = dst.height != p.height || dst.width != p.width;
  float* out = resized ? s.full.data() : dst.data;
  const double scale = 1.0 / (hi - lo + 1.0);
  const int64_t n = p.height * p.width;
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>((s.logmag[i] - lo + 1.0) * scale);
  if (resized) {
    const ImageView<float> full(s.full.data(), p.height, p.width, 1);
    detail::resize_view(full, dst, Interpolation::Linear, false);
  }
}

template <class T>
void check_args(const ImageView<T>& im, int64_t batch, int64_t out_height, int64_t out_width) {
  if (im.height < 1 || im.width < 1) {
    detail::fail("image: expected height and width >= 1, got ", im.height, " x ", im.width);
  }
  if (im.channels != 1 && im.channels != 3 && im.channels != 4) {
    detail::fail("image: expected 1, 3 or 4 channels, got ", im.channels);
  }
  if (batch < 0) detail::fail("batch: expected >= 0 images, got ", batch);
  if (out_height < 1 || out_width < 1) {
    detail::fail("out_size: expected height and width >= 1, got ", out_height, " x ", out_width);
  }
  // Per thread: grey and log magnitudes (double), the half spectrum, lines and the full map.
  check_array_size("image", {im.height, im.width, 4}, sizeof(double));
  check_array_size("out_size", {batch, out_height, out_width}, sizeof(float));
}

}  // namespace

template <class T>
void fourier_spectrum(ImageView<T> first, int64_t batch, int64_t batch_stride, float* dst, int64_t out_height,
                      int64_t out_width, ColorOrder color) {
  check_args(first, batch, out_height, out_width);
  if (batch == 0) return;
  const Plan plan(first.height, first.width, first.channels, color);
  const bool resized = out_height != first.height || out_width != first.width;
  const int64_t out_values = out_height * out_width;
  // About 64k pixels per chunk: thread start-up is then a small part of a chunk's work.
  const int64_t grain = std::max<int64_t>(1, 65536 / (first.height * first.width));
  detail::parallel_for(batch, grain, [&](int64_t begin, int64_t end) {
    Scratch scratch(plan, resized);
    for (int64_t b = begin; b < end; ++b) {
      ImageView<T> im = first;
      im.data = first.data + b * batch_stride;
      spectrum_one(im, plan, scratch, OutputImage<float>{dst + b * out_values, out_height, out_width, 1}, b);
    }
  });
}

template <class T>
void fourier_spectrum(ImageView<T> image, OutputImage<float> dst, ColorOrder color) {
  if (dst.channels != 1) detail::fail("dst: expected 1 channel, got ", dst.channels);
  fourier_spectrum(image, 1, 0, dst.data, dst.height, dst.width, color);
}

template void fourier_spectrum<uint8_t>(ImageView<uint8_t>, int64_t, int64_t, float*, int64_t, int64_t, ColorOrder);
template void fourier_spectrum<float>(ImageView<float>, int64_t, int64_t, float*, int64_t, int64_t, ColorOrder);
template void fourier_spectrum<uint8_t>(ImageView<uint8_t>, OutputImage<float>, ColorOrder);
template void fourier_spectrum<float>(ImageView<float>, OutputImage<float>, ColorOrder);

}  // namespace opticore
