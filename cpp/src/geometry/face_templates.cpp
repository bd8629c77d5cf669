#include "opticore/geometry/face_templates.hpp"

#include <algorithm>

#include "core/detail/check.hpp"

namespace opticore::face {

std::array<std::array<double, 2>, 5> arcface_template(int64_t size) {
  if (size <= 0) detail::fail("size: expected a positive crop size, got ", size);
  // insightface's norm_crop rule: the template is defined for 112 (and its multiples) and for
  // 128-wide crops, which keep the face size and pad 8 pixels on each side.
  const bool multiple_of_112 = size % 112 == 0;
  const double ratio = static_cast<double>(size) / (multiple_of_112 ? 112.0 : 128.0);
  const double shift_x = multiple_of_112 ? 0.0 : 8.0 * ratio;
  std::array<std::array<double, 2>, 5> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = {kArcFace112[i][0] * ratio + shift_x, kArcFace112[i][1] * ratio};
  }
  return out;
}

std::vector<std::array<double, 2>> mean_shape68(int64_t size) {
  if (size <= 0) detail::fail("size: expected a positive crop size, got ", size);
  std::array<double, 2> lo{1e9, 1e9}, hi{-1e9, -1e9};
  for (const auto& p : kMeanShape68) {
    for (int k = 0; k < 2; ++k) {
      lo[k] = std::min(lo[k], p[k]);
      hi[k] = std::max(hi[k], p[k]);
    }
  }
  std::vector<std::array<double, 2>> out;
  out.reserve(kMeanShape68.size());
  for (const auto& p : kMeanShape68) {
    out.push_back({(p[0] - lo[0]) / (hi[0] - lo[0]) * static_cast<double>(size),
                   (p[1] - lo[1]) / (hi[1] - lo[1]) * static_cast<double>(size)});
  }
  return out;
}

}  // namespace opticore::face
