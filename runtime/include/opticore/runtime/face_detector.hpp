// opticore::runtime::FaceDetector: MTCNN face detection (Zhang et al. 2016) with the three
// networks as AOTInductor packages (P-Net, R-Net, O-Net; opticore.runtime.export_mtcnn makes
// them from opticore.models.mtcnn), the resampling and NMS of opticore's core.
//
// The algorithm is that of opticore.FaceDetector (python/opticore/face_detection.py), step for
// step, so both find the same faces:
//   1. Pyramid: scales s_k = (12 / min_face_size) * scale_factor^k while the image's short side
//      times s_k is >= 12; level k is the image resized (opticore::resize with the options'
//      interpolation) to (int(W * s_k + 1), int(H * s_k + 1)).
//   2. P-Net on each level: windows with probability >= thresholds[0] become boxes
//      floor((2 x + 1) / s), floor((2 y + 1) / s), floor((2 x + 12) / s), floor((2 y + 12) / s);
//      opticore::nms within the level (nms_thresholds[0]) and across levels (nms_thresholds[1]);
//      each side moved by its regression times the box's size, the box squared (side max(w, h),
//      same centre).
//   3. R-Net on 24 x 24 crops, O-Net on 48 x 48 crops (opticore::crop_resize, same interpolation)
//      of the boxes truncated to whole pixels, the top-left corner moved one pixel up-left (MTCNN's
//      convention) and clipped to the image; a box wholly outside the image is dropped.
//      Candidates above thresholds[1] (strictly) go through opticore::nms (nms_thresholds[2]),
//      regression with inclusive sizes (w = x2 - x1 + 1) and squaring; those above thresholds[2]
//      get their five landmarks (O-Net's fractions of the crop box, minus one pixel), regression,
//      and a last NMS whose overlap is the intersection over the smaller box's inclusive area
//      (MTCNN's "Min"; nms_thresholds[3]).
//   Networks see RGB float32 (N, 3, H, W) batches normalised as (v - 127.5) * 0.0078125, at most
//   512 crops (and the package's largest batch) per call.
//   Interpolation::Bins (the default: torch's adaptive average pooling, as facenet-pytorch, whose
//   detections it reproduces) resamples a float32 copy of the image, so that the means keep their
//   fractions; Interpolation::Area (OpenCV's INTER_AREA) resamples the uint8 image: a little
//   faster, the same faces, boxes up to ~10% IoU away from facenet-pytorch's.
//
// Conventions:
//   - image: H x W x C uint8, any strides; C = 3 in `color` order (BGR: OpenCV's imread and video
//     frames, the default; RGB: PIL, scikit-image), C = 4: the fourth channel (alpha) is ignored,
//     C = 1: grey, read as three equal channels.
//   - An image whose short side is under min_face_size has no pyramid level: no faces.
//   - Result (Detections), by descending score: boxes float32 (N, 4) x1, y1, x2, y2 pixels (may
//     reach outside the image), scores float32 (N,) O-Net face probabilities, landmarks float32
//     (N, 5, 2) (x, y): left eye, right eye, nose, left and right mouth corners ("left" = image
//     left), the order of the ArcFace template (face_templates.hpp). CPU tensors.
//   - detect() is const and thread-safe (the runners serialise their calls).
//
// Throws: std::invalid_argument for options out of range (min_face_size >= 1, scale_factor in
//         [0.1, 0.95], thresholds in [0, 1], interpolation Bins or Area), packages whose inputs are not float32[B, 3,
//         H, W] (P-Net: H, W dynamic from 12 or less; R-Net: 24 x 24; O-Net: 48 x 48) or whose outputs are not MTCNN's,
//         an empty image or one with other than 1, 3 or 4 channels, and an image whose first pyramid level exceeds
//         kMaxLevelPixels or the P-Net package's largest height or width (the message says to raise min_face_size or
//         downscale the image).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <vector>

#include "opticore/core/image.hpp"
#include "opticore/geometry/warp.hpp"
#include "opticore/runtime/runner.hpp"
#include "opticore/spectrum/fourier.hpp"  // ColorOrder

namespace opticore::runtime {

/// Largest first pyramid level, in pixels ((H * 12 / min_face_size) * (W * 12 / min_face_size)):
/// P-Net's first feature map then holds ~340 MB (opticore.face_detection.MAX_LEVEL_PIXELS).
inline constexpr double kMaxLevelPixels = 8388608.0;  // 2^23

struct FaceDetectorOptions {
  double min_face_size = 20.0;  ///< smallest face side searched for, pixels; >= 1
  double scale_factor = 0.709;  ///< ratio between pyramid levels, in [0.1, 0.95]
  /// Probabilities to pass P-Net (>=), R-Net and O-Net (>).
  std::array<double, 3> thresholds = {0.6, 0.7, 0.7};
  /// NMS thresholds (suppress when above, strictly): within a level, across levels, after
  /// R-Net, and the "Min" overlap after O-Net.
  std::array<double, 4> nms_thresholds = {0.5, 0.7, 0.7, 0.7};
  ColorOrder color = ColorOrder::Bgr;                 ///< channel order of three- and four-channel images
  Interpolation interpolation = Interpolation::Bins;  ///< pyramid and crops: Bins or Area
};

struct Detections {
  at::Tensor boxes;      ///< float32 (N, 4) x1, y1, x2, y2
  at::Tensor scores;     ///< float32 (N,)
  at::Tensor landmarks;  ///< float32 (N, 5, 2) (x, y)
};

class FaceDetector {
 public:
  FaceDetector(Runner pnet, Runner rnet, Runner onet, const FaceDetectorOptions& options = {});

  Detections detect(ImageView<uint8_t> image) const;

  /// The pyramid's scales for an image of height x width (empty: smaller than min_face_size).
  std::vector<double> scales(int64_t height, int64_t width) const;

  const FaceDetectorOptions& options() const { return options_; }

 private:
  Runner pnet_, rnet_, onet_;
  FaceDetectorOptions options_;
  int64_t pnet_max_side_[2] = {0, 0};  ///< largest height, width P-Net takes
  int64_t rnet_batch_ = 1, onet_batch_ = 1;
};

}  // namespace opticore::runtime
