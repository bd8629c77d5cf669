// Strided image views: how the core sees an H x W x C image (C = 1 for grey) without NumPy or
// OpenCV. Strides are in elements and may be any value, so NumPy slices are read in place.
// Pixel centres are at integer coordinates (as in OpenCV): pixel (x, y) covers [x-0.5, x+0.5).
#pragma once

#include <cstdint>

namespace opticore {

template <class T>
struct ImageView {
  const T* data = nullptr;
  int64_t height = 0, width = 0, channels = 1;
  int64_t row_stride = 0, col_stride = 0, channel_stride = 1;

  ImageView() = default;
  /// A C-contiguous H x W x C image.
  ImageView(const T* data_, int64_t height_, int64_t width_, int64_t channels_ = 1)
      : data(data_),
        height(height_),
        width(width_),
        channels(channels_),
        row_stride(width_ * channels_),
        col_stride(channels_),
        channel_stride(1) {}
  ImageView(const T* data_, int64_t height_, int64_t width_, int64_t channels_, int64_t row_stride_,
            int64_t col_stride_, int64_t channel_stride_)
      : data(data_),
        height(height_),
        width(width_),
        channels(channels_),
        row_stride(row_stride_),
        col_stride(col_stride_),
        channel_stride(channel_stride_) {}

  const T& operator()(int64_t y, int64_t x, int64_t c = 0) const {
    return data[y * row_stride + x * col_stride + c * channel_stride];
  }
};

/// A writable, C-contiguous H x W x C image (what the operators produce).
template <class T>
struct OutputImage {
  T* data = nullptr;
  int64_t height = 0, width = 0, channels = 1;

  T& operator()(int64_t y, int64_t x, int64_t c = 0) const { return data[(y * width + x) * channels + c]; }
};

}  // namespace opticore
