#!/usr/bin/env python3
"""Differential tests of `sluice scan --format csv|tsv|binary --where` in every backend.

  csv     generated RFC 4180 data (quoted fields, doubled quotes, delimiters and newlines inside
          quotes, CRLF, empty fields, NUL bytes, records longer than a 64 KiB kernel window,
          records straddling every window and buffer); reference: python's csv module frames
          the records, which are rewritten with fields joined by \\x1f and records by \\x1e for
          gawk to evaluate the same predicate. sluice's output is parsed back with the csv module
          and must equal the reference's records, in order.
  tsv     generated tab-separated data against gawk -F'\\t' directly (byte-identical output).
  binary  python's struct writes random records with f64/f32 edge cases (NaN, +-0, +-inf,
          subnormals, literals exactly representable or not and their nextafter neighbours) and
          evaluates each predicate exactly (fractions); output bytes must be identical; --select
          values must read back to the same numbers.
  flights the US flights CSV (datasets/fetch/flights.sh, fetched once into a per-user cache),
          its first rows, against gawk: as csv and, converted, as tsv.

Backends: read (default and 64 KiB buffers), uring, mmap, sockmap (sendfile and write drivers).
Without the sockmap path the kernel backends are skipped, unless SLUICE_REQUIRE_KERNEL=1.
usage: format_differential_test.py SLUICE csv|tsv|binary|flights [SOURCE_DIR]
"""
import csv
import io
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile
from decimal import Decimal
from fractions import Fraction

csv.field_size_limit(1 << 30)
SLUICE = sys.argv[1]
MODE = sys.argv[2]
REQUIRE_KERNEL = os.environ.get("SLUICE_REQUIRE_KERNEL", "0") == "1"
WORK = tempfile.mkdtemp(prefix="sluice-format-diff.", dir=os.getcwd())
failures = 0
checks = 0
NUM = r'/^[ \t]*[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)[ \t\r]*$/'  # sluice's number rule


def fail(message):
    global failures
    failures += 1
    print("FAIL " + message)


def sockmap_available():
    out = subprocess.run([SLUICE, "probe", "--json"], capture_output=True, text=True)
    try:
        caps = json.loads(out.stdout)["capabilities"]
    except (ValueError, KeyError):
        return False
    return any(c["name"] == "path.sockmap" and c["available"] for c in caps)


BACKENDS = [["-b", "read"], ["-b", "read", "--buffer-size", "65536"], ["-b", "uring"], ["-b", "mmap"]]
if sockmap_available():
    BACKENDS += [["-b", "sockmap"], ["-b", "sockmap", "--driver", "write"]]
elif REQUIRE_KERNEL:
    fail("the sockmap path is not available here (SLUICE_REQUIRE_KERNEL=1)")
else:
    print("note: the sockmap path is not available here: kernel backends skipped")


def run_sluice(args, backend):
    global checks
    checks += 1
    p = subprocess.run([SLUICE, "scan"] + backend + args, capture_output=True)
    if p.returncode not in (0, 1):
        fail("exit %d: %s: %s" % (p.returncode, " ".join(backend + args), p.stderr.decode(errors="replace")[:400]))
        return None
    return p.stdout


def gawk_records(fields_per_record, condition):
    """Record numbers (0-based) for which gawk's condition holds over \\x1f/\\x1e-joined fields."""
    path = os.path.join(WORK, "awk-in")
    with open(path, "wb") as f:
        f.write(b"\x1e".join(b"\x1f".join(r) for r in fields_per_record))
    prog = "BEGIN { N = %s } (%s) { print NR - 1 }" % ("0", condition.replace("~ N", "~ " + NUM))
    p = subprocess.run(["gawk", "-v", "RS=\x1e", "-F", "\x1f", prog, path], capture_output=True,
                       env=dict(os.environ, LC_ALL="C"))
    if p.returncode != 0:
        raise RuntimeError("gawk: " + p.stderr.decode())
    return [int(x) for x in p.stdout.split()]


# ---- CSV --------------------------------------------------------------------------------

CSV_CASES = [  # where | gawk condition over $1 id, $2 name, $3 amount, $4 text, $5 tag
    ('$3 > 500', '($3 ~ N) && $3 + 0 > 500'),
    ('$3 <= 10.25 and not ($1 > 2000)', '($3 ~ N) && $3 + 0 <= 10.25 && !(($1 ~ N) && $1 + 0 > 2000)'),
    ('contains($2, ",")', 'index($2, ",") > 0'),
    ('contains($2, "\\"")', 'index($2, "\\"") > 0'),
    ('contains($2, "x\\"\\"y")', 'index($2, "x\\"\\"y") > 0'),
    ('$5 == "b\\"x"', '$5 == "b\\"x"'),
    ('$5 < "b\\"y" and $5 > "a"', '$5 < "b\\"y" && $5 > "a"'),
    ('startswith($4, "line")', 'substr($4, 1, 4) == "line"'),
    ('endswith($2, "\\"")', 'substr($2, length($2), 1) == "\\""'),
    ('$5 is empty', '$5 == ""'),
    ('contains($4, "\\n") or $1 in (7, 77, 777)', 'index($4, "\\n") > 0 || (($1 ~ N) && ($1 + 0 == 7 || $1 + 0 == 77 || $1 + 0 == 777))'),
    ('contains($0, "zz")', 'index($0, "zz") > 0'),
]


def csv_value(rng, kind):
    if kind == "name":
        base = rng.choice(["Smith", "x\"\"y", "a,b", "q\"", "multi\nline", "", "mz", "zz top", "\"quoted\""])
        return base + rng.choice(["", str(rng.randint(0, 99)), ", jr", "\""])
    if kind == "amount":
        return rng.choice([str(rng.randint(-1000, 1000)), "%d.%02d" % (rng.randint(0, 999), rng.randint(0, 99)),
                           "", " 42 ", "1e5", "abc", "10.25"])
    if kind == "text":
        r = rng.random()
        if r < 0.005:  # longer than a kernel window: spans windows, newlines inside
            return "line " + "".join(rng.choice("ab,\"\n c") for _ in range(rng.randint(70000, 140000)))
        if r < 0.1:
            return "line one\nline two, \"three\"\r\nend"
        if r < 0.15:
            return "nul\x00byte"
        return rng.choice(["line", "plain text", "zz", "", "a\"b"]) + str(rng.randint(0, 9))
    return rng.choice(["a", "b\"x", "b\"y", "", "c", "b"])


def write_csv(path, rng, n):
    rows = []
    with open(path, "wb") as f:
        for i in range(n):
            row = [str(i), csv_value(rng, "name"), csv_value(rng, "amount"), csv_value(rng, "text"), csv_value(rng, "tag")]
            rows.append(row)
            out = []
            for v in row:
                must = any(c in v for c in ",\"\n\r") or v.startswith(" ")
                if must or rng.random() < 0.2:
                    out.append('"' + v.replace('"', '""') + '"')
                else:
                    out.append(v)
            end = "\r\n" if rng.random() < 0.3 else "\n"
            if i == n - 1:
                end = ""  # no trailing newline
            f.write((",".join(out) + end).encode("latin-1"))
    return rows


def parse_csv_bytes(data):
    return [row for row in csv.reader(io.StringIO(data.decode("latin-1"), newline=""))]


def csv_differential(path, cases, extra=(), header=False):
    with open(path, "rb") as f:
        data = f.read()
    records = parse_csv_bytes(data)
    body = records[1:] if header else records
    for where, cond in cases:
        want_idx = gawk_records([[v.encode("latin-1") for v in r] for r in body], cond)
        want = ([records[0]] if header else []) + [body[i] for i in want_idx]
        for backend in BACKENDS:
            out = run_sluice(["--format", "csv", "--where", where] + list(extra) + [path], backend)
            if out is None:
                continue
            got = parse_csv_bytes(out)
            if got != want:
                fail("csv %s %s: %d records, reference %d" % (" ".join(backend), where, len(got), len(want)))
                for a, b in zip(got, want):
                    if a != b:
                        print("  first difference: got %r, want %r" % (str(a)[:200], str(b)[:200]))
                        break


def test_csv():
    rng = random.Random(6)
    path = os.path.join(WORK, "data.csv")
    write_csv(path, rng, 4000)
    csv_differential(path, CSV_CASES)
    # --select re-quotes per RFC 4180: parsed back, the values are the reference's.
    rows = parse_csv_bytes(open(path, "rb").read())
    want = [[r[1], r[4]] for r in rows if r[4] == "b\"x"]
    for backend in BACKENDS[:1] + BACKENDS[4:5]:
        out = run_sluice(["--format", "csv", "--where", '$5 == "b\\"x"', "--select", "$2,$5", path], backend)
        if out is not None and parse_csv_bytes(out) != want:
            fail("csv --select %s" % " ".join(backend))
    # col() with a header line whose names are quoted.
    hpath = os.path.join(WORK, "header.csv")
    with open(hpath, "wb") as f:
        f.write(b'id,"the name","amount, EUR",text,tag\r\n' + open(path, "rb").read())
    csv_differential(hpath, [('col("amount, EUR") > 500 and contains(col("the name"), "a")',
                              '($3 ~ N) && $3 + 0 > 500 && index($2, "a") > 0')], header=True)
    # Edge files: empty; an unterminated quote (the rest of the file, newlines included, is its
    # last record); newlines inside quotes only.
    for name, content, want in [("empty", b"", b""), ("open-quote", b'1,"abc\n2,x\n', b'1,"abc\n2,x\n\n'),
                                ("nl", b'"\n"\n"\r\n"', b'"\n"\n"\r\n"\n')]:
        p = os.path.join(WORK, name + ".csv")
        open(p, "wb").write(content)
        for backend in BACKENDS:
            out = run_sluice(["--format", "csv", "--where", "true", p], backend)
            if out is not None and out != want:
                fail("csv edge file %s %s: %r" % (name, " ".join(backend), out[:100]))


# ---- TSV --------------------------------------------------------------------------------

TSV_CASES = [
    ('$3 > 500', '($3 ~ N) && $3 + 0 > 500'),
    ('contains($2, "a") and $5 != "c"', 'index($2, "a") > 0 && $5 != "c"'),
    ('$4 is empty or endswith($4, "9")', '$4 == "" || substr($4, length($4), 1) == "9"'),
]


def test_tsv():
    rng = random.Random(7)
    path = os.path.join(WORK, "data.tsv")
    with open(path, "wb") as f:
        for i in range(20000):
            row = [str(i), rng.choice(["abc", "xyz", "a,b", "q\"q", ""]), rng.choice(["7", "600", "-1", "x", "", "501.5"]),
                   rng.choice(["", "t9", "long " * rng.randint(1, 3000)]), rng.choice(["a", "b", "c"])]
            f.write(("\t".join(row) + ("\r\n" if i % 7 == 0 else "\n")).encode())
    for where, cond in TSV_CASES:
        want = subprocess.run(["gawk", "-F", "\t", "(%s)" % cond.replace("~ N", "~ " + NUM), path],
                              capture_output=True, env=dict(os.environ, LC_ALL="C")).stdout
        for backend in BACKENDS:
            out = run_sluice(["--format", "tsv", "--where", where, path], backend)
            if out is not None and out != want:
                fail("tsv %s %s: %d bytes, gawk %d" % (" ".join(backend), where, len(out), len(want)))


# ---- binary -----------------------------------------------------------------------------

SCHEMA = "u32 id, i64 price, f64 score, f32 ratio, i16 delta, u8 flag, char[12] tag, pad[3], u64 big"
FMT = "<IqdfhB12s3xQ"
NAMES = ["id", "price", "score", "ratio", "delta", "flag", "tag", "big"]


def as_fraction(x):
    return Fraction(x)


def holds(value, op, literal):
    """Exact comparison of a number field (int or float) with a decimal literal; NaN: false."""
    if isinstance(value, float):
        if math.isnan(value):
            return False
        if math.isinf(value):
            c = 1 if value > 0 else -1
        else:
            d = Fraction(value) - Fraction(Decimal(literal))
            c = (d > 0) - (d < 0)
    else:
        d = Fraction(value) - Fraction(Decimal(literal))
        c = (d > 0) - (d < 0)
    return {"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]


def text_of(tag):
    return tag.split(b"\x00")[0]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


# (where, python predicate over the unpacked record as a dict)
BIN_CASES = [
    ('col("score") > 0.1', lambda r: holds(r["score"], ">", "0.1")),
    ('col("score") <= 0.1', lambda r: holds(r["score"], "<=", "0.1")),
    ('col("score") == 0.5 or col("score") == 0.1', lambda r: holds(r["score"], "==", "0.5") or holds(r["score"], "==", "0.1")),
    ('col("score") != 0.5', lambda r: holds(r["score"], "!=", "0.5")),
    ('col("score") >= -0', lambda r: holds(r["score"], ">=", "0")),
    ('col("score") < 0 and col("score") > -0.000000000000000000000000000000000000000000001',
     lambda r: holds(r["score"], "<", "0") and holds(r["score"], ">", "-0.000000000000000000000000000000000000000000001")),
    ('$3 == 0.30000000000000004', lambda r: holds(r["score"], "==", "0.30000000000000004")),
    ('$3 < 0.30000000000000004441', lambda r: holds(r["score"], "<", "0.30000000000000004441")),
    ('col("ratio") > 0.1 and col("ratio") <= 1.5', lambda r: holds(r["ratio"], ">", "0.1") and holds(r["ratio"], "<=", "1.5")),
    ('col("price") > 6.5', lambda r: holds(r["price"], ">", "6.5")),
    ('col("price") <= -9223372036854775808 or col("price") >= 9223372036854775807',
     lambda r: holds(r["price"], "<=", "-9223372036854775808") or holds(r["price"], ">=", "9223372036854775807")),
    ('$1 == 3.0 or $1 in (10, 11.5, 12)', lambda r: r["id"] in (3, 10, 12)),
    ('col("delta") < -0.5 and col("flag") in (1, 255)', lambda r: holds(r["delta"], "<", "-0.5") and r["flag"] in (1, 255)),
    ('col("big") > 18446744073709551614.5', lambda r: holds(r["big"], ">", "18446744073709551614.5")),
    ('col("big") < 99999999999999999999999', lambda r: True),
    ('contains(col("tag"), "ab")', lambda r: b"ab" in text_of(r["tag"])),
    ('col("tag") is empty or col("tag") < "m"', lambda r: text_of(r["tag"]) == b"" or text_of(r["tag"]) < b"m"),
    ('endswith(col("tag"), "9") and col("tag") != "x9"', lambda r: text_of(r["tag"]).endswith(b"9") and text_of(r["tag"]) != b"x9"),
]


def test_binary():
    rng = random.Random(8)
    special = [float("nan"), -float("nan"), 0.0, -0.0, float("inf"), -float("inf"), 5e-324, -5e-324, 2.2250738585072014e-308,
               0.1, 0.5, 0.30000000000000004, math.nextafter(0.1, 1), math.nextafter(0.1, -1), math.nextafter(0.5, 1),
               math.nextafter(0.5, -1), 1e-45, -1e-46, 1.7976931348623157e308]
    records = []
    for i in range(6000):
        score = rng.choice(special) if rng.random() < 0.5 else rng.uniform(-2, 2)
        ratio = f32(rng.choice([0.1, math.nextafter(f32(0.1), 1), 1.5, float("nan"), -0.0, rng.uniform(0, 2)]))
        price = rng.choice([rng.randint(-10, 10), -2 ** 63, 2 ** 63 - 1, rng.randint(-2 ** 63, 2 ** 63 - 1), 6, 7])
        big = rng.choice([2 ** 64 - 1, 2 ** 64 - 2, 0, rng.randint(0, 2 ** 64 - 1)])
        tag = rng.choice([b"", b"ab", b"xab9", b"x9", b"zzzzzzzzzzzz", b"a\x00b9", b"mango9", b"\xff\xfeab"])
        r = dict(id=i % 50, price=price, score=score, ratio=ratio, delta=rng.randint(-32768, 32767),
                 flag=rng.choice([0, 1, 254, 255]), tag=tag, big=big)
        records.append(r)
    path = os.path.join(WORK, "data.bin")
    with open(path, "wb") as f:
        for r in records:
            f.write(struct.pack(FMT, *(r[k] for k in NAMES)))
    size = struct.calcsize(FMT)
    for where, pred in BIN_CASES:
        want = b"".join(struct.pack(FMT, *(r[k] for k in NAMES)) for r in records if pred(r))
        for backend in BACKENDS:
            out = run_sluice(["--format", "binary", "--schema", SCHEMA, "--where", where, path], backend)
            if out is not None and out != want:
                fail("binary %s %s: %d records, reference %d" % (" ".join(backend), where, len(out) // size, len(want) // size))
    # --select prints values as text that read back to the same numbers.
    out = run_sluice(["--format", "binary", "--schema", SCHEMA, "--where", "true", "--select", "id,price,score,ratio,tag", path],
                     ["-b", "read"])
    lines = out.decode("latin-1").split("\n")[:-1] if out is not None else []
    if len(lines) != len(records):
        fail("binary --select: %d lines for %d records" % (len(lines), len(records)))
    for line, r in zip(lines, records):
        i, p, s, q, t = line.split(",", 4)
        same = lambda a, b: (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
        if int(i) != r["id"] or int(p) != r["price"] or not same(float(s), r["score"]) or not same(f32(float(q)), r["ratio"]) \
                or t.encode("latin-1") != text_of(r["tag"]):
            fail("binary --select: %r for %r" % (line, r))
            break
    # A file whose size is not a multiple of the record size: exit 2, never truncated silently.
    bad = os.path.join(WORK, "bad.bin")
    open(bad, "wb").write(open(path, "rb").read()[: size * 10 + 5])
    for backend in BACKENDS:
        p = subprocess.run([SLUICE, "scan"] + backend + ["--format", "binary", "--schema", SCHEMA, "--where", "true", bad],
                           capture_output=True)
        if p.returncode != 2 or b"not a multiple of the record size" not in p.stderr:
            fail("binary truncated file %s: exit %d %r" % (" ".join(backend), p.returncode, p.stderr[:200]))


# ---- flights ----------------------------------------------------------------------------

FLIGHT_CASES = [  # date, delay, distance, origin, destination
    ('col("delay") > 60 and col("origin") == "ORD"', '($2 ~ N) && $2 + 0 > 60 && $4 == "ORD"'),
    ('col("distance") >= 2000 or col("delay") < -30', '(($3 ~ N) && $3 + 0 >= 2000) || (($2 ~ N) && $2 + 0 < -30)'),
    ('startswith(col("date"), "2001-03") and contains(col("destination"), "S")', 'substr($1, 1, 7) == "2001-03" && index($5, "S") > 0'),
]


def test_flights(source_dir):
    cache = os.environ.get("SLUICE_DATA_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sluice", "data")
    full = os.path.join(cache, "flights", "flights-3m.csv")
    if not os.path.exists(full):
        p = subprocess.run(["bash", os.path.join(source_dir, "datasets/fetch/flights.sh"), os.path.join(cache, "flights")],
                           capture_output=True)
        if p.returncode != 0 or not os.path.exists(full):
            msg = "the flights dataset could not be fetched: " + p.stderr.decode(errors="replace")[-300:]
            if REQUIRE_KERNEL:
                fail(msg)
                return
            print("skipped: " + msg)
            sys.exit(0)
    rows = int(os.environ.get("SLUICE_FLIGHTS_ROWS", "300000"))
    csv_path = os.path.join(WORK, "flights.csv")
    tsv_path = os.path.join(WORK, "flights.tsv")
    with open(full, "rb") as src, open(csv_path, "wb") as c, open(tsv_path, "wb") as t:
        for i, line in enumerate(src):
            if i > rows:
                break
            c.write(line)
            t.write(line.replace(b",", b"\t"))
    for where, cond in FLIGHT_CASES:
        for path, fmt, fs in [(csv_path, "csv", ","), (tsv_path, "tsv", "\t")]:
            want = subprocess.run(["gawk", "-F", fs, "NR == 1 || (%s)" % cond.replace("~ N", "~ " + NUM), path],
                                  capture_output=True, env=dict(os.environ, LC_ALL="C")).stdout
            for backend in BACKENDS:
                out = run_sluice(["--format", fmt, "--where", where, path], backend)
                if out is not None and out != want:
                    fail("flights %s %s %s: %d lines, gawk %d" % (fmt, " ".join(backend), where, out.count(b"\n"), want.count(b"\n")))


try:
    {"csv": test_csv, "tsv": test_tsv, "binary": test_binary}.get(MODE, lambda: test_flights(sys.argv[3]))()
finally:
    subprocess.run(["rm", "-rf", WORK])
print("%s: %d checks, %d failures" % (MODE, checks, failures))
sys.exit(1 if failures else 0)
