// RAII for the sk_msg filter's kernel attachments and its counters: used by the local
// sockmap backend and by the server placement of `sluice serve`.
#pragma once

#include <sluice/error.hpp>

#include "bpf/per_cpu_counters.hpp"
#include "sk_msg_filter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace sluice {

// bpf_prog_attach(BPF_SK_MSG_VERDICT) to a sockmap, detached on destruction.
class SkMsgAttachment {
 public:
  SkMsgAttachment(int prog_fd, int map_fd) : prog_fd_(prog_fd), map_fd_(map_fd) {
    if (bpf_prog_attach(prog_fd, map_fd, BPF_SK_MSG_VERDICT, 0) != 0)
      throw system_error("attaching the sk_msg program", errno);
  }
  ~SkMsgAttachment() { bpf_prog_detach2(prog_fd_, map_fd_, BPF_SK_MSG_VERDICT); }
  SkMsgAttachment(const SkMsgAttachment&) = delete;
  SkMsgAttachment& operator=(const SkMsgAttachment&) = delete;

 private:
  int prog_fd_;
  int map_fd_;
};

// A socket in a one-entry sockmap, taken out again on destruction.
class SockmapEntry {
 public:
  SockmapEntry(int map_fd, int sock_fd) : map_fd_(map_fd) {
    std::uint32_t key = 0;
    std::uint64_t value = static_cast<std::uint64_t>(sock_fd);
    if (bpf_map_update_elem(map_fd, &key, &value, BPF_ANY) != 0)
      throw system_error("inserting a socket into the sockmap", errno);
  }
  ~SockmapEntry() {
    std::uint32_t key = 0;
    bpf_map_delete_elem(map_fd_, &key);
  }
  SockmapEntry(const SockmapEntry&) = delete;
  SockmapEntry& operator=(const SockmapEntry&) = delete;

 private:
  int map_fd_;
};

inline sluice_sk_msg_stats read_sk_msg_stats(int map_fd) {
  std::optional<sluice_sk_msg_stats> total = bpf::sum_per_cpu_counters<sluice_sk_msg_stats>(map_fd);
  if (!total) throw system_error("reading the sk_msg filter's counters", errno);
  return *total;
}

}  // namespace sluice
