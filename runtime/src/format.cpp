#include <sluice/error.hpp>
#include <sluice/format.hpp>

#include <bit>
#include <charconv>
#include <cstring>
#include <string>

namespace sluice {

std::string_view to_string(RecordFormat format) {
  switch (format) {
    case RecordFormat::lines: return "lines";
    case RecordFormat::csv: return "csv";
    case RecordFormat::tsv: return "tsv";
    case RecordFormat::jsonl: return "jsonl";
    case RecordFormat::binary: return "binary";
  }
  return "?";
}

RecordFormat parse_format(std::string_view name) {
  for (RecordFormat f : {RecordFormat::lines, RecordFormat::csv, RecordFormat::tsv, RecordFormat::jsonl,
                         RecordFormat::binary})
    if (name == to_string(f)) return f;
  throw UsageError("unknown record format '" + std::string(name) + "' (choose lines, csv, tsv, jsonl or binary)");
}

std::uint32_t Schema::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name) return static_cast<std::uint32_t>(i + 1);
  return 0;
}

namespace {
std::uint64_t little_endian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) v = v << 8 | static_cast<unsigned char>(bytes[i]);
  return v;
}
template <typename T>
std::string number_text(T v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
}  // namespace

std::string schema_value_text(const SchemaField& f, std::string_view record) {
  std::string_view bytes = record.substr(f.offset, f.size);
  if (f.type == SchemaField::Type::chars) return std::string(bytes.substr(0, bytes.find('\0')));
  std::uint64_t v = little_endian(bytes);
  if (f.type == SchemaField::Type::f64) return number_text(std::bit_cast<double>(v));
  if (f.type == SchemaField::Type::f32) return number_text(std::bit_cast<float>(static_cast<std::uint32_t>(v)));
  if (f.is_signed()) {
    unsigned shift = 64 - 8 * f.size;
    return number_text(static_cast<std::int64_t>(v << shift) >> shift);  // sign-extended
  }
  return number_text(v);
}

std::string csv_unquote(std::string_view field) {
  if (field.size() < 2 || field.front() != '"' || field.back() != '"') return std::string(field);
  field = field.substr(1, field.size() - 2);
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    out += field[i];
    if (field[i] == '"' && i + 1 < field.size() && field[i + 1] == '"') ++i;
  }
  return out;
}

std::string csv_quote(std::string_view value, char delimiter) {
  if (value.find_first_of(std::string{'"', '\r', '\n', delimiter}) == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

bool csv_field(std::string_view record, char delimiter, std::uint32_t n, std::string_view& field) {
  if (!record.empty() && record.back() == '\r') record.remove_suffix(1);
  if (n == 0) {
    field = record;
    return true;
  }
  bool quoted = false;
  std::uint32_t at = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (record[i] == '"') {
      quoted = !quoted;
    } else if (record[i] == delimiter && !quoted) {
      if (at == n) {
        field = record.substr(start, i - start);
        return true;
      }
      ++at;
      start = i + 1;
    }
  }
  if (at != n) return false;
  field = record.substr(start);
  return true;
}

std::optional<std::string> field_value(std::string_view record, const RecordLayout& layout, std::uint32_t n) {
  if (n == 0) return std::string(record);
  if (layout.format == RecordFormat::binary) {
    if (n > layout.schema.fields.size() || record.size() < layout.schema.record_size) return std::nullopt;
    return schema_value_text(layout.schema.fields[n - 1], record);
  }
  if (layout.format == RecordFormat::csv) {
    std::string_view raw;
    if (!csv_field(record, layout.delimiter, n, raw)) return std::nullopt;
    return csv_unquote(raw);
  }
  for (std::uint32_t i = 1; i < n; ++i) {
    std::size_t d = record.find(layout.delimiter);
    if (d == std::string_view::npos) return std::nullopt;
    record.remove_prefix(d + 1);
  }
  return std::string(record.substr(0, record.find(layout.delimiter)));
}

}  // namespace sluice
