// Links opticore::core from an installed tree and checks one NMS result by hand.
#include <cstdio>
#include <vector>

#include <opticore/opticore.hpp>

int main() {
  // Boxes 0 and 1 overlap with IoU 0.81 (> 0.5), box 2 stands apart.
  const std::vector<float> boxes = {0, 0, 10, 10, 0, 0, 9, 9, 20, 20, 30, 30};
  const std::vector<float> scores = {0.9f, 0.95f, 0.5f};
  const std::vector<int64_t> kept = opticore::nms(opticore::MatrixView<float>(boxes.data(), 3, 4),
                                                  opticore::VectorView<float>(scores.data(), 3), 0.5);
  const bool ok = kept == std::vector<int64_t>{1, 2};
  std::printf("opticore %s: kept %zu boxes -> %s\n", OPTICORE_VERSION_STRING, kept.size(),
              ok ? "consumer ok" : "WRONG");
  return ok ? 0 : 1;
}
