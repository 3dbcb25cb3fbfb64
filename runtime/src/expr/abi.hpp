// The filter ABI's C definitions (filters/include/sluice/filter.h, compare.h) for the
// expression compiler and interpreter, which share the numeric rules with the filters.
#pragma once

#include <sluice/expr.hpp>

extern "C" {
#include <sluice/filter.h>
}

#include <optional>
#include <string>
#include <string_view>

namespace sluice::expr {

// The normalised decimal of a number literal (the lexer guarantees the form).
inline std::optional<sluice_decimal> decimal_of(std::string_view text) {
  sluice_decimal d{};
  if (text.size() > SLUICE_NUMBER_MAX ||
      sluice_decimal_from_text(text.data(), static_cast<sluice_u32>(text.size()), &d) != 0)
    return std::nullopt;
  return d;
}

inline bool op_holds(Cmp op, int cmp) { return sluice_op_holds(static_cast<sluice_u32>(op), cmp) != 0; }

// -1/0/1 comparing text (a field) with a decimal constant, or SLUICE_CMP_NAN when text is
// not a number by the rules of compare.h.
inline int compare_number(std::string_view text, const sluice_decimal& k) {
  return sluice_cmp_decimal(reinterpret_cast<const sluice_u8*>(text.data()), 0,
                            static_cast<sluice_u32>(text.size()), &k);
}

inline int compare_bytes(std::string_view a, std::string_view b) {
  int c = a.compare(b);  // char_traits<char>::compare is memcmp: unsigned bytes
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// -1/0/1 comparing the exact value of x (finite or infinite, not NaN) with the decimal
// literal text (schema.cpp).
int compare_double_with_decimal(double x, std::string_view literal);

inline Cmp mirror(Cmp op) {
  switch (op) {
    case Cmp::lt: return Cmp::gt;
    case Cmp::le: return Cmp::ge;
    case Cmp::gt: return Cmp::lt;
    case Cmp::ge: return Cmp::le;
    default: return op;
  }
}

inline const char* op_text(Cmp op) {
  switch (op) {
    case Cmp::eq: return "==";
    case Cmp::ne: return "!=";
    case Cmp::lt: return "<";
    case Cmp::le: return "<=";
    case Cmp::gt: return ">";
    case Cmp::ge: return ">=";
  }
  return "?";
}

}  // namespace sluice::expr
