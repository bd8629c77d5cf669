#include "opticore/boxes/iou_variants.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "boxes/detail/box.hpp"
#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"

namespace opticore {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Pair {
  const detail::Box& a;
  const detail::Box& b;
  double iou;
};

double enclosing_area(const Pair& p) {
  return detail::clamped_area(std::min(p.a.x1, p.b.x1), std::min(p.a.y1, p.b.y1), std::max(p.a.x2, p.b.x2),
                              std::max(p.a.y2, p.b.y2));
}

double generalized(const Pair& p) {
  const double enclosing = enclosing_area(p);
  if (!(enclosing > 0.0)) return p.iou;
  const double w = std::min(p.a.x2, p.b.x2) - std::max(p.a.x1, p.b.x1);
  const double h = std::min(p.a.y2, p.b.y2) - std::max(p.a.y1, p.b.y1);
  const double inter = (w > 0.0 && h > 0.0) ? w * h : 0.0;
  return p.iou - (enclosing - (p.a.area + p.b.area - inter)) / enclosing;
}

double distance_penalty(const Pair& p, double eps) {
  const double cw = std::max(p.a.x2, p.b.x2) - std::min(p.a.x1, p.b.x1);
  const double ch = std::max(p.a.y2, p.b.y2) - std::min(p.a.y1, p.b.y1);
  const double dx = 0.5 * (p.a.x1 + p.a.x2) - 0.5 * (p.b.x1 + p.b.x2);
  const double dy = 0.5 * (p.a.y1 + p.a.y2) - 0.5 * (p.b.y1 + p.b.y2);
  return (dx * dx + dy * dy) / (std::max(cw, 0.0) * std::max(cw, 0.0) + std::max(ch, 0.0) * std::max(ch, 0.0) + eps);
}

double aspect_angle(const detail::Box& box) {
  return std::atan2(std::max(box.x2 - box.x1, 0.0), std::max(box.y2 - box.y1, 0.0));
}

double variant_value(const Pair& p, IouVariant variant, double eps) {
  switch (variant) {
    case IouVariant::kGeneralized:
      return generalized(p);
    case IouVariant::kDistance:
      return p.iou - distance_penalty(p, eps);
    case IouVariant::kComplete: {
      const double angle = aspect_angle(p.b) - aspect_angle(p.a);
      const double v = 4.0 / (kPi * kPi) * angle * angle;
      const double alpha = v / (1.0 - p.iou + v + eps);
      return p.iou - distance_penalty(p, eps) - alpha * v;
    }
  }
  return p.iou;
}

}  // namespace

IouVariant iou_variant(const char* text, const char* name) {
  const std::string s = text;
  if (s == "generalized") return IouVariant::kGeneralized;
  if (s == "distance") return IouVariant::kDistance;
  if (s == "complete") return IouVariant::kComplete;
  throw std::invalid_argument(std::string(name) + ": expected 'generalized', 'distance' or 'complete', got '" + s +
                              "'");
}

template <class T>
void box_iou_variant(MatrixView<T> a, MatrixView<T> b, IouVariant variant, double eps, T* out) {
  detail::check_boxes(a, "boxes1");
  detail::check_boxes(b, "boxes2");
  if (!(eps >= 0.0) || !std::isfinite(eps)) detail::fail("eps: expected a finite number >= 0, got ", eps);
  std::vector<detail::Box> bs;
  bs.reserve(static_cast<size_t>(b.rows));
  for (int64_t j = 0; j < b.rows; ++j) bs.push_back(detail::load_box(b, j));
  const int64_t m = b.rows;
  const int64_t rows_per_chunk = std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(m, 1));
  detail::parallel_for(a.rows, rows_per_chunk, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const detail::Box box = detail::load_box(a, i);
      T* row = out + i * m;
      for (int64_t j = 0; j < m; ++j) {
        const detail::Box& other = bs[static_cast<size_t>(j)];
        row[j] = static_cast<T>(variant_value(Pair{box, other, detail::iou(box, other)}, variant, eps));
      }
    }
  });
}

template void box_iou_variant(MatrixView<float>, MatrixView<float>, IouVariant, double, float*);
template void box_iou_variant(MatrixView<double>, MatrixView<double>, IouVariant, double, double*);

}  // namespace opticore
