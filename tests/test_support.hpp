// Helpers shared by the test programs.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace sluice::test {

// CI sets SLUICE_REQUIRE_KERNEL=1: there, a missing kernel capability fails the test
// instead of skipping it.
inline bool kernel_required() {
  const char* v = std::getenv("SLUICE_REQUIRE_KERNEL");
  return v && std::string_view(v) == "1";
}

}  // namespace sluice::test

// Skip when the kernel cannot do what the test needs, unless CI demands it.
#define SLUICE_REQUIRE_OR_SKIP(condition, why)                                   \
  do {                                                                           \
    if (!(condition)) {                                                          \
      if (::sluice::test::kernel_required()) FAIL() << "required: " << (why);    \
      GTEST_SKIP() << (why);                                                     \
    }                                                                            \
  } while (0)
