// cv::resize: "nearest" picks floor(x * in / out); "linear" / "cubic" are separable (see
// detail/resize_kernels.hpp), an exact 2x linear reduction being the 2x2 mean as in OpenCV;
// "area" averages when shrinking and is OpenCV's bilinear area emulation when enlarging.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/resize_kernels.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore {
namespace detail {
namespace {

template <class T, int C>
void resize_nearest(const ImageView<T>& im, const OutputImage<T>& dst, bool parallel) {
  // floor(d * in / out), computed as OpenCV does (through the inverse of out / in).
  const double ifx = resize_scale(im.width, dst.width), ify = resize_scale(im.height, dst.height);
  check_array_size("dsize", {dst.width}, sizeof(int64_t));
  SmallBuffer<int64_t, kSmallTaps> xoff(static_cast<size_t>(dst.width));
  for (int64_t x = 0; x < dst.width; ++x) {
    const auto sx = static_cast<int64_t>(std::floor(static_cast<double>(x) * ifx));
    xoff[x] = std::min(sx, im.width - 1) * im.col_stride;
  }
  const auto body = [&](int64_t begin, int64_t end) {
    const int64_t* offsets = xoff.data();
    const int64_t width = dst.width;
    for (int64_t y = begin; y < end; ++y) {
      const auto sy = static_cast<int64_t>(std::floor(static_cast<double>(y) * ify));
      const T* src = im.data + std::min(sy, im.height - 1) * im.row_stride;
      T* out = dst.data + y * width * C;
      for (int64_t x = 0; x < width; ++x) {
        for (int c = 0; c < C; ++c) out[x * C + c] = src[offsets[x] + c];
      }
    }
  };
  if (parallel) {
    parallel_for(dst.height, rows_per_chunk(dst.height, dst.width, C), body);
  } else {
    body(0, dst.height);
  }
}

template <class T>
void separable_kind(const ImageView<T>& im, const OutputImage<T>& dst, AxisKind kind, bool parallel) {
  const ResizeAxis ax(im.width, dst.width, kind, true, "dsize");
  const ResizeAxis ay(im.height, dst.height, kind, false, "dsize");
  resize_separable(im, ax, ay, dst, parallel);
}

}  // namespace

template <class T>
void resize_view(const ImageView<T>& im, const OutputImage<T>& dst, Interpolation interpolation, bool parallel) {
  switch (interpolation) {
    case Interpolation::Nearest:
      switch (im.channels) {
        case 1:
          return resize_nearest<T, 1>(im, dst, parallel);
        case 2:
          return resize_nearest<T, 2>(im, dst, parallel);
        case 3:
          return resize_nearest<T, 3>(im, dst, parallel);
        default:
          return resize_nearest<T, 4>(im, dst, parallel);
      }
    case Interpolation::Linear:
      if (im.width == 2 * dst.width && im.height == 2 * dst.height) return resize_area(im, dst, parallel);
      return separable_kind(im, dst, AxisKind::Linear, parallel);
    case Interpolation::Cubic:
      return separable_kind(im, dst, AxisKind::Cubic, parallel);
    case Interpolation::Area:
      if (im.width >= dst.width && im.height >= dst.height) return resize_area(im, dst, parallel);
      return separable_kind(im, dst, AxisKind::AreaLinear, parallel);
    case Interpolation::Bins:
      return resize_bins(im, dst, parallel);
  }
}

template <class T>
ImageView<T> channels_packed(const ImageView<T>& image, std::vector<T>& storage) {
  if (image.channel_stride == 1 || image.channels == 1) {
    ImageView<T> view = image;
    view.channel_stride = 1;
    return view;
  }
  check_array_size("image", {image.height, image.width, image.channels}, sizeof(T));
  storage.resize(static_cast<size_t>(image.height * image.width * image.channels));
  T* out = storage.data();
  for (int64_t y = 0; y < image.height; ++y) {
    for (int64_t x = 0; x < image.width; ++x) {
      for (int64_t c = 0; c < image.channels; ++c) *out++ = image(y, x, c);
    }
  }
  return ImageView<T>(storage.data(), image.height, image.width, image.channels);
}

template void resize_view(const ImageView<uint8_t>&, const OutputImage<uint8_t>&, Interpolation, bool);
template void resize_view(const ImageView<float>&, const OutputImage<float>&, Interpolation, bool);
template ImageView<uint8_t> channels_packed(const ImageView<uint8_t>&, std::vector<uint8_t>&);
template ImageView<float> channels_packed(const ImageView<float>&, std::vector<float>&);

}  // namespace detail

template <class T>
void resize(ImageView<T> image, OutputImage<T> dst, Interpolation interpolation) {
  detail::check_image(image, INT64_MAX);
  detail::check_output(dst, image.channels);
  std::vector<T> storage;
  detail::resize_view(detail::channels_packed(image, storage), dst, interpolation, true);
}

template void resize(ImageView<uint8_t>, OutputImage<uint8_t>, Interpolation);
template void resize(ImageView<float>, OutputImage<float>, Interpolation);

}  // namespace opticore
