// MOSSE: Minimum Output Sum of Squared Error correlation filter. Bolme, Beveridge, Draper, Lui,
// "Visual object tracking using adaptive correlation filters", CVPR 2010.
//
// One grey patch the size of the box (resampled when the box is larger than max_patch_side),
// preprocessed by log(1 + x), normalised to zero mean and unit norm, and multiplied by a Hann
// window. The filter H* = A / (B + regularization) with A = sum G . conj(F), B = sum F . conj(F)
// over the first patch and `perturbations` random affine perturbations of it (rotation and scale,
// drawn from a std::mt19937_64 seeded with `seed`: distinct, reproducible), then updated as running
// averages with `learning_rate`. G is a Gaussian of `sigma` patch pixels. The PSR excludes the
// 11 x 11 window around the peak (Bolme's choice). Box size stays fixed (MOSSE has no scale).
//
// See opticore/tracking/tracker.hpp for the box, frame and score conventions. The parameter
// names are those of the Python API (opticore.MOSSETracker takes them as keyword arguments, with
// these defaults).
#pragma once

#include <cstdint>
#include <memory>

#include "opticore/core/image.hpp"
#include "opticore/tracking/tracker.hpp"

namespace opticore {

/// The parameters of MosseTracker, with their defaults (Bolme et al.'s where the paper gives one).
struct MosseParams {
  double learning_rate = 0.125;  ///< running-average rate of A and B, in (0, 1]
  double sigma = 2.0;            ///< Gaussian of the desired response, patch pixels, > 0
  double regularization = 0.01;  ///< added to B (the patch has unit norm, so B averages 1), > 0
  int64_t perturbations = 8;     ///< random affine copies of the first patch, 0..1000
  double psr_threshold = 7.0;    ///< ok = PSR >= this (Bolme: < 7 means occlusion or loss), finite
  int64_t max_patch_side = 128;  ///< larger boxes are resampled to at most this (sqrt of area), 8..4096
  uint64_t seed = 0;             ///< seed of the perturbations
};

class MosseTracker final : public Tracker {
 public:
  /// Throws std::invalid_argument naming the parameter when one is out of range.
  explicit MosseTracker(const MosseParams& params = {});
  ~MosseTracker() override;
  MosseTracker(MosseTracker&&) noexcept;
  MosseTracker& operator=(MosseTracker&&) noexcept;

  const MosseParams& params() const;

 private:
  void do_init(const Frame& image, const TrackBox& box) override;
  TrackResult do_update(const Frame& image) override;
  TrackBox do_reach() const override;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opticore
