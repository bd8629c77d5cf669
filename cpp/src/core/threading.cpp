#include "opticore/core/threading.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
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

/// Whether this thread is running a parallel loop's chunk (a pool worker, or a caller inside its
/// own loop): a parallel_for from there runs serially, as waiting for the pool would deadlock.
thread_local bool t_in_parallel_loop = false;

/// One parallel loop: chunks of `grain` items of [0, n) handed out in order by a shared counter to
/// the caller and the pool workers that join it. The first exception stops the handing out.
struct Loop {
  Loop(const std::function<void(int64_t, int64_t)>& body_, int64_t n_, int64_t grain_)
      : body(body_), n(n_), grain(grain_), chunks((n_ + grain_ - 1) / grain_) {}

  const std::function<void(int64_t, int64_t)>& body;
  const int64_t n, grain, chunks;
  std::atomic<int64_t> next_chunk{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;

  void work() {
    for (;;) {
      const int64_t chunk = next_chunk.fetch_add(1);
      if (chunk >= chunks) return;
      try {
        body(chunk * grain, std::min(n, (chunk + 1) * grain));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next_chunk.store(chunks);
      }
    }
  }
};

/// Worker threads started once and reused by every parallel loop (starting threads per call cost
/// tens of microseconds each, more than a small resize). One loop at a time uses the pool; a loop
/// started meanwhile by another thread runs on its caller alone. The pool only grows, as loops need
/// more threads, except when set_num_threads lowers the count, or when the system refuses a thread:
/// then the threads there are serve that loop and stop after it, leaving their stacks' memory to
/// the rest of the program, as threads started per call would.
class Pool {
 public:
  /// Runs `loop` on the calling thread and up to `helpers` pool threads.
  void run(Loop& loop, int helpers) {
    std::unique_lock<std::mutex> dispatch(dispatch_mutex_, std::try_to_lock);
    const bool started_all = dispatch.owns_lock() && start(loop, helpers);
    t_in_parallel_loop = true;
    loop.work();
    t_in_parallel_loop = false;
    if (!dispatch.owns_lock()) return;
    finish();
    if (!started_all) stop_from(0);
  }

  /// Keeps at most `size` threads (set_num_threads(size + 1)); waits for a running loop.
  void shrink(int size) {
    std::lock_guard<std::mutex> dispatch(dispatch_mutex_);
    stop_from(size);
  }

 private:
  /// Starts threads up to `size` (called under dispatch_mutex_); false when the system refused
  /// one (std::system_error, or the memory for it). Returns once they all wait for work, so that
  /// no thread is still starting when the caller goes on (a fork() then would copy the locks it
  /// holds in the C library or a sanitizer's runtime, locked for ever in the child).
  bool grow(int size) {
    bool all = true;
    try {
      while (static_cast<int>(threads_.size()) < size) {
        threads_.emplace_back(&Pool::worker, this, static_cast<int>(threads_.size()));
      }
    } catch (const std::exception&) {
      all = false;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return started_ == static_cast<int>(threads_.size()); });
    return all;
  }

  /// Stops and joins the threads from index `size` on (called under dispatch_mutex_).
  void stop_from(int size) {
    if (static_cast<int>(threads_.size()) <= size) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      keep_ = size;
    }
    wake_.notify_all();
    for (size_t i = static_cast<size_t>(size); i < threads_.size(); ++i) threads_[i].join();
    threads_.resize(static_cast<size_t>(size));
    std::lock_guard<std::mutex> lock(mutex_);
    keep_ = INT32_MAX;
  }

  /// Opens `helpers` places in `loop` to the pool's threads (called under dispatch_mutex_); false
  /// when fewer threads could be started.
  bool start(Loop& loop, int helpers) {
    const bool grown = grow(helpers);
    int slots = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      loop_ = &loop;
      slots = open_slots_ = std::min<int>(helpers, static_cast<int>(threads_.size()));
    }
    if (slots > 0) wake_.notify_all();
    return grown;
  }

  /// Waits for the workers inside the loop; no worker joins it any more.
  void finish() {
    std::unique_lock<std::mutex> lock(mutex_);
    open_slots_ = 0;
    done_.wait(lock, [&] { return running_ == 0; });
    loop_ = nullptr;
  }

  void worker(int index) {
    t_in_parallel_loop = true;
    std::unique_lock<std::mutex> lock(mutex_);
    ++started_;
    done_.notify_all();
    for (;;) {
      wake_.wait(lock, [&] { return index >= keep_ || open_slots_ > 0; });
      if (index >= keep_) {
        --started_;
        return;
      }
      --open_slots_;
      ++running_;
      Loop* loop = loop_;
      lock.unlock();
      loop->work();
      lock.lock();
      if (--running_ == 0) done_.notify_all();
    }
  }

  std::mutex dispatch_mutex_;  // held by the loop using the pool, and while it changes size
  std::mutex mutex_;           // guards what follows
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  Loop* loop_ = nullptr;
  int open_slots_ = 0;  // workers that may still join loop_
  int running_ = 0;     // workers inside loop_
  int keep_ = INT32_MAX;
  int started_ = 0;  // threads past their start-up, not yet stopped
};

/// The process's pool, created on first use and never destroyed: its threads wait idle until the
/// process ends (joining them from a static destructor could wait on a loop still running). A
/// child of fork() has none of its parent's threads and starts a pool of its own.
struct ProcessPool {
  Pool* pool = new Pool;
  ProcessPool* forked_from = nullptr;  // the parent's, left untouched (its locks may be held) but
                                       // reachable, so that a child's leak check passes
};

Pool* pool() {
  static ProcessPool* current = [] {
    pthread_atfork(nullptr, nullptr, [] { current = new ProcessPool{new Pool, current}; });
    return new ProcessPool;
  }();
  return current->pool;
}

}  // namespace

int get_num_threads() { return num_threads_setting().load(std::memory_order_relaxed); }

void set_num_threads(int64_t n) {
  if (n < 1 || n > kMaxNumThreads) detail::fail("n: expected a thread count in [1, ", kMaxNumThreads, "], got ", n);
  num_threads_setting().store(static_cast<int>(n), std::memory_order_relaxed);
  // Inside a loop the pool is in use: it keeps its threads until the next call from outside.
  if (!t_in_parallel_loop) pool()->shrink(static_cast<int>(n) - 1);
}

namespace detail {

void run_parallel(int64_t n, int64_t grain, int workers, const std::function<void(int64_t, int64_t)>& body) {
  Loop loop(body, n, grain);
  if (t_in_parallel_loop) {
    loop.work();  // a loop inside a loop's chunk: serial
  } else {
    pool()->run(loop, workers - 1);
  }
  if (loop.first_error) std::rethrow_exception(loop.first_error);
}

}  // namespace detail
}  // namespace opticore
