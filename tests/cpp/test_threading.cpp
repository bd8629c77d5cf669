#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

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
