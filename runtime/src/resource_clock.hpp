// Wall time and process CPU time between construction and the last stop().
#pragma once

#include <sluice/stats.hpp>

#include <sys/resource.h>

#include <chrono>

namespace sluice {

class ResourceClock {
 public:
  ResourceClock() : start_wall_(std::chrono::steady_clock::now()), start_(usage()), last_wall_(start_wall_), last_(start_) {}

  void stop() {
    last_wall_ = std::chrono::steady_clock::now();
    last_ = usage();
  }

  void fill(ScanStats& s) const {
    s.wall_seconds = std::chrono::duration<double>(last_wall_ - start_wall_).count();
    s.user_cpu_seconds = seconds(last_.ru_utime) - seconds(start_.ru_utime);
    s.system_cpu_seconds = seconds(last_.ru_stime) - seconds(start_.ru_stime);
  }

 private:
  // Process-wide: io_uring workers are threads of this process and count too.
  static rusage usage() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u;
  }
  static double seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

  std::chrono::steady_clock::time_point start_wall_;
  rusage start_;
  std::chrono::steady_clock::time_point last_wall_;
  rusage last_;
};

}  // namespace sluice
