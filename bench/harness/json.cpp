#include "json.hpp"

#include <sluice/report.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace sluice::bench::json {

const Value* Value::find(std::string_view key) const {
  if (kind != Kind::object) return nullptr;
  for (const auto& [k, v] : members)
    if (k == key) return &v;
  return nullptr;
}

std::optional<double> Value::number_at(std::string_view key) const {
  const Value* v = find(key);
  if (!v || v->kind != Kind::number) return std::nullopt;
  return v->number;
}

std::optional<std::uint64_t> Value::u64_at(std::string_view key) const {
  const Value* v = find(key);
  if (!v || v->kind != Kind::number) return std::nullopt;
  return std::strtoull(v->text.c_str(), nullptr, 10);
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}
  Value document() {
    Value v = value();
    ws();
    if (p_ != t_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) {
    throw std::runtime_error(std::string("JSON: ") + what + " at offset " + std::to_string(p_));
  }
  void ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\n' || t_[p_] == '\r' || t_[p_] == '\t')) ++p_;
  }
  bool eat(char c) {
    ws();
    if (p_ < t_.size() && t_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail("unexpected character");
  }
  bool literal(std::string_view word) {
    if (t_.substr(p_, word.size()) == word) {
      p_ += word.size();
      return true;
    }
    return false;
  }
  Value value() {
    ws();
    if (p_ >= t_.size()) fail("unexpected end");
    Value v;
    char c = t_[p_];
    if (c == '{') {
      ++p_;
      v.kind = Value::Kind::object;
      if (eat('}')) return v;
      do {
        ws();
        if (p_ >= t_.size() || t_[p_] != '"') fail("expected a key");
        std::string k = string();
        expect(':');
        v.members.emplace_back(std::move(k), value());
      } while (eat(','));
      expect('}');
    } else if (c == '[') {
      ++p_;
      v.kind = Value::Kind::array;
      if (eat(']')) return v;
      do v.items.push_back(value());
      while (eat(','));
      expect(']');
    } else if (c == '"') {
      v.kind = Value::Kind::string;
      v.text = string();
    } else if (literal("true")) {
      v.kind = Value::Kind::boolean;
      v.boolean = true;
    } else if (literal("false")) {
      v.kind = Value::Kind::boolean;
    } else if (literal("null")) {
      v.kind = Value::Kind::null;
    } else {
      std::size_t start = p_;
      while (p_ < t_.size() && std::string_view("+-0123456789.eE").find(t_[p_]) != std::string_view::npos) ++p_;
      if (start == p_) fail("unexpected character");
      v.kind = Value::Kind::number;
      v.text = std::string(t_.substr(start, p_ - start));
      char* end = nullptr;
      v.number = std::strtod(v.text.c_str(), &end);
      if (!end || *end) fail("malformed number");
    }
    return v;
  }
  std::string string() {
    ++p_;  // opening quote
    std::string out;
    while (true) {
      if (p_ >= t_.size()) fail("unterminated string");
      char c = t_[p_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= t_.size()) fail("unterminated escape");
      char e = t_[p_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (p_ + 4 > t_.size()) fail("short \\u escape");
          unsigned cp = static_cast<unsigned>(std::strtoul(std::string(t_.substr(p_, 4)).c_str(), nullptr, 16));
          p_ += 4;
          if (cp < 0x80) {
            out += static_cast<char>(cp);
          } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          } else {  // surrogates are kept as-is (3-byte forms): good enough for reports
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default: out += e;
      }
    }
    return out;
  }
  std::string_view t_;
  std::size_t p_ = 0;
};

}  // namespace

Value parse(std::string_view text) { return Parser(text).document(); }

// libsluice's quoting: also makes invalid UTF-8 (paths, needles) valid JSON.
std::string quote(std::string_view s) { return sluice::json_quote(s); }

void Writer::newline() {
  if (indent_ <= 0) return;
  out_ += '\n';
  out_.append(stack_.size() * static_cast<std::size_t>(indent_), ' ');
}

void Writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!stack_.empty()) {
    if (!stack_.back().empty) out_ += ',';
    stack_.back().empty = false;
    newline();
  }
}

Writer& Writer::begin_object() {
  before_value();
  out_ += '{';
  stack_.push_back({true});
  return *this;
}
Writer& Writer::end_object() {
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_ += '}';
  return *this;
}
Writer& Writer::begin_array() {
  before_value();
  out_ += '[';
  stack_.push_back({false});
  return *this;
}
Writer& Writer::end_array() {
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline();
  out_ += ']';
  return *this;
}
Writer& Writer::key(std::string_view k) {
  before_value();
  out_ += quote(k);
  out_ += indent_ > 0 ? ": " : ":";
  after_key_ = true;
  return *this;
}
Writer& Writer::string(std::string_view s) {
  before_value();
  out_ += quote(s);
  return *this;
}
Writer& Writer::number(double v) {
  before_value();
  if (std::isnan(v) || std::isinf(v)) {
    out_ += "null";
  } else {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    out_ += buf;
  }
  return *this;
}
Writer& Writer::integer(std::int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::uinteger(std::uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}
Writer& Writer::boolean(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  return *this;
}
Writer& Writer::null() {
  before_value();
  out_ += "null";
  return *this;
}
Writer& Writer::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

}  // namespace sluice::bench::json
