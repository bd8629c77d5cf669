#include "opticore/runtime/face_pipeline.hpp"

#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "opticore/geometry/face_templates.hpp"
#include "opticore/geometry/umeyama.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::runtime {
namespace {

// The groups of landmarks averaged into the five ArcFace points (opticore.landmarks_to_5).
std::vector<std::vector<int>> five_point_groups(int64_t k) {
  if (k == 68) return {{36, 37, 38, 39, 40, 41}, {42, 43, 44, 45, 46, 47}, {30}, {48}, {54}};
  if (k == 98) return {{96}, {97}, {54}, {76}, {82}};
  throw std::invalid_argument("FacePipeline: the landmark package returns " + std::to_string(k) +
                              " points; alignment needs 68 (iBUG 300-W) or 98 (WFLW)");
}

}  // namespace

FacePipeline::FacePipeline(LandmarkDetector landmarks, std::optional<LivenessDetector> liveness, int64_t aligned_size)
    : landmarks_(std::move(landmarks)), liveness_(std::move(liveness)), aligned_size_(aligned_size) {
  if (aligned_size < 1 || aligned_size > 4096) {
    throw std::invalid_argument("aligned_size: expected 1..4096, got " + std::to_string(aligned_size));
  }
}

Faces FacePipeline::run(ImageView<uint8_t> image, MatrixView<double> boxes) const {
  Faces faces;
  faces.landmarks = landmarks_.detect(image, boxes);
  const int64_t n = faces.landmarks.size(0), size = aligned_size_;
  faces.aligned = at::zeros({n, size, size, 3}, at::kByte);
  faces.matrices = at::empty({n, 2, 3}, at::kDouble);
  if (n > 0) {
    const auto groups = five_point_groups(faces.landmarks.size(1));
    const auto template_points = face::arcface_template(size);
    const double* points = faces.landmarks.data_ptr<double>();
    const int64_t k = faces.landmarks.size(1);
    for (int64_t f = 0; f < n; ++f) {
      std::array<double, 10> five{};
      for (size_t g = 0; g < 5; ++g) {
        for (const int i : groups[g]) {
          five[2 * g] += points[(f * k + i) * 2] / static_cast<double>(groups[g].size());
          five[2 * g + 1] += points[(f * k + i) * 2 + 1] / static_cast<double>(groups[g].size());
        }
      }
      const std::vector<double> T =
          umeyama(MatrixView<double>(five.data(), 5, 2), MatrixView<double>(template_points[0].data(), 5, 2), true);
      const std::array<double, 6> M = {T[0], T[1], T[2], T[3], T[4], T[5]};
      double* m = faces.matrices.data_ptr<double>() + f * 6;
      std::copy(M.begin(), M.end(), m);
      bool finite = true;
      for (const double v : M) finite = finite && std::isfinite(v);
      if (!finite) continue;  // degenerate landmarks: a NaN matrix and a zero crop, as align_faces
      warp_affine(image, M,
                  OutputImage<uint8_t>{faces.aligned.data_ptr<uint8_t>() + f * size * size * 3, size, size, 3});
    }
  }
  if (liveness_) faces.live = liveness_->live_probability(image, boxes);
  return faces;
}

}  // namespace opticore::runtime
