// A minimal parallel loop over [0, n): the range is cut into chunks of `grain` items that
// get_num_threads() threads take in turn (dynamic scheduling, so uneven items balance out): the
// caller and the workers of a pool started once (threading.cpp). A parallel_for inside `body`
// runs serially. The first exception thrown by `body` is rethrown in the caller.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#include "opticore/core/threading.hpp"

namespace opticore::detail {

/// parallel_for's threaded case: `workers` (>= 2) threads, the caller one of them (the caller
/// alone when the pool is busy or this is a loop inside a loop).
void run_parallel(int64_t n, int64_t grain, int workers, const std::function<void(int64_t, int64_t)>& body);

/// body(begin, end) over chunks of [0, n). One chunk or one thread calls `body` directly, with
/// no std::function (its heap allocation is a measurable part of a small resize).
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = (n + grain - 1) / grain;
  const int workers = static_cast<int>(std::min<int64_t>(get_num_threads(), chunks));
  if (workers <= 1) {
    body(int64_t{0}, n);
    return;
  }
  run_parallel(n, grain, workers, body);
}

}  // namespace opticore::detail
