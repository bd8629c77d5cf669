// RoIPool (Girshick, Fast R-CNN, 2015): each region of interest is cut into pooled_height x
// pooled_width bins of whole feature-map cells and each bin takes the maximum. The semantics are
// those of torchvision.ops.roi_pool:
//   - rois (K, 5) rows are (batch_index, x1, y1, x2, y2); the corners are scaled by spatial_scale
//     and rounded half away from zero; the RoI spans the cells x1..x2 and y1..y2 inclusive (at
//     least one cell each way);
//   - bin (ph, pw) covers rows floor(ph * h / PH) .. ceil((ph + 1) * h / PH) - 1 of the RoI
//     (h = its height in cells, the bin size in T), clipped to the feature map; likewise columns;
//   - the bin value is the largest feature in it, the first one in row-major order on ties; NaN
//     features are never taken (a bin of only NaN gives the lowest float, -FLT_MAX); an empty bin
//     (outside the map) gives 0;
//   - argmax holds the index y * W + x of the taken value in its (n, c) plane, -1 when none.
// Outputs are (K, C, PH, PW), C-contiguous.
//
// Requires and throws: as roi_align (opticore/roi/roi_align.hpp).
// Cost: each bin reads only its cells inside the feature map; forward in parallel over RoIs and
// channel blocks, backward over (image, channel block), deterministic.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"

namespace opticore {

struct RoiPoolOptions {
  int64_t pooled_height = 7;
  int64_t pooled_width = 7;
  double spatial_scale = 1.0;
};

/// Forward RoIPool. input (N, C, H, W) of any strides; rois (K, 5); output and argmax
/// (K, C, PH, PW), C-contiguous, written in full. T: float or double.
template <class T>
void roi_pool(const Array4View<T>& input, const MatrixView<T>& rois, const RoiPoolOptions& options, T* output,
              int64_t* argmax);

/// Backward RoIPool: grad_input[n, c, argmax] accumulates grad_output. grad_output (K, C, PH, PW)
/// of any strides; argmax as returned by roi_pool (C-contiguous); grad_input (batch, channels,
/// height, width), C-contiguous, written in full.
template <class T>
void roi_pool_backward(const Array4View<T>& grad_output, const int64_t* argmax, const MatrixView<T>& rois,
                       int64_t batch, int64_t channels, int64_t height, int64_t width, const RoiPoolOptions& options,
                       T* grad_input);

}  // namespace opticore
