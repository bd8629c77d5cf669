#include "tracking/detail/fft.hpp"

#include <unsupported/Eigen/FFT>

#include <vector>

#include "core/detail/check.hpp"

namespace opticore::detail {

namespace {

bool has_small_factors(int64_t n) {
  for (int64_t p : {2, 3, 5}) {
    while (n % p == 0) n /= p;
  }
  return n == 1;
}

/// Eigen's FFT with the flags both classes use: unscaled (we scale once, at the end) and
/// half-spectrum for real signals.
Eigen::FFT<float> make_fft() {
  Eigen::FFT<float> fft;
  fft.SetFlag(Eigen::FFT<float>::Unscaled);
  fft.SetFlag(Eigen::FFT<float>::HalfSpectrum);
  return fft;
}

}  // namespace

int64_t fft_size_at_least(int64_t n, int64_t multiple) {
  if (n < 1) n = 1;
  int64_t m = ((n + multiple - 1) / multiple) * multiple;
  while (!has_small_factors(m)) m += multiple;
  return m;
}

struct Fft2d::Impl {
  Eigen::FFT<float> fft = make_fft();
  std::vector<Complex> column, column_out, half;  // scratch

  /// The 1-D complex transform of every column of a rows x cols row-major array, from `in` to
  /// `out` (which may be the same array).
  void columns(const Complex* in, Complex* out, int64_t rows, int64_t cols, bool inverse) {
    for (int64_t k = 0; k < cols; ++k) {
      for (int64_t r = 0; r < rows; ++r) column[r] = in[r * cols + k];
      if (inverse) {
        fft.inv(column_out.data(), column.data(), rows);
      } else {
        fft.fwd(column_out.data(), column.data(), rows);
      }
      for (int64_t r = 0; r < rows; ++r) out[r * cols + k] = column_out[r];
    }
  }
};

Fft2d::Fft2d(int64_t rows, int64_t cols) : rows_(rows), cols_(cols), impl_(std::make_unique<Impl>()) {
  if (rows < 1 || cols < 2 || cols % 2 != 0) fail("Fft2d: expected rows >= 1 and an even cols, got ", rows, "x", cols);
  impl_->column.resize(static_cast<size_t>(rows));
  impl_->column_out.resize(static_cast<size_t>(rows));
  impl_->half.resize(static_cast<size_t>(rows * spectrum_cols()));
}
Fft2d::~Fft2d() = default;
Fft2d::Fft2d(Fft2d&&) noexcept = default;
Fft2d& Fft2d::operator=(Fft2d&&) noexcept = default;

void Fft2d::forward(const float* signal, Complex* spectrum) {
  const int64_t sc = spectrum_cols();
  auto& fft = impl_->fft;
  for (int64_t r = 0; r < rows_; ++r) fft.fwd(spectrum + r * sc, signal + r * cols_, cols_);
  if (rows_ > 1) impl_->columns(spectrum, spectrum, rows_, sc, false);
}

void Fft2d::inverse(const Complex* spectrum, float* signal) {
  const int64_t sc = spectrum_cols();
  auto& fft = impl_->fft;
  auto& half = impl_->half;
  if (rows_ == 1) {
    std::copy(spectrum, spectrum + sc, half.begin());
  } else {
    impl_->columns(spectrum, half.data(), rows_, sc, true);
  }
  for (int64_t r = 0; r < rows_; ++r) fft.inv(signal + r * cols_, half.data() + r * sc, cols_);
  const float scale = 1.0f / static_cast<float>(rows_ * cols_);
  for (int64_t i = 0; i < rows_ * cols_; ++i) signal[i] *= scale;
}

struct Fft1d::Impl {
  Eigen::FFT<float> fft = make_fft();
};

Fft1d::Fft1d(int64_t n) : n_(n), impl_(std::make_unique<Impl>()) {
  if (n < 1) fail("Fft1d: expected n >= 1, got ", n);
}
Fft1d::~Fft1d() = default;
Fft1d::Fft1d(Fft1d&&) noexcept = default;
Fft1d& Fft1d::operator=(Fft1d&&) noexcept = default;

void Fft1d::forward(const float* signal, Complex* spectrum) { impl_->fft.fwd(spectrum, signal, n_); }

void Fft1d::inverse(const Complex* spectrum, float* signal) {
  impl_->fft.inv(signal, spectrum, n_);
  const float scale = 1.0f / static_cast<float>(n_);
  for (int64_t i = 0; i < n_; ++i) signal[i] *= scale;
}

}  // namespace opticore::detail
