// Tracking: the real FFTs against a direct DFT, peak location, and the trackers following a
// translated and a zoomed procedural texture; the argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "expect_invalid.hpp"
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
using opticore::Tracker;
using opticore::TrackResult;
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
  // PSR: (peak - mean) / std (population std, over n) of every cell whose wrapped distance to the
  // peak cell exceeds 2 in rows or columns. A variance over n - 1 would be off by 1 / (2n) = 1.7e-3.
  const auto top = std::max_element(response.begin(), response.end()) - response.begin();
  const int64_t pr = top / cols, pc = top % cols;
  const auto distance = [](int64_t a, int64_t b, int64_t n) {
    const int64_t d = ((a - b) % n + n) % n;
    return std::min(d, n - d);
  };
  std::vector<double> side;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (distance(r, pr, rows) > 2 || distance(c, pc, cols) > 2) side.push_back(response[r * cols + c]);
    }
  }
  ASSERT_EQ(side.size(), static_cast<size_t>(rows * cols - 25));
  double mean = 0.0, var = 0.0;
  for (const double v : side) mean += v / static_cast<double>(side.size());
  for (const double v : side) var += (v - mean) * (v - mean) / static_cast<double>(side.size());
  const double expected = (response[top] - mean) / std::sqrt(var);
  EXPECT_NEAR(peak.psr, expected, 1e-9 * expected);
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
  expect_invalid([&] { kcf.init(frame, TrackBox{0, 0, 0, 10}); }, "box");
  expect_invalid([&] { kcf.init(frame, TrackBox{70, 0, 10, 10}); }, "box");
  expect_invalid([&] { kcf.init(frame, TrackBox{0, 0, NAN, 10}); }, "box");
  expect_invalid([&] { kcf.init(ImageView<uint8_t>(img.data(), 25, 30, 2), TrackBox{0, 0, 10, 10}); }, "image");
  EXPECT_FALSE(kcf.initialized());
  kcf.init(frame, TrackBox{10, 10, 20, 20});
  const auto r = kcf.update(frame);  // a flat frame: no crash, no confidence
  EXPECT_FALSE(r.ok);
}

TEST(Trackers, ParameterErrorsNameTheParameter) {
  // The names are the Python API's (no internal `lambda` / `scale_lambda`).
  const auto kcf_with = [](auto set) {
    return [set] {
      KcfParams p;
      set(p);
      KcfTracker{p};
    };
  };
  expect_invalid(kcf_with([](KcfParams& p) { p.padding = -1; }), "padding");
  expect_invalid(kcf_with([](KcfParams& p) { p.regularization = 0; }), "regularization");
  expect_invalid(kcf_with([](KcfParams& p) { p.output_sigma_factor = NAN; }), "output_sigma_factor");
  expect_invalid(kcf_with([](KcfParams& p) { p.scale_regularization = -1; }), "scale_regularization");
  expect_invalid(kcf_with([](KcfParams& p) { p.scale_sigma_factor = 0; }), "scale_sigma_factor");
  expect_invalid(kcf_with([](KcfParams& p) { p.cell_size = 1; }), "cell_size");  // FHOG needs >= 2
  opticore::MosseParams mosse;
  mosse.sigma = 0;
  expect_invalid([&] { MosseTracker{mosse}; }, "sigma");
  mosse = {};
  mosse.regularization = -1;
  expect_invalid([&] { MosseTracker{mosse}; }, "regularization");
}

std::vector<std::unique_ptr<Tracker>> both_trackers() {
  std::vector<std::unique_ptr<Tracker>> trackers;
  trackers.push_back(std::make_unique<MosseTracker>());
  trackers.push_back(std::make_unique<KcfTracker>());
  return trackers;
}

TEST(Trackers, OneInterfaceForEveryTracker) {
  // MOSSE and KCF behind opticore::Tracker: the base checks, forwards and keeps the last result.
  const int64_t h = 160, w = 200;
  const auto first = scene(h, w, 0, 0, 1), next = scene(h, w, 2, 1, 1);
  for (auto& tracker : both_trackers()) {
    EXPECT_FALSE(tracker->initialized());
    EXPECT_EQ(tracker->reach().width, 0.0);  // nothing to read before init
    tracker->init(ImageView<uint8_t>(first.data(), h, w), TrackBox{80, 60, 40, 40});
    EXPECT_TRUE(tracker->initialized());
    EXPECT_EQ(tracker->score(), 0.0);
    EXPECT_EQ(tracker->box().x, 80.0);
    // A float frame through the same interface.
    const std::vector<float> next_f(next.begin(), next.end());
    const auto r = tracker->update(ImageView<float>(next_f.data(), h, w));
    EXPECT_TRUE(r.ok);
    EXPECT_NEAR(r.box.x + (r.box.width - 1) / 2, 82.0 + 19.5, 0.5);  // the centre moved by (2, 1)
    EXPECT_NEAR(r.box.y + (r.box.height - 1) / 2, 61.0 + 19.5, 0.5);
    EXPECT_EQ(tracker->score(), r.score);
    EXPECT_EQ(tracker->box().x, r.box.x);
    EXPECT_EQ(tracker->last().ok, r.ok);
  }
}

TEST(Trackers, NonFiniteFramesAreRejected) {
  const int64_t h = 120, w = 160;
  const auto textured = scene(h, w, 0, 0, 1);
  const std::vector<float> good(textured.begin(), textured.end());
  const TrackBox box{20, 20, 24, 24};
  for (const float bad : {std::nanf(""), INFINITY}) {
    std::vector<float> all_bad(h * w, bad), on_target = good, far_away = good;
    on_target[31 * w + 33] = bad;
    far_away[110 * w + 150] = bad;  // beyond what update reads (Tracker::reach)
    auto trackers = both_trackers(), twins = both_trackers();
    for (size_t k = 0; k < trackers.size(); ++k) {
      Tracker& tracker = *trackers[k];
      expect_invalid([&] { tracker.init(ImageView<float>(all_bad.data(), h, w), box); }, "image");
      expect_invalid([&] { tracker.init(ImageView<float>(far_away.data(), h, w), box); }, "image");  // init: all
      EXPECT_FALSE(tracker.initialized());
      tracker.init(ImageView<float>(good.data(), h, w), box);
      // KCF used to report ok on an all-NaN frame; now the frame is refused and the state kept.
      expect_invalid([&] { tracker.update(ImageView<float>(all_bad.data(), h, w)); }, "image");
      expect_invalid([&] { tracker.update(ImageView<float>(on_target.data(), h, w)); }, "image");
      EXPECT_TRUE(tracker.initialized());
      EXPECT_EQ(tracker.box().x, box.x);
      // A pixel the tracker never reads does not matter: the same result as on the clean frame.
      twins[k]->init(ImageView<float>(good.data(), h, w), box);
      const auto r = tracker.update(ImageView<float>(far_away.data(), h, w));
      const auto want = twins[k]->update(ImageView<float>(good.data(), h, w));
      EXPECT_TRUE(r.ok);
      EXPECT_EQ(r.box.x, want.box.x);
      EXPECT_EQ(r.box.y, want.box.y);
      EXPECT_EQ(r.score, want.score);
    }
  }
}

TEST(Trackers, UpdateReadsNothingBeyondItsReach) {
  // Pixels outside reach() (clipped to the frame as update's check clips it) set to NaN: if
  // update read any of them, its result would differ from the one on the clean frame. Large
  // jumps, noise frames and a threshold that accepts every peak make the trackers move far (the
  // peak anywhere in the window, any scale of the pyramid) and learn there. (MOSSE's bound is
  // tight: 0.75 instead of 1.0 region fails here; KCF's leaves the pyramid's slack.)
  const int64_t h = 240, w = 320;
  opticore::MosseParams mosse;
  mosse.psr_threshold = -1e9;
  KcfParams hog, wide_pyramid, gray;  // wide pyramid: scale samples larger than the window
  hog.psr_threshold = wide_pyramid.psr_threshold = gray.psr_threshold = -1e9;
  wide_pyramid.padding = 0;
  wide_pyramid.scale_step = 1.05;
  gray.features = opticore::KcfFeatures::Gray;
  const auto make = [&] {
    std::vector<std::unique_ptr<Tracker>> list;
    list.push_back(std::make_unique<MosseTracker>(mosse));
    list.push_back(std::make_unique<KcfTracker>(hog));
    list.push_back(std::make_unique<KcfTracker>(wide_pyramid));
    list.push_back(std::make_unique<KcfTracker>(gray));
    return list;
  };
  auto clean = make(), masked = make();
  const auto range = [](double start, double length, int64_t size) {
    const double lo = std::clamp(std::floor(start), 0.0, size - 1.0);
    return std::pair<double, double>{lo, std::clamp(std::ceil(start + length - 1), lo, size - 1.0)};
  };
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> grey(0, 255);
  for (size_t k = 0; k < clean.size(); ++k) {
    const auto first = scene(h, w, 0, 0, 1);
    const std::vector<float> pixels0(first.begin(), first.end());
    clean[k]->init(ImageView<float>(pixels0.data(), h, w), TrackBox{140, 102, 40, 36});
    masked[k]->init(ImageView<float>(pixels0.data(), h, w), TrackBox{140, 102, 40, 36});
    const double window = k == 1 || k == 3 ? 2.5 : 1.0;  // KCF's padding 1.5
    for (int t = 0; t < 12; ++t) {
      // The scene jumps back and forth by 0.3 of the search window (the trackers follow and
      // learn there); the last frames are noise (peaks and scales at random).
      const double jump = t % 2 == 0 ? 0.3 * window : 0.0;
      const auto frame = scene(h, w, jump * 40, -jump * 12, 1);
      std::vector<float> pixels(frame.begin(), frame.end());
      if (t >= 8) {
        for (auto& p : pixels) p = grey(rng);
      }
      const TrackBox reach = masked[k]->reach();
      const auto [x0, x1] = range(reach.x, reach.width, w);
      const auto [y0, y1] = range(reach.y, reach.height, h);
      std::vector<float> outside_nan = pixels;
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < w; ++x) {
          if (x < x0 || x > x1 || y < y0 || y > y1) outside_nan[y * w + x] = NAN;
        }
      }
      const auto want = clean[k]->update(ImageView<float>(pixels.data(), h, w));
      const auto got = masked[k]->update(ImageView<float>(outside_nan.data(), h, w));
      ASSERT_EQ(got.score, want.score) << "tracker " << k << " frame " << t;
      ASSERT_EQ(got.box.x, want.box.x) << "tracker " << k << " frame " << t;
      ASSERT_EQ(got.box.width, want.box.width) << "tracker " << k << " frame " << t;
    }
  }
}

TEST(Trackers, BoxesOfExtremeAspectRatioAreRejectedUpFront) {
  // These ran into std::bad_alloc (1e12), failed on an internal image (1e6) or tracked to
  // y = 1.4e145 (1e300); each now fails at once, naming the box.
  const int64_t h = 60, w = 80;
  const auto pixels = scene(h, w, 0, 0, 1);
  const ImageView<uint8_t> frame(pixels.data(), h, w);
  for (const TrackBox box : {TrackBox{0, 0, 1e12, 1}, TrackBox{0, 0, 1e6, 1}, TrackBox{0, 0, 1e300, 1},
                             TrackBox{0, 0, 1, 1e9}, TrackBox{0, 0, 161, 10}, TrackBox{0, 0, 10, 121}}) {
    MosseTracker mosse;
    KcfTracker kcf;
    expect_invalid([&] { mosse.init(frame, box); }, "box");
    expect_invalid([&] { kcf.init(frame, box); }, "box");
  }
  // Up to twice the frame, and as thin as 1 pixel, is tracked: the boxes stay finite.
  for (const TrackBox box : {TrackBox{-80, -60, 160, 120}, TrackBox{0, 30, 160, 1}, TrackBox{40, -60, 1, 120}}) {
    for (auto& tracker : both_trackers()) {
      tracker->init(frame, box);
      for (int t = 0; t < 3; ++t) {
        const auto r = tracker->update(frame);
        EXPECT_TRUE(std::isfinite(r.box.x) && std::isfinite(r.box.y));
        EXPECT_LT(std::abs(r.box.x - box.x), 2 * w);
        EXPECT_LT(std::abs(r.box.y - box.y), 2 * h);
      }
    }
  }
}

}  // namespace
