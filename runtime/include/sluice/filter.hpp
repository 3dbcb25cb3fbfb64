// Configured filters: which compiled filter (filters/*.c) runs, with which parameters.
// The same Filter drives the native build in user-space backends and the BPF build in
// kernel hooks: its parameter block is the struct both builds see.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

extern "C" {
typedef int (*sluice_native_filter_fn)(const void* params, const std::uint8_t* rec,
                                       std::uint32_t len);
}

namespace sluice {

enum class CompareOp { eq, ne, lt, le, gt, ge };
enum class ValueType { integer, decimal, string };

CompareOp parse_compare_op(std::string_view text);  // = == != < <= > >= (and eq ne lt le gt ge)
ValueType parse_value_type(std::string_view text);  // int, decimal (or float, num), string

// grep -F: records containing any pattern (none of them with invert).
struct FixedStringSpec {
  std::vector<std::string> patterns;
  bool ignore_case = false;  // ASCII only
  bool invert = false;
};

// Field `column` (1-based) of a delimited record, compared with `value`.
struct ColumnCompareSpec {
  std::uint32_t column = 1;
  CompareOp op = CompareOp::eq;
  ValueType type = ValueType::integer;
  std::string value;
  char delimiter = ',';
};

struct KeepAllSpec {};
struct KeepNoneSpec {};

using FilterSpec = std::variant<FixedStringSpec, ColumnCompareSpec, KeepAllSpec, KeepNoneSpec>;

class CompiledFilter;  // a filter compiled at run time: sluice/compiled_filter.hpp

// How a byte stream is cut into records (struct sluice_param_header.framing, SLUICE_FRAMING_*):
// it travels with the filter, so every backend and kernel host frames the same way.
enum class Framing : std::uint32_t {
  lines = 0,  // a record ends at each '\n'
  csv = 1,    // RFC 4180: a record ends at a '\n' outside double quotes
  fixed = 2,  // records of exactly record_size() bytes
};

class Filter {
 public:
  // Validates the spec and builds the parameter block; throws UsageError with a clear
  // message on bad input (no pattern, pattern too long, value not a number, ...).
  static Filter make(const FilterSpec& spec);
  // A filter compiled at run time (--where, a user's C file) with this parameter block (its
  // struct sluice_param_header first). See sluice/compiled_filter.hpp.
  static Filter from_compiled(std::shared_ptr<const CompiledFilter> compiled, std::vector<std::byte> params);

  // Name of the compiled filter (filters/<name>.c), e.g. "fixed_string".
  const std::string& name() const { return name_; }
  // The parameter block exactly as both builds see it.
  std::span<const std::byte> params() const { return params_; }
  // A byte string every kept record contains (empty: none declared).
  std::string_view required_literal() const;
  // True when the filter keeps exactly the records containing required_literal(), so a
  // host that found the literal in a record needs no further check.
  bool literal_is_exact() const;
  // The record framing the filter was made for, and the record size of Framing::fixed.
  Framing framing() const;
  std::uint32_t record_size() const;
  // A copy that frames records as `framing` (record_size: Framing::fixed only, > 0); e.g. a
  // built-in filter over CSV records. Throws UsageError on a bad size.
  Filter with_framing(Framing framing, std::uint32_t record_size = 0) const;

  // A copy whose search hints (the needle bytes a BPF scan probes first) suit data like
  // `sample`. Which records are kept does not change.
  Filter tuned_for(std::span<const char> sample) const;

  // The run-time compiled form that hosts load instead of a built-in skeleton (null for the
  // built-in filters).
  const std::shared_ptr<const CompiledFilter>& compiled() const { return compiled_; }

  bool keep(std::string_view record) const {
    return native_(params_.data(), reinterpret_cast<const std::uint8_t*>(record.data()),
                   static_cast<std::uint32_t>(record.size())) != 0;
  }

 private:
  Filter(std::string name, sluice_native_filter_fn fn, std::vector<std::byte> params);
  std::string name_;
  sluice_native_filter_fn native_ = nullptr;
  std::vector<std::byte> params_;
  std::shared_ptr<const CompiledFilter> compiled_;  // keeps the native code loaded
};

}  // namespace sluice
