// The pieces every correlation filter is made of: windows, the desired (Gaussian) response,
// peak location with sub-cell refinement, and the peak-to-sidelobe ratio.
//
// Responses follow the circular-correlation convention: a response peaking at (0, 0) means "no
// motion", a peak at row r means a shift of r (or r - rows past the middle, wrapped).
#pragma once

#include <cstdint>
#include <vector>

namespace opticore::detail {

/// Hann window of length n (symmetric, zero at both ends for n > 1; 1 for n == 1).
std::vector<float> hann(int64_t n);

/// rows x cols outer product of two Hann windows, row-major.
std::vector<float> hann2d(int64_t rows, int64_t cols);

/// exp(-(dr^2 + dc^2) / (2 sigma^2)) with (dr, dc) the wrapped offset from (0, 0), row-major.
std::vector<float> gaussian_response(int64_t rows, int64_t cols, double sigma);

/// x := log(1 + max(x, 0)) in place, to < 4e-7 on grey levels [0, 256] (MOSSE's preprocessing);
/// NaN and +inf pass through.
void log1p_clamped(float* x, int64_t n);

struct Sums {
  double sum = 0, sum_sq = 0;
};

/// The sum and the sum of squares of x[0, n), accumulated in double.
Sums sums(const float* x, int64_t n);

struct Peak {
  double dy = 0, dx = 0;  ///< signed, wrapped shift of the peak from (0, 0), sub-cell refined
  float value = 0;
  double psr = 0;  ///< peak-to-sidelobe ratio; 0 when the sidelobe is flat or not finite
};

/// Finds the maximum of a rows x cols response (the first one; NaN never wins). The shift is refined by a parabola
/// through the peak and its two (wrapped) neighbours on each axis. The sidelobe excludes the (2 * exclusion + 1)^2
/// cells around the peak (wrapped).
Peak locate_peak(const float* response, int64_t rows, int64_t cols, int64_t exclusion);

}  // namespace opticore::detail
