// Reference interpreter of checked --where expressions. Written independently of the code
// generator (fields split with std::string_view, strings compared with std::string) so tests
// can hold the compiled filters against it; numbers use the same rules (compare.h).
#include "expr/abi.hpp"

#include <optional>

namespace sluice::expr {
namespace {

std::optional<std::string_view> field_of(std::string_view record, char delim, std::uint32_t n) {
  if (n == 0) return record;
  for (std::uint32_t i = 1; i < n; ++i) {
    std::size_t d = record.find(delim);
    if (d == std::string_view::npos) return std::nullopt;
    record.remove_prefix(d + 1);
  }
  return record.substr(0, record.find(delim));
}

bool test(const Node& n, std::string_view record, char delim);

bool equal_to(std::optional<std::string_view> f, const Operand& v, Cmp op) {
  if (v.type == Operand::Type::number) {
    if (!f) return false;
    int c = compare_number(*f, *decimal_of(v.text));
    return c != SLUICE_CMP_NAN && op_holds(op, c);
  }
  return op_holds(op, compare_bytes(f.value_or(std::string_view{}), v.text));
}

bool test(const Node& n, std::string_view record, char delim) {
  switch (n.kind) {
    case Node::Kind::constant: return n.value;
    case Node::Kind::logical_or:
      for (const Node& k : n.kids)
        if (test(k, record, delim)) return true;
      return false;
    case Node::Kind::logical_and:
      for (const Node& k : n.kids)
        if (!test(k, record, delim)) return false;
      return true;
    case Node::Kind::logical_not: return !test(n.kids[0], record, delim);
    case Node::Kind::compare: return equal_to(field_of(record, delim, n.lhs.field), n.rhs, n.op);
    case Node::Kind::contains:
    case Node::Kind::starts_with:
    case Node::Kind::ends_with: {
      std::string_view f = field_of(record, delim, n.lhs.field).value_or(std::string_view{});
      if (n.kind == Node::Kind::contains) return f.find(n.rhs.text) != std::string_view::npos;
      if (n.kind == Node::Kind::starts_with) return f.starts_with(n.rhs.text);
      return f.ends_with(n.rhs.text);
    }
    case Node::Kind::in_list: {
      std::optional<std::string_view> f = field_of(record, delim, n.lhs.field);
      for (const Operand& v : n.list)
        if (equal_to(f, v, Cmp::eq)) return true;
      return false;
    }
    case Node::Kind::is_empty: {
      std::optional<std::string_view> f = field_of(record, delim, n.lhs.field);
      return !f || f->empty();
    }
  }
  return false;
}

}  // namespace

bool evaluate(const Expr& expr, std::string_view record, char delimiter) { return test(expr.root, record, delimiter); }

}  // namespace sluice::expr
