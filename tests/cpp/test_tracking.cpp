// Tracking: the real FFTs against a direct DFT, peak location, and the trackers following a
// translated and a zoomed procedural texture; the argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "opticore/opticore.hpp"
#include "tracking/detail/correlation.hpp"
#include "tracking/detail/fft.hpp"

namespace {

using opticore::ImageView;
using opticore::KcfParams;
using opticore::KcfScale;
using opticore::KcfTracker;
using opticore::MosseTracker;
using opticore::TrackBox;
using Complex = std::complex<double>;

constexpr double kPi = 3.14159265358979323846;

std::vector<float> random_signal(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& e : v) e = u(rng);
  return v;
}

/// X[k, l] = sum x[r, c] exp(-2 pi i (k r / rows + l c / cols)), for l <= cols / 2.
Complex direct_dft(const std::vector<float>& x, int64_t rows, int64_t cols, int64_t k, int64_t l) {
  Complex sum = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double phase = -2.0 * kPi * (static_cast<double>(k * r) / rows + static_cast<double>(l * c) / cols);
      sum += static_cast<double>(x[r * cols + c]) * Complex(std::cos(phase), std::sin(phase));
    }
  }
  return sum;
}

TEST(Fft, TwoDimensionalMatchesTheDirectTransformAndInverts) {
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{6, 8}, {9, 10}, {1, 12}, {15, 4}}) {
    opticore::detail::Fft2d fft(rows, cols);
    auto x = random_signal(rows * cols, static_cast<uint32_t>(rows * 100 + cols));
    std::vector<opticore::detail::Complex> spectrum(fft.spectrum_size());
    fft.forward(x.data(), spectrum.data());
    for (int64_t k = 0; k < rows; ++k) {
      for (int64_t l = 0; l <= cols / 2; ++l) {
        const Complex want = direct_dft(x, rows, cols, k, l);
        const auto got = spectrum[k * fft.spectrum_cols() + l];
        EXPECT_NEAR(got.real(), want.real(), 1e-4) << rows << "x" << cols << " at " << k << "," << l;
        EXPECT_NEAR(got.imag(), want.imag(), 1e-4) << rows << "x" << cols << " at " << k << "," << l;
      }
    }
    std::vector<float> back(x.size());
    fft.inverse(spectrum.data(), back.data());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(back[i], x[i], 1e-5);
  }
}

TEST(Fft, OneDimensionalOddLength) {
  opticore::detail::Fft1d fft(33);
  auto x = random_signal(33, 7);
  std::vector<opticore::detail::Complex> spectrum(fft.spectrum_size());
  fft.forward(x.data(), spectrum.data());
  for (int64_t l = 0; l < fft.spectrum_size(); ++l) {
    const Complex want = direct_dft(x, 1, 33, 0, l);
    EXPECT_NEAR(spectrum[l].real(), want.real(), 1e-4);
    EXPECT_NEAR(spectrum[l].imag(), want.imag(), 1e-4);
  }
  std::vector<float> back(33);
  fft.inverse(spectrum.data(), back.data());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(back[i], x[i], 1e-5);
}

TEST(Fft, FastSizes) {
  EXPECT_EQ(opticore::detail::fft_size_at_least(95, 4), 96);
  EXPECT_EQ(opticore::detail::fft_size_at_least(7, 1), 8);
  EXPECT_EQ(opticore::detail::fft_size_at_least(31, 2), 32);
  EXPECT_EQ(opticore::detail::fft_size_at_least(121, 1), 125);
}

TEST(Correlation, PeakIsWrappedAndRefined) {
  // A parabola peaking at (-2.3, 1.4) on a 16 x 20 circle (exact for the parabola fit).
  const int64_t rows = 16, cols = 20;
  std::vector<float> response(rows * cols, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double dr = std::remainder(r + 2.3, rows), dc = std::remainder(c - 1.4, cols);
      response[r * cols + c] = static_cast<float>(std::max(0.0, 10.0 - dr * dr - dc * dc));
    }
  }
  const auto peak = opticore::detail::locate_peak(response.data(), rows, cols, 2);
  EXPECT_NEAR(peak.dy, -2.3, 1e-4);
  EXPECT_NEAR(peak.dx, 1.4, 1e-4);
  EXPECT_GT(peak.psr, 1.0);
}

/// A textured test scene (coarse and fine detail): sums of sinusoids, sampled at (x - dx) / zoom.
std::vector<uint8_t> scene(int64_t h, int64_t w, double dx, double dy, double zoom) {
  std::vector<uint8_t> img(static_cast<size_t>(h * w));
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const double u = (x - w / 2.0 - dx) / zoom, v = (y - h / 2.0 - dy) / zoom;
      const double s = std::sin(u * 0.21 + 0.3 * std::sin(v * 0.05)) + std::cos(v * 0.17 - u * 0.07) +
                       0.7 * std::sin((u + v) * 0.11) * std::cos(u * 0.031 - v * 0.09) +
                       0.6 * std::sin(u * 0.63 + v * 0.41) * std::cos(u * 0.37 - v * 0.83);
      img[y * w + x] = static_cast<uint8_t>(std::lround(127.5 + 40.0 * s));
    }
  }
  return img;
}

template <class Tracker>
void expect_follows_translation(Tracker& tracker, double tolerance) {
  const int64_t h = 160, w = 200;
  auto first = scene(h, w, 0, 0, 1);
  tracker.init(ImageView<uint8_t>(first.data(), h, w), TrackBox{80, 60, 40, 40});
  for (int t = 1; t <= 10; ++t) {
    auto frame = scene(h, w, 1.5 * t, -0.75 * t, 1);
    const auto r = tracker.update(ImageView<uint8_t>(frame.data(), h, w));
    EXPECT_TRUE(r.ok) << "frame " << t << " psr " << r.score;
    EXPECT_NEAR(r.box.x, 80 + 1.5 * t, tolerance) << "frame " << t;
    EXPECT_NEAR(r.box.y, 60 - 0.75 * t, tolerance) << "frame " << t;
  }
}

TEST(Mosse, FollowsATranslation) {
  // MOSSE sees only the box (no padding): its Hann window pulls the peak towards zero motion by
  // a fraction of a pixel per frame, which it recovers on the next frames.
  MosseTracker tracker;
  expect_follows_translation(tracker, 1.0);
}

TEST(Kcf, FollowsATranslation) {
  KcfParams params;
  params.scale = KcfScale::None;
  KcfTracker tracker(params);
  expect_follows_translation(tracker, 0.5);
}

TEST(Kcf, DsstFollowsAZoom) {
  const int64_t h = 200, w = 240;
  KcfTracker tracker;
  auto first = scene(h, w, 0, 0, 1);
  tracker.init(ImageView<uint8_t>(first.data(), h, w), TrackBox{100, 80, 40, 40});
  double zoom = 1;
  for (int t = 1; t <= 20; ++t) {
    zoom *= 1.02;
    auto frame = scene(h, w, 0, 0, zoom);
    tracker.update(ImageView<uint8_t>(frame.data(), h, w));
  }
  EXPECT_NEAR(tracker.last().box.width / (40 * zoom), 1.0, 0.08);
}

TEST(Trackers, ArgumentChecks) {
  std::vector<uint8_t> img(50 * 60, 128);
  const ImageView<uint8_t> frame(img.data(), 50, 60);
  KcfTracker kcf;
  EXPECT_THROW(kcf.update(frame), std::logic_error);
  EXPECT_THROW(kcf.init(frame, TrackBox{0, 0, 0, 10}), std::invalid_argument);
  EXPECT_THROW(kcf.init(frame, TrackBox{70, 0, 10, 10}), std::invalid_argument);
  EXPECT_THROW(kcf.init(frame, TrackBox{0, 0, NAN, 10}), std::invalid_argument);
  EXPECT_THROW(kcf.init(ImageView<uint8_t>(img.data(), 25, 30, 2), TrackBox{0, 0, 10, 10}), std::invalid_argument);
  KcfParams bad;
  bad.padding = -1;
  EXPECT_THROW(KcfTracker{bad}, std::invalid_argument);
  opticore::MosseParams bad_mosse;
  bad_mosse.sigma = 0;
  EXPECT_THROW(MosseTracker{bad_mosse}, std::invalid_argument);
  kcf.init(frame, TrackBox{10, 10, 20, 20});
  const auto r = kcf.update(frame);  // a flat frame: no crash, no confidence
  EXPECT_FALSE(r.ok);
}

}  // namespace
