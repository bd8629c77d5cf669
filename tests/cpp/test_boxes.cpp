// The box operators against textbook O(N^2) implementations written here, on random,
// clustered, tied and degenerate inputs, plus the argument checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "opticore/opticore.hpp"

namespace {

using opticore::MatrixView;
using opticore::VectorView;

struct Data {
  std::vector<double> boxes;  // N x 4, row-major
  std::vector<double> scores;
  int64_t n() const { return static_cast<int64_t>(scores.size()); }
  MatrixView<double> view() const { return {boxes.data(), n(), 4}; }
  VectorView<double> score_view() const { return {scores.data(), n()}; }
};

// Detector-like: clusters of jittered boxes, a few inverted ones, scores with ties.
Data make_data(int64_t n, unsigned seed, int clusters = 0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Data d;
  std::vector<std::array<double, 4>> centers;
  for (int c = 0; c < clusters; ++c)
    centers.push_back({u(rng) * 900, u(rng) * 900, 20 + u(rng) * 80, 20 + u(rng) * 80});
  for (int64_t i = 0; i < n; ++i) {
    double x, y, w, h;
    if (clusters > 0) {
      const auto& c = centers[static_cast<size_t>(rng() % clusters)];
      x = c[0] + (u(rng) - 0.5) * 10;
      y = c[1] + (u(rng) - 0.5) * 10;
      w = c[2] * (0.8 + 0.4 * u(rng));
      h = c[3] * (0.8 + 0.4 * u(rng));
    } else {
      x = u(rng) * 1000;
      y = u(rng) * 1000;
      w = 5 + u(rng) * 60;
      h = 5 + u(rng) * 60;
    }
    if (i % 37 == 5) w = -w;  // inverted box: zero area
    d.boxes.insert(d.boxes.end(), {x, y, x + w, y + h});
    d.scores.push_back(std::round(u(rng) * 50) / 50);  // coarse: many ties
  }
  return d;
}

double ref_area(const double* b) {
  const double w = b[2] - b[0], h = b[3] - b[1];
  return (w > 0 && h > 0) ? w * h : 0.0;
}

double ref_iou(const double* a, const double* b) {
  const double w = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double h = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0.0;
  const double inter = w * h, uni = ref_area(a) + ref_area(b) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<int64_t> ref_order(const Data& d) {
  std::vector<int64_t> order(static_cast<size_t>(d.n()));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return d.scores[a] > d.scores[b]; });
  return order;
}

std::vector<int64_t> ref_nms(const Data& d, double thr, const std::vector<int64_t>* labels = nullptr) {
  std::vector<int64_t> kept;
  for (int64_t i : ref_order(d)) {
    bool keep = true;
    for (int64_t k : kept) {
      if ((!labels || (*labels)[k] == (*labels)[i]) && ref_iou(&d.boxes[4 * k], &d.boxes[4 * i]) > thr) keep = false;
    }
    if (keep) kept.push_back(i);
  }
  return kept;
}

TEST(BoxIou, MatchesReferenceAndAreaIsClamped) {
  const Data a = make_data(57, 1), b = make_data(33, 2);
  const auto iou = opticore::box_iou(a.view(), b.view());
  const auto area = opticore::box_area(a.view());
  for (int64_t i = 0; i < a.n(); ++i) {
    EXPECT_DOUBLE_EQ(area[i], ref_area(&a.boxes[4 * i]));
    EXPECT_GE(area[i], 0.0);
    for (int64_t j = 0; j < b.n(); ++j) EXPECT_DOUBLE_EQ(iou[i * b.n() + j], ref_iou(&a.boxes[4 * i], &b.boxes[4 * j]));
  }
}

TEST(Nms, MatchesReferenceOnRandomAndClusteredInputs) {
  for (int clusters : {0, 3, 40}) {
    for (double thr : {0.0, 0.3, 0.5, 0.7, 1.0}) {
      const Data d = make_data(700, 10 + clusters, clusters);
      EXPECT_EQ(opticore::nms(d.view(), d.score_view(), thr), ref_nms(d, thr))
          << "clusters=" << clusters << " thr=" << thr;
    }
  }
}

// MTCNN's "Min" overlap: intersection over the smaller box, inclusive pixel sizes.
double ref_overlap_min(const double* a, const double* b) {
  const auto side = [](double lo, double hi) { return std::max(hi - lo + 1.0, 0.0); };
  const double inter =
      side(std::max(a[0], b[0]), std::min(a[2], b[2])) * side(std::max(a[1], b[1]), std::min(a[3], b[3]));
  const double smaller = std::min(side(a[0], a[2]) * side(a[1], a[3]), side(b[0], b[2]) * side(b[1], b[3]));
  return smaller > 0 ? inter / smaller : 0.0;
}

TEST(NmsMin, MatchesReferenceOnRandomAndClusteredInputs) {
  for (int clusters : {0, 3, 40}) {
    for (double thr : {0.0, 0.3, 0.5, 0.7, 1.0}) {
      const Data d = make_data(700, 20 + clusters, clusters);
      std::vector<int64_t> expected;
      for (int64_t i : ref_order(d)) {
        const bool keep = std::none_of(expected.begin(), expected.end(), [&](int64_t k) {
          return ref_overlap_min(&d.boxes[4 * k], &d.boxes[4 * i]) > thr;
        });
        if (keep) expected.push_back(i);
      }
      EXPECT_EQ(opticore::nms_min(d.view(), d.score_view(), thr), expected)
          << "clusters=" << clusters << " thr=" << thr;
    }
  }
  // A nested box has overlap 1: dropped below threshold 1 whatever its size, kept at 1 (strict).
  const std::vector<float> nested = {0, 0, 99, 99, 10, 10, 29, 29};
  const std::vector<float> scores = {0.9f, 0.95f};
  EXPECT_EQ(opticore::nms_min(MatrixView<float>(nested.data(), 2, 4), VectorView<float>(scores.data(), 2), 0.99),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(opticore::nms_min(MatrixView<float>(nested.data(), 2, 4), VectorView<float>(scores.data(), 2), 1.0),
            (std::vector<int64_t>{1, 0}));
  EXPECT_THROW(opticore::nms_min(MatrixView<float>(nested.data(), 2, 4), VectorView<float>(scores.data(), 2), 1.5),
               std::invalid_argument);
}

TEST(Nms, StrictThresholdAndTieOrder) {
  // IoU(0, 1) = 1/3 exactly: box 1 is kept at threshold 1/3 (strict), suppressed below it.
  // Box 2 equals box 0 with the same score: the lower index (0) is visited first and wins.
  const std::vector<double> boxes = {0, 0, 2, 1, 1, 0, 3, 1, 0, 0, 2, 1};
  const std::vector<double> scores = {0.5, 0.5, 0.5};
  MatrixView<double> bv(boxes.data(), 3, 4);
  VectorView<double> sv(scores.data(), 3);
  EXPECT_DOUBLE_EQ(opticore::box_iou(bv, bv)[1], 1.0 / 3.0);
  EXPECT_EQ(opticore::nms(bv, sv, 1.0 / 3.0), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(opticore::nms(bv, sv, 0.33), (std::vector<int64_t>{0}));
}

TEST(Nms, OptionsStridedViewsAndEmpty) {
  const Data d = make_data(300, 7, 10);
  opticore::NmsOptions opts;
  opts.score_threshold = 0.5;
  opts.max_output = 5;
  const auto kept = opticore::nms(d.view(), d.score_view(), 0.5, opts);
  auto ref = ref_nms(d, 0.5);
  ref.erase(std::remove_if(ref.begin(), ref.end(), [&](int64_t i) { return !(d.scores[i] > 0.5); }), ref.end());
  // Dropping low scores first cannot change which high-score boxes survive.
  ref.resize(std::min<size_t>(ref.size(), 5));
  EXPECT_EQ(kept, ref);

  // A transposed (4, N) array read as (N, 4) through strides.
  std::vector<float> transposed(4 * d.n()), scores_f(d.scores.begin(), d.scores.end());
  for (int64_t i = 0; i < d.n(); ++i)
    for (int k = 0; k < 4; ++k) transposed[k * d.n() + i] = static_cast<float>(d.boxes[4 * i + k]);
  MatrixView<float> strided(transposed.data(), d.n(), 4, 1, d.n());
  EXPECT_EQ(opticore::nms(strided, VectorView<float>(scores_f.data(), d.n()), 0.5).size(),
            opticore::nms(strided, VectorView<float>(scores_f.data(), d.n()), 0.5).size());

  EXPECT_TRUE(opticore::nms(MatrixView<double>(nullptr, 0, 4), VectorView<double>(nullptr, 0), 0.5).empty());
}

TEST(BatchedNms, MatchesPerLabelReferenceWithHugeAndNegativeCoordinates) {
  Data d = make_data(900, 3, 20);
  std::vector<int64_t> labels(static_cast<size_t>(d.n()));
  std::mt19937 rng(4);
  for (auto& l : labels) l = static_cast<int64_t>(rng() % 7) - 3;
  for (size_t i = 0; i < d.boxes.size(); ++i) d.boxes[i] = d.boxes[i] * 1e6 - 5e8;  // far beyond float offsets
  EXPECT_EQ(opticore::batched_nms(d.view(), d.score_view(), VectorView<int64_t>(labels.data(), d.n()), 0.5),
            ref_nms(d, 0.5, &labels));
  opticore::set_num_threads(1);
  EXPECT_EQ(opticore::batched_nms(d.view(), d.score_view(), VectorView<int64_t>(labels.data(), d.n()), 0.5),
            ref_nms(d, 0.5, &labels));
  opticore::set_num_threads(2);
}

struct RefSoft {
  std::vector<int64_t> idx;
  std::vector<double> score;
};

RefSoft ref_soft(const Data& d, bool gaussian, double sigma, double nt, double floor) {
  std::vector<double> s = d.scores;
  std::vector<bool> alive(static_cast<size_t>(d.n()));
  for (int64_t i = 0; i < d.n(); ++i) alive[i] = s[i] > floor;
  RefSoft r;
  for (;;) {
    int64_t m = -1;
    for (int64_t i = 0; i < d.n(); ++i)
      if (alive[i] && (m < 0 || s[i] > s[m])) m = i;
    if (m < 0) break;
    r.idx.push_back(m);
    r.score.push_back(s[m]);
    alive[m] = false;
    for (int64_t j = 0; j < d.n(); ++j) {
      if (!alive[j]) continue;
      const double o = ref_iou(&d.boxes[4 * m], &d.boxes[4 * j]);
      if (gaussian)
        s[j] *= std::exp(-(o * o) / sigma);
      else if (o > nt)
        s[j] *= 1 - o;
      if (!(s[j] > floor)) alive[j] = false;
    }
  }
  return r;
}

TEST(SoftNms, MatchesTextbookLoopExactly) {
  for (bool gaussian : {true, false}) {
    for (int clusters : {0, 15}) {
      const Data d = make_data(600, 20 + clusters, clusters);
      opticore::SoftNmsOptions o;
      o.method = gaussian ? opticore::SoftNmsMethod::Gaussian : opticore::SoftNmsMethod::Linear;
      o.score_threshold = 0.05;
      const auto got = opticore::soft_nms(d.view(), d.score_view(), o);
      const RefSoft ref = ref_soft(d, gaussian, o.sigma, o.iou_threshold, o.score_threshold);
      EXPECT_EQ(got.indices, ref.idx);
      EXPECT_EQ(got.scores, ref.score);
    }
  }
}

// Found by fuzzing: boxes at the edges of the double range.
TEST(Boxes, DenormalSizesNeitherCrashNorVanish) {
  // A positive denormal width made the grid's cell scale infinite (a crash).
  const std::vector<double> one = {0, 0, 5e-312, 1.0};
  const std::vector<double> s1 = {1.0};
  const auto soft = opticore::soft_nms(MatrixView<double>(one.data(), 1, 4), VectorView<double>(s1.data(), 1));
  EXPECT_EQ(soft.indices, std::vector<int64_t>{0});
  std::vector<double> many, scores;
  for (int i = 0; i < 64; ++i) many.insert(many.end(), one.begin(), one.end()), scores.push_back(1.0 - i / 64.0);
  EXPECT_EQ(opticore::nms(MatrixView<double>(many.data(), 64, 4), VectorView<double>(scores.data(), 64), 0.5),
            std::vector<int64_t>{0});
  // A box whose area underflows to 0 is still a box: IoU 1 with itself.
  const std::vector<double> tiny = {0, 0, 1e-200, 1e-200, 0, 0, 1e-200, 1e-200};
  EXPECT_EQ(opticore::box_area(MatrixView<double>(tiny.data(), 1, 4))[0], 0.0);
  EXPECT_EQ(opticore::box_iou(MatrixView<double>(tiny.data(), 2, 4), MatrixView<double>(tiny.data(), 2, 4)),
            std::vector<double>(4, 1.0));
}

TEST(Boxes, OverflowingSidesAndAreasAreExact) {
  const std::vector<double> big = {-1e308, -1e308, 1e308, 1e308, -1e308, -1e308, 1e308, 1e308};
  const MatrixView<double> view(big.data(), 2, 4);
  EXPECT_EQ(opticore::box_iou(view, view), std::vector<double>(4, 1.0));  // was 0: inf / inf
  const std::vector<double> scores = {0.9, 0.8};
  EXPECT_EQ(opticore::nms(view, VectorView<double>(scores.data(), 2), 0.5), std::vector<int64_t>{0});
  EXPECT_EQ(opticore::box_area(view)[0], INFINITY);            // 4e616: beyond the double range
  const std::vector<double> wide = {-1e308, 0, 1e308, 1e-10};  // the side overflows, the area does not
  EXPECT_NEAR(opticore::box_area(MatrixView<double>(wide.data(), 1, 4))[0] / 2e298, 1.0, 1e-15);
  // Half of a huge box: IoU 1/2 exactly, although every area is infinite.
  const std::vector<double> halves = {-1.5e308, -1.5e308, 1.5e308, 1.5e308, 0, -1.5e308, 1.5e308, 1.5e308};
  EXPECT_NEAR(
      opticore::box_iou(MatrixView<double>(halves.data(), 1, 4), MatrixView<double>(halves.data() + 4, 1, 4))[0], 0.5,
      1e-15);
}

TEST(Boxes, GridStaysBoundedForAnyCoordinateSpread) {
  // Used to ask for a std::vector beyond max_size(): NaN cell counts from overflowing extents.
  Data d = make_data(300, 21, 5);
  for (int64_t i = 0; i < d.n(); ++i) {
    const double scale = i % 3 == 0 ? 1e-300 : (i % 3 == 1 ? 1e305 : 1.0);
    for (int k = 0; k < 4; ++k) d.boxes[4 * i + k] *= scale;
  }
  d.boxes[0] = -1.7e308, d.boxes[1] = -1.7e308, d.boxes[2] = 1.7e308, d.boxes[3] = 1.7e308;
  // Reference: the textbook loop on opticore's own IoUs (checked exact above).
  const auto iou = opticore::box_iou(d.view(), d.view());
  std::vector<int64_t> expected;
  for (int64_t i : ref_order(d)) {
    bool keep = true;
    for (int64_t k : expected) keep = keep && !(iou[k * d.n() + i] > 0.5);
    if (keep) expected.push_back(i);
  }
  EXPECT_EQ(opticore::nms(d.view(), d.score_view(), 0.5), expected);
}

TEST(Errors, NameTheArgument) {
  const std::vector<double> boxes = {0, 0, 1, 1, 0, 0, NAN, 1};
  const std::vector<double> scores = {1, 2};
  const auto message = [](auto&& call) {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_NE(message([&] {
              opticore::nms(MatrixView<double>(boxes.data(), 2, 4), VectorView<double>(scores.data(), 2), 0.5);
            }).find("boxes: expected finite"),
            std::string::npos);
  EXPECT_NE(message([&] {
              opticore::nms(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 2), 0.5);
            }).find("scores: expected 1 values"),
            std::string::npos);
  EXPECT_NE(message([&] {
              opticore::nms(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 1), 1.5);
            }).find("iou_threshold"),
            std::string::npos);
  EXPECT_NE(message([&] {
              opticore::nms(MatrixView<double>(boxes.data(), 2, 3), VectorView<double>(scores.data(), 2), 0.5);
            }).find("expected shape (N, 4)"),
            std::string::npos);
  opticore::SoftNmsOptions o;
  o.sigma = 0;
  EXPECT_NE(message([&] {
              opticore::soft_nms(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 1), o);
            }).find("sigma"),
            std::string::npos);
}

}  // namespace
