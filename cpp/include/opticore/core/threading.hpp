// The core's own thread pool size. Heavy operators (box_iou on large inputs, batched_nms over many
// classes, ...) split their work over at most get_num_threads() threads; everything else is serial.
#pragma once

namespace opticore {

/// Number of threads the core's parallel loops may use (default: std::thread::hardware_concurrency()).
int get_num_threads();

/// Caps the core's parallel loops at n threads (n >= 1; 1 makes every operator single-threaded).
/// Throws std::invalid_argument for n < 1. Affects calls that start after it returns.
void set_num_threads(int n);

}  // namespace opticore
