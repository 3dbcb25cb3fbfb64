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

// A field named on the command line: "$3", "3", or a header column name (or col("name")).
struct FieldRef {
  std::uint32_t index = 0;  // 1-based; 0 = the whole record
  std::string label;        // as the user wrote it
};
FieldRef parse_field_ref(const std::string& text, const std::vector<std::string>& header);
std::vector<FieldRef> parse_field_list(const std::string& text, const std::vector<std::string>& header);

// The selected fields' values (sluice::field_value) joined by the delimiter (a missing field is
// empty); CSV values are quoted again where RFC 4180 needs it.
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
  std::vector<Column> columns_;
  std::optional<FieldRef> group_by_;
  RecordLayout layout_;
  char delim_;
  Aggregator aggregator_;
  std::vector<std::optional<std::string>> texts_;         // the fields' values, reused per record
  std::vector<std::optional<std::string_view>> values_;  // views of texts_
};

}  // namespace sluice::cli
