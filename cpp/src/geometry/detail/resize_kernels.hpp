// What resize and crop_resize share: cv::resize's per-axis taps and its separable resampling
// (a horizontal pass per source row, cached because consecutive output rows share source rows,
// then a vertical pass), and its area averaging.
//
// uint8 "linear" reproduces OpenCV bit for bit: 11-bit weights (INTER_RESIZE_COEF_BITS), exact
// int32 horizontal sums, and OpenCV's vertical rounding: each row sum is cut by 4 bits to int16,
// multiplied by its weight keeping the high 16 bits, the two added and rounded by 2 more bits.
// uint8 "cubic" too: its vertical pass in float over blocks of 8 values, in integers after them.
// Instruction sets: SSE2 (the x86-64 baseline, always present there) for the uint8 linear passes;
// plain C++ elsewhere, with the same results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/detail/small_buffer.hpp"
#include "opticore/core/image.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::detail {

constexpr int kResizeCoefBits = 11;

/// How an axis is sampled: OpenCV's INTER_LINEAR (half-pixel centres), INTER_CUBIC (Keys,
/// A = -0.75), or the bilinear emulation INTER_AREA uses when it enlarges.
enum class AxisKind { Linear, Cubic, AreaLinear };

/// Tap table entries held without a heap allocation (128 outputs of 4 taps, 256 of 2).
constexpr size_t kSmallTaps = 512;

/// cv::resize's taps for `out` samples of an axis of `in` pixels: output index d reads source
/// indices index[d * taps + k], all inside [0, n), with weights wf (float images) or wi (uint8
/// images, 11-bit fixed point). `columns` for the horizontal axis (OpenCV treats the two bilinear
/// borders differently). `name` is the argument that set the size, named if the tables would be
/// too large.
struct ResizeAxis {
  ResizeAxis(int64_t in, int64_t out, AxisKind kind, bool columns, const char* name);

  int taps;
  SmallBuffer<int64_t, kSmallTaps> index;
  SmallBuffer<float, kSmallTaps> wf;
  SmallBuffer<int16_t, kSmallTaps> wi;
};

/// dst(y, x) = sum over taps of image(ay rows, ax columns) * weights; the image has
/// channel_stride 1. `parallel`: output rows are split over get_num_threads().
template <class T>
void resize_separable(const ImageView<T>& image, const ResizeAxis& ax, const ResizeAxis& ay, const OutputImage<T>& dst,
                      bool parallel);

/// INTER_AREA when both axes shrink (or keep) their size: every output pixel the mean of the
/// source area it covers, partial pixels weighted by their share; whole-number factors sum
/// their blocks directly, as OpenCV does (a factor of 2 rounds (sum + 2) >> 2).
template <class T>
void resize_area(const ImageView<T>& image, const OutputImage<T>& dst, bool parallel);

/// torch's adaptive average pooling ("bins", see resize_bins.cpp).
template <class T>
void resize_bins(const ImageView<T>& image, const OutputImage<T>& dst, bool parallel);

/// resize on a view with channel_stride 1 (checked by the caller); see resize in warp.hpp.
template <class T>
void resize_view(const ImageView<T>& image, const OutputImage<T>& dst, Interpolation interpolation, bool parallel);

/// `image` itself when its channels are adjacent (channel_stride 1), else a packed copy held in
/// `storage` (named "image" if too large).
template <class T>
ImageView<T> channels_packed(const ImageView<T>& image, std::vector<T>& storage);

/// cv::resize's scale per axis (in / out, through the inverse as OpenCV computes it).
inline double resize_scale(int64_t in, int64_t out) {
  return 1.0 / (static_cast<double>(out) / static_cast<double>(in));
}

}  // namespace opticore::detail
