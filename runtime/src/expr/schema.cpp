// --schema: the fields of fixed-size binary records, "u32 id, i64 price, f64 score, char[12] tag".
#include "expr/abi.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>

namespace sluice::expr {
namespace {

struct TypeName {
  std::string_view name;
  SchemaField::Type type;
  std::uint32_t size;
};
constexpr TypeName kTypes[] = {
    {"u8", SchemaField::Type::u8, 1},   {"u16", SchemaField::Type::u16, 2}, {"u32", SchemaField::Type::u32, 4},
    {"u64", SchemaField::Type::u64, 8}, {"i8", SchemaField::Type::i8, 1},   {"i16", SchemaField::Type::i16, 2},
    {"i32", SchemaField::Type::i32, 4}, {"i64", SchemaField::Type::i64, 8}, {"f32", SchemaField::Type::f32, 4},
    {"f64", SchemaField::Type::f64, 8},
};
constexpr std::uint32_t kMaxRecordSize = 1u << 24;
constexpr const char* kTypeHint = "types: u8 u16 u32 u64 i8 i16 i32 i64 f32 f64 char[N] (and pad[N] for padding)";

class SchemaParser {
 public:
  explicit SchemaParser(std::string_view text) : text_(text) {}

  Schema run() {
    Schema schema;
    skip_blanks();
    if (at_ == text_.size()) fail("the schema has no fields", at_, kTypeHint);
    while (true) {
      std::size_t type_at = at_;
      std::string type = word();
      if (type.empty()) fail("expected a field type", at_, kTypeHint);
      SchemaField f;
      bool padding = false;
      if (type == "char" || type == "pad") {
        f.type = SchemaField::Type::chars;
        f.size = count();
        padding = type == "pad";
      } else {
        const TypeName* t = nullptr;
        for (const TypeName& k : kTypes)
          if (k.name == type) t = &k;
        if (!t) fail("unknown field type '" + type + "'", type_at, kTypeHint);
        f.type = t->type;
        f.size = t->size;
      }
      f.offset = schema.record_size;
      if (std::uint64_t{schema.record_size} + f.size > kMaxRecordSize)
        fail("the record is longer than 16 MiB", type_at, "");
      schema.record_size += f.size;
      if (!padding) {
        skip_blanks();
        std::size_t name_at = at_;
        f.name = word();
        if (f.name.empty()) fail("expected a field name after '" + type + "'", at_, "e.g. u32 id, f64 score");
        if (schema.index_of(f.name)) fail("the field name '" + f.name + "' is used twice", name_at, "");
        schema.fields.push_back(std::move(f));
      }
      skip_blanks();
      if (at_ == text_.size()) break;
      if (text_[at_] != ',') fail("expected ',' between fields", at_, "fields are separated by commas");
      ++at_;
      skip_blanks();
    }
    if (schema.fields.empty()) fail("the schema has only padding", 0, kTypeHint);
    return schema;
  }

 private:
  [[noreturn]] void fail(std::string message, std::size_t at, std::string hint) const {
    throw ParseError(std::move(message), std::string(text_), at, std::move(hint));
  }
  void skip_blanks() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  // An identifier ([A-Za-z_][A-Za-z0-9_]*) after blanks, or "".
  std::string word() {
    skip_blanks();
    std::size_t start = at_;
    while (at_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == '_') &&
           (at_ > start || !std::isdigit(static_cast<unsigned char>(text_[at_]))))
      ++at_;
    return std::string(text_.substr(start, at_ - start));
  }
  // "[N]" with 1 <= N.
  std::uint32_t count() {
    skip_blanks();
    if (at_ >= text_.size() || text_[at_] != '[') fail("expected [N] (a byte count)", at_, "char[12] tag, pad[4]");
    std::size_t start = ++at_;
    std::uint32_t n = 0;
    auto r = std::from_chars(text_.data() + at_, text_.data() + text_.size(), n);
    if (r.ec != std::errc() || n == 0 || n > kMaxRecordSize) fail("expected a byte count of 1 or more", start, "char[12] tag");
    at_ = static_cast<std::size_t>(r.ptr - text_.data());
    if (at_ >= text_.size() || text_[at_] != ']') fail("expected ']'", at_, "");
    ++at_;
    return n;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

Schema parse_schema(std::string_view text) { return SchemaParser(text).run(); }

namespace {
// A decimal number as sign, integer digits without leading zeros and fraction digits
// without trailing zeros; any length.
struct DecimalDigits {
  bool negative = false;
  std::string_view whole, fraction;
};
DecimalDigits digits_of(std::string_view t) {
  DecimalDigits d;
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) {
    d.negative = t.front() == '-';
    t.remove_prefix(1);
  }
  std::size_t dot = t.find('.');
  d.whole = t.substr(0, dot);
  d.fraction = dot == std::string_view::npos ? std::string_view{} : t.substr(dot + 1);
  while (!d.whole.empty() && d.whole.front() == '0') d.whole.remove_prefix(1);
  while (!d.fraction.empty() && d.fraction.back() == '0') d.fraction.remove_suffix(1);
  if (d.whole.empty() && d.fraction.empty()) d.negative = false;  // -0 is 0
  return d;
}
int compare_magnitudes(const DecimalDigits& a, const DecimalDigits& b) {
  if (a.whole.size() != b.whole.size()) return a.whole.size() < b.whole.size() ? -1 : 1;
  if (int c = a.whole.compare(b.whole)) return c < 0 ? -1 : 1;
  for (std::size_t i = 0; i < std::max(a.fraction.size(), b.fraction.size()); ++i) {
    char x = i < a.fraction.size() ? a.fraction[i] : '0', y = i < b.fraction.size() ? b.fraction[i] : '0';
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}
}  // namespace

int compare_double_with_decimal(double x, std::string_view literal) {
  if (std::isinf(x)) return x > 0 ? 1 : -1;
  // Every finite double is a finite decimal: at most 1074 fraction digits and 309 integer ones.
  std::array<char, 1500> buf;
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::fixed, 1080);
  DecimalDigits a = digits_of(std::string_view(buf.data(), r.ptr - buf.data()));
  DecimalDigits b = digits_of(literal);
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int c = compare_magnitudes(a, b);
  return a.negative ? -c : c;
}

}  // namespace sluice::expr
