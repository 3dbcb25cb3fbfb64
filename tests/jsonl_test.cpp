// JSON-lines field access in --where (docs/where.md, "JSON lines"): paths in the language and
// their errors, the user-space reader (sluice/json_value.hpp), the filters' JSON primitives
// (filters/include/sluice/json.h) natively and as BPF against the reader and the interpreter,
// and every backend against a reference written with python3's json module.
#include "expr_support.hpp"
#include "json_support.hpp"
#include "test_support.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/compiled_filter.hpp>
#include <sluice/expr.hpp>
#include <sluice/json_value.hpp>
#include <sluice/scanner.hpp>

extern "C" {
#include <sluice/filter.h>
#include <sluice/json.h>
}

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <sstream>

namespace sluice {
namespace {

using Kind = json::Value::Kind;
using test::JsonMaker;

expr::Expr checked(const std::string& text, RecordFormat format = RecordFormat::jsonl) {
  expr::Expr e = expr::parse(text);
  expr::CheckOptions options;
  options.format = format;
  expr::check(e, options);
  return e;
}

TEST(JsonPaths, ParseAndCanonicalForm) {
  EXPECT_EQ(expr::to_string(checked(".status == 200")), "(.status == 200)");
  EXPECT_EQ(expr::to_string(checked("5 < .user.id and .a_1.B2 is not empty")),
            "((.user.id > 5) and not (.a_1.B2 is empty))");
  EXPECT_EQ(expr::to_string(checked(".\"content-type\" == 'x' or .'k y'.\"\" in (1)")),
            "((.\"content-type\" == \"x\") or (.\"k y\".\"\" in (1)))");
  EXPECT_EQ(expr::to_string(checked("contains(.and, \"x\") and $0 is not empty")),
            "(contains(.and, \"x\") and not ($0 is empty))");  // keywords are member names after '.'
  EXPECT_EQ(expr::to_string(checked(".\"1a\" == 1")), "(.\"1a\" == 1)");
  EXPECT_EQ(expr::parse_json_path(".user.\"first name\""), (std::vector<std::string>{"user", "first name"}));
  EXPECT_EQ(expr::to_string(checked(".5 < .x")), "(.x > .5)");  // .5 is still a number
}

struct BadCase {
  std::string text;
  RecordFormat format;
  std::string message;
  std::size_t column;
};

TEST(JsonPaths, ErrorsPointAtTheOperand) {
  const std::vector<BadCase> cases = {
      {".status == 1", RecordFormat::lines, "a JSON path needs --format jsonl", 1},
      {"$2 == 1", RecordFormat::jsonl, "with --format jsonl, fields are JSON paths", 1},
      {"col(\"x\") == 1", RecordFormat::jsonl, "with --format jsonl, fields are JSON paths", 5},
      {".a. == 1", RecordFormat::jsonl, "expected a member name after '.'", 4},
      {".a.[0] == 1", RecordFormat::jsonl, "expected a member name after '.'", 4},
      {".a[0] == 1", RecordFormat::jsonl, "unexpected character in a JSON path", 3},
      {". == 1", RecordFormat::jsonl, "unexpected '.'", 1},
      {".\"abc == 1", RecordFormat::jsonl, "unterminated string", 2},
      {"contains(.a, \"\\xff\")", RecordFormat::jsonl, "must be valid UTF-8", 14},
      {".a == .b", RecordFormat::jsonl, "comparing two JSON values", 7},
      {".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q == 1", RecordFormat::jsonl, "deeper than 16", 34},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      checked(c.text, c.format);
      ADD_FAILURE() << "accepted";
    } catch (const expr::ParseError& e) {
      EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
      EXPECT_EQ(e.column(), c.column) << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
  }
}

TEST(JsonPaths, NoRequiredLiteralFromAPathEscapesCanSpellAnything) {
  EXPECT_EQ(expr::required_literal(checked(".name == \"abc\"")), "");
  EXPECT_EQ(expr::required_literal(checked("contains(.name, \"abc\")")), "");
  EXPECT_EQ(expr::required_literal(checked("contains($0, \"zz\") and .a > 1")), "zz");
  // the interpreter agrees: "abc" spelled with an escape is not in the record's bytes
  EXPECT_TRUE(expr::evaluate(checked(".name == \"abc\""), R"({"name":"a\u0062c"})", ','));
}

TEST(JsonValue, TheLibraryReaderFollowsTheRules) {
  auto find = [](std::string_view record, std::vector<std::string> path) { return json::find(record, path); };
  EXPECT_EQ(find(R"( {"a":1,"a": [2, {"x":3}] } )", {"a"}).text, R"([2, {"x":3}])");  // the last one wins
  EXPECT_EQ(find(R"({"a":{"b":{"c":"d"}}})", {"a", "b", "c"}).text, R"("d")");
  EXPECT_EQ(find(R"({"\u0061":true})", {"a"}).kind, Kind::boolean);
  EXPECT_EQ(find(R"({"a":null})", {"a"}).kind, Kind::null);
  EXPECT_EQ(find(R"({"a":"x"})", {"a", "b"}).kind, Kind::missing);
  EXPECT_EQ(find(R"({"a":1})", {"b"}).kind, Kind::missing);
  EXPECT_EQ(find("{\"a\":-0.5e+3}\r", {"a"}).kind, Kind::number);
  for (std::string bad : {R"({"a":1)", R"([1])", R"({"a":01})", R"({"a":"\ud800"})", R"({"a":"\udc00\ud800"})",
                          R"({"a":NaN})", R"({"a":1,})", R"({'a':1})", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}",
                          "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "\xef\xbb\xbf{}", R"({"a":1} x)", "",
                          R"({"a":tru})", R"({"a":1.})", R"({"a":-})", R"({"a":"\x41"})"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(find(bad, {"a"}).kind, Kind::invalid);
  }
  std::string deep = "{\"a\":" + std::string(63, '[') + "1" + std::string(63, ']') + "}";
  EXPECT_EQ(find(deep, {"a"}).kind, Kind::array);  // 64 levels with the object
  deep = "{\"a\":" + std::string(64, '[') + "1" + std::string(64, ']') + "}";
  EXPECT_EQ(find(deep, {"a"}).kind, Kind::invalid);
  EXPECT_EQ(json::decode_string(R"("a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00")"),
            "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(JsonSemantics, TheDocumentedValueRules) {
  auto keep = [](const std::string& text, const std::string& record) {
    return expr::evaluate(checked(text), record, ',');
  };
  EXPECT_TRUE(keep(".a == 5", R"({"a":5.0})"));
  EXPECT_TRUE(keep(".a == 0", R"({"a":-0})"));
  EXPECT_FALSE(keep(".a == 1000", R"({"a":1e3})"));  // an exponent: not a number
  EXPECT_TRUE(keep(".a == \"1e3\"", R"({"a":1e3})"));  // but its text is
  EXPECT_FALSE(keep(".a == 5", R"({"a":"5"})"));       // a string is not a number
  EXPECT_TRUE(keep(".a == \"5\"", R"({"a":"5"})"));
  EXPECT_TRUE(keep(".a == \"true\"", R"({"a":true})"));
  EXPECT_FALSE(keep(".a == \"null\"", R"({"a":null})"));  // null is like a missing member
  EXPECT_FALSE(keep(".a != \"x\"", R"({"b":1})"));        // every comparison false when missing
  EXPECT_TRUE(keep(".a is empty", R"({"b":1})"));
  EXPECT_TRUE(keep(".a is empty", R"({"a":null})"));
  EXPECT_TRUE(keep(".a is empty", R"({"a":""})"));
  EXPECT_FALSE(keep(".a is empty", R"({"a":{}})"));
  EXPECT_FALSE(keep(".a is empty", R"({"a":)"));  // an invalid record: every test false
  EXPECT_TRUE(keep("not (.a is empty)", R"({"a":)"));
  EXPECT_TRUE(keep("contains($0, \"{\")", R"({"a":)"));  // $0 is the bytes, valid or not
  EXPECT_FALSE(keep(".a == \"{}\"", R"({"a":{}})"));   // objects and arrays are never text
  EXPECT_TRUE(keep(".a == \"\xf0\x9f\x98\x80\"", R"({"a":"\ud83d\ude00"})"));
  EXPECT_TRUE(keep("endswith(.a, \"\xc3\xa9\")", R"({"a":"caf\u00e9"})"));
  EXPECT_TRUE(keep(".a.b in (2, \"x\")", R"({"a":{"b":"x"}})"));
}

sluice_needle needle_of(const std::string& s) {
  sluice_needle n{};
  n.len = static_cast<sluice_u32>(s.size());
  std::memcpy(n.bytes, s.data(), s.size());
  return n;
}

TEST(JsonPrimitives, NativeMemberAgreesWithTheLibraryReader) {
  JsonMaker maker(42);
  std::size_t found = 0, invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string r = maker.record();
    for (const std::string& key : JsonMaker::keys()) {
      sluice_needle k = needle_of(key);
      sluice_u64 v = sluice_json_member(reinterpret_cast<const sluice_u8*>(r.data()), 0,
                                        static_cast<sluice_u32>(r.size()), &k);
      json::Value want = json::find(r, std::vector<std::string>{key});
      SCOPED_TRACE("record '" + r + "' key '" + key + "'");
      if (want.kind == Kind::invalid) {
        ASSERT_EQ(v, SLUICE_JSON_INVALID);
        ++invalid;
      } else if (want.kind == Kind::missing) {
        ASSERT_EQ(v, SLUICE_NO_FIELD);
      } else {
        ASSERT_NE(v, SLUICE_NO_FIELD);
        ASSERT_NE(v, SLUICE_JSON_INVALID);
        std::size_t s = v >> 32, e = static_cast<sluice_u32>(v);
        ASSERT_EQ(r.substr(s, e - s), want.text);
        ++found;
        if (want.kind == Kind::string) {  // the decoded text compares equal to itself
          std::string text = json::decode_string(want.text);
          if (text.size() <= SLUICE_NEEDLE_MAX) {
            sluice_needle t = needle_of(text);
            ASSERT_EQ(sluice_json_cmp_string(reinterpret_cast<const sluice_u8*>(r.data()), v, &t), 0);
          }
        }
      }
    }
  }
  EXPECT_GT(found, 10000u);
  EXPECT_GT(invalid, 3000u);
}

using test::compile_options;

WhereOptions jsonl_where() {
  WhereOptions w;
  w.format = RecordFormat::jsonl;
  return w;
}

const std::vector<std::string> kExpressions = {
    ".a == \"needle\" or .name < \"b\"",
    ".a >= 5 and .b != -12.5",
    ".name == \"\xc3\xa9\xf0\x9f\x98\x80\" or .\"\xc3\xa9\" in (\"a\", 0, \"true\")",
    "contains(.a, \"\xc3\xa9\") or contains(.name, \"edl\")",
    "endswith(.b, \"\xe2\x82\xac\") or startswith(.x, \"a\\\"\")",
    ".\"a b\" is empty and .a is not empty",
    ".a.b == 5 or .a.name.x is empty or .b.\"\" > 0",
    "not (.a == 1) and contains($0, \"a\")",
    "contains(.a, \"\") or endswith(.name, \"\\n\")",
    ".x < \"\\x00\" or .x > \"abcdefghijklmnopqrstuvwxyz\"",
};

TEST(JsonCompiled, NativeBuildAgreesWithTheInterpreter) {
  JsonMaker maker(7);
  std::vector<std::string> records;
  for (int i = 0; i < 4000; ++i) records.push_back(maker.record());
  for (const std::string& text : kExpressions) {
    SCOPED_TRACE(text);
    Filter f = compile_where_filter(text, jsonl_where(), compile_options());
    expr::Expr e = checked(text);
    std::size_t kept = 0;
    for (const std::string& r : records) {
      bool want = expr::evaluate(e, r, ',');
      ASSERT_EQ(f.keep(r), want) << "record: " << r;
      kept += want;
    }
    EXPECT_GT(kept, 0u);
    EXPECT_LT(kept, records.size());
  }
}

// The BPF build (xdp_record, BPF_PROG_TEST_RUN) decides like the interpreter, hence like the
// native build, on thousands of random records.
TEST(JsonCompiled, BpfBuildAgreesWithTheInterpreter) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "loading BPF programs needs root");
  JsonMaker maker(11);
  std::vector<std::string> records;
  for (int i = 0; i < 2000; ++i) records.push_back(maker.record());
  records.push_back("{\"a\":\"" + std::string(60000, 'x') + "\\u00e9\",\"b\":5}");  // one long record
  for (const std::string& text : kExpressions) {
    SCOPED_TRACE(text);
    Filter f = compile_where_filter(text, jsonl_where(), compile_options({"xdp_record"}));
    XdpRecordProgram prog(f);
    expr::Expr e = checked(text);
    for (const std::string& r : records) ASSERT_EQ(prog.keep(r), expr::evaluate(e, r, ',')) << "record: " << r;
  }
}

// ---- every backend against python3's json module ----------------------------------------

std::string run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << command;
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// The first record in one list and not the other (a readable failure on large outputs).
std::string first_difference(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  if (i < want.size()) return "missing record: " + want[i].substr(0, 300);
  if (i < got.size()) return "extra record: " + got[i].substr(0, 300);
  return "none";
}

TEST(JsonDifferential, EveryBackendKeepsWhatPythonsJsonModuleKeeps) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "the sockmap backend needs root");
  test::TempDir dir("jsonl-diff");
  std::string script = std::string("python3 ") + SLUICE_TESTS_DIR + "/jsonl_reference.py";
  std::string path = (dir.path() / "data.jsonl").string();
  run(script + " generate 20261129 " + path);
  std::vector<std::string> expressions = lines_of(run(script + " expressions"));
  std::vector<std::string> kept_lines = lines_of(run(script + " evaluate " + path));
  ASSERT_GE(expressions.size(), 30u);
  ASSERT_EQ(kept_lines.size(), expressions.size());
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> records;
  for (std::size_t start = 0; start <= data.size();) {
    std::size_t nl = data.find('\n', start);
    if (nl == std::string::npos) nl = data.size();
    records.push_back(data.substr(start, nl - start));
    start = nl + 1;
  }
  ASSERT_GT(data.size(), 300u * 1024);  // several kernel windows

  auto compile = [&](std::size_t i) {
    return compile_where_filter(expressions[i], jsonl_where(), compile_options({"sk_msg_filter"}));
  };
  std::deque<std::future<Filter>> ahead;
  for (std::size_t i = 0; i < 2 && i < expressions.size(); ++i) ahead.push_back(std::async(std::launch::async, compile, i));
  std::size_t kept_total = 0;
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    SCOPED_TRACE("expression " + std::to_string(i) + ": " + expressions[i]);
    Filter filter = ahead.front().get();
    ahead.pop_front();
    if (i + 2 < expressions.size()) ahead.push_back(std::async(std::launch::async, compile, i + 2));
    std::vector<std::string> want;
    std::istringstream numbers(kept_lines[i]);
    for (std::size_t n; numbers >> n;) want.push_back(records.at(n));
    kept_total += want.size();
    for (BackendKind backend : {BackendKind::read, BackendKind::uring, BackendKind::mmap, BackendKind::sockmap}) {
      std::vector<std::string> got = test::scan_records(path, filter, backend);
      ASSERT_TRUE(got == want) << "backend " << static_cast<int>(backend) << ": " << got.size() << " records, "
                               << want.size() << " expected; " << first_difference(got, want);
    }
  }
  EXPECT_GT(kept_total, records.size());  // not vacuous
}

// Edge files: empty, blank lines only, CRLF line ends, no trailing newline, a record of exactly
// one kernel window and one just over it, records straddling window edges.
TEST(JsonDifferential, EdgeFilesInEveryBackend) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "the sockmap backend needs root");
  test::TempDir dir("jsonl-edges");
  std::string window_record = "{\"a\":\"" + std::string(65536 - 9, 'w') + "\"}";  // one 64 KiB window
  std::string crlf;
  JsonMaker maker(3);
  for (int i = 0; i < 3000; ++i) crlf += maker.record() + (i % 2 ? "\r\n" : "\n");
  const std::vector<std::pair<std::string, std::string>> files = {
      {"empty", ""},
      {"blank_lines", "\n\n\n"},
      {"crlf", crlf},
      {"no_trailing_newline", "{\"a\":5}\n{\"a\":\"needle\"}"},
      {"window_sized", window_record + "\n{\"a\":5}\n" + window_record.substr(0, 65000) + "x\"}\n" + window_record + "x"},
  };
  const std::vector<std::string> expressions = {".a == \"needle\" or .a > 1", ".a is empty", "not (.b is empty)"};
  for (const std::string& text : expressions) {
    Filter filter = compile_where_filter(text, jsonl_where(), compile_options({"sk_msg_filter"}));
    expr::Expr e = checked(text);
    for (const auto& [name, data] : files) {
      SCOPED_TRACE(text + " on " + name);
      std::string path = dir.write(name, data);
      std::vector<std::string> want;
      std::size_t start = 0;
      while (start < data.size()) {
        std::size_t nl = data.find('\n', start);
        if (nl == std::string::npos) nl = data.size();
        std::string r = data.substr(start, nl - start);
        if (expr::evaluate(e, r, ',')) want.push_back(r);
        start = nl + 1;
      }
      for (BackendKind backend : {BackendKind::read, BackendKind::uring, BackendKind::mmap, BackendKind::sockmap}) {
        std::vector<std::string> got = test::scan_records(path, filter, backend);
        ASSERT_TRUE(got == want) << "backend " << static_cast<int>(backend) << ": " << first_difference(got, want);
      }
    }
  }
}

}  // namespace
}  // namespace sluice
