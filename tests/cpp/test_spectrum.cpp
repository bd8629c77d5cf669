// The spectrum features: the private double-precision FFT (spectrum/detail/complex_fft.hpp)
// against a direct DFT for every length up to 70 (radices 4, 2, 3, 5, direct primes up to 31,
// Bluestein above) and a few larger ones, then fourier_spectrum against a direct 2-D DFT with the
// shift and normalisation written out, and its argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "expect_invalid.hpp"
#include "opticore/spectrum/fourier.hpp"
#include "spectrum/detail/complex_fft.hpp"

namespace {

using opticore::ColorOrder;
using opticore::ImageView;
using opticore::OutputImage;
using opticore::detail::ComplexD;
using opticore::detail::ComplexFft;

constexpr double kPi = 3.14159265358979323846;

std::vector<ComplexD> direct_dft(const std::vector<ComplexD>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<ComplexD> out(x.size());
  for (int64_t k = 0; k < n; ++k) {
    ComplexD acc;
    for (int64_t j = 0; j < n; ++j) acc += x[j] * std::polar(1.0, -2.0 * kPi * static_cast<double>((j * k) % n) / n);
    out[k] = acc;
  }
  return out;
}

/// Largest error of three interleaved transforms (row pitch 4, so one column is skipped) against
/// the direct DFT, relative to each signal's L2 norm.
double fft_error(int64_t n, std::mt19937& rng) {
  constexpr int64_t kCount = 3, kLd = 4;
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<ComplexD> in(static_cast<size_t>(n * kLd));
  for (auto& e : in) e = {u(rng), u(rng)};
  const ComplexFft fft(n);
  std::vector<double> in_re(in.size()), in_im(in.size());
  for (size_t i = 0; i < in.size(); ++i) in_re[i] = in[i].real(), in_im[i] = in[i].imag();
  std::vector<double> out_re(static_cast<size_t>(n * kCount)), out_im(out_re.size());
  std::vector<double> scratch(static_cast<size_t>(fft.scratch_size()));
  fft.forward({in_re.data(), in_im.data()}, kLd, {out_re.data(), out_im.data()}, kCount, scratch.data());
  double worst = 0.0;
  for (int64_t c = 0; c < kCount; ++c) {
    std::vector<ComplexD> x(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) x[j] = in[j * kLd + c];
    const auto ref = direct_dft(x);
    double err = 0.0, norm = 0.0;
    for (int64_t k = 0; k < n; ++k) {
      const ComplexD got(out_re[k * kCount + c], out_im[k * kCount + c]);
      err = std::max(err, std::abs(got - ref[k])), norm += std::norm(x[k]);
    }
    worst = std::max(worst, err / std::sqrt(norm));
  }
  return worst;
}

TEST(ComplexFft, MatchesDirectDftForEveryLength) {
  std::mt19937 rng(7);
  // Measured: below 2e-15 relative to the signal norm; a wrong twiddle or butterfly sign is O(1).
  for (int64_t n = 1; n <= 70; ++n) EXPECT_LT(fft_error(n, rng), 1e-13) << "n = " << n;
  for (int64_t n : {80, 97, 128, 160, 210, 243, 250, 331, 512, 1021})
    EXPECT_LT(fft_error(n, rng), 1e-13) << "n = " << n;
}

TEST(ComplexFft, RejectsEmptyLength) {
  expect_invalid([] { ComplexFft f(0); }, "n");
}

/// The documented formula, with a direct 2-D DFT: grey, |F| shifted, log1p, normalised.
std::vector<double> reference_spectrum(const std::vector<double>& grey, int64_t H, int64_t W) {
  std::vector<double> f(static_cast<size_t>(H * W));
  for (int64_t u = 0; u < H; ++u) {
    for (int64_t v = 0; v < W; ++v) {
      ComplexD acc;
      for (int64_t y = 0; y < H; ++y) {
        for (int64_t x = 0; x < W; ++x) {
          const double phase = static_cast<double>((u * y) % H) / H + static_cast<double>((v * x) % W) / W;
          acc += grey[y * W + x] * std::polar(1.0, -2.0 * kPi * phase);
        }
      }
      f[((u + H / 2) % H) * W + (v + W / 2) % W] = std::log(std::abs(acc) + 1.0);
    }
  }
  const auto [lo, hi] = std::minmax_element(f.begin(), f.end());
  const double mn = *lo, mx = *hi;
  for (auto& e : f) e = (e - mn + 1.0) / (mx - mn + 1.0);
  return f;
}

TEST(FourierSpectrum, MatchesDirectFormulaOnColourBatches) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> pixel(0, 255);
  for (const auto& [H, W] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {7, 5}, {6, 8}, {3, 37}, {16, 15}}) {
    const int64_t B = 3, C = 3;
    std::vector<uint8_t> images(static_cast<size_t>(B * H * W * C));
    for (auto& e : images) e = static_cast<uint8_t>(pixel(rng));
    for (ColorOrder order : {ColorOrder::Bgr, ColorOrder::Rgb}) {
      std::vector<float> out(static_cast<size_t>(B * H * W));
      opticore::fourier_spectrum(ImageView<uint8_t>(images.data(), H, W, C), B, H * W * C, out.data(), H, W, order);
      for (int64_t b = 0; b < B; ++b) {
        std::vector<double> grey(static_cast<size_t>(H * W));
        const double wb = order == ColorOrder::Bgr ? 0.114 : 0.299, wr = order == ColorOrder::Bgr ? 0.299 : 0.114;
        for (int64_t i = 0; i < H * W; ++i) {
          const uint8_t* px = &images[(b * H * W + i) * C];
          grey[i] = wb * px[0] + 0.587 * px[1] + wr * px[2];
        }
        const auto ref = reference_spectrum(grey, H, W);
        for (int64_t i = 0; i < H * W; ++i) {
          ASSERT_NEAR(out[b * H * W + i], ref[i], 1e-6) << H << " x " << W << " image " << b << " index " << i;
        }
      }
    }
  }
}

TEST(FourierSpectrum, ResizedOutputIsTheLinearResizeOfTheFullMap) {
  // Shrinking 8 x 8 by 2 with linear interpolation is the 2 x 2 block mean (as cv::resize).
  std::vector<float> image(64);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>((i * 37) % 11);
  std::vector<float> full(64), half(16);
  opticore::fourier_spectrum(ImageView<float>(image.data(), 8, 8), OutputImage<float>{full.data(), 8, 8, 1});
  opticore::fourier_spectrum(ImageView<float>(image.data(), 8, 8), OutputImage<float>{half.data(), 4, 4, 1});
  for (int64_t y = 0; y < 4; ++y) {
    for (int64_t x = 0; x < 4; ++x) {
      const double mean = (full[2 * y * 8 + 2 * x] + full[2 * y * 8 + 2 * x + 1] + full[(2 * y + 1) * 8 + 2 * x] +
                           full[(2 * y + 1) * 8 + 2 * x + 1]) /
                          4;
      EXPECT_NEAR(half[y * 4 + x], mean, 1e-6);
    }
  }
}

TEST(FourierSpectrum, RejectsBadArguments) {
  std::vector<float> image(12, 1.0f), out(16);
  const ImageView<float> grey(image.data(), 3, 4);
  expect_invalid([&] { opticore::fourier_spectrum(ImageView<float>(image.data(), 0, 4), 1, 0, out.data(), 1, 1); },
                 "image");
  expect_invalid([&] { opticore::fourier_spectrum(ImageView<float>(image.data(), 3, 2, 2), 1, 0, out.data(), 3, 2); },
                 "image");
  expect_invalid([&] { opticore::fourier_spectrum(grey, -1, 0, out.data(), 3, 4); }, "batch");
  expect_invalid([&] { opticore::fourier_spectrum(grey, 1, 0, out.data(), 0, 4); }, "out_size");
  expect_invalid([&] { opticore::fourier_spectrum(grey, OutputImage<float>{out.data(), 3, 4, 2}); }, "dst");
  image[5] = std::numeric_limits<float>::quiet_NaN();
  expect_invalid([&] { opticore::fourier_spectrum(grey, 1, 0, out.data(), 3, 4); }, "image");
}

}  // namespace
