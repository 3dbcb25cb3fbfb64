#include <sluice/aggregate.hpp>
#include <sluice/error.hpp>

#include <algorithm>

namespace sluice {
namespace {

constexpr std::uint32_t kMaxDigits = 38;  // what a signed 128-bit integer always holds
constexpr std::uint32_t kAverageScale = 6;  // fraction digits of a mean, at least

__int128 pow10(std::uint32_t n) {
  __int128 v = 1;
  while (n--) v *= 10;
  return v;
}

[[noreturn]] void overflow() {
  throw UsageError("an aggregate exceeds 38 significant digits (exact arithmetic: 128-bit scaled integers)");
}

// Rescales a to `scale` fraction digits (scale >= a.scale).
__int128 rescaled(const Decimal& a, std::uint32_t scale) {
  __int128 out;
  if (scale - a.scale > kMaxDigits || __builtin_mul_overflow(a.units, pow10(scale - a.scale), &out)) overflow();
  return out;
}

}  // namespace

std::optional<Decimal> parse_decimal(std::string_view s) {
  if (s.size() > 64) return std::nullopt;
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string digits;
  std::uint32_t frac = 0;
  bool any = false, point = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c >= '0' && c <= '9') {
      any = true;
      digits += c;
      if (point) ++frac;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  for (; i < s.size(); ++i)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return std::nullopt;
  while (frac > 0 && digits.back() == '0') {  // 5.50 -> 5.5
    digits.pop_back();
    --frac;
  }
  std::size_t lead = digits.find_first_not_of('0');
  digits = lead == std::string::npos ? "" : digits.substr(lead);
  if (digits.size() > kMaxDigits) overflow();
  Decimal d;
  for (char c : digits) d.units = d.units * 10 + (c - '0');
  if (negative) d.units = -d.units;
  d.scale = frac;
  return d;
}

std::string to_string(const Decimal& d) {
  __int128 v = d.units < 0 ? -d.units : d.units;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  if (digits.size() <= d.scale) digits.insert(0, d.scale + 1 - digits.size(), '0');
  std::string out = digits.substr(0, digits.size() - d.scale);
  std::string fraction = digits.substr(digits.size() - d.scale);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) out += "." + fraction;
  if (d.units < 0 && out != "0") return "-" + out;
  return out;
}

int compare(const Decimal& a, const Decimal& b) {
  std::uint32_t scale = std::max(a.scale, b.scale);
  __int128 x = rescaled(a, scale), y = rescaled(b, scale);
  return x < y ? -1 : (x > y ? 1 : 0);
}

Decimal plus(const Decimal& a, const Decimal& b) {
  std::uint32_t scale = std::max(a.scale, b.scale);
  Decimal out;
  out.scale = scale;
  if (__builtin_add_overflow(rescaled(a, scale), rescaled(b, scale), &out.units)) overflow();
  return out;
}

Decimal divide(const Decimal& a, std::uint64_t n, std::uint32_t scale) {
  __int128 num = rescaled(a, scale), d = static_cast<__int128>(n);
  __int128 q = num / d, r = num % d;
  if (2 * (r < 0 ? -r : r) >= d) q += num < 0 ? -1 : 1;
  return Decimal{q, scale};
}

Decimal normalized(Decimal d) {
  while (d.scale > 0 && d.units % 10 == 0) {
    d.units /= 10;
    --d.scale;
  }
  return d;
}

void AggregateCell::add(const Decimal& value) {
  ++numbers;
  sum = plus(sum, value);
  if (!min || compare(value, *min) < 0) min = value;
  if (!max || compare(value, *max) > 0) max = value;
}

void AggregateCell::merge(const AggregateCell& other) {
  if (other.numbers == 0) return;
  numbers += other.numbers;
  sum = plus(sum, other.sum);
  if (!min || compare(*other.min, *min) < 0) min = other.min;
  if (!max || compare(*other.max, *max) > 0) max = other.max;
}

std::optional<Decimal> AggregateCell::average() const {
  if (numbers == 0) return std::nullopt;
  return divide(sum, numbers, std::max(kAverageScale, sum.scale));
}

Aggregator::Aggregator(std::size_t columns) : columns_(columns) {}

AggregateGroup& Aggregator::group(std::string_view key) {
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    if (groups_.size() >= kMaxGroups)
      throw UsageError("--group-by: more than " + std::to_string(kMaxGroups) +
                       " groups (the bound that keeps aggregation in bounded memory)");
    it = groups_.emplace(std::string(key), AggregateGroup{0, std::vector<AggregateCell>(columns_)}).first;
  }
  return it->second;
}

void Aggregator::add(std::string_view key, std::span<const std::optional<std::string_view>> values) {
  if (values.size() != columns_)
    throw Error("internal: " + std::to_string(values.size()) + " values for " + std::to_string(columns_) + " columns");
  // Parse first: a record that fails (a number past 38 digits) changes nothing.
  std::vector<std::optional<Decimal>> parsed;
  parsed.reserve(values.size());
  for (const std::optional<std::string_view>& v : values) parsed.push_back(v ? parse_decimal(*v) : std::nullopt);
  AggregateGroup& g = group(key);
  ++g.count;
  ++records_;
  for (std::size_t i = 0; i < columns_; ++i)
    if (parsed[i]) g.cells[i].add(*parsed[i]);
}

void Aggregator::merge(std::string_view key, const AggregateGroup& partial) {
  if (partial.count == 0) return;  // an empty partial creates no group
  if (partial.cells.size() != columns_)
    throw Error("internal: a partial of " + std::to_string(partial.cells.size()) + " columns merged into " +
                std::to_string(columns_));
  AggregateGroup& g = group(key);
  g.count += partial.count;
  records_ += partial.count;
  for (std::size_t i = 0; i < columns_; ++i) g.cells[i].merge(partial.cells[i]);
}

void Aggregator::merge(const Aggregator& other) {
  for (const auto& [key, partial] : other.groups_) merge(key, partial);
}

}  // namespace sluice
