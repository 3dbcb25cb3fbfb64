// Random JSON-lines records made to exercise the JSON rules (docs/where.md, "JSON lines"):
// nested objects and arrays, escapes (\u, surrogate pairs), raw UTF-8, blanks between tokens,
// duplicate keys, numbers in every form, and a quarter of them broken (cut short, a byte
// changed or inserted, nested too deep). Fixed seeds: reproducible. Shared by jsonl_test and
// the corpus test; random_json_expression() draws --where expressions over their keys.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace sluice::test {

class JsonMaker {
 public:
  explicit JsonMaker(std::uint64_t seed) : rng_(seed) {}

  std::string record() {
    std::string r = blank() + object(1) + blank();
    if (pick(4) == 0) mutate(r);
    return r;
  }
  std::size_t pick(std::size_t n) { return n ? rng_() % n : 0; }

  static const std::vector<std::string>& keys() {
    static const std::vector<std::string> k = {"a", "b", "name", "\xc3\xa9", "", "a b", "x"};
    return k;
  }

 private:
  std::string blank() {
    static const std::array<const char*, 6> b = {"", "", "", " ", "\t ", " \r "};
    return b[pick(b.size())];
  }
  std::string string_value() {
    static const std::array<const char*, 18> frags = {"a",      "b",        "\xc3\xa9", "\\u00e9", "\\ud83d\\ude00",
                                                      "\\n",    "\\\"",     "x",        "\\u0061", "\xe2\x82\xac",
                                                      "\\/",    "\\\\",     "needle",   " ",       "\xf0\x9f\x98\x80",
                                                      "\\u20AC", "\\u0000", "abcdefghijklmnopqrstuvwxyz0123456789"};
    std::string s = "\"";
    std::size_t n = pick(8);
    for (std::size_t i = 0; i < n; ++i) s += frags[pick(frags.size())];
    return s + "\"";
  }
  std::string key() {
    static const std::array<const char*, 9> k = {"\"a\"", "\"b\"", "\"name\"", "\"\\u0061\"", "\"\xc3\xa9\"",
                                                 "\"\\u00e9\"", "\"\"", "\"a b\"", "\"x\""};
    return k[pick(k.size())];
  }
  std::string value(unsigned depth) {
    static const std::array<const char*, 16> nums = {"0",    "-0",   "5",     "5.0",  "-12.5", "1e5", "1E-2", "007",
                                                     "10.50", "99", "-1",  "0.5", "123456789012345678901", "2", "3", "4"};
    switch (pick(depth < 4 ? 9 : 7)) {
      case 0:
      case 1:
      case 2: return string_value();
      case 3:
      case 4: return nums[pick(nums.size())];
      case 5: return pick(3) == 0 ? "true" : pick(2) ? "false" : "null";
      case 6: return "\"\"";
      case 7: return object(depth + 1);
      default: {
        std::string a = "[" + blank();
        std::size_t n = pick(4);
        for (std::size_t i = 0; i < n; ++i) a += (i ? "," : "") + blank() + value(depth + 1) + blank();
        return a + "]";
      }
    }
  }
  std::string object(unsigned depth) {
    std::string o = "{";
    std::size_t n = pick(6);
    for (std::size_t i = 0; i < n; ++i)
      o += (i ? "," : "") + blank() + key() + blank() + ":" + blank() + value(depth) + blank();
    return o + "}";
  }
  void mutate(std::string& r) {
    static const std::string bytes = "\"\\{}[],: u0e\xff\x01-.\xc3\xed\xa0";
    switch (pick(4)) {
      case 0: r.resize(pick(r.size() + 1)); break;
      case 1:
        if (!r.empty()) r[pick(r.size())] = bytes[pick(bytes.size())];
        break;
      case 2: r.insert(pick(r.size() + 1), 1, bytes[pick(bytes.size())]); break;
      default: r = std::string(pick(70), '[') + r; break;
    }
  }
  std::mt19937_64 rng_;
};

inline std::string random_json_expression(std::mt19937_64& rng, int depth = 0) {
  static const std::vector<std::string> paths = {".a", ".b", ".name", ".x", ".\"\xc3\xa9\"", ".\"a b\"", ".\"\"",
                                                 ".a.b", ".a.name", ".b.a.x", ".name.a"};
  static const std::vector<std::string> strings = {"\"needle\"", "\"a\"", "\"\xc3\xa9\"", "\"\"", "\"true\"",
                                                   "\"\xf0\x9f\x98\x80\"", "\"ab\"", "\"5\"", "\"\\n\"",
                                                   "\"\xe2\x82\xac\""};
  static const std::vector<std::string> numbers = {"0", "5", "-12.5", "10.5", "2", "-0", "99", "100000"};
  static const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
  auto path = [&] { return paths[rng() % paths.size()]; };
  switch (rng() % (depth > 2 ? 6 : 9)) {
    case 0: return path() + " " + ops[rng() % 6] + " " + numbers[rng() % numbers.size()];
    case 1: return path() + " " + ops[rng() % 6] + " " + strings[rng() % strings.size()];
    case 2: {
      static const char* fns[] = {"contains", "startswith", "endswith"};
      return std::string(fns[rng() % 3]) + "(" + path() + ", " + strings[rng() % strings.size()] + ")";
    }
    case 3: return path() + " in (" + strings[rng() % strings.size()] + ", " + numbers[rng() % numbers.size()] + ")";
    case 4: return path() + (rng() % 2 ? " is empty" : " is not empty");
    case 5: return "contains($0, " + strings[rng() % strings.size()] + ")";
    case 6: return random_json_expression(rng, depth + 1) + " and " + random_json_expression(rng, depth + 1);
    case 7: return random_json_expression(rng, depth + 1) + " or " + random_json_expression(rng, depth + 1);
    default: return "not (" + random_json_expression(rng, depth + 1) + ")";
  }
}

}  // namespace sluice::test
