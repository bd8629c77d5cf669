// Fourier-spectrum features: the auxiliary target of Silent-Face anti-spoofing (MiniFASNet's
// "FT" head), computed for one image or a batch in one fused pass per image.
//
// For each image:
//   1. grey g = 0.299 R + 0.587 G + 0.114 B in double precision (ITU-R BT.601, the weights of
//      cv::cvtColor, without its rounding to uint8); one channel is taken as it is, a fourth
//      channel (alpha) is ignored;
//   2. F = the 2-D DFT of g (unscaled, as numpy.fft.fft2), shifted so the zero frequency lands at
//      (H / 2, W / 2) (numpy.fft.fftshift: index i goes to (i + n / 2) mod n);
//   3. f = log(|F| + 1), then f' = (f - min f + 1) / (max f - min f + 1) (the reference's
//      normalisation: values in (0, 1], the maximum maps to 1);
//   4. when the output size differs from the image's, f' is resized to it like resize() with
//      Interpolation::Linear (cv::resize's INTER_LINEAR on float images).
// The FFT runs in double precision (a private mixed-radix FFT, Bluestein for lengths with a
// prime factor above 31), so the result matches a double-precision NumPy reference to about 1e-7.
//
// Requires: images of height, width >= 1 with 1, 3 or 4 channels, finite pixel values, output
//           sizes >= 1, batch >= 0; working buffers within kMaxArrayBytes.
// Throws:   std::invalid_argument naming the argument otherwise (`image` for a non-finite pixel,
//           with the image index and position).
// Threads:  the images of a batch are split over get_num_threads(); one image runs on the calling
//           thread.
#pragma once

#include <cstdint>

#include "opticore/core/image.hpp"

namespace opticore {

/// Channel order of three- and four-channel images (which weight goes to which channel).
enum class ColorOrder { Bgr, Rgb };

/// The spectrum of one image into dst (dst.channels must be 1; its size is the output size).
template <class T>
void fourier_spectrum(ImageView<T> image, OutputImage<float> dst, ColorOrder color = ColorOrder::Bgr);

/// The spectra of `batch` images of the same shape: image b is `first` with its data pointer
/// moved by b * batch_stride elements. dst holds batch C-contiguous out_height x out_width maps.
template <class T>
void fourier_spectrum(ImageView<T> first, int64_t batch, int64_t batch_stride, float* dst, int64_t out_height,
                      int64_t out_width, ColorOrder color = ColorOrder::Bgr);

}  // namespace opticore
