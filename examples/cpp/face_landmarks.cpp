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
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <opticore/runtime/face_pipeline.hpp>

namespace {

struct Image {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;  // height x width x 3
};

Image read_ppm(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::string magic;
  int max_value = 0;
  Image image;
  if (!(file >> magic >> image.width >> image.height >> max_value) || magic != "P6" || max_value != 255 ||
      image.width < 1 || image.height < 1 || image.width * image.height > (int64_t{1} << 28)) {
    throw std::runtime_error("cannot read " + path + " as a binary 8-bit PPM (P6)");
  }
  file.get();  // the one whitespace byte after the header
  image.pixels.resize(static_cast<size_t>(image.height * image.width * 3));
  if (!file.read(reinterpret_cast<char*>(image.pixels.data()), static_cast<std::streamsize>(image.pixels.size()))) {
    throw std::runtime_error(path + " is truncated");
  }
  return image;
}

void write_ppm(const std::string& path, const uint8_t* pixels, int64_t height, int64_t width) {
  std::ofstream file(path, std::ios::binary);
  file << "P6\n" << width << ' ' << height << "\n255\n";
  file.write(reinterpret_cast<const char*>(pixels), static_cast<std::streamsize>(height * width * 3));
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8 && argc != 9) {
    std::fprintf(stderr, "usage: %s MODEL.pt2 IMAGE.ppm X1 Y1 X2 Y2 OUT.ppm [LIVENESS.pt2]\n", argv[0]);
    return 1;
  }
  try {
    using namespace opticore::runtime;
    const Image image = read_ppm(argv[2]);
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
    write_ppm(argv[7], faces.aligned.data_ptr<uint8_t>(), faces.aligned.size(1), faces.aligned.size(2));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "face_landmarks: %s\n", e.what());
    return 1;
  }
}
