#!/usr/bin/env python3
"""Figures from sluice-bench results (matplotlib, Agg backend: no display needed).

usage: plot.py [RESULTS_DIR] [-o FIG_DIR] [--micro MICRO_JSON] [--fio FIO_CSV]
               [--network NET_CSV] [--format png,svg]

RESULTS_DIR holds results.json written by sluice-bench. For every combination of cache state,
record size, file size and thread count in it, this draws
  throughput_*.{png,svg}   throughput vs selectivity, one panel per filter, every subject
                           that answered correctly (median, error bars = min..max of the runs)
  cpu_*.{png,svg}          CPU seconds (user + system) per GB of input, same layout
  delivered_*.{png,svg}    bytes delivered to user space vs selectivity
and, when given,
  placement_*.{png,svg}    --network: scripts/net-experiment.sh CSV, one figure per link rate:
                           end-to-end throughput, bytes on the wire and CPU (client + server)
                           per placement vs selectivity (also drawn when sluice-bench results
                           carry `placement` / `link_rate_mbps` fields)
  micro.{png,svg}          --micro: sluice-bench-micro JSON, native vs BPF bytes/ns per filter
  fio.{png,svg}            --fio: bench/fio/run.sh CSV, device and page-cache ceilings
Titles say what was measured, on which kernel and CPU, and in which cache state. Subjects with
wrong answers are left out and named in the figure. FIG_DIR/figures.md lists every figure.
"""
import argparse
import csv
import json
import math
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CACHE_TEXT = {
    "warm": "warm page cache (file fully resident, checked with mincore)",
    "cold": "cold page cache (evicted with POSIX_FADV_DONTNEED, checked with mincore)",
    "direct": "O_DIRECT (page cache bypassed)",
}


def num(v):
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def human_bytes(n):
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if n == int(n) else f"{n:.1f} {unit}"
        n /= 1024


def load_results(path):
    f = os.path.join(path, "results.json") if os.path.isdir(path) else path
    with open(f) as fh:
        return json.load(fh)


def where_text(meta):
    kernel = meta.get("kernel_release", "?")
    cpu = meta.get("cpu_model", "?")
    cores = meta.get("cpu_cores_online", "?")
    virt = meta.get("virtualization") or ("VM" if meta.get("cpu_flags_hypervisor") == "yes" else "")
    rev = (meta.get("git_describe") or meta.get("git_revision", "?"))[:20]
    return f"Linux {kernel}, {cpu}, {cores} cores{', ' + virt if virt else ''}; sluice {rev}"


def label(row):
    mode = row.get("mode") or ""
    if row["kind"] == "sluice":
        return row["subject"]
    return f"{row['subject']} [{mode}]" if mode and mode != "extra" else row["subject"]


STYLE_CACHE = {}


def style(subject):
    if subject not in STYLE_CACHE:
        i = len(STYLE_CACHE)
        markers = "osD^v<>ph*X"
        STYLE_CACHE[subject] = dict(
            marker=markers[i % len(markers)],
            linestyle="-" if subject.startswith("sluice:") else "--",
            color=plt.get_cmap("tab10")(i % 10),
        )
    return STYLE_CACHE[subject]


def save(fig, outdir, name, formats, index, caption):
    written = []
    for fmt in formats:
        p = os.path.join(outdir, f"{name}.{fmt}")
        fig.savefig(p, dpi=130, bbox_inches="tight")
        written.append(p)
    plt.close(fig)
    index.append((name, caption, written))
    return written


def group_key(r):
    return (r["cache"], int(num(r["record_size"])), int(num(r["file_size_requested"])), int(num(r["threads"])))


def metric_figures(res, outdir, formats, index, ceilings):
    meta = res["metadata"]
    rows = res["summary"]
    reps = meta.get("reps", "?")
    groups = defaultdict(list)
    for r in rows:
        groups[group_key(r)].append(r)
    specs = [
        ("throughput", "throughput_gbps", "GB/s of input, higher is better", True,
         "Throughput vs selectivity"),
        ("cpu", "cpu_s_per_gb", "CPU s (user+sys) per GB, lower is better", True,
         "CPU per GB vs selectivity"),
        ("delivered", "bytes_delivered", "GB delivered to user space", False,
         "Bytes delivered to user space vs selectivity"),
    ]
    for key, grp in sorted(groups.items()):
        cache, rs, fs, th = key
        order = {"literal": 0, "literal-common": 1, "column": 2}
        filters = sorted({r["filter"] for r in grp}, key=lambda f: (order.get(f, 9), f))
        wrong = sorted({r["subject"] for r in grp if r["status"] == "wrong"})
        failed = sorted({r["subject"] for r in grp if r["status"] == "failed"})
        for fname, column, ylabel, spread, title in specs:
            fig, axes = plt.subplots(1, len(filters), figsize=(5.2 * len(filters), 4.4), squeeze=False)
            drew = False
            for ax, flt in zip(axes[0], filters):
                sub = [r for r in grp if r["filter"] == flt and r["status"] == "ok"]
                first = next(r for r in grp if r["filter"] == flt)
                needle = first["needle"]
                by_subject = defaultdict(list)
                for r in sub:
                    by_subject[r["subject"]].append(r)
                for subject, rs_ in by_subject.items():
                    rs_.sort(key=lambda r: num(r["selectivity_pct"]))
                    xs = [num(r["selectivity_pct"]) for r in rs_]
                    if spread:
                        ys = [num(r[column + "_median"]) for r in rs_]
                        lo = [num(r[column + "_min"]) for r in rs_]
                        hi = [num(r[column + "_max"]) for r in rs_]
                        err = [[max(0.0, y - l) if not math.isnan(l) else 0 for y, l in zip(ys, lo)],
                               [max(0.0, h - y) if not math.isnan(h) else 0 for y, h in zip(ys, hi)]]
                    else:
                        ys = [num(r[column]) / 1e9 for r in rs_]
                        err = None
                    if all(math.isnan(y) for y in ys):
                        continue
                    st = style(subject)
                    ax.errorbar(xs, ys, yerr=err, label=label(rs_[0]), capsize=3, linewidth=1.4, markersize=5, **st)
                    drew = True
                if fname == "throughput" and cache in ceilings:
                    value, text = ceilings[cache]
                    ax.axhline(value, color="grey", linestyle=":", linewidth=1)
                    ax.text(0.01, value, " " + text, transform=ax.get_yaxis_transform(), fontsize=7,
                            color="grey", va="bottom")
                if first["filter_kind"] == "column":
                    what = f"column {first['column']} > {first['threshold']}"
                elif flt == "literal-common":
                    what = f"common-bytes needle '{needle}'"
                else:
                    what = f"rare-byte needle '{needle}'"
                ax.set_title(f"{flt}: {what}", fontsize=10)
                ax.set_xscale("log")
                ax.set_xlabel("selectivity (% of records kept, exact)")
                ax.set_ylabel(ylabel, fontsize=9)
                if fname == "cpu":
                    ax.set_yscale("log")
                ax.grid(True, which="both", alpha=0.3)
                ax.legend(fontsize=7, loc="best")
            if not drew:
                plt.close(fig)
                continue
            notes = []
            if wrong:
                notes.append("left out (wrong counts): " + ", ".join(wrong))
            if failed:
                notes.append("left out (failed): " + ", ".join(failed))
            fig.suptitle(
                f"{title}: {CACHE_TEXT.get(cache, cache)}\n{rs} B records, {human_bytes(fs)} of data, "
                f"{th} process{'es' if th > 1 else ''}; median of {reps} interleaved runs"
                f"{', bars = min..max' if spread else ''}\n{where_text(meta)}",
                fontsize=9)
            if notes:
                fig.text(0.01, -0.02, "; ".join(notes), fontsize=7, color="firebrick")
            fig.tight_layout()
            name = f"{fname}_{cache}_r{rs}_f{human_bytes(fs).replace(' ', '')}_t{th}"
            save(fig, outdir, name, formats, index,
                 f"{title} ({cache}, {rs} B records, {human_bytes(fs)}, {th} process(es))")


def placement_figures(res, outdir, formats, index, quiet=False):
    rows = [r for r in res["summary"] if r.get("status") == "ok" and
            (r.get("link_rate_mbps") not in (None, "") or r.get("placement") not in (None, ""))]
    if not rows:
        if not quiet:  # (with --network, the placement figures come from that CSV)
            print("plot.py: no network placement results in this run: placement figure skipped", file=sys.stderr)
        return
    meta = res["metadata"]
    by_rate = defaultdict(list)
    for r in rows:
        by_rate[r.get("link_rate_mbps") or "unshaped"].append(r)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for rate, rs_ in sorted(by_rate.items(), key=lambda kv: num(kv[0])):
        rs_.sort(key=lambda r: r.get("placement") or r["subject"])
        names = [r.get("placement") or r["subject"] for r in rs_]
        axes[0].bar([f"{n}\n{rate} Mb/s" for n in names], [num(r["throughput_gbps_median"]) for r in rs_])
        axes[1].bar([f"{n}\n{rate} Mb/s" for n in names], [num(r["cpu_s_per_gb_median"]) for r in rs_])
    axes[0].set_ylabel("throughput (GB/s of input)")
    axes[1].set_ylabel("CPU s per GB")
    fig.suptitle(f"Where the filter runs, over shaped links\n{where_text(meta)}", fontsize=9)
    fig.tight_layout()
    save(fig, outdir, "placement", formats, index, "Placement comparison over shaped links")


def micro_figure(path, outdir, formats, index, meta):
    with open(path) as fh:
        data = json.load(fh)
    vals = defaultdict(dict)  # (filter, kept) -> {(impl, size): B/ns}
    for b in data.get("benchmarks", []):
        name = b.get("run_name") or b["name"]
        parts = name.split("/")
        if parts[0] not in ("native", "bpf") or len(parts) < 4 or b.get("error_occurred"):
            continue
        impl, flt, size, kept = parts[0], parts[1], int(parts[2]), parts[3]
        bpn = b.get("B_per_ns")
        if bpn is None:
            continue
        vals[(flt, kept)][(impl, size)] = float(bpn)
    if not vals:
        print("plot.py: no usable micro-benchmark rows", file=sys.stderr)
        return
    keys = sorted(vals)
    ncols = min(4, len(keys))
    nrows = (len(keys) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.8 * ncols, 3.3 * nrows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax in flat[len(keys):]:
        ax.set_visible(False)
    for ax, key in zip(flat, keys):
        d = vals[key]
        for impl, st in (("native", "-"), ("bpf", "--")):
            pts = sorted((s, v) for (i, s), v in d.items() if i == impl)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], st, marker="o", label=impl)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"{key[0]} ({key[1]})", fontsize=9)
        ax.set_xlabel("record bytes")
        ax.set_ylabel("bytes per ns (= GB/s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    ctx = data.get("context", {})
    fig.suptitle("Filter speed per record: native build vs BPF build (BPF_PROG_TEST_RUN, xdp_record host, "
                 "includes copying the record into the BPF window)\n" +
                 (where_text(meta) if meta else local_where()),
                 fontsize=9)
    fig.tight_layout()
    save(fig, outdir, "micro", formats, index, "Micro-benchmarks: native vs BPF bytes/ns per filter")


def fio_rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def fio_figure(path, outdir, formats, index, meta):
    rows = fio_rows(path)
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(8, 4.4))
    series = defaultdict(list)
    for r in rows:
        series[(r["mode"], r["ioengine"], r["iodepth"])].append((r["bs"], num(r["bw_gbps"])))
    for (mode, eng, depth), pts in sorted(series.items()):
        xs = [p[0] for p in pts]
        ax.plot(xs, [p[1] for p in pts], marker="o", linestyle="-" if mode == "buffered" else "--",
                label=f"{mode} {eng} QD{depth}")
    ax.set_ylabel("sequential read GB/s")
    ax.set_xlabel("block size")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.suptitle("fio sequential read: page-cache (buffered, invalidate=0, warm) and device (O_DIRECT) ceilings\n" +
                 (where_text(meta) if meta else local_where()), fontsize=9)
    fig.tight_layout()
    save(fig, outdir, "fio", formats, index, "fio ceilings (buffered warm and O_DIRECT)")


def fio_ceilings(path):
    """Best buffered bandwidth -> warm ceiling; best O_DIRECT -> cold/direct ceiling."""
    out = {}
    if not path:
        return out
    rows = fio_rows(path)
    buf = [num(r["bw_gbps"]) for r in rows if r["mode"] == "buffered"]
    dio = [num(r["bw_gbps"]) for r in rows if r["mode"] == "direct"]
    if buf:
        out["warm"] = (max(buf), f"fio buffered read (separate run), best: {max(buf):.1f} GB/s")
    if dio:
        out["direct"] = (max(dio), f"fio O_DIRECT read (separate run), best: {max(dio):.1f} GB/s")
        out["cold"] = out["direct"]
    return out


def local_where():
    """Kernel and CPU of this machine, for figures without sluice-bench metadata."""
    import platform
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"Linux {platform.release()}, {cpu}, {os.cpu_count()} cores (where plot.py ran)"


def network_figures(path, outdir, formats, index, meta):
    """scripts/net-experiment.sh CSV: one figure per link rate, placements side by side."""
    rows = fio_rows(path)
    if not rows:
        print("plot.py: empty network CSV", file=sys.stderr)
        return
    bad = sorted({(r["rate"], r["selectivity"], r["placement"]) for r in rows if r.get("exact") != "1"})
    rows = [r for r in rows if r.get("exact") == "1"]

    def sel_pct(text):
        t = text.strip()
        return float(t[:-1]) if t.endswith("%") else float(t) * 100

    by_rate = defaultdict(list)
    for r in rows:
        by_rate[r["rate"]].append(r)
    where = where_text(meta) if meta else local_where()
    for rate, rs in sorted(by_rate.items()):
        cells = defaultdict(list)
        for r in rs:
            place = r["placement"] + ("/" + r["mode"] if r.get("mode") else "")
            cells[(place, sel_pct(r["selectivity"]))].append(r)
        places = sorted({k[0] for k in cells})
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
        metrics = [
            ("end-to-end GB/s of the file (higher is better)",
             lambda r: float(r["file_bytes"]) / float(r["e2e_seconds"]) / 1e9, "linear"),
            ("bytes on the wire, % of the file",
             lambda r: 100.0 * float(r["wire_bytes"]) / float(r["file_bytes"]), "log"),
            ("CPU s per GB of file, client + server",
             lambda r: (float(r["client_cpu_s"]) + float(r["server_cpu_s"])) / (float(r["file_bytes"]) / 1e9), "log"),
        ]
        for ax, (ylabel, f, scale) in zip(axes, metrics):
            for place in places:
                pts = sorted((sel, [f(r) for r in runs]) for (p, sel), runs in cells.items() if p == place)
                if not pts:
                    continue
                xs = [p[0] for p in pts]
                med = [sorted(v)[len(v) // 2] if len(v) % 2 else sum(sorted(v)[len(v) // 2 - 1:len(v) // 2 + 1]) / 2
                       for _, v in pts]
                lo = [m - min(v) for m, (_, v) in zip(med, pts)]
                hi = [max(v) - m for m, (_, v) in zip(med, pts)]
                ax.errorbar(xs, med, yerr=[lo, hi], label=place, capsize=3, markersize=4, **style("net:" + place))
            ax.set_xscale("log")
            ax.set_yscale(scale)
            ax.set_xlabel("selectivity (% of records kept)")
            ax.set_ylabel(ylabel, fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
        axes[0].legend(fontsize=7)
        link = "unshaped veth" if rate in ("none", "") else f"veth shaped to {rate} (tc tbf)"
        fig.suptitle(f"Where the filter runs: {link}, two network namespaces; median of the runs, bars = min..max\n"
                     f"{where}", fontsize=9)
        if bad:
            fig.text(0.01, -0.02, "left out (inexact results): " + ", ".join("/".join(b) for b in bad[:8]),
                     fontsize=7, color="firebrick")
        fig.tight_layout()
        save(fig, outdir, f"placement_{rate}", formats, index, f"Placement comparison over a {link}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="?", help="sluice-bench --out directory (or its results.json)")
    ap.add_argument("-o", "--out", help="figure directory (default RESULTS/figures)")
    ap.add_argument("--micro", help="sluice-bench-micro --benchmark_out JSON")
    ap.add_argument("--fio", help="bench/fio/run.sh CSV")
    ap.add_argument("--network", help="scripts/net-experiment.sh CSV (placement comparison)")
    ap.add_argument("--format", default="png,svg", help="comma list of formats (default png,svg)")
    a = ap.parse_args()
    if not (a.results or a.micro or a.fio or a.network):
        ap.error("give RESULTS_DIR and/or --micro, --fio, --network")
    if not a.results and not a.out:
        ap.error("-o FIG_DIR is needed without RESULTS_DIR")
    res = load_results(a.results) if a.results else None
    meta = res["metadata"] if res else {}
    if a.results:
        base = a.results if os.path.isdir(a.results) else os.path.dirname(a.results)
        outdir = a.out or os.path.join(base, "figures")
    else:
        outdir = a.out
    os.makedirs(outdir, exist_ok=True)
    formats = [f for f in a.format.split(",") if f]
    index = []
    if res:
        metric_figures(res, outdir, formats, index, fio_ceilings(a.fio))
        placement_figures(res, outdir, formats, index, quiet=bool(a.network))
    if a.network:
        network_figures(a.network, outdir, formats, index, meta)
    if a.micro:
        micro_figure(a.micro, outdir, formats, index, meta)
    if a.fio:
        fio_figure(a.fio, outdir, formats, index, meta)
    with open(os.path.join(outdir, "figures.md"), "w") as fh:
        fh.write(f"# Figures\n\nFrom `{meta.get('command_line', 'plot.py inputs')}`\n\n"
                 f"{where_text(meta) if meta else local_where()}\n\n")
        for name, caption, files in index:
            fh.write(f"- **{caption}**: " + ", ".join(os.path.basename(p) for p in files) + "\n")
    for name, caption, files in index:
        print(" ".join(files))
    if not index:
        print("plot.py: nothing to plot (no successful runs?)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
