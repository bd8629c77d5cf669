// Runs a kernel on the device of a tensor: the CPU function for CPU tensors, the CUDA one (with
// torch's current stream, under a device guard) for CUDA tensors where opticore was built with
// CUDA kernels.
#pragma once

#include <torch/csrc/stable/tensor.h>

#include "tensor_args.hpp"

#if OPTICORE_TORCH_CUDA
#include <torch/csrc/stable/accelerator.h>

#include "../cuda/stream.hpp"
#endif

namespace opticore::tensor::detail {

/// Runs cpu() for CPU tensors, cuda(stream) under a guard of the device of `device` for CUDA ones.
template <class Cpu, class Cuda>
void on_device(const Tensor& device, Cpu&& cpu, [[maybe_unused]] Cuda&& cuda) {
  if (!device.is_cuda()) return cpu();
#if OPTICORE_TORCH_CUDA
  torch::stable::accelerator::DeviceGuard guard(device.get_device_index());
  cuda(current_cuda_stream(device.get_device_index()));
#else
  fail("input: a CUDA tensor, but opticore was built without CUDA kernels");
#endif
}

}  // namespace opticore::tensor::detail
