#!/usr/bin/env python3
"""Checks the paper's claims (claims.json) against a fresh run and prints which held.

usage: check_claims.py --results BENCH_DIR [--micro MICRO_JSON] [--network NET_CSV]
                       [--claims claims.json] [--markdown OUT.md] [--strict]

Every claim is a ratio (or, for machine-independent quantities such as verifier instruction
counts, a value) with an expected range. Ratios are computed only from numbers of the same
sluice-bench run (both sides from one results.json, or both from one micro-benchmark JSON).
When both sides ran in the same matrix cell (interleaved), the ratio is the median of the
per-round ratios, as in sluice-bench's own summary; across cells (another selectivity, another
cache state) it is the ratio of the two medians. Network claims (source "network") read
scripts/net-experiment.sh's CSV, whose rounds are interleaved: the ratio is the median of the
per-round ratios (same link rate, selectivity and run number), and a side with a run that
printed a wrong count is not measured.
A claim is
  held          the measured value is inside the range
  NOT HELD      it is outside
  not measured  a side is missing (subject not installed, cell not in this matrix) or a side
                gave wrong answers (excluded, as everywhere else)
Exit status 0, or 1 with --strict when a claim did not hold. Only the standard library is used.
"""
import argparse
import csv
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def num(v):
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def matches(row, sel):
    for k, want in sel.items():
        have = row.get(k)
        if isinstance(want, (int, float)) and not isinstance(want, bool):
            if math.isnan(num(have)) or abs(num(have) - float(want)) > 1e-9 * max(1.0, abs(float(want))):
                return False
        elif str(have) != str(want):
            return False
    return True


def pick_row(summary, sel, defaults):
    """The summary row a selector means. Defaults fill unspecified keys; among rows that still
    differ (several file sizes), the largest data set wins."""
    full = dict(defaults)
    full.update(sel)
    rows = [r for r in summary if matches(r, full)]
    if not rows:
        return None, f"no row for {sel}"
    rows.sort(key=lambda r: num(r.get("input_bytes")), reverse=True)
    top = [r for r in rows if num(r.get("input_bytes")) == num(rows[0].get("input_bytes"))]
    if len(top) > 1:
        return None, f"{len(top)} rows match {sel}: make the claim more specific"
    r = top[0]
    if r["status"] != "ok":
        return None, f"{r['subject']} {r['status']} in {r['cell']}" + (f" ({r.get('note', '')})" if r.get("note") else "")
    return r, ""


def _round_pairs(res, n, d, metric):
    """Per-round ratios of two subjects of the same cell (their runs were interleaved)."""
    if n.get("cell") != d.get("cell") or not metric.endswith("_median"):
        return []
    col = metric[: -len("_median")]
    by = {}
    for r in res.get("runs", []):
        if r.get("cell") != n["cell"] or str(r.get("warmup")) in ("1", "1.0") or r.get("status") != "ok":
            continue
        by.setdefault(r["subject"], {})[str(r["round"])] = num(r.get(col))
    a, b = by.get(n["subject"], {}), by.get(d["subject"], {})
    return [a[k] / b[k] for k in a if k in b and b[k] and not math.isnan(a[k]) and not math.isnan(b[k])]


def median(values):
    """The median of a non-empty list (the mean of the middle two for an even count)."""
    v = sorted(values)
    m = len(v) // 2
    return v[m] if len(v) % 2 else (v[m - 1] + v[m]) / 2


def paired_ratio(res, n, d, metric):
    v = _round_pairs(res, n, d, metric)
    return median(v) if v else None


def paired_n(res, n, d, metric):
    return len(_round_pairs(res, n, d, metric))


def micro_values(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as fh:
        data = json.load(fh)
    out = {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        out[micro_key(b.get("run_name") or b["name"])] = b
    return out


def micro_key(name):
    """'bpf/x/64/kept/iterations:20/manual_time' -> 'bpf/x/64/kept' (Google Benchmark suffixes)."""
    return "/".join(p for p in name.split("/") if ":" not in p and p not in ("manual_time", "real_time"))


# Network CSV columns a claim may name beyond the CSV's own: the client's CPU without its
# one-time program load (what a longer file amortizes away).
NET_DERIVED = {"client_cpu_excl_load_s": lambda r: num(r.get("client_cpu_s")) - num(r.get("client_load_cpu_s"))}


def net_value(row, metric):
    return NET_DERIVED[metric](row) if metric in NET_DERIVED else num(row.get(metric))


def net_side(rows, sel, metric):
    """The runs a selector means ({rate, selectivity, placement, mode, metric}), by run number."""
    sel = dict(sel)
    metric = sel.pop("metric", metric)
    sel.setdefault("mode", "")
    picked = [r for r in rows if all(str(r.get(k, "")) == str(v) for k, v in sel.items())]
    if not picked:
        return None, metric, f"no runs for {sel}"
    if any(r.get("exact") != "1" for r in picked):
        return None, metric, f"{sel['placement']} printed a wrong count"
    return {(r["rate"], r["selectivity"], r["run"]): r for r in picked}, metric, ""


def evaluate_network(claim, net):
    if net is None:
        return math.nan, "no network experiment results (needs root, ip and tc)"
    n, mn, why = net_side(net, claim["num"], claim["metric"])
    if n is None:
        return math.nan, why
    d, md, why = net_side(net, claim["den"], claim["metric"])
    if d is None:
        return math.nan, why
    pairs = [(net_value(n[k], mn), net_value(d[k], md)) for k in n if k in d]
    pairs = [(a, b) for a, b in pairs if b and not math.isnan(a) and not math.isnan(b)]
    if not pairs:
        return math.nan, "no round has both sides"
    ratios = [a / b for a, b in pairs]
    return median(ratios), (f"median of {len(ratios)} same-round ratios {mn} / {md} "
                            f"(range {min(ratios):.3g}..{max(ratios):.3g})")


def evaluate(claim, res, micro, defaults, net=None):
    """-> (value, detail) with value NaN when not measured."""
    src = claim.get("source", "bench")
    metric = claim["metric"]
    if src == "bench":
        if res is None:
            return math.nan, "no sluice-bench results given"
        summary = res["summary"]
        n, why = pick_row(summary, claim["num"], defaults)
        if n is None:
            return math.nan, why
        if "den" not in claim:
            return num(n.get(metric)), f"{n['subject']} {metric} = {num(n.get(metric)):.4g}"
        d, why = pick_row(summary, claim["den"], defaults)
        if d is None:
            return math.nan, why
        a, b = num(n.get(metric)), num(d.get(metric))
        if math.isnan(a) or math.isnan(b) or b == 0:
            return math.nan, f"{metric} missing"
        paired = paired_ratio(res, n, d, metric)
        if paired is not None:
            return paired, (f"{n['subject']} / {d['subject']}: median of {paired_n(res, n, d, metric)} same-round "
                            f"ratios (medians {a:.4g} / {b:.4g}, {metric})")
        return a / b, f"{n['subject']} {a:.4g} / {d['subject']} {b:.4g} ({metric}, ratio of medians: different cells)"
    if src == "filter":
        if res is None:
            return math.nan, "no sluice-bench results given"
        f = next((f for f in res.get("filters", []) if f["name"] == claim["filter"]), None)
        if f is None:
            return math.nan, f"filter {claim['filter']} not in this run"
        v = f.get("verifier", {})
        if metric not in v:
            return math.nan, f"verifier cost not measured: {v.get('error', '?')}"
        return num(v[metric]), f"{claim['filter']} {metric} = {v[metric]}"
    if src == "micro":
        if micro is None:
            return math.nan, "no micro-benchmark results given"
        n = micro.get(micro_key(claim["num"]))
        d = micro.get(micro_key(claim["den"])) if "den" in claim else None
        if n is None or ("den" in claim and d is None):
            return math.nan, f"benchmark {claim['num'] if n is None else claim['den']} missing or failed"
        a = num(n.get(metric))
        if d is None:
            return a, f"{claim['num']} {metric} = {a:.4g}"
        b = num(d.get(metric))
        if math.isnan(a) or math.isnan(b) or b == 0:
            return math.nan, f"{metric} missing"
        return a / b, f"{a:.4g} / {b:.4g} B/ns"
    if src == "network":
        return evaluate_network(claim, net)
    return math.nan, f"unknown source {src}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", help="sluice-bench --out directory (or results.json)")
    ap.add_argument("--micro", help="sluice-bench-micro JSON (--benchmark_out)")
    ap.add_argument("--network", help="scripts/net-experiment.sh CSV (network placement claims)")
    ap.add_argument("--claims", default=os.path.join(HERE, "claims.json"))
    ap.add_argument("--markdown", help="also write the table as Markdown to this file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a claim did not hold")
    a = ap.parse_args()
    with open(a.claims) as fh:
        spec = json.load(fh)
    res = None
    if a.results:
        p = os.path.join(a.results, "results.json") if os.path.isdir(a.results) else a.results
        with open(p) as fh:
            res = json.load(fh)
    micro = micro_values(a.micro)
    net = None
    if a.network:
        with open(a.network, newline="") as fh:
            net = list(csv.DictReader(fh))
    defaults = spec.get("defaults", {})
    rows = []
    counts = {"held": 0, "NOT HELD": 0, "not measured": 0}
    for c in spec["claims"]:
        value, detail = evaluate(c, res, micro, defaults, net)
        lo, hi = c["range"]
        if math.isnan(value):
            status = "not measured"
        else:
            status = "held" if lo <= value <= hi else "NOT HELD"
        counts[status] += 1
        rows.append((c["id"], c["text"], value, lo, hi, status, detail, c.get("figure", "")))
    w_id = max(len(r[0]) for r in rows)
    print(f"{'claim':{w_id}}  {'measured':>9}  {'expected':>17}  {'result':12}  detail")
    for cid, text, value, lo, hi, status, detail, fig in rows:
        v = "-" if math.isnan(value) else f"{value:.3g}"
        print(f"{cid:{w_id}}  {v:>9}  {f'[{lo:g}, {hi:g}]':>17}  {status:12}  {detail}")
    print(f"\n{counts['held']} held, {counts['NOT HELD']} not held, {counts['not measured']} not measured "
          f"(of {len(rows)} claims)")
    if res is not None:
        m = res["metadata"]
        print(f"run: {m.get('command_line', '?')}\non: Linux {m.get('kernel_release', '?')}, {m.get('cpu_model', '?')}, "
              f"{m.get('cpu_cores_online', '?')} cores, sluice {m.get('git_describe', '?')}")
    if a.markdown:
        with open(a.markdown, "w") as fh:
            fh.write("| claim | statement | measured | expected | result | detail |\n|---|---|---|---|---|---|\n")
            for cid, text, value, lo, hi, status, detail, fig in rows:
                v = "-" if math.isnan(value) else f"{value:.3g}"
                fh.write(f"| {cid} | {text} | {v} | [{lo:g}, {hi:g}] | {status} | {detail.replace('|', '/')} |\n")
    return 1 if (a.strict and counts["NOT HELD"]) else 0


if __name__ == "__main__":
    sys.exit(main())
