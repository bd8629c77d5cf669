// KCF: kernelized correlation filter. Henriques, Caseiro, Martins, Batista, "High-speed tracking
// with kernelized correlation filters", TPAMI 2015; with the DSST scale filter of Danelljan,
// Haeger, Khan, Felsberg, "Accurate scale estimation for robust visual tracking", BMVC 2014.
//
// Translation: the box padded by `padding` is resampled so that the square root of its area is
// about `template_size` pixels (sides rounded to fast FFT sizes in cells), described by features
// per cell ("hog": 31-channel FHOG, see opticore/tracking/fhog.hpp; "gray": the grey level / 255
// - 0.5 per pixel; "hog+gray": both, the grey level averaged per cell), multiplied by a Hann
// window, and a kernel ridge regression onto a Gaussian of sigma = output_sigma_factor *
// sqrt(target area) (in cells) is solved in the Fourier domain: alpha^ = y^ / (k^xx + lambda).
// Detection: response = F^-1(alpha^ . k^xz), peak refined to sub-cell by a parabola. The model
// (features and alpha^) is a running average with `interp_factor`.
//
// Scale (scale = Dsst): a 1-D correlation filter over `num_scales` samples of the target at
// scales scale_step^k (k centred on 0), each resampled to at most scale_model_max_area pixels and
// described by FHOG; the best scale after each translation step updates the box size, within
// the limits of the frame (at most the frame, at least 5 pixels of the padded window).
//
// See opticore/tracking/tracker.hpp for the box, frame and score conventions.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "opticore/core/image.hpp"
#include "opticore/tracking/tracker.hpp"

namespace opticore {

enum class KcfFeatures { Hog, Gray, HogGray };
enum class KcfKernel { Gaussian, Linear };
enum class KcfScale { None, Dsst };

struct KcfParams {
  KcfFeatures features = KcfFeatures::Hog;
  KcfKernel kernel = KcfKernel::Gaussian;
  KcfScale scale = KcfScale::Dsst;
  double padding = 1.5;                 ///< search window = box * (1 + padding), >= 0
  double lambda = 1e-4;                 ///< ridge regularisation, > 0
  double output_sigma_factor = 0.1;     ///< desired response sigma / sqrt(target area), > 0
  std::optional<double> interp_factor;  ///< model update rate in (0, 1]; default 0.02 (hog) or 0.075 (gray)
  std::optional<double> kernel_sigma;   ///< Gaussian kernel bandwidth, > 0; default 0.5 (hog) or 0.2 (gray)
  std::optional<int64_t> cell_size;     ///< pixels per feature cell; default 4 (hog, hog+gray) or 1 (gray)
  int64_t template_size = 128;          ///< sqrt of the padded window's area in template pixels
  double psr_threshold = 7.0;           ///< ok = PSR >= this (noise gives about 5)
  // DSST scale filter
  int64_t num_scales = 33;              ///< scale samples, >= 3
  double scale_step = 1.02;             ///< ratio between consecutive scales, > 1
  double scale_sigma_factor = 0.25;     ///< desired scale response sigma = this * sqrt(num_scales)
  double scale_learning_rate = 0.025;   ///< in (0, 1]
  double scale_lambda = 1e-2;           ///< > 0
  int64_t scale_model_max_area = 512;   ///< pixels of a scale sample, >= 64
};

class KcfTracker {
 public:
  /// Throws std::invalid_argument naming the parameter when one is out of range.
  explicit KcfTracker(const KcfParams& params = {});
  ~KcfTracker();
  KcfTracker(KcfTracker&&) noexcept;
  KcfTracker& operator=(KcfTracker&&) noexcept;

  /// Learns the target in `box` of `image`. Throws std::invalid_argument for a bad frame or box.
  void init(ImageView<uint8_t> image, const TrackBox& box);
  void init(ImageView<float> image, const TrackBox& box);
  /// Finds the target in the next frame. Throws std::logic_error before init().
  TrackResult update(ImageView<uint8_t> image);
  TrackResult update(ImageView<float> image);

  bool initialized() const;
  /// The parameters, with the feature-dependent defaults filled in.
  const KcfParams& params() const;
  /// The last result (the initial box with ok = true and score = 0 after init()).
  const TrackResult& last() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opticore
