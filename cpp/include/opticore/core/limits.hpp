// What one call may allocate. Sizes come from the caller (an output size, a crop size, the number
// of boxes), so every operator checks what it is about to allocate against these limits first and
// throws std::invalid_argument naming the argument that set the size, the size and the limit,
// instead of running into std::bad_alloc (or the system's out-of-memory killer) minutes later.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace opticore {

/// The largest array one call allocates, result or working buffer: 4 GiB (e.g. a 32768 x 32768
/// x 4 uint8 image, or a float32 one of 1 Gi values).
inline constexpr int64_t kMaxArrayBytes = int64_t{1} << 32;

/// The largest point dimension D umeyama takes: its SVD costs O(D^3) time per point set.
inline constexpr int64_t kMaxPointDims = 64;

/// Throws std::invalid_argument unless an array of `shape` (non-negative sizes) with
/// `item_bytes`-byte elements fits in kMaxArrayBytes. `name` is the argument that set the size.
inline void check_array_size(const char* name, const std::vector<int64_t>& shape, int64_t item_bytes) {
  // In double: the product of caller-given sizes may overflow int64, never double's range here.
  double bytes = static_cast<double>(item_bytes);
  for (int64_t n : shape) bytes *= static_cast<double>(n);
  if (bytes <= static_cast<double>(kMaxArrayBytes)) return;
  std::ostringstream message;
  message << name << ": expected a result of at most 4 GiB (opticore::kMaxArrayBytes), got ";
  const char* times = "";
  for (int64_t n : shape) message << times << n, times = " x ";
  message << " values of " << item_bytes << " bytes (" << bytes / static_cast<double>(int64_t{1} << 30) << " GiB)";
  throw std::invalid_argument(message.str());
}

}  // namespace opticore
