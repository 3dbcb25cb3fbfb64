// Random --where expressions from the grammar (docs/where.md) and records made to exercise
// them: numbers in every accepted and rejected form, missing and empty fields, CRs, long
// fields. Shared by the expression tests and the corpus test (fixed seeds: reproducible).
#pragma once

#include <sluice/compiled_filter.hpp>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace sluice::test {

// Compiling in tests: into build/tests/expr-cache (a second run compiles nothing), with the
// BPF builds of `hosts` made up front.
inline CompileOptions compile_options(std::vector<std::string> hosts = {}) {
  CompileOptions o;
  o.cache_dir = (std::filesystem::current_path() / "expr-cache").string();
  o.bpf_hosts = std::move(hosts);
  return o;
}

inline const std::vector<std::string>& number_texts() {
  static const std::vector<std::string> v = {
      "0",  "5",     "-5",  "+5",   "5.",   ".5",    "0005.50", "10",   "100", "99.99", "-0",   "0.0", "1e5",
      "abc", "",     " 7 ", "7\t",  "12345678901234567890123", "-12.5", "3.14159", "5.0",  "1.", "-.5",  "++1",
      "1.2.3", "007", "42",  "-42", "9223372036854775807", "-9223372036854775808", "18446744073709551616"};
  return v;
}

inline const std::vector<std::string>& word_texts() {
  static const std::vector<std::string> v = {"alpha", "beta", "ALPHA", "alp",  "gamma", "", "x", "a b", "beta\r",
                                             "needle", "hay needle hay", "Z", "zz", "al", "pha", "\"q\""};
  return v;
}

inline std::string random_field(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 9);
  int k = kind(rng);
  if (k < 5) return number_texts()[rng() % number_texts().size()];
  if (k < 9) return word_texts()[rng() % word_texts().size()];
  std::string s(100 + rng() % 200, 'a');  // a long field
  s[rng() % s.size()] = 'Z';
  return s;
}

// One record (no '\n') of 0-7 fields split by `delim`; sometimes with a trailing CR.
inline std::string random_record(std::mt19937_64& rng, char delim) {
  int n = static_cast<int>(rng() % 8);
  std::string r;
  for (int i = 0; i < n; ++i) {
    if (i) r += delim;
    r += random_field(rng);
  }
  if (rng() % 10 == 0) r += '\r';
  return r;
}

inline std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\r') {
      out += "\\r";
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

inline std::string random_literal(std::mt19937_64& rng, bool number) {
  if (number) {
    static const std::vector<std::string> nums = {"0", "5", "-5", "10", "99.99", "0.5", "-0", "42", "100", "5.000",
                                                  "9223372036854775807", "7", "-12.5", "3.14159", "1000000"};
    return nums[rng() % nums.size()];
  }
  return quote(word_texts()[rng() % word_texts().size()]);
}

inline std::string random_value(std::mt19937_64& rng) {
  return rng() % 8 == 0 ? std::string("$0") : "$" + std::to_string(1 + rng() % 6);
}

inline std::string random_expression(std::mt19937_64& rng, int depth = 0) {
  static const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
  int choice = static_cast<int>(rng() % (depth > 2 ? 6 : 10));
  switch (choice) {
    case 0: return random_value(rng) + " " + ops[rng() % 6] + " " + random_literal(rng, true);
    case 1: return random_value(rng) + " " + ops[rng() % 6] + " " + random_literal(rng, false);
    case 2: {
      static const char* fns[] = {"contains", "startswith", "endswith"};
      return std::string(fns[rng() % 3]) + "(" + random_value(rng) + ", " + random_literal(rng, false) + ")";
    }
    case 3: {
      std::string s = random_value(rng) + (rng() % 4 == 0 ? " not in (" : " in (");
      int n = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) s += (i ? ", " : "") + random_literal(rng, rng() % 2 == 0);
      return s + ")";
    }
    case 4: return random_value(rng) + (rng() % 2 ? " is empty" : " is not empty");
    case 5: return random_literal(rng, true) + " " + ops[rng() % 6] + " " + random_value(rng);  // literal first
    case 6: return random_expression(rng, depth + 1) + " and " + random_expression(rng, depth + 1);
    case 7: return random_expression(rng, depth + 1) + " or " + random_expression(rng, depth + 1);
    case 8: return "not (" + random_expression(rng, depth + 1) + ")";
    default: return "(" + random_expression(rng, depth + 1) + ")";
  }
}

}  // namespace sluice::test
