// opticore::runtime::LivenessDetector: face boxes -> MiniFASNet-like packages, each on its own
// context crop -> the live probability per face (Silent-Face's fusion: the mean of the models'
// softmax outputs).
//
// Conventions (those of opticore.liveness and opticore's MiniFASNet training):
//   - image: H x W x 3 uint8 in the models' channel order (opticore's: BGR), any strides.
//   - boxes: F x 4 (x1, y1, x2, y2) face boxes, pixels.
//   - For each model, each face box (x, y, w = x2 - x1, h = y2 - y1) is enlarged by the model's
//     scale about its centre and shifted into the image (opticore.face_crop_boxes' rule), then
//     cropped and resized with opticore::crop_resize (bilinear, cv::resize's arithmetic) to the
//     package's input size (its input spec float32[B, 3, H, W]); fed as float32 CHW / 255.
//   - scale: a model's crop enlargement; a non-positive value takes the package's
//     "opticore.scale" metadata, else 2.7.
//   - Each package returns (B, classes) logits; the result is mean over models of
//     softmax(logits)[live_class] (live_class 1 in opticore's 3-class convention: 0 print attack,
//     1 live, 2 replay).
//
// Throws: std::invalid_argument for no models, a bad image or boxes (empty, non-finite), a
//         package whose input is not float32[B, 3, H, W] or whose output is not (B, classes) with
//         classes > live_class.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "opticore/core/image.hpp"
#include "opticore/core/view.hpp"
#include "opticore/runtime/runner.hpp"

namespace opticore::runtime {

class LivenessDetector {
 public:
  struct Model {
    Runner runner;
    double scale = 0.0;  ///< <= 0: the package's "opticore.scale" metadata, else 2.7
  };

  explicit LivenessDetector(std::vector<Model> models, int64_t live_class = 1);

  /// float32 (F,) live probabilities in [0, 1].
  at::Tensor live_probability(ImageView<uint8_t> image, MatrixView<double> boxes) const;

  const std::vector<Model>& models() const { return models_; }

 private:
  std::vector<Model> models_;
  int64_t live_class_ = 1;
};

}  // namespace opticore::runtime
