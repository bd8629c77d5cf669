// Where RoIAlign samples and which cells a RoIPool bin covers: the one definition, compiled for
// the CPU kernels and (under nvcc, as __host__ __device__) for the CUDA ones, so both follow
// torchvision's rules (opticore/roi/*.hpp) in the same arithmetic.
#pragma once

#include <cmath>
#include <cstdint>

#include "opticore/roi/roi_align.hpp"
#include "opticore/roi/roi_pool.hpp"

#if defined(__CUDACC__)
#define OPTICORE_HOST_DEVICE __host__ __device__
#else
#define OPTICORE_HOST_DEVICE
#endif

namespace opticore::detail {

/// One RoI of RoIAlign in feature-map coordinates: where its bins start, their size, the grid.
template <class T>
struct AlignedRoi {
  int64_t image = 0;
  T start_y = 0, start_x = 0, bin_height = 0, bin_width = 0;
  int64_t grid_height = 0, grid_width = 0;
  T count = 1;  ///< grid_height * grid_width, at least 1: each bin's divisor
};

/// row: the RoI's (batch_index, x1, y1, x2, y2), checked.
template <class T>
OPTICORE_HOST_DEVICE AlignedRoi<T> aligned_roi(const T (&row)[5], const RoiAlignOptions& options) {
  const T scale = static_cast<T>(options.spatial_scale);
  const T offset = options.aligned ? T(0.5) : T(0);
  AlignedRoi<T> roi;
  roi.image = static_cast<int64_t>(row[0]);
  roi.start_x = row[1] * scale - offset;
  roi.start_y = row[2] * scale - offset;
  T width = row[3] * scale - offset - roi.start_x;
  T height = row[4] * scale - offset - roi.start_y;
  if (!options.aligned) {  // malformed RoIs become at least 1 x 1
    width = width > T(1) ? width : T(1);
    height = height > T(1) ? height : T(1);
  }
  roi.bin_height = height / static_cast<T>(options.pooled_height);
  roi.bin_width = width / static_cast<T>(options.pooled_width);
  const bool adaptive = options.sampling_ratio <= 0;
  roi.grid_height = adaptive ? static_cast<int64_t>(std::ceil(roi.bin_height)) : options.sampling_ratio;
  roi.grid_width = adaptive ? static_cast<int64_t>(std::ceil(roi.bin_width)) : options.sampling_ratio;
  const int64_t samples = roi.grid_height * roi.grid_width;
  roi.count = static_cast<T>(samples > 1 ? samples : 1);
  return roi;
}

/// Sample i of a bin's sub-grid along one axis, as torchvision computes it (i + 0.5 in float).
template <class T>
OPTICORE_HOST_DEVICE T sample_position(T bin_start, T bin_size, int64_t grid, int64_t i) {
  return bin_start + static_cast<T>(static_cast<float>(i) + 0.5f) * bin_size / static_cast<T>(grid);
}

/// The samples [first, last) of a bin (along one axis of a map of `size` cells) that lie in
/// [-1, size], the ones that read the map. Positions are monotonic in i (so is rounding), so they
/// form one run, found by bisection: a huge RoI costs what its part inside the map costs.
template <class T>
OPTICORE_HOST_DEVICE void samples_inside(T bin_start, T bin_size, int64_t grid, int64_t size, int64_t& first,
                                         int64_t& last) {
  first = last = 0;
  if (grid <= 0 || size <= 0) return;
  const T lowest = T(-1), highest = static_cast<T>(size);
  const bool rising = bin_size >= 0;
  // The first i in [lo, grid) where `past(position)` holds, `past` false then true over i.
  auto bisect = [&](int64_t lo, bool upper) {
    int64_t hi = grid;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      const T p = sample_position(bin_start, bin_size, grid, mid);
      const bool past = upper ? (rising ? p > highest : p < lowest) : (rising ? p >= lowest : p <= highest);
      if (past) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  };
  first = bisect(0, false);
  last = bisect(first, true);
}

/// The two rows (or columns) a sample at `position` (inside [-1, size]) reads and their weights:
/// clamped to >= 0; at or past the last row it reads that row alone.
template <class T>
OPTICORE_HOST_DEVICE void bilinear_pair(T position, int64_t size, int64_t& low, int64_t& high, T& w_low, T& w_high) {
  T v = position > T(0) ? position : T(0);
  low = static_cast<int64_t>(v);
  high = low + 1;
  if (low >= size - 1) {
    low = high = size - 1;
    v = static_cast<T>(low);
  }
  w_high = v - static_cast<T>(low);
  w_low = T(1) - w_high;
}

/// One RoI of RoIPool in whole cells: its first row and column and the size of its bins.
template <class T>
struct PooledRoi {
  int64_t image = 0, start_y = 0, start_x = 0;
  T bin_height = 0, bin_width = 0;
};

/// row: the RoI's (batch_index, x1, y1, x2, y2), checked. Its corners are scaled and rounded half
/// away from zero; RoIPool spans the cells x1..x2 inclusive (`inclusive`, size x2 - x1 + 1),
/// position-sensitive pooling x2 - x1 (torchvision's ps_roi_pool); at least 1 either way.
template <class T>
OPTICORE_HOST_DEVICE PooledRoi<T> pooled_roi(const T (&row)[5], const RoiPoolOptions& options, bool inclusive = true) {
  const T scale = static_cast<T>(options.spatial_scale);
  PooledRoi<T> roi;
  roi.image = static_cast<int64_t>(row[0]);
  roi.start_x = static_cast<int64_t>(std::round(row[1] * scale));
  roi.start_y = static_cast<int64_t>(std::round(row[2] * scale));
  const int64_t extra = inclusive ? 1 : 0;
  const int64_t width = static_cast<int64_t>(std::round(row[3] * scale)) - roi.start_x + extra;
  const int64_t height = static_cast<int64_t>(std::round(row[4] * scale)) - roi.start_y + extra;
  roi.bin_height = static_cast<T>(height > 1 ? height : 1) / static_cast<T>(options.pooled_height);
  roi.bin_width = static_cast<T>(width > 1 ? width : 1) / static_cast<T>(options.pooled_width);
  return roi;
}

/// The cells [begin, end) of bin p along one axis, clipped to [0, size).
template <class T>
OPTICORE_HOST_DEVICE void bin_cells(int64_t p, T bin_size, int64_t start, int64_t size, int64_t& begin, int64_t& end) {
  begin = static_cast<int64_t>(std::floor(static_cast<T>(p) * bin_size)) + start;
  end = static_cast<int64_t>(std::ceil(static_cast<T>(p + 1) * bin_size)) + start;
  begin = begin < 0 ? 0 : (begin > size ? size : begin);
  end = end < 0 ? 0 : (end > size ? size : end);
}

/// Row k of a (K, 5) rois view, as the array the functions above take.
template <class T>
OPTICORE_HOST_DEVICE void roi_row(const T* rois, int64_t row_stride, int64_t col_stride, int64_t k, T (&row)[5]) {
  for (int j = 0; j < 5; ++j) row[j] = rois[k * row_stride + j * col_stride];
}

}  // namespace opticore::detail
