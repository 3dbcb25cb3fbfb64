#!/usr/bin/env python3
"""Prints a sluice-bench summary.csv as a table for people: one block per filter, subjects
sorted by median throughput, with the ratio to the run's reference and the bytes each
delivered to user space. Rows whose match count was wrong are marked and carry no ratio."""
import csv
import sys


def main(path):
    rows = list(csv.DictReader(open(path, newline="")))
    if not rows:
        sys.exit(f"{path}: no rows")
    by_filter = {}
    for r in rows:
        what = f"${r['column']} > {r['threshold']}" if r["filter_kind"] == "column" else r["needle"]
        by_filter.setdefault((r["filter"], what, float(r["selectivity_pct"])), []).append(r)
    for (flt, what, _), group in sorted(by_filter.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        print(f"\n{flt} ({what}), {group[0]['selectivity_pct']}% selectivity, "
              f"{int(float(group[0]['input_bytes'])) / 2**20:.0f} MiB, cache {group[0]['cache']}")
        print(f"  {'subject':<22}{'mode':<22}{'GB/s':>8}{'(min-max)':>16}{'x ref':>8}{'CPU s/GB':>10}{'delivered MB':>14}  count")
        group.sort(key=lambda r: -float(r["throughput_gbps_median"] or 0))
        for r in group:
            ok = r["status"] == "ok"
            ratio = f"{float(r['throughput_ratio_median']):.2f}" if ok and r["throughput_ratio_median"] else "-"
            delivered = float(r["bytes_delivered"]) / 1e6 if r["bytes_delivered"] else float("nan")
            if ok:
                count = r["count"]
            elif r["count"] and r["count"] != r["expected_count"]:
                count = f"{r['count']}  WRONG (expected {r['expected_count']}): {r['status']}"
            else:
                count = f"{r['count']}  {r['status'].upper()} (a run did not complete: see runs.csv)"

            print(f"  {r['subject']:<22}{r['mode']:<22}{float(r['throughput_gbps_median'] or 0):>8.2f}"
                  f"{'(' + format(float(r['throughput_gbps_min'] or 0), '.2f') + '-' + format(float(r['throughput_gbps_max'] or 0), '.2f') + ')':>16}"
                  f"{ratio:>8}{float(r['cpu_s_per_gb_median'] or 0):>10.3f}{delivered:>14.1f}  {count}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/demo/summary.csv")
