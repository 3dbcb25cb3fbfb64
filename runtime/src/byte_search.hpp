// Fast byte and substring search over large user-space buffers: what the native hosts use
// to find a filter's required literal across a whole chunk, and to count records.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

// Number of occurrences of byte c in [data, data + size).
std::size_t count_byte(const char* data, std::size_t size, char c);

using ByteFrequency = std::array<std::uint32_t, 256>;

// Rough byte frequencies of text and CSV, for when no sample of the data is at hand.
const ByteFrequency& typical_text_frequency();

// The offsets of the two rarest distinct bytes of a needle (first < second; both 0 for a
// needle shorter than 2 or of one repeated byte): what a packed-pair search probes.
std::pair<std::size_t, std::size_t> rare_byte_offsets(std::string_view needle, const ByteFrequency& frequency);

// The probe offsets a BPF needle scan should use (struct sluice_needle.probe): one byte
// alone when it is rare in the data (at most 1 in 1024 bytes: a 64-byte block rarely stops
// the scan), otherwise the rarest pair. `total` is the number of bytes counted.
std::pair<std::size_t, std::size_t> bpf_probe_offsets(std::string_view needle, const ByteFrequency& frequency,
                                                      std::uint64_t total);

// Substring search in the style of a "packed pair" SIMD searcher: it compares two bytes of
// the needle (the rarest ones in the data, see calibrate()) at their offsets 32 positions
// at a time and verifies candidates with memcmp. It stays fast for needles made of common
// bytes, where a memchr on the first byte would stop at every other position.
class LiteralSearcher {
 public:
  explicit LiteralSearcher(std::string_view needle);

  // Choose the two needle bytes that are rarest in a sample of the data.
  void calibrate(std::span<const char> sample);

  // First occurrence of the needle in [begin, end), or nullptr.
  const char* find(const char* begin, const char* end) const;

  std::string_view needle() const { return needle_; }

 private:
  const char* find_scalar(const char* begin, const char* end) const;

  std::string needle_;
  std::size_t first_ = 0;   // offsets of the two probe bytes in the needle
  std::size_t second_ = 0;
  bool avx2_ = false;
};

}  // namespace sluice
