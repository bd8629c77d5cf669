// random_warp: the geometry with zero noise, the mt19937_64 overload against explicit jitter, and
// the argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "opticore/opticore.hpp"

namespace {

using opticore::ImageView;
using opticore::MatrixBatchView;
using opticore::OutputImage;
using opticore::RandomWarpOptions;

/// A smooth 3-channel test pattern.
std::vector<uint8_t> pattern(int64_t h, int64_t w) {
  std::vector<uint8_t> v(static_cast<size_t>(h * w * 3));
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int64_t c = 0; c < 3; ++c) {
        const double s =
            127.5 + 120.0 * std::sin(0.05 * static_cast<double>(x * (c + 1)) + 0.03 * static_cast<double>(y));
        v[static_cast<size_t>((y * w + x) * 3 + c)] = static_cast<uint8_t>(std::lround(s));
      }
    }
  }
  return v;
}

TEST(RandomWarp, ZeroNoiseIsTheFaceswapCropInBothOutputs) {
  const auto src = pattern(256, 256);
  const ImageView<uint8_t> image(src.data(), 256, 256, 3);
  std::vector<uint8_t> warped(64 * 64 * 3), target(64 * 64 * 3);
  std::vector<double> jitter(2 * 5 * 5, 0.0);
  const auto M = opticore::random_warp(image, MatrixBatchView<double>(jitter.data(), 2, 5, 5),
                                       OutputImage<uint8_t>{warped.data(), 64, 64, 3},
                                       OutputImage<uint8_t>{target.data(), 64, 64, 3});
  // control points 47.5 + 40 j -> nodes 16 j - 0.5: scale 0.4
  const double expected[6] = {0.4, 0.0, -0.5 - 0.4 * 47.5, 0.0, 0.4, -0.5 - 0.4 * 47.5};
  for (int k = 0; k < 6; ++k) EXPECT_NEAR(M[k], expected[k], 1e-12) << k;
  int64_t within1 = 0;
  for (size_t i = 0; i < warped.size(); ++i) {
    const int d = std::abs(static_cast<int>(warped[i]) - static_cast<int>(target[i]));
    EXPECT_LE(d, 2);
    within1 += d <= 1 ? 1 : 0;
  }
  EXPECT_GE(static_cast<double>(within1), 0.99 * static_cast<double>(warped.size()));
}

TEST(RandomWarp, GeneratorOverloadDrawsXThenYStandardNormals) {
  const auto src = pattern(120, 160);
  const ImageView<uint8_t> image(src.data(), 120, 160, 3);
  RandomWarpOptions options;
  options.grid = 4;
  options.out_size = 48;
  options.noise = 0.03;
  std::vector<uint8_t> w1(48 * 48 * 3), t1(w1.size()), w2(w1.size()), t2(w1.size()), w3(w1.size()), t3(w1.size());
  std::mt19937_64 rng(42);
  const auto M1 = opticore::random_warp(image, rng, OutputImage<uint8_t>{w1.data(), 48, 48, 3},
                                        OutputImage<uint8_t>{t1.data(), 48, 48, 3}, options);
  const auto M3 = opticore::random_warp(image, rng, OutputImage<uint8_t>{w3.data(), 48, 48, 3},
                                        OutputImage<uint8_t>{t3.data(), 48, 48, 3}, options);
  std::mt19937_64 again(42);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> jitter(2 * 4 * 4);
  for (double& z : jitter) z = normal(again);
  const auto M2 = opticore::random_warp(image, MatrixBatchView<double>(jitter.data(), 2, 4, 4),
                                        OutputImage<uint8_t>{w2.data(), 48, 48, 3},
                                        OutputImage<uint8_t>{t2.data(), 48, 48, 3}, options);
  EXPECT_EQ(M1, M2);
  EXPECT_EQ(w1, w2);
  EXPECT_EQ(t1, t2);
  EXPECT_NE(M1, M3);  // the generator advanced
}

TEST(RandomWarp, ChecksItsArguments) {
  const auto src = pattern(32, 32);
  const ImageView<uint8_t> image(src.data(), 32, 32, 3);
  std::vector<uint8_t> a(64 * 64 * 3), b(a.size());
  const OutputImage<uint8_t> wa{a.data(), 64, 64, 3}, wb{b.data(), 64, 64, 3};
  std::vector<double> jitter(2 * 5 * 5, 0.0);
  const MatrixBatchView<double> j5(jitter.data(), 2, 5, 5);
  RandomWarpOptions bad_grid;
  bad_grid.grid = 1;
  EXPECT_THROW(opticore::random_warp(image, j5, wa, wb, bad_grid), std::invalid_argument);
  RandomWarpOptions bad_cov;
  bad_cov.coverage = std::nan("");
  EXPECT_THROW(opticore::random_warp(image, j5, wa, wb, bad_cov), std::invalid_argument);
  RandomWarpOptions bad_noise;
  bad_noise.noise = -1.0;
  EXPECT_THROW(opticore::random_warp(image, j5, wa, wb, bad_noise), std::invalid_argument);
  EXPECT_THROW(opticore::random_warp(image, MatrixBatchView<double>(jitter.data(), 2, 4, 4), wa, wb),
               std::invalid_argument);
  EXPECT_THROW(opticore::random_warp(image, j5, OutputImage<uint8_t>{a.data(), 32, 32, 3}, wb), std::invalid_argument);
  EXPECT_THROW(opticore::random_warp(image, j5, wa, OutputImage<uint8_t>{b.data(), 64, 64, 1}), std::invalid_argument);
  jitter[7] = std::nan("");
  EXPECT_THROW(opticore::random_warp(image, j5, wa, wb), std::invalid_argument);
  jitter[7] = 0.0;
  // A grid spread too far to invert its similarity names coverage, not an internal matrix.
  RandomWarpOptions far;
  far.coverage = 1e300;
  try {
    opticore::random_warp(image, j5, wa, wb, far);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("coverage, noise:", 0), 0u) << e.what();
  }
  far.coverage = 1e308;  // control points overflow
  EXPECT_THROW(opticore::random_warp(image, j5, wa, wb, far), std::invalid_argument);
  RandomWarpOptions huge;
  huge.out_size = int64_t{1} << 31;  // the dense maps alone would be 32 GiB
  EXPECT_THROW(opticore::random_warp(image, j5, wa, wb, huge), std::invalid_argument);
}

}  // namespace
