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
  for (int c = 0; c < clusters; ++c) centers.push_back({u(rng) * 900, u(rng) * 900, 20 + u(rng) * 80, 20 + u(rng) * 80});
  for (int64_t i = 0; i < n; ++i) {
    double x, y, w, h;
    if (clusters > 0) {
      const auto& c = centers[static_cast<size_t>(rng() % clusters)];
      x = c[0] + (u(rng) - 0.5) * 10; y = c[1] + (u(rng) - 0.5) * 10;
      w = c[2] * (0.8 + 0.4 * u(rng)); h = c[3] * (0.8 + 0.4 * u(rng));
    } else {
      x = u(rng) * 1000; y = u(rng) * 1000; w = 5 + u(rng) * 60; h = 5 + u(rng) * 60;
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
  for (int64_t i = 0; i < d.n(); ++i) for (int k = 0; k < 4; ++k) transposed[k * d.n() + i] = static_cast<float>(d.boxes[4 * i + k]);
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
    for (int64_t i = 0; i < d.n(); ++i) if (alive[i] && (m < 0 || s[i] > s[m])) m = i;
    if (m < 0) break;
    r.idx.push_back(m);
    r.score.push_back(s[m]);
    alive[m] = false;
    for (int64_t j = 0; j < d.n(); ++j) {
      if (!alive[j]) continue;
      const double o = ref_iou(&d.boxes[4 * m], &d.boxes[4 * j]);
      if (gaussian) s[j] *= std::exp(-(o * o) / sigma);
      else if (o > nt) s[j] *= 1 - o;
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

TEST(Errors, NameTheArgument) {
  const std::vector<double> boxes = {0, 0, 1, 1, 0, 0, NAN, 1};
  const std::vector<double> scores = {1, 2};
  const auto message = [](auto&& call) {
    try { call(); } catch (const std::invalid_argument& e) { return std::string(e.what()); }
    return std::string("no exception");
  };
  EXPECT_NE(message([&] { opticore::nms(MatrixView<double>(boxes.data(), 2, 4), VectorView<double>(scores.data(), 2), 0.5); })
                .find("boxes: expected finite"), std::string::npos);
  EXPECT_NE(message([&] { opticore::nms(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 2), 0.5); })
                .find("scores: expected 1 values"), std::string::npos);
  EXPECT_NE(message([&] { opticore::nms(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 1), 1.5); })
                .find("iou_threshold"), std::string::npos);
  EXPECT_NE(message([&] { opticore::nms(MatrixView<double>(boxes.data(), 2, 3), VectorView<double>(scores.data(), 2), 0.5); })
                .find("expected shape (N, 4)"), std::string::npos);
  opticore::SoftNmsOptions o;
  o.sigma = 0;
  EXPECT_NE(message([&] { opticore::soft_nms(MatrixView<double>(boxes.data(), 1, 4), VectorView<double>(scores.data(), 1), o); })
                .find("sigma"), std::string::npos);
}

}  // namespace
