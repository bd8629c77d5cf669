// KCF: kernelized correlation filter. Henriques, Caseiro, Martins, Batista, "High-speed tracking
// with kernelized correlation filters", TPAMI 2015; with the DSST scale filter of Danelljan,
// Haeger, Khan, Felsberg, "Accurate scale estimation for robust visual tracking", BMVC 2014.
//
// Translation: the box padded by `padding` is resampled so that the square root of its area is
// about `template_size` pixels (sides rounded to fast FFT sizes in cells), described by features
// per cell ("hog": 31-channel FHOG, see opticore/tracking/fhog.hpp; "gray": the grey level / 255
// - 0.5 per pixel; "hog+gray": both, the grey level averaged per cell), multiplied by a Hann
// window, and a kernel ridge regression onto a Gaussian of sigma = output_sigma_factor *
// sqrt(target area) (in cells) is solved in the Fourier domain:
// alpha^ = y^ / (k^xx + regularization).
// Detection: response = F^-1(alpha^ . k^xz), peak refined to sub-cell by a parabola. The model
// (features and alpha^) is a running average with `interp_factor`.
//
// Scale (scale = Dsst): a 1-D correlation filter over `num_scales` samples of the target at
// scales scale_step^k (k centred on 0), each resampled to at most scale_model_max_area pixels and
// described by FHOG; the best scale after each translation step updates the box size, within
// the limits of the frame (at most the frame, at least 5 pixels of the padded window).
//
// See opticore/tracking/tracker.hpp for the box, frame and score conventions. The parameter
// names are those of the Python API (opticore.KCFTracker takes them as keyword arguments, with
// these defaults).
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

/// The parameters of KcfTracker, with their defaults (Henriques et al.; DSST's for the scale filter).
struct KcfParams {
  KcfFeatures features = KcfFeatures::Hog;  ///< "hog", "gray" or "hog+gray"
  KcfKernel kernel = KcfKernel::Gaussian;   ///< "gaussian" or "linear"
  KcfScale scale = KcfScale::Dsst;          ///< "dsst" (the box size follows the target) or "none"
  double padding = 1.5;                     ///< search window = box * (1 + padding), in [0, 10]
  double regularization = 1e-4;             ///< ridge regression's lambda, > 0
  double output_sigma_factor = 0.1;         ///< desired response sigma / sqrt(target area), > 0
  std::optional<double> interp_factor;      ///< model update rate in (0, 1]; unset: 0.02 (hog) or 0.075 (gray)
  std::optional<double> kernel_sigma;       ///< Gaussian kernel bandwidth, > 0; unset: 0.5 (hog) or 0.2 (gray)
  std::optional<int64_t> cell_size;         ///< pixels per feature cell, 1..16; unset: 4 (hog, hog+gray) or 1 (gray)
  int64_t template_size = 128;              ///< sqrt of the padded window's area in template pixels, 16..1024
  double psr_threshold = 7.0;               ///< ok = PSR >= this (noise gives about 5), finite
  // DSST scale filter
  int64_t num_scales = 33;             ///< scale samples, 3..257
  double scale_step = 1.02;            ///< ratio between consecutive scales, in (1, 2]
  double scale_sigma_factor = 0.25;    ///< desired scale response sigma = this * sqrt(num_scales), > 0
  double scale_learning_rate = 0.025;  ///< in (0, 1]
  double scale_regularization = 1e-2;  ///< the scale filter's lambda, > 0
  int64_t scale_model_max_area = 512;  ///< pixels of a scale sample, 64..65536
};

class KcfTracker final : public Tracker {
 public:
  /// Throws std::invalid_argument naming the parameter when one is out of range.
  explicit KcfTracker(const KcfParams& params = {});
  ~KcfTracker() override;
  KcfTracker(KcfTracker&&) noexcept;
  KcfTracker& operator=(KcfTracker&&) noexcept;

  /// The parameters, with the feature-dependent defaults filled in.
  const KcfParams& params() const;

 private:
  void do_init(const Frame& image, const TrackBox& box) override;
  TrackResult do_update(const Frame& image) override;
  TrackBox do_reach() const override;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opticore
