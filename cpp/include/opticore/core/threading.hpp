// The core's own thread count. Heavy operators (box_iou on large inputs, batched_nms over many
// classes, warps, ...) split their work over at most get_num_threads() threads; everything else is
// serial. The threads are started once, when a loop first needs them, and reused (a pool); when
// the system refuses to start one (thread or memory limits), loops carry on with the threads there
// are, down to the calling thread alone. One loop at a time uses the pool: a loop started by another
// thread meanwhile, or inside a loop's body, runs on its calling thread alone.
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
/// after it returns; stops the pool's threads beyond n - 1 (waiting for a loop that uses them).
void set_num_threads(int64_t n);

}  // namespace opticore
