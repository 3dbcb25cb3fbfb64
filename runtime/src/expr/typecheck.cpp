// Type checking of --where expressions: names resolved, operand kinds checked, constant
// parts folded; and what the checked tree tells hosts (the required literal).
// GCC 12 reports false -Wrestrict positives on std::string concatenation at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "expr/abi.hpp"

#include <algorithm>

namespace sluice::expr {
namespace {

std::string trim_name(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    std::string out;
    s = s.substr(1, s.size() - 2);
    for (std::size_t i = 0; i < s.size(); ++i) {
      out += s[i];
      if (s[i] == '"' && i + 1 < s.size() && s[i + 1] == '"') ++i;  // "" inside quotes
    }
    return out;
  }
  return std::string(s);
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      unsigned char b = static_cast<unsigned char>(s[i + k]);
      unsigned lo = 0x80, hi = 0xbf;
      if (k == 1 && c == 0xe0) lo = 0xa0;
      if (k == 1 && c == 0xed) hi = 0x9f;
      if (k == 1 && c == 0xf0) lo = 0x90;
      if (k == 1 && c == 0xf4) hi = 0x8f;
      if (b < lo || b > hi) return false;
    }
    i += n;
  }
  return true;
}

class Checker {
 public:
  Checker(Expr& e, const CheckOptions& o) : expr_(e), options_(o) {}

  void run() {
    check(expr_.root);
    simplify(expr_.root);
  }

 private:
  [[noreturn]] void fail(std::string message, std::size_t at, std::string hint) const {
    throw ParseError(std::move(message), expr_.text, at, std::move(hint));
  }

  bool binary() const { return options_.format == RecordFormat::binary; }

  // The schema field of a resolved field operand of a binary record, else null.
  const SchemaField* schema_field(const Operand& o) const {
    if (!binary() || o.type != Operand::Type::field || o.field == 0) return nullptr;
    return &options_.schema.fields[o.field - 1];
  }

  static std::string type_name(const SchemaField& f) {
    static constexpr const char* kNames[] = {"u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64"};
    return f.is_number() ? kNames[static_cast<int>(f.type)] : "char[" + std::to_string(f.size) + "]";
  }

  // A string literal that a numeric binary field is tested against: a type error.
  void reject_string_on_number(const Operand& field, const Operand& literal, const char* what) const {
    const SchemaField* f = schema_field(field);
    if (f && f->is_number() && literal.type == Operand::Type::string)
      fail(std::string(what) + " the number field '" + f->name + "' (" + type_name(*f) + ") with a string", literal.pos,
           "compare it with a number: " + f->name + " > 5; text tests apply to char[N] fields");
  }

  // CSV compares a quoted field's raw bytes with the literal's quotes doubled, which must fit.
  void check_csv_literal(const Operand& literal) const {
    if (options_.format != RecordFormat::csv || literal.type != Operand::Type::string) return;
    std::size_t quotes = std::count(literal.text.begin(), literal.text.end(), '"');
    if (literal.text.size() + quotes > SLUICE_NEEDLE_MAX)
      fail("in CSV this string is longer than " + std::to_string(SLUICE_NEEDLE_MAX) + " bytes with its quotes doubled",
           literal.pos, "use a shorter string");
  }

  // A bare word that names no column: most often a string without its quotes, or a
  // misspelt keyword (the parser's hint says which).
  [[noreturn]] void unknown_word(const Operand& o, const std::string& where) const {
    fail("unknown word '" + o.text + "'", o.pos, o.bare_hint + where);
  }

  void resolve(Operand& o) {
    bool jsonl = options_.format == RecordFormat::jsonl;
    if (o.bare && jsonl) unknown_word(o, "; fields of JSON lines are paths: ." + o.text);
    if (o.bare && !binary() && !(options_.bare_names && !options_.header.empty()))
      unknown_word(o, "; a bare column name needs --header (or write col(\"" + o.text + "\"))");
    if (o.type == Operand::Type::path && !jsonl)
      fail("a JSON path needs --format jsonl", o.pos,
           "with --format jsonl each record is a JSON object and .name its member; otherwise fields are $N or "
           "col(\"name\")");
    if (jsonl && (o.type == Operand::Type::column || (o.type == Operand::Type::field && o.field != 0)))
      fail("with --format jsonl, fields are JSON paths", o.pos,
           "write .name, .a.b or .\"any key\"; $0 is the whole record");
    if (binary()) return resolve_schema(o);
    if (o.type != Operand::Type::column) return;
    if (options_.header.empty())
      fail("col(\"" + o.text + "\") needs a header line", o.pos,
           "the first line of the file names the columns (sluice reads it when col() is used); or use $N");
    for (std::size_t i = 0; i < options_.header.size(); ++i)
      if (options_.header[i] == o.text) {
        o.type = Operand::Type::field;
        o.field = static_cast<std::uint32_t>(i + 1);
        return;
      }
    std::string hint;
    for (std::size_t i = 0; i < options_.header.size(); ++i) {
      std::string a = options_.header[i], b = o.text;
      std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return std::tolower(c); });
      std::transform(b.begin(), b.end(), b.begin(), [](unsigned char c) { return std::tolower(c); });
      if (a == b) {
        hint = "did you mean " + (o.bare ? options_.header[i] : "col(\"" + options_.header[i] + "\")") +
               "? (names are case-sensitive)";
        break;
      }
    }
    if (hint.empty()) {
      hint = "the header has: ";
      for (std::size_t i = 0; i < options_.header.size() && i < 12; ++i)
        hint += (i ? ", " : "") + std::string("\"") + options_.header[i] + "\"";
      if (options_.header.size() > 12) hint += ", ...";
    }
    if (o.bare) hint = o.bare_hint + "; " + hint;
    fail("no column named \"" + o.text + "\" in the header", o.pos, hint);
  }

  void resolve_schema(Operand& o) {
    const Schema& schema = options_.schema;
    if (o.type == Operand::Type::column) {
      if (schema.fields.empty())
        fail("col(\"" + o.text + "\") needs a schema for binary records", o.pos,
             "give --schema \"u32 id, f64 score, ...\"");
      if (std::uint32_t i = schema.index_of(o.text)) {
        o.type = Operand::Type::field;
        o.field = i;
        return;
      }
      std::string hint = "the schema has: ";
      for (std::size_t i = 0; i < schema.fields.size() && i < 12; ++i) hint += (i ? ", " : "") + schema.fields[i].name;
      if (o.bare) hint = o.bare_hint + "; " + hint;
      fail("no field named \"" + o.text + "\" in the schema", o.pos, hint);
    }
    if (o.type != Operand::Type::field) return;
    if (schema.fields.empty())
      fail("$" + std::to_string(o.field) + " needs a schema for binary records", o.pos,
           "give --schema \"u32 id, f64 score, ...\"");
    if (o.field == 0)
      fail("$0 is not a field of a binary record", o.pos, "use $1..$" + std::to_string(schema.fields.size()) + " or names");
    if (o.field > schema.fields.size())
      fail("$" + std::to_string(o.field) + " is past the schema's " + std::to_string(schema.fields.size()) + " fields",
           o.pos, "the schema has $1..$" + std::to_string(schema.fields.size()));
  }

  static Node constant(bool v, std::size_t pos) {
    Node n;
    n.kind = Node::Kind::constant;
    n.value = v;
    n.pos = pos;
    return n;
  }

  void check(Node& n) {
    switch (n.kind) {
      case Node::Kind::constant: return;
      case Node::Kind::logical_or:
      case Node::Kind::logical_and:
      case Node::Kind::logical_not:
        for (Node& k : n.kids) check(k);
        return;
      case Node::Kind::compare: return check_compare(n);
      case Node::Kind::contains:
      case Node::Kind::starts_with:
      case Node::Kind::ends_with: return check_search(n);
      case Node::Kind::in_list: return check_in(n);
      case Node::Kind::is_empty: {
        resolve(n.lhs);
        if (const SchemaField* f = schema_field(n.lhs); f && f->is_number())
          fail("the number field '" + f->name + "' (" + type_name(*f) + ") is never empty", n.lhs.pos,
               "is empty applies to char[N] fields");
        if (n.lhs.is_literal()) n = constant(n.lhs.type == Operand::Type::string && n.lhs.text.empty(), n.pos);
        return;
      }
    }
  }

  void check_number(const Operand& o) const {
    if (o.type == Operand::Type::number && !decimal_of(o.text))
      fail("not a number: " + o.text, o.pos, "numbers are digits with at most one '.', up to 64 characters");
  }

  void check_compare(Node& n) {
    resolve(n.lhs);
    resolve(n.rhs);
    check_number(n.lhs);
    check_number(n.rhs);
    if (n.lhs.is_literal() && n.rhs.is_literal()) {
      if (n.lhs.type != n.rhs.type)
        fail("cannot compare a number with a string", n.rhs.pos,
             "quote the number (\"5\") to compare text, or unquote the string to compare numbers");
      int c = n.lhs.type == Operand::Type::number ? sluice_cmp_decimal_text(n.lhs.text, n.rhs.text)
                                                   : compare_bytes(n.lhs.text, n.rhs.text);
      n = constant(op_holds(n.op, c), n.pos);
      return;
    }
    if (!n.lhs.is_literal() && !n.rhs.is_literal()) {
      // Two fields compare as awk compares them: as numbers when both are, else as text.
      if (n.lhs.type == Operand::Type::path || n.rhs.type == Operand::Type::path)
        fail("comparing two JSON values is not supported", n.rhs.pos,
             "compare a JSON value with a literal: .status >= 500, .user.name == \"x\"");
      if (binary())
        fail("comparing two fields of binary records is not supported", n.rhs.pos,
             "compare a field with a literal: price > 5; two fields compare in lines, CSV and TSV records");
      return;
    }
    if (n.lhs.is_literal()) {
      std::swap(n.lhs, n.rhs);
      n.op = mirror(n.op);
    }
    reject_string_on_number(n.lhs, n.rhs, "cannot compare");
    check_csv_literal(n.rhs);
  }

  static int sluice_cmp_decimal_text(const std::string& a, const std::string& b) {
    return compare_number(a, *decimal_of(b));
  }

  void check_search(Node& n) {
    resolve(n.lhs);
    resolve(n.rhs);
    const char* name = n.kind == Node::Kind::contains ? "contains" : n.kind == Node::Kind::starts_with ? "startswith" : "endswith";
    if (n.rhs.type == Operand::Type::number)
      fail(std::string("the second argument of ") + name + " is a string", n.rhs.pos,
           "quote it: " + std::string(name) + "(..., \"" + n.rhs.text + "\")");
    if (n.rhs.type != Operand::Type::string)
      fail(std::string("the second argument of ") + name + " must be a string literal", n.rhs.pos,
           std::string(name) + "($2, \"text\")");
    if (n.lhs.type == Operand::Type::path && !valid_utf8(n.rhs.text))
      fail(std::string("the second argument of ") + name + " on a JSON path must be valid UTF-8", n.rhs.pos,
           "JSON strings are compared as their decoded UTF-8 text");
    if (n.lhs.is_literal()) {
      const std::string& s = n.lhs.text;
      const std::string& k = n.rhs.text;
      bool v = n.kind == Node::Kind::contains ? s.find(k) != std::string::npos
               : n.kind == Node::Kind::starts_with ? s.starts_with(k)
                                                   : s.ends_with(k);
      n = constant(v, n.pos);
      return;
    }
    if (const SchemaField* f = schema_field(n.lhs); f && f->is_number())
      fail(std::string(name) + " tests text, and '" + f->name + "' is a number field (" + type_name(*f) + ")",
           n.lhs.pos, "text tests apply to char[N] fields");
    check_csv_literal(n.rhs);
  }

  void check_in(Node& n) {
    resolve(n.lhs);
    for (Operand& o : n.list) {
      check_number(o);
      reject_string_on_number(n.lhs, o, "cannot compare");
      check_csv_literal(o);
    }
    if (n.lhs.is_literal()) {
      check_number(n.lhs);
      bool v = false;
      for (const Operand& o : n.list)
        if (o.type == n.lhs.type)
          v |= (o.type == Operand::Type::number ? sluice_cmp_decimal_text(n.lhs.text, o.text)
                                                : compare_bytes(n.lhs.text, o.text)) == 0;
      n = constant(v, n.pos);
    }
  }

  // Folds constants out of and/or/not; a constant survives only as the whole expression.
  static void simplify(Node& n) {
    switch (n.kind) {
      case Node::Kind::logical_not: {
        simplify(n.kids[0]);
        if (n.kids[0].kind == Node::Kind::constant) {
          n = constant(!n.kids[0].value, n.pos);
        } else if (n.kids[0].kind == Node::Kind::logical_not) {
          Node inner = std::move(n.kids[0].kids[0]);
          n = std::move(inner);
        }
        return;
      }
      case Node::Kind::logical_or:
      case Node::Kind::logical_and: {
        bool is_and = n.kind == Node::Kind::logical_and;
        std::vector<Node> kept;
        for (Node& k : n.kids) {
          simplify(k);
          if (k.kind == Node::Kind::constant) {
            if (k.value != is_and) {  // false in and / true in or decides
              n = constant(!is_and, n.pos);
              return;
            }
            continue;  // neutral element
          }
          if (k.kind == n.kind) {  // flatten
            for (Node& g : k.kids) kept.push_back(std::move(g));
          } else {
            kept.push_back(std::move(k));
          }
        }
        if (kept.empty()) {
          n = constant(is_and, n.pos);
        } else if (kept.size() == 1) {
          Node only = std::move(kept[0]);
          n = std::move(only);
        } else {
          n.kids = std::move(kept);
        }
        return;
      }
      default: return;
    }
  }

  Expr& expr_;
  const CheckOptions& options_;
};

// col("x") only: bare names resolve against a declared header, never one read for them.
bool uses_names(const Node& n) {
  auto named = [](const Operand& o) { return o.type == Operand::Type::column && !o.bare; };
  if (named(n.lhs) || named(n.rhs)) return true;
  for (const Node& k : n.kids)
    if (uses_names(k)) return true;
  return false;
}

// A literal every kept record contains ("" for none): the longest one implied.
std::string literal_of(const Node& n) {
  auto usable = [](const std::string& s) { return !s.empty() && s.find('\n') == std::string::npos; };
  // A JSON string may spell any character as an escape (\u0061 for a): what a path's value
  // holds need not be in the record's bytes.
  if (n.lhs.type == Operand::Type::path) return "";
  switch (n.kind) {
    case Node::Kind::contains:
    case Node::Kind::starts_with:
    case Node::Kind::ends_with: return usable(n.rhs.text) ? n.rhs.text : "";
    case Node::Kind::compare:
      // A field equal to a string contains it (a missing field is "": never equal to it).
      if (n.op == Cmp::eq && n.rhs.type == Operand::Type::string && usable(n.rhs.text)) return n.rhs.text;
      return "";
    case Node::Kind::in_list:
      if (n.list.size() == 1 && n.list[0].type == Operand::Type::string && usable(n.list[0].text)) return n.list[0].text;
      return "";
    case Node::Kind::logical_and: {
      std::string best;
      for (const Node& k : n.kids) {
        std::string s = literal_of(k);
        if (s.size() > best.size()) best = s;
      }
      return best;
    }
    case Node::Kind::logical_or: {
      // Every branch must contain it: only when all branches imply the same literal.
      std::string common = literal_of(n.kids[0]);
      for (std::size_t i = 1; i < n.kids.size() && !common.empty(); ++i)
        if (literal_of(n.kids[i]) != common) common.clear();
      return common;
    }
    default: return "";
  }
}

void print(const Node& n, std::string& out);

void print_operand(const Operand& o, std::string& out) {
  switch (o.type) {
    case Operand::Type::field: out += "$" + std::to_string(o.field); return;
    case Operand::Type::column: out += "col(\"" + o.text + "\")"; return;
    case Operand::Type::path:
      for (const std::string& key : o.path) {
        bool plain = !key.empty() && !(key[0] >= '0' && key[0] <= '9');
        for (char c : key)
          plain = plain && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
        out += '.';
        if (plain) {
          out += key;
        } else {
          Operand quoted;
          quoted.type = Operand::Type::string;
          quoted.text = key;
          print_operand(quoted, out);
        }
      }
      return;
    case Operand::Type::number: out += o.text; return;
    case Operand::Type::string: {
      out += '"';
      for (unsigned char c : o.text) {
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c == '\n') {
          out += "\\n";
        } else if (c == '\t') {
          out += "\\t";
        } else if (c < 0x20 || c == 0x7f) {
          const char* hex = "0123456789abcdef";
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
      }
      out += '"';
      return;
    }
  }
}

void print(const Node& n, std::string& out) {
  switch (n.kind) {
    case Node::Kind::constant: out += n.value ? "true" : "false"; return;
    case Node::Kind::logical_or:
    case Node::Kind::logical_and:
      out += "(";
      for (std::size_t i = 0; i < n.kids.size(); ++i) {
        if (i) out += n.kind == Node::Kind::logical_or ? " or " : " and ";
        print(n.kids[i], out);
      }
      out += ")";
      return;
    case Node::Kind::logical_not:
      out += "not ";
      print(n.kids[0], out);
      return;
    case Node::Kind::compare:
      out += "(";
      print_operand(n.lhs, out);
      out += std::string(" ") + op_text(n.op) + " ";
      print_operand(n.rhs, out);
      out += ")";
      return;
    case Node::Kind::contains:
    case Node::Kind::starts_with:
    case Node::Kind::ends_with:
      out += n.kind == Node::Kind::contains ? "contains(" : n.kind == Node::Kind::starts_with ? "startswith(" : "endswith(";
      print_operand(n.lhs, out);
      out += ", ";
      print_operand(n.rhs, out);
      out += ")";
      return;
    case Node::Kind::in_list:
      out += "(";
      print_operand(n.lhs, out);
      out += " in (";
      for (std::size_t i = 0; i < n.list.size(); ++i) {
        if (i) out += ", ";
        print_operand(n.list[i], out);
      }
      out += "))";
      return;
    case Node::Kind::is_empty:
      out += "(";
      print_operand(n.lhs, out);
      out += " is empty)";
      return;
  }
}

}  // namespace

void check(Expr& expr, const CheckOptions& options) { Checker(expr, options).run(); }

bool uses_column_names(const Expr& expr) { return uses_names(expr.root); }

std::vector<std::string> split_header(std::string_view line, char delimiter, RecordFormat format) {
  std::vector<std::string> names;
  if (format == RecordFormat::csv) {
    std::string_view field;
    for (std::uint32_t n = 1; csv_field(line, delimiter, n, field); ++n) names.push_back(trim_name(field));
    return names;
  }
  while (true) {
    std::size_t d = line.find(delimiter);
    names.push_back(trim_name(line.substr(0, d)));
    if (d == std::string_view::npos) break;
    line.remove_prefix(d + 1);
  }
  return names;
}

std::string required_literal(const Expr& expr, bool* exact) {
  std::string lit = expr.root.kind == Node::Kind::constant ? "" : literal_of(expr.root);
  if (exact)
    *exact = !lit.empty() && expr.root.kind == Node::Kind::contains && expr.root.lhs.type == Operand::Type::field &&
             expr.root.lhs.field == 0;
  return lit;
}

std::string to_string(const Expr& expr) {
  std::string out;
  print(expr.root, out);
  return out;
}

}  // namespace sluice::expr
