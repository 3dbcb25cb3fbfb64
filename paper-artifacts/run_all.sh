#!/usr/bin/env bash
# Regenerates every figure of the sluice evaluation and checks the claims of README.md against
# the fresh numbers.
#
# usage: paper-artifacts/run_all.sh [--quick | --full] [--out DIR] [--no-build] [--build-dir DIR]
#                                   [--real-data DIR]
#   --quick      (default) 256 MiB data, 3 selectivities, warm + cold + direct, 3 rounds, and
#                the network placements of the claims (1 Gbit/s and unshaped, 1 %, 3 rounds;
#                as root): under 15 minutes on 2 cores, build included
#   --full       1 GiB data, 5 selectivities, warm + cold + direct, 1 and 2 processes,
#                100 B and 1000 B records, 5 rounds, plus the network placement experiment
#                (scripts/net-experiment.sh, 256 MiB, every link rate) (hours)
#   --out DIR    results directory (default build/artifacts/MODE-UTCTIME)
#   --no-build   use the binaries already built
#   --build-dir DIR  CMake build directory (default build)
#   --real-data DIR  also fetch the real data sets into DIR (downloads; datasets/fetch)
# Environment: SLUICE_ARTIFACT_BACKENDS overrides the sluice backends of the matrix (default
# read,uring,mmap,uring+direct, plus sockmap where `sluice probe` reports path.sockmap).
#
# Steps: build (the harness targets), install the DuckDB peer project-locally if npm can (skipped
# with the reason otherwise), sluice-bench matrix, micro-benchmarks, fio ceilings, figures,
# claims. Everything lands in OUT: bench/ (CSV + JSON), micro.json, fio.csv, net.csv (as root),
# figures/, claims.txt, claims.md, environment.txt, run_all.log.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=quick
out=""
build=1
build_dir=build
real_data=""
while (($#)); do
  case $1 in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --out) out=$2; shift ;;
    --no-build) build=0 ;;
    --build-dir) build_dir=$2; shift ;;
    --real-data) real_data=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run_all.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-build/artifacts/$mode-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee "$out/run_all.log") 2>&1
t0=$(date +%s)
step() { echo; echo "== [$(($(date +%s) - t0))s] $*"; }

# The system python has matplotlib (python3-matplotlib); a pyenv/venv python may not.
PY=python3
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import matplotlib' 2>/dev/null; then PY=$p; break; fi
done

if ((build)); then
  step "build"
  if [[ $EUID -eq 0 ]]; then ./scripts/setup-deps.sh; fi
  # Only what the evaluation runs (scripts/build.sh builds the test suite too).
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${SLUICE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target sluice-bench sluice-bench-micro
fi
B=$(cd "$build_dir" && pwd)
for bin in sluice sluice-gen sluice-bench sluice-bench-spawn; do
  [[ -x $B/$bin ]] || { echo "run_all.sh: $B/$bin missing (build first)" >&2; exit 2; }
done

step "DuckDB peer (npm @duckdb/node-api, project-local)"
if [[ -f $B/peers/node_modules/@duckdb/node-api/package.json ]]; then
  echo "present: $B/peers/node_modules"
elif command -v npm >/dev/null && npm install --prefix "$B/peers" --no-audit --no-fund @duckdb/node-api; then
  echo "installed into $B/peers/node_modules"
else
  echo "DuckDB peer unavailable (npm missing or install failed): its rows will say 'skipped'"
fi

if [[ $mode == quick ]]; then
  matrix=(--file-sizes 256M --selectivity 1%,10%,100% --cache warm,cold,direct --reps 3 --warmup 1)
  micro_args=(--benchmark_min_time=0.05)
  fio_args=(--quick)
  fio_size=256M
else
  matrix=(--file-sizes 1G --selectivity 0.1%,1%,10%,50%,100% --cache warm,cold,direct --threads 1,2
    --record-sizes 100,1000 --reps 5 --warmup 1)
  micro_args=()
  fio_args=()
  fio_size=1G
fi

step "sluice-bench matrix ($mode)"
# The in-kernel backend joins the matrix where this kernel and user can run it (sluice probe:
# path.sockmap); its claims say "not measured" elsewhere.
backends=read,uring,mmap,uring+direct
if "$B/sluice" probe --json 2>/dev/null |
  "$PY" -c 'import json, sys; sys.exit(not any(c["name"] == "path.sockmap" and c["available"] for c in json.load(sys.stdin)["capabilities"]))'; then
  backends+=,sockmap
else
  echo "sockmap backend not available here (sluice probe: path.sockmap): its claims will say 'not measured'"
fi
bench_rc=0
"$B/sluice-bench" --out "$out/bench" --work-dir "$out/work" --filters literal,literal-common,column \
  --backends "${SLUICE_ARTIFACT_BACKENDS:-$backends}" "${matrix[@]}" || bench_rc=$?
if ((bench_rc == 1)); then echo "WARNING: a sluice backend gave a wrong count or failed (see bench/summary.csv)"; fi
if ((bench_rc > 1)); then echo "sluice-bench failed ($bench_rc)"; exit "$bench_rc"; fi

step "micro-benchmarks"
micro_json=""
if [[ -x $B/sluice-bench-micro ]]; then
  "$B/sluice-bench-micro" "${micro_args[@]}" --benchmark_out="$out/micro.json" --benchmark_out_format=json \
    >"$out/micro.txt" 2>&1 && micro_json=$out/micro.json || echo "micro-benchmarks failed: see micro.txt"
  tail -n 5 "$out/micro.txt"
else
  echo "sluice-bench-micro not built (libbenchmark-dev missing): micro claims will be 'not measured'"
fi

step "fio ceilings"
fio_csv=""
if command -v fio >/dev/null; then
  mkdir -p "$out/work"
  "$B/sluice-gen" --size "$fio_size" -q -o "$out/work/fio-data.csv"
  bench/fio/run.sh "${fio_args[@]}" "$out/work/fio-data.csv" "$out/fio.csv" && fio_csv=$out/fio.csv
  rm -f "$out/work/fio-data.csv"
else
  echo "fio not installed: no ceiling figure"
fi

net_csv=""
step "network placements (scripts/net-experiment.sh)"
# Every server-placement request pays the verifier (--program-cache 0), as a first request does.
if [[ $mode == quick ]]; then
  net_args=(--rates "1gbit none" --selectivities 1% --placements "server client client-udp xdp-trim" --repeat 3)
else
  net_args=()
fi
if [[ $EUID -ne 0 ]]; then
  echo "not root: no network namespaces, so no network placements (their claims: 'not measured')"
elif ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
  echo "iproute2 (ip, tc) missing: no network placements (their claims: 'not measured')"
else
  scripts/net-experiment.sh --size 256M --sluice "$B/sluice" --gen "$B/sluice-gen" --out "$out/net.csv" \
    --data-dir "$out/work/net" --server-args "--program-cache 0" "${net_args[@]}" && net_csv=$out/net.csv ||
    echo "network experiment failed: no placement figure, network claims 'not measured'"
fi

if [[ -n $real_data ]]; then
  step "real data (downloads)"
  datasets/fetch/flights.sh "$real_data" || echo "flights fetch failed"
  datasets/fetch/linux-source.sh "$real_data" || echo "linux-source fetch failed"
  datasets/fetch/debian-contents.sh "$real_data" || echo "debian-contents fetch failed"
fi

step "figures"
plot_args=("$out/bench" -o "$out/figures")
[[ -n $micro_json ]] && plot_args+=(--micro "$micro_json")
[[ -n $fio_csv ]] && plot_args+=(--fio "$fio_csv")
[[ -n $net_csv ]] && plot_args+=(--network "$net_csv")
"$PY" scripts/plot.py "${plot_args[@]}"

step "environment"
"$PY" - "$out/bench/results.json" >"$out/environment.txt" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metadata"]
for k, v in m.items():
    print(f"{k}: {v}")
PY
cat "$out/environment.txt" | grep -E '^(git_describe|kernel_release|cpu_model|cpu_cores_online|memory_total|virtualization):'

step "claims"
claim_args=(--results "$out/bench" --markdown "$out/claims.md")
[[ -n $micro_json ]] && claim_args+=(--micro "$micro_json")
[[ -n $net_csv ]] && claim_args+=(--network "$net_csv")
"$PY" paper-artifacts/check_claims.py "${claim_args[@]}" | tee "$out/claims.txt"

echo
echo "done in $(($(date +%s) - t0)) s: $out"
