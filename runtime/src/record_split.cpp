#include "record_split.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace sluice {

namespace {
constexpr unsigned kMaxAutoStreams = 2;
constexpr std::uint64_t kMinBytesPerStream = 64ull << 20;
}  // namespace

std::vector<ByteRange> split_at_records(const OpenedFile& file, const Filter& filter, unsigned parts) {
  std::vector<ByteRange> ranges;
  std::uint64_t begin = 0;
  for (unsigned i = 1; i < parts && filter.framing() != Framing::csv; ++i) {
    std::uint64_t cut = file.size / parts * i;
    if (filter.framing() == Framing::fixed) {
      cut -= cut % std::max<std::uint32_t>(filter.record_size(), 1);
    } else {
      std::vector<char> block(1 << 20);
      std::uint64_t at = cut;
      cut = 0;
      while (at < file.size && cut == 0) {
        ssize_t n = ::pread(file.fd.get(), block.data(), block.size(), static_cast<off_t>(at));
        if (n <= 0) break;
        if (const void* nl = std::memchr(block.data(), '\n', static_cast<std::size_t>(n)))
          cut = at + static_cast<std::uint64_t>(static_cast<const char*>(nl) - block.data()) + 1;
        at += static_cast<std::uint64_t>(n);
      }
    }
    if (cut <= begin || cut >= file.size) continue;
    ranges.push_back({begin, cut});
    begin = cut;
  }
  ranges.push_back({begin, ByteRange::kWholeFile});
  return ranges;
}

unsigned automatic_stream_count(std::uint64_t file_size) {
  std::uint64_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(
      std::min<std::uint64_t>({cpus, kMaxAutoStreams, std::max<std::uint64_t>(1, file_size / kMinBytesPerStream)}));
}

}  // namespace sluice
