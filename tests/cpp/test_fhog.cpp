// FHOG: grid sizes, argument checks, zero features for flat images, the orientation of a step
// edge, strided views and uint8 / float equality. (The values are checked against a NumPy
// reference in tests/python/test_fhog.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "expect_invalid.hpp"
#include "opticore/opticore.hpp"

namespace {

using opticore::ImageView;
using opticore::kFhogChannels;

template <class T>
std::vector<float> run_fhog(const ImageView<T>& image, int64_t cell_size) {
  const auto grid = opticore::fhog_size(image.height, image.width, cell_size);
  std::vector<float> out(static_cast<size_t>(grid.rows * grid.cols * kFhogChannels), -1.f);
  opticore::fhog(image, cell_size, out.data());
  return out;
}

std::vector<uint8_t> noise(int64_t n, uint32_t seed) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<uint8_t>(seed >> 24);
  }
  return v;
}

TEST(Fhog, GridSizeFloorsTheImageSize) {
  const auto a = opticore::fhog_size(100, 37, 4);
  EXPECT_EQ(a.rows, 25);
  EXPECT_EQ(a.cols, 9);
  const auto b = opticore::fhog_size(8, 15, 8);
  EXPECT_EQ(b.rows, 1);
  EXPECT_EQ(b.cols, 1);
  const auto c = opticore::fhog_size(3, 2, 1);
  EXPECT_EQ(c.rows, 3);
  EXPECT_EQ(c.cols, 2);
}

TEST(Fhog, BadArgumentsThrowNamingThem) {
  expect_invalid([] { opticore::fhog_size(0, 8, 4); }, "image");
  expect_invalid([] { opticore::fhog_size(8, -1, 4); }, "image");
  expect_invalid([] { opticore::fhog_size(8, 8, 0); }, "cell_size");
  expect_invalid([] { opticore::fhog_size(3, 8, 4); }, "image");
  expect_invalid([] { opticore::fhog_size(8, 7, 8); }, "image");

  const std::vector<uint8_t> pixels(64 * 5, 0);
  std::vector<float> out(4 * kFhogChannels);
  expect_invalid([&] { opticore::fhog(ImageView<uint8_t>(nullptr, 8, 8, 1), 4, out.data()); }, "image");
  expect_invalid([&] { opticore::fhog(ImageView<uint8_t>(pixels.data(), 8, 8, 5), 4, out.data()); }, "image");
  expect_invalid([&] { opticore::fhog(ImageView<uint8_t>(pixels.data(), 8, 8, 0), 4, out.data()); }, "image");
  expect_invalid([&] { opticore::fhog(ImageView<uint8_t>(pixels.data(), 8, 8, 1), -2, out.data()); }, "cell_size");
  expect_invalid([&] { opticore::fhog(ImageView<uint8_t>(pixels.data(), 8, 3, 1), 4, out.data()); }, "image");
  expect_invalid([&] { opticore::fhog(ImageView<uint8_t>(pixels.data(), 8, 8, 1), 4, nullptr); }, "out");

  // Non-finite float pixels, anywhere: block normalisation would turn them into finite features.
  for (const float bad : {std::nanf(""), INFINITY, -INFINITY}) {
    std::vector<float> image(9 * 10, 50.0f);
    image[8 * 10 + 9] = bad;  // a pixel beyond the 2 x 2 cell grid
    expect_invalid([&] { opticore::fhog(ImageView<float>(image.data(), 9, 10, 1), 4, out.data()); }, "image");
  }
}

TEST(Fhog, ConstantImageGivesZeroFeatures) {
  for (int64_t channels : {1, 3, 4}) {
    const std::vector<uint8_t> flat(static_cast<size_t>(21 * 26 * channels), 143);
    for (int64_t cell : {1, 4, 5}) {
      for (float v : run_fhog(ImageView<uint8_t>(flat.data(), 21, 26, channels), cell)) ASSERT_EQ(v, 0.f);
    }
  }
}

TEST(Fhog, WritesExactlyTheGrid) {
  const auto img = noise(23 * 30 * 3, 1);
  const auto grid = opticore::fhog_size(23, 30, 4);  // 5 x 7 cells
  std::vector<float> out(static_cast<size_t>(grid.rows * grid.cols * kFhogChannels) + 8, -7.f);
  opticore::fhog(ImageView<uint8_t>(img.data(), 23, 30, 3), 4, out.data());
  for (size_t i = 0; i + 8 < out.size(); ++i) {
    ASSERT_GE(out[i], 0.f) << i;
    ASSERT_LE(out[i], 4 * 0.2f * 0.5f + 1e-6f) << i;  // four truncated values times 0.5
  }
  for (size_t i = out.size() - 8; i < out.size(); ++i) EXPECT_EQ(out[i], -7.f);
}

TEST(Fhog, VerticalStepEdgeVotesOrientationZero) {
  std::vector<uint8_t> img(32 * 32, 0);
  for (int64_t y = 0; y < 32; ++y) {
    for (int64_t x = 16; x < 32; ++x) img[y * 32 + x] = 255;
  }
  const auto f = run_fhog(ImageView<uint8_t>(img.data(), 32, 32), 4);
  for (int64_t r = 2; r < 6; ++r) {
    for (int64_t c = 3; c < 5; ++c) {
      const float* cell = f.data() + (r * 8 + c) * kFhogChannels;
      EXPECT_GT(cell[0], 0.1f);
      EXPECT_GT(cell[18], 0.1f);
      for (int o = 1; o < 18; ++o) EXPECT_EQ(cell[o], 0.f) << o;
      for (int o = 19; o < 27; ++o) EXPECT_EQ(cell[o], 0.f) << o;
    }
  }
  for (int64_t c : {0, 7}) EXPECT_EQ(f[(3 * 8 + c) * kFhogChannels], 0.f);  // far from the edge
}

TEST(Fhog, FloatEqualsUint8AndStridesAreHonoured) {
  const int64_t h = 27, w = 34, channels = 3;
  const auto img = noise(h * w * channels, 2);
  const auto expected = run_fhog(ImageView<uint8_t>(img.data(), h, w, channels), 4);

  std::vector<float> as_float(img.begin(), img.end());
  EXPECT_EQ(run_fhog(ImageView<float>(as_float.data(), h, w, channels), 4), expected);

  // The same image stored planar (C, H, W) and read with strides.
  std::vector<uint8_t> planar(img.size());
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      for (int64_t c = 0; c < channels; ++c) planar[(c * h + y) * w + x] = img[(y * w + x) * channels + c];
    }
  }
  EXPECT_EQ(run_fhog(ImageView<uint8_t>(planar.data(), h, w, channels, w, 1, h * w), 4), expected);

  // Flipped vertically through a negative row stride, then flipped back by hand.
  const ImageView<uint8_t> flipped(img.data() + (h - 1) * w * channels, h, w, channels, -w * channels, channels, 1);
  std::vector<uint8_t> copy(img.size());
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t i = 0; i < w * channels; ++i) copy[y * w * channels + i] = img[(h - 1 - y) * w * channels + i];
  }
  EXPECT_EQ(run_fhog(flipped, 4), run_fhog(ImageView<uint8_t>(copy.data(), h, w, channels), 4));
}

TEST(Fhog, StrongestChannelWins) {
  const int64_t h = 16, w = 16;
  const auto grey = noise(h * w, 3);
  std::vector<float> rgb(static_cast<size_t>(h * w * 3));
  for (int64_t i = 0; i < h * w; ++i) {
    rgb[i * 3 + 0] = 0.25f * grey[i];  // a quarter of the contrast: always weaker (or both flat)
    rgb[i * 3 + 1] = grey[i];
    rgb[i * 3 + 2] = 9.f;  // flat
  }
  EXPECT_EQ(run_fhog(ImageView<float>(rgb.data(), h, w, 3), 4), run_fhog(ImageView<uint8_t>(grey.data(), h, w), 4));
}

TEST(Fhog, SingleCellGrids) {
  const auto img = noise(9 * 40, 4);
  for (auto [h, w] : {std::pair<int64_t, int64_t>{9, 40}, {9, 9}}) {
    for (float v : run_fhog(ImageView<uint8_t>(img.data(), h, w, 1, 40, 1, 1), 8)) {
      EXPECT_GE(v, 0.f);
      EXPECT_LE(v, 0.4f + 1e-6f);
    }
  }
}

}  // namespace
