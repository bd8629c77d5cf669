#include "opticore/core/threading.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"

namespace opticore {
namespace {

int default_num_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp<int64_t>(hw, 1, kMaxNumThreads));
}

std::atomic<int>& num_threads_setting() {
  static std::atomic<int> value{default_num_threads()};
  return value;
}

}  // namespace

int get_num_threads() { return num_threads_setting().load(std::memory_order_relaxed); }

void set_num_threads(int64_t n) {
  if (n < 1 || n > kMaxNumThreads) detail::fail("n: expected a thread count in [1, ", kMaxNumThreads, "], got ", n);
  num_threads_setting().store(static_cast<int>(n), std::memory_order_relaxed);
}

namespace detail {

void run_parallel(int64_t n, int64_t grain, int workers, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t chunks = (n + grain - 1) / grain;
  std::atomic<int64_t> next_chunk{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto work = [&] {
    for (;;) {
      const int64_t chunk = next_chunk.fetch_add(1);
      if (chunk >= chunks) return;
      try {
        body(chunk * grain, std::min(n, (chunk + 1) * grain));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next_chunk.store(chunks);  // stop handing out work
      }
    }
  };

  // Workers take chunks from a shared counter, so any number of them finishes the loop: when the
  // system refuses a thread (std::system_error) or the memory for one, go on with those started.
  std::vector<std::thread> threads;
  try {
    threads.reserve(static_cast<size_t>(workers - 1));
    for (int t = 1; t < workers; ++t) threads.emplace_back(work);
  } catch (const std::exception&) {
  }
  work();  // the calling thread is one of the workers
  for (auto& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace detail
}  // namespace opticore
