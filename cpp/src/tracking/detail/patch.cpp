#include "tracking/detail/patch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/detail/check.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore::detail {

template <class T>
void check_frame(const ImageView<T>& image) {
  if (image.data == nullptr || image.height < 1 || image.width < 1) {
    fail("image: expected a non-empty frame, got ", image.height, "x", image.width);
  }
  if (image.channels != 1 && image.channels != 3 && image.channels != 4) {
    fail("image: expected 1 (grey), 3 (BGR) or 4 (BGRA) channels, got ", image.channels);
  }
  if (image.height > 32767 || image.width > 32767) {
    fail("image: expected sides <= 32767, got ", image.height, "x", image.width);
  }
}

namespace {
/// 1 when the float is NaN or +-inf (all exponent bits set); integer bit operations, so that
/// the loops below vectorise.
uint32_t non_finite(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
}
}  // namespace

template <class T>
void check_finite_pixels(const ImageView<T>& image, const char* name, const TrackBox& region) {
  if constexpr (std::is_same_v<T, float>) {
    // The pixels start .. start + length - 1 (inclusive), clamped into 0 .. size - 1.
    const auto range = [](double start, double length, int64_t size) {
      const double last = static_cast<double>(size - 1);
      const double lo = std::clamp(std::floor(start), 0.0, last);
      const double hi = std::clamp(std::ceil(start + length - 1), lo, last);
      return std::pair<int64_t, int64_t>{static_cast<int64_t>(lo), static_cast<int64_t>(hi)};
    };
    const auto [x0, x1] = range(region.x, region.width, image.width);
    const auto [y0, y1] = range(region.y, region.height, image.height);
    // Frames are scanned on every update: rows whose pixels are packed are one flat run.
    const bool packed = image.channel_stride == 1 && image.col_stride == image.channels;
    for (int64_t y = y0; y <= y1; ++y) {
      uint32_t bad = 0;
      if (packed) {
        const float* run = &image(y, x0);
        const int64_t n = (x1 - x0 + 1) * image.channels;
        for (int64_t i = 0; i < n; ++i) bad |= non_finite(run[i]);
      } else {
        for (int64_t x = x0; x <= x1; ++x) {
          for (int64_t c = 0; c < image.channels; ++c) bad |= non_finite(image(y, x, c));
        }
      }
      if (bad == 0) continue;
      for (int64_t x = x0; x <= x1; ++x) {
        for (int64_t c = 0; c < image.channels; ++c) {
          if (non_finite(image(y, x, c)) != 0) {
            fail(name, ": expected finite pixel values, got ", image(y, x, c), " at row ", y, ", column ", x,
                 ", channel ", c);
          }
        }
      }
    }
  }
}

template <class T>
void check_initial_box(const TrackBox& box, const ImageView<T>& image) {
  if (!(std::isfinite(box.x) && std::isfinite(box.y) && std::isfinite(box.width) && std::isfinite(box.height))) {
    fail("box: expected finite (x, y, w, h), got (", box.x, ", ", box.y, ", ", box.width, ", ", box.height, ")");
  }
  if (!(box.width >= 1 && box.height >= 1)) {
    fail("box: expected a width and height of at least 1 pixel, got ", box.width, "x", box.height);
  }
  // A box far larger than the frame has no meaning, and its templates (sized by its aspect ratio)
  // would be unbounded: allow up to twice the frame on each axis.
  if (box.width > 2.0 * static_cast<double>(image.width) || box.height > 2.0 * static_cast<double>(image.height)) {
    fail("box: expected a width and height of at most twice the ", image.width, "x", image.height, " frame's, got ",
         box.width, "x", box.height);
  }
  const bool overlaps = box.x < static_cast<double>(image.width) && box.y < static_cast<double>(image.height) &&
                        box.x + box.width > 0 && box.y + box.height > 0;
  if (!overlaps) {
    fail("box: (", box.x, ", ", box.y, ", ", box.width, ", ", box.height, ") lies outside the ", image.width, "x",
         image.height, " frame");
  }
}

template <class T>
void sample_patch(const ImageView<T>& image, double cx, double cy, double region_w, double region_h,
                  const OutputImage<T>& patch) {
  // Patch pixel j samples image x = cx + (j - (pw - 1) / 2) * region_w / pw: the patch's pixel
  // areas tile the region exactly. M maps image -> patch (warp_affine's convention).
  const double sx = static_cast<double>(patch.width) / region_w;
  const double sy = static_cast<double>(patch.height) / region_h;
  const std::array<double, 6> M{sx,  0.0, (patch.width - 1) * 0.5 - sx * cx,
                                0.0, sy,  (patch.height - 1) * 0.5 - sy * cy};
  WarpOptions options;
  options.border_mode = BorderMode::Replicate;
  warp_affine(image, M, patch, options);
}

template <class T>
void to_gray(const OutputImage<T>& patch, float* out) {
  const int64_t n = patch.height * patch.width;
  const T* p = patch.data;
  if (patch.channels == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i]);
    return;
  }
  const int64_t c = patch.channels;
  for (int64_t i = 0; i < n; ++i) {  // BT.601 luma, BGR order
    const T* px = p + i * c;
    out[i] =
        0.114f * static_cast<float>(px[0]) + 0.587f * static_cast<float>(px[1]) + 0.299f * static_cast<float>(px[2]);
  }
}

template <class T>
void sample_gray_shifted(const ImageView<T>& image, double x0, double y0, int64_t rows, int64_t cols, float* out) {
  const double fx0 = std::floor(x0), fy0 = std::floor(y0);
  const float fx = static_cast<float>(x0 - fx0), fy = static_cast<float>(y0 - fy0);
  // Source columns ix .. ix + cols (one more for the right-hand tap), clamped to the image.
  // The offset is kept within the int range (far-away windows just read the edge).
  const auto ix = static_cast<int64_t>(std::clamp(fx0, -1e9, 1e9));
  const auto iy = static_cast<int64_t>(std::clamp(fy0, -1e9, 1e9));
  std::vector<int64_t> xs(static_cast<size_t>(cols + 1));
  for (int64_t c = 0; c <= cols; ++c) xs[c] = std::clamp<int64_t>(ix + c, 0, image.width - 1);
  std::vector<float> upper(static_cast<size_t>(cols + 1)), lower(upper.size());
  // Inside the image (the usual case) the columns are consecutive: walk the row directly.
  const bool inside = ix >= 0 && ix + cols < image.width;
  const auto grey_row = [&](int64_t y, float* dst) {
    const T* row = image.data + std::clamp<int64_t>(y, 0, image.height - 1) * image.row_stride;
    if (inside && image.channels >= 3 && image.channel_stride == 1) {
      const int64_t step = image.col_stride;
      const T* px = row + ix * step;
      for (int64_t c = 0; c <= cols; ++c, px += step) {
        dst[c] = 0.114f * static_cast<float>(px[0]) + 0.587f * static_cast<float>(px[1]) +
                 0.299f * static_cast<float>(px[2]);
      }
      return;
    }
    if (image.channels == 1) {
      for (int64_t c = 0; c <= cols; ++c) dst[c] = static_cast<float>(row[xs[c] * image.col_stride]);
      return;
    }
    const int64_t cs = image.channel_stride;
    for (int64_t c = 0; c <= cols; ++c) {  // BT.601 luma, BGR order
      const T* px = row + xs[c] * image.col_stride;
      dst[c] = 0.114f * static_cast<float>(px[0]) + 0.587f * static_cast<float>(px[cs]) +
               0.299f * static_cast<float>(px[2 * cs]);
    }
  };
  grey_row(iy, upper.data());
  for (int64_t r = 0; r < rows; ++r) {
    grey_row(iy + r + 1, lower.data());
    float* dst = out + r * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const float top = upper[c] + fx * (upper[c + 1] - upper[c]);
      const float bottom = lower[c] + fx * (lower[c + 1] - lower[c]);
      dst[c] = top + fy * (bottom - top);
    }
    std::swap(upper, lower);
  }
}

#define OPTICORE_INSTANTIATE(T)                                                                           \
  template void check_frame(const ImageView<T>&);                                                         \
  template void check_finite_pixels(const ImageView<T>&, const char*, const TrackBox&);                   \
  template void check_initial_box(const TrackBox&, const ImageView<T>&);                                  \
  template void sample_patch(const ImageView<T>&, double, double, double, double, const OutputImage<T>&); \
  template void to_gray(const OutputImage<T>&, float*);                                                   \
  template void sample_gray_shifted(const ImageView<T>&, double, double, int64_t, int64_t, float*);
OPTICORE_INSTANTIATE(uint8_t)
OPTICORE_INSTANTIATE(float)
#undef OPTICORE_INSTANTIATE

}  // namespace opticore::detail
