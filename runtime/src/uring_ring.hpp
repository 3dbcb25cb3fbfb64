// RAII owner of an io_uring instance.
#pragma once

#include <sluice/error.hpp>

#include <liburing.h>

#include <string>

namespace sluice {

class UringRing {
 public:
  // Throws sluice::Error naming `what` if the ring cannot be set up (no io_uring support,
  // kernel.io_uring_disabled, ...).
  UringRing(unsigned entries, const std::string& what) {
    int rc = io_uring_queue_init(entries, &ring_, 0);
    if (rc < 0) throw system_error(what + ": io_uring is not available here (io_uring_queue_init)", -rc);
  }
  ~UringRing() { io_uring_queue_exit(&ring_); }
  UringRing(const UringRing&) = delete;
  UringRing& operator=(const UringRing&) = delete;

  io_uring* get() { return &ring_; }

 private:
  io_uring ring_{};
};

}  // namespace sluice
