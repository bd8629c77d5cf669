#include "tracking/detail/correlation.hpp"

#include <algorithm>
#include <cmath>

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

}  // namespace

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
  int64_t best = 0;
  for (int64_t i = 1; i < rows * cols; ++i) {
    if (response[i] > response[best]) best = i;  // NaN never wins; ties keep the first
  }
  const int64_t pr = best / cols, pc = best % cols;
  const auto at = [&](int64_t r, int64_t c) {
    return static_cast<double>(response[((r + rows) % rows) * cols + (c + cols) % cols]);
  };
  Peak peak;
  peak.value = response[best];
  const double centre = at(pr, pc);
  peak.dy = static_cast<double>(wrapped(pr, rows)) + (rows > 2 ? parabola_vertex(at(pr - 1, pc), centre, at(pr + 1, pc)) : 0.0);
  peak.dx = static_cast<double>(wrapped(pc, cols)) + (cols > 2 ? parabola_vertex(at(pr, pc - 1), centre, at(pr, pc + 1)) : 0.0);

  // Sidelobe statistics: every cell whose wrapped distance to the peak exceeds `exclusion`,
  // i.e. all cells minus the (wrapped) window around the peak.
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < rows * cols; ++i) {
    const double v = response[i];
    sum += v;
    sum_sq += v * v;
  }
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
