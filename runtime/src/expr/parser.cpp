// Recursive-descent parser of the --where language (grammar in docs/where.md).
// GCC 12 reports false -Wrestrict positives on std::string concatenation at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "expr/lexer.hpp"

#include <algorithm>
#include <array>

namespace sluice::expr {

ParseError::ParseError(std::string message, std::string expression, std::size_t offset, std::string hint)
    : UsageError([&] {
        // The expression as shown: control bytes (a NUL would end what()) become '?', line
        // breaks spaces, one column each, so the caret stays aligned.
        auto visible = [](std::string_view s) {
          std::string out;
          for (char c : s) {
            unsigned char u = static_cast<unsigned char>(c);
            out += c == '\n' || c == '\r' ? ' ' : ((u < 0x20 && c != '\t') || u == 0x7f) ? '?' : c;
          }
          return out;
        };
        std::string text = visible(message) + "\n  " + visible(expression) + "\n  ";
        // Caret under the character at `offset`: count characters, not UTF-8 bytes; keep tabs.
        for (std::size_t i = 0; i < offset && i < expression.size(); ++i) {
          unsigned char c = static_cast<unsigned char>(expression[i]);
          if ((c & 0xc0) == 0x80) continue;
          text += c == '\t' ? '\t' : ' ';
        }
        text += "^";
        if (!hint.empty()) text += "\n  hint: " + visible(hint);
        return text;
      }()),
      message_(std::move(message)),
      expression_(std::move(expression)),
      offset_(offset),
      hint_(std::move(hint)) {}

std::size_t ParseError::column() const {
  std::size_t col = 1;
  for (std::size_t i = 0; i < offset_ && i < expression_.size(); ++i)
    if ((static_cast<unsigned char>(expression_[i]) & 0xc0) != 0x80) ++col;
  return col;
}

namespace {

constexpr std::array<std::string_view, 13> kKeywords = {"and",        "or",       "not",  "in",  "is",
                                                        "empty",      "contains", "startswith",
                                                        "endswith",   "col",      "true", "false", "null"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    prev.swap(cur);
  }
  return prev[b.size()];
}

constexpr const char* kTailHint =
    "compare it: $3 == \"x\", $3 > 5, $3 is empty, $3 in (\"a\", \"b\"); or test it: contains($3, \"x\")";

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), tokens_(tokenize(text)) {}

  Expr run() {
    Expr e;
    e.text = text_;
    if (peek().kind == Token::Kind::end)
      fail("empty expression", peek().pos, "e.g. --where '$3 > 100 and contains($5, \"error\")'");
    e.root = parse_or(0);
    if (peek().kind != Token::Kind::end) {
      const Token& t = peek();
      if (t.kind == Token::Kind::rparen) fail("unbalanced ')'", t.pos, "remove it, or add the '(' it closes");
      if (t.kind == Token::Kind::cmp)
        fail("comparisons cannot be chained", t.pos, "write 1 < $3 and $3 < 5, not 1 < $3 < 5");
      fail("unexpected " + std::string(describe_token(t)) + " after a complete condition", t.pos,
           "join conditions with 'and' or 'or'");
    }
    return e;
  }

 private:
  [[noreturn]] void fail(std::string message, std::size_t at, std::string hint) const {
    throw ParseError(std::move(message), text_, at, std::move(hint));
  }

  const Token& peek(std::size_t ahead = 0) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  Token take() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool is_word(const Token& t, std::string_view w) const { return t.kind == Token::Kind::ident && lower(t.text) == w; }

  std::string describe_token(const Token& t) const {
    if (t.kind == Token::Kind::ident) return "'" + t.text + "'";
    if (t.kind == Token::Kind::number) return "number " + t.text;
    if (t.kind == Token::Kind::field) return "$" + std::to_string(t.number);
    if (t.kind == Token::Kind::path) return "path " + std::string(text_.substr(t.pos, t.end - t.pos));
    return std::string(describe(t));
  }

  void expect(Token::Kind kind, std::string_view what, std::string_view hint) {
    if (peek().kind != kind)
      fail("expected " + std::string(what) + ", found " + describe_token(peek()), peek().pos, std::string(hint));
    take();
  }

  // Guards against stack exhaustion on hostile input (deep parentheses / many nots).
  void enter(std::size_t depth) const {
    if (depth > 200) fail("expression nested too deeply", peek().pos, "at most 200 levels of parentheses and 'not'");
  }

  Node parse_or(std::size_t depth) {
    enter(depth);
    Node first = parse_and(depth + 1);
    if (!(is_word(peek(), "or") || peek().kind == Token::Kind::or_sym)) return first;
    Node n;
    n.kind = Node::Kind::logical_or;
    n.pos = first.pos;
    n.kids.push_back(std::move(first));
    while (is_word(peek(), "or") || peek().kind == Token::Kind::or_sym) {
      take();
      n.kids.push_back(parse_and(depth + 1));
    }
    return n;
  }

  Node parse_and(std::size_t depth) {
    enter(depth);
    Node first = parse_not(depth + 1);
    if (!(is_word(peek(), "and") || peek().kind == Token::Kind::and_sym)) return first;
    Node n;
    n.kind = Node::Kind::logical_and;
    n.pos = first.pos;
    n.kids.push_back(std::move(first));
    while (is_word(peek(), "and") || peek().kind == Token::Kind::and_sym) {
      take();
      n.kids.push_back(parse_not(depth + 1));
    }
    return n;
  }

  Node parse_not(std::size_t depth) {
    enter(depth);
    if (is_word(peek(), "not") || peek().kind == Token::Kind::bang) {
      Token t = take();
      Node n;
      n.kind = Node::Kind::logical_not;
      n.pos = t.pos;
      n.kids.push_back(parse_not(depth + 1));
      return n;
    }
    return parse_primary(depth + 1);
  }

  Node parse_primary(std::size_t depth) {
    const Token& t = peek();
    if (t.kind == Token::Kind::lparen) {
      take();
      if (peek().kind == Token::Kind::rparen) fail("empty parentheses", peek().pos, "put a condition inside ( )");
      Node inner = parse_or(depth + 1);
      if (peek().kind != Token::Kind::rparen) {
        if (peek().kind == Token::Kind::end)
          fail("missing ')'", peek().pos, "the '(' at column " + std::to_string(column_of(t.pos)) + " is not closed");
        fail("expected ')' or 'and'/'or', found " + describe_token(peek()), peek().pos,
             "join conditions with 'and' or 'or', and close the parenthesis");
      }
      take();
      return inner;
    }
    if (is_word(t, "true") || is_word(t, "false")) {
      Node n;
      n.kind = Node::Kind::constant;
      n.value = is_word(t, "true");
      n.pos = t.pos;
      take();
      return n;
    }
    for (auto [word, kind] : {std::pair{"contains", Node::Kind::contains}, std::pair{"startswith", Node::Kind::starts_with},
                              std::pair{"endswith", Node::Kind::ends_with}}) {
      if (!is_word(t, word)) continue;
      Token name = take();
      expect(Token::Kind::lparen, "'(' after " + name.text, std::string(word) + "(VALUE, \"string\")");
      Node n;
      n.kind = kind;
      n.pos = name.pos;
      n.lhs = parse_operand();
      expect(Token::Kind::comma, "',' between the arguments of " + name.text,
             std::string(word) + "(VALUE, \"string\"), e.g. " + word + "($2, \"abc\")");
      n.rhs = parse_operand();
      expect(Token::Kind::rparen, "')' after the arguments of " + name.text,
             name.text + " takes two arguments: " + word + "(VALUE, \"string\")");
      return n;
    }
    Operand left = parse_operand();
    return parse_tail(std::move(left));
  }

  Node parse_tail(Operand left) {
    Node n;
    n.pos = left.pos;
    n.lhs = left;
    const Token& t = peek();
    if (t.kind == Token::Kind::cmp) {
      n.kind = Node::Kind::compare;
      n.op = take().op;
      n.rhs = parse_operand();
      return n;
    }
    bool negated = false;
    if (is_word(t, "not") && is_word(peek(1), "in")) {
      take();
      negated = true;
    }
    if (is_word(peek(), "in")) {
      take();
      expect(Token::Kind::lparen, "'(' after 'in'", "in (\"a\", \"b\", 3)");
      n.kind = Node::Kind::in_list;
      while (true) {
        Operand v = parse_operand();
        if (!v.is_literal()) fail("the list of 'in' holds only literals", v.pos, "in (\"a\", \"b\", 3)");
        n.list.push_back(std::move(v));
        if (n.list.size() > 64) fail("too many values in the list of 'in'", n.list.back().pos, "at most 64 values");
        if (peek().kind == Token::Kind::comma) {
          take();
          if (peek().kind == Token::Kind::rparen) break;  // trailing comma
          continue;
        }
        if (peek().kind == Token::Kind::rparen) break;
        fail("expected ',' or ')' in the list of 'in', found " + describe_token(peek()), peek().pos,
             "in (\"a\", \"b\", 3)");
      }
      take();
      return negated ? negate(std::move(n)) : n;
    }
    if (is_word(peek(), "is")) {
      take();
      if (is_word(peek(), "not")) {
        take();
        negated = true;
      }
      if (!is_word(peek(), "empty") && !is_word(peek(), "null"))
        fail("expected 'empty' after 'is', found " + describe_token(peek()), peek().pos, "$3 is empty, $3 is not empty");
      take();
      n.kind = Node::Kind::is_empty;
      return negated ? negate(std::move(n)) : n;
    }
    if (t.kind == Token::Kind::end) fail("incomplete condition: a value alone is not a condition", t.pos, kTailHint);
    fail("expected a comparison after the value, found " + describe_token(t), t.pos, kTailHint);
  }

  static Node negate(Node n) {
    Node out;
    out.kind = Node::Kind::logical_not;
    out.pos = n.pos;
    out.kids.push_back(std::move(n));
    return out;
  }

  std::size_t column_of(std::size_t offset) const {
    return ParseError("", std::string(text_), offset, "").column();
  }

  Operand parse_operand() {
    const Token& t = peek();
    Operand o;
    o.pos = t.pos;
    switch (t.kind) {
      case Token::Kind::field:
        o.type = Operand::Type::field;
        o.field = t.number;
        o.end = take().end;
        return o;
      case Token::Kind::number:
        o.type = Operand::Type::number;
        o.text = t.text;
        o.end = take().end;
        return o;
      case Token::Kind::minus:
      case Token::Kind::plus: {
        Token sign = take();
        if (peek().kind != Token::Kind::number)
          fail("expected a number after '" + std::string(sign.kind == Token::Kind::minus ? "-" : "+") + "'", peek().pos,
               "arithmetic is not supported; a sign belongs to a number literal (-4.5)");
        if (peek().pos != sign.end) fail("no space allowed between a sign and its number", sign.pos, "write -4.5");
        o.type = Operand::Type::number;
        o.text = (sign.kind == Token::Kind::minus ? "-" : "") + peek().text;
        o.end = take().end;
        return o;
      }
      case Token::Kind::string:
        o.type = Operand::Type::string;
        o.text = t.text;
        o.end = take().end;
        return o;
      case Token::Kind::path:
        o.type = Operand::Type::path;
        o.path = t.keys;
        o.end = take().end;
        return o;
      case Token::Kind::ident: {
        std::string word = lower(t.text);
        if (word == "col") {
          take();
          expect(Token::Kind::lparen, "'(' after col", "col(\"column name\")");
          if (peek().kind != Token::Kind::string)
            fail("col() takes a column name in quotes", peek().pos,
                 peek().kind == Token::Kind::number ? "by number: $" + peek().text : "col(\"column name\")");
          o.type = Operand::Type::column;
          o.pos = peek().pos;
          o.text = peek().text;
          o.end = take().end;
          expect(Token::Kind::rparen, "')' after the column name", "col(\"column name\")");
          return o;
        }
        if (std::find(kKeywords.begin(), kKeywords.end(), word) != kKeywords.end())
          fail("expected a value, found '" + t.text + "'", t.pos, std::string(kValueHintShort));
        std::string hint = "strings need quotes: \"" + t.text + "\"";
        bool misspelt = false;
        for (std::string_view k : kKeywords)
          if (edit_distance(word, k) <= (k.size() > 4 ? 2u : 1u)) {
            hint = "did you mean '" + std::string(k) + "'?";
            misspelt = true;
            break;
          }
        if (word == "like" || word == "matches" || word == "regex")
          fail("unknown word '" + t.text + "'", t.pos,
               "patterns are not supported: use contains(), startswith() or endswith()");
        // A word followed by '(' is a call of an unknown function.
        if (misspelt && peek(1).kind == Token::Kind::lparen) fail("unknown word '" + t.text + "'", t.pos, hint);
        if (peek(1).kind == Token::Kind::lparen)
          fail("unknown function '" + t.text + "'", t.pos, "the functions are contains, startswith, endswith and col");
        // Otherwise a bare column name (check() resolves it, or reports it with this hint).
        o.type = Operand::Type::column;
        o.text = t.text;
        o.bare = true;
        o.bare_hint = hint;
        o.end = take().end;
        return o;
      }
      case Token::Kind::end:
        fail("expected a value, found the end of the expression", t.pos, std::string(kValueHintShort));
      default:
        fail("expected a value, found " + describe_token(t), t.pos, std::string(kValueHintShort));
    }
  }

  static constexpr std::string_view kValueHintShort =
      "a value is a field ($3, $0, col(\"name\"); .name in JSON lines), a number (42, -4.5) or a string (\"text\")";

  std::string text_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

Expr parse(std::string_view text) { return Parser(text).run(); }

}  // namespace sluice::expr
