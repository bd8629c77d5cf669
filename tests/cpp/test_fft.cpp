// The trackers' real FFTs (tracking/detail/fft.hpp) against a direct DFT in double precision, on
// random sizes: every radix (4, 2, 3, 5), odd and prime lengths (the generic radix), lengths 1 and 2,
// and the sizes the trackers pick. Errors are measured relative to the signal's L2 norm (a float
// FFT's error grows with the norm and slowly with log n).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "tracking/detail/fft.hpp"

namespace {

using opticore::detail::Fft1d;
using opticore::detail::Fft2d;
using Exact = std::complex<double>;

constexpr double kPi = 3.14159265358979323846;
// Measured: at most 8.8e-7 forward (31 x 62, the generic radix) and 8.1e-8 inverse; a wrong twiddle or
// butterfly sign gives errors of order 1.
constexpr double kForwardTolerance = 1.5e-6;
constexpr double kInverseTolerance = 2e-7;

std::vector<float> random_signal(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = u(rng);
  return v;
}

/// exp(sign 2 pi i j / n) for j < n (exact angles: indices are reduced mod n before use).
std::vector<Exact> roots(int64_t n, double sign) {
  std::vector<Exact> w(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) w[j] = std::polar(1.0, sign * 2.0 * kPi * static_cast<double>(j) / n);
  return w;
}

/// The full rows x cols DFT of a complex array by direct sums (row sums, then column sums), with
/// exp(sign 2 pi i (k r / rows + l c / cols)).
std::vector<Exact> direct_dft(const std::vector<Exact>& x, int64_t rows, int64_t cols, double sign) {
  const auto wr = roots(rows, sign), wc = roots(cols, sign);
  std::vector<Exact> by_rows(x.size()), out(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t l = 0; l < cols; ++l) {
      Exact s = 0;
      for (int64_t c = 0; c < cols; ++c) s += x[r * cols + c] * wc[(l * c) % cols];
      by_rows[r * cols + l] = s;
    }
  }
  for (int64_t k = 0; k < rows; ++k) {
    for (int64_t l = 0; l < cols; ++l) {
      Exact s = 0;
      for (int64_t r = 0; r < rows; ++r) s += by_rows[r * cols + l] * wr[(k * r) % rows];
      out[k * cols + l] = s;
    }
  }
  return out;
}

double l2_norm(const std::vector<float>& x) {
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return std::sqrt(s);
}

/// Forward against the direct DFT, inverse of the exact half spectrum against the signal, and
/// the round trip; returns the worst relative errors (forward, inverse).
std::pair<double, double> check_2d(int64_t rows, int64_t cols, std::mt19937& rng) {
  Fft2d fft(rows, cols);
  EXPECT_EQ(fft.spectrum_cols(), cols / 2 + 1);
  const auto x = random_signal(rows * cols, rng);
  const double norm = l2_norm(x);
  const auto want = direct_dft(std::vector<Exact>(x.begin(), x.end()), rows, cols, -1.0);
  const int64_t sc = fft.spectrum_cols();

  std::vector<opticore::detail::Complex> spectrum(static_cast<size_t>(fft.spectrum_size()));
  fft.forward(x.data(), spectrum.data());
  double forward_error = 0;
  for (int64_t k = 0; k < rows; ++k) {
    for (int64_t l = 0; l < sc; ++l) {
      const Exact got(spectrum[k * sc + l].real(), spectrum[k * sc + l].imag());
      forward_error = std::max(forward_error, std::abs(got - want[k * cols + l]) / norm);
    }
  }

  // The inverse of the exact spectrum (rounded to float) gives back the signal.
  for (int64_t k = 0; k < rows; ++k) {
    for (int64_t l = 0; l < sc; ++l) spectrum[k * sc + l] = want[k * cols + l];
  }
  std::vector<float> back(x.size());
  fft.inverse(spectrum.data(), back.data());
  double inverse_error = 0;
  for (size_t i = 0; i < x.size(); ++i) inverse_error = std::max(inverse_error, std::abs(back[i] - x[i]) / norm);
  return {forward_error, inverse_error};
}

TEST(Fft2d, MatchesTheDirectTransformOnRandomSizes) {
  std::mt19937 rng(2024);
  std::vector<std::pair<int64_t, int64_t>> sizes = {
      {1, 2},   {1, 12},  {2, 2},    {3, 2},    {6, 8},     {9, 10},    {15, 4},  // small and degenerate
      {7, 14},  {11, 22}, {13, 26},  {17, 34},  {31, 62},   {37, 74},             // primes: the generic radix
      {48, 64}, {64, 48}, {96, 128}, {128, 96}, {100, 100}, {125, 120},           // the trackers' sizes
      {1, 256}, {256, 2}, {45, 90},  {75, 50},  {81, 54},
  };
  std::uniform_int_distribution<int64_t> side(1, 70);
  for (int i = 0; i < 20; ++i) sizes.emplace_back(side(rng), 2 * side(rng));
  double worst_forward = 0, worst_inverse = 0;
  for (auto [rows, cols] : sizes) {
    const auto [f, b] = check_2d(rows, cols, rng);
    EXPECT_LE(f, kForwardTolerance) << rows << "x" << cols;
    EXPECT_LE(b, kInverseTolerance) << rows << "x" << cols;
    worst_forward = std::max(worst_forward, f);
    worst_inverse = std::max(worst_inverse, b);
  }
  RecordProperty("worst_forward_error", std::to_string(worst_forward));
  RecordProperty("worst_inverse_error", std::to_string(worst_inverse));
}

TEST(Fft2d, InverseOfAProductOfSpectraIsTheCircularCorrelation) {
  // What the filters do: ifft(conj(F(a)) F(b)) = sum_r,c a[r, c] b[r + dr, c + dc] (wrapped).
  std::mt19937 rng(7);
  const int64_t rows = 12, cols = 20;
  Fft2d fft(rows, cols);
  const auto a = random_signal(rows * cols, rng), b = random_signal(rows * cols, rng);
  std::vector<opticore::detail::Complex> fa(static_cast<size_t>(fft.spectrum_size())), fb(fa.size());
  fft.forward(a.data(), fa.data());
  fft.forward(b.data(), fb.data());
  for (size_t i = 0; i < fa.size(); ++i) fa[i] = std::conj(fa[i]) * fb[i];
  std::vector<float> got(a.size());
  fft.inverse(fa.data(), got.data());
  for (int64_t dr = 0; dr < rows; ++dr) {
    for (int64_t dc = 0; dc < cols; ++dc) {
      double want = 0;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < cols; ++c) want += a[r * cols + c] * b[(r + dr) % rows * cols + (c + dc) % cols];
      }
      EXPECT_NEAR(got[dr * cols + dc], want, 1e-5) << dr << "," << dc;
    }
  }
}

TEST(Fft1d, MatchesTheDirectTransformForEveryLengthUpTo70AndSomeLarger) {
  std::mt19937 rng(11);
  std::vector<int64_t> lengths;
  for (int64_t n = 1; n <= 70; ++n) lengths.push_back(n);
  for (int64_t n : {97, 101, 128, 243, 250, 256, 385, 1024}) lengths.push_back(n);
  for (int64_t n : lengths) {
    Fft1d fft(n);
    ASSERT_EQ(fft.spectrum_size(), n / 2 + 1);
    const auto x = random_signal(n, rng);
    const double norm = l2_norm(x);
    const auto want = direct_dft(std::vector<Exact>(x.begin(), x.end()), 1, n, -1.0);
    std::vector<opticore::detail::Complex> spectrum(static_cast<size_t>(fft.spectrum_size()));
    fft.forward(x.data(), spectrum.data());
    for (int64_t l = 0; l < fft.spectrum_size(); ++l) {
      const Exact got(spectrum[l].real(), spectrum[l].imag());
      EXPECT_LE(std::abs(got - want[l]) / norm, kForwardTolerance) << "n = " << n << ", bin " << l;
      spectrum[l] = want[l];
    }
    std::vector<float> back(x.size());
    fft.inverse(spectrum.data(), back.data());
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_LE(std::abs(back[i] - x[i]) / norm, kInverseTolerance) << "n = " << n << ", sample " << i;
    }
  }
}

TEST(Fft, RejectsBadSizes) {
  EXPECT_THROW(Fft2d(0, 8), std::invalid_argument);
  EXPECT_THROW(Fft2d(4, 7), std::invalid_argument);
  EXPECT_THROW(Fft2d(4, 0), std::invalid_argument);
  EXPECT_THROW(Fft1d(0), std::invalid_argument);
}

}  // namespace
