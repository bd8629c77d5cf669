// Image warps: affine warp, remap with coordinate maps, resize. Same semantics as OpenCV's
// cv::warpAffine (without WARP_INVERSE_MAP), cv::remap (CV_32FC1 maps) and cv::resize.
//
// Conventions:
//   - Images are H x W x C, C in 1..4, uint8_t or float, read through strided views (any layout);
//     outputs are C-contiguous with the input's channel count. Pixel centres at integer coordinates.
//   - warp_affine: M (row-major 2x3) maps SOURCE to DESTINATION; it is inverted internally and
//     dst(x, y) = image(M^-1 (x, y)).  remap: dst(x, y) = image(map_x(y, x), map_y(y, x)).
//   - Arithmetic (OpenCV's scheme, so that results match it closely): source coordinates are
//     quantised to 1/32 pixel (INTER_BITS = 5; warp_affine goes through 1/1024 fixed point first
//     like OpenCV), "nearest" rounds to the nearest pixel, "linear" / "cubic" weights come from a
//     32 x 32 table per fractional position (cubic: Keys kernel with A = -0.75). uint8 images are
//     interpolated in 15-bit fixed point with rounding and saturation (INTER_REMAP_COEF_BITS),
//     float images in float. Source pixels are clamped to the int16 range after the 1/32
//     quantisation (remap: cvRound(32 v) in int32, saturated; NaN reads as -32768), as in OpenCV.
//   - Borders: taps outside the image read `border_value` (Constant; a pixel whose taps are all
//     outside gets it directly), the nearest edge pixel (Replicate), the mirror image with the edge
//     repeated (Reflect: fedcba|abcdef) or not (Reflect101: gfedcb|abcdefg).
//   - resize uses OpenCV's cv::resize arithmetic instead: "linear" and "cubic" sample at
//     ((x + 0.5) * in / out - 0.5) with replicated borders, uint8 in 11-bit fixed point per axis
//     (linear: bit-exact with OpenCV, including its vertical rounding; an exact 2x reduction is the
//     2x2 mean; cubic: bit-exact with OpenCV's own code, not the IPP its builds use by default);
//     "nearest" takes floor(x * in / out); "area" averages the covered source area when
//     both sides shrink or keep their size (whole-number factors as block means) and is OpenCV's
//     bilinear area emulation otherwise. "bins" is torch's adaptive average pooling instead
//     (interpolate(mode="area")): output pixel i of an axis is the plain mean of source pixels
//     [floor(i * in / out), ceil((i + 1) * in / out)), every pixel a bin touches counted fully (bins
//     overlap unless out divides in); sides up to 2^31.
//   - crop_resize: box i = (x1, y1, x2, y2) in whole pixels, x2 / y2 exclusive, is resized to
//     dst[i] exactly as resize(image[y1:y2, x1:x2]); pixels of a box outside the image are 0.
//
// Requires: a non-empty image with 1..4 channels (warp_affine / remap: width and height <= 32767,
//           interpolation not Area), dst non-empty with the image's channels, finite and
//           invertible M, maps of equal shape
//           equal to dst's, a border value that is not NaN for uint8 images, working buffers (a few
//           values per output column) within kMaxArrayBytes (opticore/core/limits.hpp).
// Throws:   std::invalid_argument naming the argument otherwise.
//
// Threads: output rows (crop_resize: boxes) are split over get_num_threads() in chunks of about
// 256k output values, so outputs under about a millisecond of work stay on one thread.
// Instruction sets: SSE2 on x86-64 (resize's passes, block means, remap's quantisation) and SSSE3
// when the CPU has it, chosen at run time (uint8 bilinear warps); plain C++ elsewhere, same results.
#pragma once

#include <array>
#include <cstdint>

#include "opticore/core/image.hpp"
#include "opticore/core/view.hpp"

namespace opticore {

/// Area and Bins apply to resize / crop_resize only (warp_affine and remap reject them).
enum class Interpolation { Nearest, Linear, Cubic, Area, Bins };

enum class BorderMode { Constant, Replicate, Reflect, Reflect101 };

struct WarpOptions {
  Interpolation interpolation = Interpolation::Linear;
  BorderMode border_mode = BorderMode::Constant;
  std::array<double, 4> border_value{};  ///< per channel, used by BorderMode::Constant
};

/// dst(x, y) = image(M^-1 (x, y)); M = {a, b, c, d, e, f} is the 2x3 matrix [[a, b, c], [d, e, f]].
template <class T>
void warp_affine(ImageView<T> image, const std::array<double, 6>& M, OutputImage<T> dst,
                 const WarpOptions& options = {});

/// dst(x, y) = image(map_x(y, x), map_y(y, x)); the maps are absolute source coordinates.
template <class T>
void remap(ImageView<T> image, MatrixView<float> map_x, MatrixView<float> map_y, OutputImage<T> dst,
           const WarpOptions& options = {});

/// Resizes `image` to dst's width and height.
template <class T>
void resize(ImageView<T> image, OutputImage<T> dst, Interpolation interpolation = Interpolation::Linear);

/// Resizes each box of `image` (rows of `boxes`: x1, y1, x2, y2, whole pixels, x2 > x1, y2 > y1,
/// |coordinates| <= 2^30) to dst[i] (dst holds boxes.rows images of out_height x out_width x C,
/// one after the other). Boxes are split over get_num_threads().
template <class T>
void crop_resize(ImageView<T> image, MatrixView<int64_t> boxes, T* dst, int64_t out_height, int64_t out_width,
                 Interpolation interpolation = Interpolation::Linear);

}  // namespace opticore
