// libFuzzer target for the --where front end: tokenizer, parser, type checker, required
// literal, C generator and interpreter. On any input: no crash, hang or leak (ASan, UBSan);
// an error is a ParseError whose caret lies within the expression; an accepted expression's
// canonical form parses back to itself and keeps the same records.
//
// Built with clang-19 -fsanitize=fuzzer,address,undefined (tests/CMakeLists.txt); ctest runs
// it for a few seconds (fuzz.expr_parser). Longer runs: docs/where.md, "Fuzzing".
#include <sluice/expr.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

const std::vector<std::string> kRecords = {
    "", "5", "alpha,5,-3.5,,x y", "a,b,c,d,e,f,g,h", " 7 ,0005.50,1e5,abc\r", ",,,,", "needle,hay needle,\xc3\xa9,\"q\"",
    "9223372036854775808,-0,.5,5.,+5",
    R"({"id":5,"key":"x\u00e9","value":{"a":[1,2],"b":null},"text":"needle"})", R"({"id":"5", "id": -0.5e3})",
};

void require(bool ok) {
  if (!ok) __builtin_trap();
}

// One pass of the checks with one set of options.
void check_with(std::string_view text, const sluice::expr::CheckOptions& options) {
  sluice::expr::Expr e;
  try {
    e = sluice::expr::parse(text);
    sluice::expr::check(e, options);
  } catch (const sluice::expr::ParseError& err) {
    require(err.offset() <= text.size());
    require(err.column() >= 1 && err.column() <= text.size() + 1);
    require(!err.message().empty());
    require(std::string_view(err.what()).find('^') != std::string_view::npos);
    return;
  }
  std::string canonical = sluice::expr::to_string(e);
  sluice::expr::Expr again = sluice::expr::parse(canonical);
  sluice::expr::check(again, options);
  require(sluice::expr::to_string(again) == canonical);
  bool exact = false;
  std::string literal = sluice::expr::required_literal(e, &exact);
  sluice::expr::GeneratedFilter g = sluice::expr::generate_c(e, options);
  require(!g.c_source.empty() && g.params.size() >= 148);
  for (const std::string& r : kRecords) {
    bool keep = sluice::expr::evaluate(e, r, ',');
    require(keep == sluice::expr::evaluate(again, r, ','));
    if (keep && !literal.empty()) require(r.find(literal) != std::string::npos);
    if (exact) require(keep == (r.find(literal) != std::string::npos));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 2048) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_with(text, {',', {"id", "key", "value", "price", "text"}, sluice::RecordFormat::lines});
  check_with(text, {',', {}, sluice::RecordFormat::jsonl});  // JSON paths
  return 0;
}
