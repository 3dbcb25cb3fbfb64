// libsluice's aggregates (sluice/aggregate.hpp): exact decimals, merging partials, the group
// bound, and a sockmap Scanner that aggregates in the kernel giving the read backend's
// result through the library API alone.
#include "test_support.hpp"

#include <sluice/aggregate.hpp>
#include <sluice/error.hpp>
#include <sluice/probe.hpp>
#include <sluice/scanner.hpp>

#include "generator.hpp"

#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

TEST(Decimal, ParsesByTheNumericRulesAndPrintsShortest) {
  struct Case {
    const char* text;
    const char* printed;  // nullptr: not a number
  } cases[] = {{"5", "5"},       {"+5", "5"},     {" 5 ", "5"},   {"5.", "5"},          {".5", "0.5"},
               {"-0", "0"},      {"-0.000", "0"}, {"0005.500", "5.5"}, {"-12.25\r", "-12.25"},
               {"\t7\t", "7"},   {"", nullptr},   {".", nullptr}, {"-", nullptr},       {"1e5", nullptr},
               {"1.2.3", nullptr}, {"5 x", nullptr}, {"0x10", nullptr},
               {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"}};
  for (const Case& c : cases) {
    std::optional<Decimal> d = parse_decimal(c.text);
    if (!c.printed) {
      EXPECT_FALSE(d) << c.text;
      continue;
    }
    ASSERT_TRUE(d) << c.text;
    EXPECT_EQ(to_string(*d), c.printed) << c.text;
  }
  EXPECT_FALSE(parse_decimal(std::string(65, '1')));  // longer than 64 bytes: not a number
  EXPECT_THROW(parse_decimal(std::string(39, '1')), UsageError);  // a number past 38 digits
  EXPECT_EQ(compare(*parse_decimal("0.10000000000000000001"), *parse_decimal("0.1")), 1);
  EXPECT_EQ(to_string(normalized(Decimal{1500000, 6})), "1.5");
  EXPECT_EQ(normalized(Decimal{1500000, 6}).scale, 1u);
  EXPECT_EQ(to_string(divide(*parse_decimal("-1"), 8, 2)), "-0.13");  // half away from zero
}

// Random records split between two aggregators and merged give the one-aggregator result.
TEST(Aggregator, MergingPartialsEqualsAddingEverything) {
  std::mt19937_64 rng(7);
  Aggregator whole(2), left(2), right(2);
  for (int i = 0; i < 5000; ++i) {
    std::string key = "k" + std::to_string(rng() % 37);
    std::string a = std::to_string(static_cast<std::int64_t>(rng() % 2000001) - 1000000);
    std::string b = (rng() % 5 == 0) ? "n/a" : std::to_string(rng() % 1000) + "." + std::to_string(rng() % 1000);
    std::optional<std::string_view> values[] = {a, rng() % 7 == 0 ? std::nullopt : std::optional<std::string_view>(b)};
    whole.add(key, values);
    (rng() % 3 == 0 ? left : right).add(key, values);
  }
  Aggregator merged(2);
  merged.merge(left);
  merged.merge(right);
  ASSERT_EQ(merged.records(), whole.records());
  ASSERT_EQ(merged.groups().size(), whole.groups().size());
  for (const auto& [key, g] : whole.groups()) {
    const AggregateGroup& m = merged.groups().find(key)->second;
    EXPECT_EQ(m.count, g.count) << key;
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(m.cells[i].numbers, g.cells[i].numbers) << key;
      EXPECT_EQ(to_string(m.cells[i].sum), to_string(g.cells[i].sum)) << key;
      EXPECT_EQ(to_string(*m.cells[i].min), to_string(*g.cells[i].min)) << key;
      EXPECT_EQ(to_string(*m.cells[i].max), to_string(*g.cells[i].max)) << key;
      EXPECT_EQ(to_string(*m.cells[i].average()), to_string(*g.cells[i].average())) << key;
    }
  }
}

TEST(Aggregator, EmptyPartialsCreateNoGroupAndTheBoundHoldsForMerges) {
  Aggregator a(0);
  a.merge("ghost", AggregateGroup{0, {}});
  EXPECT_TRUE(a.groups().empty());
  Aggregator many(0);
  for (std::size_t i = 0; i < Aggregator::kMaxGroups; ++i) many.merge(std::to_string(i), AggregateGroup{1, {}});
  EXPECT_THROW(many.merge("one more", AggregateGroup{1, {}}), UsageError);
  EXPECT_NO_THROW(many.merge("0", AggregateGroup{1, {}}));  // an existing group is fine
}

// Field n (1-based) of a record split on ','; nullopt when missing.
std::optional<std::string_view> field(std::string_view record, std::uint32_t n) {
  for (std::uint32_t i = 1; i < n; ++i) {
    std::size_t comma = record.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    record.remove_prefix(comma + 1);
  }
  return record.substr(0, record.find(','));
}

struct Outcome {
  Aggregator result{2};
  ScanStats stats;
};

// Aggregates fields 3 and 4 of `path` (grouped by `group`), as an application would.
Outcome aggregate_file(const std::string& path, BackendKind backend, std::optional<std::uint32_t> group) {
  ScanOptions options;
  options.backend = backend;
  options.aggregate = AggregateSpec{',', group, {3, 4}};
  Scanner scanner(path, Filter::make(ColumnCompareSpec{3, CompareOp::gt, ValueType::integer, "300000", ','}), options);
  Outcome out;
  RecordBatch batch;
  while (scanner.next(batch))
    for (std::string_view r : batch.records) {
      std::optional<std::string_view> values[] = {field(r, 3), field(r, 4)};
      out.result.add(group ? field(r, *group).value_or("") : "", values);
    }
  if (const Aggregator* kernel = scanner.kernel_aggregates()) out.result.merge(*kernel);
  out.stats = scanner.stats();
  return out;
}

TEST(KernelAggregates, SockmapScannerGivesTheReadResult) {
  ProbeReport report = probe_system();
  const Capability* c = report.find("path.sockmap");
  SLUICE_REQUIRE_OR_SKIP(c && c->available, "sockmap path: " + (c ? c->detail : std::string("no probe")));
  test::TempDir dir("aggregate_unit_test");
  datasets::GenOptions o;
  o.size = 4u << 20;
  o.allow_negative = true;
  datasets::StringSink sink;
  datasets::generate(o, sink);
  std::string path = dir.write("data.csv", sink.take());
  for (std::optional<std::uint32_t> group : {std::optional<std::uint32_t>(), std::optional<std::uint32_t>(2)}) {
    SCOPED_TRACE(group ? "grouped by the key field (random keys: the kernel map fills)" : "one group");
    Outcome user = aggregate_file(path, BackendKind::read, group);
    Outcome kernel = aggregate_file(path, BackendKind::sockmap, group);
    EXPECT_EQ(user.stats.aggregation, "user space");
    EXPECT_EQ(kernel.stats.aggregation, "kernel");
    EXPECT_EQ(kernel.stats.records_out, user.stats.records_out);
    if (group) {
      EXPECT_GT(kernel.stats.kernel_aggregate_fallbacks, 0u);  // past the map's 4096 groups
    } else {
      EXPECT_GT(kernel.stats.kernel_aggregated_records, user.result.records() * 9 / 10);
      EXPECT_LT(kernel.stats.bytes_delivered, kernel.stats.bytes_read / 50);
    }
    ASSERT_EQ(kernel.result.records(), user.result.records());
    ASSERT_EQ(kernel.result.groups().size(), user.result.groups().size());
    for (const auto& [key, g] : user.result.groups()) {
      auto it = kernel.result.groups().find(key);
      ASSERT_NE(it, kernel.result.groups().end()) << key;
      EXPECT_EQ(it->second.count, g.count) << key;
      for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(it->second.cells[i].numbers, g.cells[i].numbers) << key;
        EXPECT_EQ(to_string(it->second.cells[i].sum), to_string(g.cells[i].sum)) << key;
        EXPECT_EQ(to_string(*it->second.cells[i].min), to_string(*g.cells[i].min)) << key;
        EXPECT_EQ(to_string(*it->second.cells[i].max), to_string(*g.cells[i].max)) << key;
      }
    }
  }
}

}  // namespace
}  // namespace sluice
