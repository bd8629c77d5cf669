// Position-sensitive RoIAlign (R-FCN, Dai et al. 2016, with RoIAlign's bilinear sampling): the
// input's C = C_out * PH * PW channels are PH * PW score maps per output channel, and bin (ph, pw)
// of output channel c pools only input channel (c * PH + ph) * PW + pw. The semantics are
// torchvision.ops.ps_roi_align's: the RoI is scaled by spatial_scale and shifted by -0.5 (always,
// RoIAlign's `aligned` model, no minimum size), and each bin averages the same grid of bilinear
// samples as roi_align (opticore/roi/roi_align.hpp: adaptive or fixed sampling_ratio, samples
// outside [-1, H] x [-1, W] give zero, border clamping). One difference: a bin with no samples
// (a RoI of zero or negative size with the adaptive grid) gives 0, where torchvision divides 0 by
// 0 (NaN).
// The output is (K, C_out, PH, PW), C-contiguous.
//
// Requires: input channels divisible by PH * PW; otherwise as roi_align.
// Throws:   std::invalid_argument naming the argument otherwise.
//
// Cost: as roi_align, with the channels regrouped once into a channels-last copy (C_out channels
// contiguous per bin); the backward is deterministic (no atomics) on any number of threads.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"
#include "opticore/roi/roi_align.hpp"

namespace opticore {

struct PsRoiAlignOptions {
  int64_t pooled_height = 7;
  int64_t pooled_width = 7;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = -1;  ///< samples per bin side; <= 0: adaptive, ceil(roi size / pooled size)
};

/// Forward. input (N, C_out * PH * PW, H, W) of any strides; rois (K, 5); output (K, C_out, PH, PW).
template <class T>
void ps_roi_align(const Array4View<T>& input, const MatrixView<T>& rois, const PsRoiAlignOptions& options, T* output);

/// Backward: the gradient of sum(output * grad_output) with respect to the input (batch, channels,
/// height, width), C-contiguous, written in full. grad_output (K, channels / (PH * PW), PH, PW).
template <class T>
void ps_roi_align_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                           int64_t height, int64_t width, const PsRoiAlignOptions& options, T* grad_input);

}  // namespace opticore
