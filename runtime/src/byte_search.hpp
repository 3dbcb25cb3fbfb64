// Fast byte and substring search over large user-space buffers: what the native hosts use
// to find a filter's required literal across a whole chunk, and to count records.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice {

// Number of occurrences of byte c in [data, data + size).
std::size_t count_byte(const char* data, std::size_t size, char c);

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
  void choose(const std::array<std::uint32_t, 256>& frequency);

  std::string needle_;
  std::size_t first_ = 0;   // offsets of the two probe bytes in the needle
  std::size_t second_ = 0;
  bool avx2_ = false;
};

}  // namespace sluice
