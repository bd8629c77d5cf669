// RoIAlign and RoIPool, and their position-sensitive forms, on a CUDA device, over raw device pointers and a stream,
// with the semantics of opticore/roi/roi_align.hpp and roi_pool.hpp (one thread per output value, 64-bit indexing, the
// same sampling rules, samples outside the map skipped by bisection as on the CPU). The backward passes accumulate with
// atomic adds, so their float sums are not in a fixed order (the CPU backward is deterministic). Half precision is the
// caller's conversion to float (the torch operators do it).
//
// input / grad_output: device arrays of any strides (Array4View over device memory); rois (K, 5)
// C-contiguous on the device; outputs C-contiguous on the device. Each function checks the RoIs on
// the device and synchronises `stream` to report a bad one as std::invalid_argument (as the CPU
// functions); std::runtime_error for a CUDA error. Compiled only when the build finds nvcc.
#pragma once

#include <cstdint>

#include "opticore/core/view.hpp"
#include "opticore/cuda/stream.hpp"
#include "opticore/roi/ps_roi_align.hpp"
#include "opticore/roi/ps_roi_pool.hpp"
#include "opticore/roi/roi_align.hpp"
#include "opticore/roi/roi_pool.hpp"

namespace opticore::cuda {

template <class T>
void roi_align(const Array4View<T>& input, const T* rois, int64_t num_rois, const RoiAlignOptions& options, T* output,
               Stream stream);

template <class T>
void roi_align_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch,
                        int64_t channels, int64_t height, int64_t width, const RoiAlignOptions& options, T* grad_input,
                        Stream stream);

template <class T>
void roi_pool(const Array4View<T>& input, const T* rois, int64_t num_rois, const RoiPoolOptions& options, T* output,
              int64_t* argmax, Stream stream);

template <class T>
void roi_pool_backward(const Array4View<T>& grad_output, const int64_t* argmax, const T* rois, int64_t num_rois,
                       int64_t batch, int64_t channels, int64_t height, int64_t width, const RoiPoolOptions& options,
                       T* grad_input, Stream stream);

template <class T>
void ps_roi_align(const Array4View<T>& input, const T* rois, int64_t num_rois, const PsRoiAlignOptions& options,
                  T* output, Stream stream);

template <class T>
void ps_roi_align_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch,
                           int64_t channels, int64_t height, int64_t width, const PsRoiAlignOptions& options,
                           T* grad_input, Stream stream);

template <class T>
void ps_roi_pool(const Array4View<T>& input, const T* rois, int64_t num_rois, const RoiPoolOptions& options, T* output,
                 Stream stream);

template <class T>
void ps_roi_pool_backward(const Array4View<T>& grad_output, const T* rois, int64_t num_rois, int64_t batch,
                          int64_t channels, int64_t height, int64_t width, const RoiPoolOptions& options, T* grad_input,
                          Stream stream);

}  // namespace opticore::cuda
