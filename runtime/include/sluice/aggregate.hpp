// Exact aggregates over records: count, and per value column the numbers, sum, min, max
// (and the mean from them), optionally per group, with no floating point anywhere.
//
//   sluice::Aggregator agg(2);                      // two value columns
//   std::optional<std::string_view> values[] = {price, quantity};  // fields the caller cut out
//   agg.add(group_key, values);                     // "" as the key without grouping
//   agg.merge(*scanner.kernel_aggregates());        // partials the kernel computed (sockmap)
//   for (const auto& [key, group] : agg.groups()) ... group.cells[0].sum ...
//
// The aggregator is format-agnostic: callers extract the group key and the fields of each
// record themselves (any record format). Numbers follow the numeric rules of docs/filters.md;
// a field that is not a number (or missing) is counted in the group's count but left out of
// the column, like SQL's NULL. Arithmetic is exact on 128-bit scaled integers (38 digits);
// past that, and past kMaxGroups groups, add() and merge() throw UsageError.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

// An exact decimal: value = units * 10^-scale.
struct Decimal {
  __int128 units = 0;
  std::uint32_t scale = 0;
};
// A field by the numeric rules of docs/filters.md; nullopt if it is not a number (or longer
// than 64 bytes). Throws UsageError for a number of more than 38 significant digits.
std::optional<Decimal> parse_decimal(std::string_view text);
// Shortest form: no trailing fraction zeros, "-" only for values below zero.
std::string to_string(const Decimal& d);
int compare(const Decimal& a, const Decimal& b);  // -1, 0, 1
Decimal plus(const Decimal& a, const Decimal& b);  // throws UsageError past 38 digits
// a / n rounded half away from zero to `scale` fraction digits (scale >= a.scale).
Decimal divide(const Decimal& a, std::uint64_t n, std::uint32_t scale);
// The same value with trailing fraction zeros removed from its scale.
Decimal normalized(Decimal d);

// One value column of one group.
struct AggregateCell {
  std::uint64_t numbers = 0;  // fields that were numbers; sum/min/max are over those
  Decimal sum;
  std::optional<Decimal> min, max;

  void add(const Decimal& value);
  void merge(const AggregateCell& other);
  // The mean with max(6, sum's scale) fraction digits, rounded; nullopt without numbers.
  std::optional<Decimal> average() const;
};

struct AggregateGroup {
  std::uint64_t count = 0;  // records of the group
  std::vector<AggregateCell> cells;  // one per value column
};

class Aggregator {
 public:
  // The bound that keeps aggregation in bounded memory (a clear error past it).
  static constexpr std::size_t kMaxGroups = 100000;

  explicit Aggregator(std::size_t columns);

  // One record: its group key ("" without grouping) and each column's field (nullopt:
  // missing). values.size() must be columns().
  void add(std::string_view key, std::span<const std::optional<std::string_view>> values);
  // Partial results computed elsewhere (another thread, the kernel): the result is as if
  // their records had been added here.
  void merge(std::string_view key, const AggregateGroup& partial);
  void merge(const Aggregator& other);

  std::size_t columns() const { return columns_; }
  std::uint64_t records() const { return records_; }  // over all groups
  // Sorted bytewise by key.
  const std::map<std::string, AggregateGroup, std::less<>>& groups() const { return groups_; }

 private:
  AggregateGroup& group(std::string_view key);

  std::size_t columns_;
  std::uint64_t records_ = 0;
  std::map<std::string, AggregateGroup, std::less<>> groups_;
};

// What a scan aggregates, for backends that aggregate in the kernel (ScanOptions::aggregate):
// fields of delimited text without quoting (lines, TSV), numbered from 1 (0: the whole record).
struct AggregateSpec {
  char delimiter = ',';
  std::optional<std::uint32_t> group_field;  // --group-by; nullopt: one group, key ""
  std::vector<std::uint32_t> value_fields;   // the value columns, in order
};

}  // namespace sluice
