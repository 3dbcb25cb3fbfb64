#!/usr/bin/env bash
# Runs the fio jobs of bench/fio on one file and writes one CSV row per job: the page-cache
# (buffered, warm, invalidate=0) and device (O_DIRECT) ceilings at several block sizes and
# depths, with psync and io_uring. scripts/plot.py --fio draws them (and uses the best of each
# as the ceiling line of the throughput figures).
#
# usage: bench/fio/run.sh [--quick] FILE OUT.csv
#   FILE must be on a disk file system for O_DIRECT (tmpfs silently buffers). Generate one with
#   sluice-gen --preset bench-1g -o FILE. Needs fio and python3.
set -euo pipefail
quick=0
if [[ ${1:-} == --quick ]]; then quick=1; shift; fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--quick] FILE OUT.csv" >&2
  exit 2
fi
FILE=$(realpath "$1")
OUT=$2
HERE=$(cd "$(dirname "$0")" && pwd)
command -v fio >/dev/null || { echo "run.sh: fio is not installed (scripts/setup-deps.sh)" >&2; exit 2; }
if ((quick)); then
  sizes=(128k 1m)
  depths=(1 32)
  runtime=2
else
  sizes=(4k 128k 1m)
  depths=(1 8 32)
  runtime=10
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0
run_job() {  # MODE JOBFILE ENGINE BS DEPTH
  local mode=$1 job=$2 engine=$3 bs=$4 depth=$5
  if [[ $mode == buffered ]]; then cat "$FILE" >/dev/null; fi  # warm: the job must not read the device
  n=$((n + 1))
  FIO_FILE=$FILE FIO_BS=$bs FIO_ENGINE=$engine FIO_DEPTH=$depth FIO_RUNTIME=$runtime \
    fio --readonly --output-format=json --output="$TMP/$n.json" "$job" >/dev/null
  echo "$mode $engine $bs $depth $TMP/$n.json" >>"$TMP/index"
  echo "fio: $mode $engine bs=$bs depth=$depth done" >&2
}
for mode in buffered direct; do
  for bs in "${sizes[@]}"; do
    run_job "$mode" "$HERE/seqread-$mode.fio" psync "$bs" 1
    for d in "${depths[@]}"; do
      run_job "$mode" "$HERE/seqread-$mode.fio" io_uring "$bs" "$d"
    done
  done
done
python3 - "$TMP/index" "$OUT" "$FILE" <<'PY'
import csv, json, sys
index, out, path = sys.argv[1:4]
cols = ["mode", "ioengine", "bs", "iodepth", "bw_gbps", "bw_bytes", "iops", "lat_mean_us", "usr_cpu_pct",
        "sys_cpu_pct", "io_bytes", "runtime_ms", "file", "fio_version"]
with open(out, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(cols)
    for line in open(index):
        mode, eng, bs, depth, jf = line.split()
        d = json.load(open(jf))
        j = d["jobs"][0]
        rd = j["read"]
        lat = rd.get("lat_ns", rd.get("clat_ns", {})).get("mean", 0) / 1000
        w.writerow([mode, eng, bs, depth, f"{rd['bw_bytes'] / 1e9:.4f}", rd["bw_bytes"], f"{rd['iops']:.1f}",
                    f"{lat:.2f}", f"{j['usr_cpu']:.2f}", f"{j['sys_cpu']:.2f}", rd["io_bytes"], rd["runtime"],
                    path, d.get("fio version", "")])
print(out)
PY
