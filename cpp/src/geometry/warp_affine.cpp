#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "geometry/detail/sampler.hpp"
#include "opticore/geometry/warp.hpp"

namespace opticore {
namespace detail {

std::optional<std::array<double, 6>> invert_affine(const std::array<double, 6>& M) {
  const double det = M[0] * M[4] - M[1] * M[3];
  if (det == 0.0 || !std::isfinite(det)) return std::nullopt;
  // The same formula as cv::warpAffine, so that the destination -> source coefficients are
  // bit-identical to OpenCV's.
  const double d = 1.0 / det;
  std::array<double, 6> A{};
  A[0] = M[4] * d;
  A[1] = M[1] * -d;
  A[3] = M[3] * -d;
  A[4] = M[0] * d;
  A[2] = -A[0] * M[2] - A[1] * M[5];
  A[5] = -A[3] * M[2] - A[4] * M[5];
  for (double a : A) {
    if (!std::isfinite(a)) return std::nullopt;
  }
  return A;
}

}  // namespace detail

namespace {

// OpenCV's warpAffine arithmetic: source coordinates in 1/1024 fixed point (AB_BITS = 10), each
// a per-row start plus a per-column increment, then cut to 1/32 (or rounded, for nearest).
constexpr int kAbBits = 10;
constexpr double kAbScale = 1 << kAbBits;

/// M^-1, or std::invalid_argument naming M.
std::array<double, 6> checked_inverse(const std::array<double, 6>& M) {
  for (size_t i = 0; i < 6; ++i) {
    if (!std::isfinite(M[i])) detail::fail("M: expected finite values, got ", M[i], " at index ", i);
  }
  const std::optional<std::array<double, 6>> A = detail::invert_affine(M);
  if (!A) detail::fail("M: not invertible (determinant ", M[0] * M[4] - M[1] * M[3], ")");
  return *A;
}

}  // namespace

template <class T>
void warp_affine(ImageView<T> image, const std::array<double, 6>& M, OutputImage<T> dst, const WarpOptions& options) {
  detail::check_image(image, detail::kMaxWarpSide);
  detail::check_warp_interpolation(options.interpolation);
  detail::check_output(dst, image.channels);
  const std::array<double, 6> A = checked_inverse(M);
  const detail::Sampler<T> sampler{image, options.interpolation, options.border_mode,
                                   detail::border_value_as<T>(options.border_value)};

  const bool nearest = options.interpolation == Interpolation::Nearest;
  // Kept bits: whole pixels (nearest) or 1/32 pixel. Compile-time shifts let the loops vectorise.
  constexpr int nearest_shift = kAbBits, fraction_shift = kAbBits - detail::kInterBits;
  // Half of the last kept unit, so that the shift rounds.
  const int32_t round_delta = int32_t{1} << ((nearest ? nearest_shift : fraction_shift) - 1);
  // Fixed-point terms are kept within +-2^30 so that their sums stay in int32 (and the loops
  // below vectorise); anything that far is clamped to the int16 coordinate range anyway.
  const auto fixed = [](double v) { return std::clamp(detail::saturate_round(v * kAbScale), -(1 << 30), 1 << 30); };
  const int64_t width = dst.width;
  check_array_size("dsize", {width}, sizeof(int32_t));
  detail::SmallBuffer<int32_t, detail::kSmallRow> adelta(static_cast<size_t>(width)),
      bdelta(static_cast<size_t>(width));
  for (int64_t x = 0; x < width; ++x) {
    adelta[x] = fixed(A[0] * static_cast<double>(x));
    bdelta[x] = fixed(A[3] * static_cast<double>(x));
  }

  detail::parallel_for(
      dst.height, detail::rows_per_chunk(dst.height, width, dst.channels), [&](int64_t begin, int64_t end) {
        detail::SmallBuffer<int32_t, detail::kSmallRow> sx(static_cast<size_t>(width)), sy(static_cast<size_t>(width));
        detail::SmallBuffer<uint16_t, detail::kSmallRow> frac(static_cast<size_t>(width));
        const int32_t* ad = adelta.data();
        const int32_t* bd = bdelta.data();
        int32_t* px = sx.data();
        int32_t* py = sy.data();
        uint16_t* pf = frac.data();
        for (int64_t y = begin; y < end; ++y) {
          const double yd = static_cast<double>(y);
          const int32_t X0 = fixed(A[1] * yd + A[2]) + round_delta;
          const int32_t Y0 = fixed(A[4] * yd + A[5]) + round_delta;
          if (nearest) {
            for (int64_t x = 0; x < width; ++x) {
              px[x] = std::clamp((X0 + ad[x]) >> nearest_shift, detail::kCoordMin, detail::kCoordMax);
              py[x] = std::clamp((Y0 + bd[x]) >> nearest_shift, detail::kCoordMin, detail::kCoordMax);
            }
          } else {
            constexpr int32_t mask = detail::kInterTabSize - 1;
            for (int64_t x = 0; x < width; ++x) {
              const int32_t X = (X0 + ad[x]) >> fraction_shift, Y = (Y0 + bd[x]) >> fraction_shift;
              px[x] = std::clamp(X >> detail::kInterBits, detail::kCoordMin, detail::kCoordMax);
              py[x] = std::clamp(Y >> detail::kInterBits, detail::kCoordMin, detail::kCoordMax);
              pf[x] = static_cast<uint16_t>((Y & mask) * detail::kInterTabSize + (X & mask));
            }
          }
          sampler.row(px, py, pf, width, dst.data + y * width * dst.channels);
        }
      });
}

template void warp_affine(ImageView<uint8_t>, const std::array<double, 6>&, OutputImage<uint8_t>, const WarpOptions&);
template void warp_affine(ImageView<float>, const std::array<double, 6>&, OutputImage<float>, const WarpOptions&);

}  // namespace opticore
