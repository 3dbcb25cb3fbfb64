#include "net/datagram.hpp"

#include <sluice/error.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::net {

DatagramPacker::DatagramPacker(int fd, std::uint64_t file_size, std::uint32_t capacity)
    : fd_(fd), size_(file_size), capacity_(capacity) {
  if (capacity_ < 16) throw Error("internal: datagram payload capacity too small");
  buffer_.resize(std::max<std::size_t>(std::size_t{1} << 20, std::size_t{4} * capacity_));
  if (size_ > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, static_cast<off_t>(size_ - 1)) != 1) throw system_error("reading the file", errno);
    add_newline_ = last != '\n';
  }
  eof_ = size_ == 0;
}

void DatagramPacker::fill(std::size_t want) {
  if (end_ - begin_ >= want || eof_) return;
  // Move what is left to the front, then read after it.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    buffer_offset_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  while (end_ < buffer_.size() && !eof_) {
    if (read_to_ >= size_) {
      if (add_newline_) buffer_[end_++] = '\n';
      eof_ = true;
      break;
    }
    std::size_t room = std::min<std::uint64_t>(buffer_.size() - end_, size_ - read_to_);
    ssize_t n = ::pread(fd_, buffer_.data() + end_, room, static_cast<off_t>(read_to_));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error("reading the file", errno);
    }
    if (n == 0) {  // the file shrank: end it here
      size_ = read_to_;
      continue;
    }
    end_ += static_cast<std::size_t>(n);
    read_to_ += static_cast<std::uint64_t>(n);
    if (end_ - begin_ >= want) break;
  }
}

bool DatagramPacker::next(DatagramSpan& span, std::string_view& payload) {
  fill(capacity_ + 1);
  if (begin_ == end_) return false;
  const char* start = buffer_.data() + begin_;
  std::size_t avail = std::min<std::size_t>(end_ - begin_, capacity_);
  std::size_t len;
  std::uint8_t flags = 0;
  if (!in_long_record_) {
    const void* last_nl = memrchr(start, '\n', avail);
    if (last_nl) {
      len = static_cast<std::size_t>(static_cast<const char*>(last_nl) - start) + 1;
    } else {
      // No record ends within a payload: this one is longer (every record ends with '\n',
      // the added one included, and the buffer holds more than a payload when it can).
      in_long_record_ = true;
      flags = SLUICE_NET_FRAG;
      len = avail;
    }
  } else {
    flags = SLUICE_NET_FRAG;
    const void* nl = std::memchr(start, '\n', avail);
    if (nl) {
      len = static_cast<std::size_t>(static_cast<const char*>(nl) - start) + 1;
      in_long_record_ = false;
    } else {
      len = avail;
    }
  }
  span.offset = buffer_offset_ + begin_;
  span.length = static_cast<std::uint32_t>(len);
  span.flags = flags;
  payload = std::string_view(start, len);
  begin_ += len;
  return true;
}

void DatagramPacker::reread(const DatagramSpan& span, std::string& out) const {
  out.resize(span.length);
  std::uint64_t from_file = span.offset >= size_ ? 0 : std::min<std::uint64_t>(span.length, size_ - span.offset);
  std::size_t done = 0;
  while (done < from_file) {
    ssize_t n = ::pread(fd_, out.data() + done, from_file - done, static_cast<off_t>(span.offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw system_error("reading the file again", errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  // Past the end of the file: the '\n' the packer added.
  for (std::size_t i = done; i < span.length; ++i) out[i] = '\n';
}

}  // namespace sluice::net
