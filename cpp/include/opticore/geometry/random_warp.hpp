// Faceswap-style random warp augmentation: a jittered control grid, interpolated to a dense map,
// warps the input (remap); a similarity fitted to the same jittered grid gives the target
// (warp_affine). Both outputs are out_size x out_size and show the same region of the image: the
// warp is the smooth, non-rigid part the network learns to undo.
//
// Algorithm (pixel centres at integer coordinates, W x H image, g = grid, s = out_size):
//   1. Control point (i, j) (row i, column j, 0 <= i, j < g):
//        x = (W-1)/2 + (j/(g-1) - 0.5) * coverage * W + noise * W * jitter[0][i][j]
//        y = (H-1)/2 + (i/(g-1) - 0.5) * coverage * H + noise * H * jitter[1][i][j]
//      jitter holds standard-normal deviates (x plane, then y plane).
//   2. Dense map: output pixel (x, y) sits at grid coordinates u = (x + 0.5) * (g-1) / s,
//      v = (y + 0.5) * (g-1) / s; its source coordinate is the bilinear interpolation of the control
//      points at (u, v), stored as float32 (this is faceswap's cv2.resize of the control grid to
//      s * g / (g-1) followed by a crop of s / (2 (g-1)) on each side).
//      warped = remap(image, map_x, map_y) with Interpolation::Linear.
//   3. Output node (i, j) of the regular grid is (j * s / (g-1) - 0.5, i * s / (g-1) - 0.5); the
//      similarity M = umeyama(control points -> output nodes) gives target = warp_affine(image, M).
//      With zero noise on a square image, warped and target are the same image up to
//      interpolation rounding.
//
// Requires: image as for remap / warp_affine; grid >= 2; out_size >= 1; coverage > 0 and finite;
//           noise >= 0 and finite; jitter of shape (2, grid, grid) with finite values; warped and
//           target out_size x out_size with the image's channels; a border value that is not NaN
//           for uint8 images.
// Throws:   std::invalid_argument naming the argument otherwise: also when the control points
//           overflow, or the jittered grid has no invertible similarity (collinear points, or
//           spread so far, coverage ~1e300, that the scale underflows): "coverage, noise: ...";
//           and when the jitter or the dense maps (2 x out_size^2 floats) exceed kMaxArrayBytes.
#pragma once

#include <array>
#include <cstdint>
#include <random>

#include "opticore/core/image.hpp"
#include "opticore/core/view.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore {

struct RandomWarpOptions {
  int64_t grid = 5;            ///< control points per side, >= 2
  double coverage = 0.625;     ///< fraction of the width / height the control grid spans (160/256)
  double noise = 5.0 / 256.0;  ///< jitter std as a fraction of the width (x) / height (y)
  int64_t out_size = 64;       ///< side of both outputs
  BorderMode border_mode = BorderMode::Replicate;
  std::array<double, 4> border_value{};  ///< per channel, used by BorderMode::Constant
};

/// Deterministic core: `jitter` is (2, grid, grid) standard-normal deviates (batch 0: x, batch 1:
/// y; element (k, i, j) for control point row i, column j). Writes `warped` and `target` and
/// returns the 2x3 matrix {a, b, c, d, e, f} that produced `target` (image -> target pixels).
template <class T>
std::array<double, 6> random_warp(ImageView<T> image, MatrixBatchView<double> jitter, OutputImage<T> warped,
                                  OutputImage<T> target, const RandomWarpOptions& options = {});

/// Draws the jitter from `rng` with std::normal_distribution<double>(0, 1): all x deviates
/// (row-major over grid rows, then columns), then all y deviates; `rng` advances by that much.
/// The sequence depends on the standard library's normal_distribution, so it is reproducible for
/// one toolchain but not across them (the Python API draws with NumPy instead).
template <class T>
std::array<double, 6> random_warp(ImageView<T> image, std::mt19937_64& rng, OutputImage<T> warped,
                                  OutputImage<T> target, const RandomWarpOptions& options = {});

}  // namespace opticore
