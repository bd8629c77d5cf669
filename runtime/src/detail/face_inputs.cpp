#include "detail/face_inputs.hpp"

#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>

#include <cmath>
#include <stdexcept>
#include <vector>

namespace opticore::runtime::detail {

void check_colour_image(ImageView<uint8_t> image) {
  if (image.data == nullptr || image.height < 1 || image.width < 1 || image.channels != 3) {
    throw std::invalid_argument("image: expected a non-empty H x W x 3 uint8 image, got " +
                                std::to_string(image.height) + " x " + std::to_string(image.width) + " x " +
                                std::to_string(image.channels));
  }
}

void check_face_boxes(MatrixView<double> boxes) {
  if (boxes.cols != 4 || boxes.rows < 0) {
    throw std::invalid_argument("boxes: expected F x 4 (x1, y1, x2, y2), got " + std::to_string(boxes.rows) + " x " +
                                std::to_string(boxes.cols));
  }
  for (int64_t i = 0; i < boxes.rows; ++i) {
    const double x1 = boxes(i, 0), y1 = boxes(i, 1), x2 = boxes(i, 2), y2 = boxes(i, 3);
    if (!(std::isfinite(x1) && std::isfinite(y1) && std::isfinite(x2) && std::isfinite(y2) && x2 > x1 && y2 > y1)) {
      throw std::invalid_argument("boxes: row " + std::to_string(i) +
                                  " is not a finite box with x1 < x2 and y1 < y2 (x1, y1, x2, y2)");
    }
  }
}

void image_input(const Runner& runner, const char* what, int64_t& height, int64_t& width, int64_t& max_batch) {
  const auto& specs = runner.input_specs();
  const bool ok = specs.size() == 1 && specs[0].dtype == c10::ScalarType::Float && specs[0].shape.size() == 4 &&
                  specs[0].shape[1].min == 3 && specs[0].shape[1].max == 3 &&
                  specs[0].shape[2].min == specs[0].shape[2].max && specs[0].shape[3].min == specs[0].shape[3].max &&
                  specs[0].shape[0].min <= 1 && specs[0].shape[0].max >= 1;
  if (!ok) {
    throw std::invalid_argument(std::string(what) + ": package " + runner.path() +
                                " must take one float32[B, 3, H, W] input with B from 1 and a fixed H, W; it takes " +
                                format_input_specs(specs));
  }
  height = specs[0].shape[2].min;
  width = specs[0].shape[3].min;
  max_batch = specs[0].shape[0].max;
}

double metadata_number(const Runner& runner, const std::string& key, double fallback) {
  const auto found = runner.metadata().find(key);
  if (found == runner.metadata().end()) return fallback;
  try {
    return std::stod(found->second);
  } catch (const std::exception&) {
    throw std::invalid_argument("package " + runner.path() + ": metadata " + key + " = \"" + found->second +
                                "\" is not a number");
  }
}

at::Tensor crops_to_input(const uint8_t* crops, int64_t n, int64_t height, int64_t width) {
  at::Tensor input = at::empty({n, 3, height, width}, at::kFloat);
  float* out = input.data_ptr<float>();
  const int64_t plane = height * width;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* crop = crops + i * plane * 3;
    float* dst = out + i * plane * 3;
    for (int64_t p = 0; p < plane; ++p) {
      for (int64_t c = 0; c < 3; ++c) dst[c * plane + p] = static_cast<float>(crop[p * 3 + c]) / 255.0f;
    }
  }
  return input;
}

at::Tensor run_in_batches(const Runner& runner, const at::Tensor& input, int64_t max_batch) {
  std::vector<at::Tensor> parts;
  for (int64_t begin = 0; begin < input.size(0); begin += max_batch) {
    const int64_t end = std::min(input.size(0), begin + max_batch);
    parts.push_back(runner.run({input.slice(0, begin, end)})[0].cpu());
  }
  return at::cat(parts, 0);
}

}  // namespace opticore::runtime::detail
