#include "opticore/tracking/kcf.hpp"

#include <algorithm>
#include <cmath>
#include <variant>
#include <vector>

#include "core/detail/check.hpp"
#include "tracking/detail/correlation.hpp"
#include "tracking/detail/features.hpp"
#include "tracking/detail/fft.hpp"
#include "tracking/detail/patch.hpp"
#include "tracking/detail/scale_filter.hpp"

namespace opticore {

using detail::Complex;

namespace {

constexpr int64_t kMinCells = 4;

/// The parameters with the feature-dependent defaults of Henriques et al. filled in, checked.
KcfParams resolve(KcfParams p) {
  const bool gray_only = p.features == KcfFeatures::Gray;
  if (!p.interp_factor) p.interp_factor = gray_only ? 0.075 : 0.02;
  if (!p.kernel_sigma) p.kernel_sigma = gray_only ? 0.2 : 0.5;
  if (!p.cell_size) p.cell_size = gray_only ? 1 : 4;
  if (!(p.padding >= 0.0 && p.padding <= 10.0)) detail::fail("padding: expected a value in [0, 10], got ", p.padding);
  detail::check_positive(p.regularization, "regularization");
  detail::check_positive(p.output_sigma_factor, "output_sigma_factor");
  detail::check_rate(*p.interp_factor, "interp_factor");
  detail::check_positive(*p.kernel_sigma, "kernel_sigma");
  if (*p.cell_size < 1 || *p.cell_size > 16) detail::fail("cell_size: expected 1 to 16, got ", *p.cell_size);
  if (p.features != KcfFeatures::Gray && *p.cell_size < 2) {
    detail::fail("cell_size: FHOG features need cells of at least 2 pixels, got ", *p.cell_size);
  }
  if (p.template_size < 16 || p.template_size > 1024) {
    detail::fail("template_size: expected 16 to 1024, got ", p.template_size);
  }
  detail::check_finite(p.psr_threshold, "psr_threshold");
  if (p.num_scales < 3 || p.num_scales > 257) detail::fail("num_scales: expected 3 to 257, got ", p.num_scales);
  if (!(p.scale_step > 1.0 && p.scale_step <= 2.0)) {
    detail::fail("scale_step: expected a value in (1, 2], got ", p.scale_step);
  }
  detail::check_positive(p.scale_sigma_factor, "scale_sigma_factor");
  detail::check_rate(p.scale_learning_rate, "scale_learning_rate");
  detail::check_positive(p.scale_regularization, "scale_regularization");
  if (p.scale_model_max_area < 64 || p.scale_model_max_area > 65536) {
    detail::fail("scale_model_max_area: expected 64 to 65536, got ", p.scale_model_max_area);
  }
  return p;
}

}  // namespace

struct KcfTracker::Impl {
  KcfParams params;
  double cx = 0, cy = 0;              // target centre, pixel-centre coordinates
  double target_w = 0, target_h = 0;  // target size at scale 1
  double window_w = 0, window_h = 0;  // padded search window at scale 1, image pixels
  double scale = 1, min_scale = 1, max_scale = 1;
  int64_t cell = 1, rows = 0, cols = 0, channels = 0;
  std::unique_ptr<detail::Fft2d> fft;
  std::unique_ptr<detail::CellFeatures> features;
  std::unique_ptr<detail::ScaleFilter> scale_filter;
  std::vector<float> window;              // Hann, rows x cols
  std::vector<Complex> label_spectrum;    // y^
  std::vector<float> model_x;             // channels planes (for its norm, in double)
  std::vector<Complex> model_xf, alphaf;  // channels spectra; one spectrum
  std::vector<float> x, plane, response;  // scratch
  std::vector<Complex> xf, kf, sum;       // scratch
  detail::PatchBuffers patches;

  int64_t plane_size() const { return rows * cols; }
  int64_t spectrum_size() const { return fft->spectrum_size(); }

  /// What update reads: the search window around the centre; after a move of at most half the
  /// window plus half a cell (the wrapped, refined peak), with DSST the scale pyramid at this
  /// scale and at the next (at most max_factor() apart), and the window at the next scale.
  /// The target is no larger than the window; bilinear taps add a pixel.
  TrackBox reach() const {
    const double f = scale_filter ? scale_filter->max_factor() : 1.0;
    const auto half = [&](double window, double target, int64_t cells) {
      const double move = window * scale * (0.5 + 0.5 / static_cast<double>(cells));
      return move + 0.5 * std::max(window * scale * f, target * scale * f * f) + 2.0;
    };
    const double half_w = half(window_w, target_w, cols), half_h = half(window_h, target_h, rows);
    return {cx - half_w, cy - half_h, 2.0 * half_w + 1.0, 2.0 * half_h + 1.0};
  }

  /// Windowed features of the search window around (cx, cy) at the current scale, into x, and
  /// their spectra into xf.
  template <class T>
  void extract(const ImageView<T>& image) {
    auto& patch = patches.get<T>();
    patch.resize(rows * cell, cols * cell, image.channels);
    detail::sample_patch(image, cx, cy, window_w * scale, window_h * scale, patch.view);
    features->extract(patch.view, x.data());
    const int64_t n = plane_size(), s = spectrum_size();
    for (int64_t c = 0; c < channels; ++c) {
      float* p = x.data() + c * n;
      for (int64_t i = 0; i < n; ++i) p[i] *= window[i];
      fft->forward(p, xf.data() + c * s);
    }
  }

  static double squared_norm(const std::vector<float>& v) {
    double sum = 0;
    for (float e : v) sum += static_cast<double>(e) * e;
    return sum;
  }

  /// k^(a, b): the spectrum of the kernel between a and every cyclic shift of b (Henriques et
  /// al., eq. 31 for the Gaussian kernel, eq. 32 for the linear one), into kf.
  void kernel_correlation(const Complex* af, double aa, const Complex* bf, double bb) {
    const int64_t n = plane_size(), s = spectrum_size();
    std::fill(sum.begin(), sum.end(), Complex{});
    for (int64_t c = 0; c < channels; ++c) {
      const Complex* a = af + c * s;
      const Complex* b = bf + c * s;
      for (int64_t k = 0; k < s; ++k) sum[k] += std::conj(a[k]) * b[k];
    }
    const double numel = static_cast<double>(n * channels);
    if (params.kernel == KcfKernel::Linear) {
      const float inv = static_cast<float>(1.0 / numel);
      for (int64_t k = 0; k < s; ++k) kf[k] = sum[k] * inv;
      return;
    }
    fft->inverse(sum.data(), plane.data());  // cross-correlation a * b
    const double sigma2 = *params.kernel_sigma * *params.kernel_sigma;
    for (int64_t i = 0; i < n; ++i) {
      const double d = std::max(0.0, aa + bb - 2.0 * plane[i]) / numel;
      plane[i] = static_cast<float>(std::exp(-d / sigma2));
    }
    fft->forward(plane.data(), kf.data());
  }

  /// Trains on the features in x / xf; rate 1 replaces the model.
  void learn(double rate) {
    const double xx = squared_norm(x);
    kernel_correlation(xf.data(), xx, xf.data(), xx);
    const float keep = static_cast<float>(1.0 - rate), r = static_cast<float>(rate);
    const float lambda = static_cast<float>(params.regularization);
    for (size_t k = 0; k < alphaf.size(); ++k) alphaf[k] = keep * alphaf[k] + r * label_spectrum[k] / (kf[k] + lambda);
    for (size_t i = 0; i < x.size(); ++i) model_x[i] = keep * model_x[i] + r * x[i];
    for (size_t k = 0; k < xf.size(); ++k) model_xf[k] = keep * model_xf[k] + r * xf[k];
  }

  template <class T>
  void init(const ImageView<T>& image, const TrackBox& box) {
    cx = box.x + (box.width - 1) * 0.5;
    cy = box.y + (box.height - 1) * 0.5;
    target_w = box.width;
    target_h = box.height;
    window_w = target_w * (1.0 + params.padding);
    window_h = target_h * (1.0 + params.padding);
    scale = 1.0;

    // Template resolution: the window's area becomes about template_size^2 pixels; cells are
    // rounded up to fast FFT sizes (even columns for the real FFT).
    cell = *params.cell_size;
    const double to_template = static_cast<double>(params.template_size) / std::sqrt(window_w * window_h);
    cols = detail::fft_size_at_least(std::max<int64_t>(kMinCells, std::lround(window_w * to_template / cell)), 2);
    rows = detail::fft_size_at_least(std::max<int64_t>(kMinCells, std::lround(window_h * to_template / cell)), 1);
    fft = std::make_unique<detail::Fft2d>(rows, cols);
    features = std::make_unique<detail::CellFeatures>(params.features, cell, rows, cols);
    channels = features->channels();
    window = detail::hann2d(rows, cols);

    // Desired response: a Gaussian at (0, 0) of output_sigma_factor * sqrt(target area), in cells.
    const double target_cells = std::sqrt((target_w * cols / window_w) * (target_h * rows / window_h));
    const auto y = detail::gaussian_response(rows, cols, params.output_sigma_factor * target_cells);
    const int64_t n = plane_size(), s = spectrum_size();
    label_spectrum.resize(s);
    fft->forward(y.data(), label_spectrum.data());

    x.assign(channels * n, 0.0f);
    model_x.assign(channels * n, 0.0f);
    plane.assign(n, 0.0f);
    response.assign(n, 0.0f);
    xf.assign(channels * s, Complex{});
    model_xf.assign(channels * s, Complex{});
    alphaf.assign(s, Complex{});
    kf.assign(s, Complex{});
    sum.assign(s, Complex{});

    extract(image);
    learn(1.0);

    scale_filter.reset();
    if (params.scale == KcfScale::Dsst) {
      // DSST's limits: the padded window keeps at least 5 pixels a side and the target fits the frame.
      const double step = params.scale_step;
      min_scale = std::pow(step, std::ceil(std::log(std::max(5.0 / window_w, 5.0 / window_h)) / std::log(step)));
      max_scale = std::pow(
          step, std::floor(std::log(std::min(image.width / target_w, image.height / target_h)) / std::log(step)));
      max_scale = std::max(max_scale, 1.0);
      min_scale = std::min(min_scale, 1.0);
      scale_filter = std::make_unique<detail::ScaleFilter>(params, target_w, target_h);
      scale_filter->learn(image, cx, cy, scale, 1.0);
    }
  }

  template <class T>
  TrackResult update(const ImageView<T>& image) {
    // Translation: correlate the model with the features at the previous position.
    extract(image);
    kernel_correlation(model_xf.data(), squared_norm(model_x), xf.data(), squared_norm(x));
    for (size_t k = 0; k < kf.size(); ++k) kf[k] *= alphaf[k];
    fft->inverse(kf.data(), response.data());
    const int64_t exclusion = std::max<int64_t>(1, std::min(rows, cols) / 8);
    const detail::Peak peak = detail::locate_peak(response.data(), rows, cols, exclusion);
    cx += peak.dx * window_w * scale / static_cast<double>(cols);
    cy += peak.dy * window_h * scale / static_cast<double>(rows);
    const bool ok = peak.psr >= params.psr_threshold;

    if (ok) {
      if (scale_filter) {
        scale = std::clamp(scale * scale_filter->estimate(image, cx, cy, scale), min_scale, max_scale);
        scale_filter->learn(image, cx, cy, scale, params.scale_learning_rate);
      }
      extract(image);  // learn the target where it was found
      learn(*params.interp_factor);
    }
    const double w = target_w * scale, h = target_h * scale;
    return {ok, {cx - (w - 1) * 0.5, cy - (h - 1) * 0.5, w, h}, peak.psr};
  }
};

KcfTracker::KcfTracker(const KcfParams& params) : impl_(std::make_unique<Impl>()) { impl_->params = resolve(params); }
KcfTracker::~KcfTracker() = default;
KcfTracker::KcfTracker(KcfTracker&&) noexcept = default;
KcfTracker& KcfTracker::operator=(KcfTracker&&) noexcept = default;

void KcfTracker::do_init(const Frame& image, const TrackBox& box) {
  std::visit([&](const auto& view) { impl_->init(view, box); }, image);
}
TrackResult KcfTracker::do_update(const Frame& image) {
  return std::visit([&](const auto& view) { return impl_->update(view); }, image);
}
TrackBox KcfTracker::do_reach() const { return impl_->reach(); }
const KcfParams& KcfTracker::params() const { return impl_->params; }

}  // namespace opticore
