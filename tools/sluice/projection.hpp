// Projection (--select) and aggregates (--sum/--min/--max/--avg, --group-by) over the records a
// filter kept, in user space, with exact decimal arithmetic (docs/where.md, "Projection and
// aggregates").
#pragma once

#include <sluice/aggregate.hpp>
#include <sluice/format.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

// A field named on the command line: "$3", "3", a header column name (or col("name")), or
// with --format jsonl a JSON path (.a.b, ."any key").
struct FieldRef {
  std::uint32_t index = 0;        // 1-based; 0 = the whole record
  std::vector<std::string> path;  // a JSON path's member names (then index is unused)
  std::string label;              // as the user wrote it
};
FieldRef parse_field_ref(const std::string& text, const std::vector<std::string>& header);
std::vector<FieldRef> parse_field_list(const std::string& text, const std::vector<std::string>& header);

// The selected fields' values (sluice::field_value) joined by the delimiter (a missing field is
// empty); CSV values are quoted again where RFC 4180 needs it; a JSON path's value is its JSON
// text as in the record (empty when missing or the record is not valid).
std::string project(std::string_view record, const RecordLayout& layout, const std::vector<FieldRef>& fields);

// The aggregates of a scan (--count via --group-by, --sum/--min/--max/--avg): the fields
// named on the command line, cut out of each kept record and added to libsluice's exact
// Aggregator (sluice/aggregate.hpp), printed as a table.
class AggregateReport {
 public:
  enum class Op { sum, min, max, avg };
  struct Column {
    Op op;
    FieldRef field;
  };

  AggregateReport(std::vector<Column> columns, std::optional<FieldRef> group_by, RecordLayout layout);
  void add(std::string_view record);  // throws UsageError past the group bound or on overflow
  // Partials computed elsewhere (the kernel) for the same columns.
  void merge(const Aggregator& partials) { aggregator_.merge(partials); }
  // What a backend needs to aggregate in the kernel (ScanOptions::aggregate); nullopt when the
  // kernel cannot cut these fields (formats other than lines and TSV).
  std::optional<AggregateSpec> kernel_spec() const;
  // A header line (group, count, op(field)...) and one line per group (sorted bytewise),
  // fields joined by the delimiter.
  std::string table() const;

 private:
  enum class Use { group_key, value };
  // A field's text for the aggregator (nullopt: missing).
  std::optional<std::string> text_of(std::string_view record, const FieldRef& field, Use use) const;

  std::vector<Column> columns_;
  std::optional<FieldRef> group_by_;
  RecordLayout layout_;
  char delim_;
  Aggregator aggregator_;
  std::vector<std::optional<std::string>> texts_;         // the fields' values, reused per record
  std::vector<std::optional<std::string_view>> values_;  // views of texts_
};

}  // namespace sluice::cli
