// The `--where` expression language: a predicate over one delimited record, compiled to a
// filter of the sluice ABI (docs/where.md).
//
//   $3 > 100 and contains($5, "error") or col("status") in ("500", "503")
//
// parse() builds the syntax tree; check() resolves column names and types and folds
// constants; generate_c() writes the filter as C (filters/include/sluice/filter.h) with
// its parameter block; evaluate() is a reference interpreter with the same semantics, used
// by tests to check the compiler.
#pragma once

#include <sluice/error.hpp>
#include <sluice/format.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::expr {

// A syntax error or a type error, with where it is. what() is the full, multi-line message:
//   <message>
//     <expression>
//        ^
//     hint: <hint>
class ParseError : public UsageError {
 public:
  ParseError(std::string message, std::string expression, std::size_t offset, std::string hint);
  const std::string& message() const { return message_; }
  const std::string& expression() const { return expression_; }
  std::size_t offset() const { return offset_; }  // byte offset into expression()
  std::size_t column() const;                     // 1-based character column (UTF-8 aware)
  const std::string& hint() const { return hint_; }

 private:
  std::string message_;
  std::string expression_;
  std::size_t offset_;
  std::string hint_;
};

enum class Cmp { eq, ne, lt, le, gt, ge };  // same order as enum sluice_cmp_op

// A value: a field ($N; $0 is the whole record), a named column (col("x"), or a bare name
// `x` where names are declared; resolved by check()), a JSON path (.a.b, with --format
// jsonl), or a literal.
struct Operand {
  enum class Type { field, column, number, string, path } type = Type::field;
  std::uint32_t field = 0;  // field: 1-based column, 0 = whole record
  std::string text;         // column: the name; number: as written (sign included); string: bytes
  std::vector<std::string> path;  // path: the member names, outermost first
  bool bare = false;        // column: written as a bare name (x), not col("x")
  std::string bare_hint;    // bare: the hint if it names no column (a misspelt keyword, quotes)
  std::size_t pos = 0;      // byte offset in the expression
  std::size_t end = 0;
  bool is_literal() const { return type == Type::number || type == Type::string; }
};

struct Node {
  enum class Kind {
    constant,    // value
    logical_or,  // kids (2 or more)
    logical_and, // kids (2 or more)
    logical_not, // kids[0]
    compare,     // lhs op rhs
    contains,    // contains(lhs, rhs)
    starts_with,
    ends_with,
    in_list,     // lhs in (list...)
    is_empty,    // lhs is empty
  } kind = Kind::constant;
  bool value = false;
  Cmp op = Cmp::eq;
  Operand lhs, rhs;
  std::vector<Operand> list;
  std::vector<Node> kids;
  std::size_t pos = 0;  // byte offset of the node's first token
};

struct Expr {
  std::string text;  // the expression as given
  Node root;
};

// Throws ParseError.
Expr parse(std::string_view text);

// Parses --schema "u32 id, i64 price, f64 score, char[12] tag, pad[4]" (types u8..u64,
// i8..i64, f32, f64, char[N]; pad[N] is unnamed padding). Throws ParseError with a caret.
Schema parse_schema(std::string_view text);

struct CheckOptions {
  char delimiter = ',';
  // Column names from a header line (for col("name")); empty: col() is an error.
  std::vector<std::string> header;
  RecordFormat format = RecordFormat::lines;
  Schema schema;  // RecordFormat::binary: the fields ($N in schema order, col("name"))
  // Bare names (`status == 500`) name columns: set when the user declared the header line
  // (--header); a binary schema always names its fields. Otherwise a bare word is an error
  // (a forgotten pair of quotes must not silently turn the first line into a header).
  bool bare_names = false;
};

// Resolves col() to field numbers, checks operand types, folds constant sub-expressions.
// Throws ParseError (pointing at the offending operand).
void check(Expr& expr, const CheckOptions& options);

// True if the expression uses col("name") (it then needs a header line; bare names need
// a declared one, see CheckOptions::bare_names).
bool uses_column_names(const Expr& expr);

// Splits a header line into column names (as check() matches them: surrounding blanks, a
// trailing CR and enclosing double quotes removed).
// In CSV a delimiter inside double quotes is part of the name.
std::vector<std::string> split_header(std::string_view line, char delimiter,
                                      RecordFormat format = RecordFormat::lines);

// A byte string every record the (checked) expression keeps contains: empty if none can be
// inferred. `exact` is set when the expression keeps exactly the records containing it.
std::string required_literal(const Expr& expr, bool* exact = nullptr);

// The generated filter: C source in the filter ABI (its SLUICE_FILTER is named `where`) and
// its parameter block (struct sluice_param_header first), exactly as both builds see it.
struct GeneratedFilter {
  std::string c_source;
  std::vector<std::byte> params;
  std::string required_literal;
  bool literal_exact = false;
  int constant = 0;  // SLUICE_VERDICT_*: 1 keeps all, 2 drops all
};

// `expr` must have been check()ed with the same options.
GeneratedFilter generate_c(const Expr& expr, const CheckOptions& options);

// Reference interpreter: the verdict of the checked expression for one record (no '\n').
// JSON paths are read with sluice/json_value.hpp.
bool evaluate(const Expr& expr, std::string_view record, char delimiter);
// The same for a record of options.format (csv fields unquoted, binary fields by the schema).
bool evaluate(const Expr& expr, std::string_view record, const CheckOptions& options);

// The member names of a JSON path written alone (".a.b", ."content-type"), as in --select.
// Throws ParseError.
std::vector<std::string> parse_json_path(std::string_view text);

// The expression printed back in canonical form (fully parenthesised), for messages and tests.
std::string to_string(const Expr& expr);

}  // namespace sluice::expr
