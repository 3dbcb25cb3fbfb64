#include <sluice/error.hpp>
#include <sluice/format.hpp>

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

}  // namespace sluice
