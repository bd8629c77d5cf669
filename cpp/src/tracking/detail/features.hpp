// Per-cell features of a patch for the KCF tracker, as channel planes (channel, row, col):
// FHOG (31 channels), the grey level (1 channel, / 255 - 0.5, averaged per cell), or both.
#pragma once

#include <cstdint>
#include <vector>

#include "opticore/core/image.hpp"
#include "opticore/tracking/kcf.hpp"

namespace opticore::detail {

class CellFeatures {
 public:
  /// Features of rows x cols cells of cell_size pixels: patches must be (rows * cell_size) x
  /// (cols * cell_size).
  CellFeatures(KcfFeatures kind, int64_t cell_size, int64_t rows, int64_t cols);

  int64_t channels() const { return channels_; }
  int64_t plane_size() const { return rows_ * cols_; }

  /// Writes channels() planes of rows x cols floats to `out`.
  template <class T>
  void extract(const OutputImage<T>& patch, float* out);

 private:
  KcfFeatures kind_;
  int64_t cell_, rows_, cols_, channels_;
  std::vector<float> hog_, gray_;  // scratch
};

}  // namespace opticore::detail
