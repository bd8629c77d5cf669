// The core's own thread count. Heavy operators (box_iou on large inputs, batched_nms over many
// classes, warps, ...) split their work over at most get_num_threads() threads; everything else is
// serial. Threads are started per call; when the system refuses to start one (thread or memory
// limits), the call carries on with the threads it has, down to the calling thread alone.
#pragma once

#include <cstdint>

namespace opticore {

/// The largest thread count set_num_threads accepts.
inline constexpr int64_t kMaxNumThreads = 1024;

/// Number of threads the core's parallel loops may use (default: std::thread::hardware_concurrency(),
/// at most kMaxNumThreads).
int get_num_threads();

/// Caps the core's parallel loops at n threads (1 <= n <= kMaxNumThreads; 1 makes every operator
/// single-threaded). Throws std::invalid_argument naming `n` otherwise. Affects calls that start
/// after it returns.
void set_num_threads(int64_t n);

}  // namespace opticore
