// opticore::runtime::LandmarkDetector: face boxes -> PFLD-like landmark package -> landmarks in
// image pixels, batched over the faces.
//
// Conventions (those of opticore's PFLD training, opticore.data.landmarks):
//   - image: H x W x 3 uint8 in the channel order the model was trained with (opticore's: BGR),
//     any strides.
//   - boxes: F x 4 (x1, y1, x2, y2) around each face's landmarks (brows to chin), pixels.
//   - Each face is cropped with opticore::warp_affine (bilinear, constant border 0) to the
//     package's input size S x S (its input spec float32[B, 3, S, S]): a square centred on the
//     box, of side max(w, h) * (1 + 2 * margin), crop pixel (S - 1) / 2 at the box centre. The
//     crop is fed as float32 CHW / 255; the package returns (B, K, 2) points in crop units u,
//     crop pixel = u * S - 0.5, mapped back to the image through the crop's inverse.
//   - margin: the crop margin the model was trained with; a negative value takes the package's
//     "opticore.margin" metadata (opticore's exporter writes it), else 0.2.
//   - Faces are run in batches of at most the package's largest batch.
//
// Throws: std::invalid_argument for an image that is not H x W x 3, boxes that are not F x 4,
//         a non-finite or empty box, a package whose input is not float32[B, 3, S, S] or whose
//         output is not (B, K, 2).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "opticore/core/image.hpp"
#include "opticore/core/view.hpp"
#include "opticore/runtime/runner.hpp"

namespace opticore::runtime {

class LandmarkDetector {
 public:
  explicit LandmarkDetector(Runner runner, double margin = -1.0);

  /// float64 (F, K, 2) landmarks, (x, y) image pixels.
  at::Tensor detect(ImageView<uint8_t> image, MatrixView<double> boxes) const;

  double margin() const { return margin_; }
  int64_t crop_size() const { return crop_size_; }
  const Runner& runner() const { return runner_; }

 private:
  Runner runner_;
  double margin_ = 0.2;
  int64_t crop_size_ = 112;
  int64_t max_batch_ = 1;
};

}  // namespace opticore::runtime
