#include "byte_search.hpp"

#include <cstring>
#include <tuple>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sluice {
namespace {

#if defined(__x86_64__)
__attribute__((target("avx2"))) std::size_t count_byte_avx2(const char* data, std::size_t size, char c) {
  const __m256i needle = _mm256_set1_epi8(c);
  std::size_t count = 0, i = 0;
  for (; i + 32 <= size; i += 32) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
    count += static_cast<std::size_t>(__builtin_popcount(
        static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, needle)))));
  }
  for (; i < size; ++i) count += data[i] == c;
  return count;
}

__attribute__((target("avx2"))) const char* find_pair_avx2(const char* begin, const char* end,
                                                           std::string_view needle, std::size_t first,
                                                           std::size_t second) {
  const std::size_t n = needle.size();
  const __m256i v1 = _mm256_set1_epi8(needle[first]);
  const __m256i v2 = _mm256_set1_epi8(needle[second]);
  const char* p = begin;
  // Candidate start positions p..p+31 need p + 31 + n <= end to be fully in range.
  while (static_cast<std::size_t>(end - p) >= n + 31) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + first));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + second));
    auto mask = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(a, v1), _mm256_cmpeq_epi8(b, v2))));
    while (mask) {
      const char* cand = p + __builtin_ctz(mask);
      if (std::memcmp(cand, needle.data(), n) == 0) return cand;
      mask &= mask - 1;
    }
    p += 32;
  }
  return p;  // the caller finishes the tail
}
#endif

bool cpu_has_avx2() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

}  // namespace

const ByteFrequency& typical_text_frequency() {
  static const ByteFrequency table = [] {
    // Scaled so that the table sums to about 4096: bpf_probe_offsets(..., 4096) treats
    // only the rare bytes (weight 1..4) as rare.
    ByteFrequency f{};
    for (int c = 0; c < 256; ++c) f[c] = 1;
    for (int c = 'a'; c <= 'z'; ++c) f[c] = 60;
    for (const char* p = "etaoinsrhldcu"; *p; ++p) f[static_cast<unsigned char>(*p)] = 100;
    for (int c = '0'; c <= '9'; ++c) f[c] = 70;
    for (int c = 'A'; c <= 'Z'; ++c) f[c] = 15;
    f[' '] = 120; f[','] = 80; f['\n'] = 40; f['.'] = 30; f['\t'] = 20;
    return f;
  }();
  return table;
}

std::pair<std::size_t, std::size_t> rare_byte_offsets(std::string_view needle, const ByteFrequency& frequency) {
  if (needle.size() < 2) return {0, 0};
  auto freq = [&](std::size_t i) { return frequency[static_cast<unsigned char>(needle[i])]; };
  std::size_t best = 0;
  for (std::size_t i = 1; i < needle.size(); ++i)
    if (freq(i) < freq(best)) best = i;
  std::size_t other = best;
  for (std::size_t i = 0; i < needle.size(); ++i)
    if (needle[i] != needle[best] && (other == best || freq(i) < freq(other))) other = i;
  if (other == best) return {0, 0};  // one repeated byte
  return {std::min(best, other), std::max(best, other)};
}

std::pair<std::size_t, std::size_t> bpf_probe_offsets(std::string_view needle, const ByteFrequency& frequency,
                                                      std::uint64_t total) {
  if (needle.empty()) return {0, 0};
  std::size_t rarest = 0;
  for (std::size_t i = 1; i < needle.size(); ++i)
    if (frequency[static_cast<unsigned char>(needle[i])] < frequency[static_cast<unsigned char>(needle[rarest])])
      rarest = i;
  if (static_cast<std::uint64_t>(frequency[static_cast<unsigned char>(needle[rarest])]) * 1024 <= total)
    return {rarest, rarest};
  return rare_byte_offsets(needle, frequency);
}

std::size_t count_byte(const char* data, std::size_t size, char c) {
#if defined(__x86_64__)
  if (cpu_has_avx2()) return count_byte_avx2(data, size, c);
#endif
  std::size_t count = 0;
  const char* end = data + size;
  for (const char* p = data; (p = static_cast<const char*>(std::memchr(p, c, end - p))); ++p) ++count;
  return count;
}

LiteralSearcher::LiteralSearcher(std::string_view needle) : needle_(needle), avx2_(cpu_has_avx2()) {
  std::tie(first_, second_) = rare_byte_offsets(needle_, typical_text_frequency());
}

void LiteralSearcher::calibrate(std::span<const char> sample) {
  if (sample.size() < 4096) return;  // too little data to beat the defaults
  ByteFrequency f{};
  for (char c : sample) ++f[static_cast<unsigned char>(c)];
  std::tie(first_, second_) = rare_byte_offsets(needle_, f);
}

const char* LiteralSearcher::find_scalar(const char* begin, const char* end) const {
  if (static_cast<std::size_t>(end - begin) < needle_.size()) return nullptr;
  return static_cast<const char*>(memmem(begin, end - begin, needle_.data(), needle_.size()));
}

const char* LiteralSearcher::find(const char* begin, const char* end) const {
  const std::size_t n = needle_.size();
  if (n == 0) return begin;
  if (n == 1) return static_cast<const char*>(std::memchr(begin, needle_[0], end - begin));
#if defined(__x86_64__)
  if (avx2_) {
    // p is a verified hit (memmem confirms it at once) or where the SIMD loop stopped.
    return find_scalar(find_pair_avx2(begin, end, needle_, first_, second_), end);
  }
#endif
  return find_scalar(begin, end);
}

}  // namespace sluice
