#!/usr/bin/env bash
# Differential test of `sluice scan --where`: on generated CSV and TSV (sluice-gen), every
# expression keeps byte-identical output to the same predicate in mawk and in gawk, in the
# read backend, and for a subset in the uring, mmap and sockmap backends; col() with a header
# line too. The awk side guards numeric comparisons with sluice's number rule (docs/where.md:
# a field that is not a number fails every comparison, where awk would compare strings).
# usage: expr_differential_test.sh SLUICE SLUICE_GEN
set -u
SLUICE=$1
GEN=$2
WORK=$(mktemp -d "$PWD/sluice-where-diff.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
failures=0
checks=0

NUM='^[ \t]*[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)[ \t\r]*$'
# where-expression | awk condition (fields $1..$5: id,key,value,price,text)
CASES=(
  '$3 > 500000|($3 ~ N) && $3 + 0 > 500000'
  '$4 <= 5000.5|($4 ~ N) && $4 + 0 <= 5000.5'
  '$1 >= 100 and $1 < 2000|($1 ~ N) && $1 + 0 >= 100 && ($1 ~ N) && $1 + 0 < 2000'
  'not ($3 > 500000) and $4 < 30000|!(($3 ~ N) && $3 + 0 > 500000) && ($4 ~ N) && $4 + 0 < 30000'
  '$3 > 250000 and $3 < 750000 or contains($2, "q")|(($3 ~ N) && $3 + 0 > 250000 && ($3 ~ N) && $3 + 0 < 750000) || index($2, "q") > 0'
  'contains($5, "ab")|index($5, "ab") > 0'
  'contains($0, "zz") or contains($0, "QQ")|index($0, "zz") > 0 || index($0, "QQ") > 0'
  'startswith($2, "a")|substr($2, 1, 1) == "a"'
  'endswith($2, "x") and not startswith($5, " ")|substr($2, length($2), 1) == "x" && substr($5, 1, 1) != " "'
  '$2 < "m"|$2 < "m"'
  '$2 >= "t" and $2 != "tz"|$2 >= "t" && $2 != "tz"'
  '$1 in (1, 5, 100, 2000, 19999)|($1 ~ N) && ($1 + 0 == 1 || $1 + 0 == 5 || $1 + 0 == 100 || $1 + 0 == 2000 || $1 + 0 == 19999)'
  '$2 not in ("abc", "xjiupgij") and $3 < 100000|$2 != "abc" && $2 != "xjiupgij" && ($3 ~ N) && $3 + 0 < 100000'
  '$6 is empty|$6 == ""'
  '$5 is not empty and $4 > 99000|$5 != "" && ($4 ~ N) && $4 + 0 > 99000'
  '$4 == 5000.5 or $4 > 99999.99|($4 ~ N) && ($4 + 0 == 5000.5 || $4 + 0 > 99999.99)'
  # Two fields compare as in awk: as numbers when both are numbers, else as strings (no
  # guard needed: the generated fields are never numbers by one rule and not the other).
  '$3 > $4|$3 > $4'
  '$1 < $3 and $2 < $5|$1 < $3 && $2 < $5'
  '$2 >= $1 or $4 == $3|$2 >= $1 || $4 == $3'
  '$4 != $3 and $1 <= $3|$4 != $3 && $1 <= $3'
)

check() {  # NAME REFERENCE_FILE COMMAND...
  local name=$1 want=$2
  shift 2
  checks=$((checks + 1))
  "$@" >"$WORK/got" 2>"$WORK/err"
  local rc=$?
  # exit 1 (no match) is right when the reference is empty too
  if [[ $rc -ne 0 ]] && ! [[ $rc -eq 1 && ! -s $want ]]; then
    echo "FAIL $name: exit $rc: $(head -c 400 "$WORK/err")"
    failures=$((failures + 1))
    return
  fi
  if ! cmp -s "$WORK/got" "$want"; then
    echo "FAIL $name: $(wc -l <"$WORK/got") records, awk $(wc -l <"$want") ($*)"
    diff "$WORK/got" "$want" | head -5
    failures=$((failures + 1))
  fi
}

run_set() {  # FILE DELIM_FOR_SLUICE AWK_FS LABEL
  local f=$1 d=$2 fs=$3 label=$4 i=0
  for c in "${CASES[@]}"; do
    local where=${c%%|*} cond=${c#*|}
    i=$((i + 1))
    for awk in mawk gawk; do
      $awk -F "$fs" -v N="$NUM" "$cond" "$f" >"$WORK/want.$awk"
    done
    if ! cmp -s "$WORK/want.mawk" "$WORK/want.gawk"; then
      echo "FAIL $label case $i: mawk and gawk disagree on: $cond"
      failures=$((failures + 1))
    fi
    check "$label read: $where (vs mawk)" "$WORK/want.mawk" "$SLUICE" scan -b read -d "$d" --where "$where" "$f"
    check "$label read: $where (vs gawk)" "$WORK/want.gawk" "$SLUICE" scan -b read -d "$d" --where "$where" "$f"
    # Every backend on some cases (the sockmap one compiles the BPF build: ~0.3 s each).
    if ((i % 4 == 1)); then
      for b in uring mmap sockmap; do
        check "$label $b: $where" "$WORK/want.mawk" "$SLUICE" scan -b $b -d "$d" --where "$where" "$f"
      done
    fi
  done
  echo "checked $label"
}

"$GEN" --quiet --records 20000 --seed 11 --output "$WORK/data.csv" || { echo "FAIL generator"; exit 1; }
run_set "$WORK/data.csv" , , "csv"
"$GEN" --quiet --records 20000 --seed 12 --delimiter tab --output "$WORK/data.tsv" || { echo "FAIL generator"; exit 1; }
run_set "$WORK/data.tsv" '\t' '\t' "tsv"
# Edge cases of the generator: CRLF, NUL bytes, long records, no final newline.
"$GEN" --quiet --preset edge --records 5000 --seed 13 --output "$WORK/edge.csv" || { echo "FAIL generator"; exit 1; }
CASES=("${CASES[@]:0:8}")
run_set "$WORK/edge.csv" , , "edge"

# A header line: col() names columns; the header is printed first and never judged.
"$GEN" --quiet --records 5000 --seed 14 --header --output "$WORK/head.csv" || { echo "FAIL generator"; exit 1; }
mawk -F, -v N="$NUM" 'NR == 1 || (($3 ~ N) && $3 + 0 > 500000 && index($2, "e") > 0)' "$WORK/head.csv" >"$WORK/want.head"
for b in read sockmap; do
  check "header col() $b" "$WORK/want.head" "$SLUICE" scan -b $b --where 'col("value") > 500000 and contains(col("key"), "e")' "$WORK/head.csv"
done
# Bare names, with the header declared: the same records.
for b in read sockmap; do
  check "header bare names $b" "$WORK/want.head" "$SLUICE" scan -b $b --header --where 'value > 500000 and contains(key, "e")' "$WORK/head.csv"
done
# Undeclared, a bare word is an error (a string without quotes), not a header read for it.
checks=$((checks + 1))
if "$SLUICE" scan --where 'value > 500000' "$WORK/head.csv" >/dev/null 2>"$WORK/err" || ! grep -q "needs --header" "$WORK/err"; then
  echo "FAIL a bare name without --header: $(head -c 300 "$WORK/err")"
  failures=$((failures + 1))
fi
mawk -F, 'NR == 1 || index($0, "key") > 0' "$WORK/head.csv" >"$WORK/want.head2"
check "header line matching the predicate is printed once" "$WORK/want.head2" "$SLUICE" scan --header --where 'contains($0, "key")' "$WORK/head.csv"
want_count=$(mawk -F, -v N="$NUM" 'NR > 1 && ($3 ~ N) && $3 + 0 > 500000' "$WORK/head.csv" | wc -l)
got_count=$("$SLUICE" scan -c --where 'col("value") > 500000' "$WORK/head.csv")
checks=$((checks + 1))
[[ $want_count == "$got_count" ]] || { echo "FAIL header -c: $got_count != $want_count"; failures=$((failures + 1)); }

# Projection: --select equals awk's print of the same fields.
mawk -F, -v OFS=, -v N="$NUM" '($3 ~ N) && $3 + 0 > 500000 { print $4, $2, $9 }' "$WORK/data.csv" >"$WORK/want.select"
check "select" "$WORK/want.select" "$SLUICE" scan --where '$3 > 500000' --select '$4,2,$9' "$WORK/data.csv"
check "select sockmap" "$WORK/want.select" "$SLUICE" scan -b sockmap --where '$3 > 500000' --select '$4,2,$9' "$WORK/data.csv"

# Aggregates: exact, against python's decimal module (awk's doubles are not exact). Amounts
# in every form: integers, 0-3 fraction digits, negatives, blanks, non-numbers, missing.
awk 'BEGIN { srand(21); split("n/a,,1e3, 7 ,-0,+5,.5,5.", odd, ",");
  for (i = 0; i < 30000; i++) {
    r = rand(); a = int(rand() * 2000000) - 1000000
    if (r < 0.3) amount = a; else if (r < 0.9) amount = sprintf("%.*f", int(rand() * 4), a / 1000); else amount = odd[1 + int(rand() * 8)]
    print i "," substr("abcdefgh", 1 + int(rand() * 6), 1) "," amount (rand() < 0.02 ? "" : ",x") } }' >"$WORK/agg.csv"
python3 - "$WORK/agg.csv" >"$WORK/want.agg" <<'PY'
import re, sys
from decimal import Decimal, ROUND_HALF_UP, getcontext
getcontext().prec = 100
num = re.compile(r'^[ \t]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[ \t\r]*$')
groups = {}
for line in open(sys.argv[1], encoding="latin-1"):
    f = line.rstrip("\n").split(",")
    if int(f[0]) <= 9999:       # the --where below
        continue
    g = groups.setdefault(f[1], [0, []])
    g[0] += 1
    if len(f) > 2 and len(f[2]) <= 64 and num.match(f[2]):
        g[1].append(Decimal(f[2].strip(" \t\r")))
def show(d):
    if d == 0: return "0"
    s = format(d, "f")
    if "." in s: s = s.rstrip("0").rstrip(".")
    return s
print("$2,count,sum($3),min($3),max($3),avg($3)")
for k in sorted(groups):
    n, xs = groups[k]
    if not xs:
        print(f"{k},{n},,,,"); continue
    scale = max(max(0, -x.normalize().as_tuple().exponent) for x in xs)
    total = sum(xs)
    avg = (total / len(xs)).quantize(Decimal(1).scaleb(-max(6, scale)), rounding=ROUND_HALF_UP)
    print(f"{k},{n},{show(total)},{show(min(xs))},{show(max(xs))},{show(avg)}")
PY
for b in read sockmap; do
  check "aggregates $b" "$WORK/want.agg" "$SLUICE" scan -b $b --where '$1 > 9999' \
    --sum '$3' --min '$3' --max '$3' --avg '$3' --group-by '$2' "$WORK/agg.csv"
done

echo "# $((checks - failures)) passed, $failures failed"
[[ $failures -eq 0 ]]
