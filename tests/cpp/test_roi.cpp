// RoIAlign and RoIPool: values on a map where bilinear sampling is exact, the backward passes as
// the adjoints of the forward ones (<forward(x), g> == <x, backward(g)>), layouts, determinism
// across thread counts, and the argument checks. (The comparison with a reference implementation
// and with torchvision is in tests/python/test_roi*.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "expect_invalid.hpp"
#include "opticore/opticore.hpp"

namespace {

using opticore::Array4View;
using opticore::MatrixView;

std::vector<double> random_values(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

// (K, 5) RoIs over an H x W map of `batch` images, crossing the border.
std::vector<double> random_rois(int64_t k, int64_t batch, double h, double w, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> ux(-0.3 * w, 1.2 * w), uy(-0.3 * h, 1.2 * h);
  std::vector<double> rois;
  for (int64_t i = 0; i < k; ++i) {
    const double xa = ux(rng), xb = ux(rng), ya = uy(rng), yb = uy(rng);
    rois.insert(rois.end(), {static_cast<double>(i % batch), std::min(xa, xb), std::min(ya, yb), std::max(xa, xb),
                             std::max(ya, yb)});
  }
  return rois;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

TEST(RoiAlign, ExactOnALinearMap) {
  std::vector<double> f(16);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) f[y * 4 + x] = 4 * y + x;
  const Array4View<double> input(f.data(), 1, 1, 4, 4);
  auto one = [&](std::vector<double> roi, opticore::RoiAlignOptions options) {
    double out = 0;
    options.pooled_height = options.pooled_width = 1;
    opticore::roi_align(input, MatrixView<double>(roi.data(), 1, 5), options, &out);
    return out;
  };
  EXPECT_EQ(one({0, 0, 0, 2, 2}, {1, 1, 1.0, 1, false}), 5.0);          // the sample at (1, 1)
  EXPECT_EQ(one({0, 0, 0, 2, 2}, {1, 1, 1.0, 1, true}), 2.5);           // at (0.5, 0.5)
  EXPECT_EQ(one({0, 0, 0, 2, 2}, {1, 1, 1.0, -1, false}), 5.0);         // 2 x 2 samples, mean at (1, 1)
  EXPECT_EQ(one({0, 3, 0, 4, 0}, {1, 1, 1.0, 1, false}), 2.0 + 3.0);    // x = 3.5 reads the last column
  EXPECT_EQ(one({0, 1, 1, 1, 1}, {1, 1, 1.0, 1, false}), 6.0 + 1.5);    // widened to 1 x 1
  EXPECT_EQ(one({0, 2, 2, 1, 1}, {1, 1, 1.0, -1, true}), 0.0);          // negative size: no samples
  EXPECT_EQ(one({0, 0, 0, 4, 4}, {1, 1, 2.0, 1, false}), 4.0 * 3 + 3);  // scaled to (0, 0, 8, 8): (4, 4) clamped
}

TEST(RoiAlign, BackwardIsTheAdjointOfForward) {
  const int64_t N = 2, C = 3, H = 9, W = 7, K = 30;
  const auto x = random_values(N * C * H * W, 1);
  const auto rois = random_rois(K, N, H, W, 2);
  for (const bool aligned : {false, true}) {
    for (const int64_t ratio : {-1, 2}) {
      const opticore::RoiAlignOptions options{3, 4, 0.75, ratio, aligned};
      std::vector<double> y(K * C * 12), gx(x.size());
      const auto g = random_values(y.size(), 3);
      opticore::roi_align(Array4View<double>(x.data(), N, C, H, W), MatrixView<double>(rois.data(), K, 5), options,
                          y.data());
      opticore::roi_align_backward(Array4View<double>(g.data(), K, C, 3, 4), MatrixView<double>(rois.data(), K, 5), N,
                                   C, H, W, options, gx.data());
      EXPECT_NEAR(dot(y, g), dot(x, gx), 1e-12 * std::abs(dot(y, g)) + 1e-12);
      EXPECT_NE(dot(x, gx), 0.0);
    }
  }
}

TEST(RoiPool, BackwardIsTheAdjointOfForward) {
  const int64_t N = 2, C = 3, H = 9, W = 7, K = 30;
  const auto x = random_values(N * C * H * W, 4);
  const auto rois = random_rois(K, N, H, W, 5);
  const opticore::RoiPoolOptions options{3, 2, 0.5};
  std::vector<double> y(K * C * 6), gx(x.size());
  std::vector<int64_t> argmax(y.size());
  const auto g = random_values(y.size(), 6);
  opticore::roi_pool(Array4View<double>(x.data(), N, C, H, W), MatrixView<double>(rois.data(), K, 5), options, y.data(),
                     argmax.data());
  opticore::roi_pool_backward(Array4View<double>(g.data(), K, C, 3, 2), argmax.data(),
                              MatrixView<double>(rois.data(), K, 5), N, C, H, W, options, gx.data());
  EXPECT_NEAR(dot(y, g), dot(x, gx), 1e-12 * std::abs(dot(y, g)));
}

TEST(PositionSensitive, BackwardsAreTheAdjointsOfForwards) {
  const int64_t N = 2, C_out = 2, PH = 3, PW = 2, C = C_out * PH * PW, H = 9, W = 7, K = 30;
  const auto x = random_values(N * C * H * W, 4);
  const auto rois = random_rois(K, N, H, W, 5);
  const Array4View<double> input(x.data(), N, C, H, W);
  const MatrixView<double> roi_view(rois.data(), K, 5);
  std::vector<double> y(K * C_out * PH * PW), gx(x.size());
  const auto g = random_values(y.size(), 6);
  const Array4View<double> grad(g.data(), K, C_out, PH, PW);
  for (const int64_t ratio : {-1, 2}) {
    const opticore::PsRoiAlignOptions options{PH, PW, 0.75, ratio};
    opticore::ps_roi_align(input, roi_view, options, y.data());
    opticore::ps_roi_align_backward(grad, roi_view, N, C, H, W, options, gx.data());
    EXPECT_NEAR(dot(y, g), dot(x, gx), 1e-12 * std::abs(dot(y, g)) + 1e-12);
    EXPECT_NE(dot(x, gx), 0.0);
  }
  const opticore::RoiPoolOptions pool{PH, PW, 0.75};
  opticore::ps_roi_pool(input, roi_view, pool, y.data());
  opticore::ps_roi_pool_backward(grad, roi_view, N, C, H, W, pool, gx.data());
  EXPECT_NEAR(dot(y, g), dot(x, gx), 1e-12 * std::abs(dot(y, g)) + 1e-12);
  EXPECT_NE(dot(x, gx), 0.0);
  // Channels that do not split into PH * PW groups.
  expect_invalid([&] { opticore::ps_roi_pool(Array4View<double>(x.data(), N, C - 1, H, W), roi_view, pool, y.data()); },
                 "input");
}

TEST(RoiAlign, ChannelsLastInputGivesTheSameResult) {
  const int64_t N = 2, C = 70, H = 6, W = 5, K = 12;
  const auto x = random_values(N * C * H * W, 7);
  std::vector<double> x_last(x.size());  // the same tensor stored (N, H, W, C)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i) x_last[(n * H * W + i) * C + c] = x[(n * C + c) * H * W + i];
  const auto rois = random_rois(K, N, H, W, 8);
  const opticore::RoiAlignOptions options{2, 3, 1.0, 2, true};
  std::vector<double> a(K * C * 6), b(a.size());
  opticore::roi_align(Array4View<double>(x.data(), N, C, H, W), MatrixView<double>(rois.data(), K, 5), options,
                      a.data());
  const int64_t size[4] = {N, C, H, W}, stride[4] = {H * W * C, 1, W * C, C};
  opticore::roi_align(Array4View<double>(x_last.data(), size, stride), MatrixView<double>(rois.data(), K, 5), options,
                      b.data());
  EXPECT_EQ(a, b);
}

TEST(RoiAlign, BackwardIsDeterministicAcrossThreadCounts) {
  const int64_t N = 2, C = 40, H = 12, W = 12, K = 200;
  const auto rois = random_rois(K, N, H, W, 9);
  const opticore::RoiAlignOptions options{4, 4, 1.0, 2, false};
  const auto g = random_values(K * C * 16, 10);
  const int before = opticore::get_num_threads();
  std::vector<std::vector<float>> grads;
  std::vector<float> g32(g.begin(), g.end()), rois32(rois.begin(), rois.end());
  for (const int threads : {1, 2, 5}) {
    opticore::set_num_threads(threads);
    std::vector<float> gx(N * C * H * W);
    opticore::roi_align_backward(Array4View<float>(g32.data(), K, C, 4, 4), MatrixView<float>(rois32.data(), K, 5), N,
                                 C, H, W, options, gx.data());
    grads.push_back(gx);
  }
  opticore::set_num_threads(before);
  EXPECT_EQ(grads[0], grads[1]);
  EXPECT_EQ(grads[0], grads[2]);
}

TEST(RoiOps, ArgumentChecks) {
  std::vector<double> x(2 * 4 * 4, 0.0), out(64);
  std::vector<int64_t> argmax(64, 0);
  const Array4View<double> input(x.data(), 2, 1, 4, 4);
  auto align = [&](std::vector<double> roi, opticore::RoiAlignOptions options = {2, 2, 1.0, -1, false}) {
    opticore::roi_align(input, MatrixView<double>(roi.data(), 1, static_cast<int64_t>(roi.size())), options,
                        out.data());
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_invalid([&] { align({0, 0, 0, nan, 1}); }, "rois");
  expect_invalid([&] { align({2, 0, 0, 1, 1}); }, "rois");
  expect_invalid([&] { align({-1, 0, 0, 1, 1}); }, "rois");
  expect_invalid([&] { align({0.5, 0, 0, 1, 1}); }, "rois");
  expect_invalid([&] { align({0, 0, 0, 1e9, 1}); }, "rois");
  expect_invalid([&] { align({0, 0, 1, 1}); }, "rois");
  expect_invalid([&] { align({0, 0, 0, 1, 1}, {0, 2, 1.0, -1, false}); }, "output_size");
  expect_invalid([&] { align({0, 0, 0, 1, 1}, {2, 2, 0.0, -1, false}); }, "spatial_scale");
  expect_invalid([&] { align({0, 0, 0, 1, 1}, {2, 2, nan, -1, false}); }, "spatial_scale");
  expect_invalid([&] { align({0, 0, 0, 1, 1}, {2, 2, 1.0, 257, false}); }, "sampling_ratio");
  std::vector<double> roi{0, 0, 0, 1, 1}, g(4, 1.0), gx(x.size());
  expect_invalid(
      [&] {
        opticore::roi_align_backward(Array4View<double>(g.data(), 1, 1, 2, 2), MatrixView<double>(roi.data(), 1, 5), 2,
                                     1, 4, 4, {2, 1, 1.0, -1, false}, gx.data());
      },
      "grad_output");
  argmax[0] = 16;  // one past the 4 x 4 plane
  expect_invalid(
      [&] {
        opticore::roi_pool_backward(Array4View<double>(g.data(), 1, 1, 2, 2), argmax.data(),
                                    MatrixView<double>(roi.data(), 1, 5), 2, 1, 4, 4, {2, 2, 1.0}, gx.data());
      },
      "argmax");
}

}  // namespace
