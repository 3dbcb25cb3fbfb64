// The client's receive programs for the UDP data channel (kernel-bpf/net_*.bpf.c): loaded
// for one flow (port + file id), attached where the placement says, always detached again.
#pragma once

#include <sluice/bpf_program.hpp>
#include <sluice/remote.hpp>

#include "net/socket.hpp"
#include "net_proto.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace sluice::net {

class ReceiveProgram {
 public:
  // Loads the program of `placement` (xdp, tc or sockfilter) with `filter` for the flow to
  // local UDP port `port` carrying `file_id`, and attaches it: XDP and TC to the interface
  // that owns `local` (the client's address on the control connection), the socket filter
  // to `udp_fd`. TC: a tcx link, or (tc_clsact, or a kernel without tcx) a clsact qdisc filter.
  // Throws sluice::Error (BpfLoadError for the verifier).
  ReceiveProgram(Placement placement, ReceiveMode mode, const Filter& filter, std::uint16_t port,
                 std::uint32_t file_id, int udp_fd, const SocketAddress& local, bool xdp_generic,
                 bool tc_clsact);
  ~ReceiveProgram();
  ReceiveProgram(const ReceiveProgram&) = delete;
  ReceiveProgram& operator=(const ReceiveProgram&) = delete;

  // 1 bit per sequence number (net_proto.h), in the kernel's map, shared.
  bool dropped(std::uint64_t seq) const;
  // Clears the bits of [from, to) (to - from <= SLUICE_NET_DROP_BITS).
  void clear_dropped(std::uint64_t from, std::uint64_t to);

  sluice_net_recv_stats stats() const;
  const std::string& attach_mode() const { return attach_mode_; }
  double load_seconds() const { return object_->load_info().load_seconds; }

  struct Attachment;  // XDP link, TC filter or socket filter (receive_program.cpp)

 private:
  std::unique_ptr<LoadedFilterObject> object_;
  std::unique_ptr<Attachment> attachment_;
  std::atomic<std::uint64_t>* bits_ = nullptr;  // the mmap of net_dropped
  std::size_t bits_size_ = 0;
  int stats_fd_ = -1;
  std::string attach_mode_;
};

// The index of the interface that holds `local` (IPv4), or throws.
unsigned interface_of(const SocketAddress& local);

}  // namespace sluice::net
