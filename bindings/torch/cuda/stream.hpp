// The current CUDA stream of a device, from LibTorch's C shim, for the CUDA kernels.
//
// aoti_torch_get_current_cuda_stream lives in libtorch_cuda, which a CPU-only torch lacks: the
// operator library must load on both, so the function is looked up when a CUDA tensor first
// reaches an operator (libtorch_cuda is then loaded) rather than linked.
#pragma once

#include <dlfcn.h>

#include <cstdint>
#include <stdexcept>

#include "opticore/cuda/stream.hpp"

namespace opticore::tensor::detail {

inline opticore::cuda::Stream current_cuda_stream(int32_t device_index) {
  using GetStream = int32_t (*)(int32_t, void**);
  static const GetStream get_stream = [] {
    void* library = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_NOLOAD);
    return library != nullptr ? reinterpret_cast<GetStream>(dlsym(library, "aoti_torch_get_current_cuda_stream"))
                              : nullptr;
  }();
  if (get_stream == nullptr) {
    throw std::runtime_error("opticore: a CUDA tensor, but torch's CUDA library (libtorch_cuda.so) is not loaded");
  }
  void* stream = nullptr;
  if (get_stream(device_index, &stream) != 0) throw std::runtime_error("opticore: no current CUDA stream");
  return static_cast<opticore::cuda::Stream>(stream);
}

}  // namespace opticore::tensor::detail
