// Every user-space backend returns exactly the reference's records on the edge cases:
// empty file, no trailing newline, CRLF, NUL bytes, records longer than the buffer and
// records straddling every buffer boundary.
#include "test_support.hpp"

#include <sluice/error.hpp>
#include <sluice/scanner.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

namespace fs = std::filesystem;

using test::TempDir;

std::vector<std::string> reference(const std::string& data, const Filter& filter) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < data.size()) {
    std::size_t nl = data.find('\n', start);
    std::size_t end = nl == std::string::npos ? data.size() : nl;
    std::string rec = data.substr(start, end - start);
    if (filter.keep(rec)) out.push_back(rec);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> scan(const std::string& path, const Filter& filter, const ScanOptions& options,
                              ScanStats* stats = nullptr) {
  Scanner scanner(path, filter, options);
  RecordBatch batch;
  std::vector<std::string> out;
  while (scanner.next(batch))
    for (std::string_view r : batch.records) out.emplace_back(r);
  if (stats) *stats = scanner.stats();
  return out;
}

struct BackendCase {
  std::string label;
  ScanOptions options;
};

std::vector<BackendCase> backends() {
  std::vector<BackendCase> b;
  ScanOptions o;
  o.buffer_size = 64 * 1024;  // the smallest buffer: most boundaries
  o.backend = BackendKind::read; b.push_back({"read", o});
  o.backend = BackendKind::mmap; b.push_back({"mmap", o});
  o.backend = BackendKind::uring; o.queue_depth = 3; b.push_back({"uring", o});
  o.direct = true; b.push_back({"uring_direct", o});
  o.direct = false; o.queue_depth = 1; b.push_back({"uring_qd1", o});
  o.backend = BackendKind::automatic; o.buffer_size = 1 << 20; b.push_back({"auto", o});
  return b;
}

// Records of random length ending exactly at, just before and just after each 64 KiB
// boundary, CRLF, NUL bytes, and records far longer than the buffer.
std::string edge_data(std::uint64_t seed, bool trailing_newline) {
  std::mt19937_64 rng(seed);
  std::string d;
  const std::size_t boundary = 64 * 1024;
  while (d.size() < 5 * boundary) {
    std::size_t next_boundary = (d.size() / boundary + 1) * boundary;
    std::size_t len;
    switch (rng() % 8) {
      case 0: len = next_boundary - d.size() - 1; break;         // newline is the last byte of a chunk
      case 1: len = next_boundary - d.size(); break;             // newline is the first byte of a chunk
      case 2: len = next_boundary - d.size() + 1; break;
      case 3: len = boundary * 2 + rng() % 1000; break;           // longer than the buffer
      default: len = rng() % 200;
    }
    std::string rec;
    for (std::size_t i = 0; i < len; ++i) rec += "abc,\0\r 123needle"[rng() % 17];
    if (rng() % 7 == 0 && rec.size() > 6) rec.replace(rng() % (rec.size() - 6), 6, "needle");
    if (rng() % 5 == 0) rec += '\r';
    d += rec;
    d += '\n';
  }
  if (!trailing_newline) d += "needle at the end without newline";
  return d;
}

std::vector<FilterSpec> filters() {
  return {FixedStringSpec{{"needle"}},
          FixedStringSpec{{"needle", "123"}},
          FixedStringSpec{{"NEEDLE"}, true, false},
          FixedStringSpec{{"needle"}, false, true},
          ColumnCompareSpec{2, CompareOp::gt, ValueType::integer, "100", ','},
          ColumnCompareSpec{1, CompareOp::eq, ValueType::string, "abc", ','},
          KeepAllSpec{},
          KeepNoneSpec{}};
}

class BackendDifferential : public ::testing::TestWithParam<BackendCase> {};

TEST_P(BackendDifferential, EdgeCasesMatchTheReference) {
  TempDir dir("scanner_test");
  std::vector<std::pair<std::string, std::string>> files = {
      {"empty", ""},
      {"one_newline", "\n"},
      {"no_trailing_newline", "a\nneedle"},
      {"crlf", "needle\r\nx\r\n\r\nneedle,200\r\n"},
      {"nul", std::string("a\0needle\n\0\0\nneedle\0", 19)},
      {"only_long", std::string(300000, 'n') + "needle"},
      {"edges", edge_data(1, true)},
      {"edges_no_newline", edge_data(2, false)},
  };
  for (const auto& [name, data] : files) {
    std::string path = dir.write(name, data);
    for (const FilterSpec& spec : filters()) {
      Filter filter = Filter::make(spec);
      ScanStats stats;
      auto got = scan(path, filter, GetParam().options, &stats);
      auto want = reference(data, filter);
      ASSERT_EQ(got.size(), want.size()) << name << " with " << filter.name();
      ASSERT_TRUE(got == want) << name << " with " << filter.name();
      EXPECT_EQ(stats.records_out, want.size());
      std::uint64_t records = std::count(data.begin(), data.end(), '\n') + (!data.empty() && data.back() != '\n');
      EXPECT_EQ(stats.records_in, records) << name;
      EXPECT_GE(stats.bytes_read, data.size()) << name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendDifferential, ::testing::ValuesIn(backends()),
                         [](const ::testing::TestParamInfo<BackendCase>& i) { return i.param.label; });

TEST(ScannerErrors, MissingFileNamesThePathAndReason) {
  Filter f = Filter::make(FixedStringSpec{{"x"}});
  try {
    Scanner s("/nonexistent/file.csv", f, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/file.csv"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
}

TEST(ScannerErrors, DirectoryIsRefusedByEveryBackend) {
  Filter f = Filter::make(FixedStringSpec{{"x"}});
  for (BackendKind k : {BackendKind::read, BackendKind::mmap, BackendKind::uring}) {
    ScanOptions o;
    o.backend = k;
    EXPECT_THROW({ Scanner s("/", f, o); }, Error) << to_string(k);
  }
}

TEST(FilterErrors, BadSpecsAreUsageErrors) {
  EXPECT_THROW(Filter::make(FixedStringSpec{}), UsageError);
  EXPECT_THROW(Filter::make(FixedStringSpec{{std::string(129, 'a')}}), UsageError);
  EXPECT_THROW(Filter::make(FixedStringSpec{{"1", "2", "3", "4", "5", "6", "7", "8", "9"}}), UsageError);
  EXPECT_THROW(Filter::make(ColumnCompareSpec{0, CompareOp::eq, ValueType::integer, "1", ','}), UsageError);
  EXPECT_THROW(Filter::make(ColumnCompareSpec{1, CompareOp::eq, ValueType::integer, "1.5", ','}), UsageError);
  EXPECT_THROW(Filter::make(ColumnCompareSpec{1, CompareOp::eq, ValueType::integer, "99999999999999999999", ','}),
               UsageError);
  EXPECT_THROW(Filter::make(ColumnCompareSpec{1, CompareOp::eq, ValueType::decimal, "1.2.3", ','}), UsageError);
  EXPECT_THROW(parse_compare_op("=>"), UsageError);
  EXPECT_THROW(parse_backend("sockmapx"), UsageError);
}

}  // namespace
}  // namespace sluice
