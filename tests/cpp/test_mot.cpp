// Multi-object tracking: the assignment solver against brute-force enumeration, the block Kalman
// filter against the textbook 8x8 filter written here, the trackers on hand-built frames, and
// the argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "expect_invalid.hpp"
#include "opticore/opticore.hpp"

namespace {

using opticore::MatrixView;
using opticore::VectorView;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The least sum(cost - max_cost) over partial matchings of an n x m matrix (pairs with cost >=
/// max_cost excluded), or the least full-matching total when max_cost is +inf: by enumeration.
double brute_force(const std::vector<double>& c, int n, int m, double max_cost) {
  const bool gated = max_cost != kInf;
  std::vector<char> used(static_cast<size_t>(m), 0);
  std::function<double(int, int)> best = [&](int row, int matched) -> double {
    if (row == n) return (!gated && matched < std::min(n, m)) ? kInf : 0.0;
    double result = best(row + 1, matched);  // this row unmatched
    for (int j = 0; j < m; ++j) {
      const double v = c[static_cast<size_t>(row * m + j)];
      if (used[static_cast<size_t>(j)] || (gated && !(v < max_cost))) continue;
      used[static_cast<size_t>(j)] = 1;
      result = std::min(result, (gated ? v - max_cost : v) + best(row + 1, matched + 1));
      used[static_cast<size_t>(j)] = 0;
    }
    return result;
  };
  return best(0, 0);
}

TEST(LinearAssignment, MatchesBruteForce) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> size(0, 5), level(0, 4);
  for (int trial = 0; trial < 300; ++trial) {
    const int n = size(rng), m = size(rng);
    std::vector<double> c(static_cast<size_t>(n * m));
    for (double& v : c) v = level(rng) * 0.25;  // few levels: many ties
    for (const double max_cost : {kInf, 0.6}) {
      const auto r = opticore::linear_assignment(MatrixView<double>(c.data(), n, m), max_cost);
      ASSERT_EQ(r.rows.size(), r.cols.size());
      double total = 0.0;
      std::vector<char> row_used(static_cast<size_t>(n)), col_used(static_cast<size_t>(m));
      for (size_t k = 0; k < r.rows.size(); ++k) {
        ASSERT_FALSE(row_used[static_cast<size_t>(r.rows[k])]++);
        ASSERT_FALSE(col_used[static_cast<size_t>(r.cols[k])]++);
        const double v = c[static_cast<size_t>(r.rows[k] * m + r.cols[k])];
        total += max_cost == kInf ? v : v - max_cost;
        if (max_cost != kInf) EXPECT_LT(v, max_cost);
      }
      if (max_cost == kInf) EXPECT_EQ(r.rows.size(), static_cast<size_t>(std::min(n, m)));
      EXPECT_NEAR(total, brute_force(c, n, m, max_cost), 1e-12) << n << "x" << m << " gate " << max_cost;
    }
  }
}

TEST(LinearAssignment, BadInput) {
  std::vector<double> c = {0.0, std::nan(""), 1.0, 2.0};
  expect_invalid([&] { opticore::linear_assignment(MatrixView<double>(c.data(), 2, 2)); }, "cost");
  c[1] = kInf;
  expect_invalid([&] { opticore::linear_assignment(MatrixView<double>(c.data(), 2, 2)); }, "cost");
  EXPECT_EQ(opticore::linear_assignment(MatrixView<double>(c.data(), 2, 2), 5.0).rows.size(), 2u);
  expect_invalid([&] { opticore::linear_assignment(MatrixView<double>(c.data(), 2, 2), std::nan("")); }, "max_cost");
}

// The textbook filter: full 8x8 matrices.
struct Dense {
  double x[8];
  double P[8][8];
};

TEST(Kalman, EqualsDenseFilter) {
  const opticore::KalmanParams params;
  const double box0[4] = {10, 20, 50, 100};
  opticore::KalmanState s = opticore::kalman_initiate(box0, params);
  Dense d{};
  for (int k = 0; k < 8; ++k) d.x[k] = s.mean[static_cast<size_t>(k)];
  for (int k = 0; k < 4; ++k) {
    d.P[k][k] = s.cov[static_cast<size_t>(3 * k)];
    d.P[k + 4][k + 4] = s.cov[static_cast<size_t>(3 * k + 2)];
  }
  EXPECT_DOUBLE_EQ(d.P[0][0], std::pow(2 * params.std_weight_position * 40, 2));
  EXPECT_DOUBLE_EQ(d.P[5][5], std::pow(10 * params.std_weight_velocity * 80, 2));
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 2.0);
  for (int step = 0; step < 20; ++step) {
    // Dense predict: x = F x, P = F P F^T + Q, sizes from the mean before the step.
    const double size[4] = {std::fabs(d.x[2]), std::fabs(d.x[3]), std::fabs(d.x[2]), std::fabs(d.x[3])};
    double F[8][8] = {};
    for (int k = 0; k < 8; ++k) F[k][k] = 1;
    for (int k = 0; k < 4; ++k) F[k][k + 4] = 1;
    double x[8] = {}, FP[8][8] = {}, P[8][8] = {};
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) x[i] += F[i][j] * d.x[j];
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 8; ++k) FP[i][j] += F[i][k] * d.P[k][j];
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 8; ++k) P[i][j] += FP[i][k] * F[j][k];
    for (int k = 0; k < 4; ++k) {
      P[k][k] += std::pow(params.std_weight_position * size[k], 2);
      P[k + 4][k + 4] += std::pow(params.std_weight_velocity * size[k], 2);
    }
    std::copy(&x[0], &x[0] + 8, d.x);
    std::copy(&P[0][0], &P[0][0] + 64, &d.P[0][0]);
    opticore::kalman_predict(&s, 1, params);
    // Dense update: K = P H^T S^-1 with S diagonal per coordinate (H selects positions).
    const double box[4] = {10 + 3.0 * step + noise(rng), 20 + 1.0 * step + noise(rng), 50 + 3.0 * step + noise(rng),
                           100 + 1.0 * step + noise(rng)};
    const double z[4] = {(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]};
    const double rsize[4] = {std::fabs(d.x[2]), std::fabs(d.x[3]), std::fabs(d.x[2]), std::fabs(d.x[3])};
    double S[4][4] = {};
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        S[i][j] = d.P[i][j] + (i == j ? std::pow(params.std_weight_position * rsize[i], 2) : 0);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        if (i != j) ASSERT_EQ(S[i][j], 0.0);
    double K[8][4] = {};
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j) K[i][j] = d.P[i][j] / S[j][j];
    double y[4];
    for (int j = 0; j < 4; ++j) y[j] = z[j] - d.x[j];
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j) d.x[i] += K[i][j] * y[j];
    double KHP[8][8] = {};
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j)
        for (int k = 0; k < 4; ++k) KHP[i][j] += K[i][k] * d.P[k][j];
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) d.P[i][j] -= KHP[i][j];
    opticore::kalman_update(s, box, params);
    for (int k = 0; k < 8; ++k) EXPECT_NEAR(s.mean[static_cast<size_t>(k)], d.x[k], 1e-9 * (1 + std::fabs(d.x[k])));
    for (int k = 0; k < 4; ++k) {
      EXPECT_NEAR(s.cov[static_cast<size_t>(3 * k)], d.P[k][k], 1e-9 * d.P[k][k]);
      EXPECT_NEAR(s.cov[static_cast<size_t>(3 * k + 1)], d.P[k][k + 4], 1e-9 * std::fabs(d.P[k][k + 4]) + 1e-15);
      EXPECT_NEAR(s.cov[static_cast<size_t>(3 * k + 2)], d.P[k + 4][k + 4], 1e-9 * d.P[k + 4][k + 4]);
    }
  }
}

// Two objects crossing: each keeps its id through the crossing, for every method.
TEST(MultiTracker, CrossingKeepsIds) {
  for (const char* method : {"sort", "bytetrack", "ocsort"}) {
    opticore::MotParams p;
    p.method = opticore::mot_method(method);
    opticore::MultiTracker tracker(p);
    std::vector<int64_t> first_ids;
    for (int t = 0; t < 40; ++t) {
      const double a = 10.0 + 5.0 * t, b = 210.0 - 5.0 * t;  // x of the two boxes
      std::vector<double> boxes = {a, 50, a + 30, 130, b, 60, b + 30, 140};
      std::vector<double> scores = {0.9, 0.8};
      const auto out = tracker.update(MatrixView<double>(boxes.data(), 2, 4), VectorView<double>(scores.data(), 2));
      ASSERT_EQ(out.size(), 2u) << method << " frame " << t;
      // Each id stays with the box that started it: detection 0 with the first id.
      std::vector<int64_t> ids(2);
      for (const auto& o : out) ids[static_cast<size_t>(o.detection)] = o.id;
      if (t == 0) first_ids = ids;
      EXPECT_EQ(ids, first_ids) << method << " frame " << t;
    }
  }
}

TEST(MultiTracker, BadInputLeavesTrackerAsItWas) {
  opticore::MultiTracker tracker;
  std::vector<double> boxes = {0, 0, 10, 10};
  std::vector<double> scores = {0.9};
  tracker.update(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 1));
  std::vector<double> bad = {0, 0, -10, 10};
  expect_invalid([&] { tracker.update(MatrixView<double>(bad.data(), 1, 4), VectorView<double>(scores.data(), 1)); },
                 "boxes");
  bad = {0, 0, std::nan(""), 10};
  expect_invalid([&] { tracker.update(MatrixView<double>(bad.data(), 1, 4), VectorView<double>(scores.data(), 1)); },
                 "boxes");
  expect_invalid([&] { tracker.update(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 0)); },
                 "scores");
  EXPECT_EQ(tracker.frame_count(), 1);
  opticore::MotParams p;
  p.min_hits = 0;
  expect_invalid([&] { opticore::MultiTracker{p}; }, "min_hits");
  p = {};
  p.low_threshold = 0.9;
  expect_invalid([&] { opticore::MultiTracker{p}; }, "low_threshold");
  expect_invalid([&] { opticore::mot_method("deepsort"); }, "method");
}

}  // namespace
