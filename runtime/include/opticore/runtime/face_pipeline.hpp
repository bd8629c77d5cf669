// opticore::runtime::FacePipeline: face boxes -> landmarks (LandmarkDetector) -> the face
// aligned onto the ArcFace 5-point template (the landmarks reduced to eye centres, nose tip and
// mouth corners, a similarity fitted with opticore::umeyama, opticore::warp_affine bilinear with
// border 0) -> the live probability (LivenessDetector, optional).
//
// 68 landmarks (iBUG 300-W) reduce to: eye centres = means of 36-41 and 42-47, nose tip 30,
// mouth corners 48 and 54; 98 (WFLW): pupils 96 and 97, nose tip 54, mouth corners 76 and 82
// (opticore.landmarks_to_5). Other counts are refused.
//
// Throws: what the two detectors throw; std::invalid_argument for a landmark count other than
//         68 or 98, or aligned_size < 1.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

#include "opticore/runtime/landmark_detector.hpp"
#include "opticore/runtime/liveness_detector.hpp"

namespace opticore::runtime {

struct Faces {
  at::Tensor landmarks;  ///< float64 (F, K, 2), image pixels
  at::Tensor aligned;    ///< uint8 (F, S, S, 3): the aligned crops
  at::Tensor matrices;   ///< float64 (F, 2, 3): image -> aligned crop (cv::warpAffine's convention)
  at::Tensor live;       ///< float32 (F,): live probabilities; undefined without a liveness model
};

class FacePipeline {
 public:
  explicit FacePipeline(LandmarkDetector landmarks, std::optional<LivenessDetector> liveness = std::nullopt,
                        int64_t aligned_size = 112);

  Faces run(ImageView<uint8_t> image, MatrixView<double> boxes) const;

 private:
  LandmarkDetector landmarks_;
  std::optional<LivenessDetector> liveness_;
  int64_t aligned_size_;
};

}  // namespace opticore::runtime
