// A complex FFT of any length, in double precision, for the spectrum features. Lengths whose
// prime factors are all small go through a mixed-radix decimation in time (dedicated butterflies
// for 2, 3, 4 and 5, a direct DFT of each other prime factor); a length with a prime factor above
// kMaxDirectPrime goes through Bluestein's chirp-z transform on a power-of-two FFT, so every
// length costs O(n log n) time, never O(n^2).
//
// Values are split: real parts in one array, imaginary parts in another. Every butterfly then is
// a loop of plain double arithmetic over many sequences at once, which the compiler vectorises
// (interleaved std::complex values kept it to one value at a time).
//
// A plan is read-only once built: one plan may be shared by threads, each with its own scratch.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>

namespace opticore::detail {

using ComplexD = std::complex<double>;

/// Complex values re[i] + i im[i], written through.
struct SplitComplex {
  double* re;
  double* im;
  SplitComplex operator+(int64_t offset) const { return {re + offset, im + offset}; }
};

/// Complex values re[i] + i im[i], read only.
struct ConstSplitComplex {
  const double* re;
  const double* im;
  ConstSplitComplex(const double* re_, const double* im_) : re(re_), im(im_) {}
  ConstSplitComplex(SplitComplex s) : re(s.re), im(s.im) {}  // NOLINT: a writable view reads too
  ConstSplitComplex operator+(int64_t offset) const { return {re + offset, im + offset}; }
};

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
  /// Scratch doubles forward() needs (its caller allocates them, once per thread).
  int64_t scratch_size() const;

  /// `count` transforms at once: sequence c has element j at in[j * ld + c] (ld >= count) and its
  /// bin k goes to out[k * count + c], out[k] = sum_j in[j] exp(-2 pi i j k / n), unscaled. The
  /// sequences are interleaved so that every butterfly runs over `count` contiguous values.
  /// `in` and `out` do not overlap; `scratch` holds scratch_size() doubles.
  void forward(ConstSplitComplex in, int64_t ld, SplitComplex out, int64_t count, double* scratch) const;

 private:
  struct Impl;
  int64_t n_ = 0;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opticore::detail
