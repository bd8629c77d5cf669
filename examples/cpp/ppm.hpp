// Binary PPM (P6) images for the examples: the core has no image codecs, and PPM needs none.
// Pixels are H x W x 3 bytes in the order stored (the examples store BGR, opticore's models' order).
#pragma once

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

struct Image {
  int64_t height = 0, width = 0;
  std::vector<uint8_t> pixels;  // height x width x 3
};

inline Image read_ppm(const std::string& path) {
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

inline void write_ppm(const std::string& path, const uint8_t* pixels, int64_t height, int64_t width) {
  std::ofstream file(path, std::ios::binary);
  file << "P6\n" << width << ' ' << height << "\n255\n";
  file.write(reinterpret_cast<const char*>(pixels), static_cast<std::streamsize>(height * width * 3));
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace examples
