// The data connections of a TCP transfer from `sluice serve` (consecutive parts of one
// file), read in file order. While the current one has nothing to read, the later ones are
// read ahead into memory, at most kReadAhead bytes in all, so their senders keep going
// instead of waiting behind it; beyond that they wait in their socket buffers.
#pragma once

#include "unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sluice::net {

class OrderedStreams {
 public:
  static constexpr std::size_t kDefaultReadAhead = 64u << 20;
  enum class Got { data, blocked, end };

  // `fds` are non-blocking; every byte received is added to `received`.
  OrderedStreams(std::vector<UniqueFd> fds, std::uint64_t& received, std::string path,
                 std::size_t read_ahead = kDefaultReadAhead);

  // The next bytes of the file in order, in `out` (valid until the next call; `buffer` is
  // the receive buffer); blocked when nothing is ready; end after the last part's end.
  // Throws sluice::Error when a receive fails.
  Got next(std::span<const char>& out, std::vector<char>& buffer);

  // Waits up to timeout_ms for the current connection, a later one with room to read ahead,
  // or `control_fd` (when >= 0).
  void wait(int control_fd, int timeout_ms) const;

  std::size_t buffered() const { return buffered_; }  // bytes of later parts held in memory

 private:
  void end_of(std::size_t i);
  void read_ahead(std::vector<char>& buffer);

  std::vector<UniqueFd> fds_;
  std::vector<std::string> ahead_;  // bytes of later parts read early
  std::vector<bool> ended_;         // the part's FIN was read
  std::size_t current_ = 0;         // the part being delivered
  std::size_t at_ = 0;              // how much of ahead_[current_] was delivered
  std::size_t buffered_ = 0;        // bytes held in ahead_
  std::size_t limit_;
  std::uint64_t& received_;
  std::string path_;
};

}  // namespace sluice::net
