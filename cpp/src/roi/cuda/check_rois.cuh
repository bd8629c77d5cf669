// The RoI check of cpp/src/roi/detail/roi_args.hpp on the device: the first bad row is found by a
// kernel and reported on the host as std::invalid_argument naming `rois`.
#pragma once

#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>

#include "core/cuda/device.cuh"
#include "opticore/roi/roi_align.hpp"

namespace opticore::cuda::detail {

template <class T>
__global__ void find_bad_roi(const T* rois, int64_t num_rois, int64_t batch, double spatial_scale,
                             unsigned long long* first_bad) {
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < num_rois;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double index = static_cast<double>(rois[5 * k]);
    bool ok = index >= 0.0 && index < static_cast<double>(batch) && index == floor(index);
    for (int j = 1; j < 5; ++j) {
      const double value = static_cast<double>(rois[5 * k + j]);
      ok = ok && isfinite(value) && fabs(value * spatial_scale) <= kMaxRoiCoordinate;
    }
    if (!ok) atomicMin(first_bad, static_cast<unsigned long long>(k));
  }
}

/// Throws std::invalid_argument naming the first RoI (K, 5), C-contiguous on the device, that is
/// not finite, has a batch index that is not whole or not in [0, batch), or lies beyond
/// kMaxRoiCoordinate after scaling. Synchronises `stream`.
template <class T>
void check_rois(const T* rois, int64_t num_rois, int64_t batch, double spatial_scale, Stream stream) {
  if (num_rois <= 0) return;
  DeviceBuffer<unsigned long long> first_bad(1, stream);
  check(cudaMemsetAsync(first_bad.get(), 0xff, sizeof(unsigned long long), stream), "memset");
  find_bad_roi<<<blocks_for(num_rois), kThreads, 0, stream>>>(rois, num_rois, batch, spatial_scale, first_bad.get());
  check_launch("find_bad_roi");
  const unsigned long long k = read_back(first_bad.get(), stream);
  if (k == kNoRow) return;
  T row[5];
  check(cudaMemcpy(row, rois + 5 * k, sizeof(row), cudaMemcpyDeviceToHost), "copy to host");
  std::ostringstream message;
  message << "rois: expected finite values, an integral batch index in [0, " << batch << ") and coordinates within +-"
          << kMaxRoiCoordinate << " after scaling by spatial_scale, got (" << row[0] << ", " << row[1] << ", " << row[2]
          << ", " << row[3] << ", " << row[4] << ") at row " << k;
  throw std::invalid_argument(message.str());
}

}  // namespace opticore::cuda::detail
