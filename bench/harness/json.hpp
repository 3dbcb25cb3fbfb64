// A minimal JSON reader (for `sluice scan --json` reports) and writer (for results.json).
// Enough for well-formed documents produced by tools; not a general-purpose library.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::bench::json {

struct Value {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string text;  // string value, or the number's source text
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  const Value* find(std::string_view key) const;  // object member or nullptr
  std::optional<double> number_at(std::string_view key) const;
  std::optional<std::uint64_t> u64_at(std::string_view key) const;
};

// Throws std::runtime_error with the offset on malformed input.
Value parse(std::string_view text);

// Writer: builds a document as text, with explicit structure calls.
class Writer {
 public:
  explicit Writer(int indent = 1) : indent_(indent) {}
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& string(std::string_view s);
  Writer& number(double v);            // NaN / inf written as null
  Writer& integer(std::int64_t v);
  Writer& uinteger(std::uint64_t v);
  Writer& boolean(bool v);
  Writer& null();
  Writer& raw(std::string_view json);  // an already-serialised value
  const std::string& str() const { return out_; }

 private:
  void before_value();
  void newline();
  std::string out_;
  struct Level {
    bool object;
    bool empty = true;
  };
  std::vector<Level> stack_;
  bool after_key_ = false;
  int indent_;
};

std::string quote(std::string_view s);

}  // namespace sluice::bench::json
