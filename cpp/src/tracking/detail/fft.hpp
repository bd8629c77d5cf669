// Real FFTs for the correlation filters: mixed-radix (4, 2, 3, 5, and any other prime by a direct
// DFT) Stockham transforms written for the small sizes the trackers use (fft.cpp tells how). Only
// the half spectrum of a real signal is kept (Hermitian symmetry): for the element-wise products
// and channel sums the filters compute, the other half is implied.
//
// Each object owns its plans and scratch buffers: one per tracker, never shared between threads.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>

namespace opticore::detail {

using Complex = std::complex<float>;

/// Smallest n' >= n that is a multiple of `multiple` and has no prime factor above 5 (the radices
/// with dedicated butterflies; larger primes take a quadratic direct DFT).
int64_t fft_size_at_least(int64_t n, int64_t multiple = 1);

/// 2-D real FFT of a rows x cols row-major signal (any rows >= 1, cols even). The spectrum is rows x (cols/2 + 1),
/// row-major; forward is unscaled, inverse divides by rows * cols.
class Fft2d {
 public:
  Fft2d(int64_t rows, int64_t cols);
  ~Fft2d();
  Fft2d(Fft2d&&) noexcept;
  Fft2d& operator=(Fft2d&&) noexcept;

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t spectrum_cols() const { return cols_ / 2 + 1; }
  int64_t spectrum_size() const { return rows_ * spectrum_cols(); }

  void forward(const float* signal, Complex* spectrum);
  /// Assumes a Hermitian spectrum (that of a real signal, or products of such spectra).
  void inverse(const Complex* spectrum, float* signal);

 private:
  struct Impl;
  int64_t rows_ = 0, cols_ = 0;
  std::unique_ptr<Impl> impl_;
};

/// 1-D real FFT of any length n >= 1: the spectrum has n/2 + 1 bins; inverse divides by n.
class Fft1d {
 public:
  explicit Fft1d(int64_t n);
  ~Fft1d();
  Fft1d(Fft1d&&) noexcept;
  Fft1d& operator=(Fft1d&&) noexcept;

  int64_t size() const { return n_; }
  int64_t spectrum_size() const { return n_ / 2 + 1; }

  void forward(const float* signal, Complex* spectrum);
  void inverse(const Complex* spectrum, float* signal);

 private:
  struct Impl;
  int64_t n_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opticore::detail
