#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/detail/parallel.hpp"
#include "opticore/opticore.hpp"

TEST(Threading, SetAndGet) {
  const int before = opticore::get_num_threads();
  EXPECT_GE(before, 1);
  opticore::set_num_threads(3);
  EXPECT_EQ(opticore::get_num_threads(), 3);
  EXPECT_THROW(opticore::set_num_threads(0), std::invalid_argument);
  EXPECT_THROW(opticore::set_num_threads(opticore::kMaxNumThreads + 1), std::invalid_argument);
  opticore::set_num_threads(opticore::kMaxNumThreads);
  EXPECT_EQ(opticore::get_num_threads(), opticore::kMaxNumThreads);
  opticore::set_num_threads(before);
  EXPECT_EQ(opticore::build_info().num_threads, before);
  EXPECT_EQ(opticore::build_info().version, OPTICORE_VERSION_STRING);
}

TEST(Threading, ParallelIouEqualsSerial) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> u(0, 100);
  std::vector<float> a, b;
  for (int i = 0; i < 700; ++i) {
    float x = u(rng), y = u(rng);
    a.insert(a.end(), {x, y, x + u(rng), y + u(rng)});
  }
  for (int i = 0; i < 300; ++i) {
    float x = u(rng), y = u(rng);
    b.insert(b.end(), {x, y, x + u(rng), y + u(rng)});
  }
  const opticore::MatrixView<float> av(a.data(), 700, 4), bv(b.data(), 300, 4);
  const int before = opticore::get_num_threads();
  opticore::set_num_threads(1);
  const auto serial = opticore::box_iou(av, bv);
  opticore::set_num_threads(4);
  EXPECT_EQ(opticore::box_iou(av, bv), serial);
  opticore::set_num_threads(before);
}

namespace {

/// Whether parallel_for with chunks of `grain` visits each index of [0, n) exactly once.
bool covers_once(int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  opticore::detail::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
  });
  for (const auto& h : hits)
    if (h.load() != 1) return false;
  return true;
}

}  // namespace

TEST(Threading, PoolRunsEveryChunkOnceAcrossResizes) {
  const int before = opticore::get_num_threads();
  for (int threads : {2, 4, 1, 3, 8, 2}) {  // the pool grows and shrinks
    opticore::set_num_threads(threads);
    for (int64_t n : {1, 7, 100, 1000}) {
      for (int64_t grain : {1, 3, 64}) EXPECT_TRUE(covers_once(n, grain)) << threads << " " << n << " " << grain;
    }
  }
  opticore::set_num_threads(before);
}

TEST(Threading, NestedLoopsRunInline) {
  // A parallel_for inside a chunk runs serially on that thread instead of waiting for the pool.
  const int before = opticore::get_num_threads();
  opticore::set_num_threads(4);
  std::atomic<int64_t> total{0};
  opticore::detail::parallel_for(16, 1, [&](int64_t, int64_t) {
    const auto outer = std::this_thread::get_id();
    opticore::detail::parallel_for(100, 1, [&](int64_t b, int64_t e) {
      if (std::this_thread::get_id() != outer) throw std::logic_error("nested chunk on another thread");
      total += e - b;
    });
  });
  EXPECT_EQ(total.load(), 1600);
  opticore::set_num_threads(before);
}

TEST(Threading, ExceptionsReachTheCallerAndThePoolGoesOn) {
  const int before = opticore::get_num_threads();
  opticore::set_num_threads(3);
  for (int round = 0; round < 20; ++round) {
    EXPECT_THROW(opticore::detail::parallel_for(64, 1,
                                                [&](int64_t b, int64_t) {
                                                  if (b == round) throw std::runtime_error("chunk");
                                                }),
                 std::runtime_error);
    EXPECT_TRUE(covers_once(200, 7));
  }
  opticore::set_num_threads(before);
}

TEST(Threading, ConcurrentCallersAndResizes) {
  // Loops from several threads at once (one uses the pool, the others run on their callers) while
  // another thread changes the thread count: every loop still covers its range once.
  const int before = opticore::get_num_threads();
  opticore::set_num_threads(4);
  std::atomic<bool> ok{true};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        if (!covers_once(50 + t * 13 + i % 7, 1 + i % 5)) ok = false;
    });
  }
  callers.emplace_back([] {
    for (int i = 0; i < 100; ++i) opticore::set_num_threads(1 + i % 4);
  });
  for (auto& c : callers) c.join();
  EXPECT_TRUE(ok.load());
  opticore::set_num_threads(before);
}

TEST(Threading, ForkedChildHasItsOwnPool) {
  // fork() copies none of the pool's threads: the child must neither wait for them nor join them.
  const int before = opticore::get_num_threads();
  opticore::set_num_threads(4);
  ASSERT_TRUE(covers_once(1000, 1));  // the parent's pool has started its threads
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(20);  // a hang ends the child with SIGALRM
    const bool before_resize = covers_once(1000, 1);
    opticore::set_num_threads(1);  // the parent's threads are not there to be joined
    opticore::set_num_threads(3);
    _exit(before_resize && covers_once(500, 3) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(covers_once(1000, 1));
  opticore::set_num_threads(before);
}

// AddressSanitizer reserves terabytes of address space: an address-space limit cannot be used there.
#if defined(__SANITIZE_ADDRESS__)
#define OPTICORE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPTICORE_ASAN 1
#endif
#endif

#ifndef OPTICORE_ASAN
TEST(Threading, CallsFinishWhenThreadsCannotBeCreated) {
  // 1000 threads with 8 MiB stacks in 128 MiB of spare address space: creation fails part way,
  // which used to end in std::terminate ("terminate called without an active exception").
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 100);
  std::vector<double> a;
  for (int i = 0; i < 2000; ++i) {
    const double x = u(rng), y = u(rng);
    a.insert(a.end(), {x, y, x + u(rng), y + u(rng)});
  }
  const opticore::MatrixView<double> av(a.data(), 2000, 4);
  opticore::set_num_threads(1);
  const auto serial = opticore::box_iou(av, av);
  std::vector<double> out(serial.size());
  const auto starved_call = [&] {
    long pages = 0;
    std::ifstream("/proc/self/statm") >> pages;
    rlimit limit;
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(pages) * 4096 + (rlim_t{128} << 20);
    setrlimit(RLIMIT_AS, &limit);
    opticore::set_num_threads(1000);
    opticore::box_iou(av, av, out.data());
    std::exit(out == serial ? 0 : 1);
  };
  EXPECT_EXIT(starved_call(), ::testing::ExitedWithCode(0), "");
  opticore::set_num_threads(4);
}
#endif
