// What RoIAlign and RoIPool share: argument checks, the RoIs of each image, and the features in a
// channels-last layout (so the kernels run over contiguous channels).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/core/threading.hpp"
#include "opticore/core/view.hpp"
#include "opticore/roi/roi_align.hpp"
#include "roi/detail/sampling.hpp"

namespace opticore::detail {

/// Channels and pixels per tile of the layout transposes (channels_last, channels_first).
inline constexpr int64_t kTransposeTile = 32;

/// Channels per task: the unit the kernels vectorise over and split the work by.
inline constexpr int64_t kRoiChannelBlock = 64;

inline void check_pooled_size(int64_t pooled_height, int64_t pooled_width) {
  if (pooled_height < 1 || pooled_width < 1) {
    fail("output_size: expected positive sizes, got (", pooled_height, ", ", pooled_width, ")");
  }
}

inline void check_spatial_scale(double spatial_scale) {
  if (!(std::isfinite(spatial_scale) && spatial_scale > 0.0)) {
    fail("spatial_scale: expected a finite value > 0, got ", spatial_scale);
  }
}

inline void check_feature_shape(const char* name, int64_t batch, int64_t channels, int64_t height, int64_t width) {
  if (batch < 0 || channels < 0 || height < 0 || width < 0) {
    fail(name, ": expected non-negative sizes, got (", batch, ", ", channels, ", ", height, ", ", width, ")");
  }
}

/// C_out of a position-sensitive operator: C / (PH * PW), which must divide.
inline int64_t position_sensitive_channels(int64_t channels, int64_t pooled_height, int64_t pooled_width) {
  check_pooled_size(pooled_height, pooled_width);
  const int64_t bins = pooled_height * pooled_width;
  if (channels % bins != 0) {
    fail("input: expected channels divisible by output_size[0] * output_size[1] = ", bins, ", got ", channels);
  }
  return channels / bins;
}

/// Channels per task of a backward pass, whose tasks are (image, channel block): kRoiChannelBlock,
/// halved down to 8 until there are a few tasks per thread.
inline int64_t roi_channel_block(int64_t batch, int64_t channels) {
  int64_t block = kRoiChannelBlock;
  const int64_t wanted = 4 * static_cast<int64_t>(get_num_threads());
  while (block > 8 && batch * ((channels + block - 1) / block) < wanted) block /= 2;
  return block;
}

/// grad_output of a backward pass: (K, C, PH, PW), as the forward output.
template <class T>
void check_grad_output_shape(const Array4View<T>& grad_output, int64_t K, int64_t C, int64_t PH, int64_t PW) {
  const int64_t* s = grad_output.size;
  if (s[0] != K || s[1] != C || s[2] != PH || s[3] != PW) {
    fail("grad_output: expected shape (K, C, PH, PW) = (", K, ", ", C, ", ", PH, ", ", PW, "), got (", s[0], ", ", s[1],
         ", ", s[2], ", ", s[3], ")");
  }
}

/// rois (K, 5): finite, an integral batch index in [0, batch), scaled coordinates within
/// +-kMaxRoiCoordinate.
template <class T>
void check_rois(const MatrixView<T>& rois, int64_t batch, double spatial_scale) {
  if (rois.rows < 0 || rois.cols != 5) {
    fail("rois: expected shape (K, 5) (batch_index, x1, y1, x2, y2), got (", rois.rows, ", ", rois.cols, ")");
  }
  for (int64_t k = 0; k < rois.rows; ++k) {
    const double index = static_cast<double>(rois(k, 0));
    if (!(index >= 0.0 && index < static_cast<double>(batch) && index == std::floor(index))) {
      fail("rois: expected an integral batch index in [0, ", batch, ") in column 0, got ", rois(k, 0), " at row ", k);
    }
    for (int64_t j = 1; j < 5; ++j) {
      const double value = static_cast<double>(rois(k, j));
      if (!std::isfinite(value)) fail("rois: expected finite coordinates, got ", rois(k, j), " at row ", k);
      if (!(std::abs(value * spatial_scale) <= kMaxRoiCoordinate)) {
        fail("rois: expected coordinates within +-", kMaxRoiCoordinate, " after scaling by spatial_scale, got ",
             rois(k, j), " * ", spatial_scale, " at row ", k);
      }
    }
  }
}

/// What every RoI operator checks: the feature map's sizes, the pooled size, spatial_scale and rois.
template <class T>
void check_roi_arguments(const MatrixView<T>& rois, int64_t N, int64_t C, int64_t H, int64_t W, int64_t pooled_height,
                         int64_t pooled_width, double spatial_scale) {
  check_feature_shape("input", N, C, H, W);
  check_pooled_size(pooled_height, pooled_width);
  check_spatial_scale(spatial_scale);
  check_rois(rois, N, spatial_scale);
}

/// RoI k of a checked rois view in whole cells (see pooled_roi in sampling.hpp).
template <class T>
PooledRoi<T> pooled_roi_at(const MatrixView<T>& rois, int64_t k, const RoiPoolOptions& options, bool inclusive) {
  T row[5];
  roi_row(rois.data, rois.row_stride, rois.col_stride, k, row);
  return pooled_roi(row, options, inclusive);
}

/// The RoI indices of each image, ascending (rois checked).
template <class T>
std::vector<std::vector<int64_t>> rois_by_image(const MatrixView<T>& rois, int64_t batch) {
  std::vector<std::vector<int64_t>> by_image(static_cast<size_t>(batch));
  for (int64_t k = 0; k < rois.rows; ++k) by_image[static_cast<size_t>(rois(k, 0))].push_back(k);
  return by_image;
}

/// Features addressed as (n, y, x, c) with contiguous channels: element = data[n * image + y * row +
/// x * col + c]. When the input's channels are not contiguous already, it is copied once into
/// `storage` as (N, H, W, C), so that the kernels always vectorise over channels.
///
/// With `groups` > 1 (the position-sensitive operators, groups = PH * PW bins) the channels are
/// also regrouped: input channel c * groups + b is stored at b * (C / groups) + c, so that the
/// channels one bin reads are contiguous.
template <class T>
struct ChannelsLast {
  const T* data = nullptr;
  int64_t image = 0, row = 0, col = 0;
  std::vector<T> storage;
};

template <class T>
ChannelsLast<T> channels_last(const Array4View<T>& input, int64_t groups = 1) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t group_size = groups > 0 ? C / groups : C;
  ChannelsLast<T> out;
  if (groups <= 1 && (input.stride[1] == 1 || C <= 1)) {
    out.data = input.data;
    out.image = input.stride[0], out.row = input.stride[2], out.col = input.stride[3];
    return out;
  }
  out.storage.resize(static_cast<size_t>(N * H * W * C));
  T* dst = out.storage.data();
  // One task per row of the map, kTransposeTile pixels at a time: four channels' runs of the row
  // are read together and written as four adjacent values per pixel, the tile's pixels staying in
  // cache until all their channels are written. Bin b's channels (stored at b * group_size + j)
  // are input channels j * groups + b: walked in that order, no division per value.
  const int64_t bins = std::max<int64_t>(groups, 1), sc = input.stride[1], sx = input.stride[3];
  parallel_for(N * H, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / H, y = task % H;
      for (int64_t x0 = 0; x0 < W; x0 += kTransposeTile) {
        const int64_t count = std::min(kTransposeTile, W - x0);
        const T* src = input.data + n * input.stride[0] + y * input.stride[2] + x0 * sx;
        T* tile = dst + (task * W + x0) * C;
        for (int64_t b = 0; b < bins; ++b) {
          int64_t j = 0;
          for (; j + 4 <= group_size; j += 4) {
            const T* s0 = src + (j * bins + b) * sc;
            const T *s1 = s0 + bins * sc, *s2 = s1 + bins * sc, *s3 = s2 + bins * sc;
            T* d = tile + b * group_size + j;
            for (int64_t x = 0; x < count; ++x) {
              T* e = d + x * C;
              e[0] = s0[x * sx], e[1] = s1[x * sx], e[2] = s2[x * sx], e[3] = s3[x * sx];
            }
          }
          for (; j < group_size; ++j) {
            const T* s0 = src + (j * bins + b) * sc;
            T* d = tile + b * group_size + j;
            for (int64_t x = 0; x < count; ++x) d[x * C] = s0[x * sx];
          }
        }
      }
    }
  });
  out.data = dst;
  out.image = H * W * C, out.row = W * C, out.col = C;
  return out;
}

/// Writes the (N, H, W, C) array `src` as the C-contiguous (N, C, H, W) array `dst`, undoing the
/// regrouping of channels_last(input, groups).
template <class T>
void channels_first(const T* src, int64_t N, int64_t C, int64_t H, int64_t W, T* dst, int64_t groups = 1) {
  const int64_t group_size = groups > 1 ? C / groups : C;
  const int64_t HW = H * W, tiles = (C + kTransposeTile - 1) / kTransposeTile;
  parallel_for(N * tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / tiles, c0 = (task % tiles) * kTransposeTile, c1 = std::min(C, c0 + kTransposeTile);
      for (int64_t p0 = 0; p0 < HW; p0 += kTransposeTile) {
        const int64_t p1 = std::min(HW, p0 + kTransposeTile);
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t stored = groups > 1 ? (c % groups) * group_size + c / groups : c;
          const T* s = src + n * HW * C + stored;
          T* d = dst + (n * C + c) * HW;
          for (int64_t p = p0; p < p1; ++p) d[p] = s[p * C];
        }
      }
    }
  });
}

}  // namespace opticore::detail
