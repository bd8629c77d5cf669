#include "opticore/runtime/liveness_detector.hpp"

#include <ATen/ops/softmax.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "detail/face_inputs.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::runtime {
namespace {

// opticore.face_crop_boxes for one face box (x, y, w, h) in a W x H image: scaled about its
// centre (capped so it fits), shifted inside, corners truncated, far corner inclusive.
std::array<int64_t, 4> context_box(double x, double y, double w, double h, int64_t W, int64_t H, double scale) {
  const double s = std::min({(static_cast<double>(H) - 1) / h, (static_cast<double>(W) - 1) / w, scale});
  const double cx = x + w / 2, cy = y + h / 2;
  double x1 = cx - w * s / 2, y1 = cy - h * s / 2, x2 = cx + w * s / 2, y2 = cy + h * s / 2;
  if (x1 < 0) x2 -= x1, x1 = 0;
  if (y1 < 0) y2 -= y1, y1 = 0;
  if (x2 > W - 1) x1 -= x2 - (W - 1), x2 = W - 1;
  if (y2 > H - 1) y1 -= y2 - (H - 1), y2 = H - 1;
  const double bx1 = std::clamp(std::trunc(x1), 0.0, static_cast<double>(W - 1));
  const double by1 = std::clamp(std::trunc(y1), 0.0, static_cast<double>(H - 1));
  const double bx2 = std::clamp(std::trunc(x2) + 1, bx1 + 1, static_cast<double>(W));
  const double by2 = std::clamp(std::trunc(y2) + 1, by1 + 1, static_cast<double>(H));
  return {static_cast<int64_t>(bx1), static_cast<int64_t>(by1), static_cast<int64_t>(bx2), static_cast<int64_t>(by2)};
}

}  // namespace

LivenessDetector::LivenessDetector(std::vector<Model> models, int64_t live_class)
    : models_(std::move(models)), live_class_(live_class) {
  if (models_.empty()) throw std::invalid_argument("models: expected at least one liveness package");
  if (live_class < 0) throw std::invalid_argument("live_class: expected >= 0, got " + std::to_string(live_class));
  for (Model& m : models_) {
    int64_t h = 0, w = 0, b = 0;
    detail::image_input(m.runner, "LivenessDetector", h, w, b);
    if (!(m.scale > 0.0)) m.scale = detail::metadata_number(m.runner, "opticore.scale", 2.7);
    if (!(std::isfinite(m.scale) && m.scale > 0.0)) {
      throw std::invalid_argument("scale: expected a finite value > 0, got " + std::to_string(m.scale));
    }
  }
}

at::Tensor LivenessDetector::live_probability(ImageView<uint8_t> image, MatrixView<double> boxes) const {
  detail::check_colour_image(image);
  detail::check_face_boxes(boxes);
  const int64_t faces = boxes.rows;
  at::Tensor total = at::zeros({faces}, at::kFloat);
  if (faces == 0) return total;
  for (const Model& m : models_) {
    int64_t height = 0, width = 0, max_batch = 0;
    detail::image_input(m.runner, "LivenessDetector", height, width, max_batch);
    std::vector<int64_t> crop_boxes(static_cast<size_t>(faces * 4));
    for (int64_t f = 0; f < faces; ++f) {
      const auto b = context_box(boxes(f, 0), boxes(f, 1), boxes(f, 2) - boxes(f, 0), boxes(f, 3) - boxes(f, 1),
                                 image.width, image.height, m.scale);
      std::copy(b.begin(), b.end(), crop_boxes.begin() + f * 4);
    }
    std::vector<uint8_t> crops(static_cast<size_t>(faces * height * width * 3));
    crop_resize(image, MatrixView<int64_t>(crop_boxes.data(), faces, 4), crops.data(), height, width);
    const at::Tensor logits =
        detail::run_in_batches(m.runner, detail::crops_to_input(crops.data(), faces, height, width), max_batch);
    if (logits.dim() != 2 || logits.size(0) != faces || logits.size(1) <= live_class_) {
      throw std::invalid_argument("LivenessDetector: package " + m.runner.path() +
                                  " must return (B, classes) logits with classes > live_class");
    }
    total.add_(at::softmax(logits.to(at::kFloat), 1).select(1, live_class_));
  }
  return total.div_(static_cast<double>(models_.size()));
}

}  // namespace opticore::runtime
