#include "tracking/detail/correlation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace opticore::detail {

namespace {

constexpr double kPi = 3.14159265358979323846;

/// The offset of index i from 0 on a circle of n: i for the first half, i - n after it.
int64_t wrapped(int64_t i, int64_t n) { return i <= (n - 1) / 2 ? i : i - n; }

/// Vertex of the parabola through (-1, left), (0, centre), (1, right); 0 when flat or at an edge.
double parabola_vertex(double left, double centre, double right) {
  const double curvature = left - 2.0 * centre + right;
  if (!(curvature < 0.0)) return 0.0;
  const double v = 0.5 * (left - right) / curvature;
  return std::fabs(v) <= 0.5 ? v : 0.0;
}

// The reductions below run in kLanes independent lanes, which the compiler vectorises (one running
// value is a serial chain it may not reorder). Fewer lanes get fully unrolled and stay scalar.
constexpr int64_t kLanes = 32;

/// The index of the first maximum of x[0, n) (NaN never wins; 0 when every value is NaN): the
/// maximum, then its first occurrence.
int64_t first_argmax(const float* x, int64_t n) {
  float lane[kLanes];
  for (float& m : lane) m = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
  }
  float best = -std::numeric_limits<float>::infinity();
  for (; i < n; ++i) best = x[i] > best ? x[i] : best;
  for (float m : lane) best = m > best ? m : best;
  for (i = 0; i < n; ++i) {
    if (x[i] == best) return i;
  }
  return 0;
}

/// log(1 + max(x, 0)), branch-free so that the compiler vectorises it (std::log1p is ~10x
/// slower and was the largest cost after the FFTs). 1 + x = 2^k m with m in [sqrt(1/2), sqrt(2))
/// from the float's bits; log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, by its series to
/// s^7 (truncation < 3e-8; measured error < 4e-7 on [0, 256]). NaN and +inf pass through; negative
/// values give 0. The clamps and selections are masks on the bits: float comparisons or selects
/// would keep the loop scalar (they may trap, so the compiler keeps them as branches).
float log1p_clamped(float x) {
  constexpr uint32_t kSqrtHalf = 0x3f3504f3, kInf = 0x7f800000;     // the bits of sqrt(1/2) and +inf
  constexpr float kLn2Hi = 0.693145752f, kLn2Lo = 1.42860677e-06f;  // ln 2 = hi + lo, hi exact in float
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const auto mask = [](bool b) { return 0u - static_cast<uint32_t>(b); };  // all ones when b
  const uint32_t negative = mask(bits >> 31 != 0), nan = mask((bits & 0x7fffffffu) > kInf);
  bits &= ~(negative & ~nan);  // negative -> +0
  float clamped;
  std::memcpy(&clamped, &bits, sizeof clamped);
  const float y = 1.0f + clamped;
  uint32_t ybits;
  std::memcpy(&ybits, &y, sizeof ybits);
  const uint32_t shifted = ybits - kSqrtHalf;  // y >= 1, so no wrap-around
  const auto k = static_cast<float>(static_cast<int32_t>(shifted >> 23));
  const uint32_t mbits = (shifted & 0x007fffffu) + kSqrtHalf;
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  const float s = (m - 1.0f) / (m + 1.0f), z = s * s;
  const float r = k * kLn2Hi + (k * kLn2Lo + 2.0f * s * (1.0f + z * (1.0f / 3 + z * (1.0f / 5 + z * (1.0f / 7)))));
  uint32_t out;
  std::memcpy(&out, &r, sizeof out);
  const uint32_t special = mask((bits & 0x7fffffffu) >= kInf);  // NaN or +inf: itself
  out = (out & ~special) | (bits & special);
  float result;
  std::memcpy(&result, &out, sizeof result);
  return result;
}

}  // namespace

void log1p_clamped(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = log1p_clamped(x[i]);
}

Sums sums(const float* x, int64_t n) {
  double sum[kLanes] = {}, sum_sq[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int64_t j = 0; j < kLanes; ++j) {
      const double v = x[i + j];
      sum[j] += v;
      sum_sq[j] += v * v;
    }
  }
  Sums out;
  for (; i < n; ++i) {
    const double v = x[i];
    out.sum += v;
    out.sum_sq += v * v;
  }
  for (int64_t j = 0; j < kLanes; ++j) {
    out.sum += sum[j];
    out.sum_sq += sum_sq[j];
  }
  return out;
}

std::vector<float> hann(int64_t n) {
  std::vector<float> w(static_cast<size_t>(n), 1.0f);
  if (n <= 1) return w;
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(0.5 * (1.0 - std::cos(2.0 * kPi * i / (n - 1))));
  return w;
}

std::vector<float> hann2d(int64_t rows, int64_t cols) {
  const auto wr = hann(rows), wc = hann(cols);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] = wr[r] * wc[c];
  }
  return w;
}

std::vector<float> gaussian_response(int64_t rows, int64_t cols, double sigma) {
  std::vector<float> y(static_cast<size_t>(rows * cols));
  const double k = -0.5 / (sigma * sigma);
  for (int64_t r = 0; r < rows; ++r) {
    const double dr = static_cast<double>(wrapped(r, rows));
    for (int64_t c = 0; c < cols; ++c) {
      const double dc = static_cast<double>(wrapped(c, cols));
      y[r * cols + c] = static_cast<float>(std::exp(k * (dr * dr + dc * dc)));
    }
  }
  return y;
}

Peak locate_peak(const float* response, int64_t rows, int64_t cols, int64_t exclusion) {
  const int64_t best = first_argmax(response, rows * cols);
  const int64_t pr = best / cols, pc = best % cols;
  const auto at = [&](int64_t r, int64_t c) {
    return static_cast<double>(response[((r + rows) % rows) * cols + (c + cols) % cols]);
  };
  Peak peak;
  peak.value = response[best];
  const double centre = at(pr, pc);
  peak.dy = static_cast<double>(wrapped(pr, rows)) +
            (rows > 2 ? parabola_vertex(at(pr - 1, pc), centre, at(pr + 1, pc)) : 0.0);
  peak.dx = static_cast<double>(wrapped(pc, cols)) +
            (cols > 2 ? parabola_vertex(at(pr, pc - 1), centre, at(pr, pc + 1)) : 0.0);

  // Sidelobe statistics: every cell whose wrapped distance to the peak exceeds `exclusion`,
  // i.e. all cells minus the (wrapped) window around the peak.
  auto [sum, sum_sq] = sums(response, rows * cols);
  const int64_t wr = std::min(rows, 2 * exclusion + 1), wc = std::min(cols, 2 * exclusion + 1);
  for (int64_t r = 0; r < wr; ++r) {
    const float* row = response + ((pr - exclusion + r) % rows + rows) % rows * cols;
    for (int64_t c = 0; c < wc; ++c) {
      const double v = row[((pc - exclusion + c) % cols + cols) % cols];
      sum -= v;
      sum_sq -= v * v;
    }
  }
  const int64_t count = rows * cols - wr * wc;
  if (count > 1) {
    const double mean = sum / static_cast<double>(count);
    const double var = sum_sq / static_cast<double>(count) - mean * mean;
    const double psr = var > 0 ? (centre - mean) / std::sqrt(var) : 0.0;
    peak.psr = std::isfinite(psr) ? psr : 0.0;
  }
  return peak;
}

}  // namespace opticore::detail
