// FHOG in three passes: (1) per pixel, the winning channel's gradient magnitude and its nearest
// signed orientation bin; (2) bilinear spatial votes into an 18-bin cell histogram; (3) Dollar's
// 8/7 edge correction, 2x2-block normalisation, truncation and the 31 output channels.
// Passes 1 and 2 stream one image row at a time; everything runs on the calling thread.
#include "opticore/tracking/fhog.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/detail/check.hpp"
#include "tracking/detail/patch.hpp"

#if defined(__GNUC__) || defined(_MSC_VER)
#define OPTICORE_RESTRICT __restrict
#else
#define OPTICORE_RESTRICT
#endif

namespace opticore {
namespace {

constexpr int kUnsigned = 9;   // contrast-insensitive orientations over [0, pi)
constexpr int kSigned = 18;    // contrast-sensitive orientations over [0, 2 pi), 20 degrees apart
constexpr float kClip = 0.2f;  // truncation of normalised values (Felzenszwalb's alpha = 0.2)
// Each orientation channel sums its 4 differently normalised copies scaled by 0.5 = 1/sqrt(4), and
// each texture channel sums the 18 signed orientations of one normalisation scaled by
// 0.2357 ~ 1/sqrt(18) (Felzenszwalb's features.cc; Dollar keeps the rounded constant .2357f).
constexpr float kOrientationScale = 0.5f;
constexpr float kTextureScale = 0.2357f;
// Dollar's boundary correction: with bilinear votes a cell on the grid edge receives 7/8 of the
// weight of an interior cell (exactly so for even cell sizes), so edge cells are scaled by 8/7.
constexpr float kEdgeGain = 8.0f / 7.0f;
// tan(10), tan(30), tan(50), tan(70) degrees: the boundaries between the nearest multiples of
// 20 degrees in the first quadrant. Compared in float: for every gradient of a uint8 image
// (multiples of 1/2 up to 255) the float decision equals the exact one (checked exhaustively;
// the closest gradient is 1.5e-6 relative away from a boundary).
constexpr float kTanBoundary[4] = {0.17632698f, 0.57735027f, 1.19175359f, 2.74747742f};

/// Nearest of the 18 signed bins (centres k * 20 degrees) of the gradient (dx, dy), without
/// atan2: the folded angle phi = atan(|dy| / |dx|) in [0, 90] degrees is placed among the
/// boundaries by comparing |dy| with |dx| tan(boundary) (j = nearest multiple of 20 degrees,
/// 0..4), then unfolded by the signs. Exactly 90 / 270 degrees (dx == 0) give 5 / 14.
/// Written with selects only, so that the loops calling it vectorise.
inline int32_t orientation_bin(float dx, float dy) {
  const float ax = std::fabs(dx), ay = std::fabs(dy);
  const int32_t j = static_cast<int32_t>(ay > ax * kTanBoundary[0]) + static_cast<int32_t>(ay > ax * kTanBoundary[1]) +
                    static_cast<int32_t>(ay > ax * kTanBoundary[2]) + static_cast<int32_t>(ay > ax * kTanBoundary[3]);
  const int32_t upper = dx > 0 ? j : kUnsigned - j;                        // dy >= 0: phi, or 180 - phi
  const int32_t lower = dx < 0 ? kUnsigned + j : (kSigned - j) % kSigned;  // dy < 0: 180 + phi, 360 - phi
  return dy >= 0 ? upper : lower;
}

/// `mask` (all ones or all zeros) ? a : b, written with bit operations: GCC vectorises this where
/// it leaves a loop of float ternaries scalar.
inline float select_bits(uint32_t mask, float a, float b) {
  uint32_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  const uint32_t r = (ia & mask) | (ib & ~mask);
  float out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

/// Horizontal centred differences of `row` (full image width) for x in [0, n), one-sided at the
/// image border, 0 when the image is one pixel wide.
void gradient_x(const float* row, int64_t width, int64_t n, float* gx) {
  if (width == 1) {
    gx[0] = 0.f;
    return;
  }
  gx[0] = row[1] - row[0];
  const int64_t interior_end = std::min(n, width - 1);
  for (int64_t x = 1; x < interior_end; ++x) gx[x] = (row[x + 1] - row[x - 1]) * 0.5f;
  if (n == width) gx[width - 1] = row[width - 1] - row[width - 2];
}

/// Pass 1, one image row at a time: the vote (magnitude / cell_size^2) and the signed bin of each
/// pixel x < n, from the gradient of the strongest channel. Image rows are converted to float
/// once per channel and kept in three slots (y - 1, y, y + 1) while walking down.
template <class T>
class PixelVoter {
 public:
  PixelVoter(const ImageView<T>& image, int64_t n, float vote_scale) : image_(image), n_(n), vote_scale_(vote_scale) {
    const auto un = static_cast<size_t>(n), slots = static_cast<size_t>(3 * image.channels);
    rows_.resize(slots * static_cast<size_t>(image.width));
    row_of_.assign(slots, -1);
    gx_.resize(un);
    gy_.resize(un);
    best_gx_.resize(un);
    best_gy_.resize(un);
    best_m2_.resize(un);
  }

  void row(int64_t y, float* votes, uint8_t* bins) {
    const int64_t up = std::max<int64_t>(y - 1, 0), down = std::min(y + 1, image_.height - 1);
    const float scale_y = down - up == 2 ? 0.5f : 1.f;
    const int64_t n = n_;
    float* OPTICORE_RESTRICT gx = gx_.data();
    float* OPTICORE_RESTRICT gy = gy_.data();
    float* OPTICORE_RESTRICT best_gx = best_gx_.data();
    float* OPTICORE_RESTRICT best_gy = best_gy_.data();
    float* OPTICORE_RESTRICT best_m2 = best_m2_.data();
    for (int64_t c = 0; c < image_.channels; ++c) {
      const float* u = load(c, up);
      const float* d = load(c, down);
      gradient_x(load(c, y), image_.width, n, gx);
      for (int64_t x = 0; x < n; ++x) gy[x] = (d[x] - u[x]) * scale_y;
      if (c == 0) {
        for (int64_t x = 0; x < n; ++x) {
          best_gx[x] = gx[x];
          best_gy[x] = gy[x];
          best_m2[x] = gx[x] * gx[x] + gy[x] * gy[x];
        }
        continue;
      }
      for (int64_t x = 0; x < n; ++x) {  // a later channel wins only when strictly stronger
        const float m2 = gx[x] * gx[x] + gy[x] * gy[x];
        const uint32_t stronger = m2 > best_m2[x] ? ~uint32_t{0} : 0;
        best_m2[x] = std::max(m2, best_m2[x]);
        best_gx[x] = select_bits(stronger, gx[x], best_gx[x]);
        best_gy[x] = select_bits(stronger, gy[x], best_gy[x]);
      }
    }
    for (int64_t x = 0; x < n; ++x) {
      votes[x] = std::sqrt(best_m2[x]) * vote_scale_;
      bins[x] = static_cast<uint8_t>(orientation_bin(best_gx[x], best_gy[x]));
    }
  }

 private:
  const float* load(int64_t c, int64_t y) {
    const auto slot = static_cast<size_t>(3 * c + y % 3);
    float* dst = rows_.data() + slot * static_cast<size_t>(image_.width);
    if (row_of_[slot] != y) {
      const T* src = image_.data + y * image_.row_stride + c * image_.channel_stride;
      const int64_t step = image_.col_stride;
      if (step == 1) {
        for (int64_t x = 0; x < image_.width; ++x) dst[x] = static_cast<float>(src[x]);
      } else {
        for (int64_t x = 0; x < image_.width; ++x) dst[x] = static_cast<float>(src[x * step]);
      }
      row_of_[slot] = y;
    }
    return dst;
  }

  ImageView<T> image_;
  int64_t n_;
  float vote_scale_;
  std::vector<float> rows_;
  std::vector<int64_t> row_of_;
  std::vector<float> gx_, gy_, best_gx_, best_gy_, best_m2_;
};

/// Bilinear weights along one axis: pixel p sits at (p + 0.5) / s - 0.5 in cell units; it votes
/// (1 - d) into cell `first` and d into cell first + 1. Cells are indexed in a grid padded by
/// one cell on each side, so `first` is in [0, cells] and votes outside the grid land in padding.
struct AxisWeights {
  std::vector<int64_t> first;
  std::vector<float> low, high;

  AxisWeights(int64_t pixels, int64_t cell_size) {
    first.resize(static_cast<size_t>(pixels));
    low.resize(static_cast<size_t>(pixels));
    high.resize(static_cast<size_t>(pixels));
    for (int64_t p = 0; p < pixels; ++p) {
      const double t = (static_cast<double>(p) + 0.5) / static_cast<double>(cell_size) - 0.5;
      const double f = std::floor(t);
      first[p] = static_cast<int64_t>(f) + 1;
      high[p] = static_cast<float>(t - f);
      low[p] = static_cast<float>(1.0 - (t - f));
    }
  }
};

}  // namespace

FhogSize fhog_size(int64_t height, int64_t width, int64_t cell_size) {
  if (height <= 0 || width <= 0) {
    detail::fail("image: expected a non-empty image, got height ", height, " and width ", width);
  }
  if (cell_size < 1) detail::fail("cell_size: expected an integer >= 1, got ", cell_size);
  if (height < cell_size || width < cell_size) {
    detail::fail("image: expected height and width >= cell_size (", cell_size, ") for at least one cell, got ", height,
                 "x", width);
  }
  return {height / cell_size, width / cell_size};
}

template <class T>
void fhog(ImageView<T> image, int64_t cell_size, float* out) {
  if (image.data == nullptr) detail::fail("image: expected a non-empty image, got no data");
  if (image.channels < 1 || image.channels > 4) {
    detail::fail("image: expected 1 to 4 channels, got ", image.channels);
  }
  const FhogSize grid = fhog_size(image.height, image.width, cell_size);
  detail::check_finite_pixels(image, "image");  // NaN would vanish into finite features
  if (out == nullptr) detail::fail("out: expected room for ", grid.rows * grid.cols * kFhogChannels, " floats");

  const int64_t rows = grid.rows, cols = grid.cols;
  const int64_t h0 = rows * cell_size, w0 = cols * cell_size;  // the pixels that vote

  // (1) + (2): votes and bins of the voting pixels, spread with bilinear weights over a histogram
  // padded by one cell on each side ((rows + 2) x (cols + 2) x 18; the padding is dropped).
  const AxisWeights wx(w0, cell_size), wy(h0, cell_size);
  const int64_t padded_cols = cols + 2, row_step = padded_cols * kSigned;
  std::vector<float> hist(static_cast<size_t>((rows + 2) * row_step), 0.f);
  const float vote_scale = 1.f / (static_cast<float>(cell_size) * static_cast<float>(cell_size));
  PixelVoter<T> voter(image, w0, vote_scale);
  std::vector<float> votes(static_cast<size_t>(w0));
  std::vector<uint8_t> bins(static_cast<size_t>(w0));
  for (int64_t y = 0; y < h0; ++y) {
    voter.row(y, votes.data(), bins.data());
    float* hist_row = hist.data() + wy.first[y] * row_step;
    const float low_y = wy.low[y], high_y = wy.high[y];
    for (int64_t x = 0; x < w0; ++x) {
      float* top = hist_row + wx.first[x] * kSigned + bins[x];
      float* bottom = top + row_step;
      const float left = wx.low[x] * votes[x], right = wx.high[x] * votes[x];
      top[0] += low_y * left;
      top[kSigned] += low_y * right;
      bottom[0] += high_y * left;
      bottom[kSigned] += high_y * right;
    }
  }

  // (3a) the grid's signed histograms with the 8/7 edge gain, unsigned sums and energies.
  const auto cells = static_cast<size_t>(rows * cols);
  std::vector<float> signed_hist(cells * kSigned), unsigned_hist(cells * kUnsigned), energy(cells);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      float gain = 1.f;
      if (r == 0) gain *= kEdgeGain;
      if (r == rows - 1) gain *= kEdgeGain;
      if (c == 0) gain *= kEdgeGain;
      if (c == cols - 1) gain *= kEdgeGain;
      const size_t cell = static_cast<size_t>(r * cols + c);
      const float* src = hist.data() + (r + 1) * row_step + (c + 1) * kSigned;
      float* sh = signed_hist.data() + cell * kSigned;
      float* uh = unsigned_hist.data() + cell * kUnsigned;
      float e = 0.f;
      for (int o = 0; o < kSigned; ++o) sh[o] = src[o] * gain;
      for (int o = 0; o < kUnsigned; ++o) {
        uh[o] = sh[o] + sh[o + kUnsigned];
        e += uh[o] * uh[o];
      }
      energy[cell] = e;
    }
  }

  // (3b) inverse norms of the 2x2 blocks; block (i, j) covers cells i..i+1, j..j+1 (clamped to the
  // grid, so an axis with one cell has one block). Dollar's eps, 1e-4 / 4 for unscaled magnitudes,
  // shrinks by s^4 with the 1 / s^2 vote scale.
  const float eps = static_cast<float>(1e-4 / 4.0 / std::pow(static_cast<double>(cell_size), 4));
  const int64_t block_rows = std::max<int64_t>(rows - 1, 1), block_cols = std::max<int64_t>(cols - 1, 1);
  std::vector<float> block_norm(static_cast<size_t>(block_rows * block_cols));
  for (int64_t i = 0; i < block_rows; ++i) {
    const int64_t i1 = std::min(i + 1, rows - 1);
    for (int64_t j = 0; j < block_cols; ++j) {
      const int64_t j1 = std::min(j + 1, cols - 1);
      const float sum = energy[i * cols + j] + energy[i * cols + j1] + energy[i1 * cols + j] + energy[i1 * cols + j1];
      block_norm[i * block_cols + j] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(sum + eps)));
    }
  }

  // (3c) the 31 channels per cell, from the 4 blocks around it (nearest block at the grid edge).
  const auto clamp_block = [](int64_t i, int64_t n) { return std::min(std::max<int64_t>(i, 0), n - 1); };
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t r0 = clamp_block(r, block_rows), r1 = clamp_block(r - 1, block_rows);
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t c0 = clamp_block(c, block_cols), c1 = clamp_block(c - 1, block_cols);
      const std::array<float, 4> norm = {block_norm[r0 * block_cols + c0], block_norm[r1 * block_cols + c0],
                                         block_norm[r0 * block_cols + c1], block_norm[r1 * block_cols + c1]};
      const size_t cell = static_cast<size_t>(r * cols + c);
      const float* sh = signed_hist.data() + cell * kSigned;
      const float* uh = unsigned_hist.data() + cell * kUnsigned;
      float* f = out + cell * kFhogChannels;
      // Loops over orientations innermost, written so that they vectorise.
      std::array<float, kSigned> sum_signed{}, t{};
      std::array<float, kUnsigned> sum_unsigned{};
      for (int k = 0; k < 4; ++k) {
        for (int o = 0; o < kSigned; ++o) {
          const float v = sh[o] * norm[k];
          t[o] = v < kClip ? v : kClip;
          sum_signed[o] += t[o];
        }
        float texture = 0.f;
        for (int o = 0; o < kSigned; ++o) texture += t[o];
        f[kSigned + kUnsigned + k] = kTextureScale * texture;
        for (int o = 0; o < kUnsigned; ++o) {
          const float v = uh[o] * norm[k];
          sum_unsigned[o] += v < kClip ? v : kClip;
        }
      }
      for (int o = 0; o < kSigned; ++o) f[o] = kOrientationScale * sum_signed[o];
      for (int o = 0; o < kUnsigned; ++o) f[kSigned + o] = kOrientationScale * sum_unsigned[o];
    }
  }
}

template void fhog(ImageView<uint8_t>, int64_t, float*);
template void fhog(ImageView<float>, int64_t, float*);

}  // namespace opticore
