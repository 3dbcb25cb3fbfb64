// A recursive-descent JSON reader for JSON-lines records (sluice/json_value.hpp).
#include <sluice/json_value.hpp>

#include <cstdint>
#include <optional>

namespace sluice::json {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

// Validates one value at text[pos...]; on success returns the position after it and, for a
// string, its decoded text in *decoded (when given).
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  std::optional<std::size_t> value(std::size_t pos, unsigned depth, std::string* decoded = nullptr) const {
    if (pos >= s_.size()) return std::nullopt;
    char c = s_[pos];
    if (c == '{' || c == '[') {
      if (depth >= kMaxDepth) return std::nullopt;
      bool object = c == '{';
      pos = skip(pos + 1);
      if (pos < s_.size() && s_[pos] == (object ? '}' : ']')) return pos + 1;
      while (true) {
        if (object) {
          if (pos >= s_.size() || s_[pos] != '"') return std::nullopt;
          auto after_key = string(pos, nullptr);
          if (!after_key) return std::nullopt;
          pos = skip(*after_key);
          if (pos >= s_.size() || s_[pos] != ':') return std::nullopt;
          pos = skip(pos + 1);
        }
        auto after = value(pos, depth + 1);
        if (!after) return std::nullopt;
        pos = skip(*after);
        if (pos >= s_.size()) return std::nullopt;
        if (s_[pos] == ',') {
          pos = skip(pos + 1);
          continue;
        }
        if (s_[pos] == (object ? '}' : ']')) return pos + 1;
        return std::nullopt;
      }
    }
    if (c == '"') return string(pos, decoded);
    if (c == '-' || (c >= '0' && c <= '9')) return number(pos);
    for (std::string_view lit : {"true", "false", "null"})
      if (s_.substr(pos, lit.size()) == lit) return pos + lit.size();
    return std::nullopt;
  }

  std::size_t skip(std::size_t pos) const {
    while (pos < s_.size() && blank(s_[pos])) ++pos;
    return pos;
  }

  std::optional<std::size_t> string(std::size_t pos, std::string* out) const {
    ++pos;  // the opening quote
    while (true) {
      if (pos >= s_.size()) return std::nullopt;
      unsigned char c = static_cast<unsigned char>(s_[pos]);
      if (c == '"') return pos + 1;
      if (c < 0x20) return std::nullopt;
      if (c == '\\') {
        if (pos + 1 >= s_.size()) return std::nullopt;
        char e = s_[pos + 1];
        static constexpr std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
        if (std::size_t k = from.find(e); k != std::string_view::npos) {
          if (out) *out += to[k];
          pos += 2;
          continue;
        }
        if (e != 'u') return std::nullopt;
        auto unit = code_unit(pos);
        if (!unit) return std::nullopt;
        std::uint32_t cp = *unit;
        pos += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) return std::nullopt;  // a low half alone
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (pos + 1 >= s_.size() || s_[pos] != '\\' || s_[pos + 1] != 'u') return std::nullopt;
          auto low = code_unit(pos);
          if (!low || *low < 0xdc00 || *low > 0xdfff) return std::nullopt;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (*low - 0xdc00);
          pos += 6;
        }
        if (out) append_utf8(*out, cp);
        continue;
      }
      std::size_t n = utf8_length(pos);
      if (n == 0) return std::nullopt;
      if (out) out->append(s_.substr(pos, n));
      pos += n;
    }
  }

 private:
  // The code unit of \uXXXX at pos.
  std::optional<std::uint32_t> code_unit(std::size_t pos) const {
    if (pos + 6 > s_.size()) return std::nullopt;
    std::uint32_t v = 0;
    for (std::size_t i = pos + 2; i < pos + 6; ++i) {
      int d = hex_digit(s_[i]);
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<std::uint32_t>(d);
    }
    return v;
  }

  // Length of the well-formed UTF-8 character at pos (Unicode table 3-7), 0 if ill-formed.
  std::size_t utf8_length(std::size_t pos) const {
    auto at = [&](std::size_t i) { return i < s_.size() ? static_cast<unsigned char>(s_[i]) : 0u; };
    unsigned c = at(pos);
    if (c < 0x80) return 1;
    std::size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return 0;
    }
    for (std::size_t k = 1; k < n; ++k) {
      unsigned b = at(pos + k);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return 0;
    }
    return n;
  }

  std::optional<std::size_t> number(std::size_t pos) const {
    auto digit = [&](std::size_t i) { return i < s_.size() && s_[i] >= '0' && s_[i] <= '9'; };
    if (s_[pos] == '-') ++pos;
    if (!digit(pos)) return std::nullopt;
    if (s_[pos] == '0') {
      ++pos;
    } else {
      while (digit(pos)) ++pos;
    }
    if (pos < s_.size() && s_[pos] == '.') {
      ++pos;
      if (!digit(pos)) return std::nullopt;
      while (digit(pos)) ++pos;
    }
    if (pos < s_.size() && (s_[pos] == 'e' || s_[pos] == 'E')) {
      ++pos;
      if (pos < s_.size() && (s_[pos] == '+' || s_[pos] == '-')) ++pos;
      if (!digit(pos)) return std::nullopt;
      while (digit(pos)) ++pos;
    }
    return pos;
  }

  std::string_view s_;
};

Value::Kind kind_of(char first) {
  switch (first) {
    case '"': return Value::Kind::string;
    case '{': return Value::Kind::object;
    case '[': return Value::Kind::array;
    case 't':
    case 'f': return Value::Kind::boolean;
    case 'n': return Value::Kind::null;
    default: return Value::Kind::number;
  }
}

// The last member `key` of the valid object token `object`.
Value member(std::string_view object, const std::string& key) {
  Reader r(object);
  Value found;
  std::size_t pos = r.skip(1);
  if (object[pos] == '}') return found;
  while (true) {
    std::string name;
    std::size_t after_key = *r.string(pos, &name);
    pos = r.skip(r.skip(after_key) + 1);  // past ':'
    std::size_t end = *r.value(pos, 1);
    if (name == key) found = Value{kind_of(object[pos]), object.substr(pos, end - pos)};
    pos = r.skip(end);
    if (object[pos] == '}') return found;
    pos = r.skip(pos + 1);  // past ','
  }
}

}  // namespace

bool valid_object(std::string_view record) {
  Reader r(record);
  std::size_t pos = r.skip(0);
  if (pos >= record.size() || record[pos] != '{') return false;
  auto end = r.value(pos, 0);
  return end && r.skip(*end) == record.size();
}

Value find(std::string_view record, std::span<const std::string> path) {
  if (!valid_object(record)) return Value{Value::Kind::invalid, {}};
  Reader r(record);
  std::size_t start = r.skip(0);
  std::size_t end = *r.value(start, 0);
  Value v{Value::Kind::object, record.substr(start, end - start)};
  for (const std::string& key : path) {
    if (v.kind != Value::Kind::object) return Value{};
    v = member(v.text, key);
  }
  return v;
}

std::string decode_string(std::string_view token) {
  std::string out;
  Reader(token).string(0, &out);
  return out;
}

}  // namespace sluice::json
