#include <gtest/gtest.h>

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
  opticore::set_num_threads(before);
  EXPECT_EQ(opticore::build_info().num_threads, before);
  EXPECT_EQ(opticore::build_info().version, OPTICORE_VERSION_STRING);
}

TEST(Threading, ParallelIouEqualsSerial) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> u(0, 100);
  std::vector<float> a, b;
  for (int i = 0; i < 700; ++i) { float x = u(rng), y = u(rng); a.insert(a.end(), {x, y, x + u(rng), y + u(rng)}); }
  for (int i = 0; i < 300; ++i) { float x = u(rng), y = u(rng); b.insert(b.end(), {x, y, x + u(rng), y + u(rng)}); }
  const opticore::MatrixView<float> av(a.data(), 700, 4), bv(b.data(), 300, 4);
  const int before = opticore::get_num_threads();
  opticore::set_num_threads(1);
  const auto serial = opticore::box_iou(av, bv);
  opticore::set_num_threads(4);
  EXPECT_EQ(opticore::box_iou(av, bv), serial);
  opticore::set_num_threads(before);
}
