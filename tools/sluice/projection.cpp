#include "projection.hpp"

#include <sluice/error.hpp>
#include <sluice/expr.hpp>
#include <sluice/json_value.hpp>

#include <algorithm>
#include <charconv>

namespace sluice::cli {

FieldRef parse_field_ref(const std::string& text, const std::vector<std::string>& header) {
  FieldRef f;
  f.label = text;
  std::string_view t = text;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (t.starts_with(".")) {
    f.path = expr::parse_json_path(t);
    return f;
  }
  if (t.starts_with("col(\"") && t.ends_with("\")")) t = t.substr(5, t.size() - 7);
  std::string_view digits = t.starts_with("$") ? t.substr(1) : t;
  if (!digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    unsigned long v = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || end != digits.data() + digits.size() || v > 65535)
      throw UsageError("field '" + text + "': fields are numbered 0..65535");
    f.index = static_cast<std::uint32_t>(v);
    return f;
  }
  if (header.empty())
    throw UsageError("field '" + text + "' is a column name: it needs a header line (--header), or use $N");
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == t) {
      f.index = static_cast<std::uint32_t>(i + 1);
      return f;
    }
  throw UsageError("no column named '" + std::string(t) + "' in the header");
}

std::vector<FieldRef> parse_field_list(const std::string& text, const std::vector<std::string>& header) {
  std::vector<FieldRef> out;
  std::size_t start = 0;
  // The next comma outside quotes (a JSON path's ."a,b" holds one).
  auto next_comma = [&](std::size_t from) {
    char quote = 0;
    for (std::size_t i = from; i < text.size(); ++i) {
      if (quote && text[i] == '\\') ++i;
      else if (quote && text[i] == quote) quote = 0;
      else if (!quote && (text[i] == '"' || text[i] == '\'')) quote = text[i];
      else if (!quote && text[i] == ',') return i;
    }
    return std::string::npos;
  };
  while (true) {
    std::size_t comma = next_comma(start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (part.empty()) throw UsageError("empty field in the list '" + text + "'");
    out.push_back(parse_field_ref(part, header));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string project(std::string_view record, const RecordLayout& layout, const std::vector<FieldRef>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += layout.delimiter;
    if (!fields[i].path.empty()) {
      out += json::find(record, fields[i].path).text;
      continue;
    }
    std::optional<std::string> f = field_value(record, layout, fields[i].index);
    if (!f) continue;
    if (layout.format == RecordFormat::csv && fields[i].index != 0) out += csv_quote(*f, layout.delimiter);
    else out += *f;
  }
  return out;
}

namespace {

constexpr std::uint32_t kMaxDigits = 38;  // what a signed 128-bit integer always holds

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

Decimal plus(const Decimal& a, const Decimal& b) {
  std::uint32_t scale = std::max(a.scale, b.scale);
  Decimal out;
  out.scale = scale;
  if (__builtin_add_overflow(rescaled(a, scale), rescaled(b, scale), &out.units)) overflow();
  return out;
}

// a / n rounded half away from zero to `scale` fraction digits (scale >= a.scale).
Decimal divide(const Decimal& a, std::uint64_t n, std::uint32_t scale) {
  __int128 num = rescaled(a, scale), d = static_cast<__int128>(n);
  __int128 q = num / d, r = num % d;
  if (2 * (r < 0 ? -r : r) >= d) q += num < 0 ? -1 : 1;
  return Decimal{q, scale};
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
  if (d.units < 0 && out != "0") out.insert(0, "-");
  return out;
}

int compare(const Decimal& a, const Decimal& b) {
  std::uint32_t scale = std::max(a.scale, b.scale);
  __int128 x = rescaled(a, scale), y = rescaled(b, scale);
  return x < y ? -1 : (x > y ? 1 : 0);
}

Aggregator::Aggregator(std::vector<Column> columns, std::optional<FieldRef> group_by, RecordLayout layout)
    : columns_(std::move(columns)), group_by_(std::move(group_by)), layout_(std::move(layout)), delim_(layout_.delimiter) {}

void Aggregator::add(std::string_view record) {
  std::string key;
  if (group_by_)
    if (auto f = field_value(record, layout_, group_by_->index)) key = std::move(*f);
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    if (groups_.size() >= kMaxGroups)
      throw UsageError("--group-by: more than " + std::to_string(kMaxGroups) +
                       " groups (the bound that keeps aggregation in bounded memory)");
    it = groups_.emplace(key, Group{0, std::vector<Cell>(columns_.size())}).first;
  }
  Group& g = it->second;
  ++g.count;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    auto f = field_value(record, layout_, columns_[i].field.index);
    if (!f) continue;
    std::optional<Decimal> v = parse_decimal(*f);
    if (!v) continue;  // not a number: left out, like SQL's NULL
    Cell& c = g.cells[i];
    ++c.numbers;
    c.sum = plus(c.sum, *v);
    if (!c.min || compare(*v, *c.min) < 0) c.min = *v;
    if (!c.max || compare(*v, *c.max) > 0) c.max = *v;
  }
}

std::string Aggregator::table() const {
  std::string out;
  auto name = [](Op op) {
    switch (op) {
      case Op::sum: return "sum";
      case Op::min: return "min";
      case Op::max: return "max";
      case Op::avg: return "avg";
    }
    return "?";
  };
  if (group_by_) out += group_by_->label + delim_;
  out += "count";
  for (const Column& c : columns_) out += delim_ + std::string(name(c.op)) + "(" + c.field.label + ")";
  out += '\n';
  std::map<std::string, Group> shown = groups_;
  if (shown.empty() && !group_by_) shown.emplace("", Group{0, std::vector<Cell>(columns_.size())});
  for (const auto& [key, g] : shown) {
    if (group_by_) out += key + delim_;
    out += std::to_string(g.count);
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      out += delim_;
      const Cell& c = g.cells[i];
      if (c.numbers == 0) continue;  // no number: empty (SQL NULL)
      switch (columns_[i].op) {
        case Op::sum: out += to_string(c.sum); break;
        case Op::min: out += to_string(*c.min); break;
        case Op::max: out += to_string(*c.max); break;
        case Op::avg: out += to_string(divide(c.sum, c.numbers, std::max<std::uint32_t>(6, c.sum.scale))); break;
      }
    }
    out += '\n';
  }
  return out;
}

}  // namespace sluice::cli
