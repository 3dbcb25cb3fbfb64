// Reference interpreter of checked --where expressions. Written independently of the code
// generator (fields are sluice::field_value's text: split, unquoted or decoded by the schema;
// strings compared with std::string; floats compared exactly as decimals) so tests can hold the
// compiled filters against it; text numbers use the same rules (compare.h).
#include "expr/abi.hpp"

#include <sluice/json_value.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>

namespace sluice::expr {
namespace {

// A field's value for string and text-number tests: a view into the record (lines, char[N])
// or an unquoted copy (CSV).
using Value = std::optional<std::string>;

Value field_value(std::string_view record, const CheckOptions& o, std::uint32_t n) {
  if (o.format == RecordFormat::csv && n == 0) {  // $0: the record without a CR ending it
    std::string_view whole;
    csv_field(record, o.delimiter, 0, whole);
    return std::string(whole);
  }
  return sluice::field_value(record, RecordLayout{o.format, o.delimiter, o.schema}, n);
}

// A numeric binary field against a number literal: integers through their decimal text and
// compare.h's exact rules; floats exactly (NaN: false).
bool number_holds(const SchemaField& f, std::string_view record, const std::string& literal, Cmp op) {
  std::uint64_t bits = 0;
  for (std::uint32_t i = f.size; i-- > 0;) bits = bits << 8 | static_cast<unsigned char>(record[f.offset + i]);
  if (f.is_float()) {
    double x = f.type == SchemaField::Type::f64 ? std::bit_cast<double>(bits)
                                               : static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    if (std::isnan(x)) return false;
    return op_holds(op, compare_double_with_decimal(x, literal));
  }
  int c = compare_number(schema_value_text(f, record), *decimal_of(literal));
  return c != SLUICE_CMP_NAN && op_holds(op, c);
}

// A JSON value as the tests see it (docs/where.md, "JSON lines"): its text for string tests
// (a string decoded; a number, true, false as written), nothing for missing, null, objects,
// arrays and invalid records; a number's text for numeric tests.
struct JsonOperand {
  json::Value value;
  std::optional<std::string> text;
  bool number = false;
};

JsonOperand json_operand(std::string_view record, const Operand& o) {
  JsonOperand j;
  j.value = json::find(record, o.path);
  using Kind = json::Value::Kind;
  switch (j.value.kind) {
    case Kind::string: j.text = json::decode_string(j.value.text); break;
    case Kind::number: j.number = true; [[fallthrough]];
    case Kind::boolean: j.text = std::string(j.value.text); break;
    default: break;
  }
  return j;
}

bool json_equal_to(const JsonOperand& j, const Operand& v, Cmp op) {
  if (v.type == Operand::Type::number) {
    if (!j.number) return false;
    int c = compare_number(*j.text, *decimal_of(v.text));  // an exponent: not a number
    return c != SLUICE_CMP_NAN && op_holds(op, c);
  }
  return j.text && op_holds(op, compare_bytes(*j.text, v.text));
}

bool json_test(const Node& n, std::string_view record) {
  JsonOperand j = json_operand(record, n.lhs);
  switch (n.kind) {
    case Node::Kind::compare: return json_equal_to(j, n.rhs, n.op);
    case Node::Kind::contains: return j.text && j.text->find(n.rhs.text) != std::string::npos;
    case Node::Kind::starts_with: return j.text && j.text->starts_with(n.rhs.text);
    case Node::Kind::ends_with: return j.text && j.text->ends_with(n.rhs.text);
    case Node::Kind::in_list:
      for (const Operand& v : n.list)
        if (json_equal_to(j, v, Cmp::eq)) return true;
      return false;
    case Node::Kind::is_empty:
      return j.value.kind == json::Value::Kind::missing || j.value.kind == json::Value::Kind::null ||
             (j.value.kind == json::Value::Kind::string && j.value.text.size() == 2);
    default: return false;
  }
}

bool holds(const Value& f, const Operand& v, Cmp op) {
  if (v.type == Operand::Type::number) {
    if (!f) return false;
    int c = compare_number(*f, *decimal_of(v.text));
    return c != SLUICE_CMP_NAN && op_holds(op, c);
  }
  return op_holds(op, compare_bytes(f ? std::string_view(*f) : std::string_view{}, v.text));
}

// A field's text as an exact number by the rules of docs/filters.md (blanks, a sign, digits
// with at most one '.', then only blanks or a CR; at most SLUICE_NUMBER_MAX bytes), written
// here independently of compare.h: the integer digits without leading zeros, the fraction
// digits without trailing zeros.
struct FieldNumber {
  bool negative = false;
  std::string whole, fraction;
};

std::optional<FieldNumber> field_number(std::string_view s) {
  if (s.size() > SLUICE_NUMBER_MAX) return std::nullopt;
  std::size_t i = 0;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < s.size() && blank(s[i])) ++i;
  FieldNumber n;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) n.negative = s[i++] == '-';
  while (i < s.size() && digit(s[i])) n.whole += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && digit(s[i])) n.fraction += s[i++];
  }
  if (n.whole.empty() && n.fraction.empty()) return std::nullopt;  // no digits (a lone '.')
  while (i < s.size() && (blank(s[i]) || s[i] == '\r')) ++i;
  if (i != s.size()) return std::nullopt;
  n.whole.erase(0, std::min(n.whole.find_first_not_of('0'), n.whole.size()));
  while (!n.fraction.empty() && n.fraction.back() == '0') n.fraction.pop_back();
  if (n.whole.empty() && n.fraction.empty()) n.negative = false;  // -0 == 0
  return n;
}

int compare_numbers(const FieldNumber& a, const FieldNumber& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int magnitude = 0;
  if (a.whole.size() != b.whole.size()) {
    magnitude = a.whole.size() < b.whole.size() ? -1 : 1;
  } else {
    magnitude = compare_bytes(a.whole, b.whole);
    if (magnitude == 0) {
      std::size_t len = std::max(a.fraction.size(), b.fraction.size());
      magnitude = compare_bytes(a.fraction + std::string(len - a.fraction.size(), '0'),
                                b.fraction + std::string(len - b.fraction.size(), '0'));
    }
  }
  return a.negative ? -magnitude : magnitude;
}

// Two fields, as awk compares them: as numbers when both are, else bytewise as text (a
// missing field is the empty string).
bool fields_hold(const Value& a, const Value& b, Cmp op) {
  std::string x = a.value_or(std::string()), y = b.value_or(std::string());
  std::optional<FieldNumber> nx = field_number(x), ny = field_number(y);
  if (nx && ny) return op_holds(op, compare_numbers(*nx, *ny));
  return op_holds(op, compare_bytes(x, y));
}

bool test(const Node& n, std::string_view record, const CheckOptions& o) {
  auto numeric = [&](const Operand& x) -> const SchemaField* {
    if (o.format != RecordFormat::binary || x.field == 0) return nullptr;
    const SchemaField& f = o.schema.fields.at(x.field - 1);
    return f.is_number() ? &f : nullptr;
  };
  switch (n.kind) {
    case Node::Kind::constant: return n.value;
    case Node::Kind::logical_or:
      for (const Node& k : n.kids)
        if (test(k, record, o)) return true;
      return false;
    case Node::Kind::logical_and:
      for (const Node& k : n.kids)
        if (!test(k, record, o)) return false;
      return true;
    case Node::Kind::logical_not: return !test(n.kids[0], record, o);
    default: break;
  }
  if (n.lhs.type == Operand::Type::path) return json_test(n, record);
  switch (n.kind) {
    case Node::Kind::compare:
      if (n.rhs.type == Operand::Type::field)
        return fields_hold(field_value(record, o, n.lhs.field), field_value(record, o, n.rhs.field), n.op);
      if (const SchemaField* f = numeric(n.lhs)) return number_holds(*f, record, n.rhs.text, n.op);
      return holds(field_value(record, o, n.lhs.field), n.rhs, n.op);
    case Node::Kind::contains:
    case Node::Kind::starts_with:
    case Node::Kind::ends_with: {
      std::string f = field_value(record, o, n.lhs.field).value_or(std::string());
      if (n.kind == Node::Kind::contains) return f.find(n.rhs.text) != std::string::npos;
      if (n.kind == Node::Kind::starts_with) return f.starts_with(n.rhs.text);
      return f.ends_with(n.rhs.text);
    }
    case Node::Kind::in_list: {
      if (const SchemaField* f = numeric(n.lhs)) {
        for (const Operand& v : n.list)
          if (number_holds(*f, record, v.text, Cmp::eq)) return true;
        return false;
      }
      Value f = field_value(record, o, n.lhs.field);
      for (const Operand& v : n.list)
        if (holds(f, v, Cmp::eq)) return true;
      return false;
    }
    case Node::Kind::is_empty: {
      Value f = field_value(record, o, n.lhs.field);
      return !f || f->empty();
    }
    default: return false;
  }
}

}  // namespace

bool evaluate(const Expr& expr, std::string_view record, char delimiter) {
  CheckOptions options;
  options.delimiter = delimiter;
  return evaluate(expr, record, options);
}

bool evaluate(const Expr& expr, std::string_view record, const CheckOptions& options) {
  if (options.format == RecordFormat::binary && record.size() < options.schema.record_size) return false;
  return test(expr.root, record, options);
}

}  // namespace sluice::expr
