#include "net/ordered_streams.hpp"

#include <sluice/error.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace sluice::net {

OrderedStreams::OrderedStreams(std::vector<UniqueFd> fds, std::uint64_t& received, std::string path,
                               std::size_t read_ahead)
    : fds_(std::move(fds)), ahead_(fds_.size()), ended_(fds_.size(), false), limit_(read_ahead),
      received_(received), path_(std::move(path)) {}

OrderedStreams::Got OrderedStreams::next(std::span<const char>& out, std::vector<char>& buffer) {
  while (current_ < fds_.size()) {
    std::string& early = ahead_[current_];
    if (at_ < early.size()) {
      std::size_t n = std::min(buffer.size(), early.size() - at_);
      out = std::span<const char>(early.data() + at_, n);
      at_ += n;
      return Got::data;
    }
    if (!early.empty()) {  // fed: the caller no longer refers to it
      buffered_ -= early.size();
      std::string().swap(early);
      at_ = 0;
    }
    if (ended_[current_]) {
      ++current_;
      continue;
    }
    ssize_t n = ::recv(fds_[current_].get(), buffer.data(), buffer.size(), 0);
    if (n > 0) {
      received_ += static_cast<std::uint64_t>(n);
      out = std::span<const char>(buffer.data(), static_cast<std::size_t>(n));
      return Got::data;
    }
    if (n == 0) {  // this part is complete; the next one follows it in the file
      end_of(current_);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw system_error(path_ + ": receiving from the server", errno);
    read_ahead(buffer);
    return Got::blocked;
  }
  return Got::end;
}

void OrderedStreams::wait(int control_fd, int timeout_ms) const {
  std::vector<pollfd> fds;
  for (std::size_t i = current_; i < fds_.size(); ++i)
    if (!ended_[i] && (i == current_ || buffered_ < limit_)) fds.push_back({fds_[i].get(), POLLIN, 0});
  if (control_fd >= 0) fds.push_back({control_fd, POLLIN, 0});
  ::poll(fds.data(), fds.size(), timeout_ms);
}

void OrderedStreams::end_of(std::size_t i) {
  ended_[i] = true;
  fds_[i].reset();
}

void OrderedStreams::read_ahead(std::vector<char>& buffer) {
  for (std::size_t i = current_ + 1; i < fds_.size(); ++i) {
    while (!ended_[i] && buffered_ < limit_) {
      ssize_t n = ::recv(fds_[i].get(), buffer.data(), std::min(buffer.size(), limit_ - buffered_), 0);
      if (n > 0) {
        ahead_[i].append(buffer.data(), static_cast<std::size_t>(n));
        buffered_ += static_cast<std::size_t>(n);
        received_ += static_cast<std::uint64_t>(n);
      } else if (n == 0) {
        end_of(i);
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else {
        throw system_error(path_ + ": receiving from the server", errno);
      }
    }
  }
}

}  // namespace sluice::net
