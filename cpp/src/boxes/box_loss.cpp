#include "opticore/boxes/box_loss.hpp"

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"

namespace opticore {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kAspectScale = 4.0 / (kPi * kPi);

using Coords = std::array<double, 4>;  // x1, y1, x2, y2

/// max(a, b) and where its gradient goes: (1, 0), (0, 1) or (1/2, 1/2) on a tie, as torch.maximum.
struct Pick {
  double value, to_a, to_b;
};
Pick pick_max(double a, double b) { return a > b ? Pick{a, 1, 0} : a < b ? Pick{b, 0, 1} : Pick{a, 0.5, 0.5}; }
Pick pick_min(double a, double b) { return a < b ? Pick{a, 1, 0} : a > b ? Pick{b, 0, 1} : Pick{a, 0.5, 0.5}; }

/// atan(w / h) with its partial derivatives; h = 0 gives +-pi/2 (0 for w = 0) and no gradient.
struct Angle {
  double value, d_w, d_h;
};
Angle aspect_angle(double w, double h) {
  if (h == 0.0) return {w > 0.0 ? kPi / 2 : w < 0.0 ? -kPi / 2 : 0.0, 0.0, 0.0};
  const double r2 = w * w + h * h;
  return {std::atan(w / h), h / r2, -w / r2};
}

/// One pair's loss and, when `g1` / `g2` are given, d loss / d coordinates times `grad`.
double pair_loss(const Coords& p, const Coords& t, IouVariant variant, double eps, double grad, Coords* g1,
                 Coords* g2) {
  // Intersection and union, with signed sizes.
  const Pick ix1 = pick_max(p[0], t[0]), iy1 = pick_max(p[1], t[1]);
  const Pick ix2 = pick_min(p[2], t[2]), iy2 = pick_min(p[3], t[3]);
  const double iw = ix2.value - ix1.value, ih = iy2.value - iy1.value;
  const bool overlap = iw > 0.0 && ih > 0.0;
  const double inter = overlap ? iw * ih : 0.0;
  const double pw = p[2] - p[0], ph = p[3] - p[1], tw = t[2] - t[0], th = t[3] - t[1];
  const double union_area = pw * ph + tw * th - inter;
  const double iou = inter / (union_area + eps);
  // Enclosing box.
  const Pick cx1 = pick_min(p[0], t[0]), cy1 = pick_min(p[1], t[1]);
  const Pick cx2 = pick_max(p[2], t[2]), cy2 = pick_max(p[3], t[3]);
  const double cw = cx2.value - cx1.value, ch = cy2.value - cy1.value;

  double loss = 1.0 - iou;
  // Gradients of the loss by the intermediate quantities, filled per variant.
  double d_inter = -1.0 / (union_area + eps), d_union = inter / ((union_area + eps) * (union_area + eps));
  double d_cw = 0.0, d_ch = 0.0, d_dx = 0.0, d_dy = 0.0, d_pw = 0.0, d_ph = 0.0, d_tw = 0.0, d_th = 0.0;
  double dx = 0.0, dy = 0.0;
  if (variant == IouVariant::kGeneralized) {
    const double enclosing = cw * ch;
    loss += (enclosing - union_area) / (enclosing + eps);
    const double d_enclosing = (union_area + eps) / ((enclosing + eps) * (enclosing + eps));
    d_union -= 1.0 / (enclosing + eps);
    d_cw = d_enclosing * ch, d_ch = d_enclosing * cw;
  } else {
    const double diagonal = cw * cw + ch * ch + eps;
    dx = 0.5 * (p[0] + p[2]) - 0.5 * (t[0] + t[2]);
    dy = 0.5 * (p[1] + p[3]) - 0.5 * (t[1] + t[3]);
    const double centres = dx * dx + dy * dy;
    loss += centres / diagonal;
    const double d_diagonal = -centres / (diagonal * diagonal);
    d_cw = d_diagonal * 2.0 * cw, d_ch = d_diagonal * 2.0 * ch;
    d_dx = 2.0 * dx / diagonal, d_dy = 2.0 * dy / diagonal;
    if (variant == IouVariant::kComplete) {
      const Angle ap = aspect_angle(pw, ph), at = aspect_angle(tw, th);
      const double gap = at.value - ap.value;
      const double v = kAspectScale * gap * gap;
      const double alpha = v / (1.0 - iou + v + eps);
      loss += alpha * v;
      const double d_gap = alpha * kAspectScale * 2.0 * gap;  // alpha held constant
      d_pw = -d_gap * ap.d_w, d_ph = -d_gap * ap.d_h;
      d_tw = d_gap * at.d_w, d_th = d_gap * at.d_h;
    }
  }
  if (g1 == nullptr) return loss;

  // inter depends on union too (union = areas - inter).
  d_inter -= d_union;
  const double d_iw = overlap ? grad * d_inter * ih : 0.0, d_ih = overlap ? grad * d_inter * iw : 0.0;
  d_pw = grad * (d_pw + d_union * ph), d_ph = grad * (d_ph + d_union * pw);
  d_tw = grad * (d_tw + d_union * th), d_th = grad * (d_th + d_union * tw);
  d_cw *= grad, d_ch *= grad, d_dx *= grad, d_dy *= grad;
  Coords& a = *g1;
  Coords& b = *g2;
  a = {-d_pw, -d_ph, d_pw, d_ph};
  b = {-d_tw, -d_th, d_tw, d_th};
  // x1 / y1: intersection start (max), enclosing start (min); x2 / y2: their ends.
  a[0] += -d_iw * ix1.to_a - d_cw * cx1.to_a + 0.5 * d_dx, b[0] += -d_iw * ix1.to_b - d_cw * cx1.to_b - 0.5 * d_dx;
  a[1] += -d_ih * iy1.to_a - d_ch * cy1.to_a + 0.5 * d_dy, b[1] += -d_ih * iy1.to_b - d_ch * cy1.to_b - 0.5 * d_dy;
  a[2] += d_iw * ix2.to_a + d_cw * cx2.to_a + 0.5 * d_dx, b[2] += d_iw * ix2.to_b + d_cw * cx2.to_b - 0.5 * d_dx;
  a[3] += d_ih * iy2.to_a + d_ch * cy2.to_a + 0.5 * d_dy, b[3] += d_ih * iy2.to_b + d_ch * cy2.to_b - 0.5 * d_dy;
  return loss;
}

template <class T>
Coords row(const MatrixView<T>& boxes, int64_t i) {
  return {static_cast<double>(boxes(i, 0)), static_cast<double>(boxes(i, 1)), static_cast<double>(boxes(i, 2)),
          static_cast<double>(boxes(i, 3))};
}

template <class T>
void check_pairs(const MatrixView<T>& boxes1, const MatrixView<T>& boxes2, double eps) {
  detail::check_boxes(boxes1, "boxes1");
  detail::check_boxes(boxes2, "boxes2");
  if (boxes1.rows != boxes2.rows)
    detail::fail("boxes2: expected as many boxes as boxes1 (", boxes1.rows, "), got ", boxes2.rows);
  if (!(eps >= 0.0) || !std::isfinite(eps)) detail::fail("eps: expected a finite number >= 0, got ", eps);
}

constexpr int64_t kPairsPerChunk = 4096;

}  // namespace

template <class T>
void box_loss(MatrixView<T> boxes1, MatrixView<T> boxes2, IouVariant variant, double eps, T* out) {
  check_pairs(boxes1, boxes2, eps);
  detail::parallel_for(boxes1.rows, kPairsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = static_cast<T>(pair_loss(row(boxes1, i), row(boxes2, i), variant, eps, 0.0, nullptr, nullptr));
  });
}

template <class T>
void box_loss_backward(const T* grad, MatrixView<T> boxes1, MatrixView<T> boxes2, IouVariant variant, double eps,
                       T* grad1, T* grad2) {
  check_pairs(boxes1, boxes2, eps);
  detail::parallel_for(boxes1.rows, kPairsPerChunk, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      Coords g1{}, g2{};
      pair_loss(row(boxes1, i), row(boxes2, i), variant, eps, static_cast<double>(grad[i]), &g1, &g2);
      for (int k = 0; k < 4; ++k) grad1[i * 4 + k] = static_cast<T>(g1[k]), grad2[i * 4 + k] = static_cast<T>(g2[k]);
    }
  });
}

template void box_loss(MatrixView<float>, MatrixView<float>, IouVariant, double, float*);
template void box_loss(MatrixView<double>, MatrixView<double>, IouVariant, double, double*);
template void box_loss_backward(const float*, MatrixView<float>, MatrixView<float>, IouVariant, double, float*, float*);
template void box_loss_backward(const double*, MatrixView<double>, MatrixView<double>, IouVariant, double, double*,
                                double*);

}  // namespace opticore
