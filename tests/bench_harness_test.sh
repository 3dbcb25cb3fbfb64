#!/usr/bin/env bash
# sluice-bench end to end, on a tiny matrix (seconds). Never asserts performance: only that the
# harness measures what it says it measures and writes what docs/benchmarking.md documents.
#
# usage: bench_harness_test.sh MODE SLUICE_BENCH SOURCE_DIR PYTHON
#   MODE matrix      runs a tiny matrix; CSV and JSON are valid and self-describing, every
#                    column is documented in docs/benchmarking.md, plot.py draws the figures
#   MODE wrong-peer  a deliberately wrong peer (--extra-peer) is flagged and left out of ratios
#   MODE cold        cache state "cold" really is cold: mincore (the harness) and fincore
#                    (util-linux, independently, from inside a peer) see no resident page
set -u
MODE=$1
BENCH=$2
SRC=$3
PY=${4:-python3}
# Data goes under the build tree: a disk file system (eviction and O_DIRECT work there).
WORK=$(mktemp -d "$PWD/sluice-bench-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

run_bench() {  # OUT_DIR ARGS...
  local out=$1
  shift
  "$BENCH" --out "$out" --file-sizes 256K --record-sizes 100 --reps 2 --warmup 1 --seed 12345 --no-progress "$@" \
    >"$WORK/bench.out" 2>"$WORK/bench.err"
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "sluice-bench exit $rc: $(tail -c 1500 "$WORK/bench.err")"
    return 1
  fi
  pass "sluice-bench ran ($*)"
}

# check.py RESULTS_DIR CHECK...: the Python checks below, one line per check.
cat >"$WORK/check.py" <<'PYEOF'
import csv, json, os, re, sys

out, docs, checks = sys.argv[1], sys.argv[2], sys.argv[3:]
failures = 0
def ok(name): print(f"ok   {name}")
def bad(name):
    global failures
    failures += 1
    print(f"FAIL {name}")
def read_csv(name):
    with open(os.path.join(out, name), newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]], rows
res = json.load(open(os.path.join(out, "results.json")))
runs_h, runs, runs_raw = read_csv("runs.csv")
sum_h, summ, sum_raw = read_csv("summary.csv")
def num(v):
    return float(v) if v not in ("", None) else None

if "valid" in checks:
    for name, raw, h in (("runs.csv", runs_raw, runs_h), ("summary.csv", sum_raw, sum_h)):
        if all(len(r) == len(h) for r in raw) and len(raw) > 1:
            ok(f"{name}: {len(raw) - 1} rows, all with {len(h)} fields")
        else:
            bad(f"{name}: ragged or empty")
    if res["columns"]["summary"] == sum_h and res["columns"]["runs"] == runs_h:
        ok("results.json lists the same columns as the CSV headers")
    else:
        bad("results.json columns differ from the CSV headers")
    if len(res["runs"]) == len(runs) and len(res["summary"]) == len(summ):
        ok("results.json has every CSV row")
    else:
        bad("results.json row counts differ from the CSV files")
    # Numbers are numbers where the documentation says so.
    numeric = {c for c in ("wall_s", "throughput_gbps", "cpu_s_per_gb", "user_s", "sys_s", "max_rss_kib",
                           "expected_count", "count", "resident_pages_before")}
    badnum = [(c, r[c]) for r in runs for c in numeric if r[c] != "" and not re.match(r"^-?[0-9.e+-]+$", r[c])]
    (ok if not badnum else bad)(f"numeric run columns parse as numbers {badnum[:3]}")
    okruns = [r for r in runs if r["status"] == "ok"]
    if okruns and all(num(r["wall_s"]) > 0 and num(r["cpu_s"]) >= 0 and num(r["max_rss_kib"]) > 0 for r in okruns):
        ok(f"{len(okruns)} ok runs have wall > 0, CPU >= 0 and a peak RSS")
    else:
        bad("runs without wall time, CPU or RSS")

if "documented" in checks:
    text = open(docs).read()
    missing = [c for c in dict.fromkeys(runs_h + sum_h) if f"| `{c}` |" not in text]
    (ok if not missing else bad)(f"every CSV column is documented in docs/benchmarking.md (missing: {missing})")

if "metadata" in checks:
    m = res["metadata"]
    need = ["git_revision", "kernel_release", "cpu_model", "cpu_cores_online", "command_line", "order_seed",
            "data_seed", "reps", "warmup_rounds", "started_utc", "version.grep", "version.mawk"]
    missing = [k for k in need if not m.get(k)]
    (ok if not missing else bad)(f"metadata has environment, versions and the command line (missing: {missing})")
    (ok if "--seed 12345" in m.get("command_line", "") else bad)("the exact command line is recorded")
    ds_ok = res["datasets"] and all(re.match(r"^[0-9]+ [0-9]+$", d["checksum"]) and d["shards_detail"][0]["generator"].startswith("sluice-gen ")
                                    for d in res["datasets"])
    (ok if ds_ok else bad)("every data set has a cksum and the sluice-gen command that rebuilds it")
    meta_csv = open(os.path.join(out, "metadata.csv")).read()
    (ok if "git_revision," in meta_csv and ".checksum," in meta_csv else bad)("metadata.csv carries the same metadata")
    filt = {f["name"]: f for f in res["filters"]}
    vok = all("verified_insns" in f["verifier"] or "error" in f["verifier"] for f in filt.values())
    (ok if vok else bad)("each filter reports its verifier cost (or why it could not be loaded)")

if "correct" in checks:
    srows = [r for r in summ if r["kind"] == "sluice" and r["status"] != "skipped"]
    good = srows and all(r["status"] == "ok" and r["count"] == r["expected_count"] for r in srows)
    (ok if good else bad)(f"every sluice backend counted exactly what the generator planted ({len(srows)} rows)")
    peers = [r for r in summ if r["kind"] == "peer" and r["status"] not in ("skipped",) and r["subject"] != "liar"]
    good = peers and all(r["status"] == "ok" for r in peers)
    (ok if good else bad)(f"real peers agree with the generator ({len(peers)} rows)")
    # Ratios: reference is 1, others numeric, per-round min <= median <= max.
    for r in summ:
        if r["status"] != "ok":
            continue
        lo, med, hi = num(r["throughput_ratio_min"]), num(r["throughput_ratio_median"]), num(r["throughput_ratio_max"])
        if r["reference"] == "" or med is None or not (lo <= med <= hi):
            bad(f"ratio of {r['subject']} in {r['cell']}: {lo} {med} {hi} ref={r['reference']}")
            break
        if r["subject"] == r["reference"] and abs(med - 1) > 1e-9:
            bad(f"reference {r['subject']} has ratio {med}")
            break
    else:
        ok("every correct subject has a same-run ratio to the reference (reference = 1, min <= median <= max)")
    # Interleaving: within each measured round every subject runs once.
    rounds = {}
    for r in runs:
        rounds.setdefault((r["cell"], r["round"]), []).append(r["subject"])
    inter = all(len(v) == len(set(v)) for v in rounds.values())
    cells = {}
    for r in runs:
        cells.setdefault(r["cell"], set()).add(r["round"])
    (ok if inter and all(len(v) == 3 for v in cells.values()) else bad)("rounds are interleaved: each subject once per round, 1 warm-up + 2 measured")
    warm = [r for r in runs if r["cache"] == "warm"]
    (ok if warm and all(r["resident_pages_before"] == r["total_pages"] for r in warm) else bad)("warm runs start fully resident")

if "wrong-peer" in checks:
    liar = [r for r in summ if r["subject"] == "liar"]
    flagged = liar and all(r["status"] == "wrong" and "excluded from ratios" in r["note"] for r in liar)
    (ok if flagged else bad)(f"the wrong peer is flagged wrong in every cell ({len(liar)})")
    clean = liar and all(r[c] == "" for r in liar for c in ("reference", "throughput_ratio_median", "throughput_ratio_min",
                                                            "throughput_ratio_max", "cpu_per_gb_ratio_median"))
    (ok if clean else bad)("the wrong peer has no ratio")
    lruns = [r for r in runs if r["subject"] == "liar"]
    (ok if lruns and all(r["status"] == "wrong" and r["count"] == "4242" for r in lruns) else bad)("each of its runs is marked wrong with the count it gave")
    others = [r for r in summ if r["subject"] != "liar" and r["status"] == "ok"]
    (ok if others and all(r["reference"] != "liar" and r["throughput_ratio_median"] != "" for r in others) else bad)("correct subjects keep their ratios, never against the wrong peer")

if "cold" in checks:
    cold = [r for r in runs if r["cache"] == "cold"]
    (ok if cold and all(r["resident_pages_before"] == "0" and int(r["total_pages"]) > 0 for r in cold) else bad)(
        f"mincore saw 0 resident pages before each of {len(cold)} cold runs")
    rb = [num(r["proc_read_bytes"]) for r in cold if r["subject"] == "sluice:read"]
    (ok if rb and all(v and v > 0 for v in rb) else bad)("cold sluice runs read from the block device (/proc/PID/io read_bytes > 0)")
    warm = [r for r in runs if r["cache"] == "warm"]
    (ok if warm and all(r["resident_pages_before"] == r["total_pages"] for r in warm) else bad)("warm runs of the same data start fully resident (the check can tell)")
    probe = [r for r in summ if r["subject"] == "coldcheck"]
    if probe and any(r["status"] != "skipped" for r in probe):
        cold_ok = all(r["status"] == "ok" for r in probe if r["cache"] == "cold")
        warm_detected = all(r["status"] != "ok" for r in probe if r["cache"] == "warm")
        (ok if cold_ok else bad)("fincore, run as a peer, found no resident page at the start of every cold run")
        (ok if warm_detected else bad)("the same probe does see the pages in warm runs (it can detect residency)")
    else:
        print("skip fincore cross-check (fincore not installed)")

sys.exit(1 if failures else 0)
PYEOF

check() {  # OUT_DIR CHECKS...
  "$PY" "$WORK/check.py" "$1" "$SRC/docs/benchmarking.md" "${@:2}"
  local rc=$?
  [[ $rc -eq 0 ]] || failures=$((failures + 1))
}

case $MODE in
matrix)
  if run_bench "$WORK/m" --selectivity 1%,50% --filters literal,column --backends read,mmap \
    --peers grep-F,rg-no-mmap,mawk,dd --cache warm; then
    check "$WORK/m" valid documented metadata correct
    if "$PY" "$SRC/scripts/plot.py" "$WORK/m" -o "$WORK/fig" >"$WORK/plot.out" 2>"$WORK/plot.err"; then
      n=0
      for kind in throughput cpu delivered; do
        for ext in png svg; do
          f=$(ls "$WORK/fig/${kind}_warm_"*".$ext" 2>/dev/null | head -n1)
          if [[ -n $f && -s $f ]]; then n=$((n + 1)); else fail "plot.py did not write a non-empty ${kind} .$ext"; fi
        done
      done
      [[ $n -eq 6 ]] && pass "plot.py wrote throughput, CPU and bytes-delivered figures as PNG and SVG"
      [[ -s $WORK/fig/figures.md ]] && pass "plot.py indexed its figures" || fail "no figures.md"
      # Placement comparison from a (synthetic) scripts/net-experiment.sh CSV.
      {
        echo "rate,selectivity,placement,mode,run,file_bytes,matches,exact,e2e_seconds,wire_bytes,client_cpu_s,server_cpu_s"
        for p in client server xdp; do
          for sel in 1% 10%; do
            for run in 1 2; do echo "1gbit,$sel,$p,,$run,1000000,10,1,0.0$run,500000,0.01,0.02"; done
          done
        done
        echo "1gbit,1%,tc,drop,1,1000000,9,0,0.01,1000,0.01,0.01"
      } >"$WORK/net.csv"
      if "$PY" "$SRC/scripts/plot.py" --network "$WORK/net.csv" -o "$WORK/netfig" >"$WORK/plot.out" 2>"$WORK/plot.err" &&
        [[ -s $WORK/netfig/placement_1gbit.png && -s $WORK/netfig/placement_1gbit.svg ]]; then
        pass "plot.py draws the placement comparison from network results (PNG and SVG)"
      else
        fail "plot.py --network: $(tail -c 1500 "$WORK/plot.err")"
      fi
    else
      fail "plot.py failed: $(tail -c 1500 "$WORK/plot.err")"
    fi
  fi
  ;;
wrong-peer)
  if run_bench "$WORK/w" --selectivity 1% --filters literal --backends read --peers grep-F,dd --cache warm \
    --extra-peer 'liar:literal=echo 4242'; then
    check "$WORK/w" wrong-peer
    grep -q "peer excluded from ratios: liar" "$WORK/bench.err" && pass "the wrong peer is reported on stderr" ||
      fail "no stderr report of the wrong peer"
  fi
  ;;
cold)
  args=(--selectivity 1% --filters literal --backends read --peers grep-F --cache cold,warm)
  if command -v fincore >/dev/null; then
    # Prints the right count only if fincore finds no page of the file resident when it starts.
    args+=(--extra-peer 'coldcheck:literal=if [ $(fincore --noheadings --output PAGES {file}) -eq 0 ]; then grep -c -F -e {literal} {file}; else echo resident; fi')
  fi
  if run_bench "$WORK/c" "${args[@]}"; then
    check "$WORK/c" cold
  fi
  ;;
*)
  echo "unknown mode $MODE"
  exit 2
  ;;
esac

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
