// How the CUDA kernels of the core take a stream: as a cudaStream_t, spelled without including
// the CUDA headers, so that code which only declares calls into them needs no CUDA toolkit.
#pragma once

struct CUstream_st;

namespace opticore::cuda {

/// A cudaStream_t (nullptr: the legacy default stream).
using Stream = CUstream_st*;

}  // namespace opticore::cuda
