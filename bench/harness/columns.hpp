// The columns of sluice-bench's CSV files, with their documentation: one table is the source
// of the CSV header, the JSON keys and `sluice-bench --list-columns` (docs/benchmarking.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::bench {

struct Column {
  const char* name;
  char type;  // 's' string, 'n' number (empty = not applicable / unknown)
  const char* doc;
};

const std::vector<Column>& run_columns();      // runs.csv: one row per measured process group
const std::vector<Column>& summary_columns();  // summary.csv: one row per (cell, subject)

// A row under construction: values by column name (a misspelt name throws std::logic_error).
class Row {
 public:
  explicit Row(const std::vector<Column>& columns) : columns_(&columns), values_(columns.size()) {}
  Row& set(std::string_view name, std::string value);
  Row& set(std::string_view name, double value);  // "%.6g"; NaN -> empty
  Row& set_int(std::string_view name, long long value);
  Row& set_uint(std::string_view name, unsigned long long value);
  const std::string& get(std::string_view name) const;
  const std::vector<std::string>& values() const { return values_; }
  const std::vector<Column>& columns() const { return *columns_; }

 private:
  std::size_t index(std::string_view name) const;
  const std::vector<Column>* columns_;
  std::vector<std::string> values_;
};

std::string csv_field(std::string_view value);
std::string csv_header(const std::vector<Column>& columns);
std::string csv_line(const Row& row);

// Markdown tables of every column (for docs/benchmarking.md).
std::string columns_markdown();

}  // namespace sluice::bench
