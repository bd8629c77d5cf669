#include "opticore/runtime/landmark_detector.hpp"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "detail/face_inputs.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::runtime {
namespace {

// The square crop of opticore.data.landmarks.crop_face: image -> crop, {scale, tx, ty}.
std::array<double, 3> crop_transform(const double* box, double margin, int64_t size) {
  const double side = std::max(box[2] - box[0], box[3] - box[1]) * (1.0 + 2.0 * margin);
  const double scale = static_cast<double>(size) / side;
  const double centre = (static_cast<double>(size) - 1.0) / 2.0;
  return {scale, centre - (box[0] + box[2]) / 2.0 * scale, centre - (box[1] + box[3]) / 2.0 * scale};
}

}  // namespace

LandmarkDetector::LandmarkDetector(Runner runner, double margin) : runner_(std::move(runner)) {
  int64_t width = 0;
  detail::image_input(runner_, "LandmarkDetector", crop_size_, width, max_batch_);
  if (width != crop_size_) {
    throw std::invalid_argument("LandmarkDetector: package " + runner_.path() + " takes " + std::to_string(crop_size_) +
                                " x " + std::to_string(width) + " crops; expected square ones");
  }
  margin_ = margin >= 0.0 ? margin : detail::metadata_number(runner_, "opticore.margin", 0.2);
  if (!(std::isfinite(margin_) && margin_ <= 10.0)) {
    throw std::invalid_argument("margin: expected a value in [0, 10], got " + std::to_string(margin_));
  }
}

at::Tensor LandmarkDetector::detect(ImageView<uint8_t> image, MatrixView<double> boxes) const {
  detail::check_colour_image(image);
  detail::check_face_boxes(boxes);
  const int64_t faces = boxes.rows, size = crop_size_;
  if (faces == 0) return at::empty({0, 0, 2}, at::kDouble);
  std::vector<uint8_t> crops(static_cast<size_t>(faces * size * size * 3));
  std::vector<std::array<double, 3>> transforms(static_cast<size_t>(faces));
  for (int64_t f = 0; f < faces; ++f) {
    const double box[4] = {boxes(f, 0), boxes(f, 1), boxes(f, 2), boxes(f, 3)};
    const auto [s, tx, ty] = transforms[f] = crop_transform(box, margin_, size);
    warp_affine(image, {s, 0.0, tx, 0.0, s, ty},
                OutputImage<uint8_t>{crops.data() + f * size * size * 3, size, size, 3});
  }
  const at::Tensor units =
      detail::run_in_batches(runner_, detail::crops_to_input(crops.data(), faces, size, size), max_batch_);
  if (units.dim() != 3 || units.size(0) != faces || units.size(2) != 2) {
    throw std::invalid_argument("LandmarkDetector: package " + runner_.path() +
                                " must return (B, K, 2) landmarks; it returned " + std::to_string(units.dim()) + "-D");
  }
  const at::Tensor points = units.to(at::kDouble).contiguous();
  const int64_t k = points.size(1);
  at::Tensor out = at::empty({faces, k, 2}, at::kDouble);
  const double* u = points.data_ptr<double>();
  double* xy = out.data_ptr<double>();
  for (int64_t f = 0; f < faces; ++f) {
    const auto [s, tx, ty] = transforms[f];
    for (int64_t i = 0; i < k; ++i) {
      const int64_t at = (f * k + i) * 2;
      xy[at] = (u[at] * static_cast<double>(size) - 0.5 - tx) / s;
      xy[at + 1] = (u[at + 1] * static_cast<double>(size) - 0.5 - ty) / s;
    }
  }
  return out;
}

}  // namespace opticore::runtime
