#include "opticore/tracking/mosse.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <variant>
#include <vector>

#include "core/detail/check.hpp"
#include "opticore/geometry/warp.hpp"
#include "tracking/detail/correlation.hpp"
#include "tracking/detail/fft.hpp"
#include "tracking/detail/patch.hpp"

namespace opticore {

using detail::Complex;

namespace {

constexpr int64_t kPsrExclusion = 5;  // Bolme et al.: an 11 x 11 window around the peak
constexpr int64_t kMinPatchSide = 8;

void check_params(const MosseParams& p) {
  detail::check_rate(p.learning_rate, "learning_rate");
  detail::check_positive(p.sigma, "sigma");
  detail::check_positive(p.regularization, "regularization");
  if (p.perturbations < 0 || p.perturbations > 1000) {
    detail::fail("perturbations: expected 0 to 1000, got ", p.perturbations);
  }
  detail::check_finite(p.psr_threshold, "psr_threshold");
  if (p.max_patch_side < kMinPatchSide || p.max_patch_side > 4096) {
    detail::fail("max_patch_side: expected ", kMinPatchSide, " to 4096, got ", p.max_patch_side);
  }
}

/// Uniform double in [lo, hi) from the generator's raw bits: the same sequence on every standard
/// library (std::uniform_real_distribution is not specified bit-for-bit).
double uniform(std::mt19937_64& rng, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

struct MosseTracker::Impl {
  MosseParams params;
  double cx = 0, cy = 0;              // target centre, pixel-centre coordinates
  double box_w = 0, box_h = 0;        // the initial box's size (MOSSE keeps it)
  double region_w = 0, region_h = 0;  // image pixels sampled into the patch
  int64_t rows = 0, cols = 0;         // patch size
  std::unique_ptr<detail::Fft2d> fft;
  std::vector<float> window;
  std::vector<Complex> G, A, B, F;  // spectra (half)
  std::vector<float> gray, response;
  detail::PatchBuffers patches;

  /// What update reads: the region around the centre, then (after a move of at most half the
  /// region plus half a patch pixel: the wrapped, refined peak) the region around the new centre;
  /// bilinear taps add a pixel.
  TrackBox reach() const {
    const double half_w = region_w * (1.0 + 0.5 / static_cast<double>(cols)) + 2.0;
    const double half_h = region_h * (1.0 + 0.5 / static_cast<double>(rows)) + 2.0;
    return {cx - half_w, cy - half_h, 2.0 * half_w + 1.0, 2.0 * half_h + 1.0};
  }

  /// log(1 + x), zero mean, unit norm, Hann window (Bolme et al. section 3.1), in place.
  void preprocess(float* x) const {
    const int64_t n = rows * cols;
    detail::log1p_clamped(x, n);
    const auto [sum, sum_sq] = detail::sums(x, n);
    const double mean = sum / static_cast<double>(n);
    const double norm = std::sqrt(std::max(0.0, sum_sq - sum * mean));  // sum (x - mean)^2
    const float inv = static_cast<float>(1.0 / (norm + 1e-5));
    const auto m = static_cast<float>(mean);
    for (int64_t i = 0; i < n; ++i) x[i] = (x[i] - m) * inv * window[i];
  }

  /// The grey patch around the current centre (raw 0..255 values, not preprocessed).
  template <class T>
  void sample_gray(const ImageView<T>& image) {
    if (region_w == static_cast<double>(cols) && region_h == static_cast<double>(rows)) {
      // Patch pixels are image pixels: a pure (sub-pixel) translation.
      detail::sample_gray_shifted(image, cx - (cols - 1) * 0.5, cy - (rows - 1) * 0.5, rows, cols, gray.data());
      return;
    }
    auto& patch = patches.get<T>();
    patch.resize(rows, cols, image.channels);
    detail::sample_patch(image, cx, cy, region_w, region_h, patch.view);
    detail::to_gray(patch.view, gray.data());
  }

  /// Adds rate * (G conj(F), F conj(F)) of the preprocessed `x` to (A, B), after scaling them by
  /// (1 - rate).
  void learn(float* x, double rate) {
    preprocess(x);
    fft->forward(x, F.data());
    const float keep = static_cast<float>(1.0 - rate), r = static_cast<float>(rate);
    for (size_t k = 0; k < F.size(); ++k) {
      A[k] = keep * A[k] + r * G[k] * std::conj(F[k]);
      B[k] = keep * B[k] + r * std::norm(F[k]);
    }
  }

  template <class T>
  void init(const ImageView<T>& image, const TrackBox& box) {
    cx = box.x + (box.width - 1) * 0.5;
    cy = box.y + (box.height - 1) * 0.5;
    box_w = box.width;
    box_h = box.height;
    // Patch resolution: the box at scale rf <= 1, sides rounded up to fast FFT sizes.
    const double rf = std::min(1.0, static_cast<double>(params.max_patch_side) / std::sqrt(box.width * box.height));
    cols = detail::fft_size_at_least(std::max<int64_t>(kMinPatchSide, std::lround(box.width * rf)), 4);
    rows = detail::fft_size_at_least(std::max<int64_t>(kMinPatchSide, std::lround(box.height * rf)), 2);
    region_w = static_cast<double>(cols) / rf;
    region_h = static_cast<double>(rows) / rf;
    fft = std::make_unique<detail::Fft2d>(rows, cols);
    window = detail::hann2d(rows, cols);
    const int64_t spectrum = fft->spectrum_size();
    G.assign(spectrum, Complex{});
    A.assign(spectrum, Complex{});
    B.assign(spectrum, Complex{});
    F.assign(spectrum, Complex{});
    gray.assign(rows * cols, 0.0f);
    response.assign(rows * cols, 0.0f);
    auto y = detail::gaussian_response(rows, cols, params.sigma);
    fft->forward(y.data(), G.data());

    // The first patch and its random affine perturbations (small rotations and scalings about
    // the patch centre), all weighted equally.
    sample_gray(image);
    const std::vector<float> first = gray;
    learn(gray.data(), 1.0);  // A, B := the first patch's terms
    std::mt19937_64 rng(params.seed);
    std::vector<float> warped(rows * cols);
    for (int64_t k = 0; k < params.perturbations; ++k) {
      const double angle = uniform(rng, -0.1, 0.1), scale = uniform(rng, 0.95, 1.05);
      const double a = scale * std::cos(angle), b = scale * std::sin(angle);
      const double pcx = (cols - 1) * 0.5, pcy = (rows - 1) * 0.5;
      const std::array<double, 6> M{a, -b, pcx - a * pcx + b * pcy, b, a, pcy - b * pcx - a * pcy};
      WarpOptions options;
      options.border_mode = BorderMode::Replicate;
      warp_affine(ImageView<float>(first.data(), rows, cols), M, OutputImage<float>{warped.data(), rows, cols, 1},
                  options);
      learn(warped.data(), 1.0 / static_cast<double>(k + 2));  // running mean of k + 2 terms
    }
  }

  template <class T>
  TrackResult update(const ImageView<T>& image) {
    sample_gray(image);
    preprocess(gray.data());
    fft->forward(gray.data(), F.data());
    const float lambda = static_cast<float>(params.regularization);
    for (size_t k = 0; k < F.size(); ++k) F[k] = F[k] * A[k] / (B[k].real() + lambda);
    fft->inverse(F.data(), response.data());
    const detail::Peak peak = detail::locate_peak(response.data(), rows, cols, kPsrExclusion);
    cx += peak.dx * region_w / static_cast<double>(cols);
    cy += peak.dy * region_h / static_cast<double>(rows);
    const bool ok = peak.psr >= params.psr_threshold;
    if (ok) {  // learn the target where it was found
      sample_gray(image);
      learn(gray.data(), params.learning_rate);
    }
    return {ok, {cx - (box_w - 1) * 0.5, cy - (box_h - 1) * 0.5, box_w, box_h}, peak.psr};
  }
};

MosseTracker::MosseTracker(const MosseParams& params) : impl_(std::make_unique<Impl>()) {
  check_params(params);
  impl_->params = params;
}
MosseTracker::~MosseTracker() = default;
MosseTracker::MosseTracker(MosseTracker&&) noexcept = default;
MosseTracker& MosseTracker::operator=(MosseTracker&&) noexcept = default;

void MosseTracker::do_init(const Frame& image, const TrackBox& box) {
  std::visit([&](const auto& view) { impl_->init(view, box); }, image);
}
TrackResult MosseTracker::do_update(const Frame& image) {
  return std::visit([&](const auto& view) { return impl_->update(view); }, image);
}
TrackBox MosseTracker::do_reach() const { return impl_->reach(); }
const MosseParams& MosseTracker::params() const { return impl_->params; }

}  // namespace opticore
