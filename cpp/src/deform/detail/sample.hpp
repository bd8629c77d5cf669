// Where a deformable-convolution tap samples the input (bilinear, zeros outside the image, as
// opticore/deform/deform_conv2d.hpp states): the one definition, compiled for the CPU kernels and
// (under nvcc, as __host__ __device__) for the CUDA ones.
#pragma once

#include <cmath>
#include <cstdint>

#include "roi/detail/sampling.hpp"  // OPTICORE_HOST_DEVICE

namespace opticore::detail {

/// Where one tap of one output pixel samples: the top-left corner and the four bilinear weights
/// (mask included; zero for a corner outside the image, whose coordinates are then clamped so
/// that reading it is safe), and the unmasked fractions the offset gradient needs.
template <class T>
struct Sample {
  int64_t y = 0, x = 0;        ///< top-left corner, clamped into the image
  int64_t dy = 0, dx = 0;      ///< steps to the bottom / right corners (0 or 1)
  T w[4] = {0, 0, 0, 0};       ///< weights of (y, x), (y, x + dx), (y + dy, x), (y + dy, x + dx), masked
  T ly = 0, lx = 0, mask = 0;  ///< fractional position in the cell, and the mask
  bool inside = false;         ///< whether the position reads the image at all
  bool corner[4] = {false, false, false, false};
};

template <class T>
OPTICORE_HOST_DEVICE Sample<T> make_sample(T y, T x, T mask, int64_t H, int64_t W) {
  Sample<T> s;
  s.mask = mask;
  if (!(y > T(-1) && y < static_cast<T>(H) && x > T(-1) && x < static_cast<T>(W))) return s;  // NaN too
  s.inside = true;
  const int64_t y0 = static_cast<int64_t>(std::floor(y)), x0 = static_cast<int64_t>(std::floor(x));
  s.ly = y - static_cast<T>(y0), s.lx = x - static_cast<T>(x0);
  const T hy = T(1) - s.ly, hx = T(1) - s.lx;
  const bool top = y0 >= 0, bottom = y0 + 1 <= H - 1, left = x0 >= 0, right = x0 + 1 <= W - 1;
  s.corner[0] = top && left, s.corner[1] = top && right, s.corner[2] = bottom && left, s.corner[3] = bottom && right;
  const T weights[4] = {hy * hx, hy * s.lx, s.ly * hx, s.ly * s.lx};
  for (int i = 0; i < 4; ++i) s.w[i] = s.corner[i] ? weights[i] * mask : T(0);
  s.y = y0 < 0 ? 0 : (y0 > H - 1 ? H - 1 : y0), s.x = x0 < 0 ? 0 : (x0 > W - 1 ? W - 1 : x0);
  s.dy = (top && bottom) ? 1 : 0, s.dx = (left && right) ? 1 : 0;
  return s;
}

}  // namespace opticore::detail
