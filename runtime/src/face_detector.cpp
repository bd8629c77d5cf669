#include "opticore/runtime/face_detector.hpp"

#include <ATen/ops/empty.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "detail/face_inputs.hpp"
#include "opticore/boxes/nms.hpp"
#include "opticore/boxes/nms_min.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::runtime {
namespace {

constexpr int64_t kChunk = 512;  // crops per R-Net / O-Net call: bounds a stage's memory
constexpr double kCell = 12.0;   // P-Net's window, in pyramid-level pixels
constexpr double kStride = 2.0;  // and its step

// Candidates: rows of boxes (x1, y1, x2, y2), their scores, and a regression or landmarks per row.
struct Candidates {
  std::vector<double> boxes;
  std::vector<float> scores;
  std::vector<double> reg;     // 4 per row
  std::vector<double> points;  // O-Net: 10 per row

  int64_t size() const { return static_cast<int64_t>(scores.size()); }
  MatrixView<double> box_view() const { return {boxes.data(), size(), 4}; }
  VectorView<float> score_view() const { return {scores.data(), size()}; }

  // The rows `keep`, in that order.
  Candidates select(const std::vector<int64_t>& keep) const {
    Candidates out;
    for (const int64_t i : keep) out.append(*this, i);
    return out;
  }
  void append(const Candidates& from, int64_t i) {
    boxes.insert(boxes.end(), from.boxes.begin() + i * 4, from.boxes.begin() + i * 4 + 4);
    scores.push_back(from.scores[i]);
    reg.insert(reg.end(), from.reg.begin() + i * 4, from.reg.begin() + i * 4 + 4);
    if (!from.points.empty())
      points.insert(points.end(), from.points.begin() + i * 10, from.points.begin() + i * 10 + 10);
  }
};

// Each side moved by its regression times the box's size (+ plus_one: R-Net and O-Net were
// trained with inclusive pixel sizes, P-Net's boxes are corrected with the plain size).
void regress(Candidates& c, double plus_one) {
  for (int64_t i = 0; i < c.size(); ++i) {
    double* b = c.boxes.data() + i * 4;
    const double* r = c.reg.data() + i * 4;
    const double w = b[2] - b[0] + plus_one, h = b[3] - b[1] + plus_one;
    b[0] += r[0] * w, b[1] += r[1] * h, b[2] += r[2] * w, b[3] += r[3] * h;
  }
}

// The square of side max(w, h) with the same centre.
void square(Candidates& c) {
  for (int64_t i = 0; i < c.size(); ++i) {
    double* b = c.boxes.data() + i * 4;
    const double w = b[2] - b[0], h = b[3] - b[1], side = std::max(w, h);
    b[0] += (w - side) * 0.5, b[1] += (h - side) * 0.5;
    b[2] = b[0] + side, b[3] = b[1] + side;
  }
}

// (n, H, W, 3) uint8 or float32 crops in `color` order -> the networks' (n, 3, H, W) float32 RGB
// batch, (v - 127.5) * 0.0078125 in float32 (as face_detection.py and facenet-pytorch).
template <class T>
at::Tensor normalised_batch(const T* crops, int64_t n, int64_t height, int64_t width, ColorOrder color) {
  at::Tensor batch = at::empty({n, 3, height, width}, at::kFloat);
  float* out = batch.data_ptr<float>();
  const int64_t plane = height * width;
  const int64_t source[3] = {color == ColorOrder::Bgr ? 2 : 0, 1, color == ColorOrder::Bgr ? 0 : 2};
  for (int64_t i = 0; i < n; ++i) {
    const T* crop = crops + i * plane * 3;
    float* dst = out + i * plane * 3;
    for (int64_t c = 0; c < 3; ++c) {
      for (int64_t p = 0; p < plane; ++p) {
        dst[c * plane + p] = (static_cast<float>(crop[p * 3 + source[c]]) - 127.5f) * 0.0078125f;
      }
    }
  }
  return batch;
}

// A contiguous float32 CPU copy of a package output, checked against its expected sizes.
at::Tensor output(const std::vector<at::Tensor>& outputs, size_t i, std::vector<int64_t> sizes, const Runner& runner) {
  if (i >= outputs.size() || outputs[i].sizes() != at::IntArrayRef(sizes)) {
    throw std::invalid_argument("FaceDetector: package " + runner.path() + " must return MTCNN's outputs; output " +
                                std::to_string(i) + (i < outputs.size() ? " has another shape" : " is missing"));
  }
  return outputs[i].to(at::kCPU, at::kFloat).contiguous();
}

void check_stage(const Runner& runner, const char* name, int64_t side, int64_t& max_batch) {
  int64_t h = 0, w = 0;
  detail::image_input(runner, name, h, w, max_batch);
  if (h != side || w != side) {
    throw std::invalid_argument(std::string(name) + ": package " + runner.path() + " takes " + std::to_string(h) +
                                " x " + std::to_string(w) + " crops; expected " + std::to_string(side) + " x " +
                                std::to_string(side));
  }
}

void check_unit(double value, const std::string& name) {
  if (!(value >= 0.0 && value <= 1.0)) {
    throw std::invalid_argument(name + ": expected a value in [0, 1], got " + std::to_string(value));
  }
}

}  // namespace

FaceDetector::FaceDetector(Runner pnet, Runner rnet, Runner onet, const FaceDetectorOptions& options)
    : pnet_(std::move(pnet)), rnet_(std::move(rnet)), onet_(std::move(onet)), options_(options) {
  if (!(options.min_face_size >= 1.0 && std::isfinite(options.min_face_size))) {
    throw std::invalid_argument("min_face_size: expected a finite value >= 1, got " +
                                std::to_string(options.min_face_size));
  }
  if (!(options.scale_factor >= 0.1 && options.scale_factor <= 0.95)) {
    throw std::invalid_argument("scale_factor: expected a value in [0.1, 0.95], got " +
                                std::to_string(options.scale_factor));
  }
  for (size_t i = 0; i < 3; ++i) check_unit(options.thresholds[i], "thresholds[" + std::to_string(i) + "]");
  for (size_t i = 0; i < 4; ++i) check_unit(options.nms_thresholds[i], "nms_thresholds[" + std::to_string(i) + "]");
  if (options.interpolation != Interpolation::Bins && options.interpolation != Interpolation::Area) {
    throw std::invalid_argument("interpolation: expected Bins or Area for MTCNN's resampling");
  }
  const auto& specs = pnet_.input_specs();
  const bool pnet_ok = specs.size() == 1 && specs[0].dtype == c10::ScalarType::Float && specs[0].shape.size() == 4 &&
                       specs[0].shape[0].min <= 1 && specs[0].shape[0].max >= 1 && specs[0].shape[1].min == 3 &&
                       specs[0].shape[1].max == 3 && specs[0].shape[2].min <= 12 && specs[0].shape[3].min <= 12 &&
                       specs[0].shape[2].max >= 13 && specs[0].shape[3].max >= 13;
  if (!pnet_ok) {
    throw std::invalid_argument("FaceDetector: P-Net package " + pnet_.path() +
                                " must take one float32[B, 3, H, W] input with B from 1 and dynamic H, W from 12; "
                                "it takes " +
                                format_input_specs(specs));
  }
  pnet_max_side_[0] = specs[0].shape[2].max;
  pnet_max_side_[1] = specs[0].shape[3].max;
  check_stage(rnet_, "FaceDetector R-Net", 24, rnet_batch_);
  check_stage(onet_, "FaceDetector O-Net", 48, onet_batch_);
}

std::vector<double> FaceDetector::scales(int64_t height, int64_t width) const {
  double scale = 12.0 / options_.min_face_size;
  double shortest = static_cast<double>(std::min(height, width)) * scale;
  std::vector<double> out;
  while (shortest >= 12.0) {
    out.push_back(scale);
    scale *= options_.scale_factor;
    shortest *= options_.scale_factor;
  }
  return out;
}

namespace {

// What one detect() call works on: the image (three channels; uint8 for Area, a float32 copy for
// Bins), the options and the stages.
template <class T>
class Cascade {
 public:
  Cascade(ImageView<T> image, const FaceDetectorOptions& options) : image_(image), options_(options) {}

  // P-Net over the pyramid: squared candidate boxes and their scores.
  Candidates propose(const Runner& pnet, const std::vector<double>& scales) const {
    Candidates found;
    std::vector<T> level;
    for (const double scale : scales) {
      const auto h = static_cast<int64_t>(static_cast<double>(image_.height) * scale + 1.0);
      const auto w = static_cast<int64_t>(static_cast<double>(image_.width) * scale + 1.0);
      level.resize(static_cast<size_t>(h * w * 3));
      resize(image_, OutputImage<T>{level.data(), h, w, 3}, options_.interpolation);
      const std::vector<at::Tensor> out = pnet.run({normalised_batch(level.data(), 1, h, w, options_.color)});
      const int64_t oh = (h - 1) / 2 - 4, ow = (w - 1) / 2 - 4;  // ceil((h - 2) / 2) - 4
      const at::Tensor reg = output(out, 0, {1, 4, oh, ow}, pnet), prob = output(out, 1, {1, oh, ow}, pnet);
      const float* r = reg.data_ptr<float>();
      const float* p = prob.data_ptr<float>();
      Candidates level_candidates;
      for (int64_t y = 0; y < oh; ++y) {
        for (int64_t x = 0; x < ow; ++x) {
          const float score = p[y * ow + x];
          // float32 against the threshold rounded to float32: NumPy's comparison in face_detection.py
          if (!(score >= static_cast<float>(options_.thresholds[0]))) continue;
          const double cx = static_cast<double>(x) * kStride, cy = static_cast<double>(y) * kStride;
          level_candidates.boxes.insert(level_candidates.boxes.end(),
                                        {std::floor((cx + 1.0) / scale), std::floor((cy + 1.0) / scale),
                                         std::floor((cx + kCell) / scale), std::floor((cy + kCell) / scale)});
          level_candidates.scores.push_back(score);
          for (int64_t k = 0; k < 4; ++k) level_candidates.reg.push_back(r[(k * oh + y) * ow + x]);
        }
      }
      const auto keep = nms(level_candidates.box_view(), level_candidates.score_view(), options_.nms_thresholds[0]);
      for (const int64_t i : keep) found.append(level_candidates, i);
    }
    Candidates kept = found.select(nms(found.box_view(), found.score_view(), options_.nms_thresholds[1]));
    regress(kept, 0.0);
    square(kept);
    return kept;
  }

  // `stage` on the side x side crops of the candidates' boxes: their scores, regressions and
  // (O-Net) landmarks replaced by the stage's. A box outside the image gets probability 0.
  void refine(const Runner& stage, int64_t max_batch, int64_t side, Candidates& c) const {
    const bool onet = side == 48;
    const int64_t n = c.size();
    std::vector<int64_t> crops(static_cast<size_t>(n * 4));
    std::vector<int64_t> inside;
    const double limit = 1e15;  // keeps the conversion to int64 defined; far outside any image
    for (int64_t i = 0; i < n; ++i) {
      int64_t corner[4];
      for (int64_t k = 0; k < 4; ++k) corner[k] = static_cast<int64_t>(std::clamp(c.boxes[i * 4 + k], -limit, limit));
      int64_t* crop = crops.data() + i * 4;
      crop[0] = std::max<int64_t>(corner[0], 1) - 1, crop[1] = std::max<int64_t>(corner[1], 1) - 1;
      crop[2] = std::min(corner[2], image_.width), crop[3] = std::min(corner[3], image_.height);
      if (crop[2] > crop[0] && crop[3] > crop[1]) inside.push_back(i);
    }
    std::fill(c.scores.begin(), c.scores.end(), 0.0f);
    std::fill(c.reg.begin(), c.reg.end(), 0.0);
    if (onet) c.points.assign(static_cast<size_t>(n * 10), 0.0);
    const int64_t chunk = std::min(kChunk, max_batch);
    std::vector<int64_t> chosen_boxes;
    std::vector<T> pixels;
    for (size_t begin = 0; begin < inside.size(); begin += static_cast<size_t>(chunk)) {
      const size_t end = std::min(inside.size(), begin + static_cast<size_t>(chunk));
      const auto m = static_cast<int64_t>(end - begin);
      chosen_boxes.clear();
      for (size_t j = begin; j < end; ++j) {
        chosen_boxes.insert(chosen_boxes.end(), crops.begin() + inside[j] * 4, crops.begin() + inside[j] * 4 + 4);
      }
      pixels.resize(static_cast<size_t>(m * side * side * 3));
      crop_resize(image_, MatrixView<int64_t>(chosen_boxes.data(), m, 4), pixels.data(), side, side,
                  options_.interpolation);
      const std::vector<at::Tensor> out = stage.run({normalised_batch(pixels.data(), m, side, side, options_.color)});
      const at::Tensor reg = output(out, 0, {m, 4}, stage);
      const at::Tensor points = onet ? output(out, 1, {m, 10}, stage) : at::Tensor();
      const at::Tensor prob = output(out, onet ? 2 : 1, {m}, stage);
      for (int64_t j = 0; j < m; ++j) {
        const int64_t i = inside[begin + static_cast<size_t>(j)];
        c.scores[i] = prob.data_ptr<float>()[j];
        for (int64_t k = 0; k < 4; ++k) c.reg[i * 4 + k] = reg.data_ptr<float>()[j * 4 + k];
        for (int64_t k = 0; onet && k < 10; ++k) c.points[i * 10 + k] = points.data_ptr<float>()[j * 10 + k];
      }
    }
  }

 private:
  ImageView<T> image_;
  const FaceDetectorOptions& options_;
};

// The candidates whose score is above `threshold` (strictly).
Candidates passing(const Candidates& c, double threshold) {
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < c.size(); ++i) {
    if (c.scores[i] > threshold) keep.push_back(i);
  }
  return c.select(keep);
}

Detections empty_detections() {
  return {at::empty({0, 4}, at::kFloat), at::empty({0}, at::kFloat), at::empty({0, 5, 2}, at::kFloat)};
}

struct Stages {
  const Runner &pnet, &rnet, &onet;
  int64_t rnet_batch, onet_batch;
};

// The cascade on one image, given its stages (with their largest batches) and pyramid scales.
template <class T>
Detections run_cascade(const Cascade<T>& cascade, const Stages& stages, const std::vector<double>& scales,
                       const FaceDetectorOptions& options) {
  Candidates c = cascade.propose(stages.pnet, scales);
  if (c.size() == 0) return empty_detections();
  cascade.refine(stages.rnet, stages.rnet_batch, 24, c);
  c = passing(c, options.thresholds[1]);
  c = c.select(nms(c.box_view(), c.score_view(), options.nms_thresholds[2]));
  regress(c, 1.0);
  square(c);
  if (c.size() == 0) return empty_detections();
  cascade.refine(stages.onet, stages.onet_batch, 48, c);
  c = passing(c, options.thresholds[2]);
  const int64_t n = c.size();
  std::vector<double> landmarks(static_cast<size_t>(n * 10));
  for (int64_t i = 0; i < n; ++i) {
    const double* b = c.boxes.data() + i * 4;
    const double w = b[2] - b[0] + 1.0, h = b[3] - b[1] + 1.0;
    for (int64_t k = 0; k < 5; ++k) {
      landmarks[i * 10 + k * 2] = c.points[i * 10 + k] * w + b[0] - 1.0;
      landmarks[i * 10 + k * 2 + 1] = c.points[i * 10 + 5 + k] * h + b[1] - 1.0;
    }
  }
  regress(c, 1.0);
  const std::vector<int64_t> keep = nms_min(c.box_view(), c.score_view(), options.nms_thresholds[3]);
  const auto kept = static_cast<int64_t>(keep.size());
  Detections result{at::empty({kept, 4}, at::kFloat), at::empty({kept}, at::kFloat),
                    at::empty({kept, 5, 2}, at::kFloat)};
  for (int64_t j = 0; j < kept; ++j) {
    const int64_t i = keep[static_cast<size_t>(j)];
    for (int64_t k = 0; k < 4; ++k) result.boxes.data_ptr<float>()[j * 4 + k] = static_cast<float>(c.boxes[i * 4 + k]);
    result.scores.data_ptr<float>()[j] = c.scores[i];
    for (int64_t k = 0; k < 10; ++k) {
      result.landmarks.data_ptr<float>()[j * 10 + k] = static_cast<float>(landmarks[i * 10 + k]);
    }
  }
  return result;
}

}  // namespace

Detections FaceDetector::detect(ImageView<uint8_t> image) const {
  if (image.data == nullptr || image.height < 1 || image.width < 1 ||
      !(image.channels == 1 || image.channels == 3 || image.channels == 4)) {
    throw std::invalid_argument("image: expected a non-empty H x W x C uint8 image with C = 1, 3 or 4, got " +
                                std::to_string(image.height) + " x " + std::to_string(image.width) + " x " +
                                std::to_string(image.channels));
  }
  const double first_scale = 12.0 / options_.min_face_size;
  const double level =
      (static_cast<double>(image.height) * first_scale) * (static_cast<double>(image.width) * first_scale);
  const auto level_h = static_cast<double>(image.height) * first_scale + 1.0;
  const auto level_w = static_cast<double>(image.width) * first_scale + 1.0;
  if (level > kMaxLevelPixels || level_h >= static_cast<double>(pnet_max_side_[0]) + 1.0 ||
      level_w >= static_cast<double>(pnet_max_side_[1]) + 1.0) {
    throw std::invalid_argument(
        "image: " + std::to_string(image.width) + " x " + std::to_string(image.height) +
        " makes a first pyramid level of " + std::to_string(static_cast<int64_t>(std::min(level_w, 1e18))) + " x " +
        std::to_string(static_cast<int64_t>(std::min(level_h, 1e18))) +
        " at min_face_size=" + std::to_string(options_.min_face_size) + ", above the limits of " +
        std::to_string(static_cast<int64_t>(kMaxLevelPixels)) + " pixels (kMaxLevelPixels) and the P-Net package's " +
        std::to_string(pnet_max_side_[1]) + " x " + std::to_string(pnet_max_side_[0]) +
        "; raise min_face_size or downscale the image");
  }
  // Grey: the one channel read three times (a zero channel stride); BGRA: alpha left out.
  ImageView<uint8_t> colour = image;
  colour.channels = 3;
  if (image.channels == 1) colour.channel_stride = 0;

  const Stages stages{pnet_, rnet_, onet_, rnet_batch_, onet_batch_};
  const std::vector<double> pyramid = scales(image.height, image.width);
  if (options_.interpolation == Interpolation::Area) {
    return run_cascade(Cascade<uint8_t>(colour, options_), stages, pyramid, options_);
  }
  // Bins: a float32 copy (three channels, packed), read by resize and crop_resize.
  check_array_size("image", {image.height, image.width, 3}, sizeof(float));
  std::vector<float> pixels(static_cast<size_t>(image.height * image.width * 3));
  for (int64_t y = 0; y < image.height; ++y) {
    for (int64_t x = 0; x < image.width; ++x) {
      for (int64_t c = 0; c < 3; ++c) pixels[static_cast<size_t>((y * image.width + x) * 3 + c)] = colour(y, x, c);
    }
  }
  return run_cascade(Cascade<float>(ImageView<float>(pixels.data(), image.height, image.width, 3), options_), stages,
                     pyramid, options_);
}

}  // namespace opticore::runtime
