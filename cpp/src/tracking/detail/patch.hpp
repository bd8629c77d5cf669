// Frames in, patches out: the argument checks every tracker makes on its frames and boxes,
// resampling an image region to a fixed-size patch, and grey conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "opticore/core/image.hpp"
#include "opticore/tracking/tracker.hpp"

namespace opticore::detail {

/// A frame: non-empty, 1, 3 or 4 channels, sides <= 32767 (what the warps take).
template <class T>
void check_frame(const ImageView<T>& image);

/// Every pixel value of a non-empty `image` finite (a no-op for integer pixels) within `region`
/// (pixel-centre box convention; the whole image by default), clipped to the image but never
/// less than its nearest edge pixels (what replicated borders read). Else fails naming `name`
/// and the pixel.
template <class T>
void check_finite_pixels(const ImageView<T>& image, const char* name, const TrackBox& region = {0, 0, 1e300, 1e300});

/// An initial box: finite, at least 1 x 1, overlapping the frame, at most twice its width and
/// height (so that the templates built from it stay bounded, whatever its aspect ratio).
template <class T>
void check_initial_box(const TrackBox& box, const ImageView<T>& image);

/// Samples the region of region_w x region_h pixels centred at (cx, cy) (pixel-centre
/// coordinates) into `patch` (its size sets the resolution): bilinear, replicated borders.
template <class T>
void sample_patch(const ImageView<T>& image, double cx, double cy, double region_w, double region_h,
                  const OutputImage<T>& patch);

/// The grey patch of rows x cols pixels whose top-left pixel sits at (x0, y0) of the image, i.e.
/// out(r, c) = grey(x0 + c, y0 + r): a pure translation, bilinear in float, borders replicated.
/// (What sample_patch + to_gray give when region and patch sizes agree, but several times
/// faster: the grey conversion runs once per source pixel and the weights are shared.)
template <class T>
void sample_gray_shifted(const ImageView<T>& image, double x0, double y0, int64_t rows, int64_t cols, float* out);

/// Grey values on the 0..255 scale, one per pixel of a C-contiguous patch (1, 3 or 4 channels).
template <class T>
void to_gray(const OutputImage<T>& patch, float* out);

/// A patch that owns its pixels.
template <class T>
struct PatchBuffer {
  std::vector<T> pixels;
  OutputImage<T> view;

  void resize(int64_t height, int64_t width, int64_t channels) {
    pixels.resize(static_cast<size_t>(height * width * channels));
    view = {pixels.data(), height, width, channels};
  }
  ImageView<T> image() const { return {view.data, view.height, view.width, view.channels}; }
};

/// One patch buffer per frame type, so that a tracker takes uint8 and float frames alike.
struct PatchBuffers {
  PatchBuffer<uint8_t> u8;
  PatchBuffer<float> f32;

  template <class T>
  PatchBuffer<T>& get() {
    if constexpr (std::is_same_v<T, uint8_t>) {
      return u8;
    } else {
      return f32;
    }
  }
};

}  // namespace opticore::detail
