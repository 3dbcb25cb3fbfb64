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

AggregateReport::AggregateReport(std::vector<Column> columns, std::optional<FieldRef> group_by, RecordLayout layout)
    : columns_(std::move(columns)),
      group_by_(std::move(group_by)),
      layout_(std::move(layout)),
      delim_(layout_.delimiter),
      aggregator_(columns_.size()),
      texts_(columns_.size()),
      values_(columns_.size()) {}

void AggregateReport::add(std::string_view record) {
  std::string key;
  if (group_by_)
    if (auto f = text_of(record, *group_by_, Use::group_key)) key = std::move(*f);
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    texts_[i] = text_of(record, columns_[i].field, Use::value);
    values_[i] = texts_[i] ? std::optional<std::string_view>(*texts_[i]) : std::nullopt;
  }
  aggregator_.add(key, values_);
}

std::optional<std::string> AggregateReport::text_of(std::string_view record, const FieldRef& field, Use use) const {
  if (field.path.empty()) return field_value(record, layout_, field.index);
  // A JSON member, by the rules of --where on JSON lines (docs/where.md): a number is a
  // number unless it has an exponent; a string is never one (its token keeps its quotes, so
  // it does not parse), but groups by its decoded text; null is a missing member.
  json::Value v = json::find(record, field.path);
  switch (v.kind) {
    case json::Value::Kind::invalid:
    case json::Value::Kind::missing:
    case json::Value::Kind::null: return std::nullopt;
    case json::Value::Kind::string:
      return use == Use::group_key ? json::decode_string(v.text) : std::string(v.text);
    default: return std::string(v.text);
  }
}

std::optional<AggregateSpec> AggregateReport::kernel_spec() const {
  // The kernel cuts fields on the raw delimiter: lines and TSV only (CSV quoting, JSON
  // members and binary fields are cut in user space).
  if (layout_.format != RecordFormat::lines && layout_.format != RecordFormat::tsv) return std::nullopt;
  AggregateSpec spec;
  spec.delimiter = delim_;
  if (group_by_) spec.group_field = group_by_->index;
  for (const Column& c : columns_) spec.value_fields.push_back(c.field.index);
  return spec;
}

std::string AggregateReport::table() const {
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
  auto print = [&](std::string_view key, const AggregateGroup& g) {
    if (group_by_) {
      out += layout_.format == RecordFormat::csv ? csv_quote(key, delim_) : std::string(key);
      out += delim_;
    }
    out += std::to_string(g.count);
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      out += delim_;
      const AggregateCell& c = g.cells[i];
      if (c.numbers == 0) continue;  // no number: empty (SQL NULL)
      switch (columns_[i].op) {
        case Op::sum: out += to_string(c.sum); break;
        case Op::min: out += to_string(*c.min); break;
        case Op::max: out += to_string(*c.max); break;
        case Op::avg: out += to_string(*c.average()); break;
      }
    }
    out += '\n';
  };
  for (const auto& [key, g] : aggregator_.groups()) print(key, g);
  // Without grouping there is always one line, even over no records.
  if (aggregator_.groups().empty() && !group_by_) print("", AggregateGroup{0, std::vector<AggregateCell>(columns_.size())});
  return out;
}

}  // namespace sluice::cli
