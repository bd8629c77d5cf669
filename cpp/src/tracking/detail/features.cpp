#include "tracking/detail/features.hpp"

#include "core/detail/check.hpp"
#include "opticore/tracking/fhog.hpp"
#include "tracking/detail/patch.hpp"

namespace opticore::detail {

CellFeatures::CellFeatures(KcfFeatures kind, int64_t cell_size, int64_t rows, int64_t cols)
    : kind_(kind), cell_(cell_size), rows_(rows), cols_(cols) {
  const bool hog = kind != KcfFeatures::Gray;
  const bool gray = kind != KcfFeatures::Hog;
  channels_ = (hog ? kFhogChannels : 0) + (gray ? 1 : 0);
  if (hog) {
    const FhogSize size = fhog_size(rows * cell_size, cols * cell_size, cell_size);
    if (size.rows != rows || size.cols != cols) {
      fail("CellFeatures: FHOG gives ", size.rows, "x", size.cols, " cells for ", rows, "x", cols, " cells of ",
           cell_size, " pixels");
    }
    hog_.resize(static_cast<size_t>(rows * cols * kFhogChannels));
  }
  if (gray) gray_.resize(static_cast<size_t>(rows * cols * cell_size * cell_size));
}

template <class T>
void CellFeatures::extract(const OutputImage<T>& patch, float* out) {
  const int64_t n = rows_ * cols_;
  float* next = out;
  if (kind_ != KcfFeatures::Gray) {
    fhog(ImageView<T>(patch.data, patch.height, patch.width, patch.channels), cell_, hog_.data());
    for (int64_t i = 0; i < n; ++i) {  // (row, col, channel) -> planes
      for (int64_t c = 0; c < kFhogChannels; ++c) next[c * n + i] = hog_[i * kFhogChannels + c];
    }
    next += kFhogChannels * n;
  }
  if (kind_ != KcfFeatures::Hog) {
    to_gray(patch, gray_.data());
    const int64_t width = cols_ * cell_;
    const float norm = 1.0f / (255.0f * static_cast<float>(cell_ * cell_));
    for (int64_t r = 0; r < rows_; ++r) {
      for (int64_t c = 0; c < cols_; ++c) {
        float sum = 0;
        for (int64_t y = r * cell_; y < (r + 1) * cell_; ++y) {
          for (int64_t x = c * cell_; x < (c + 1) * cell_; ++x) sum += gray_[y * width + x];
        }
        next[r * cols_ + c] = sum * norm - 0.5f;
      }
    }
  }
}

template void CellFeatures::extract(const OutputImage<uint8_t>&, float*);
template void CellFeatures::extract(const OutputImage<float>&, float*);

}  // namespace opticore::detail
