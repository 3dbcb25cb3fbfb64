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

#include <string_view>

namespace sluice {

enum class RecordFormat { lines, csv, tsv, jsonl, binary };

std::string_view to_string(RecordFormat format);
RecordFormat parse_format(std::string_view name);  // throws UsageError naming the choices

}  // namespace sluice
