// Shared by the C++ tests: an argument check must throw std::invalid_argument naming the argument.
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

/// Runs f, which must throw std::invalid_argument whose message starts with "argument:".
template <class F>
void expect_invalid(F&& f, const std::string& argument) {
  try {
    f();
    FAIL() << "expected std::invalid_argument about " << argument;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(argument + ":", 0), 0u) << e.what();
  }
}
