// Projection (--select) and aggregates (--sum/--min/--max/--avg, --group-by) over the records a
// filter kept, in user space, with exact decimal arithmetic (docs/where.md, "Projection and
// aggregates").
#pragma once

#include <sluice/format.hpp>

#include <cstdint>
#include <map>
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

// An exact decimal: value = digits * 10^-scale, as a signed 128-bit integer (38 digits).
struct Decimal {
  __int128 units = 0;
  std::uint32_t scale = 0;
};
// Parses a field by the numeric rules of docs/filters.md; nullopt if it is not a number or
// does not fit 38 digits.
std::optional<Decimal> parse_decimal(std::string_view text);
std::string to_string(const Decimal& d);
int compare(const Decimal& a, const Decimal& b);

class Aggregator {
 public:
  enum class Op { sum, min, max, avg };
  struct Column {
    Op op;
    FieldRef field;
  };
  static constexpr std::size_t kMaxGroups = 100000;

  Aggregator(std::vector<Column> columns, std::optional<FieldRef> group_by, RecordLayout layout);
  void add(std::string_view record);  // throws UsageError past kMaxGroups groups or on overflow
  // A header line (group, count, op(field)...) and one line per group (sorted bytewise),
  // fields joined by the delimiter.
  std::string table() const;

 private:
  struct Cell {
    std::uint64_t numbers = 0;  // fields that were numbers
    Decimal sum;
    std::optional<Decimal> min, max;
  };
  struct Group {
    std::uint64_t count = 0;
    std::vector<Cell> cells;
  };
  std::vector<Column> columns_;
  std::optional<FieldRef> group_by_;
  RecordLayout layout_;
  char delim_;
  std::map<std::string, Group> groups_;
};

}  // namespace sluice::cli
