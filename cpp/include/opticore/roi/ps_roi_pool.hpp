// Position-sensitive RoI pooling (R-FCN, Dai et al. 2016): the input's C = C_out * PH * PW
// channels are PH * PW score maps per output channel, and bin (ph, pw) of output channel c
// averages input channel (c * PH + ph) * PW + pw over the bin's cells. The semantics are
// torchvision.ops.ps_roi_pool's (which differ from roi_pool's beyond the channel mapping):
//   - the corners are scaled by spatial_scale and rounded half away from zero; the RoI's size is
//     x2 - x1 (not + 1), at least 1, and likewise for y;
//   - bin (ph, pw) covers rows floor(ph * h / PH) .. ceil((ph + 1) * h / PH) - 1 from y1 (h the
//     RoI's height, the bin size in T), clipped to rows 0 .. H - 2: torchvision clips a bin's end
//     to H - 1 (exclusive), so the map's last row is never pooled; likewise columns (0 .. W - 2).
//     Kept for torchvision's numbers (an R-FCN head trained with it gives the same scores). The
//     backward is this forward's derivative (torchvision's spreads its gradient up to H and W,
//     over cells its forward never reads, so it differs for RoIs that reach the last row or column);
//   - the bin value is the mean of its cells, 0 for an empty bin.
// The output is (K, C_out, PH, PW), C-contiguous.
//
// Requires: input channels divisible by PH * PW; otherwise as roi_align (opticore/roi/roi_align.hpp).
// Throws:   std::invalid_argument naming the argument otherwise.
// Cost: each bin reads (backward: writes) only its cells inside the map, in place, one output
// channel's score maps at a time so that they stay in cache across RoIs; forward in parallel over
// (output channel, RoIs), backward over (image, output channel), deterministic.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"
#include "opticore/roi/roi_pool.hpp"

namespace opticore {

/// Forward. input (N, C_out * PH * PW, H, W) of any strides; rois (K, 5); output (K, C_out, PH, PW).
template <class T>
void ps_roi_pool(const Array4View<T>& input, const MatrixView<T>& rois, const RoiPoolOptions& options, T* output);

/// Backward: the gradient with respect to the input (batch, channels, height, width), C-contiguous,
/// written in full. grad_output (K, channels / (PH * PW), PH, PW) of any strides.
template <class T>
void ps_roi_pool_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t batch, int64_t channels,
                          int64_t height, int64_t width, const RoiPoolOptions& options, T* grad_input);

}  // namespace opticore
