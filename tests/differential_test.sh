#!/usr/bin/env bash
# Differential test: every backend's output (user space and sockmap) is byte-identical to grep -F (fixed strings)
# and to awk (column comparisons) on generated files of several sizes and selectivities,
# and on the generator's edge-case preset (CRLF, NUL bytes, long records, no final newline).
# usage: differential_test.sh SLUICE SLUICE_GEN [largest size, default 256M]
set -u
SLUICE=$1
GEN=$2
LARGEST=${3:-256M}
# Large files go under the build tree (a real file system: O_DIRECT works there).
WORK=$(mktemp -d "$PWD/sluice-diff.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
failures=0
checks=0
BACKENDS=("read" "uring" "mmap" "uring --direct" "sockmap" "sockmap --driver uring" "sockmap --driver write")

check_same() {  # NAME EXPECTED_DIGEST COMMAND...
  local name=$1 want=$2
  shift 2
  local got
  got=$("$@" | md5sum | cut -d' ' -f1)
  checks=$((checks + 1))
  if [[ $got != "$want" ]]; then
    echo "FAIL $name: output differs from the reference ($*)"
    failures=$((failures + 1))
  fi
}

digest() { "$@" | md5sum | cut -d' ' -f1; }

run_file() {  # FILE LABEL THRESHOLD LITERAL [quick]
  local f=$1 label=$2 threshold=$3 literal=$4 quick=${5:-}
  local want_lit want_col want_dec want_inv want_multi want_icase
  want_lit=$(digest grep -a -F -e "$literal" "$f")
  # sluice's documented rule: a field that is not a number never satisfies a comparison
  # (awk would compare it as a string), so the awk reference checks the field's form first.
  want_col=$(digest awk -F, -v t="$threshold" '$3 ~ /^[ \t]*[-+]?[0-9]+[ \t\r]*$/ && $3 + 0 > t' "$f")
  want_dec=$(digest awk -F, '$4 ~ /^[ \t]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[ \t\r]*$/ && $4 + 0 <= 5000.5' "$f")
  if [[ -z $quick ]]; then
    want_inv=$(digest grep -a -v -F -e "$literal" "$f")
    want_multi=$(digest grep -a -F -e "$literal" -e ",7777" "$f")
    want_icase=$(digest grep -a -i -F -e "${literal,,}" "$f")
  fi
  for b in "${BACKENDS[@]}"; do
    # shellcheck disable=SC2086
    check_same "$label $b literal" "$want_lit" "$SLUICE" scan -b $b -F -e "$literal" "$f"
    # shellcheck disable=SC2086
    check_same "$label $b column int" "$want_col" "$SLUICE" scan -b $b --column 3 --op '>' --value "$threshold" "$f"
    # shellcheck disable=SC2086
    check_same "$label $b column decimal" "$want_dec" "$SLUICE" scan -b $b --column 4 --type decimal --op '<=' --value 5000.5 "$f"
    [[ -n $quick ]] && continue
    # shellcheck disable=SC2086
    check_same "$label $b invert" "$want_inv" "$SLUICE" scan -b $b -v -e "$literal" "$f"
    # shellcheck disable=SC2086
    check_same "$label $b two patterns" "$want_multi" "$SLUICE" scan -b $b -e "$literal" -e ",7777" "$f"
    # shellcheck disable=SC2086
    check_same "$label $b ignore case" "$want_icase" "$SLUICE" scan -b $b -i -e "${literal,,}" "$f"
  done
  # Counts agree with grep -c and with the generator's exact expectation.
  local want_count got_count
  want_count=$(grep -a -c -F -e "$literal" "$f")
  got_count=$("$SLUICE" scan -c -e "$literal" "$f")
  checks=$((checks + 1))
  [[ $want_count == "$got_count" ]] || { echo "FAIL $label count $got_count != grep $want_count"; failures=$((failures + 1)); }
  if [[ -f $f.json ]]; then
    local exact
    exact=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["literal_records"])' "$f.json")
    checks=$((checks + 1))
    [[ $exact == "$got_count" ]] || { echo "FAIL $label count $got_count != generator's $exact"; failures=$((failures + 1)); }
  fi
  echo "checked $label"
}

for size in 1M 16M "$LARGEST"; do
  for sel in 0 0.1% 1% 10% 50% 100%; do
    f=$WORK/data.csv
    "$GEN" --quiet --size "$size" --selectivity "$sel" --literal XQZSLUICE --value-threshold 500000 \
      --value-fraction "${sel}" --seed "$RANDOM" --output "$f" --expect "$f.json" || { echo "FAIL generator"; exit 1; }
    # The largest size checks the literal and column filters; the others every filter.
    run_file "$f" "size=$size selectivity=$sel" 500000 XQZSLUICE "$([[ $size == "$LARGEST" ]] && echo quick)"
    rm -f "$f" "$f.json"
  done
done

# Edge cases: CRLF, NUL bytes, records longer than 64 KiB and 1 MiB, no trailing newline.
for variant in "--crlf" "--no-trailing-newline --nul-bytes" "--long-records 4 --long-length 1500000" \
               "--long-records 20 --long-length 70000 --crlf --no-trailing-newline"; do
  f=$WORK/edge.csv
  # shellcheck disable=SC2086
  "$GEN" --quiet --records 30000 --selectivity 5% --literal XQZSLUICE $variant --seed 7 --output "$f" --expect "$f.json" \
    || { echo "FAIL generator $variant"; exit 1; }
  run_file "$f" "edge $variant" 500000 XQZSLUICE
  rm -f "$f" "$f.json"
done

# Hand-made files the generator does not make.
f=$WORK/tiny
for content in "" "\n" "XQZSLUICE" "XQZSLUICE\n\n" "\r\n" "a,1\nb,2,XQZSLUICE" "x,y,7,5000.50\r\nx,y,+8, .5 \nx,y,-0,-0.0\n,,,\n"; do
  printf "$content" >"$f"
  run_file "$f" "tiny '$content'" 1 XQZSLUICE
done

echo "differential_test: $checks checks, $failures failure(s)"
[[ $failures -eq 0 ]]
