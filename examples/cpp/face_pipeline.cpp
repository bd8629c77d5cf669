// A whole face pipeline in a C++ application: MTCNN finds the faces and their five points (three
// .pt2 packages, from `opticore.runtime.export_mtcnn(FOLDER)`), each face is aligned onto the
// ArcFace template (opticore::umeyama + opticore::warp_affine) and written, and optionally an
// exported landmark model (PFLD) and a liveness model (MiniFASNet) run on the detected boxes.
//
//   face_pipeline MTCNN_FOLDER IMAGE.ppm OUT_PREFIX [LANDMARKS.pt2 [LIVENESS.pt2]]
//
// Images are binary PPM (P6) whose bytes are read as BGR (opticore's order; MTCNN flips them to
// the RGB it was trained on). Prints, per face by descending score:
//   face I X1 Y1 X2 Y2 SCORE LX0 LY0 ... LX4 LY4   (box, probability, five points)
//   landmarks I K X0 Y0 ...                         (with a landmark model)
//   live I P                                        (with a liveness model)
// and writes OUT_PREFIX_I.ppm, the 112 x 112 aligned face. Exit status 0 on success, 1 with a
// message on stderr otherwise.
#include <array>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <opticore/geometry/face_templates.hpp>
#include <opticore/geometry/umeyama.hpp>
#include <opticore/geometry/warp.hpp>
#include <opticore/runtime/face_detector.hpp>
#include <opticore/runtime/landmark_detector.hpp>
#include <opticore/runtime/liveness_detector.hpp>
#include "ppm.hpp"

namespace {

// The face warped so that its five points land on the ArcFace template of a size x size crop
// (opticore.align_face): a similarity fitted by Umeyama, a bilinear warp with border 0.
std::vector<uint8_t> align_face(opticore::ImageView<uint8_t> image, const float* five, int64_t size) {
  std::array<double, 10> points{};
  for (size_t i = 0; i < 10; ++i) points[i] = five[i];
  const auto target = opticore::face::arcface_template(size);
  const std::vector<double> T = opticore::umeyama(opticore::MatrixView<double>(points.data(), 5, 2),
                                                  opticore::MatrixView<double>(target[0].data(), 5, 2), true);
  std::vector<uint8_t> crop(static_cast<size_t>(size * size * 3));
  opticore::warp_affine(image, {T[0], T[1], T[2], T[3], T[4], T[5]},
                        opticore::OutputImage<uint8_t>{crop.data(), size, size, 3});
  return crop;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) {
    std::fprintf(stderr, "usage: %s MTCNN_FOLDER IMAGE.ppm OUT_PREFIX [LANDMARKS.pt2 [LIVENESS.pt2]]\n", argv[0]);
    return 1;
  }
  try {
    using namespace opticore::runtime;
    const std::string folder = argv[1];
    const FaceDetector detector(Runner(folder + "/pnet.pt2"), Runner(folder + "/rnet.pt2"),
                                Runner(folder + "/onet.pt2"));
    std::optional<LandmarkDetector> landmarks;
    if (argc >= 5) landmarks.emplace(Runner(argv[4]));
    std::optional<LivenessDetector> liveness;
    if (argc == 6) liveness.emplace(std::vector<LivenessDetector::Model>{{Runner(argv[5]), 0.0}});

    const examples::Image image = examples::read_ppm(argv[2]);
    const opticore::ImageView<uint8_t> view(image.pixels.data(), image.height, image.width, 3);
    const Detections faces = detector.detect(view);
    const int64_t n = faces.boxes.size(0);
    const float* boxes = faces.boxes.data_ptr<float>();
    const float* five = faces.landmarks.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      std::printf("face %lld", static_cast<long long>(i));
      for (int64_t k = 0; k < 4; ++k) std::printf(" %.3f", boxes[i * 4 + k]);
      std::printf(" %.6f", faces.scores.data_ptr<float>()[i]);
      for (int64_t k = 0; k < 10; ++k) std::printf(" %.3f", five[i * 10 + k]);
      std::printf("\n");
      const std::vector<uint8_t> aligned = align_face(view, five + i * 10, 112);
      examples::write_ppm(std::string(argv[3]) + "_" + std::to_string(i) + ".ppm", aligned.data(), 112, 112);
    }
    if (n == 0 || !landmarks) return 0;

    const at::Tensor face_boxes = faces.boxes.to(at::kDouble).contiguous();
    const opticore::MatrixView<double> box_view(face_boxes.data_ptr<double>(), n, 4);
    const at::Tensor points = landmarks->detect(view, box_view);
    const at::Tensor live = liveness ? liveness->live_probability(view, box_view) : at::Tensor();
    for (int64_t i = 0; i < n; ++i) {
      std::printf("landmarks %lld %lld", static_cast<long long>(i), static_cast<long long>(points.size(1)));
      const double* p = points.data_ptr<double>() + i * points.size(1) * 2;
      for (int64_t k = 0; k < points.size(1) * 2; ++k) std::printf(" %.3f", p[k]);
      std::printf("\n");
      if (live.defined()) std::printf("live %lld %.6f\n", static_cast<long long>(i), live.data_ptr<float>()[i]);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "face_pipeline: %s\n", e.what());
    return 1;
  }
}
