// Record formats: --schema parsing and its errors, CSV/binary type errors with a caret, the
// RecordMatcher's fixed-size framing, and --where over CSV and binary records compiled both
// ways (native; BPF in the xdp_record host via BPF_PROG_TEST_RUN) against the interpreter:
// the new primitives (sluice_csv_field, sluice_count_byte, the binary key tests) give the same
// verdicts in both builds.
#include "record_matcher.hpp"
#include "test_support.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/compiled_filter.hpp>
#include <sluice/expr.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>

namespace sluice {
namespace {

CompileOptions options(std::vector<std::string> hosts = {}) {
  CompileOptions o;
  o.cache_dir = (std::filesystem::current_path() / "expr-cache").string();
  o.bpf_hosts = std::move(hosts);
  return o;
}

const char* kSchema = "u32 id, i64 price, f64 score, f32 ratio, i8 small, u16 port, char[6] tag, pad[2], u64 big";

TEST(Schema, FieldsOffsetsAndSize) {
  Schema s = expr::parse_schema(kSchema);
  ASSERT_EQ(s.fields.size(), 8u);
  EXPECT_EQ(s.record_size, 4u + 8 + 8 + 4 + 1 + 2 + 6 + 2 + 8);
  EXPECT_EQ(s.fields[6].name, "tag");
  EXPECT_EQ(s.fields[6].offset, 27u);
  EXPECT_EQ(s.fields[7].offset, 35u);  // after the padding
  EXPECT_EQ(s.index_of("big"), 8u);
  EXPECT_EQ(s.index_of("nope"), 0u);
}

TEST(Schema, ErrorsPointAtTheColumn) {
  struct Case {
    const char* text;
    std::size_t column;
    const char* message;
  };
  for (const Case& c : {Case{"u32 id, u9 x", 9, "unknown field type 'u9'"}, Case{"u32 id, u32 id", 13, "used twice"},
                        Case{"u32 id u32 x", 8, "expected ','"}, Case{"char[0] x", 6, "byte count"},
                        Case{"u32", 4, "expected a field name"}, Case{"pad[4]", 1, "only padding"}, Case{"", 1, "no fields"}}) {
    SCOPED_TRACE(c.text);
    try {
      expr::parse_schema(c.text);
      FAIL() << "accepted";
    } catch (const expr::ParseError& e) {
      EXPECT_EQ(e.column(), c.column) << e.what();
      EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
    }
  }
}

expr::CheckOptions binary_options() {
  expr::CheckOptions o;
  o.format = RecordFormat::binary;
  o.schema = expr::parse_schema(kSchema);
  return o;
}

TEST(FormatTypes, ErrorsWithACaret) {
  struct Case {
    const char* text;
    std::size_t column;
    const char* message;
  };
  for (const Case& c : {Case{"col(\"price\") == \"5\"", 17, "number field 'price' (i64) with a string"},
                        Case{"contains($2, \"x\")", 10, "is a number field"}, Case{"$9 > 1", 1, "past the schema's 8"},
                        Case{"col(\"nope\") > 1", 5, "no field named"}, Case{"$0 is empty", 1, "not a field"},
                        Case{"$3 is empty", 1, "never empty"}, Case{"$1 in (1, \"a\")", 11, "with a string"},
                        Case{"$1 < $2", 6, "two fields of binary records"}}) {
    SCOPED_TRACE(c.text);
    expr::Expr e = expr::parse(c.text);
    try {
      expr::check(e, binary_options());
      FAIL() << "accepted";
    } catch (const expr::ParseError& err) {
      EXPECT_EQ(err.column(), c.column) << err.what();
      EXPECT_NE(err.message().find(c.message), std::string::npos) << err.what();
    }
  }
  // Bare names are the schema's field names.
  expr::Expr bare = expr::parse("price > 5 and tag == \"ab\" and nope == 1");
  try {
    expr::check(bare, binary_options());
    FAIL() << "accepted";
  } catch (const expr::ParseError& err) {
    EXPECT_EQ(err.column(), 31u);
    EXPECT_NE(err.message().find("no field named \"nope\""), std::string::npos) << err.what();
  }
  expr::Expr named = expr::parse("price > 5 and tag == \"ab\"");
  expr::check(named, binary_options());
  EXPECT_EQ(expr::to_string(named), "(($2 > 5) and ($7 == \"ab\"))");
  expr::CheckOptions no_schema;
  no_schema.format = RecordFormat::binary;
  expr::Expr e = expr::parse("col(\"x\") > 1");
  EXPECT_THROW(expr::check(e, no_schema), expr::ParseError);
}

TEST(FixedFraming, AnyChunkingAndAClearErrorForATruncatedFile) {
  std::string data;
  for (int i = 0; i < 500; ++i) data += std::string(7, static_cast<char>('a' + i % 26)) + "\n";  // 8-byte records
  Filter keep = Filter::make(KeepAllSpec{}).with_framing(Framing::fixed, 8);
  std::mt19937_64 rng(3);
  for (int round = 0; round < 20; ++round) {
    RecordMatcher m(keep, true);
    std::vector<std::string_view> out;
    std::string got;
    for (std::size_t at = 0; at < data.size();) {
      std::size_t n = std::min<std::size_t>(1 + rng() % 40, data.size() - at);
      out.clear();
      m.feed(std::span<const char>(data.data() + at, n), out);
      for (std::string_view r : out) {
        ASSERT_EQ(r.size(), 8u);
        got += r;
      }
      at += n;
    }
    out.clear();
    m.finish(out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(got, data);
    EXPECT_EQ(m.records_in(), 500u);
  }
  RecordMatcher m(keep, true);
  std::vector<std::string_view> out;
  m.feed(std::span<const char>(data.data(), 21), out);
  EXPECT_EQ(out.size(), 2u);
  EXPECT_THROW(m.finish(out), UsageError);
  EXPECT_THROW(keep.with_framing(Framing::fixed, 0), UsageError);
}

// ---- --where over CSV and binary records, both builds against the interpreter ------------

std::string random_csv_field(std::mt19937_64& rng) {
  static const std::vector<std::string> values = {"5", "-3.5", "", "abc", "a,b", "q\"q", "x\"\"y", " 7 ", "multi\nline",
                                                  "\"", "1e5", "zz", "b\"x", "5.0", "10\r"};
  std::string v = values[rng() % values.size()];
  bool must = v.find_first_of(",\"\n\r") != std::string::npos;
  if (must || rng() % 4 == 0) {
    std::string q = "\"";
    for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return v;
}

std::string random_csv_record(std::mt19937_64& rng) {
  std::string r;
  int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) r += (i ? "," : "") + random_csv_field(rng);
  if (rng() % 5 == 0) r += '\r';
  return r;
}

const std::vector<std::string> kCsvExpressions = {
    "$2 > 4", "$1 == \"a,b\"", "contains($2, \"\\\"\")", "$3 == \"x\\\"\\\"y\" or $1 < \"b\\\"\"",
    "startswith($2, \"q\\\"\") and not endswith($1, \"\\\"\")", "$4 is empty", "$2 in (5, \"abc\", \"b\\\"x\")",
    "contains($0, \"line\") or $5 >= 10", "endswith($3, \"\\n\")", "$1 != \"\\\"\"",
    "$1 == $2", "$1 < $3 or $2 >= $4", "$2 != $5 and $3 <= $1", "$0 > $2",
};

TEST(CsvWhere, BothBuildsAgreeWithTheInterpreter) {
  std::mt19937_64 rng(11);
  std::vector<std::string> records;
  for (int i = 0; i < 3000; ++i) records.push_back(random_csv_record(rng));
  bool bpf = geteuid() == 0;
  SLUICE_REQUIRE_OR_SKIP(bpf, "loading BPF programs needs root");
  expr::CheckOptions o;
  o.format = RecordFormat::csv;
  for (const std::string& text : kCsvExpressions) {
    SCOPED_TRACE(text);
    WhereOptions w;
    w.format = RecordFormat::csv;
    Filter f = compile_where_filter(text, w, options({"xdp_record"}));
    EXPECT_EQ(f.framing(), Framing::csv);
    XdpRecordProgram prog(f);
    expr::Expr e = expr::parse(text);
    expr::check(e, o);
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string& r = records[i];
      bool want = expr::evaluate(e, r, o);
      ASSERT_EQ(f.keep(r), want) << "native, record: " << r;
      if (i < 500) {
        ASSERT_EQ(prog.keep(r), want) << "BPF, record: " << r;
      }
    }
  }
}

template <typename T>
void put(std::string& rec, std::uint32_t off, T v) {
  std::memcpy(rec.data() + off, &v, sizeof v);
}

std::string random_binary_record(std::mt19937_64& rng, const Schema& s) {
  static const double doubles[] = {std::nan(""), -std::nan(""), 0.0, -0.0, INFINITY, -INFINITY, 5e-324, -5e-324, 0.1,
                                   std::nextafter(0.1, 1.0), std::nextafter(0.1, 0.0), 0.5, -2.5, 1e300, 4.9};
  static const float floats[] = {std::nanf(""), 0.0f, -0.0f, INFINITY, 0.1f, std::nextafter(0.1f, 1.0f), 1e-45f, 1.5f};
  static const std::int64_t ints[] = {0, 6, 7, -1, std::numeric_limits<std::int64_t>::min(),
                                      std::numeric_limits<std::int64_t>::max(), 1000};
  std::string rec(s.record_size, '\0');
  put<std::uint32_t>(rec, s.fields[0].offset, static_cast<std::uint32_t>(rng() % 20 == 0 ? 0xffffffffu : rng() % 50));
  put<std::int64_t>(rec, s.fields[1].offset, rng() % 3 ? ints[rng() % 7] : static_cast<std::int64_t>(rng()));
  put<double>(rec, s.fields[2].offset, rng() % 3 ? doubles[rng() % 15] : std::bit_cast<double>(rng()));
  put<float>(rec, s.fields[3].offset, floats[rng() % 8]);
  put<std::int8_t>(rec, s.fields[4].offset, static_cast<std::int8_t>(rng()));
  put<std::uint16_t>(rec, s.fields[5].offset, static_cast<std::uint16_t>(rng()));
  static const char* tags[] = {"", "ab", "abcdef", "b\0c", "zz9", "\xff"};
  const char* t = tags[rng() % 6];
  std::memcpy(rec.data() + s.fields[6].offset, t, std::strlen(t));
  if (rng() % 5 == 0) rec[s.fields[6].offset + 2] = 'Q';  // text after a NUL is not part of it
  put<std::uint64_t>(rec, s.fields[7].offset, rng() % 2 ? ~std::uint64_t{0} : rng());
  return rec;
}

const std::vector<std::string> kBinaryExpressions = {
    "col(\"score\") > 0.1",
    "col(\"score\") <= 0.1 or col(\"score\") == 0.5",
    "col(\"score\") != 0",
    "col(\"score\") >= -0.000000000000000000000000000000000000000000000000000000000001",
    "col(\"ratio\") < 0.1 or col(\"ratio\") == 1.5",
    "col(\"price\") > 6.5 and col(\"price\") <= 9223372036854775807",
    "col(\"price\") < -9223372036854775807.5 or col(\"id\") in (1, 2.5, 4294967295)",
    "col(\"small\") >= -0.5 and col(\"port\") != 65535",
    "col(\"big\") > 18446744073709551614",
    "col(\"tag\") == \"ab\" or startswith(col(\"tag\"), \"abc\")",
    "contains(col(\"tag\"), \"b\") and not (col(\"tag\") is empty)",
    "col(\"tag\") > \"b\" or col(\"tag\") < 5",
};

TEST(BinaryWhere, BothBuildsAgreeWithTheInterpreter) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "loading BPF programs needs root");
  expr::CheckOptions o = binary_options();
  std::mt19937_64 rng(12);
  std::vector<std::string> records;
  for (int i = 0; i < 3000; ++i) records.push_back(random_binary_record(rng, o.schema));
  for (const std::string& text : kBinaryExpressions) {
    SCOPED_TRACE(text);
    WhereOptions w;
    w.format = RecordFormat::binary;
    w.schema = o.schema;
    Filter f = compile_where_filter(text, w, options({"xdp_record"}));
    EXPECT_EQ(f.framing(), Framing::fixed);
    EXPECT_EQ(f.record_size(), o.schema.record_size);
    XdpRecordProgram prog(f);
    expr::Expr e = expr::parse(text);
    expr::check(e, o);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string& r = records[i];
      bool want = expr::evaluate(e, r, o);
      kept += want;
      ASSERT_EQ(f.keep(r), want) << "native, record " << i;
      if (i < 500) {
        ASSERT_EQ(prog.keep(r), want) << "BPF, record " << i;
      }
    }
    EXPECT_GT(kept, 0u);  // each expression selects something of this data
  }
}

TEST(BinaryWhere, FloatEdgeCasesByTheRules) {
  expr::CheckOptions o = binary_options();
  auto keep = [&](const std::string& text, double score) {
    std::string rec(o.schema.record_size, '\0');
    put<double>(rec, o.schema.fields[2].offset, score);
    expr::Expr e = expr::parse(text);
    expr::check(e, o);
    WhereOptions w;
    w.format = RecordFormat::binary;
    w.schema = o.schema;
    bool native = compile_where_filter(text, w, options()).keep(rec);
    EXPECT_EQ(native, expr::evaluate(e, rec, o)) << text << " " << score;
    return native;
  };
  EXPECT_FALSE(keep("$3 != 1", std::nan("")));  // NaN: every comparison is false
  EXPECT_FALSE(keep("$3 == 1", std::nan("")));
  EXPECT_TRUE(keep("$3 == 0", -0.0));  // -0 == 0
  EXPECT_FALSE(keep("$3 < 0", -0.0));
  EXPECT_TRUE(keep("$3 > 0.1", std::nextafter(0.1, 1.0)));
  EXPECT_TRUE(keep("$3 > 0.1", 0.1));  // the double 0.1 is above the decimal 0.1
  EXPECT_FALSE(keep("$3 == 0.1", 0.1));
  EXPECT_FALSE(keep("$3 > 0.1", std::nextafter(0.1, 0.0)));
  EXPECT_TRUE(keep("$3 == 0.5", 0.5));
  EXPECT_TRUE(keep("$3 > 99999999999999999999999999999999", INFINITY));
  EXPECT_TRUE(keep("$3 < -99999999999999999999999999999999", -INFINITY));
  EXPECT_TRUE(keep("$3 > 0", 5e-324));
  EXPECT_TRUE(keep("$3 < 0.000000000000000000000000000000000000000000000000001", 5e-324));
}

}  // namespace
}  // namespace sluice
