// A minimal parallel loop over [0, n): the range is cut into chunks of `grain` items that
// get_num_threads() threads take in turn (dynamic scheduling, so uneven items balance out).
// The first exception thrown by `body` is rethrown in the caller.
#pragma once

#include <cstdint>
#include <functional>

namespace opticore::detail {

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body);

}  // namespace opticore::detail
