// Argument checks shared by the operators. Every failure throws std::invalid_argument whose
// message names the argument, what was expected and what was found.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "opticore/core/view.hpp"

namespace opticore::detail {

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw std::invalid_argument(message.str());
}

/// (N, 4) boxes with finite coordinates.
template <class T>
void check_boxes(const MatrixView<T>& boxes, const char* name) {
  if (boxes.rows < 0 || boxes.cols != 4) {
    fail(name, ": expected shape (N, 4), got (", boxes.rows, ", ", boxes.cols, ")");
  }
  for (int64_t i = 0; i < boxes.rows; ++i) {
    for (int64_t k = 0; k < 4; ++k) {
      if (!std::isfinite(static_cast<double>(boxes(i, k)))) {
        fail(name, ": expected finite coordinates, got ", boxes(i, k), " at row ", i);
      }
    }
  }
}

/// One finite value per box.
template <class S>
void check_scores(const VectorView<S>& scores, int64_t expected_size, const char* name) {
  if (scores.size != expected_size) {
    fail(name, ": expected ", expected_size, " values (one per box), got ", scores.size);
  }
  for (int64_t i = 0; i < scores.size; ++i) {
    if (!std::isfinite(static_cast<double>(scores[i]))) {
      fail(name, ": expected finite values, got ", scores[i], " at index ", i);
    }
  }
}

inline void check_unit_interval(double value, const char* name) {
  if (!(value >= 0.0 && value <= 1.0)) fail(name, ": expected a value in [0, 1], got ", value);
}

inline void check_finite(double value, const char* name) {
  if (!std::isfinite(value)) fail(name, ": expected a finite value, got ", value);
}

/// A finite value > 0 (a scale, a bandwidth, a regularisation weight).
inline void check_positive(double value, const char* name) {
  if (!(value > 0.0 && std::isfinite(value))) fail(name, ": expected a finite value > 0, got ", value);
}

/// A rate in (0, 1] (a learning rate: 0 would never learn).
inline void check_rate(double value, const char* name) {
  if (!(value > 0.0 && value <= 1.0)) fail(name, ": expected a value in (0, 1], got ", value);
}

/// Checks max_output and returns it as a limit (int64 max when not given).
inline int64_t check_max_output(const std::optional<int64_t>& max_output) {
  if (max_output && *max_output < 0) fail("max_output: expected >= 0, got ", *max_output);
  return max_output.value_or(std::numeric_limits<int64_t>::max());
}

}  // namespace opticore::detail
