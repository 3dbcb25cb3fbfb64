// Building parameter blocks for the built-in filters (filters/*.c) from user input.
#include <sluice/compiled_filter.hpp>
#include <sluice/error.hpp>
#include <sluice/filter.hpp>

extern "C" {
#include <sluice/filters/column_compare.h>
#include <sluice/filters/constant.h>
#include <sluice/filters/fixed_string.h>

int sluice_native_fixed_string(const void*, const sluice_u8*, sluice_u32);
int sluice_native_column_compare(const void*, const sluice_u8*, sluice_u32);
int sluice_native_keep_all(const void*, const sluice_u8*, sluice_u32);
int sluice_native_keep_none(const void*, const sluice_u8*, sluice_u32);
}

#include "byte_search.hpp"

#include <charconv>
#include <cstring>
#include <type_traits>

namespace sluice {
namespace {

template <typename Params>
std::vector<std::byte> to_bytes(const Params& params) {
  static_assert(std::is_trivially_copyable_v<Params>);
  std::vector<std::byte> bytes(sizeof(Params));
  std::memcpy(bytes.data(), &params, sizeof(Params));
  return bytes;
}

// What typical_text_frequency() sums to, roughly (see byte_search.cpp).
constexpr std::uint64_t kTypicalTextTotal = 4096;

void set_probes(sluice_needle& needle, const ByteFrequency& frequency, std::uint64_t total) {
  std::string_view text(reinterpret_cast<const char*>(needle.bytes), needle.len);
  auto [first, second] = bpf_probe_offsets(text, frequency, total);
  needle.probe[0] = static_cast<sluice_u32>(first);
  needle.probe[1] = static_cast<sluice_u32>(second);
}

void set_needle(sluice_needle& needle, std::string_view text, std::string_view what) {
  if (text.size() > SLUICE_NEEDLE_MAX)
    throw UsageError(std::string(what) + " is " + std::to_string(text.size()) +
                     " bytes long; filters carry at most " + std::to_string(SLUICE_NEEDLE_MAX));
  needle.len = static_cast<sluice_u32>(text.size());
  std::memcpy(needle.bytes, text.data(), text.size());
  set_probes(needle, typical_text_frequency(), kTypicalTextTotal);
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

Filter make_fixed_string(const FixedStringSpec& spec, auto make) {
  // grep splits a pattern at newlines into several patterns; records never contain '\n'.
  std::vector<std::string> patterns;
  for (const std::string& p : spec.patterns) {
    std::size_t start = 0;
    while (true) {
      std::size_t nl = p.find('\n', start);
      patterns.push_back(p.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  if (patterns.empty()) throw UsageError("no pattern given (use -e PATTERN)");
  if (patterns.size() > SLUICE_PATTERNS_MAX)
    throw UsageError(std::to_string(patterns.size()) + " patterns given; at most " +
                     std::to_string(SLUICE_PATTERNS_MAX) + " are supported");
  sluice_fixed_string_params params{};
  params.npatterns = static_cast<sluice_u32>(patterns.size());
  params.icase = spec.ignore_case;
  params.invert = spec.invert;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    std::string text = patterns[i];
    if (spec.ignore_case)
      for (char& c : text) c = ascii_lower(c);
    set_needle(params.patterns[i], text, "pattern '" + patterns[i] + "'");
  }
  if (patterns.size() == 1 && !spec.invert && !spec.ignore_case && !patterns[0].empty()) {
    params.hdr.required_literal = params.patterns[0];
    params.hdr.literal_exact = 1;
  }
  return make("fixed_string", &sluice_native_fixed_string, to_bytes(params));
}

Filter make_column_compare(const ColumnCompareSpec& spec, auto make) {
  if (spec.column == 0) throw UsageError("column numbers start at 1");
  if (spec.column > 65535) throw UsageError("column number " + std::to_string(spec.column) + " is too large (at most 65535)");
  if (spec.delimiter == '\n') throw UsageError("the delimiter cannot be a newline (it separates records)");
  sluice_column_compare_params params{};
  params.column = spec.column;
  params.delimiter = static_cast<unsigned char>(spec.delimiter);
  params.op = static_cast<sluice_u32>(spec.op);
  switch (spec.type) {
    case ValueType::integer: {
      params.type = SLUICE_TYPE_INT;
      std::string_view v = spec.value;
      std::size_t skip = (!v.empty() && v[0] == '+') ? 1 : 0;
      auto [end, ec] = std::from_chars(v.data() + skip, v.data() + v.size(), params.int_value);
      if (v.empty() || ec != std::errc() || end != v.data() + v.size())
        throw UsageError("value '" + spec.value + "' is not a 64-bit integer");
      break;
    }
    case ValueType::decimal: {
      params.type = SLUICE_TYPE_DECIMAL;
      if (spec.value.size() > SLUICE_NUMBER_MAX ||
          sluice_decimal_from_text(spec.value.data(), static_cast<sluice_u32>(spec.value.size()),
                                   &params.decimal_value) != 0)
        throw UsageError("value '" + spec.value + "' is not a decimal number (digits, one '.', optional sign)");
      break;
    }
    case ValueType::string:
      params.type = SLUICE_TYPE_STRING;
      set_needle(params.string_value, spec.value, "value");
      // A field equal to a non-empty string means the record contains it.
      if (spec.op == CompareOp::eq && !spec.value.empty() &&
          spec.value.find(spec.delimiter) == std::string::npos)
        params.hdr.required_literal = params.string_value;
      break;
  }
  return make("column_compare", &sluice_native_column_compare, to_bytes(params));
}

}  // namespace

Filter::Filter(std::string name, sluice_native_filter_fn fn, std::vector<std::byte> params)
    : name_(std::move(name)), native_(fn), params_(std::move(params)) {}

namespace {
sluice_param_header header_of(std::span<const std::byte> params) {
  sluice_param_header header;
  std::memcpy(&header, params.data(), sizeof(header));
  return header;
}
}  // namespace

std::string_view Filter::required_literal() const {
  const auto* base = reinterpret_cast<const char*>(params_.data());
  return {base + offsetof(sluice_param_header, required_literal.bytes), header_of(params_).required_literal.len};
}

Filter Filter::tuned_for(std::span<const char> sample) const {
  if (sample.empty()) return *this;
  ByteFrequency frequency{};
  for (char c : sample) ++frequency[static_cast<unsigned char>(c)];
  Filter tuned = *this;
  auto retune = [&](sluice_needle& n) { set_probes(n, frequency, sample.size()); };
  auto edit = [&]<typename Params>(auto&& fn) {
    Params p;
    std::memcpy(&p, tuned.params_.data(), sizeof p);
    fn(p);
    std::memcpy(tuned.params_.data(), &p, sizeof p);
  };
  if (name_ == "fixed_string" && !compiled_) {
    edit.template operator()<sluice_fixed_string_params>([&](sluice_fixed_string_params& p) {
      retune(p.hdr.required_literal);
      for (sluice_u32 i = 0; i < p.npatterns && i < SLUICE_PATTERNS_MAX; ++i) retune(p.patterns[i]);
    });
  } else {
    edit.template operator()<sluice_param_header>([&](sluice_param_header& h) { retune(h.required_literal); });
  }
  return tuned;
}

bool Filter::literal_is_exact() const { return header_of(params_).literal_exact != 0; }
Framing Filter::framing() const { return static_cast<Framing>(header_of(params_).framing); }
std::uint32_t Filter::record_size() const { return header_of(params_).record_size; }

Filter Filter::with_framing(Framing framing, std::uint32_t record_size) const {
  if ((framing == Framing::fixed) != (record_size > 0))
    throw UsageError("a record size is given for fixed-size records, and only for them");
  Filter copy = *this;
  sluice_param_header h = header_of(copy.params_);
  h.framing = static_cast<sluice_u32>(framing);
  h.record_size = record_size;
  std::memcpy(copy.params_.data(), &h, sizeof h);
  return copy;
}

Filter Filter::from_compiled(std::shared_ptr<const CompiledFilter> compiled, std::vector<std::byte> params) {
  if (!compiled || !compiled->native) throw Error("internal: a compiled filter without its native build");
  if (params.size() != compiled->params_size || params.size() < sizeof(sluice_param_header))
    throw Error("internal: parameter block of " + compiled->display_name() + " has the wrong size");
  sluice_param_header hdr = header_of(params);
  if (hdr.framing > SLUICE_FRAMING_FIXED)
    throw UsageError(compiled->display_name() + ": unknown record framing " + std::to_string(hdr.framing) +
                     " in its parameter header (SLUICE_FRAMING_LINES, _CSV or _FIXED)");
  if (hdr.framing == SLUICE_FRAMING_FIXED && hdr.record_size == 0)
    throw UsageError(compiled->display_name() + ": fixed-size framing needs a record_size > 0");
  Filter f(compiled->filter_name(), compiled->native, std::move(params));
  f.compiled_ = std::move(compiled);
  return f;
}

Filter Filter::make(const FilterSpec& spec) {
  auto make = [](const char* name, sluice_native_filter_fn fn, std::vector<std::byte> params) {
    return Filter(name, fn, std::move(params));
  };
  return std::visit(
      [&](const auto& s) -> Filter {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, FixedStringSpec>) {
          return make_fixed_string(s, make);
        } else if constexpr (std::is_same_v<T, ColumnCompareSpec>) {
          return make_column_compare(s, make);
        } else if constexpr (std::is_same_v<T, KeepAllSpec>) {
          sluice_constant_params params{};
          params.hdr.constant = SLUICE_VERDICT_KEEP_ALL;
          return make("keep_all", &sluice_native_keep_all, to_bytes(params));
        } else {
          sluice_constant_params params{};
          params.hdr.constant = SLUICE_VERDICT_DROP_ALL;
          return make("keep_none", &sluice_native_keep_none, to_bytes(params));
        }
      },
      spec);
}

CompareOp parse_compare_op(std::string_view text) {
  if (text == "=" || text == "==" || text == "eq") return CompareOp::eq;
  if (text == "!=" || text == "ne") return CompareOp::ne;
  if (text == "<" || text == "lt") return CompareOp::lt;
  if (text == "<=" || text == "le") return CompareOp::le;
  if (text == ">" || text == "gt") return CompareOp::gt;
  if (text == ">=" || text == "ge") return CompareOp::ge;
  throw UsageError("unknown comparison '" + std::string(text) + "' (use = != < <= > >=)");
}

ValueType parse_value_type(std::string_view text) {
  if (text == "int" || text == "integer") return ValueType::integer;
  if (text == "decimal" || text == "float" || text == "num" || text == "number") return ValueType::decimal;
  if (text == "string" || text == "str") return ValueType::string;
  throw UsageError("unknown value type '" + std::string(text) + "' (use int, decimal or string)");
}

}  // namespace sluice
