// The --where language: parsing (precedence, errors with a caret and a hint), type checking
// and constant folding, the required literal, the documented value rules (interpreter), and
// the compiled filter (native build, and BPF build in xdp_record) against the interpreter.
#include "expr_support.hpp"
#include "test_support.hpp"

#include <sluice/bpf_program.hpp>
#include <sluice/compiled_filter.hpp>
#include <sluice/expr.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace sluice {
namespace {

using expr::Expr;

WhereOptions where_options(char delimiter) {
  WhereOptions w;
  w.delimiter = delimiter;
  return w;
}

Expr checked(const std::string& text, std::vector<std::string> header = {}, char delim = ',') {
  Expr e = expr::parse(text);
  expr::CheckOptions options;
  options.delimiter = delim;
  options.header = std::move(header);
  expr::check(e, options);
  return e;
}

std::string canonical(const std::string& text, std::vector<std::string> header = {}) {
  return expr::to_string(checked(text, std::move(header)));
}

TEST(ExprParse, PrecedenceAndCanonicalForm) {
  EXPECT_EQ(canonical("$1 == 1 or $2 == 2 and $3 == 3"), "(($1 == 1) or (($2 == 2) and ($3 == 3)))");
  EXPECT_EQ(canonical("($1 == 1 or $2 == 2) and $3 == 3"), "((($1 == 1) or ($2 == 2)) and ($3 == 3))");
  EXPECT_EQ(canonical("not $1 == 1 and $2 == 2"), "(not ($1 == 1) and ($2 == 2))");
  EXPECT_EQ(canonical("$1 > 5 && $2 < 3 || !($3 == \"x\")"), "((($1 > 5) and ($2 < 3)) or not ($3 == \"x\"))");
  EXPECT_EQ(canonical("5 < $2"), "($2 > 5)");  // literal first: mirrored
  EXPECT_EQ(canonical("-4.5 >= $2"), "($2 <= -4.5)");
  EXPECT_EQ(canonical("$2 <> 3"), "($2 != 3)");
  EXPECT_EQ(canonical("$1 in (\"a\", 2,)"), "($1 in (\"a\", 2))");
  EXPECT_EQ(canonical("$1 not in (\"a\")"), "not ($1 in (\"a\"))");
  EXPECT_EQ(canonical("$4 is not empty"), "not ($4 is empty)");
  EXPECT_EQ(canonical("contains($0, 'it\\'s')"), "contains($0, \"it's\")");
}

TEST(ExprParse, KeywordsAreCaseInsensitiveAndEscapesDecode) {
  EXPECT_EQ(canonical("$1 == 1 AND NOT $2 == 2 Or $3 IS EMPTY"), "((($1 == 1) and not ($2 == 2)) or ($3 is empty))");
  Expr e = checked(R"(contains($1, "a\tb\x2c\"\\"))");
  EXPECT_EQ(e.root.rhs.text, std::string("a\tb,\"\\"));
}

TEST(ExprCheck, ConstantsFold) {
  EXPECT_EQ(canonical("1 < 2"), "true");
  EXPECT_EQ(canonical("5.0 == 5"), "true");  // exact decimals
  EXPECT_EQ(canonical("\"abc\" < \"abd\" and $1 == 1"), "($1 == 1)");
  EXPECT_EQ(canonical("false or $1 == 1"), "($1 == 1)");
  EXPECT_EQ(canonical("true or $1 == 1"), "true");
  EXPECT_EQ(canonical("not not $1 == 1"), "($1 == 1)");
  EXPECT_EQ(canonical("contains(\"haystack\", \"st\")"), "true");
  EXPECT_EQ(canonical("3 in (1, 2, 3.0)"), "true");
}

TEST(ExprCheck, ColumnNamesFromTheHeader) {
  std::vector<std::string> header = expr::split_header("id, \"dep delay\",status\r", ',');
  ASSERT_EQ(header.size(), 3u);
  EXPECT_EQ(header[1], "dep delay");
  EXPECT_EQ(header[2], "status");
  EXPECT_EQ(canonical("col(\"status\") == \"ok\" and col(\"dep delay\") > 15", header),
            "(($3 == \"ok\") and ($2 > 15))");
  EXPECT_TRUE(expr::uses_column_names(expr::parse("col(\"x\") == 1")));
  EXPECT_FALSE(expr::uses_column_names(expr::parse("$1 == 1")));
}

// Bare names (status == "ok") name columns of a declared header (--header), and compile to
// exactly the filter of the same test by number; undeclared, a bare word is an error that
// points at it (most often a string that lost its quotes), never a header read for it.
TEST(ExprCheck, BareNamesNeedADeclaredHeader) {
  std::vector<std::string> header = {"id", "status", "dep_delay"};
  expr::CheckOptions declared;
  declared.header = header;
  declared.bare_names = true;
  expr::Expr e = expr::parse("status == \"ok\" and dep_delay > 15 or id < status");
  expr::check(e, declared);
  EXPECT_EQ(expr::to_string(e), "((($2 == \"ok\") and ($3 > 15)) or ($1 < $2))");
  EXPECT_FALSE(expr::uses_column_names(expr::parse("status == 1")));  // the header is declared, not looked for
  for (bool bare : {false, true}) {
    expr::CheckOptions o;
    o.header = bare ? std::vector<std::string>{} : header;  // read for col(), or declared but empty
    o.bare_names = bare;
    expr::Expr x = expr::parse("$1 == 1 and status == 2");
    try {
      expr::check(x, o);
      FAIL() << "a bare word was accepted";
    } catch (const expr::ParseError& err) {
      EXPECT_EQ(err.column(), 13u);
      EXPECT_NE(err.message().find("unknown word 'status'"), std::string::npos) << err.what();
      EXPECT_NE(err.hint().find("quotes"), std::string::npos) << err.what();
    }
  }
  expr::Expr missing = expr::parse("Status == 1");
  try {
    expr::check(missing, declared);
    FAIL() << "accepted";
  } catch (const expr::ParseError& err) {
    EXPECT_NE(err.message().find("no column named \"Status\""), std::string::npos);
    EXPECT_NE(err.hint().find("did you mean status?"), std::string::npos) << err.hint();
  }
  WhereOptions w;
  w.header = header;
  w.bare_names = true;
  EXPECT_EQ(compile_where_filter("dep_delay > 15", w, test::compile_options()).compiled()->directory(),
            compile_where_filter("$3 > 15", w, test::compile_options()).compiled()->directory());
}

struct BadCase {
  std::string text;
  std::string message;  // substring of the first line
  std::size_t column;   // 1-based, where the caret points
  std::string hint;     // substring of the hint
};

TEST(ExprErrors, CaretAtTheColumnAndAHint) {
  const std::vector<BadCase> cases = {
      {"$3 > ", "expected a value", 6, "a value is"},
      {"$3 = 5", "'=' is not a comparison", 4, "use =="},
      {"$3 > 5 and", "expected a value", 11, ""},
      {"($3 > 5", "missing ')'", 8, "column 1"},
      {"$3 > 5)", "unbalanced ')'", 7, ""},
      {"$ > 5", "'$' must be followed by a field number", 1, "numbered from 1"},
      {"$3 > 1e5", "exponents are not supported", 7, "1000"},
      {"$3 > 0x10", "unexpected character in a number", 7, "hexadecimal"},
      {"$3 == \"abc", "unterminated string", 7, "close the string"},
      {"$3 == abc", "unknown word 'abc'", 7, "quotes"},
      {"contians($1, \"a\")", "unknown word 'contians'", 1, "did you mean 'contains'"},
      {"$3 > 5 $4 < 2", "after a complete condition", 8, "'and' or 'or'"},
      {"1 < $3 < 5", "comparisons cannot be chained", 8, "1 < $3 and $3 < 5"},
      {"$3", "incomplete condition", 3, "compare it"},
      {"", "empty expression", 1, "e.g."},
      {"$3 ~ \"x\"", "unexpected '~'", 4, "regular expressions"},
      {"contains($1, 5)", "is a string", 14, "quote it"},
      {"contains($1, $2)", "must be a string literal", 14, "contains($2, \"text\")"},
      {"foo($1) == 1", "unknown function 'foo'", 1, "contains, startswith, endswith and col"},
      {"5 == \"5\"", "cannot compare a number with a string", 6, "quote"},
      {"col(\"nope\") == 1", "no column named \"nope\"", 5, "the header has"},
      {"col(\"Status\") == 1", "no column named", 5, "did you mean col(\"status\")"},
      {"col(3) == 1", "col() takes a column name in quotes", 5, "$3"},
      {"$3 is full", "expected 'empty'", 7, "is empty"},
      {"$99999 == 1", "field number too large", 1, "1..65535"},
      {"$3 > - 5", "no space allowed", 6, "-4.5"},
      {"$2 == \"a\" & $3 == 1", "'&' is not an operator", 11, "and"},
      {"caf\xc3\xa9 == 1", "unexpected '\xc3\xa9'", 4, "in quotes"},
      {"\"\xc3\xa9\" == $1 and $2 @ 1", "unexpected '@'", 18, ""},  // column counts characters, not bytes
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.text);
    try {
      checked(c.text, {"id", "status"});
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const expr::ParseError& e) {
      EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
      EXPECT_EQ(e.column(), c.column) << e.what();
      EXPECT_NE(e.hint().find(c.hint), std::string::npos) << e.what();
      // The message shows the expression and a caret under the column.
      std::string what = e.what();
      std::size_t caret_line = what.find("\n  ", what.find("\n  ") + 1);
      ASSERT_NE(caret_line, std::string::npos) << what;
      std::size_t caret = what.find('^', caret_line);
      ASSERT_NE(caret, std::string::npos) << what;
      EXPECT_EQ(caret - caret_line - 3, c.column - 1) << what;
    }
  }
}

// Found by the fuzzer (tests/fuzz): a NUL byte in the expression ended what() before the caret.
TEST(ExprErrors, ControlBytesAreShownWithoutBreakingTheMessage) {
  std::string text = std::string("f\0\0alse", 7);
  try {
    expr::parse(text);
    ADD_FAILURE() << "accepted";
  } catch (const expr::ParseError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("f??alse"), std::string::npos) << what;
    EXPECT_NE(what.find('^'), std::string::npos) << what;
    EXPECT_EQ(what.find('\0'), std::string::npos);
    EXPECT_EQ(e.column(), 2u);
  }
  // Also found by the fuzzer: a UTF-8 lead byte followed by a NUL was echoed with the NUL.
  try {
    expr::parse(std::string("\xdc\0x", 3));
    ADD_FAILURE() << "accepted";
  } catch (const expr::ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected byte 0xdc"), std::string::npos) << e.what();
  }
  try {
    expr::parse(std::string("$1 > \"\\\0\"", 8));  // a NUL after a backslash in a string
    ADD_FAILURE() << "accepted";
  } catch (const expr::ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("^"), std::string::npos) << e.what();
  }
  try {
    expr::parse("$1 == 1 and\n$2 @ 2");
    ADD_FAILURE() << "accepted";
  } catch (const expr::ParseError& e) {
    EXPECT_NE(std::string(e.what()).find("  $1 == 1 and $2 @ 2\n                 ^"), std::string::npos) << e.what();
  }
}

TEST(ExprErrors, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  EXPECT_THROW(expr::parse(deep + "$1 == 1"), expr::ParseError);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_THROW(expr::parse(nots + "$1 == 1"), expr::ParseError);
}

TEST(ExprLiteral, RequiredLiteralIsInferredWherePossible) {
  auto lit = [](const std::string& text, bool* exact = nullptr) { return expr::required_literal(checked(text), exact); };
  bool exact = false;
  EXPECT_EQ(lit("contains($2, \"x\") and $3 > 5"), "x");
  EXPECT_EQ(lit("contains($0, \"needle\")", &exact), "needle");
  EXPECT_TRUE(exact);
  EXPECT_EQ(lit("contains($1, \"needle\")", &exact), "needle");
  EXPECT_FALSE(exact);
  EXPECT_EQ(lit("$1 == \"abc\" and contains($2, \"abcdef\")"), "abcdef");  // the longest
  EXPECT_EQ(lit("startswith($1, \"ab\") or endswith($2, \"ab\")"), "ab");  // common to every branch
  EXPECT_EQ(lit("contains($1, \"a\") or contains($1, \"b\")"), "");
  EXPECT_EQ(lit("not contains($1, \"a\")"), "");
  EXPECT_EQ(lit("$1 != \"a\""), "");
  EXPECT_EQ(lit("$1 == 5"), "");  // 5.0 and 05 are equal too
  EXPECT_EQ(lit("$1 in (\"a\", \"b\")"), "");
  EXPECT_EQ(lit("contains($1, \"\")"), "");
  EXPECT_EQ(lit("contains($1, \"a\\nb\")"), "");  // records never hold a newline
}

// The documented value rules, on the interpreter.
TEST(ExprSemantics, NumbersFieldsAndStrings) {
  auto keep = [](const std::string& text, const std::string& record) {
    return expr::evaluate(checked(text), record, ',');
  };
  // Numbers: blanks around, sign, one '.', exact decimals; anything else is not a number.
  EXPECT_TRUE(keep("$1 == 5", " 5 "));
  EXPECT_TRUE(keep("$1 == 5", "+5"));
  EXPECT_TRUE(keep("$1 == 5", "5."));
  EXPECT_TRUE(keep("$1 == 5", "0005.000"));
  EXPECT_TRUE(keep("$1 == 0.5", ".5"));
  EXPECT_TRUE(keep("$1 == 0", "-0"));
  EXPECT_TRUE(keep("$2 == 7", "a,7\r"));  // a CR ends the last field
  EXPECT_TRUE(keep("$1 > 0.1", "0.10000000000000000001"));
  EXPECT_FALSE(keep("$1 > 0.1", "0.1"));
  EXPECT_TRUE(keep("$1 > 9223372036854775807", "9223372036854775808"));  // beyond 64 bits: still exact
  for (const char* nan : {"1e5", "abc", "", "0x10", "1.2.3", "++1", ".", "-", "5 5"}) {
    SCOPED_TRACE(nan);
    for (const char* op : {"==", "!=", "<", "<=", ">", ">="})
      EXPECT_FALSE(keep(std::string("$1 ") + op + " 5", nan));  // every comparison is false
    EXPECT_TRUE(keep("not ($1 == 5)", nan));                  // but not (...) is true
  }
  EXPECT_FALSE(keep("$1 == 5", std::string(65, '5')));  // longer than 64 bytes: not a number
  EXPECT_FALSE(keep("$3 > 0", "1,2"));                  // missing field
  // Strings: bytewise; a missing field is the empty string; the field is not trimmed.
  EXPECT_TRUE(keep("$1 < \"b\"", "a"));
  EXPECT_TRUE(keep("$1 > \"Z\"", "a"));
  EXPECT_TRUE(keep("$1 > \"a\"", "\xc3\xa9"));  // unsigned bytes
  EXPECT_TRUE(keep("$3 == \"\"", "1,2"));
  EXPECT_TRUE(keep("$3 < \"a\"", "1,2"));
  EXPECT_FALSE(keep("$1 == \"a\"", " a"));
  EXPECT_TRUE(keep("$2 == \"b\\r\"", "a,b\r"));
  EXPECT_TRUE(keep("$1 == \"5\"", "5"));
  EXPECT_FALSE(keep("$1 == \"5\"", "5.0"));
  // Functions; is empty is true for missing and empty fields.
  EXPECT_TRUE(keep("contains($0, \"a,b\")", "a,b"));
  EXPECT_TRUE(keep("startswith($2, \"\")", "x"));
  EXPECT_TRUE(keep("endswith($1, \"ab\")", "xab,c"));
  EXPECT_FALSE(keep("endswith($1, \"ab\")", "xabc"));
  EXPECT_TRUE(keep("$2 is empty", "x"));
  EXPECT_TRUE(keep("$2 is empty", "x,"));
  EXPECT_FALSE(keep("$2 is empty", "x, "));
  EXPECT_TRUE(keep("$0 is empty", ""));
  EXPECT_TRUE(keep("$1 in (\"a\", 5)", "5.0"));
  EXPECT_FALSE(keep("$1 in (\"a\", 5)", "b"));
}

using test::compile_options;

const std::vector<std::string> kExpressions = {
    "$3 > 100",
    "$1 == \"alpha\" or $2 < -5",
    "contains($0, \"needle\") and not ($2 is empty)",
    "startswith($1, \"al\") or endswith($2, \"pha\")",
    "$4 in (\"beta\", 5, 10, 99.99)",
    "not ($2 >= 0.5) and $5 != \"x\"",
    "$2 <= 9223372036854775807 and $2 >= -9223372036854775808",
    "$7 is empty or $6 == \"Z\"",
    "$0 > \"m\"",
    "contains($3, \"a b\") or $3 == \"\"",
    "true",
    "1 > 2",
    "$1 < $2",
    "$2 == $3 or $3 >= $1",
    "$4 != $1 and not ($5 <= $2)",
    "$0 > $1",
    "$7 == $8",
};

TEST(ExprCompiled, NativeBuildAgreesWithTheInterpreter) {
  for (char delim : {',', '\t'}) {
    std::mt19937_64 rng(delim);
    std::vector<std::string> records;
    for (int i = 0; i < 3000; ++i) records.push_back(test::random_record(rng, delim));
    for (const std::string& text : kExpressions) {
      SCOPED_TRACE(text);
      Filter f = compile_where_filter(text, where_options(delim), compile_options());
      Expr e = checked(text, {}, delim);
      for (const std::string& r : records) ASSERT_EQ(f.keep(r), expr::evaluate(e, r, delim)) << "record: " << r;
      // The required literal holds for every kept record.
      if (!f.required_literal().empty()) {
        for (const std::string& r : records) {
          if (f.keep(r)) {
            ASSERT_NE(r.find(f.required_literal()), std::string::npos) << r;
          }
        }
      }
    }
  }
}

TEST(ExprCompiled, CacheHitsCompileNothing) {
  std::string text = "$2 > 3 and contains($1, \"cache\")";
  Filter a = compile_where_filter(text, {}, compile_options());
  std::string dir = a.compiled()->directory();
  auto stamp = std::filesystem::last_write_time(dir + "/native.so");
  Filter b = compile_where_filter(text, {}, compile_options());
  EXPECT_EQ(b.compiled()->directory(), dir);
  EXPECT_EQ(std::filesystem::last_write_time(dir + "/native.so"), stamp);
  // Another delimiter is another filter.
  Filter c = compile_where_filter(text, where_options('\t'), compile_options());
  EXPECT_NE(c.compiled()->directory(), dir);
}

TEST(ExprCompiled, BpfBuildAgreesWithTheInterpreter) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "loading BPF programs needs root");
  std::mt19937_64 rng(7);
  std::vector<std::string> records;
  for (int i = 0; i < 400; ++i) records.push_back(test::random_record(rng, ','));
  records.push_back(std::string(70000, 'a'));  // longer than a window: the host aborts, not judged
  for (const std::string& text : kExpressions) {
    SCOPED_TRACE(text);
    Filter f = compile_where_filter(text, {}, compile_options({"xdp_record"}));
    XdpRecordProgram prog(f);
    Expr e = checked(text);
    for (const std::string& r : records) {
      if (r.size() > XdpRecordProgram::max_record_size) continue;
      ASSERT_EQ(prog.keep(r), expr::evaluate(e, r, ',')) << "record: " << r;
    }
  }
}

}  // namespace
}  // namespace sluice
