// A complex FFT of any length, in double precision, for the spectrum features. Lengths whose
// prime factors are all small go through a mixed-radix decimation in time (dedicated butterflies
// for 2, 3, 4 and 5, a direct DFT of each other prime factor); a length with a prime factor above
// kMaxDirectPrime goes through Bluestein's chirp-z transform on a power-of-two FFT, so every
// length costs O(n log n) time, never O(n^2).
//
// A plan is read-only once built: one plan may be shared by threads, each with its own scratch.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

namespace opticore::detail {

using ComplexD = std::complex<double>;

/// Prime factors up to this size take a direct DFT inside the mixed-radix transform.
constexpr int64_t kMaxDirectPrime = 31;

class ComplexFft {
 public:
  /// A plan for length n >= 1.
  explicit ComplexFft(int64_t n);
  ~ComplexFft();
  ComplexFft(ComplexFft&&) noexcept;
  ComplexFft& operator=(ComplexFft&&) noexcept;

  int64_t size() const { return n_; }
  /// Scratch values forward() needs (its caller allocates them, once per thread).
  int64_t scratch_size() const;

  /// `count` transforms at once: sequence c has element j at in[j * ld + c] (ld >= count) and its
  /// bin k goes to out[k * count + c], out[k] = sum_j in[j] exp(-2 pi i j k / n), unscaled. The
  /// sequences are interleaved so that every butterfly runs over `count` contiguous values.
  /// `in` and `out` do not overlap; `scratch` holds scratch_size() values.
  void forward(const ComplexD* in, int64_t ld, ComplexD* out, int64_t count, ComplexD* scratch) const;

 private:
  struct Impl;
  int64_t n_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opticore::detail
