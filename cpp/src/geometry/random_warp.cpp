#include "opticore/geometry/random_warp.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/detail/check.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/geometry/umeyama.hpp"

namespace opticore {
namespace {

void check_options(const RandomWarpOptions& o) {
  if (o.grid < 2) detail::fail("grid: expected >= 2 control points per side, got ", o.grid);
  if (o.out_size < 1) detail::fail("out_size: expected >= 1, got ", o.out_size);
  detail::check_positive(o.coverage, "coverage");
  if (!(std::isfinite(o.noise) && o.noise >= 0.0)) detail::fail("noise: expected a finite value >= 0, got ", o.noise);
  check_array_size("grid", {2, o.grid, o.grid}, sizeof(double));             // jitter, control points
  check_array_size("out_size", {2, o.out_size, o.out_size}, sizeof(float));  // the dense maps
}

template <class T>
void check_side(const OutputImage<T>& out, int64_t size, int64_t channels, const char* name) {
  if (out.data == nullptr || out.height != size || out.width != size || out.channels != channels) {
    detail::fail(name, ": expected ", size, "x", size, "x", channels, " (out_size, image channels), got ", out.height,
                 "x", out.width, "x", out.channels);
  }
}

/// Control points, planar: the g * g x values (row-major over grid rows, then columns), then the y
/// values (see the header).
std::vector<double> control_points(int64_t width, int64_t height, MatrixBatchView<double> jitter,
                                   const RandomWarpOptions& o) {
  const int64_t g = o.grid, n = g * g;
  if (jitter.data == nullptr || jitter.batch != 2 || jitter.rows != g || jitter.cols != g) {
    detail::fail("jitter: expected shape (2, ", g, ", ", g, ") for grid ", g, ", got (", jitter.batch, ", ",
                 jitter.rows, ", ", jitter.cols, ")");
  }
  const double w = static_cast<double>(width), h = static_cast<double>(height);
  const double cx = (w - 1.0) / 2.0, cy = (h - 1.0) / 2.0;
  const double sx = o.noise * w, sy = o.noise * h;
  const double last = static_cast<double>(g - 1);
  const MatrixView<double> jx = jitter[0], jy = jitter[1];
  std::vector<double> points(static_cast<size_t>(2 * n));
  for (int64_t i = 0; i < g; ++i) {
    for (int64_t j = 0; j < g; ++j) {
      const double zx = jx(i, j), zy = jy(i, j);
      if (!std::isfinite(zx) || !std::isfinite(zy)) {
        detail::fail("jitter: expected finite values, got (", zx, ", ", zy, ") at (", i, ", ", j, ")");
      }
      const double bx = cx + (static_cast<double>(j) / last - 0.5) * o.coverage * w;
      const double by = cy + (static_cast<double>(i) / last - 0.5) * o.coverage * h;
      const double x = bx + sx * zx, y = by + sy * zy;
      if (!std::isfinite(x) || !std::isfinite(y)) {
        detail::fail("coverage, noise: control point (", i, ", ", j, ") overflows (coverage ", o.coverage, ", noise ",
                     o.noise, ", jitter (", zx, ", ", zy, "))");
      }
      points[static_cast<size_t>(i * g + j)] = x;
      points[static_cast<size_t>(n + i * g + j)] = y;
    }
  }
  return points;
}

/// Cell index and fraction of output position p along a grid axis (see the header, step 2).
struct Cell {
  int64_t k;
  double f;
};

std::vector<Cell> cells(int64_t out_size, int64_t grid) {
  std::vector<Cell> out(static_cast<size_t>(out_size));
  const double last = static_cast<double>(grid - 1), size = static_cast<double>(out_size);
  for (int64_t p = 0; p < out_size; ++p) {
    const double u = (static_cast<double>(p) + 0.5) * last / size;
    const int64_t k = std::min<int64_t>(static_cast<int64_t>(std::floor(u)), grid - 2);
    out[static_cast<size_t>(p)] = {k, u - static_cast<double>(k)};
  }
  return out;
}

}  // namespace

template <class T>
std::array<double, 6> random_warp(ImageView<T> image, MatrixBatchView<double> jitter, OutputImage<T> warped,
                                  OutputImage<T> target, const RandomWarpOptions& options) {
  detail::check_image(image, detail::kMaxWarpSide);
  check_options(options);
  const int64_t g = options.grid, s = options.out_size;
  check_side(warped, s, image.channels, "warped");
  check_side(target, s, image.channels, "target");
  const std::vector<double> points = control_points(image.width, image.height, jitter, options);

  // Dense map: bilinear interpolation of the control points (a lerp along x on the two grid rows
  // around v, then one along y), per plane.
  const std::vector<Cell> cell = cells(s, g);
  std::vector<float> maps(static_cast<size_t>(2 * s * s));
  for (int64_t d = 0; d < 2; ++d) {
    const double* plane = points.data() + d * g * g;
    float* out = maps.data() + d * s * s;
    for (int64_t y = 0; y < s; ++y) {
      const Cell row = cell[static_cast<size_t>(y)];
      const double* p0 = plane + row.k * g;
      const double* p1 = p0 + g;
      const double fv = row.f;
      float* o = out + y * s;
      for (int64_t x = 0; x < s; ++x) {
        const Cell c = cell[static_cast<size_t>(x)];
        const double top = p0[c.k] + c.f * (p0[c.k + 1] - p0[c.k]);
        const double bottom = p1[c.k] + c.f * (p1[c.k + 1] - p1[c.k]);
        o[x] = static_cast<float>(top + fv * (bottom - top));
      }
    }
  }
  const WarpOptions warp_options{Interpolation::Linear, options.border_mode, options.border_value};
  remap(image, MatrixView<float>(maps.data(), s, s), MatrixView<float>(maps.data() + s * s, s, s), warped,
        warp_options);

  // Target: the similarity from the jittered control points to the regular output nodes (both
  // planar, read as (g * g, 2) views).
  const int64_t n = g * g;
  std::vector<double> nodes(points.size());
  const double step = static_cast<double>(s) / static_cast<double>(g - 1);
  for (int64_t i = 0; i < g; ++i) {
    for (int64_t j = 0; j < g; ++j) {
      nodes[static_cast<size_t>(i * g + j)] = static_cast<double>(j) * step - 0.5;
      nodes[static_cast<size_t>(n + i * g + j)] = static_cast<double>(i) * step - 0.5;
    }
  }
  // The batched fit gives NaN instead of throwing for a degenerate grid: reported below, naming
  // the arguments that made it so (as is a similarity too extreme to invert).
  double m[9];
  umeyama_batch(MatrixBatchView<double>(points.data(), 1, n, 2, 2 * n, 1, n),
                MatrixBatchView<double>(nodes.data(), 1, n, 2, 2 * n, 1, n), true, m);
  const std::array<double, 6> M{m[0], m[1], m[2], m[3], m[4], m[5]};
  if (!detail::invert_affine(M)) {
    detail::fail("coverage, noise: the jittered control grid (coverage ", options.coverage, ", noise ", options.noise,
                 ") has no invertible similarity to the output grid (scale ", std::hypot(m[0], m[3]), ")");
  }
  warp_affine(image, M, target, warp_options);
  return M;
}

template <class T>
std::array<double, 6> random_warp(ImageView<T> image, std::mt19937_64& rng, OutputImage<T> warped,
                                  OutputImage<T> target, const RandomWarpOptions& options) {
  check_options(options);
  std::vector<double> jitter(static_cast<size_t>(2 * options.grid * options.grid));
  std::normal_distribution<double> normal(0.0, 1.0);
  for (double& z : jitter) z = normal(rng);
  return random_warp(image, MatrixBatchView<double>(jitter.data(), 2, options.grid, options.grid), warped, target,
                     options);
}

template std::array<double, 6> random_warp(ImageView<uint8_t>, MatrixBatchView<double>, OutputImage<uint8_t>,
                                           OutputImage<uint8_t>, const RandomWarpOptions&);
template std::array<double, 6> random_warp(ImageView<float>, MatrixBatchView<double>, OutputImage<float>,
                                           OutputImage<float>, const RandomWarpOptions&);
template std::array<double, 6> random_warp(ImageView<uint8_t>, std::mt19937_64&, OutputImage<uint8_t>,
                                           OutputImage<uint8_t>, const RandomWarpOptions&);
template std::array<double, 6> random_warp(ImageView<float>, std::mt19937_64&, OutputImage<float>, OutputImage<float>,
                                           const RandomWarpOptions&);

}  // namespace opticore
