// One filter source, two builds: the BPF build (loaded into the kernel inside the
// xdp_record host and run with BPF_PROG_TEST_RUN) must decide exactly like the native
// build, on random and adversarial records, for every built-in filter.
#include "test_support.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/filter.hpp>

#include <bpf/libbpf.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

std::unique_ptr<XdpRecordProgram> load_or_skip_reason(const Filter& f, std::string& why) {
  try {
    return std::make_unique<XdpRecordProgram>(f);
  } catch (const Error& e) {
    why = e.what();
    return nullptr;
  }
}

// Records built from a small alphabet around the needles, so that near-misses, partial
// matches, repeated first bytes and case variants are common.
class RecordMaker {
 public:
  explicit RecordMaker(std::uint64_t seed) : rng_(seed) {}

  std::string make(const std::vector<std::string>& fragments, std::size_t max_len) {
    std::size_t len = pick(max_len + 1);
    std::string r;
    while (r.size() < len) {
      switch (pick(6)) {
        case 0: r += fragments[pick(fragments.size())]; break;
        case 1: {  // a fragment with one byte changed or cut short
          std::string f = fragments[pick(fragments.size())];
          if (!f.empty()) {
            if (pick(2)) f[pick(f.size())] ^= static_cast<char>(1 + pick(3));
            else f.resize(pick(f.size()));
          }
          r += f;
          break;
        }
        case 2: r += static_cast<char>(pick(256)); break;  // any byte, NUL and 0xff included
        case 3: r += ","; break;
        default: r += "abcxyzXQ0123456789-. \t\r"[pick(23)];
      }
    }
    r.resize(len);
    return r;
  }
  std::size_t pick(std::size_t n) { return n ? rng_() % n : 0; }

 private:
  std::mt19937_64 rng_;
};

struct Case {
  std::string label;
  FilterSpec spec;
  std::vector<std::string> fragments;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"one needle", FixedStringSpec{{"needle"}}, {"needle", "need", "eedle", "nneedle"}});
  c.push_back({"one byte", FixedStringSpec{{"Q"}}, {"Q", "q"}});
  c.push_back({"repeated bytes", FixedStringSpec{{"aaab"}}, {"aaab", "aaaa", "aab", "a"}});
  c.push_back({"three patterns", FixedStringSpec{{"abc", "xyz", "0.5"}}, {"abc", "xyz", "0.5", "ab", "yz"}});
  c.push_back({"ignore case", FixedStringSpec{{"NeEdLe"}, true, false}, {"needle", "NEEDLE", "NeedLe", "neeDl"}});
  c.push_back({"invert", FixedStringSpec{{"xyz"}, false, true}, {"xyz", "xy", "yz"}});
  c.push_back({"empty pattern", FixedStringSpec{{""}}, {"a"}});
  c.push_back({"long needle", FixedStringSpec{{std::string(100, 'a') + "b"}},
               {std::string(100, 'a') + "b", std::string(101, 'a'), "b"}});
  for (auto [op, sym] : {std::pair{CompareOp::gt, ">"}, {CompareOp::le, "<="}, {CompareOp::eq, "="},
                         {CompareOp::ne, "!="}}) {
    c.push_back({std::string("int ") + sym, ColumnCompareSpec{3, op, ValueType::integer, "500", ','},
                 {",500", ",499", ",501", ",-5", ",+500", ", 500 ", ",9223372036854775807", ",99999999999999999999",
                  ",5a", ",", ",-", ",0500"}});
    c.push_back({std::string("decimal ") + sym, ColumnCompareSpec{2, op, ValueType::decimal, "-12.50", ','},
                 {",-12.5", ",-12.50", ",-12.49", ",-12.51", ",-0", ",.5", ",-.5", ",12.5", ",1e5", ",-12.500\r",
                  ",00012.5"}});
    c.push_back({std::string("string ") + sym, ColumnCompareSpec{1, op, ValueType::string, "mmm", ','},
                 {"mmm,", "mm,", "mmmm,", "mmn,", "\xff,", ",", "a"}});
  }
  // fields that end before, at and after the first 64 bytes of the record (two code paths)
  c.push_back({"int column around 64 bytes", ColumnCompareSpec{3, CompareOp::gt, ValueType::integer, "5", ','},
               {std::string(60, 'a') + ",", std::string(7, 'b') + ",", ",7", ",3", ",", ",6,", "9"}});
  c.push_back({"decimal column 9", ColumnCompareSpec{9, CompareOp::lt, ValueType::decimal, "0.5", ','},
               {",", ",,", ",0.25", ",0.75", std::string(30, 'z'), ",-1"}});
  c.push_back({"tab column", ColumnCompareSpec{2, CompareOp::ge, ValueType::integer, "0", '\t'},
               {"\t1", "\t-1", "\t0", "\t"}});
  c.push_back({"keep all", KeepAllSpec{}, {"x"}});
  c.push_back({"keep none", KeepNoneSpec{}, {"x"}});
  return c;
}

class FilterEquivalence : public ::testing::TestWithParam<Case> {};

TEST_P(FilterEquivalence, BpfBuildDecidesLikeNativeBuild) {
  const Case& c = GetParam();
  Filter filter = Filter::make(c.spec);
  std::string why;
  auto program = load_or_skip_reason(filter, why);
  SLUICE_REQUIRE_OR_SKIP(program != nullptr, "cannot load the BPF build: " + why);

  RecordMaker maker(std::hash<std::string>{}(c.label));
  std::vector<std::string> records = {"", "\n", std::string(1, '\0'), std::string(4000, 'a')};
  for (const std::string& f : c.fragments) {
    records.push_back(f);
    // the fragment at every offset of a 32-byte block and across 8-byte words
    for (std::size_t pad = 0; pad < 40; ++pad) records.push_back(std::string(pad, 'z') + f);
  }
  for (int i = 0; i < 2500; ++i) records.push_back(maker.make(c.fragments, i % 10 == 0 ? 3000 : 120));
  std::size_t kept = 0;
  for (const std::string& r : records) {
    bool native = filter.keep(r);
    ASSERT_EQ(program->keep(r), native) << c.label << ": record of " << r.size() << " bytes: '" << r << "'";
    kept += native;
  }
  if (filter.name() == "keep_all" || c.label == "empty pattern") {
    EXPECT_EQ(kept, records.size());
  } else if (filter.name() == "keep_none") {
    EXPECT_EQ(kept, 0u);
  } else {  // the generated records exercise both verdicts
    EXPECT_GT(kept, 0u) << c.label;
    EXPECT_LT(kept, records.size()) << c.label;
  }
}

// A record longer than one page travels in XDP fragments: the host must still see it whole.
TEST(FilterEquivalenceLong, NeedleAtTheEndOfARecordOfSixtyKilobytes) {
  Filter filter = Filter::make(FixedStringSpec{{"tail-needle"}});
  std::string why;
  auto program = load_or_skip_reason(filter, why);
  SLUICE_REQUIRE_OR_SKIP(program != nullptr, "cannot load the BPF build: " + why);
  for (std::size_t len : {4096u, 8191u, 30000u, 65536u - 11}) {
    std::string r(len, 'x');
    EXPECT_FALSE(program->keep(r));
    r.replace(len - 11, 11, "tail-needle");
    EXPECT_TRUE(filter.keep(r));
    EXPECT_TRUE(program->keep(r)) << len;
  }
}

// The required-literal contract hosts rely on: every kept record contains the literal.
TEST(RequiredLiteral, EveryKeptRecordContainsIt) {
  for (const Case& c : cases()) {
    Filter filter = Filter::make(c.spec);
    std::string_view literal = filter.required_literal();
    if (literal.empty()) continue;
    RecordMaker maker(7);
    for (int i = 0; i < 3000; ++i) {
      std::string r = maker.make(c.fragments, 100);
      if (filter.keep(r)) {
        ASSERT_NE(r.find(literal), std::string::npos) << c.label << ": " << r;
      }
    }
  }
}

TEST(LoadInfo, ReportsVerifierWork) {
  Filter filter = Filter::make(ColumnCompareSpec{3, CompareOp::gt, ValueType::decimal, "1.5", ','});
  std::string why;
  auto program = load_or_skip_reason(filter, why);
  SLUICE_REQUIRE_OR_SKIP(program != nullptr, "cannot load the BPF build: " + why);
  EXPECT_GT(program->load_info().verified_instructions, 0u);
  EXPECT_GT(program->load_info().program_instructions, 0u);
  EXPECT_GT(program->load_info().load_seconds, 0.0);
}

INSTANTIATE_TEST_SUITE_P(BuiltinFilters, FilterEquivalence, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name;
                           for (char ch : info.param.label) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return name + "_" + std::to_string(info.index);
                         });

}  // namespace
}  // namespace sluice
