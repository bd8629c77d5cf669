// What the face pipelines share: argument checks, the image-crop input of a package, batching.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>

#include "opticore/core/image.hpp"
#include "opticore/core/view.hpp"
#include "opticore/runtime/runner.hpp"

namespace opticore::runtime::detail {

/// Throws unless image is a non-empty H x W x 3 view.
void check_colour_image(ImageView<uint8_t> image);
/// Throws unless boxes is F x 4 with finite x1 < x2, y1 < y2.
void check_face_boxes(MatrixView<double> boxes);

/// The package's image input: float32[B, 3, H, W] with static H, W. Sets height, width and the
/// largest batch it takes.
void image_input(const Runner& runner, const char* what, int64_t& height, int64_t& width, int64_t& max_batch);

/// A metadata entry as a number, or `fallback` when the package has none.
double metadata_number(const Runner& runner, const std::string& key, double fallback);

/// float32 (n, 3, H, W) = crops (n consecutive H x W x 3 uint8 images) / 255.
at::Tensor crops_to_input(const uint8_t* crops, int64_t n, int64_t height, int64_t width);

/// Runs `runner` on the rows of `input` (n >= 1) in chunks of at most max_batch rows and
/// concatenates the first outputs.
at::Tensor run_in_batches(const Runner& runner, const at::Tensor& input, int64_t max_batch);

}  // namespace opticore::runtime::detail
