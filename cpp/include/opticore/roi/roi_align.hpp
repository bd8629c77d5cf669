// RoIAlign (He et al., Mask R-CNN, 2017): each region of interest of a feature map is cut into
// pooled_height x pooled_width bins and each bin averages bilinear samples of the features on a
// regular grid, so pooling is continuous in the RoI's coordinates. The semantics are those of
// torchvision.ops.roi_align, rule for rule:
//   - rois (K, 5) rows are (batch_index, x1, y1, x2, y2) in input-image coordinates; they are
//     multiplied by spatial_scale (the feature map's stride, e.g. 1/16), then, when `aligned`,
//     shifted by -0.5 so that a feature value sits at its pixel centre;
//   - without `aligned`, a RoI narrower or shorter than 1 (after scaling) is widened to 1; with it,
//     no minimum (a RoI of negative size gives zeros with the adaptive grid);
//   - each bin takes grid_h x grid_w samples at the centres of a regular sub-grid: grid = sampling_ratio
//     when sampling_ratio > 0, else the adaptive ceil(roi_height / pooled_height) (and likewise for
//     the width); the bin value is the sum of the samples divided by grid_h * grid_w (at least 1);
//   - a sample at y < -1 or y > H (or x < -1 or x > W) contributes zero; otherwise y (x) is clamped
//     to >= 0, and a sample in the last row / column (y >= H - 1) reads that row only;
//   - positions and weights are computed in T, as torchvision does.
// The output is (K, C, pooled_height, pooled_width), C-contiguous; empty rois give an empty output.
//
// Requires: rois (K, 5) with finite values, integral batch indices in [0, N), scaled coordinates
//           within +-kMaxRoiCoordinate; pooled sizes >= 1; spatial_scale finite and > 0;
//           sampling_ratio <= kMaxSamplingRatio (<= 0: adaptive); the output within kMaxArrayBytes.
// Throws:   std::invalid_argument naming the argument otherwise.
//
// Cost: samples outside the feature map are skipped without being visited, so a huge RoI costs
// O(H * W) per channel, not O(RoI area). The kernels work on channels-last features (a C-contiguous
// input is transposed once), vectorised over channels; the forward runs in parallel over RoIs and
// channel blocks, the backward over (image, channel block) with each block accumulating its RoIs in
// index order: no atomics, the same result on any number of threads.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"

namespace opticore {

/// The largest |coordinate * spatial_scale| a RoI may have: 2^24, where float32 positions stop
/// resolving pixels.
inline constexpr double kMaxRoiCoordinate = 16777216.0;

/// The largest explicit sampling_ratio: bounds the samples per bin at kMaxSamplingRatio^2.
inline constexpr int64_t kMaxSamplingRatio = 256;

struct RoiAlignOptions {
  int64_t pooled_height = 7;
  int64_t pooled_width = 7;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = -1;  ///< samples per bin side; <= 0: adaptive, ceil(roi size / pooled size)
  bool aligned = false;         ///< shift by -0.5 pixel (pixel-centre model), no minimum RoI size
};

/// Forward RoIAlign. input (N, C, H, W) of any strides; rois (K, 5); output (K, C, PH, PW),
/// C-contiguous, written in full. T: float or double.
template <class T>
void roi_align(const Array4View<T>& input, const MatrixView<T>& rois, const RoiAlignOptions& options, T* output);

/// Backward RoIAlign: the gradient of sum(output * grad_output) with respect to the input.
/// grad_output (K, C, PH, PW) of any strides; grad_input (batch, channels, height, width),
/// C-contiguous, written in full (zeros where no sample reads).
template <class T>
void roi_align_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                        int64_t height, int64_t width, const RoiAlignOptions& options, T* grad_input);

}  // namespace opticore
