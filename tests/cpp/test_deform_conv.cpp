// Deformable convolution: with zero offsets and a unit mask it is a plain convolution (computed
// here directly), and its input gradient is the adjoint of the forward (<f(x), g> == <x, f*(g)>
// with no bias: the forward is linear in the input). (The comparison with torchvision and the
// other gradients are in tests/python/test_deform_conv.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "expect_invalid.hpp"
#include "opticore/opticore.hpp"

namespace {

using opticore::Array4View;

std::vector<double> random_values(size_t n, unsigned seed, double spread = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, spread);
  std::vector<double> v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

TEST(DeformConv2d, ZeroOffsetsGiveThePlainConvolution) {
  const int64_t N = 2, C = 3, H = 6, W = 7, O = 4, K = 3;
  const opticore::DeformConv2dOptions options{2, 1, 1, 1, 1, 2};  // stride (2, 1), padding 1, dilation (1, 2)
  const auto size = opticore::deform_conv2d_output_size(H, W, K, K, options);
  const auto x = random_values(N * C * H * W, 1), w = random_values(O * C * K * K, 2);
  const std::vector<double> offset(N * 2 * K * K * size.height * size.width, 0.0), bias{0.5, -1.0, 2.0, 0.0};
  std::vector<double> out(N * O * size.height * size.width);
  opticore::deform_conv2d<double>(Array4View<double>(x.data(), N, C, H, W), Array4View<double>(w.data(), O, C, K, K),
                                  Array4View<double>(offset.data(), N, 2 * K * K, size.height, size.width), nullptr,
                                  bias.data(), options, out.data());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oy = 0; oy < size.height; ++oy)
        for (int64_t ox = 0; ox < size.width; ++ox) {
          double sum = bias[o];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < K; ++i)
              for (int64_t j = 0; j < K; ++j) {
                const int64_t y = oy * 2 - 1 + i, xx = ox - 1 + 2 * j;
                if (y >= 0 && y < H && xx >= 0 && xx < W)
                  sum += w[((o * C + c) * K + i) * K + j] * x[((n * C + c) * H + y) * W + xx];
              }
          EXPECT_NEAR(out[((n * O + o) * size.height + oy) * size.width + ox], sum, 1e-12);
        }
}

TEST(DeformConv2d, InputGradientIsTheAdjoint) {
  const int64_t N = 2, C = 4, H = 7, W = 6, O = 2, K = 3, groups = 2, offset_groups = 2;
  const opticore::DeformConv2dOptions options{1, 1, 1, 1, 1, 1};
  const int64_t OH = 7, OW = 6;
  const auto x = random_values(N * C * H * W, 3), w = random_values(O * (C / groups) * K * K, 4);
  const auto offset = random_values(N * 2 * offset_groups * K * K * OH * OW, 5, 2.0);
  const auto mask = random_values(N * offset_groups * K * K * OH * OW, 6);
  const auto g = random_values(N * O * OH * OW, 7);
  const Array4View<double> mask_view(mask.data(), N, offset_groups * K * K, OH, OW);
  std::vector<double> y(g.size()), gx(x.size());
  const Array4View<double> xv(x.data(), N, C, H, W), wv(w.data(), O, C / groups, K, K);
  const Array4View<double> ov(offset.data(), N, 2 * offset_groups * K * K, OH, OW);
  opticore::deform_conv2d<double>(xv, wv, ov, &mask_view, nullptr, options, y.data());
  opticore::DeformConv2dGrads<double> grads;
  grads.input = gx.data();
  opticore::deform_conv2d_backward<double>(Array4View<double>(g.data(), N, O, OH, OW), xv, wv, ov, &mask_view, options,
                                           grads);
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < y.size(); ++i) lhs += y[i] * g[i];
  for (size_t i = 0; i < x.size(); ++i) rhs += x[i] * gx[i];
  EXPECT_NEAR(lhs, rhs, 1e-10 * std::abs(lhs));
  EXPECT_NE(rhs, 0.0);
  expect_invalid(
      [&] {
        opticore::deform_conv2d<double>(xv, Array4View<double>(w.data(), O, 3, K, K), ov, nullptr, nullptr, options,
                                        y.data());
      },
      "weight");
}

}  // namespace
