// C code generation: a checked --where expression becomes a filter of the sluice ABI.
//
// The generated source defines struct sluice_where_params (the header, then the string and
// decimal constants the expression compares with: primitives take them by pointer, so on BPF
// they must live in the parameter block's .data copy) and SLUICE_FILTER(where, ...), whose
// body calls one global function, sluice_where_eval: on BPF it is verified once, whatever
// host loop calls it. The tests inside it are inlined: a global function per test would make
// the call chain host -> window -> records -> eval -> test -> find_needle -> block -> needle_at
// one frame deeper than the verifier's limit of 8. Fields are located once per record, left to right, each from the previous one.
// GCC 12 reports false -Wrestrict positives on std::string concatenation at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include "expr/abi.hpp"

#include "byte_search.hpp"

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>

namespace sluice::expr {
namespace {

// Shared by every generated filter; plain C over the primitives of filter.h.
constexpr const char* kPrelude = R"(
/* Bounds of field n counted from the field after `prev` (packed start << 32 | end); csv: by
 * RFC 4180 (quotes included). */
SLUICE_INLINE sluice_u64 sluice_where_next(sluice_buf_t w, sluice_u64 prev, sluice_u32 end,
					      sluice_u32 delim, sluice_u32 n, int csv)
{
	sluice_u32 stop;

	if (!w || prev == SLUICE_NO_FIELD)
		return SLUICE_NO_FIELD;
	stop = (sluice_u32)prev;
	if (stop >= end)
		return SLUICE_NO_FIELD;
	return csv ? sluice_csv_field(w, stop + 1, end, delim, n) : sluice_field(w, stop + 1, end, delim, n);
}

/* Numeric comparison: false when the field is missing or not a number (compare.h rules). */
SLUICE_INLINE int sluice_where_num(sluice_buf_t w, sluice_u64 f, const struct sluice_decimal *k,
				      sluice_u32 op)
{
	struct sluice_number_span span;
	int c;

	if (!w || !k || f == SLUICE_NO_FIELD)
		return 0;
	if (sluice_parse_number(w, (sluice_u32)(f >> 32), (sluice_u32)f, &span) != 0)
		return 0;
	c = sluice_cmp_span_decimal(w, &span, k);
	return sluice_op_holds(op, c);
}

/* Bytewise comparison; a missing field is the empty string (as in awk). */
SLUICE_INLINE int sluice_where_str(sluice_buf_t w, sluice_u64 f, const struct sluice_needle *k,
				      sluice_u32 op)
{
	sluice_u32 s = 0, e = 0;
	int c;

	if (!w || !k)
		return 0;
	if (f != SLUICE_NO_FIELD) {
		s = (sluice_u32)(f >> 32);
		e = (sluice_u32)f;
	}
	c = sluice_cmp_string(w, s, e, k);
	return c != SLUICE_CMP_NAN && sluice_op_holds(op, c);
}

/* Two fields, as awk compares them: exactly as numbers when both are numbers (compare.h
 * rules), otherwise bytewise as strings (a missing field is the empty string). aq/bq: the
 * field is a quoted CSV field (its doubled quotes count once). */
SLUICE_INLINE int sluice_where_fields(sluice_buf_t w, sluice_u64 fa, sluice_u32 aq, sluice_u64 fb, sluice_u32 bq,
					 sluice_u32 op)
{
	struct sluice_number_span na, nb;

	if (!w)
		return 0;
	if (fa == SLUICE_NO_FIELD)
		fa = 0; /* the empty string */
	if (fb == SLUICE_NO_FIELD)
		fb = 0;
	if (sluice_parse_number(w, (sluice_u32)(fa >> 32), (sluice_u32)fa, &na) == 0 &&
	    sluice_parse_number(w, (sluice_u32)(fb >> 32), (sluice_u32)fb, &nb) == 0)
		return sluice_op_holds(op, sluice_cmp_spans(w, &na, &nb));
	return sluice_op_holds(op, sluice_cmp_values(w, fa, fb, (aq ? 1 : 0) | (bq ? 2 : 0)));
}

/* how: 0 contains, 1 starts with, 2 ends with. A missing field is the empty string. */
SLUICE_INLINE int sluice_where_has(sluice_buf_t w, sluice_u64 f, const struct sluice_needle *k,
				      sluice_u32 how)
{
	if (f == SLUICE_NO_FIELD)
		return sluice_has_bytes(w, 0, 0, k, how);
	return sluice_has_bytes(w, (sluice_u32)(f >> 32), (sluice_u32)f, k, how);
}

/* A comparison's verdict: false when the value is not comparable (SLUICE_CMP_NAN). */
SLUICE_INLINE int sluice_where_holds(int c, sluice_u32 op)
{
	return c != SLUICE_CMP_NAN && sluice_op_holds(op, c);
}

SLUICE_INLINE int sluice_where_empty(sluice_u64 f)
{
	return f == SLUICE_NO_FIELD || (sluice_u32)(f >> 32) == (sluice_u32)f;
}

/* CSV: the value of a field that starts and ends with '"' lies between them (its doubled
 * quotes still doubled: tests compare it with the literal's quotes doubled); other fields
 * are their bytes. */
SLUICE_INLINE sluice_u64 sluice_where_csv_value(sluice_buf_t w, sluice_u64 f)
{
	sluice_u32 s, e;

	if (!w || f == SLUICE_NO_FIELD)
		return f;
	s = (sluice_u32)(f >> 32);
	e = (sluice_u32)f;
	if (e - s >= 2 && SLUICE_BYTE(w, s) == '"' && SLUICE_BYTE(w, e - 1) == '"')
		return ((sluice_u64)(s + 1) << 32) | (e - 1);
	return f;
}

/* Binary: a char[n] field at `at` is its text up to the first NUL. */
SLUICE_INLINE sluice_u64 sluice_where_chars(sluice_buf_t w, sluice_u32 at, sluice_u32 n)
{
	sluice_u32 nul;

	if (!w)
		return SLUICE_NO_FIELD;
	nul = sluice_find_byte(w, at, at + n, 0);
	return ((sluice_u64)at << 32) | (nul == SLUICE_NOT_FOUND ? at + n : nul);
}

/* Binary: a little-endian number of `width` bytes at `at` (kind 0 unsigned, 1 signed, 2 IEEE
 * float) mapped to an integer key that orders like the value (signed: top bit flipped;
 * float: sign-magnitude folded, -0 as 0), tested against [lo, hi], negated by neg. A NaN
 * makes every comparison false. There is no floating point in BPF: user space turned the
 * literal into the key interval. */
SLUICE_INLINE int sluice_where_bin(sluice_buf_t w, sluice_u32 at, sluice_u32 width, sluice_u32 kind,
				      sluice_u64 lo, sluice_u64 hi, sluice_u32 neg)
{
	sluice_u64 v = 0, sign, all, key;
	sluice_u32 i;

	if (!w || width == 0 || width > 8)
		return 0;
	for (i = 0; i < 8; i++)
		if (i < width)
			v |= (sluice_u64)SLUICE_BYTE(w, at + i) << (8 * i);
	sign = 1ull << (8 * width - 1);
	all = sign | (sign - 1);
	if (kind == 1) {
		if (v & sign)
			v |= ~all; /* sign-extend */
		key = v ^ (1ull << 63);
	} else if (kind == 2) {
		sluice_u64 exponent = width == 8 ? 0x7ff0000000000000ull : 0x7f800000ull;

		if ((v & exponent) == exponent && (v & ~exponent & ~sign & all) != 0)
			return 0; /* NaN */
		if (v == sign)
			v = 0; /* -0 == 0 */
		key = (v & sign) ? ~v & all : v | sign;
	} else {
		key = v;
	}
	return (key >= lo && key <= hi) != (neg != 0);
}
)";

// The key interval of sluice_where_bin for `field op literal`, computed exactly.
struct KeyTest {
  std::uint64_t lo = 1, hi = 0;  // empty unless set
  bool negate = false;
};

// Floats: the literal lies between two adjacent floats (or is one), found with strtod and
// checked exactly; the interval is then one of keys.
template <typename F, typename Bits>
KeyTest float_key_test(Cmp op, const std::string& literal) {
  auto key = [](F v) -> std::uint64_t {
    if (v == 0) v = 0;  // -0 == 0
    Bits b = std::bit_cast<Bits>(v);
    constexpr Bits sign = Bits{1} << (sizeof(Bits) * 8 - 1);
    return (b & sign) ? static_cast<Bits>(~b) : static_cast<Bits>(b | sign);
  };
  constexpr std::uint64_t max_key = std::numeric_limits<Bits>::max();
  F d = sizeof(F) == 8 ? static_cast<F>(std::strtod(literal.c_str(), nullptr))
                       : static_cast<F>(std::strtof(literal.c_str(), nullptr));
  int c = compare_double_with_decimal(static_cast<double>(d), literal);
  F above = c >= 0 ? d : std::nextafter(d, std::numeric_limits<F>::infinity());
  F below = c <= 0 ? d : std::nextafter(d, -std::numeric_limits<F>::infinity());
  KeyTest t;
  switch (op) {
    case Cmp::eq:
    case Cmp::ne:
      if (c == 0) t.lo = t.hi = key(d);
      t.negate = op == Cmp::ne;
      break;
    case Cmp::gt: t.lo = c == 0 ? key(d) + 1 : key(above), t.hi = max_key; break;
    case Cmp::ge: t.lo = key(above), t.hi = max_key; break;
    case Cmp::lt:
      t.lo = 0;
      if (c == 0 && key(d) == 0) t.hi = 0, t.lo = 1;
      else t.hi = c == 0 ? key(d) - 1 : key(below);
      break;
    case Cmp::le: t.lo = 0, t.hi = key(below); break;
  }
  return t;
}

// Integers: the literal's floor and ceiling bound the interval, clamped to the type's range.
KeyTest integer_key_test(const SchemaField& f, Cmp op, const std::string& literal) {
  std::string_view t = literal;
  bool negative = !t.empty() && t.front() == '-';
  if (!t.empty() && (t.front() == '-' || t.front() == '+')) t.remove_prefix(1);
  std::size_t dot = t.find('.');
  std::string_view whole = t.substr(0, dot);
  bool fraction = dot != std::string_view::npos && t.substr(dot + 1).find_first_not_of('0') != std::string_view::npos;
  constexpr __int128 kHuge = static_cast<__int128>(1) << 100;  // beyond every 64-bit value
  __int128 v = 0;
  for (char ch : whole) v = std::min<__int128>(v * 10 + (ch - '0'), kHuge);
  __int128 floor = negative ? -v - (fraction ? 1 : 0) : v;
  __int128 ceil = negative ? -v : v + (fraction ? 1 : 0);
  __int128 lo = -kHuge * 2, hi = kHuge * 2;
  KeyTest k;
  switch (op) {
    case Cmp::eq:
    case Cmp::ne:
      if (!fraction) lo = hi = floor;
      else lo = 1, hi = 0;
      k.negate = op == Cmp::ne;
      break;
    case Cmp::gt: lo = floor + 1; break;
    case Cmp::ge: lo = ceil; break;
    case Cmp::lt: hi = ceil - 1; break;
    case Cmp::le: hi = floor; break;
  }
  unsigned bits = 8 * f.size;
  __int128 tmin = f.is_signed() ? -(static_cast<__int128>(1) << (bits - 1)) : 0;
  __int128 tmax = f.is_signed() ? (static_cast<__int128>(1) << (bits - 1)) - 1 : (static_cast<__int128>(1) << bits) - 1;
  lo = std::max(lo, tmin);
  hi = std::min(hi, tmax);
  if (lo > hi) return k;  // empty (negated for !=: always true)
  auto key = [&](__int128 x) -> std::uint64_t {
    return f.is_signed() ? static_cast<std::uint64_t>(static_cast<std::int64_t>(x)) ^ (std::uint64_t{1} << 63)
                         : static_cast<std::uint64_t>(x);
  };
  k.lo = key(lo);
  k.hi = key(hi);
  return k;
}

KeyTest key_test(const SchemaField& f, Cmp op, const std::string& literal) {
  if (f.type == SchemaField::Type::f64) return float_key_test<double, std::uint64_t>(op, literal);
  if (f.type == SchemaField::Type::f32) return float_key_test<float, std::uint32_t>(op, literal);
  return integer_key_test(f, op, literal);
}

std::string hex64(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llxull", static_cast<unsigned long long>(v));
  return buf;
}

class Generator {
 public:
  Generator(const Expr& e, const CheckOptions& o) : expr_(e), options_(o) {}

  GeneratedFilter run() {
    GeneratedFilter g;
    const Node& root = expr_.root;
    collect(root);
    std::string body = root.kind == Node::Kind::constant ? (root.value ? "1" : "0") : emit(root);

    std::string c;
    // The source names no literal: strings and numbers are parameters, so expressions that
    // differ only in their constants are one compiled filter (one cache entry).
    c += "/* Generated by sluice from a --where expression (sluice/expr.hpp); its constants are\n"
         " * the parameters s[] and d[]. Do not edit. */\n";
    c += "#include <sluice/filter.h>\n";
    if (!paths_.empty()) c += "#include <sluice/json.h>\n";
    c += "\n";
    c += "struct sluice_where_params {\n\tstruct sluice_param_header hdr;\n";
    if (!strings_.empty()) c += "\tstruct sluice_needle s[" + std::to_string(strings_.size()) + "];\n";
    if (!numbers_.empty()) c += "\tstruct sluice_decimal d[" + std::to_string(numbers_.size()) + "];\n";
    c += "};\n";
    c += kPrelude;
    if (root.kind == Node::Kind::constant) {
      // Nothing to evaluate (an eval function that ignored its arguments could be called with
      // them unset, which the verifier rejects).
      c += "\nSLUICE_FILTER(where, struct sluice_where_params)\n{\n\t(void)P; (void)w; (void)off; (void)len;\n\treturn " +
           body + ";\n}\n";
    } else {
      c += "\nSLUICE_PRIMITIVE int sluice_where_eval(const struct sluice_where_params *P, sluice_buf_t w,\n"
           "\t\t\t\t       sluice_u32 off, sluice_u32 len)\n{\n"
           "\tsluice_u32 end = off + len;\n";
      // Clang passes an undefined register for an argument the callee does not use after
      // optimisation ($0 is empty needs only len), which the verifier rejects at the call:
      // every argument is used here.
      c += "\n#if SLUICE_BPF\n\t__asm__ volatile(\"\" : : \"r\"(P), \"r\"(w), \"r\"(off), \"r\"(len));\n#endif\n";
      c += "\tif (!P || !w)\n\t\treturn 0;\n";
      if (binary()) c += "\tif (len < " + std::to_string(options_.schema.record_size) + ")\n\t\treturn 0;\n";
      c += locate_fields();
      // JSON paths, each from its parent member (paths_ is ordered: a prefix comes first); after
      // the check of P, whose member names they pass by pointer.
      for (const auto& [path, id] : paths_) {
        std::string key = "&P->s[" + std::to_string(string_index(path.back())) + "]";
        if (path.size() == 1)
          c += "\tsluice_u64 j" + std::to_string(id) + " = sluice_json_member(w, off, end, " + key + ");\n";
        else
          c += "\tsluice_u64 j" + std::to_string(id) + " = sluice_json_next(w, j" +
               std::to_string(paths_.at(std::vector<std::string>(path.begin(), path.end() - 1))) + ", " + key + ");\n";
      }
      c += "\t(void)end;\n";
      c += "\treturn " + body + ";\n}\n\n";
      c += "SLUICE_FILTER(where, struct sluice_where_params)\n{\n"
           "#if SLUICE_BPF\n"
           "\t/* the .data copy: global functions take pointers to writable memory only */\n"
           "\t(void)P;\n"
           "\treturn sluice_where_eval((const struct sluice_where_params *)&sluice_params_mem, w, off, len);\n"
           "#else\n"
           "\treturn sluice_where_eval(P, w, off, len);\n"
           "#endif\n}\n";
    }
    g.c_source = std::move(c);

    // The parameter block: same layout as the struct above (every member is 4-aligned).
    static_assert(sizeof(sluice_param_header) % 4 == 0 && sizeof(sluice_needle) % 4 == 0 &&
                  sizeof(sluice_decimal) % 4 == 0);
    std::vector<std::byte> params(sizeof(sluice_param_header) + strings_.size() * sizeof(sluice_needle) +
                                  numbers_.size() * sizeof(sluice_decimal));
    sluice_param_header hdr{};
    bool exact = false;
    g.required_literal = required_literal(expr_, &exact);
    // A quoted CSV value holds its quotes doubled: a literal with a quote is not in the bytes.
    if (options_.format == RecordFormat::csv && g.required_literal.find('"') != std::string::npos)
      g.required_literal.clear(), exact = false;
    g.literal_exact = exact;
    if (!g.required_literal.empty()) {
      hdr.required_literal = needle(g.required_literal);
      hdr.literal_exact = exact ? 1 : 0;
    }
    if (root.kind == Node::Kind::constant) g.constant = root.value ? SLUICE_VERDICT_KEEP_ALL : SLUICE_VERDICT_DROP_ALL;
    hdr.constant = static_cast<sluice_u32>(g.constant);
    if (options_.format == RecordFormat::csv) {
      hdr.framing = SLUICE_FRAMING_CSV;
    } else if (binary()) {
      hdr.framing = SLUICE_FRAMING_FIXED;
      hdr.record_size = options_.schema.record_size;
    }
    std::memcpy(params.data(), &hdr, sizeof hdr);
    std::size_t at = sizeof hdr;
    for (const std::string& s : strings_) {
      sluice_needle n = needle(s);
      std::memcpy(params.data() + at, &n, sizeof n);
      at += sizeof n;
    }
    for (const std::string& t : numbers_) {
      sluice_decimal d = *decimal_of(t);
      std::memcpy(params.data() + at, &d, sizeof d);
      at += sizeof d;
    }
    g.params = std::move(params);
    return g;
  }

 private:
  static sluice_needle needle(const std::string& s) {
    sluice_needle n{};
    n.len = static_cast<sluice_u32>(s.size());
    std::memcpy(n.bytes, s.data(), s.size());
    auto [first, second] = bpf_probe_offsets(s, typical_text_frequency(), 4096);
    n.probe[0] = static_cast<sluice_u32>(first);
    n.probe[1] = static_cast<sluice_u32>(second);
    return n;
  }

  std::string delim() const { return std::to_string(static_cast<unsigned char>(options_.delimiter)); }
  bool binary() const { return options_.format == RecordFormat::binary; }
  bool csv() const { return options_.format == RecordFormat::csv; }
  const SchemaField& schema_field(const Operand& o) const { return options_.schema.fields.at(o.field - 1); }
  bool numeric_field(const Operand& o) const { return binary() && o.field > 0 && schema_field(o).is_number(); }

  // Declarations of f<N>, the bounds of each field used (packed start << 32 | end).
  std::string locate_fields() const {
    std::string c;
    if (binary()) {
      for (std::uint32_t f : fields_) {
        const SchemaField& s = options_.schema.fields.at(f - 1);
        if (!s.is_number())
          c += "\tsluice_u64 f" + std::to_string(f) + " = sluice_where_chars(w, off + " + std::to_string(s.offset) +
               ", " + std::to_string(s.size) + ");\n";
      }
      return c;
    }
    // CSV: the CR of a CRLF record end is not part of the last field.
    if (csv()) c += "\tif (len > 0 && SLUICE_BYTE(w, end - 1) == '\\r')\n\t\tend--;\n";
    const char* first = csv() ? "sluice_csv_field" : "sluice_field";
    const char* raw = csv() ? "r" : "f";
    // Fields in increasing order, each found from the previous one.
    std::uint32_t prev = 0;
    for (std::uint32_t f : fields_) {
      if (f == 0) continue;
      std::string name = raw + std::to_string(f);
      if (prev == 0)
        c += "\tsluice_u64 " + name + " = " + first + "(w, off, end, " + delim() + ", " + std::to_string(f) + ");\n";
      else
        c += "\tsluice_u64 " + name + " = sluice_where_next(w, " + raw + std::to_string(prev) + ", end, " + delim() +
             ", " + std::to_string(f - prev) + ", " + (csv() ? "1" : "0") + ");\n";
      prev = f;
    }
    if (csv())
      for (std::uint32_t f : fields_)
        if (f != 0)
          c += "\tsluice_u64 f" + std::to_string(f) + " = sluice_where_csv_value(w, r" + std::to_string(f) + ");\n";
    if (fields_.count(0)) c += "\tsluice_u64 f0 = ((sluice_u64)off << 32) | end;\n";
    return c;
  }

  // The needle a string test uses: in CSV a quoted field (its value differs from its raw
  // bounds) is compared with the literal's quotes doubled (RFC 4180 escaping preserves
  // equality, order and substrings), without copying the field.
  std::string needle_for(const Operand& field, const std::string& literal) {
    std::string plain = "&P->s[" + std::to_string(string_index(literal)) + "]";
    if (!csv() || field.field == 0 || literal.find('"') == std::string::npos) return plain;
    std::string doubled;
    for (char ch : literal) {
      if (ch == '"') doubled += '"';
      doubled += ch;
    }
    std::string f = std::to_string(field.field);
    return "(f" + f + " != r" + f + " ? &P->s[" + std::to_string(string_index(doubled)) + "] : " + plain + ")";
  }

  std::size_t string_index(const std::string& s) {
    auto [it, added] = string_ids_.emplace(s, strings_.size());
    if (added) strings_.push_back(s);
    return it->second;
  }
  std::size_t number_index(const std::string& t) {
    // Literals that are the same number share one constant (5, 5.0 and 05 alike).
    sluice_decimal d = *decimal_of(t);
    std::string key(reinterpret_cast<const char*>(&d), sizeof d);
    auto [it, added] = number_ids_.emplace(key, numbers_.size());
    if (added) numbers_.push_back(t);
    return it->second;
  }

  void collect(const Node& n) {
    if (n.kind != Node::Kind::constant && n.kind != Node::Kind::logical_and && n.kind != Node::Kind::logical_or &&
        n.kind != Node::Kind::logical_not && !numeric_field(n.lhs)) {
      if (n.lhs.type == Operand::Type::path) {
        for (std::size_t len = 1; len <= n.lhs.path.size(); ++len) {
          paths_.emplace(std::vector<std::string>(n.lhs.path.begin(), n.lhs.path.begin() + len), paths_.size());
          string_index(n.lhs.path[len - 1]);  // member names are parameters, like strings
        }
      } else {
        fields_.insert(n.lhs.field);
        if (n.kind == Node::Kind::compare && n.rhs.type == Operand::Type::field) fields_.insert(n.rhs.field);
      }
    }
    for (const Node& k : n.kids) collect(k);
  }

  std::string field(const Operand& o) const {
    if (o.type == Operand::Type::path) return "j" + std::to_string(paths_.at(o.path));
    return "f" + std::to_string(o.field);
  }

  // A quoted CSV field: its value bounds (f<N>) lie inside its raw bounds (r<N>).
  std::string quoted(const Operand& o) const {
    return csv() && o.field != 0 ? "(f" + std::to_string(o.field) + " != r" + std::to_string(o.field) + ")" : "0";
  }

  std::string equal(const Operand& lhs, const Operand& value, Cmp op) {
    if (value.type == Operand::Type::field)
      return "sluice_where_fields(w, " + field(lhs) + ", " + quoted(lhs) + ", " + field(value) + ", " +
             quoted(value) + ", " + std::to_string(static_cast<int>(op)) + ")";
    if (numeric_field(lhs)) {
      const SchemaField& f = schema_field(lhs);
      KeyTest t = key_test(f, op, value.text);
      int kind = f.is_float() ? 2 : f.is_signed() ? 1 : 0;
      return "sluice_where_bin(w, off + " + std::to_string(f.offset) + ", " + std::to_string(f.size) + ", " +
             std::to_string(kind) + ", " + hex64(t.lo) + ", " + hex64(t.hi) + ", " + (t.negate ? "1" : "0") + ")";
    }
    if (lhs.type == Operand::Type::path) {
      bool number = value.type == Operand::Type::number;
      std::string constant = number ? "&P->d[" + std::to_string(number_index(value.text)) + "]"
                                    : "&P->s[" + std::to_string(string_index(value.text)) + "]";
      return std::string("sluice_where_holds(") + (number ? "sluice_json_cmp_decimal(w, " : "sluice_json_cmp_string(w, ") +
             field(lhs) + ", " + constant + "), " + std::to_string(static_cast<int>(op)) + ")";
    }
    if (value.type == Operand::Type::number)
      return "sluice_where_num(w, " + field(lhs) + ", &P->d[" + std::to_string(number_index(value.text)) + "], " +
             std::to_string(static_cast<int>(op)) + ")";
    return "sluice_where_str(w, " + field(lhs) + ", " + needle_for(lhs, value.text) + ", " +
           std::to_string(static_cast<int>(op)) + ")";
  }

  std::string emit(const Node& n) {
    switch (n.kind) {
      case Node::Kind::constant: return n.value ? "1" : "0";
      case Node::Kind::logical_or:
      case Node::Kind::logical_and: {
        std::string out = "(";
        for (std::size_t i = 0; i < n.kids.size(); ++i) {
          if (i) out += n.kind == Node::Kind::logical_or ? " || " : " && ";
          out += emit(n.kids[i]);
        }
        return out + ")";
      }
      case Node::Kind::logical_not: return "!" + emit(n.kids[0]);
      case Node::Kind::compare: return equal(n.lhs, n.rhs, n.op);
      case Node::Kind::contains:
      case Node::Kind::starts_with:
      case Node::Kind::ends_with: {
        int how = n.kind == Node::Kind::contains ? 0 : n.kind == Node::Kind::starts_with ? 1 : 2;
        if (n.lhs.type == Operand::Type::path)
          return "sluice_json_has(w, " + field(n.lhs) + ", &P->s[" + std::to_string(string_index(n.rhs.text)) + "], " +
                 std::to_string(how) + ")";
        return "sluice_where_has(w, " + field(n.lhs) + ", " + needle_for(n.lhs, n.rhs.text) + ", " +
               std::to_string(how) + ")";
      }
      case Node::Kind::in_list: {
        std::string out = "(";
        for (std::size_t i = 0; i < n.list.size(); ++i) {
          if (i) out += " || ";
          out += equal(n.lhs, n.list[i], Cmp::eq);
        }
        return out + ")";
      }
      case Node::Kind::is_empty:
        if (n.lhs.type == Operand::Type::path) return "sluice_json_empty(w, " + field(n.lhs) + ")";
        return "sluice_where_empty(" + field(n.lhs) + ")";
    }
    return "0";
  }

  const Expr& expr_;
  const CheckOptions& options_;
  std::set<std::uint32_t> fields_;
  std::map<std::vector<std::string>, std::size_t> paths_;  // JSON path -> its variable j<N>
  std::vector<std::string> strings_;
  std::map<std::string, std::size_t> string_ids_;
  std::vector<std::string> numbers_;
  std::map<std::string, std::size_t> number_ids_;
};

}  // namespace

GeneratedFilter generate_c(const Expr& expr, const CheckOptions& options) {
  if (options.delimiter == '\n') throw UsageError("the delimiter cannot be a newline (it separates records)");
  if (options.format == RecordFormat::csv && (options.delimiter == '"' || options.delimiter == '\r'))
    throw UsageError("the CSV delimiter cannot be a double quote or CR");
  if (options.format == RecordFormat::binary && options.schema.fields.empty())
    throw UsageError("binary records need a schema (--schema \"u32 id, f64 score, ...\")");
  return Generator(expr, options).run();
}

}  // namespace sluice::expr
