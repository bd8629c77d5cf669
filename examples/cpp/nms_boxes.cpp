// Non-maximum suppression and a face alignment transform with opticore::core (no torch).
#include <cstdio>
#include <vector>

#include <opticore/opticore.hpp>

int main() {
  // Three detections (x1, y1, x2, y2): the first two overlap with IoU 0.81 > 0.5.
  const std::vector<float> boxes = {0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30};
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f};
  const std::vector<int64_t> kept = opticore::nms(opticore::MatrixView<float>(boxes.data(), 3, 4),
                                                  opticore::VectorView<float>(scores.data(), 3), 0.5);
  std::printf("opticore %s: nms kept", OPTICORE_VERSION_STRING);
  for (const int64_t i : kept) std::printf(" %lld", static_cast<long long>(i));
  std::printf("\n");
  return kept == std::vector<int64_t>{0, 2} ? 0 : 1;
}
