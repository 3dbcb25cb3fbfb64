// Record formats (`sluice scan --format`): how a byte stream is cut into records and how a
// record is cut into fields. The framing travels with the filter (struct
// sluice_param_header), so every backend and kernel host frames the same way.
//
//   lines   newline-separated records, fields split on a delimiter (the default)
//   csv     RFC 4180: quoted fields, doubled quotes, delimiters and newlines inside quotes
//   tsv     tab-separated, one record per line, no quoting (IANA text/tab-separated-values)
//   jsonl   one JSON object per line; fields by path (.status, .user.id)
//   binary  fixed-size little-endian records described by a schema (--schema)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class RecordFormat { lines, csv, tsv, jsonl, binary };

std::string_view to_string(RecordFormat format);
RecordFormat parse_format(std::string_view name);  // throws UsageError naming the choices

// One field of a fixed-size binary record (--schema "u32 id, f64 score, char[12] tag").
// Numbers are little-endian; char[N] is text up to its first NUL.
struct SchemaField {
  enum class Type { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, chars };
  std::string name;
  Type type = Type::u32;
  std::uint32_t offset = 0;  // bytes from the record's start
  std::uint32_t size = 0;    // bytes
  bool is_number() const { return type != Type::chars; }
  bool is_signed() const { return type >= Type::i8 && type <= Type::i64; }
  bool is_float() const { return type == Type::f32 || type == Type::f64; }
};

struct Schema {
  std::vector<SchemaField> fields;  // in record order; padding (pad[N]) is not a field
  std::uint32_t record_size = 0;    // the sum of the field and padding sizes
  // The 1-based position of the field named `name`, or 0.
  std::uint32_t index_of(std::string_view name) const;
};

// The value of field `f` of a record (f.offset + f.size <= record.size()) as text: integers in
// decimal, floats in the shortest form that reads back to the same value (std::to_chars:
// "inf", "-inf", "nan"), char[N] up to the first NUL.
std::string schema_value_text(const SchemaField& f, std::string_view record);

// The value of a CSV field as written (RFC 4180): a field that starts and ends with '"' is
// quoted, and its value is what lies between, with each doubled quote undoubled; any other
// field is its bytes.
std::string csv_unquote(std::string_view field);
// `value` as a CSV field: quoted (quotes doubled) when it holds the delimiter, a quote, CR or LF.
std::string csv_quote(std::string_view value, char delimiter);
// Field n (1-based; 0 = the record) of a CSV record, quotes included: a delimiter separates
// fields only outside double quotes. A CR ending the record is not part of it. False when
// the record has fewer fields.
bool csv_field(std::string_view record, char delimiter, std::uint32_t n, std::string_view& field);

// How records are cut into fields.
struct RecordLayout {
  RecordFormat format = RecordFormat::lines;
  char delimiter = ',';  // lines, csv (tsv: '\t')
  Schema schema;         // binary
};
// The value of field n (1-based; 0 = the record) as text: the bytes between delimiters
// (lines, tsv, jsonl), unquoted (csv), schema_value_text (binary; $0 is the raw record).
// nullopt when the record has fewer fields.
std::optional<std::string> field_value(std::string_view record, const RecordLayout& layout, std::uint32_t n);

}  // namespace sluice
