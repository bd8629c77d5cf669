#include "tracking/detail/scale_filter.hpp"

#include <algorithm>
#include <cmath>

#include "opticore/tracking/fhog.hpp"
#include "tracking/detail/correlation.hpp"

namespace opticore::detail {

namespace {
constexpr int64_t kScaleCell = 4;  // FHOG cell of the scale samples (as in DSST)
}

ScaleFilter::ScaleFilter(const KcfParams& params, double target_w, double target_h)
    : params_(params), target_w_(target_w), target_h_(target_h), fft_(params.num_scales) {
  // The model size: the target shrunk to at most scale_model_max_area pixels, >= 2 cells a side.
  const double area = target_w * target_h;
  const double shrink = std::min(1.0, std::sqrt(static_cast<double>(params.scale_model_max_area) / area));
  model_w_ = std::max<int64_t>(2 * kScaleCell, static_cast<int64_t>(std::floor(target_w * shrink)));
  model_h_ = std::max<int64_t>(2 * kScaleCell, static_cast<int64_t>(std::floor(target_h * shrink)));
  const FhogSize cells = fhog_size(model_h_, model_w_, kScaleCell);
  dims_ = cells.rows * cells.cols * kFhogChannels;

  const int64_t n = params.num_scales;
  const int64_t centre = (n + 1) / 2 - 1;  // DSST: ceil(n / 2), 0-based
  const double sigma = params.scale_sigma_factor * std::sqrt(static_cast<double>(n));
  std::vector<float> label(static_cast<size_t>(n));
  factors_.resize(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const double d = static_cast<double>(k - centre);
    label[k] = static_cast<float>(std::exp(-0.5 * d * d / (sigma * sigma)));
    factors_[k] = std::pow(params.scale_step, static_cast<double>(centre - k));
  }
  window_ = hann(n);
  const int64_t bins = fft_.spectrum_size();
  label_spectrum_.resize(static_cast<size_t>(bins));
  fft_.forward(label.data(), label_spectrum_.data());
  num_.assign(static_cast<size_t>(dims_ * bins), Complex{});
  den_.assign(static_cast<size_t>(bins), Complex{});
  spectra_.resize(static_cast<size_t>(dims_ * bins));
  features_.resize(static_cast<size_t>(n * dims_));
  column_.resize(static_cast<size_t>(n));
  response_.resize(static_cast<size_t>(n));
}

template <class T>
void ScaleFilter::sample(const ImageView<T>& image, double cx, double cy, double scale) {
  auto& patch = patches_.get<T>();
  patch.resize(model_h_, model_w_, image.channels);
  const int64_t n = params_.num_scales;
  for (int64_t k = 0; k < n; ++k) {
    const double s = scale * factors_[k];
    sample_patch(image, cx, cy, target_w_ * s, target_h_ * s, patch.view);
    float* f = features_.data() + k * dims_;
    fhog(patch.image(), kScaleCell, f);
    for (int64_t d = 0; d < dims_; ++d) f[d] *= window_[k];
  }
  const int64_t bins = fft_.spectrum_size();
  for (int64_t d = 0; d < dims_; ++d) {  // one FFT along the scale axis per feature dimension
    for (int64_t k = 0; k < n; ++k) column_[k] = features_[k * dims_ + d];
    fft_.forward(column_.data(), spectra_.data() + d * bins);
  }
}

template <class T>
void ScaleFilter::learn(const ImageView<T>& image, double cx, double cy, double scale, double rate) {
  sample(image, cx, cy, scale);
  const int64_t bins = fft_.spectrum_size();
  const float keep = static_cast<float>(1.0 - rate), r = static_cast<float>(rate);
  for (int64_t b = 0; b < bins; ++b) den_[b] *= keep;
  for (int64_t d = 0; d < dims_; ++d) {
    const Complex* x = spectra_.data() + d * bins;
    Complex* num = num_.data() + d * bins;
    for (int64_t b = 0; b < bins; ++b) {
      num[b] = keep * num[b] + r * label_spectrum_[b] * std::conj(x[b]);
      den_[b] += r * std::norm(x[b]);
    }
  }
}

template <class T>
double ScaleFilter::estimate(const ImageView<T>& image, double cx, double cy, double scale) {
  sample(image, cx, cy, scale);
  const int64_t bins = fft_.spectrum_size();
  auto& sum = response_spectrum_;
  sum.assign(static_cast<size_t>(bins), Complex{});
  for (int64_t d = 0; d < dims_; ++d) {
    const Complex* z = spectra_.data() + d * bins;
    const Complex* num = num_.data() + d * bins;
    for (int64_t b = 0; b < bins; ++b) sum[b] += num[b] * z[b];
  }
  const float lambda = static_cast<float>(params_.scale_regularization);
  for (int64_t b = 0; b < bins; ++b) sum[b] /= den_[b].real() + lambda;
  fft_.inverse(sum.data(), response_.data());
  const auto best = std::max_element(response_.begin(), response_.end()) - response_.begin();
  return factors_[best];
}

template void ScaleFilter::learn(const ImageView<uint8_t>&, double, double, double, double);
template void ScaleFilter::learn(const ImageView<float>&, double, double, double, double);
template double ScaleFilter::estimate(const ImageView<uint8_t>&, double, double, double);
template double ScaleFilter::estimate(const ImageView<float>&, double, double, double);

}  // namespace opticore::detail
