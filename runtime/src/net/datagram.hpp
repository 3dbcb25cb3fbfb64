// Cutting a file into the datagrams of the UDP data channel (kernel-bpf/net_proto.h):
// whole records packed greedily, records longer than a payload in SLUICE_NET_FRAG pieces,
// a '\n' added to a last record that has none.
#pragma once

#include "net_proto.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::net {

// Where a datagram's payload comes from, enough to build it again for a retransmission.
struct DatagramSpan {
  std::uint64_t offset = 0;   // in the file
  std::uint32_t length = 0;   // payload bytes, including an added '\n'
  std::uint8_t flags = 0;     // SLUICE_NET_FRAG or 0
};

class DatagramPacker {
 public:
  // `capacity`: payload bytes per datagram (the datagram size minus the sluice header).
  DatagramPacker(int fd, std::uint64_t file_size, std::uint32_t capacity);

  // The next datagram: its span and payload bytes (valid until the next call). False at
  // the end of the file. Throws sluice::Error if reading fails.
  bool next(DatagramSpan& span, std::string_view& payload);

  // The payload of `span` read again from the file (for a retransmission).
  void reread(const DatagramSpan& span, std::string& out) const;

  std::uint64_t file_size() const { return size_; }

 private:
  // Makes [begin_, end_) hold at least `want` bytes, or everything left.
  void fill(std::size_t want);

  int fd_;
  std::uint64_t size_;
  std::uint32_t capacity_;
  bool add_newline_ = false;   // the file does not end with '\n'
  std::vector<char> buffer_;
  std::uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t read_to_ = 0;  // next file offset to read
  bool eof_ = false;           // read_to_ reached the size (and the '\n' was added)
  bool in_long_record_ = false;
};

}  // namespace sluice::net
