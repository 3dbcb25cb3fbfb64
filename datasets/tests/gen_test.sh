#!/usr/bin/env bash
# Checks sluice-gen's guarantees with grep/awk: exact literal and value counts, determinism,
# terminators, long records, --size/--records, presets and argument errors.
#
#   bash datasets/tests/gen_test.sh path/to/sluice-gen
#
# Prints one line per check; exits 1 if any check failed, 2 on bad usage.
set -u
export LC_ALL=C

GEN=${1:-}
if [ -z "$GEN" ] || [ ! -x "$GEN" ]; then
  echo "usage: $0 path/to/sluice-gen" >&2
  exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-gen-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }
# check_eq DESCRIPTION ACTUAL EXPECTED
check_eq() {
  if [ -z "$3" ]; then
    bad "$1: no expected value (missing from the JSON?)"
  elif [ "$2" = "$3" ]; then
    ok "$1 ($2)"
  else
    bad "$1: got '$2', expected '$3'"
  fi
}
# check DESCRIPTION COMMAND... (passes if the command succeeds)
check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else bad "$desc"; fi
}
# A number from the --expect JSON (one "key": value per line).
json() { sed -n "s/^  \"$2\": \(-\{0,1\}[0-9][0-9]*\),\{0,1\}\$/\1/p" "$1"; }
# gen NAME ARGS...: NAME.csv and NAME.json, summary in NAME.err; fails the run if gen fails.
gen() {
  local name=$1
  shift
  if ! "$GEN" "$@" -o "$TMP/$name.csv" --expect "$TMP/$name.json" 2> "$TMP/$name.err"; then
    bad "sluice-gen $* (exit status $?): $(cat "$TMP/$name.err")"
    return 1
  fi
  if [ ! -s "$TMP/$name.csv" ] || [ ! -s "$TMP/$name.json" ]; then
    bad "sluice-gen $*: no output or no --expect JSON written"
    return 1
  fi
}
lines_with() { grep -a -c -F -e "$2" "$1"; }        # records containing a literal
bytes_of() { wc -c < "$1" | tr -d ' '; }
# Records with value > T (SKIP=1: the first line is a header, whose "value" awk would count).
value_gt() { awk -F"${3:-,}" -v T="$2" -v SKIP="${4:-0}" 'NR > SKIP && $3 > T { c++ } END { print c + 0 }' "$1"; }
# Sum of the lengths (terminator included) of the records containing the literal.
literal_bytes() {
  awk -v L="$2" -v LAST_NL="${3:-1}" -v N="$(awk 'END { print NR }' "$1")" \
    'index($0, L) { s += length($0) + ((NR < N || LAST_NL) ? 1 : 0) } END { print s + 0 }' "$1"
}
# verify_counts NAME LITERAL [DELIM] [LAST_NL]: literal and value counts against the JSON.
verify_counts() {
  local f="$TMP/$1.csv" j="$TMP/$1.json" lit=$2 d=${3:-,} last_nl=${4:-1}
  check_eq "$1: grep -c -F '$lit' == literal_records" "$(lines_with "$f" "$lit")" "$(json "$j" literal_records)"
  check_eq "$1: bytes == file size" "$(bytes_of "$f")" "$(json "$j" bytes)"
  check_eq "$1: literal_bytes == lengths of the matching lines" "$(literal_bytes "$f" "$lit" "$last_nl")" \
    "$(json "$j" literal_bytes)"
  local t skip=0
  grep -q '"header": true' "$j" && skip=1
  t=$(json "$j" value_threshold)
  if [ -n "$t" ]; then
    check_eq "$1: awk 'NR > $skip && \$3 > $t' == value_gt_records" "$(value_gt "$f" "$t" "$d" "$skip")" \
      "$(json "$j" value_gt_records)"
  fi
}
# expect_exit2 DESCRIPTION ARGS...: sluice-gen must reject the arguments with status 2.
expect_exit2() {
  local desc=$1 status
  shift
  "$GEN" "$@" > "$TMP/err.out" 2> "$TMP/err.txt" < /dev/null
  status=$?
  if [ "$status" -eq 2 ] && [ -s "$TMP/err.txt" ]; then
    ok "bad args exit 2: $desc: $(head -n 1 "$TMP/err.txt")"
  else
    bad "bad args: $desc: exit status $status (expected 2), stderr: $(head -c 300 "$TMP/err.txt")"
  fi
}

echo "# sluice-gen: $GEN"

# --- exact counts, defaults and a value split ------------------------------------------------
if gen basic --records 5000 --seed 7 --selectivity 3% --value-threshold 500000 --value-fraction 0.25; then
  f=$TMP/basic.csv
  verify_counts basic XQZSLUICE
  check_eq "basic: literal_records == round(3% of 5000)" "$(json "$TMP/basic.json" literal_records)" 150
  check_eq "basic: value_gt_records == round(0.25 * 5000)" "$(json "$TMP/basic.json" value_gt_records)" 1250
  check_eq "basic: --records 5000 gives 5000 lines" "$(wc -l < "$f" | tr -d ' ')" 5000
  check_eq "basic: every record is 100 bytes" "$(awk 'length($0) != 99' "$f" | wc -l | tr -d ' ')" 0
  check_eq "basic: ids are 0..N-1 in order" "$(awk -F, '$1 != NR - 1' "$f" | wc -l | tr -d ' ')" 0
  check_eq "basic: keys are 4..10 lowercase letters" \
    "$(awk -F, '$2 !~ /^[a-z][a-z][a-z][a-z][a-z]?[a-z]?[a-z]?[a-z]?[a-z]?[a-z]?$/' "$f" | wc -l | tr -d ' ')" 0
  check_eq "basic: values are integers in [0, 999999]" \
    "$(awk -F, '$3 !~ /^[0-9]+$/ || $3 + 0 > 999999' "$f" | wc -l | tr -d ' ')" 0
  check_eq "basic: prices have exactly 2 fraction digits, none negative" \
    "$(awk -F, '$4 !~ /^[0-9]+\.[0-9][0-9]$/' "$f" | wc -l | tr -d ' ')" 0
  check_eq "basic: 5 columns everywhere" "$(awk -F, 'NF != 5' "$f" | wc -l | tr -d ' ')" 0
  check_eq "basic: literal only in the text column" \
    "$(awk -F, 'index($5, "XQZSLUICE")' "$f" | wc -l | tr -d ' ')" 150
  check "basic: literal records spread over the file (both halves)" \
    test "$(head -n 2500 "$f" | grep -c -F XQZSLUICE)" -gt 0 -a "$(tail -n 2500 "$f" | grep -c -F XQZSLUICE)" -gt 0
  check_eq "basic: JSON records" "$(json "$TMP/basic.json" records)" 5000
  check_eq "basic: JSON seed" "$(json "$TMP/basic.json" seed)" 7
  check "basic: JSON has the command" grep -q '"command": ".*--records 5000 --seed 7' "$TMP/basic.json"
fi

# --- determinism -----------------------------------------------------------------------------
gen same1 --records 3000 --seed 42 --min-length 20 --max-length 400 --selectivity 10%
gen same2 --records 3000 --seed 42 --min-length 20 --max-length 400 --selectivity 10%
gen other --records 3000 --seed 43 --min-length 20 --max-length 400 --selectivity 10%
check "same seed gives byte-identical output" cmp -s "$TMP/same1.csv" "$TMP/same2.csv"
check "different seed gives different output" sh -c "! cmp -s '$TMP/same1.csv' '$TMP/other.csv'"
"$GEN" --records 3000 --seed 42 --min-length 20 --max-length 400 --selectivity 10% -q > "$TMP/stdout.csv" 2> /dev/null
check "stdout (-o -) output equals the file output" cmp -s "$TMP/same1.csv" "$TMP/stdout.csv"
verify_counts same1 XQZSLUICE
check_eq "lengths: all within [20, 400] (incl. newline) or at the mandatory floor" \
  "$(awk '{ l = length($0) + 1 } l > 400 || (l < 20) ' "$TMP/same1.csv" | wc -l | tr -d ' ')" 0
check "lengths: at least 50 distinct lengths" \
  test "$(awk '{ print length($0) }' "$TMP/same1.csv" | sort -u | wc -l)" -ge 50

# --- rounding of the exact count -------------------------------------------------------------
if gen round --records 1000 --selectivity 0.0015 --seed 3; then
  check_eq "round(0.0015 * 1000) = 2 (halves up)" "$(json "$TMP/round.json" literal_records)" 2
  verify_counts round XQZSLUICE
fi
if gen all --records 500 --selectivity 1 --value-threshold 10 --value-fraction 100%; then
  verify_counts all XQZSLUICE
  check_eq "selectivity 1: every record" "$(json "$TMP/all.json" literal_records)" 500
  check_eq "value-fraction 100%: every value > T" "$(json "$TMP/all.json" value_gt_records)" 500
fi
if gen none --records 500 --selectivity 0 --value-threshold 999998 --value-fraction 0; then
  verify_counts none XQZSLUICE
  check_eq "selectivity 0: no record" "$(json "$TMP/none.json" literal_records)" 0
fi

# --- other literals (lowercase, with a space), tab delimiter, header, negatives ----------------
if gen lower --records 4000 --literal needle --selectivity 2% --seed 11; then
  verify_counts lower needle
  check_eq "lowercase literal: 80 records" "$(json "$TMP/lower.json" literal_records)" 80
fi
if gen space --records 4000 --literal 'a b' --selectivity 0.5 --seed 12; then
  verify_counts space 'a b'
fi
if gen tsv --records 3000 --delimiter tab --header --literal 'Zz;' --selectivity 7.5% \
  --value-min -1000 --value-max 1000 --value-threshold 0 --allow-negative --seed 5; then
  f=$TMP/tsv.csv
  check_eq "tsv: header line" "$(head -n 1 "$f")" "$(printf 'id\tkey\tvalue\tprice\ttext')"
  check_eq "tsv: N records + header line" "$(wc -l < "$f" | tr -d ' ')" 3001
  verify_counts tsv 'Zz;' "$(printf '\t')"
  check_eq "tsv: 5 tab-separated columns" "$(awk -F'\t' 'NF != 5' "$f" | wc -l | tr -d ' ')" 0
  check "tsv: negative prices and values occur" \
    test "$(awk -F'\t' 'NR > 1 && $4 ~ /^-/ && $3 ~ /^-/' "$f" | wc -l)" -gt 0
  check_eq "tsv: prices -?D.DD" "$(awk -F'\t' 'NR > 1 && $4 !~ /^-?[0-9]+\.[0-9][0-9]$/' "$f" | wc -l | tr -d ' ')" 0
  check_eq "tsv: values within [-1000, 1000]" \
    "$(awk -F'\t' 'NR > 1 && ($3 + 0 < -1000 || $3 + 0 > 1000)' "$f" | wc -l | tr -d ' ')" 0
fi

# --- CRLF, no trailing newline ---------------------------------------------------------------
if gen crlf --records 2000 --crlf --seed 9 --value-threshold 700000 --value-fraction 0.1; then
  f=$TMP/crlf.csv
  check_eq "crlf: every line ends in CR" "$(grep -c "$(printf '\r')\$" "$f")" 2000
  check_eq "crlf: every record is 100 bytes (CR LF included)" "$(awk 'length($0) != 99' "$f" | wc -l | tr -d ' ')" 0
  verify_counts crlf XQZSLUICE
fi
if gen notrail --records 1000 --no-trailing-newline --seed 4; then
  f=$TMP/notrail.csv
  check "no-trailing-newline: last byte is not a newline" test "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n'
  check_eq "no-trailing-newline: N-1 newlines" "$(wc -l < "$f" | tr -d ' ')" 999
  check_eq "no-trailing-newline: N records for awk" "$(awk 'END { print NR }' "$f")" 1000
  verify_counts notrail XQZSLUICE , 0
fi
if gen notrail_crlf --records 300 --no-trailing-newline --crlf --seed 4; then
  check "no-trailing-newline --crlf: file ends without CR LF" \
    test "$(tail -c 1 "$TMP/notrail_crlf.csv" | od -An -c | tr -d ' ')" != '\n'
fi

# --- long records, NUL bytes, presets --------------------------------------------------------
if gen long --records 2000 --long-records 3 --long-length 1100000 --selectivity 50% --seed 21 \
  --value-threshold 100 --value-fraction 0.5; then
  f=$TMP/long.csv
  check_eq "long: exactly 3 records of 1100000 bytes (> 1 MiB)" "$(awk 'length($0) == 1099999' "$f" | wc -l | tr -d ' ')" 3
  check_eq "long: the others 100 bytes" "$(awk 'length($0) == 99' "$f" | wc -l | tr -d ' ')" 1997
  verify_counts long XQZSLUICE
fi
if gen edge --preset edge --seed 2; then
  f=$TMP/edge.csv
  check_eq "edge: 20000 records" "$(json "$TMP/edge.json" records)" 20000
  check_eq "edge: 3 records of 70000 bytes" "$(awk 'length($0) == 69999' "$f" | wc -l | tr -d ' ')" 3
  check "edge: last byte is not a newline" test "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n'
  check "edge: contains NUL bytes" test "$(tr -dc '\000' < "$f" | wc -c)" -gt 0
  check "edge: NUL records reported" test "$(json "$TMP/edge.json" nul_records)" -gt 0
  check_eq "edge: no CR" "$(grep -a -c "$(printf '\r')" "$f")" 0
  verify_counts edge XQZSLUICE , 0
  check_eq "edge: grep without -a counts the same" "$(grep -c -F XQZSLUICE "$f")" "$(json "$TMP/edge.json" literal_records)"
fi
if gen small --preset small --records 777; then
  check_eq "explicit --records overrides the preset" "$(json "$TMP/small.json" records)" 777
fi
if gen small2 --preset small; then
  check_eq "preset small: 10000 records" "$(json "$TMP/small2.json" records)" 10000
  verify_counts small2 XQZSLUICE
fi

# --- --size ----------------------------------------------------------------------------------
for spec in "100K" "1M --min-length 10 --max-length 300" "65537 --header --no-trailing-newline" \
  "2M --long-records 2 --long-length 300000"; do
  size_arg=${spec%% *}
  # shellcheck disable=SC2086
  if gen size --size $spec --seed 13 --value-threshold 9999 --value-fraction 0.3; then
    want=$size_arg
    case $want in *K) want=$((${want%K} * 1024)) ;; *M) want=$((${want%M} * 1048576)) ;; esac
    got=$(bytes_of "$TMP/size.csv")
    n=$(json "$TMP/size.json" records)
    check "--size $spec: $got >= $want bytes" test "$got" -ge "$want"
    # The smallest such count: one record fewer falls short.
    # shellcheck disable=SC2086
    "$GEN" --records $((n - 1)) ${spec#"$size_arg"} --seed 13 -q -o "$TMP/size_less.csv" 2> /dev/null
    check "--size $spec: $((n - 1)) records give fewer than $want bytes" test "$(bytes_of "$TMP/size_less.csv")" -lt "$want"
    last_nl=1
    case $spec in *--no-trailing-newline*) last_nl=0 ;; esac
    verify_counts size XQZSLUICE , "$last_nl"
  fi
done

# --- --print-count ---------------------------------------------------------------------------
pc=$("$GEN" --records 1234 --selectivity 10% -q --print-count -o "$TMP/pc.csv" 2> /dev/null)
check_eq "--print-count prints literal_records" "$pc" "$(grep -s -c -F XQZSLUICE "$TMP/pc.csv")"

# --- bad arguments ---------------------------------------------------------------------------
out=$TMP/bad.csv
expect_exit2 "unknown option" --records 10 --bogus -o "$out"
expect_exit2 "zero records" --records 0 -o "$out"
expect_exit2 "nothing to generate" -o "$out"
expect_exit2 "selectivity > 1" --records 10 --selectivity 1.5 -o "$out"
expect_exit2 "selectivity > 100%" --records 10 --selectivity 150% -o "$out"
expect_exit2 "selectivity negative" --records 10 --selectivity -0.1 -o "$out"
expect_exit2 "min-length > max-length" --records 10 --min-length 90 --max-length 80 -o "$out"
expect_exit2 "value-min > value-max" --records 10 --value-min 10 --value-max 5 -o "$out"
expect_exit2 "impossible value split" --records 10 --value-threshold 999999 --value-fraction 0.5 -o "$out"
expect_exit2 "literal contains the delimiter" --records 10 --literal 'a,b' -o "$out"
expect_exit2 "literal contains a newline" --records 10 --literal "$(printf 'a\nb')" -o "$out"
expect_exit2 "literal made of digits" --records 10 --literal 42 -o "$out"
expect_exit2 "empty literal" --records 10 --literal '' -o "$out"
expect_exit2 "bad size suffix" --size 10X -o "$out"
expect_exit2 "both --records and --size" --records 10 --size 1K -o "$out"
expect_exit2 "bad delimiter" --records 10 --delimiter ab -o "$out"
expect_exit2 "unknown preset" --preset huge -o "$out"
expect_exit2 "more long records than records" --records 2 --long-records 3 -o "$out"
expect_exit2 "unwritable output" --records 10 -o "$TMP/no/such/dir/x.csv"
expect_exit2 "unwritable --expect" --records 10 -o "$out" --expect "$TMP/no/such/dir/x.json"
expect_exit2 "--print-count to stdout" --records 10 --print-count
expect_exit2 "non-numeric records" --records ten -o "$out"

echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
