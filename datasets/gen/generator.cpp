// sluice::datasets — deterministic synthetic record generator. See generator.hpp and
// datasets/README.md.
#include "generator.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <unordered_set>

namespace sluice::datasets {
namespace {

using u64 = std::uint64_t;
using i64 = std::int64_t;
using u128 = unsigned __int128;

// ---------------------------------------------------------------------------------------------
// Limits (keep every sum far from overflow and every allocation sane).
constexpr u64 kMaxRecords = u64{1} << 40;
constexpr u64 kMaxSize = u64{1} << 50;           // 1 PiB
constexpr u64 kMaxRecordLength = u64{256} << 20;  // 256 MiB
constexpr u64 kMaxLongRecords = 10000;
constexpr std::size_t kMaxLiteral = 4096;
constexpr int kMaxAttempts = 64;

constexpr u64 kKeyMin = 4, kKeyMax = 10;
constexpr i64 kPriceMaxCents = 9999999;  // 99999.99

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64 streams keyed by (seed, purpose, index, attempt). Every derivation
// below is plain integer arithmetic, so the output never depends on the standard library.
constexpr u64 mix64(u64 z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

enum Purpose : u64 {
  kLength = 1,         // per record: target length
  kContent = 2,        // per record (and attempt): key, value, price, text, literal position
  kLiteralPick = 3,    // which records carry the literal
  kValuePick = 4,      // which records have value > threshold
  kLongPick = 5,       // which records are long
};

struct Rng {
  u64 state;

  u64 next() {
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
  }
  // Uniform in [0, n), n > 0: Lemire's multiply-and-reject (exactly uniform).
  u64 below(u64 n) {
    u128 m = static_cast<u128>(next()) * n;
    u64 low = static_cast<u64>(m);
    if (low < n) {
      const u64 t = (0 - n) % n;
      while (low < t) {
        m = static_cast<u128>(next()) * n;
        low = static_cast<u64>(m);
      }
    }
    return static_cast<u64>(m >> 64);
  }
  // Uniform in [lo, hi].
  i64 between(i64 lo, i64 hi) {
    const u64 span = static_cast<u64>(hi) - static_cast<u64>(lo);
    const u64 off = span == std::numeric_limits<u64>::max() ? next() : below(span + 1);
    return static_cast<i64>(static_cast<u64>(lo) + off);
  }
};

Rng stream(u64 seed, u64 purpose, u64 index, u64 attempt = 0) {
  u64 s = mix64(seed ^ (purpose * 0xd1b54a32d192ed03ULL));
  s = mix64(s + index * 0x9e3779b97f4a7c15ULL);
  s = mix64(s ^ (attempt * 0xaef17502108ef2d9ULL));
  return Rng{s};
}

// ---------------------------------------------------------------------------------------------
// Small helpers.
int digits10(u64 v) {
  int d = 1;
  for (u64 p = 10; d < 20 && v >= p; p *= 10) ++d;
  return d;
}

int width_i64(i64 v) {
  char tmp[32];
  return static_cast<int>(std::to_chars(tmp, tmp + sizeof tmp, v).ptr - tmp);
}

std::string show_byte(int c) {
  if (c == '\t') return "'\\t' (tab)";
  if (c == '\r') return "'\\r' (CR)";
  if (c == '\n') return "'\\n' (LF)";
  if (c == 0) return "NUL";
  if (c < 32 || c >= 127) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c & 0xff);
    return buf;
  }
  return std::string("'") + static_cast<char>(c) + "'";
}

bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

const std::string_view kBaseFiller =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";

// What the generator is allowed to emit, derived from the options.
struct Alphabets {
  std::string filler;
  std::string key;
  int excluded = -1;  // the literal byte that no generated column may contain
};

Alphabets make_alphabets(const GenOptions& o) {
  const std::string& lit = o.literal;
  std::string base;
  for (char c : kBaseFiller)
    if (c != o.delimiter) base.push_back(c);
  auto in_base = [&](unsigned char c) { return base.find(static_cast<char>(c)) != std::string::npos; };
  // Bytes that may appear outside the text filler: id/value/price digits, '-', '.',
  // lowercase key letters, delimiter, terminators, NUL.
  auto ever_generated = [&](unsigned char c) {
    return is_digit(c) || c == '-' || c == '.' || is_lower(c) || in_base(c) || c == '\r' ||
           c == '\n' || c == 0 || c == static_cast<unsigned char>(o.delimiter);
  };

  Alphabets a;
  a.filler = base;
  a.key = "abcdefghijklmnopqrstuvwxyz";
  // 1. A literal byte that is never generated: nothing to exclude.
  for (unsigned char c : lit)
    if (!ever_generated(c)) {
      a.excluded = c;
      return a;
    }
  // 2. A filler byte that cannot appear in the id/key/value/price columns: keep it out of
  //    the filler.
  for (unsigned char c : lit)
    if (in_base(c) && !is_lower(c) && !is_digit(c)) {
      a.excluded = c;
      a.filler.erase(a.filler.find(static_cast<char>(c)), 1);
      return a;
    }
  // 3. A lowercase byte: keep it out of the filler and of the key alphabet.
  for (unsigned char c : lit)
    if (is_lower(c)) {
      a.excluded = c;
      a.filler.erase(a.filler.find(static_cast<char>(c)), 1);
      a.key.erase(a.key.find(static_cast<char>(c)), 1);
      return a;
    }
  throw UsageError("--literal '" + lit +
                   "' is made only of digits, '-', '.' and CR, which the id/value/price columns "
                   "(and terminators) are made of; the generator cannot keep it out of the other "
                   "records. Use a literal with at least one other character.");
}

// ---------------------------------------------------------------------------------------------
// Exact random subsets.

// A uniformly random k-subset of [0, n) (Robert Floyd's algorithm), as a bitmap or, when it
// is all or nothing, without one.
class Subset {
 public:
  Subset() = default;
  Subset(u64 n, u64 k, Rng rng) : n_(n), k_(k) {
    if (k == 0 || k == n) return;
    const bool complement = k > n / 2;
    const u64 pick = complement ? n - k : k;
    bits_.assign((n + 63) / 64, 0);
    auto test = [&](u64 i) { return (bits_[i >> 6] >> (i & 63)) & 1; };
    auto set = [&](u64 i) { bits_[i >> 6] |= u64{1} << (i & 63); };
    for (u64 j = n - pick; j < n; ++j) {
      const u64 t = rng.below(j + 1);
      if (test(t))
        set(j);
      else
        set(t);
    }
    if (complement) {
      for (u64& w : bits_) w = ~w;
      if (n & 63) bits_.back() &= (u64{1} << (n & 63)) - 1;
    }
  }
  bool contains(u64 i) const {
    if (k_ == 0) return false;
    if (k_ == n_) return true;
    return (bits_[i >> 6] >> (i & 63)) & 1;
  }
  u64 size() const { return k_; }

 private:
  u64 n_ = 0, k_ = 0;
  std::vector<u64> bits_;
};

// A small k-subset of [0, n), sorted (Floyd's algorithm with a hash set).
std::vector<u64> small_subset(u64 n, u64 k, Rng rng) {
  std::unordered_set<u64> s;
  s.reserve(static_cast<std::size_t>(2 * k));
  for (u64 j = n - k; j < n; ++j) {
    const u64 t = rng.below(j + 1);
    if (!s.insert(t).second) s.insert(j);
  }
  std::vector<u64> v(s.begin(), s.end());
  std::sort(v.begin(), v.end());
  return v;
}

// ---------------------------------------------------------------------------------------------
// Record lengths: a pure function of (options, index), independent of which records carry the
// literal or a large value, so that --size can fix N before choosing them.
struct Layout {
  u64 seed;
  u64 term;        // 1 (LF) or 2 (CRLF)
  u64 fixed;       // widest possible record minus the id digits
  u64 min_length, max_length;
  u64 long_length;

  u64 floor_length(u64 i) const { return static_cast<u64>(digits10(i)) + fixed; }
  u64 normal_length(u64 i) const {
    u64 t = min_length;
    if (max_length > min_length) t += stream(seed, kLength, i).below(max_length - min_length + 1);
    return std::max(t, floor_length(i));
  }
  u64 long_length_of(u64 i) const { return std::max(long_length, floor_length(i)); }
};

Layout make_layout(const GenOptions& o) {
  Layout l{};
  l.seed = o.seed;
  l.term = o.crlf ? 2 : 1;
  const u64 value_w = static_cast<u64>(std::max(width_i64(o.value_min), width_i64(o.value_max)));
  const u64 price_w = static_cast<u64>(width_i64(o.allow_negative ? -kPriceMaxCents : kPriceMaxCents)) + 1;
  const u64 lit_w = o.literal_selectivity.is_zero() ? 0 : o.literal.size();
  // id , key , value , price , text term
  l.fixed = 1 + kKeyMax + 1 + value_w + 1 + price_w + 1 + lit_w + l.term;
  l.min_length = o.min_length;
  l.max_length = o.max_length;
  l.long_length = o.long_length;
  return l;
}

void check_fraction(const Fraction& f, const char* what) {
  if (f.den == 0 || f.num > f.den) throw UsageError(std::string(what) + " must be within 0..1");
}

// Exact value-class feasibility for n records.
void check_value_split(const GenOptions& o, u64 n) {
  if (!o.value_fraction) return;
  const i64 t = *o.value_threshold;
  const u64 gt = o.value_fraction->of(n);
  if (gt > 0 && t >= o.value_max)
    throw UsageError("--value-fraction " + o.value_fraction->text + " asks for " + std::to_string(gt) +
                     " values > --value-threshold " + std::to_string(t) + ", but --value-max is " +
                     std::to_string(o.value_max));
  if (gt < n && t < o.value_min)
    throw UsageError("--value-fraction " + o.value_fraction->text + " asks for " + std::to_string(n - gt) +
                     " values <= --value-threshold " + std::to_string(t) + ", but --value-min is " +
                     std::to_string(o.value_min));
}

// ---------------------------------------------------------------------------------------------
// Output buffer.
class Buffer {
 public:
  Buffer(ByteSink& sink, std::size_t size) : sink_(sink), data_(std::max<std::size_t>(size, 4096)) {}
  // Room for n more bytes, contiguous.
  char* reserve(std::size_t n) {
    if (used_ + n > data_.size()) {
      flush();
      if (n > data_.size()) data_.resize(n);
    }
    return data_.data() + used_;
  }
  void commit(std::size_t n) { used_ += n; }
  void flush() {
    if (used_) sink_.write(data_.data(), used_);
    used_ = 0;
  }

 private:
  ByteSink& sink_;
  std::vector<char> data_;
  std::size_t used_ = 0;
};

// Fill with characters of `alpha` (16 random bits per character, multiply-shift: every
// character within 2^-16 of uniform). The generator state lives in a local: stores through
// char* may alias anything, which would otherwise force it through memory every character.
inline void fill(char* p, u64 n, Rng& rng, const char* alpha, std::uint32_t k) {
  Rng local = rng;
  while (n >= 8) {
    const u64 x = local.next();
    const u64 y = local.next();
    p[0] = alpha[(static_cast<std::uint32_t>(x & 0xffff) * k) >> 16];
    p[1] = alpha[(static_cast<std::uint32_t>((x >> 16) & 0xffff) * k) >> 16];
    p[2] = alpha[(static_cast<std::uint32_t>((x >> 32) & 0xffff) * k) >> 16];
    p[3] = alpha[(static_cast<std::uint32_t>((x >> 48) & 0xffff) * k) >> 16];
    p[4] = alpha[(static_cast<std::uint32_t>(y & 0xffff) * k) >> 16];
    p[5] = alpha[(static_cast<std::uint32_t>((y >> 16) & 0xffff) * k) >> 16];
    p[6] = alpha[(static_cast<std::uint32_t>((y >> 32) & 0xffff) * k) >> 16];
    p[7] = alpha[(static_cast<std::uint32_t>((y >> 48) & 0xffff) * k) >> 16];
    p += 8;
    n -= 8;
  }
  while (n) {
    u64 x = local.next();
    for (int j = 0; j < 4 && n; ++j, --n, ++p, x >>= 16)
      *p = alpha[(static_cast<std::uint32_t>(x & 0xffff) * k) >> 16];
  }
  rng = local;
}

struct Plan {
  u64 n = 0;
  std::vector<u64> long_positions;  // sorted
};

Plan make_plan(const GenOptions& o, const Layout& lay) {
  Plan p;
  const u64 k = o.long_records;
  if (o.records) {
    p.n = *o.records;
    if (k > p.n)
      throw UsageError("--long-records " + std::to_string(k) + " exceeds the record count " +
                       std::to_string(p.n));
  } else {
    // Smallest n >= max(1, k) whose total output reaches `size`.
    const u64 target = *o.size;
    const u64 header = header_line(o).size();
    const u64 trail = o.trailing_newline ? 0 : lay.term;
    const u64 first = std::max<u64>(1, k);
    u64 n = 0, sum = 0;
    // Phase 1: an upper bound of the total that only grows with n.
    for (;;) {
      if (lay.min_length == lay.max_length) {
        // Fixed lengths: constant within a block of ids of equal width, so jump.
        const int d = digits10(n);
        u64 block_end = 1;
        for (int j = 0; j < d && block_end <= kMaxRecords; ++j) block_end *= 10;
        block_end = std::min(block_end, kMaxRecords + 1);
        const u64 c = std::max(lay.min_length, static_cast<u64>(d) + lay.fixed);
        const u64 longest = std::max(lay.long_length, static_cast<u64>(d) + lay.fixed);
        using i128 = __int128;
        const i128 need = static_cast<i128>(target) + trail -
                          (static_cast<i128>(header) + sum + static_cast<i128>(k) * longest);
        u64 j = need <= 0 ? 1 : static_cast<u64>((need + c - 1) / c);
        j = std::max<u64>({j, 1, first > n ? first - n : 0});
        if (n + j <= block_end) {
          n += j;
          sum += j * c;
          break;
        }
        sum += (block_end - n) * c;
        n = block_end;
        if (n > kMaxRecords) throw UsageError("--size needs more than 2^40 records");
        continue;
      }
      sum += lay.normal_length(n);
      ++n;
      if (n >= first) {
        const u64 upper = header + sum + k * lay.long_length_of(n - 1) - trail;
        if (upper >= target) break;
      }
      if (n > kMaxRecords) throw UsageError("--size needs more than 2^40 records");
    }
    // Phase 2: the exact total, which depends on where the long records fall.
    for (;;) {
      u64 total = header + sum - trail;
      std::vector<u64> pos;
      if (k) {
        pos = small_subset(n, k, stream(o.seed, kLongPick, 0));
        for (u64 q : pos) total += lay.long_length_of(q) - lay.normal_length(q);
      }
      if (total >= target) {
        p.n = n;
        p.long_positions = std::move(pos);
        return p;
      }
      sum += lay.normal_length(n);
      ++n;
    }
  }
  if (k) p.long_positions = small_subset(p.n, k, stream(o.seed, kLongPick, 0));
  return p;
}

void format_price(char*& p, i64 cents) {
  if (cents < 0) {
    *p++ = '-';
    cents = -cents;
  }
  p = std::to_chars(p, p + 24, cents / 100).ptr;
  *p++ = '.';
  const int frac = static_cast<int>(cents % 100);
  *p++ = static_cast<char>('0' + frac / 10);
  *p++ = static_cast<char>('0' + frac % 10);
}

}  // namespace

// =============================================================================================
// Parsing.

std::uint64_t Fraction::of(std::uint64_t n) const {
  const u128 x = static_cast<u128>(num) * n * 2 + den;
  return static_cast<u64>(x / (static_cast<u128>(den) * 2));
}

Fraction parse_fraction(std::string_view text, std::string_view what) {
  const std::string w(what);
  auto bad = [&](const std::string& why) {
    return UsageError(w + " '" + std::string(text) + "': " + why);
  };
  std::string_view s = text;
  bool percent = false;
  if (!s.empty() && s.back() == '%') {
    percent = true;
    s.remove_suffix(1);
  }
  const std::size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  auto all_digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return is_digit(static_cast<unsigned char>(c)); });
  };
  if ((ip.empty() && fp.empty()) || !all_digits(ip) || !all_digits(fp))
    throw bad(percent ? "expected a percentage such as 1% or 0.5%"
                      : "expected a fraction in 0..1 such as 0.01, or a percentage such as 1%");
  while (!ip.empty() && ip.front() == '0') ip.remove_prefix(1);
  while (!fp.empty() && fp.back() == '0') fp.remove_suffix(1);
  const u64 limit = percent ? 100 : 1;
  if (ip.size() > 3) throw bad(percent ? "must be within 0%..100%" : "must be within 0..1");
  u64 ival = 0;
  for (char c : ip) ival = ival * 10 + static_cast<u64>(c - '0');
  if (fp.size() > 17) throw bad("too many fraction digits (at most 17)");
  Fraction f;
  f.text = std::string(text);
  f.den = 1;
  for (std::size_t i = 0; i < fp.size() + (percent ? 2 : 0); ++i) f.den *= 10;
  u64 frac = 0;
  for (char c : fp) frac = frac * 10 + static_cast<u64>(c - '0');
  u64 scale = 1;
  for (std::size_t i = 0; i < fp.size(); ++i) scale *= 10;
  if (ival > limit || (ival == limit && frac != 0))
    throw bad(percent ? "must be within 0%..100%" : "must be within 0..1 (use a trailing % for percentages)");
  f.num = ival * scale + frac;
  return f;
}

std::uint64_t parse_u64(std::string_view text, std::string_view what) {
  u64 v = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (text.empty() || ec != std::errc{} || ptr != e)
    throw UsageError(std::string(what) + " '" + std::string(text) + "': expected a non-negative integer");
  return v;
}

std::int64_t parse_i64(std::string_view text, std::string_view what) {
  i64 v = 0;
  std::string_view s = text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const char* b = s.data();
  const char* e = b + s.size();
  auto [ptr, ec] = std::from_chars(b, e, v);
  if (s.empty() || ec != std::errc{} || ptr != e)
    throw UsageError(std::string(what) + " '" + std::string(text) + "': expected a 64-bit integer");
  return v;
}

std::uint64_t parse_size(std::string_view text, std::string_view what) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(static_cast<unsigned char>(text[i]))) ++i;
  std::string_view num = text.substr(0, i), suf = text.substr(i);
  auto bad = [&] {
    return UsageError(std::string(what) + " '" + std::string(text) +
                      "': expected a byte count such as 1000, 64K, 256M or 1G (K/M/G = KiB/MiB/GiB)");
  };
  if (num.empty()) throw bad();
  u64 v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc{} || ptr != num.data() + num.size()) throw bad();
  unsigned shift = 0;
  if (!suf.empty()) {
    const char c = static_cast<char>(suf[0] | 0x20);
    if (c == 'k') shift = 10;
    else if (c == 'm') shift = 20;
    else if (c == 'g') shift = 30;
    else throw bad();
    std::string rest(suf.substr(1));
    for (char& ch : rest) ch = static_cast<char>(ch | 0x20);
    if (!rest.empty() && rest != "ib") throw bad();
  }
  if (shift && v > (std::numeric_limits<u64>::max() >> shift)) throw bad();
  return v << shift;
}

char parse_delimiter(std::string_view text) {
  char c;
  if (text == "tab" || text == "\\t" || text == "TAB") c = '\t';
  else if (text.size() == 1) c = text[0];
  else
    throw UsageError("--delimiter '" + std::string(text) + "': expected one character, '\\t' or 'tab'");
  const auto u = static_cast<unsigned char>(c);
  if (c != '\t' && (u < 32 || u >= 127))
    throw UsageError("--delimiter: " + show_byte(u) + " is not allowed (printable ASCII or tab)");
  if (is_digit(u) || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') || c == '.' || c == '-' || c == '+')
    throw UsageError("--delimiter " + show_byte(u) +
                     " is not allowed: letters, digits, '.', '-' and '+' occur inside the columns");
  return c;
}

// =============================================================================================

void FdSink::write(const char* data, std::size_t size) {
  while (size) {
    const ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw OutputError("writing " + name_ + ": " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string header_line(const GenOptions& o) {
  if (!o.header) return {};
  std::string h;
  for (const char* col : {"id", "key", "value", "price", "text"}) {
    if (!h.empty()) h.push_back(o.delimiter);
    h += col;
  }
  h += o.crlf ? "\r\n" : "\n";
  return h;
}

void validate(const GenOptions& o) {
  if (o.records.has_value() == o.size.has_value())
    throw UsageError("give exactly one of --records N and --size BYTES (or a --preset)");
  if (o.records && *o.records == 0) throw UsageError("--records must be at least 1");
  if (o.records && *o.records > kMaxRecords) throw UsageError("--records: at most 2^40 records");
  if (o.size && *o.size == 0) throw UsageError("--size must be at least 1 byte");
  if (o.size && *o.size > kMaxSize) throw UsageError("--size: at most 1 PiB");
  if (o.min_length == 0) throw UsageError("record lengths must be at least 1");
  if (o.min_length > o.max_length)
    throw UsageError("--min-length " + std::to_string(o.min_length) + " exceeds --max-length " +
                     std::to_string(o.max_length));
  if (o.max_length > kMaxRecordLength) throw UsageError("record lengths: at most 256 MiB");
  parse_delimiter(std::string(1, o.delimiter));
  if (o.literal.empty()) throw UsageError("--literal must not be empty");
  if (o.literal.size() > kMaxLiteral) throw UsageError("--literal: at most 4096 bytes");
  if (o.literal.find(o.delimiter) != std::string::npos)
    throw UsageError("--literal '" + o.literal + "' contains the delimiter " + show_byte(o.delimiter) +
                     "; a literal must fit inside the text column");
  if (o.literal.find('\n') != std::string::npos)
    throw UsageError("--literal contains a newline; a literal must fit inside one record");
  if (o.literal.find('\0') != std::string::npos) throw UsageError("--literal contains a NUL byte");
  check_fraction(o.literal_selectivity, "--selectivity");
  make_alphabets(o);  // throws if the literal cannot be kept out of the other records
  if (header_line(o).find(o.literal) != std::string::npos)
    throw UsageError("--literal '" + o.literal + "' occurs in the --header line");
  if (o.value_min > o.value_max)
    throw UsageError("--value-min " + std::to_string(o.value_min) + " exceeds --value-max " +
                     std::to_string(o.value_max));
  if (o.value_fraction && !o.value_threshold)
    throw UsageError("--value-fraction needs --value-threshold");
  if (o.value_fraction) {
    check_fraction(*o.value_fraction, "--value-fraction");
    if (o.records) check_value_split(o, *o.records);  // with --size: once N is known
  }
  if (o.long_records > kMaxLongRecords) throw UsageError("--long-records: at most 10000");
  if (o.long_records && o.long_length == 0) throw UsageError("--long-length must be at least 1");
  if (o.long_length > kMaxRecordLength) throw UsageError("--long-length: at most 256 MiB");
  if (o.records && o.long_records > *o.records)
    throw UsageError("--long-records " + std::to_string(o.long_records) + " exceeds --records " +
                     std::to_string(*o.records));
}

std::uint64_t plan_record_count(const GenOptions& o) {
  validate(o);
  const Layout lay = make_layout(o);
  const u64 n = make_plan(o, lay).n;
  check_value_split(o, n);
  return n;
}

GenResult generate(const GenOptions& o, ByteSink& sink, std::size_t buffer_size) {
  validate(o);
  const Alphabets alpha = make_alphabets(o);
  const Layout lay = make_layout(o);
  const Plan plan = make_plan(o, lay);
  const u64 n = plan.n;
  check_value_split(o, n);

  GenResult r;
  r.records = n;
  r.filler_alphabet = alpha.filler;
  r.key_alphabet = alpha.key;
  r.excluded_byte = alpha.excluded;
  r.long_records = plan.long_positions.size();
  r.has_threshold = o.value_threshold.has_value();
  r.value_threshold = o.value_threshold.value_or(0);
  r.min_record_bytes = std::numeric_limits<u64>::max();

  const Subset lit_pick(n, o.literal_selectivity.of(n), stream(o.seed, kLiteralPick, 0));
  Subset value_pick;
  if (o.value_fraction) value_pick = Subset(n, o.value_fraction->of(n), stream(o.seed, kValuePick, 0));

  const std::string& lit = o.literal;
  const u64 lit_len = lit.size();
  const char excluded = static_cast<char>(alpha.excluded);
  const std::boyer_moore_horspool_searcher<const char*> searcher(lit.data(), lit.data() + lit.size());
  auto contains_literal = [&](const char* b, u64 len) {
    // Every occurrence of the literal contains `excluded`, which nothing else emits.
    if (!std::memchr(b, excluded, len)) return false;
    return searcher(b, b + len).first != b + len;
  };

  const char* filler = alpha.filler.data();
  const auto filler_k = static_cast<std::uint32_t>(alpha.filler.size());
  const char* keys = alpha.key.data();
  const auto key_k = static_cast<std::uint32_t>(alpha.key.size());
  const char delim = o.delimiter;
  const u64 term = lay.term;
  const i64 t = o.value_threshold.value_or(0);

  Buffer out(sink, buffer_size);
  const std::string header = header_line(o);
  if (!header.empty()) {
    std::memcpy(out.reserve(header.size()), header.data(), header.size());
    out.commit(header.size());
  }
  r.header_bytes = header.size();
  r.bytes = header.size();

  // The id in decimal, incremented in place (cheaper than formatting every one).
  struct {
    char digits[20];
    int first = 19;
    void increment() {
      int j = 19;
      while (digits[j] == '9') digits[j--] = '0';
      if (j < first) {
        first = j;
        digits[j] = '1';
      } else {
        ++digits[j];
      }
    }
  } id;
  std::memset(id.digits, '0', sizeof id.digits);

  std::size_t next_long = 0;
  for (u64 i = 0; i < n; ++i, id.increment()) {
    const bool is_long = next_long < plan.long_positions.size() && plan.long_positions[next_long] == i;
    if (is_long) ++next_long;
    const u64 len = is_long ? lay.long_length_of(i) : lay.normal_length(i);
    const bool last = i + 1 == n;
    const u64 emitted = (last && !o.trailing_newline) ? len - term : len;
    const bool with_literal = lit_pick.contains(i);
    char* const rec = out.reserve(len);

    bool has_nul = false;
    i64 value = 0;
    for (int attempt = 0;; ++attempt) {
      if (attempt >= kMaxAttempts)
        throw std::logic_error("record " + std::to_string(i) + ": could not keep the literal out");
      Rng rng = stream(o.seed, kContent, i, static_cast<u64>(attempt));
      std::memcpy(rec, id.digits + id.first, 20 - id.first);
      char* p = rec + (20 - id.first);
      *p++ = delim;
      // key: 4..10 letters
      {
        const u64 klen = kKeyMin + rng.below(kKeyMax - kKeyMin + 1);
        fill(p, klen, rng, keys, key_k);
        p += klen;
      }
      *p++ = delim;
      // value
      if (o.value_fraction) {
        if (value_pick.contains(i))
          value = rng.between(t + 1, o.value_max);
        else
          value = rng.between(o.value_min, std::min(t, o.value_max));
      } else {
        value = rng.between(o.value_min, o.value_max);
      }
      p = std::to_chars(p, p + 24, value).ptr;
      *p++ = delim;
      // price
      {
        const i64 cents = o.allow_negative ? rng.between(-kPriceMaxCents, kPriceMaxCents)
                                           : rng.between(0, kPriceMaxCents);
        format_price(p, cents);
      }
      *p++ = delim;
      // text: filler up to the record length, then the literal and NULs on top
      const u64 prefix = static_cast<u64>(p - rec);
      const u64 text_len = len - prefix - term;  // >= lit_len by construction of Layout
      fill(p, text_len, rng, filler, filler_k);
      u64 lit_at = 0;
      if (with_literal) {
        lit_at = rng.below(text_len - lit_len + 1);
        std::memcpy(p + lit_at, lit.data(), lit_len);
      }
      has_nul = false;
      if (o.nul_bytes && text_len > 0 && rng.below(8) == 0) {
        const u64 count = 1 + rng.below(4);
        for (u64 c = 0; c < count; ++c) {
          const u64 q = rng.below(text_len);
          if (with_literal && q >= lit_at && q < lit_at + lit_len) continue;
          p[q] = '\0';
          has_nul = true;
        }
      }
      p += text_len;
      if (o.crlf) *p++ = '\r';
      *p++ = '\n';
      // The guarantee, checked: the literal is in this record iff it was chosen.
      const bool found = contains_literal(rec, emitted);
      if (found == with_literal) break;
      if (with_literal)
        throw std::logic_error("record " + std::to_string(i) + ": the literal was not written");
      ++r.regenerated;
    }
    out.commit(emitted);

    r.bytes += emitted;
    r.min_record_bytes = std::min(r.min_record_bytes, emitted);
    r.max_record_bytes = std::max(r.max_record_bytes, emitted);
    if (with_literal) {
      ++r.literal_records;
      r.literal_bytes += emitted;
    }
    if (r.has_threshold && value > t) ++r.value_gt_records;
    if (has_nul) ++r.nul_records;
  }
  out.flush();
  return r;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

std::string expectations_json(const GenOptions& o, const GenResult& r, const std::string& command) {
  auto q = [](std::string_view s) { return "\"" + json_escape(s) + "\""; };
  auto u = [](u64 v) { return std::to_string(v); };
  std::string j = "{\n";
  auto field = [&](const char* name, const std::string& value) {
    if (j.size() > 2) j += ",\n";
    j += "  \"";
    j += name;
    j += "\": ";
    j += value;
  };
  field("records", u(r.records));
  field("bytes", u(r.bytes));
  field("literal", q(o.literal));
  field("literal_records", u(r.literal_records));
  field("literal_bytes", u(r.literal_bytes));
  if (r.has_threshold) {
    field("value_threshold", std::to_string(r.value_threshold));
    field("value_gt_records", u(r.value_gt_records));
  }
  field("seed", u(o.seed));
  field("command", q(command));
  field("selectivity", q(o.literal_selectivity.text));
  field("value_min", std::to_string(o.value_min));
  field("value_max", std::to_string(o.value_max));
  if (o.value_fraction) field("value_fraction", q(o.value_fraction->text));
  field("delimiter", q(std::string(1, o.delimiter)));
  field("header", o.header ? "true" : "false");
  field("header_bytes", u(r.header_bytes));
  field("crlf", o.crlf ? "true" : "false");
  field("trailing_newline", o.trailing_newline ? "true" : "false");
  field("long_records", u(r.long_records));
  field("long_length", u(o.long_length));
  field("nul_records", u(r.nul_records));
  field("min_record_bytes", u(r.records ? r.min_record_bytes : 0));
  field("max_record_bytes", u(r.max_record_bytes));
  j += "\n}\n";
  return j;
}

}  // namespace sluice::datasets
