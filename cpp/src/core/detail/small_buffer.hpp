// Working arrays of per-call paths (tap tables, row caches) held in the object itself when small,
// on the heap otherwise: a small resize or warp then makes no heap allocation, whose cost is a
// measurable part of a call that produces a few hundred pixels.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>

namespace opticore::detail {

/// `size` values of T, uninitialised; in the object when size <= N. Neither copied nor moved
/// (data() may point into the object).
template <class T, size_t N>
class SmallBuffer {
  static_assert(std::is_trivial_v<T>, "SmallBuffer holds plain values");

 public:
  explicit SmallBuffer(size_t size) : size_(size) {
    if (size > N) heap_.reset(new T[size]);  // default-initialised: left as is
    data_ = size > N ? heap_.get() : local_;
  }
  SmallBuffer(const SmallBuffer&) = delete;
  SmallBuffer& operator=(const SmallBuffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  size_t size_;
  T* data_;
  std::unique_ptr<T[]> heap_;
  alignas(64) T local_[N];
};

}  // namespace opticore::detail
