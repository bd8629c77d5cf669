// GIoU / DIoU / CIoU: pairwise values on boxes worked by hand, and the losses' analytic backward
// against central finite differences of the forward (GIoU and DIoU: CIoU holds alpha constant by
// design, so its gradient is not the forward's derivative; tests/python/test_box_losses.py checks
// it against torch's autograd of the same formula, and every loss against torchvision).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <vector>

#include "expect_invalid.hpp"
#include "opticore/opticore.hpp"

namespace {

using opticore::IouVariant;
using opticore::MatrixView;

MatrixView<double> view(std::vector<double>& v) { return {v.data(), static_cast<int64_t>(v.size() / 4), 4, 4, 1}; }

TEST(BoxIouVariant, HandWorkedValues) {
  std::vector<double> a{0, 0, 2, 2};
  std::vector<double> b{2, 0, 4, 2, 1, 0, 3, 2};
  double out[2];
  opticore::box_iou_variant(view(a), view(b), IouVariant::kGeneralized, 0.0, out);
  EXPECT_DOUBLE_EQ(out[0], 0.0);        // touching: IoU 0, hull 8 = union 8
  EXPECT_DOUBLE_EQ(out[1], 1.0 / 3.0);  // IoU 2/6, hull 6 = union
  opticore::box_iou_variant(view(a), view(b), IouVariant::kDistance, 0.0, out);
  EXPECT_DOUBLE_EQ(out[0], -4.0 / 20.0);  // centres 2 apart, hull diagonal^2 16 + 4
  EXPECT_DOUBLE_EQ(out[1], 1.0 / 3.0 - 1.0 / 13.0);
  opticore::box_iou_variant(view(a), view(b), IouVariant::kComplete, 0.0, out);
  EXPECT_DOUBLE_EQ(out[1], 1.0 / 3.0 - 1.0 / 13.0);  // same aspect: v = 0
}

double loss_of(std::vector<double> p, std::vector<double> t, IouVariant variant) {
  double out;
  opticore::box_loss(view(p), view(t), variant, 1e-7, &out);
  return out;
}

TEST(BoxLoss, BackwardMatchesFiniteDifferences) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> coord(0, 20), size(1, 10), noise(-4, 4);
  for (IouVariant variant : {IouVariant::kGeneralized, IouVariant::kDistance}) {
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<double> p{coord(rng), coord(rng), 0, 0};
      p[2] = p[0] + size(rng), p[3] = p[1] + size(rng);
      std::vector<double> t{p[0] + noise(rng), p[1] + noise(rng), p[2] + noise(rng), p[3] + noise(rng)};
      const double grad = 1.5;
      std::vector<double> g1(4), g2(4);
      opticore::box_loss_backward(&grad, view(p), view(t), variant, 1e-7, g1.data(), g2.data());
      for (int k = 0; k < 4; ++k) {
        const double h = 1e-6;
        auto plus = p, minus = p;
        plus[k] += h, minus[k] -= h;
        const double numeric1 = grad * (loss_of(plus, t, variant) - loss_of(minus, t, variant)) / (2 * h);
        auto tplus = t, tminus = t;
        tplus[k] += h, tminus[k] -= h;
        const double numeric2 = grad * (loss_of(p, tplus, variant) - loss_of(p, tminus, variant)) / (2 * h);
        EXPECT_NEAR(g1[k], numeric1, 1e-6) << "trial " << trial << " coordinate " << k;
        EXPECT_NEAR(g2[k], numeric2, 1e-6) << "trial " << trial << " coordinate " << k;
      }
    }
  }
}

TEST(BoxLoss, ArgumentChecks) {
  std::vector<double> a{0, 0, 1, 1};
  std::vector<double> b{0, 0, 1, 1, 0, 0, 2, 2};
  std::vector<double> nan{0, 0, std::nan(""), 1};
  double out[2];
  expect_invalid([&] { opticore::box_loss(view(a), view(b), IouVariant::kDistance, 1e-7, out); }, "boxes2");
  expect_invalid([&] { opticore::box_loss(view(nan), view(a), IouVariant::kDistance, 1e-7, out); }, "boxes1");
  expect_invalid([&] { opticore::box_loss(view(a), view(a), IouVariant::kComplete, -1.0, out); }, "eps");
  expect_invalid([&] { opticore::box_iou_variant(view(a), view(b), IouVariant::kComplete, NAN, out); }, "eps");
  expect_invalid([&] { opticore::iou_variant("gen"); }, "kind");
}

}  // namespace
