#!/usr/bin/env python3
"""Breaks the sockmap backend's time into transport and scan, side by side in one run.

Runs, interleaved and in a shuffled order per round (seed printed), `sluice scan --stats
--json --no-record-count` with:
  keep-all   the bare transport: sendfile -> sk_msg (no copy, no judging) -> redirect -> recv
  keep-none  transport + window pull/copy + framing, nothing judged, ~nothing delivered
  literal, column   the real filters
and the read backend with the same filters as the reference. Every run's match count is
checked against the read backend's. Prints a table (medians, min-max) and writes CSV.

usage: sockmap_breakdown.py SLUICE FILE --literal NEEDLE [--column 3 --threshold T] [--reps 5] [--csv OUT]
"""
import argparse
import csv
import json
import random
import statistics
import subprocess
import sys


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    report = json.loads(p.stdout)
    return report["files"][0]["matches"], report["total"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sluice")
    ap.add_argument("file")
    ap.add_argument("--literal", required=True)
    ap.add_argument("--column", type=int, default=3)
    ap.add_argument("--threshold", default="989999")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    ap.add_argument("--csv")
    a = ap.parse_args()
    base = [a.sluice, "scan", "-c", "--stats", "--json", "--no-record-count"]
    lit = ["-F", "-e", a.literal]
    col = ["--column", str(a.column), "--op", ">", "--value", a.threshold]
    cases = {
        "sockmap keep-all (transport)": (["-b", "sockmap", "--filter", "keep-all"], None),
        "sockmap keep-none (transport+copy+framing)": (["-b", "sockmap", "--filter", "keep-none"], 0),
        "sockmap literal": (["-b", "sockmap"] + lit, "literal"),
        "sockmap column": (["-b", "sockmap"] + col, "column"),
        "read literal": (["-b", "read"] + lit, "literal"),
        "read column": (["-b", "read"] + col, "column"),
    }
    expected = {"literal": run(base + ["-b", "read"] + lit + [a.file])[0],
                "column": run(base + ["-b", "read"] + col + [a.file])[0]}
    rng = random.Random(a.seed)
    samples = {name: [] for name in cases}
    for rep in range(a.reps + 1):  # round 0 is a warm-up
        order = list(cases)
        rng.shuffle(order)
        for name in order:
            args, want = cases[name]
            count, stats = run(base + args + [a.file])
            want = expected.get(want, want)
            if want is not None and count != want:
                sys.exit(f"{name}: {count} matches, expected {want}")
            if rep > 0:
                samples[name].append(stats)
            print(f"\rround {rep}/{a.reps} {name:<45}", end="", file=sys.stderr)
    print(file=sys.stderr)
    print(f"# {a.file}, {a.reps} interleaved rounds (seed {a.seed}), page cache warm, medians (min-max)")
    rows = []
    for name, runs in samples.items():
        gb = runs[0]["bytes_read"] / 1e9
        wall = [r["wall_seconds"] for r in runs]
        cpu = [(r["user_cpu_seconds"] + r["system_cpu_seconds"]) / gb for r in runs]
        bpf = [r["bpf_run_time_ns"] / r["bpf_run_count"] / 1e3 for r in runs if r["bpf_run_count"]]
        row = {
            "case": name, "wall_s": statistics.median(wall), "wall_min": min(wall), "wall_max": max(wall),
            "gbps": gb / statistics.median(wall), "cpu_s_per_gb": statistics.median(cpu),
            "delivered_mb": runs[0]["bytes_delivered"] / 1e6,
            "bpf_us_per_window": statistics.median(bpf) if bpf else "",
        }
        rows.append(row)
        print(f"{name:<45} {row['wall_s']:7.3f} s ({row['wall_min']:.3f}-{row['wall_max']:.3f}) "
              f"{row['gbps']:6.2f} GB/s {row['cpu_s_per_gb']:6.3f} CPU-s/GB "
              f"delivered {row['delivered_mb']:9.1f} MB  BPF " +
              (f"{row['bpf_us_per_window']:.1f} us/window" if row['bpf_us_per_window'] != '' else "-"))
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
