// A face pipeline in a C++ application: an exported landmark model (.pt2, from
// `opticore export pfld CHECKPOINT --format pt2`) finds the landmarks of a face, the face is
// aligned onto the ArcFace template, and the aligned crop is written.
//
//   face_landmarks MODEL.pt2 IMAGE.ppm X1 Y1 X2 Y2 OUT.ppm [LIVENESS.pt2]
//
// Images are binary PPM (P6, RGB bytes as stored; the model sees them in that order, so store
// them in the order the model was trained with: BGR for opticore's models). Prints the
// landmarks, then the live probability when a liveness model is given. Exit status 0 on success,
// 1 with a message on stderr otherwise.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <opticore/runtime/face_pipeline.hpp>
#include "ppm.hpp"

int main(int argc, char** argv) {
  if (argc != 8 && argc != 9) {
    std::fprintf(stderr, "usage: %s MODEL.pt2 IMAGE.ppm X1 Y1 X2 Y2 OUT.ppm [LIVENESS.pt2]\n", argv[0]);
    return 1;
  }
  try {
    using namespace opticore::runtime;
    const examples::Image image = examples::read_ppm(argv[2]);
    const double box[4] = {std::atof(argv[3]), std::atof(argv[4]), std::atof(argv[5]), std::atof(argv[6])};

    std::optional<LivenessDetector> liveness;
    if (argc == 9) liveness = LivenessDetector({{Runner(argv[8]), 0.0}});
    const FacePipeline pipeline(LandmarkDetector(Runner(argv[1])), liveness);
    const Faces faces = pipeline.run(opticore::ImageView<uint8_t>(image.pixels.data(), image.height, image.width, 3),
                                     opticore::MatrixView<double>(box, 1, 4));

    const at::Tensor points = faces.landmarks[0];
    for (int64_t i = 0; i < points.size(0); ++i) {
      std::printf("%.6f %.6f\n", points[i][0].item<double>(), points[i][1].item<double>());
    }
    if (faces.live.defined()) std::printf("live %.6f\n", faces.live[0].item<float>());
    examples::write_ppm(argv[7], faces.aligned.data_ptr<uint8_t>(), faces.aligned.size(1), faces.aligned.size(2));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "face_landmarks: %s\n", e.what());
    return 1;
  }
}
