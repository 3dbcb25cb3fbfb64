// GCC 12 reports false -Wrestrict positives on std::string concatenation at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "expr/lexer.hpp"

#include <algorithm>
#include <cstdint>

namespace sluice::expr {
namespace {

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr const char* kPathHint =
    "a JSON path is .name, .a.b, or .\"any key\" for names that are not [A-Za-z_][A-Za-z0-9_]*";
constexpr std::size_t kMaxPathDepth = 16;

constexpr const char* kValueHint =
    "a value is a field ($3, $0 for the whole record, col(\"name\"); .name in JSON lines), a number (42, -4.5) or a "
    "string (\"text\")";

}  // namespace

std::string_view describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::end: return "the end of the expression";
    case Token::Kind::ident: return "a word";
    case Token::Kind::field: return "a field";
    case Token::Kind::number: return "a number";
    case Token::Kind::string: return "a string";
    case Token::Kind::lparen: return "'('";
    case Token::Kind::rparen: return "')'";
    case Token::Kind::comma: return "','";
    case Token::Kind::cmp: return "a comparison";
    case Token::Kind::and_sym: return "'&&'";
    case Token::Kind::or_sym: return "'||'";
    case Token::Kind::bang: return "'!'";
    case Token::Kind::minus: return "'-'";
    case Token::Kind::plus: return "'+'";
    case Token::Kind::path: return "a JSON path";
  }
  return "?";
}

std::vector<Token> tokenize(std::string_view text) {
  std::string expression(text);
  auto fail = [&](std::string message, std::size_t at, std::string hint) -> void {
    throw ParseError(std::move(message), expression, at, std::move(hint));
  };
  std::vector<Token> tokens;
  std::size_t i = 0, n = text.size();
  // A quoted string starting at i (escapes decoded); leaves i after its closing quote.
  auto read_string = [&](std::size_t& at) {
    char quote = text[at];
    std::size_t start = at, j = at + 1;
    std::string value;
    while (true) {
      if (j >= n)
        fail("unterminated string", start, std::string("close the string with ") + quote);
      char d = text[j];
      if (d == quote) {
        ++j;
        break;
      }
      if (d == '\\') {
        if (j + 1 >= n) fail("unterminated string", start, std::string("close the string with ") + quote);
        char e = text[j + 1];
        switch (e) {
          case 'n': value += '\n'; j += 2; break;
          case 't': value += '\t'; j += 2; break;
          case 'r': value += '\r'; j += 2; break;
          case '0': value += '\0'; j += 2; break;
          case '\\': value += '\\'; j += 2; break;
          case '"': value += '"'; j += 2; break;
          case '\'': value += '\''; j += 2; break;
          case 'x': {
            int hi = j + 2 < n ? hex_value(text[j + 2]) : -1;
            int lo = j + 3 < n ? hex_value(text[j + 3]) : -1;
            if (hi < 0 || lo < 0) fail("\\x needs two hexadecimal digits", j, "e.g. \"\\x2c\" for a comma");
            value += static_cast<char>(hi * 16 + lo);
            j += 4;
            break;
          }
          default:
            fail(std::string("unknown escape '\\") +
                     (e > 0x20 && e < 0x7f ? std::string(1, e) : "x" + std::to_string(static_cast<unsigned char>(e))) +
                     "' in a string", j,
                 "escapes: \\\" \\' \\\\ \\t \\n \\r \\0 \\xHH");
        }
        continue;
      }
      value += d;
      ++j;
    }
    if (value.size() > 128)
      fail("string longer than 128 bytes", start, "a filter carries strings of at most 128 bytes");
    at = j;
    return value;
  };
  while (true) {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    Token t;
    t.pos = i;
    if (i >= n) {
      t.kind = Token::Kind::end;
      t.end = i;
      tokens.push_back(std::move(t));
      return tokens;
    }
    char c = text[i];
    if (is_ident_start(c)) {
      std::size_t j = i;
      while (j < n && is_ident_char(text[j])) ++j;
      t.kind = Token::Kind::ident;
      t.text = std::string(text.substr(i, j - i));
      i = j;
    } else if (c == '$') {
      std::size_t j = i + 1;
      if (j >= n || !is_digit(text[j])) {
        fail("'$' must be followed by a field number", i,
             "fields are numbered from 1 ($1, $2, ...); $0 is the whole record; by name: col(\"name\")");
      }
      std::uint64_t v = 0;
      while (j < n && is_digit(text[j])) {
        v = v * 10 + static_cast<std::uint64_t>(text[j] - '0');
        if (v > 65535) fail("field number too large", i, "fields are numbered 1..65535");
        ++j;
      }
      if (j < n && (is_ident_char(text[j]) || text[j] == '.'))
        fail("unexpected character after a field number", j, "write $3, not $3x or $3.5");
      t.kind = Token::Kind::field;
      t.number = static_cast<std::uint32_t>(v);
      i = j;
    } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit(text[i + 1]))) {
      std::size_t j = i;
      while (j < n && is_digit(text[j])) ++j;
      if (j < n && text[j] == '.') {
        ++j;
        while (j < n && is_digit(text[j])) ++j;
      }
      if (j < n && (text[j] == 'e' || text[j] == 'E'))
        fail("exponents are not supported in numbers", j,
             "write the number out in full (1e3 is 1000); comparisons are exact decimals, never floating point");
      if (j < n && text[j] == '.') fail("a number has at most one '.'", j, "e.g. 4.5");
      if (j < n && (is_ident_char(text[j]) || text[j] == '$'))
        fail("unexpected character in a number", j,
             text[j] == 'x' || text[j] == 'X' ? "hexadecimal numbers are not supported" : kValueHint);
      t.kind = Token::Kind::number;
      t.text = std::string(text.substr(i, j - i));
      if (t.text.size() > 64) fail("number too long (at most 64 characters)", i, "numbers compare exactly, up to 64 digits");
      i = j;
    } else if (c == '"' || c == '\'') {
      t.kind = Token::Kind::string;
      t.text = read_string(i);
    } else if (c == '.' && i + 1 < n && (is_ident_start(text[i + 1]) || text[i + 1] == '"' || text[i + 1] == '\'')) {
      // A JSON path: .name or ."any key", repeated for nested members.
      t.kind = Token::Kind::path;
      while (i < n && text[i] == '.') {
        std::size_t key_at = i + 1;
        if (key_at < n && is_ident_start(text[key_at])) {
          std::size_t j = key_at;
          while (j < n && is_ident_char(text[j])) ++j;
          t.keys.emplace_back(text.substr(key_at, j - key_at));
          i = j;
        } else if (key_at < n && (text[key_at] == '"' || text[key_at] == '\'')) {
          i = key_at;
          t.keys.push_back(read_string(i));
        } else {
          fail("expected a member name after '.'", key_at, kPathHint);
        }
        if (t.keys.back().size() > 128) fail("member name longer than 128 bytes", key_at, kPathHint);
        if (t.keys.size() > kMaxPathDepth)
          fail("JSON path deeper than " + std::to_string(kMaxPathDepth) + " members", key_at, kPathHint);
      }
      if (i < n && (is_ident_char(text[i]) || text[i] == '[' || text[i] == '$'))
        fail("unexpected character in a JSON path", i, kPathHint);
    } else if (c == '(') {
      t.kind = Token::Kind::lparen;
      ++i;
    } else if (c == ')') {
      t.kind = Token::Kind::rparen;
      ++i;
    } else if (c == ',') {
      t.kind = Token::Kind::comma;
      ++i;
    } else if (c == '=') {
      if (i + 1 < n && text[i + 1] == '=') {
        t.kind = Token::Kind::cmp;
        t.op = Cmp::eq;
        i += 2;
      } else {
        fail("'=' is not a comparison", i, "use == to compare");
      }
    } else if (c == '!') {
      if (i + 1 < n && text[i + 1] == '=') {
        t.kind = Token::Kind::cmp;
        t.op = Cmp::ne;
        i += 2;
      } else {
        t.kind = Token::Kind::bang;
        ++i;
      }
    } else if (c == '<') {
      t.kind = Token::Kind::cmp;
      if (i + 1 < n && text[i + 1] == '=') {
        t.op = Cmp::le;
        i += 2;
      } else if (i + 1 < n && text[i + 1] == '>') {
        t.op = Cmp::ne;
        i += 2;
      } else {
        t.op = Cmp::lt;
        ++i;
      }
    } else if (c == '>') {
      t.kind = Token::Kind::cmp;
      if (i + 1 < n && text[i + 1] == '=') {
        t.op = Cmp::ge;
        i += 2;
      } else {
        t.op = Cmp::gt;
        ++i;
      }
    } else if (c == '&') {
      if (i + 1 < n && text[i + 1] == '&') {
        t.kind = Token::Kind::and_sym;
        i += 2;
      } else {
        fail("'&' is not an operator", i, "use 'and' (or &&)");
      }
    } else if (c == '|') {
      if (i + 1 < n && text[i + 1] == '|') {
        t.kind = Token::Kind::or_sym;
        i += 2;
      } else {
        fail("'|' is not an operator", i, "use 'or' (or ||)");
      }
    } else if (c == '-') {
      t.kind = Token::Kind::minus;
      ++i;
    } else if (c == '+') {
      t.kind = Token::Kind::plus;
      ++i;
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0xc2 && u <= 0xf4) {
        // A non-ASCII character: show it whole when it is valid UTF-8, not its first byte.
        std::size_t len = u >= 0xf0 ? 4 : u >= 0xe0 ? 3 : 2;
        bool valid = i + len <= n;
        for (std::size_t k = 1; valid && k < len; ++k)
          valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
        if (valid)
          fail("unexpected '" + std::string(text.substr(i, len)) + "'", i,
               "words and operators are ASCII; put text in quotes: \"...\"");
      }
      std::string shown = u >= 0x20 && u < 0x7f ? std::string("'") + c + "'"
                                                : "byte 0x" + std::string(1, "0123456789abcdef"[(u >> 4) & 15]) +
                                                      std::string(1, "0123456789abcdef"[u & 15]);
      fail("unexpected " + shown, i,
           u >= 0x80 ? "words and operators are ASCII; put text in quotes: \"...\""
           : c == '~' ? "regular expressions are not supported: use contains(), startswith() or endswith()"
                    : kValueHint);
    }
    t.end = i;
    tokens.push_back(std::move(t));
  }
}

std::vector<std::string> parse_json_path(std::string_view text) {
  std::vector<Token> tokens = tokenize(text);
  if (tokens.size() != 2 || tokens[0].kind != Token::Kind::path)
    throw ParseError("not a JSON path", std::string(text), tokens[0].kind == Token::Kind::path ? tokens[1].pos : 0,
                     kPathHint);
  return tokens[0].keys;
}

}  // namespace sluice::expr
