// What the CUDA kernels share: error checks, device buffers allocated on the caller's stream, the
// launch size of a grid-stride loop, and the report of the first bad row found on the device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "opticore/cuda/stream.hpp"

namespace opticore::cuda::detail {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string("opticore CUDA: ") + what + ": " + cudaGetErrorString(status));
  }
}

/// Checks the launch of the kernel just enqueued.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

/// `count` values of T on the device, allocated and freed in stream order.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer(int64_t count, Stream stream) : stream_(stream) {
    if (count > 0) check(cudaMallocAsync(reinterpret_cast<void**>(&data_), sizeof(T) * count, stream), "allocate");
  }
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFreeAsync(data_, stream_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return data_; }

 private:
  T* data_ = nullptr;
  Stream stream_;
};

/// Blocks of kThreads threads for a grid-stride loop over n items (at most 65535 * 8 blocks: the
/// loop covers the rest).
inline constexpr int kThreads = 256;
inline unsigned blocks_for(int64_t n) {
  const int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

/// Copies a device value to the host, synchronising the stream.
template <class T>
T read_back(const T* device_value, Stream stream) {
  T value{};
  check(cudaMemcpyAsync(&value, device_value, sizeof(T), cudaMemcpyDeviceToHost, stream), "copy to host");
  check(cudaStreamSynchronize(stream), "synchronize");
  return value;
}

/// "No bad row found" in a first-bad-row slot, which kernels lower with atomicMin.
inline constexpr unsigned long long kNoRow = ~0ull;

}  // namespace opticore::cuda::detail
