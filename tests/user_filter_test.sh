#!/usr/bin/env bash
# User C filters (`sluice scan --filter FILE.c`, `sluice verify`) and --where at the command
# line: the example filters keep what awk keeps in the read and sockmap backends; filters the
# verifier rejects (unbounded loop, out-of-bounds access) exit 2 with the verifier's reason and
# the user's own source line; compiler errors, parse errors and bad files exit 2 clearly.
# usage: user_filter_test.sh SLUICE SOURCE_DIR
set -u
SLUICE=$1
SRC=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-user-filter.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
failures=0
passed=0
pass() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

# expect NAME CODE -- command...: exit code; then stdout in $WORK/out, stderr in $WORK/err.
expect() {
  local name=$1 code=$2
  shift 3
  "$@" >"$WORK/out" 2>"$WORK/err"
  local rc=$?
  if [[ $rc -ne $code ]]; then fail "$name: exit $rc, wanted $code: $(head -c 500 "$WORK/err")"; return 1; fi
  return 0
}
has() {  # NAME FILE TEXT: the file contains the text
  if grep -qF -- "$3" "$2"; then pass "$1"; else fail "$1: '$3' missing from: $(head -c 600 "$2")"; fi
}

# Data: ~12 windows of records with 1-6 fields, some with ERROR and numbers.
awk 'BEGIN { srand(5); for (i = 0; i < 40000; i++) {
  n = 1 + int(rand() * 6); line = (rand() < 0.2 ? "ERROR" : "ok") i
  for (k = 2; k <= n; k++) line = line "," (k == 3 ? int(rand() * 1000) : "f" k)
  print line } }' >"$WORK/data.csv"

EX=$SRC/filters/examples
awk -F, 'NF >= 4' "$WORK/data.csv" >"$WORK/want.min_fields"
awk -F, 'index($0, "ERROR") > 0 && $3 ~ /^[0-9]+$/ && $3 + 0 > 500' "$WORK/data.csv" >"$WORK/want.errors_over"
for f in min_fields errors_over; do
  for b in read mmap sockmap; do
    if expect "$f $b" 0 -- "$SLUICE" scan -b $b --filter "$EX/$f.c" "$WORK/data.csv"; then
      cmp -s "$WORK/out" "$WORK/want.$f" && pass "example $f.c, backend $b, equals awk" \
        || fail "example $f.c, backend $b: $(wc -l <"$WORK/out") records, awk $(wc -l <"$WORK/want.$f")"
    fi
  done
  if expect "verify $f" 0 -- "$SLUICE" verify "$EX/$f.c"; then
    has "verify $f: xdp_record loads" "$WORK/out" "xdp_record:    loads:"
    has "verify $f: sk_msg_filter loads" "$WORK/out" "sk_msg_filter: loads:"
    has "verify $f: instructions processed" "$WORK/out" "instructions processed"
  fi
done
has "a declared required literal is shown" "$WORK/out" 'required literal "ERROR"'

# Rejected by the verifier: exit 2, the reason, the user's file and line with its code.
T=$SRC/tests
for b in read sockmap; do
  if expect "unbounded loop ($b)" 2 -- "$SLUICE" scan -b $b --filter "$T/user_filter_unbounded_loop.c" "$WORK/data.csv"; then
    has "unbounded loop ($b): verifier reason" "$WORK/err" "verifier: The sequence of 8193 jumps is too complex"
    has "unbounded loop ($b): user's line" "$WORK/err" "user_filter_unbounded_loop.c:10: for (i = 0; i < len; i++) {"
    [[ ! -s $WORK/out ]] && pass "unbounded loop ($b): nothing ran" || fail "unbounded loop ($b): output produced"
  fi
done
if expect "out of bounds" 2 -- "$SLUICE" scan --filter "$T/user_filter_out_of_bounds.c" "$WORK/data.csv"; then
  has "out of bounds: verifier reason" "$WORK/err" "min value is outside of the allowed memory range"
  has "out of bounds: user's line" "$WORK/err" "user_filter_out_of_bounds.c:10: return bytes[off + len + 200000] == 'x';"
fi
if expect "verify rejects" 2 -- "$SLUICE" verify "$T/user_filter_out_of_bounds.c"; then
  has "verify: xdp_record rejected" "$WORK/out" "xdp_record: REJECTED"
  has "verify: sk_msg_filter rejected" "$WORK/out" "sk_msg_filter: REJECTED"
  has "verify: user's line" "$WORK/out" "user_filter_out_of_bounds.c:10:"
fi

# Compiler errors, files without a filter, missing files: exit 2 with the reason.
printf '#include <sluice/filter.h>\nstruct p { struct sluice_param_header hdr; };\nSLUICE_FILTER(broken, struct p)\n{\n\treturn undeclared_thing;\n}\n' >"$WORK/broken.c"
if expect "compile error" 2 -- "$SLUICE" scan --filter "$WORK/broken.c" "$WORK/data.csv"; then
  has "compile error: compiler diagnostic with file and line" "$WORK/err" "broken.c:5"
  has "compile error: names the identifier" "$WORK/err" "undeclared_thing"
fi
printf 'int main(void) { return 0; }\n' >"$WORK/nofilter.c"
expect "no SLUICE_FILTER" 2 -- "$SLUICE" scan --filter "$WORK/nofilter.c" "$WORK/data.csv" &&
  has "no SLUICE_FILTER: message" "$WORK/err" "no SLUICE_FILTER(name, struct params) found"
expect "missing filter file" 2 -- "$SLUICE" scan --filter "$WORK/missing.c" "$WORK/data.csv" &&
  has "missing filter file: message" "$WORK/err" "missing.c: No such file or directory"
printf '#include <sluice/filter.h>\nstruct p { sluice_u32 x; };\nSLUICE_FILTER(nohdr, struct p)\n{\n\treturn 1;\n}\n' >"$WORK/nohdr.c"
expect "params without header" 2 -- "$SLUICE" scan --filter "$WORK/nohdr.c" "$WORK/data.csv" &&
  has "params without header: message" "$WORK/err" "must start with struct sluice_param_header"

# --where at the command line: parse errors point at the column, exit 2.
if expect "where parse error" 2 -- "$SLUICE" scan --where '$3 > 5 and' "$WORK/data.csv"; then
  has "where parse error: message" "$WORK/err" "sluice scan: --where: expected a value, found the end of the expression"
  has "where parse error: expression" "$WORK/err" '  $3 > 5 and'
  has "where parse error: caret" "$WORK/err" "$(printf '%12s^' '')"
  has "where parse error: hint" "$WORK/err" "hint: "
fi
expect "where col() without header" 2 -- "$SLUICE" scan --where 'col("nope") > 1' "$WORK/data.csv" &&
  has "where col(): no such column" "$WORK/err" 'no column named "nope"'
expect "where with -e" 2 -- "$SLUICE" scan --where '$1 == 1' -e x "$WORK/data.csv" &&
  has "where with -e: message" "$WORK/err" "--where cannot be combined"
expect "where with -v" 2 -- "$SLUICE" scan -v --where '$1 == 1' "$WORK/data.csv" &&
  has "where with -v: message" "$WORK/err" "write not (...)"
printf 'a,b\n1,2\n' >"$WORK/h1.csv"; printf 'a,c\n1,2\n' >"$WORK/h2.csv"
expect "col() with differing headers" 2 -- "$SLUICE" scan --where 'col("a") == 1' "$WORK/h1.csv" "$WORK/h2.csv" &&
  has "col() with differing headers: message" "$WORK/err" "h2.csv: its header line differs"
expect "aggregates with -c" 2 -- "$SLUICE" scan -c --where '$1 == 1' --sum '$2' "$WORK/data.csv" &&
  has "aggregates with -c: message" "$WORK/err" "not with -c or --select"
expect "field name without header" 2 -- "$SLUICE" scan --where 'true' --select 'amount' "$WORK/data.csv" &&
  has "field name without header: message" "$WORK/err" "needs a header line (--header)"
expect "where no match" 1 -- "$SLUICE" scan --where '$1 == "nothing like it"' "$WORK/data.csv"
if expect "verify --where" 0 -- "$SLUICE" verify --where 'contains($1, "ERROR") and $3 > 500'; then
  has "verify --where: both hosts load" "$WORK/out" "sk_msg_filter: loads:"
  has "verify --where: required literal" "$WORK/out" 'required literal "ERROR"'
fi
expect "verify --where parse error" 2 -- "$SLUICE" verify --where '$3 >> 5' &&
  has "verify --where parse error: caret" "$WORK/err" "^"

echo "# $passed passed, $failures failed"
[[ $failures -eq 0 ]]
