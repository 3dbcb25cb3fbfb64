// Tokens of the --where language (docs/where.md).
#pragma once

#include <sluice/expr.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::expr {

struct Token {
  enum class Kind {
    end,       // end of the expression
    ident,     // and or not in is empty contains startswith endswith col true false, or unknown
    field,     // $N (number in `number`)
    number,    // 12, 4.5, .5 (no sign: unary minus is a token)
    string,    // "..." or '...' with escapes decoded into `text`
    lparen,
    rparen,
    comma,
    cmp,       // == != < <= > >= (op in `op`)
    and_sym,   // &&
    or_sym,    // ||
    bang,      // !
    minus,     // -
    plus,      // +
    path,      // .name, .a.b, ."any key" (keys in `keys`)
  } kind = Kind::end;
  std::string text;  // ident/number as written; string decoded
  std::vector<std::string> keys;  // path: the member names, decoded
  std::uint32_t number = 0;
  Cmp op = Cmp::eq;
  std::size_t pos = 0;  // byte offsets [pos, end) in the expression
  std::size_t end = 0;
};

// Splits the whole expression into tokens (the last one is `end`). Throws ParseError.
std::vector<Token> tokenize(std::string_view text);

std::string_view describe(const Token& token);  // for messages: "'and'", "a number", ...

}  // namespace sluice::expr
