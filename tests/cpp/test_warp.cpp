// Warps: identity and integer translations are exact copies, borders, and the argument checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "opticore/core/limits.hpp"
#include "opticore/opticore.hpp"

namespace {

using opticore::BorderMode;
using opticore::ImageView;
using opticore::Interpolation;
using opticore::OutputImage;
using opticore::WarpOptions;

std::vector<uint8_t> ramp(int64_t h, int64_t w, int64_t c) {
  std::vector<uint8_t> v(static_cast<size_t>(h * w * c));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>((i * 37 + i / 7) % 256);
  return v;
}

const Interpolation kAll[] = {Interpolation::Nearest, Interpolation::Linear, Interpolation::Cubic};

TEST(WarpAffine, IdentityReturnsTheImage) {
  for (int64_t c : {1, 3, 4}) {
    const auto src = ramp(9, 11, c);
    for (Interpolation interp : kAll) {
      std::vector<uint8_t> out(src.size());
      WarpOptions options;
      options.interpolation = interp;
      opticore::warp_affine(ImageView<uint8_t>(src.data(), 9, 11, c), {1, 0, 0, 0, 1, 0},
                            OutputImage<uint8_t>{out.data(), 9, 11, c}, options);
      EXPECT_EQ(out, src) << "channels " << c;
    }
  }
}

TEST(WarpAffine, IntegerTranslationShiftsExactly) {
  std::vector<float> src(6 * 8);
  for (size_t i = 0; i < src.size(); ++i) src[i] = 0.25f * static_cast<float>(i);
  for (Interpolation interp : kAll) {
    std::vector<float> out(src.size());
    WarpOptions options;
    options.interpolation = interp;
    options.border_value = {-1, 0, 0, 0};
    // dst(x, y) = src(x - 2, y + 1)
    opticore::warp_affine(ImageView<float>(src.data(), 6, 8), {1, 0, 2, 0, 1, -1},
                          OutputImage<float>{out.data(), 6, 8, 1}, options);
    for (int64_t y = 0; y < 6; ++y) {
      for (int64_t x = 0; x < 8; ++x) {
        const float expected = (x >= 2 && y + 1 < 6) ? src[(y + 1) * 8 + x - 2] : -1.f;
        EXPECT_EQ(out[y * 8 + x], expected) << x << "," << y;
      }
    }
  }
}

TEST(Remap, BordersFollowOpenCVRules) {
  const std::vector<float> src = {10, 20, 30};  // 1 x 3
  const std::vector<float> mx = {-2, -1, 3, 4}, my = {0, 0, 0, 0};
  const opticore::MatrixView<float> map_x(mx.data(), 1, 4), map_y(my.data(), 1, 4);
  const std::pair<BorderMode, std::vector<float>> cases[] = {
      {BorderMode::Constant, {5, 5, 5, 5}},
      {BorderMode::Replicate, {10, 10, 30, 30}},
      {BorderMode::Reflect, {20, 10, 30, 20}},
      {BorderMode::Reflect101, {30, 20, 20, 10}},
  };
  for (const auto& [mode, expected] : cases) {
    std::vector<float> out(4);
    WarpOptions options;
    options.interpolation = Interpolation::Nearest;
    options.border_mode = mode;
    options.border_value = {5, 5, 5, 5};
    opticore::remap(ImageView<float>(src.data(), 1, 3), map_x, map_y, OutputImage<float>{out.data(), 1, 4, 1}, options);
    EXPECT_EQ(out, expected);
  }
}

TEST(Resize, HalvingAveragesBlocks) {
  const std::vector<uint8_t> src = {0, 2, 10, 20, 4, 6, 30, 41};  // 2 x 4
  std::vector<uint8_t> out(2);
  opticore::resize(ImageView<uint8_t>(src.data(), 2, 4), OutputImage<uint8_t>{out.data(), 1, 2, 1});
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 25}));
}

TEST(Resize, AreaAveragesWholeBlocksRoundingToEven) {
  // 1 x 6 -> 1 x 2: blocks of 3, sum / 3 rounded (3 -> 1, 5 -> 1.67 -> 2); 2 x 2 -> 1 x 1 with
  // 2 channels rounds sum / 4 to even (OpenCV has no (sum + 2) >> 2 path for 2 channels).
  const std::vector<uint8_t> row = {0, 1, 2, 1, 2, 2};
  std::vector<uint8_t> out(2);
  opticore::resize(ImageView<uint8_t>(row.data(), 1, 6), OutputImage<uint8_t>{out.data(), 1, 2, 1},
                   Interpolation::Area);
  EXPECT_EQ(out, (std::vector<uint8_t>{1, 2}));
  const std::vector<uint8_t> two = {0, 1, 1, 1, 1, 1, 0, 1};  // sums 2 and 4 over 4 pixels
  opticore::resize(ImageView<uint8_t>(two.data(), 2, 2, 2), OutputImage<uint8_t>{out.data(), 1, 1, 2},
                   Interpolation::Area);
  EXPECT_EQ(out, (std::vector<uint8_t>{0, 1}));
}

TEST(Resize, BinsArePlainMeansOfOverlappingBins) {
  // 1 x 3 -> 1 x 2: torch's adaptive bins [0, 2) and [1, 3) share pixel 1; means 1.5 and 6.
  // uint8 rounds halves up (1.5 -> 2); 1 x 2 -> 1 x 3 (enlarging): bins [0, 1), [0, 2), [1, 2).
  const std::vector<uint8_t> row = {0, 3, 9};
  std::vector<uint8_t> out(3);
  opticore::resize(ImageView<uint8_t>(row.data(), 1, 3), OutputImage<uint8_t>{out.data(), 1, 2, 1},
                   Interpolation::Bins);
  EXPECT_EQ(out[0], 2);
  EXPECT_EQ(out[1], 6);
  const std::vector<float> rowf = {0.f, 3.f, 9.f};
  std::vector<float> outf(3);
  opticore::resize(ImageView<float>(rowf.data(), 1, 3), OutputImage<float>{outf.data(), 1, 2, 1}, Interpolation::Bins);
  EXPECT_EQ(outf[0], 1.5f);
  EXPECT_EQ(outf[1], 6.f);
  opticore::resize(ImageView<float>(rowf.data(), 1, 2), OutputImage<float>{outf.data(), 1, 3, 1}, Interpolation::Bins);
  EXPECT_EQ(outf, (std::vector<float>{0.f, 1.5f, 3.f}));
  WarpOptions bins;
  bins.interpolation = Interpolation::Bins;
  EXPECT_THROW(opticore::warp_affine(ImageView<float>(rowf.data(), 1, 3), {1, 0, 0, 0, 1, 0},
                                     OutputImage<float>{outf.data(), 1, 3, 1}, bins),
               std::invalid_argument);
}

TEST(CropResize, EachBoxIsResizeOfItsZeroPaddedCrop) {
  const int64_t h = 9, w = 11, c = 3;
  const auto src = ramp(h, w, c);
  const std::vector<int64_t> boxes = {0, 0, 11, 9, 2, 3, 7, 9, -3, -2, 4, 5, 8, 6, 15, 12};
  const int64_t n = 4, oh = 5, ow = 6;
  for (Interpolation interp :
       {Interpolation::Nearest, Interpolation::Linear, Interpolation::Cubic, Interpolation::Area}) {
    std::vector<uint8_t> out(static_cast<size_t>(n * oh * ow * c));
    opticore::crop_resize(ImageView<uint8_t>(src.data(), h, w, c), opticore::MatrixView<int64_t>(boxes.data(), n, 4),
                          out.data(), oh, ow, interp);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t x1 = boxes[i * 4], y1 = boxes[i * 4 + 1], x2 = boxes[i * 4 + 2], y2 = boxes[i * 4 + 3];
      std::vector<uint8_t> crop(static_cast<size_t>((y2 - y1) * (x2 - x1) * c), 0);
      for (int64_t y = y1; y < y2; ++y) {
        for (int64_t x = x1; x < x2; ++x) {
          for (int64_t k = 0; k < c; ++k) {
            if (y >= 0 && y < h && x >= 0 && x < w) {
              crop[((y - y1) * (x2 - x1) + (x - x1)) * c + k] = src[(y * w + x) * c + k];
            }
          }
        }
      }
      std::vector<uint8_t> expected(static_cast<size_t>(oh * ow * c));
      opticore::resize(ImageView<uint8_t>(crop.data(), y2 - y1, x2 - x1, c),
                       OutputImage<uint8_t>{expected.data(), oh, ow, c}, interp);
      EXPECT_EQ(std::vector<uint8_t>(out.begin() + i * oh * ow * c, out.begin() + (i + 1) * oh * ow * c), expected)
          << "box " << i;
    }
  }
  const std::vector<int64_t> empty_box = {3, 3, 3, 5};
  uint8_t one[3];
  EXPECT_THROW(opticore::crop_resize(ImageView<uint8_t>(src.data(), h, w, c),
                                     opticore::MatrixView<int64_t>(empty_box.data(), 1, 4), one, 1, 1),
               std::invalid_argument);
}

TEST(Remap, FarCoordinatesKeepTheirFractionAsOpenCV) {
  // cv::remap quantises cvRound(32 v) in int32 and clamps the pixel to int16 afterwards, so a
  // coordinate beyond +-65536 keeps its 1/32 fraction; clamping first (as before) lost it.
  const std::vector<float> row = {0, 10, 20, 30, 40};
  const std::vector<float> map_x = {70000.5f}, map_y = {0.f};
  float out = -1.f;
  WarpOptions options;
  options.border_mode = BorderMode::Reflect;
  opticore::remap(ImageView<float>(row.data(), 1, 5), opticore::MatrixView<float>(map_x.data(), 1, 1),
                  opticore::MatrixView<float>(map_y.data(), 1, 1), OutputImage<float>{&out, 1, 1, 1}, options);
  // Pixel 70000 is clamped to 32767; 32767 and 32768 reflect (period 10) to 2 and 1.
  EXPECT_FLOAT_EQ(out, 15.f);
}

TEST(Limits, SizesAreCheckedBeforeAllocating) {
  EXPECT_NO_THROW(opticore::check_array_size("dsize", {32768, 32768, 4}, 1));
  try {
    opticore::check_array_size("dsize", {100000, 100000, 4}, 1);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("dsize: expected a result of at most 4 GiB"), std::string::npos) << e.what();
  }
  EXPECT_THROW(opticore::check_array_size("n", {int64_t{1} << 62, int64_t{1} << 62}, 8), std::invalid_argument);
  // resize's working buffers (taps per output column) are checked too, before anything is written.
  const auto src = ramp(4, 4, 1);
  uint8_t out = 0;
  for (Interpolation interp : kAll) {
    EXPECT_THROW(opticore::resize(ImageView<uint8_t>(src.data(), 4, 4, 1),
                                  OutputImage<uint8_t>{&out, 1, int64_t{1} << 30, 1}, interp),
                 std::invalid_argument);
  }
}

TEST(Warp, ArgumentErrorsNameTheArgument) {
  const auto src = ramp(4, 4, 3);
  std::vector<uint8_t> out(4 * 4 * 3);
  const ImageView<uint8_t> image(src.data(), 4, 4, 3);
  const OutputImage<uint8_t> dst{out.data(), 4, 4, 3};
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(
      message([&] { opticore::warp_affine(image, {1, 0, nan, 0, 1, 0}, dst); }).rfind("M: expected finite values", 0),
      0u);
  EXPECT_EQ(message([&] { opticore::warp_affine(image, {1, 2, 0, 2, 4, 0}, dst); }).rfind("M: not invertible", 0), 0u);
  EXPECT_EQ(
      message([&] { opticore::warp_affine(image, {1, 0, 0, 0, 1, 0}, OutputImage<uint8_t>{out.data(), 5, 0, 3}); }),
      "dsize: expected positive width and height, got (0, 5)");
  EXPECT_EQ(message([&] {
              opticore::resize(ImageView<uint8_t>(src.data(), 0, 4, 3), dst);
            }).rfind("image: expected a non-empty image", 0),
            0u);
  EXPECT_EQ(message([&] {
              opticore::resize(ImageView<uint8_t>(src.data(), 1, 1, 5), dst);
            }).rfind("image: expected 1 to 4 channels", 0),
            0u);
  EXPECT_EQ(message([&] {
              opticore::resize(image, OutputImage<uint8_t>{out.data(), 2, 2, 1});
            }).rfind("dst: expected 3 channels", 0),
            0u);
  std::vector<float> m(6);
  const opticore::MatrixView<float> map(m.data(), 2, 3), other(m.data(), 3, 2);
  EXPECT_EQ(message([&] { opticore::remap(image, map, other, dst); }).rfind("map_y: expected shape (2, 3)", 0), 0u);
  EXPECT_EQ(message([&] { opticore::remap(image, map, map, dst); }).rfind("dst: expected 2x3 like the maps", 0), 0u);
  WarpOptions options;
  options.border_value = {nan, 0, 0, 0};
  EXPECT_EQ(message([&] { opticore::warp_affine(image, {1, 0, 0, 0, 1, 0}, dst, options); }).rfind("border_value", 0),
            0u);
}

}  // namespace
