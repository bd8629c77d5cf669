// The DSST scale filter (Danelljan et al., BMVC 2014): a 1-D correlation filter over a pyramid of
// target-sized samples. Each sample (the target at scale_step^k times the current size, k centred
// on 0) is resampled to a fixed model size, described by FHOG (cell 4) and weighted by a Hann
// window over k; the filter is learnt per feature dimension with a shared denominator:
//   num_d = y^ . conj(x^_d),  den = sum_d |x^_d|^2,  response = F^-1(sum_d num_d . z^_d / (den + lambda)).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "opticore/core/image.hpp"
#include "opticore/tracking/kcf.hpp"
#include "tracking/detail/fft.hpp"
#include "tracking/detail/patch.hpp"

namespace opticore::detail {

class ScaleFilter {
 public:
  /// target_w x target_h: the target's size at scale 1 (image pixels).
  ScaleFilter(const KcfParams& params, double target_w, double target_h);

  /// Learns the samples around (cx, cy) at `scale`; `rate` 1 replaces the model.
  template <class T>
  void learn(const ImageView<T>& image, double cx, double cy, double scale, double rate);

  /// The factor (one of the pyramid's) by which the target's scale changed.
  template <class T>
  double estimate(const ImageView<T>& image, double cx, double cy, double scale);

  /// The pyramid's largest factor (its samples reach target size * scale * this).
  double max_factor() const { return factors_.front(); }

 private:
  /// Features of every scale sample, their spectra along the scale axis into spectra_.
  template <class T>
  void sample(const ImageView<T>& image, double cx, double cy, double scale);

  KcfParams params_;
  double target_w_, target_h_;
  int64_t model_w_, model_h_;  // pixels of a resampled scale sample
  int64_t dims_;               // feature values per sample
  std::vector<double> factors_;
  std::vector<float> window_;
  Fft1d fft_;
  std::vector<Complex> label_spectrum_, num_, den_, spectra_;  // num_, spectra_: dims_ x bins
  std::vector<Complex> response_spectrum_;                     // scratch
  std::vector<float> features_, column_, response_;            // features_: num_scales x dims_
  PatchBuffers patches_;
};

}  // namespace opticore::detail
