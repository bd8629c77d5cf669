// NMS and class-aware NMS on a CUDA device, over raw device pointers and a stream: the same
// results as opticore/boxes/nms.hpp and batched_nms.hpp (same order, same strict thresholds, IoU
// computed in float64 with the same rescaling), for a C++ caller without LibTorch too.
//
// Algorithm: the boxes are sorted by descending score on the device (a stable radix sort, so
// equal scores keep ascending index order); a kernel sets, for every pair i < j in that order,
// bit j of row i of a bitmask when IoU > iou_threshold (and, for batched_nms, the labels are
// equal); one thread block then walks the rows in order, keeping a box unless an earlier kept box
// masked it, so only the kept indices (not the N x N / 64 mask) come back to the host.
//
// Compiled only when the build finds nvcc (opticore::build_info().cuda_kernels).
#pragma once

#include <cstdint>
#include <optional>

#include "opticore/boxes/nms.hpp"
#include "opticore/cuda/stream.hpp"

namespace opticore::cuda {

/// Greedy NMS. boxes (n, 4) and scores (n,): C-contiguous device arrays of T (float or double);
/// labels: nullptr, or (n,) int64 on the device for class-aware NMS. Writes the kept indices, by
/// descending score, to the device array kept (room for n) and returns how many; synchronises
/// `stream`. Throws std::invalid_argument for NaN / infinite values or a bad threshold (as the CPU
/// functions), std::runtime_error for a CUDA error.
template <class T>
int64_t nms(const T* boxes, const T* scores, const int64_t* labels, int64_t n, double iou_threshold,
            const NmsOptions& options, int64_t* kept, Stream stream);

}  // namespace opticore::cuda
