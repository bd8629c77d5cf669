// A tournament tree over n values that gives the position of the largest (ties: the lowest
// position) in O(1) and takes a change of one value in O(log n). Soft-NMS uses it to find the
// next box to take while scores keep decaying.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace opticore::detail {

class MaxTree {
 public:
  explicit MaxTree(const std::vector<double>& values) {
    size_ = 1;
    while (size_ < static_cast<int64_t>(values.size())) size_ *= 2;
    value_.assign(static_cast<size_t>(size_), -INFINITY);
    for (size_t i = 0; i < values.size(); ++i) value_[i] = values[i];
    winner_.assign(static_cast<size_t>(2 * size_), -1);
    for (int64_t i = 0; i < size_; ++i) winner_[static_cast<size_t>(size_ + i)] = i;
    for (int64_t node = size_ - 1; node >= 1; --node) replay(node);
  }

  /// Position of the largest value, or -1 when every value is -inf (removed).
  int64_t argmax() const {
    const int64_t w = winner_[1];
    return value_[static_cast<size_t>(w)] == -INFINITY ? -1 : w;
  }

  double value(int64_t i) const { return value_[static_cast<size_t>(i)]; }

  /// Sets value i (-inf removes it).
  void set(int64_t i, double v) {
    value_[static_cast<size_t>(i)] = v;
    for (int64_t node = (size_ + i) / 2; node >= 1; node /= 2) replay(node);
  }

 private:
  void replay(int64_t node) {
    const int64_t l = winner_[static_cast<size_t>(2 * node)];
    const int64_t r = winner_[static_cast<size_t>(2 * node + 1)];
    // Left holds the lower positions: it wins ties.
    winner_[static_cast<size_t>(node)] = value_[static_cast<size_t>(r)] > value_[static_cast<size_t>(l)] ? r : l;
  }

  int64_t size_ = 1;
  std::vector<double> value_;
  std::vector<int64_t> winner_;  // winner_[node]: position of the largest value under node
};

}  // namespace opticore::detail
