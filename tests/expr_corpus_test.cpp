// Every expression of a corpus (tests/expr_corpus.txt: hand-written edge cases, plus random
// expressions from the grammar, at least 200 in all) keeps the same records in the read
// backend (native build), the sockmap backend (BPF build in sk_msg_filter) and the reference
// interpreter, on a file of random records made to exercise them (numbers in every form,
// missing and empty fields, CRs, long fields), larger than one kernel window.
#include "expr_support.hpp"
#include "json_support.hpp"
#include "test_support.hpp"

#include <sluice/compiled_filter.hpp>
#include <sluice/expr.hpp>
#include <sluice/scanner.hpp>

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

namespace sluice {
namespace {

// The hand-written cases of `file`, then random expressions from `random` up to `count`.
template <typename Random>
std::vector<std::string> corpus(const std::string& file, std::size_t count, Random random) {
  std::vector<std::string> list;
  std::set<std::string> seen;
  std::ifstream in(std::string(SLUICE_TESTS_DIR) + "/" + file);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#' && seen.insert(line).second) list.push_back(line);
  std::mt19937_64 rng(20240611);
  while (list.size() < count) {
    std::string e = random(rng);
    if (seen.insert(e).second) list.push_back(e);
  }
  return list;
}

// Every expression keeps the same records in read, sockmap and the interpreter; returns how
// many records they kept in all.
std::size_t expect_backends_agree(const std::vector<std::string>& expressions, const std::vector<std::string>& records,
                                  const WhereOptions& where) {
  test::TempDir dir("expr-corpus");
  std::string data;
  for (const std::string& r : records) data += r + "\n";
  std::string path = dir.write("data", data);
  CompileOptions options = test::compile_options({"sk_msg_filter"});
  // Compile two ahead while this thread scans (a compile runs cc and clang; a cold cache
  // costs ~0.45 CPU-s per expression, a warm one nothing).
  auto compile = [&](std::size_t i) { return compile_where_filter(expressions[i], where, options); };
  constexpr std::size_t kAhead = 2;
  std::deque<std::future<Filter>> ahead;
  for (std::size_t i = 0; i < kAhead && i < expressions.size(); ++i)
    ahead.push_back(std::async(std::launch::async, compile, i));
  std::size_t kept_total = 0;
  for (std::size_t i = 0; i < expressions.size(); ++i) {
    const std::string& text = expressions[i];
    SCOPED_TRACE("expression " + std::to_string(i) + ": " + text);
    Filter filter = ahead.front().get();
    ahead.pop_front();
    if (i + kAhead < expressions.size()) ahead.push_back(std::async(std::launch::async, compile, i + kAhead));
    expr::Expr e = expr::parse(text);
    expr::check(e, {where.delimiter, where.header, where.format, where.schema, where.bare_names});
    std::vector<std::string> want;
    for (const std::string& r : records)
      if (expr::evaluate(e, r, where.delimiter)) want.push_back(r);
    std::vector<std::string> got_read = test::scan_records(path, filter, BackendKind::read);
    std::vector<std::string> got_sockmap = test::scan_records(path, filter, BackendKind::sockmap);
    EXPECT_EQ(got_read, want);
    EXPECT_EQ(got_sockmap, want);
    if (got_read != want || got_sockmap != want) break;
    kept_total += want.size();
  }
  return kept_total;
}

TEST(ExprCorpus, ReadSockmapAndInterpreterAgree) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "the sockmap backend needs root");
  std::mt19937_64 rng(99);
  std::vector<std::string> records;
  std::size_t size = 0;
  while (size < 100 * 1024) {  // two sk_msg windows
    records.push_back(test::random_record(rng, ','));
    size += records.back().size() + 1;
  }
  std::vector<std::string> expressions =
      corpus("expr_corpus.txt", 200, [](std::mt19937_64& r) { return test::random_expression(r); });
  ASSERT_GE(expressions.size(), 200u);
  // The corpus is not vacuous: many expressions keep something, many drop something.
  EXPECT_GT(expect_backends_agree(expressions, records, {}), records.size() * 10);
}

// JSON paths (--format jsonl): their own corpus, on random JSON-lines records (a quarter invalid).
TEST(ExprCorpus, JsonPathsReadSockmapAndInterpreterAgree) {
  SLUICE_REQUIRE_OR_SKIP(geteuid() == 0, "the sockmap backend needs root");
  test::JsonMaker maker(5);
  std::vector<std::string> records;
  std::size_t size = 0;
  while (size < 100 * 1024) {
    records.push_back(maker.record());
    size += records.back().size() + 1;
  }
  std::vector<std::string> expressions =
      corpus("expr_corpus_jsonl.txt", 40, [](std::mt19937_64& r) { return test::random_json_expression(r); });
  WhereOptions where;
  where.format = RecordFormat::jsonl;
  EXPECT_GT(expect_backends_agree(expressions, records, where), records.size() * 3);
}

}  // namespace
}  // namespace sluice
