// fourier_spectrum: grey, a real 2-D FFT, log magnitude with the centre shift, normalisation and
// an optional resize, one image at a time with per-thread scratch buffers.
//
// The real 2-D FFT: rows go two at a time through one complex FFT (row a as the real part, row b
// as the imaginary part; A[k] = (Z[k] + conj Z[-k]) / 2, B[k] = (Z[k] - conj Z[-k]) / 2i), and
// only columns 0..W/2 of the row spectra are transformed along the columns. The other half of
// the magnitudes follows from Hermitian symmetry: |F(u, v)| = |F(-u mod H, -v mod W)|.
#include "opticore/spectrum/fourier.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/resize_kernels.hpp"
#include "opticore/core/limits.hpp"
#include "spectrum/detail/complex_fft.hpp"

namespace opticore {
namespace {

using detail::ComplexD;
using detail::ComplexFft;

/// What every image of a call shares (read-only, so threads share it too).
struct Plan {
  int64_t height, width, half_width;  // half_width = W / 2 + 1 columns are transformed
  ComplexFft rows, cols;
  double weight[4];  // grey weight of each channel

  Plan(int64_t h, int64_t w, int64_t channels, ColorOrder color)
      : height(h), width(w), half_width(w / 2 + 1), rows(w), cols(h), weight{1.0, 0.0, 0.0, 0.0} {
    if (channels >= 3) {
      const bool bgr = color == ColorOrder::Bgr;
      weight[0] = bgr ? 0.114 : 0.299;
      weight[1] = 0.587;
      weight[2] = bgr ? 0.299 : 0.114;
    }
  }
};

/// One thread's working buffers.
struct Scratch {
  std::vector<double> grey, logmag;
  std::vector<ComplexD> half, line, line_out, fft;
  std::vector<float> full;  // the normalised map before a resize

  explicit Scratch(const Plan& p, bool resized)
      : grey(static_cast<size_t>(p.height * p.width)),
        logmag(static_cast<size_t>(p.height * p.width)),
        half(static_cast<size_t>(p.height * p.half_width)),
        line(static_cast<size_t>(std::max(p.height, p.width))),
        line_out(line.size()),
        fft(static_cast<size_t>(std::max(p.rows.scratch_size(), p.cols.scratch_size()))),
        full(resized ? static_cast<size_t>(p.height * p.width) : 0) {}
};

template <class T>
void to_grey(const ImageView<T>& im, const Plan& p, double* grey, int64_t index) {
  const int64_t used = std::min<int64_t>(im.channels, 3);
  for (int64_t y = 0; y < im.height; ++y) {
    for (int64_t x = 0; x < im.width; ++x) {
      const T* px = &im(y, x);
      double g = 0.0;
      for (int64_t c = 0; c < used; ++c) g += p.weight[c] * static_cast<double>(px[c * im.channel_stride]);
      if (!std::isfinite(g)) {
        detail::fail("image: expected finite pixel values, got a non-finite value in image ", index, " at (y=", y,
                     ", x=", x, ")");
      }
      grey[y * im.width + x] = g;
    }
  }
}

/// Row spectra, columns 0..W/2 only: half[y * half_width + k].
void row_spectra(const Plan& p, Scratch& s) {
  const int64_t W = p.width, Wh = p.half_width;
  for (int64_t y = 0; y < p.height; y += 2) {
    const double* a = &s.grey[y * W];
    const double* b = y + 1 < p.height ? a + W : nullptr;
    for (int64_t x = 0; x < W; ++x) s.line[x] = {a[x], b ? b[x] : 0.0};
    p.rows.forward(s.line.data(), s.line_out.data(), s.fft.data());
    const ComplexD* z = s.line_out.data();
    for (int64_t k = 0; k < Wh; ++k) {
      const ComplexD zk = z[k], zc = std::conj(z[(W - k) % W]);
      s.half[y * Wh + k] = 0.5 * (zk + zc);
      if (b) s.half[(y + 1) * Wh + k] = ComplexD(0.0, -0.5) * (zk - zc);
    }
  }
}

/// Column spectra of the half, log magnitudes written shifted into logmag (both halves);
/// returns {min, max}.
std::pair<double, double> log_magnitudes(const Plan& p, Scratch& s) {
  const int64_t H = p.height, W = p.width, Wh = p.half_width;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t v = 0; v < Wh; ++v) {
    for (int64_t u = 0; u < H; ++u) s.line[u] = s.half[u * Wh + v];
    p.cols.forward(s.line.data(), s.line_out.data(), s.fft.data());
    // Shifted columns of v and of its mirror -v; rows follow u (and -u) with wrap-around, kept
    // without a division per value.
    const int64_t sv = (v + W / 2) % W, smv = ((W - v) % W + W / 2) % W;
    double* column = &s.logmag[sv];
    double* mirror = &s.logmag[smv];
    int64_t row = H / 2, mirror_row = H / 2;  // shifted rows of u and of -u, for u = 0
    for (int64_t u = 0; u < H; ++u) {
      // |F| < 1e154 for finite pixels, so the squares cannot overflow (std::abs would call hypot).
      const ComplexD z = s.line_out[u];
      // The log in float: its 6e-8 relative error is far below the documented accuracy.
      const double f = std::log(static_cast<float>(std::sqrt(z.real() * z.real() + z.imag() * z.imag()) + 1.0));
      lo = std::min(lo, f);
      hi = std::max(hi, f);
      column[row * W] = f;
      mirror[mirror_row * W] = f;  // |F(-u, -v)| = |F(u, v)|
      if (++row == H) row = 0;
      if (--mirror_row < 0) mirror_row = H - 1;
    }
  }
  return {lo, hi};
}

template <class T>
void spectrum_one(const ImageView<T>& im, const Plan& p, Scratch& s, const OutputImage<float>& dst, int64_t index) {
  to_grey(im, p, s.grey.data(), index);
  row_spectra(p, s);
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
