#!/usr/bin/env python3
"""paper-artifacts/check_claims.py on synthetic results: a claim inside its range holds, one
outside does not, one whose subject is missing or wrong is "not measured", and the shipped
claims.json is well-formed. Checks the checker's logic only; nothing about speed.

usage: bench_claims_test.py SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

src = sys.argv[1]
checker = os.path.join(src, "paper-artifacts", "check_claims.py")
failures = 0


def check(cond, name):
    global failures
    print(("ok   " if cond else "FAIL ") + name)
    failures += 0 if cond else 1


def row(subject, thr, status="ok", filt="literal", sel=1, size=1 << 30):
    return {"subject": subject, "filter": filt, "selectivity_pct": str(sel), "cache": "warm", "threads": "1",
            "record_size": "100", "input_bytes": str(size), "file_size_requested": str(size),
            "status": status, "cell": f"{filt}/x/warm", "note": "", "throughput_gbps_median": str(thr),
            "cpu_s_per_gb_median": "0.1"}


results = {
    "metadata": {"command_line": "synthetic", "kernel_release": "x", "cpu_model": "y", "cpu_cores_online": "2"},
    "filters": [{"name": "literal", "verifier": {"verified_insns": 26305}},
                {"name": "column", "verifier": {"error": "no root"}}],
    "summary": [row("a", 4.0), row("b", 2.0), row("a", 1.0, size=1 << 20), row("liar", 9.0, status="wrong")],
}
micro = {"benchmarks": [{"name": "bpf/x/64/kept/manual_time", "run_name": "bpf/x/64/kept", "B_per_ns": 1.0},
                        {"name": "native/x/64/kept", "run_name": "native/x/64/kept", "B_per_ns": 4.0}]}
claims = {
    "defaults": {"threads": 1, "record_size": 100, "cache": "warm"},
    "claims": [
        {"id": "in-range", "text": "a is 2x b", "metric": "throughput_gbps_median",
         "num": {"subject": "a", "filter": "literal", "selectivity_pct": 1},
         "den": {"subject": "b", "filter": "literal", "selectivity_pct": 1}, "range": [1.5, 2.5]},
        {"id": "out-of-range", "text": "a is 5x b", "metric": "throughput_gbps_median",
         "num": {"subject": "a", "filter": "literal", "selectivity_pct": 1},
         "den": {"subject": "b", "filter": "literal", "selectivity_pct": 1}, "range": [4, 6]},
        {"id": "wrong-side", "text": "liar vs b", "metric": "throughput_gbps_median",
         "num": {"subject": "liar", "filter": "literal", "selectivity_pct": 1},
         "den": {"subject": "b", "filter": "literal", "selectivity_pct": 1}, "range": [0, 100]},
        {"id": "absent", "text": "duckdb vs b", "metric": "throughput_gbps_median",
         "num": {"subject": "duckdb", "filter": "literal", "selectivity_pct": 1},
         "den": {"subject": "b", "filter": "literal", "selectivity_pct": 1}, "range": [0, 100]},
        {"id": "verifier", "text": "few insns", "source": "filter", "filter": "literal",
         "metric": "verified_insns", "range": [1000, 100000]},
        {"id": "verifier-unmeasured", "text": "column insns", "source": "filter", "filter": "column",
         "metric": "verified_insns", "range": [1000, 100000]},
        {"id": "micro", "text": "bpf slower", "source": "micro", "metric": "B_per_ns",
         "num": "bpf/x/64/kept", "den": "native/x/64/kept", "range": [0.1, 0.5]},
        {"id": "net-time", "text": "server sooner", "source": "network", "metric": "e2e_seconds",
         "num": {"rate": "1gbit", "selectivity": "1%", "placement": "client"},
         "den": {"rate": "1gbit", "selectivity": "1%", "placement": "server"}, "range": [10, 40]},
        {"id": "net-wire", "text": "few bytes", "source": "network", "metric": "wire_bytes",
         "num": {"rate": "1gbit", "selectivity": "1%", "placement": "server"},
         "den": {"rate": "1gbit", "selectivity": "1%", "placement": "server", "metric": "file_bytes"},
         "range": [0, 0.015]},
        {"id": "net-cpu", "text": "xdp cheaper", "source": "network", "metric": "client_cpu_excl_load_s",
         "num": {"rate": "none", "selectivity": "1%", "placement": "xdp", "mode": "trim"},
         "den": {"rate": "none", "selectivity": "1%", "placement": "client-udp"}, "range": [0, 0.5]},
        {"id": "net-wrong", "text": "a liar", "source": "network", "metric": "e2e_seconds",
         "num": {"rate": "none", "selectivity": "1%", "placement": "tc", "mode": "trim"},
         "den": {"rate": "none", "selectivity": "1%", "placement": "client-udp"}, "range": [0, 100]},
    ],
}

# scripts/net-experiment.sh rows (the columns the checker reads). Per round, client/server:
# 20, 5, 12 -> median 12 (the ratio of the medians would be 2.0 / 0.2 = 10).
NET_COLUMNS = ["rate", "selectivity", "placement", "mode", "run", "file_bytes", "exact", "e2e_seconds",
               "wire_bytes", "client_cpu_s", "client_load_cpu_s"]
net_rows = [
    ["1gbit", "1%", "server", "", 1, 1000, 1, 0.1, 13, 0.02, 0],
    ["1gbit", "1%", "client", "", 1, 1000, 1, 2.0, 1002, 0.1, 0],
    ["1gbit", "1%", "server", "", 2, 1000, 1, 0.4, 14, 0.02, 0],
    ["1gbit", "1%", "client", "", 2, 1000, 1, 2.0, 1002, 0.1, 0],
    ["1gbit", "1%", "server", "", 3, 1000, 1, 0.2, 20, 0.02, 0],
    ["1gbit", "1%", "client", "", 3, 1000, 1, 2.4, 1002, 0.1, 0],
    ["none", "1%", "xdp", "trim", 1, 1000, 1, 1.0, 1030, 0.30, 0.2],  # 0.1 without the load
    ["none", "1%", "client-udp", "", 1, 1000, 1, 1.0, 1040, 0.40, 0],
    ["none", "1%", "tc", "trim", 1, 1000, 0, 1.0, 1040, 0.1, 0],  # printed a wrong count
]

with tempfile.TemporaryDirectory() as d:
    for name, obj in (("results.json", results), ("micro.json", micro), ("claims.json", claims)):
        with open(os.path.join(d, name), "w") as fh:
            json.dump(obj, fh)
    with open(os.path.join(d, "net.csv"), "w") as fh:
        fh.write(",".join(NET_COLUMNS) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in net_rows))
    p = subprocess.run([sys.executable, checker, "--results", d, "--micro", os.path.join(d, "micro.json"),
                        "--network", os.path.join(d, "net.csv"),
                        "--claims", os.path.join(d, "claims.json"), "--markdown", os.path.join(d, "c.md")],
                       capture_output=True, text=True)
    print(p.stdout)
    lines = {l.split()[0]: l for l in p.stdout.splitlines() if l and l.split()[0] in {c["id"] for c in claims["claims"]}}
    check(p.returncode == 0, "the checker exits 0 without --strict")
    check(" held " in lines.get("in-range", "") and "2 " in lines["in-range"], "a ratio inside its range holds (2.0, from the 1 GiB rows)")
    check("NOT HELD" in lines.get("out-of-range", ""), "a ratio outside its range does not hold")
    check("not measured" in lines.get("wrong-side", "") and "wrong" in lines["wrong-side"], "a side with wrong answers is not measured")
    check("not measured" in lines.get("absent", ""), "a missing subject is not measured")
    check(" held " in lines.get("verifier", ""), "a value claim (verifier instructions) is checked")
    check("not measured" in lines.get("verifier-unmeasured", ""), "an unmeasured verifier cost is not measured")
    check(" held " in lines.get("micro", ""), "micro-benchmark ratios are checked")
    check(" held " in lines.get("net-time", "") and " 12 " in lines["net-time"],
          "network ratios are medians of same-round ratios (12, not the ratio of medians 10)")
    check(" held " in lines.get("net-wire", "") and "0.014 " in lines["net-wire"],
          "a network ratio of two columns of the same runs (wire / file bytes: 0.014)")
    check(" held " in lines.get("net-cpu", "") and "0.25 " in lines["net-cpu"],
          "a derived network column: client CPU without the program load (0.1 / 0.4)")
    check("not measured" in lines.get("net-wrong", "") and "wrong count" in lines["net-wrong"],
          "a network side that printed a wrong count is not measured")
    check(os.path.getsize(os.path.join(d, "c.md")) > 0, "the Markdown table is written")
    p = subprocess.run([sys.executable, checker, "--results", d, "--claims", os.path.join(d, "claims.json"), "--strict"],
                       capture_output=True, text=True)
    check(p.returncode == 1, "--strict exits 1 when a claim did not hold")
    p = subprocess.run([sys.executable, checker, "--results", d, "--claims", os.path.join(d, "claims.json")],
                       capture_output=True, text=True)
    check("no network experiment results" in p.stdout, "without --network, network claims are not measured")

# The shipped claims are well-formed.
with open(os.path.join(src, "paper-artifacts", "claims.json")) as fh:
    shipped = json.load(fh)
ids = [c["id"] for c in shipped["claims"]]
check(len(ids) == len(set(ids)) and ids, f"claims.json: {len(ids)} claims with unique ids")
bad = [c["id"] for c in shipped["claims"]
       if not (isinstance(c.get("range"), list) and len(c["range"]) == 2 and c["range"][0] <= c["range"][1]
               and c.get("text") and c.get("metric") and c.get("figure") and c.get("command"))]
check(not bad, f"every shipped claim has text, metric, figure, command and a range {bad}")
readme = open(os.path.join(src, "paper-artifacts", "README.md")).read()
missing = [i for i in ids if f"`{i}`" not in readme]
check(not missing, f"every shipped claim is listed in paper-artifacts/README.md {missing}")
sys.exit(1 if failures else 0)
