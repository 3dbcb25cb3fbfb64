#!/usr/bin/env python3
"""Exact reference for `sluice scan` aggregates (python's decimal module), and the data
generator of tests/aggregate_test.sh.

  aggregate_reference.py gen KIND SEED OUT       write a test file (see KINDS)
  aggregate_reference.py agg FILE DELIM GROUP OPS...   print sluice's table for FILE:
      GROUP is a field number or '-' (no grouping); OPS are sum:N min:N max:N avg:N.
      An op eq:N:TEXT keeps only records whose field N is TEXT (the --where of the test).

The number rules are those of docs/filters.md; sums are exact; a mean is rounded half away
from zero to max(6, the sum's fraction digits) digits; trailing fraction zeros are dropped.
"""
import decimal
import random
import re
import sys

decimal.getcontext().prec = 200
NUMBER = re.compile(rb"^[ \t]*([+-]?)(\d+\.?\d*|\.\d+)[ \t\r]*$")


def parse(field):
    """A Decimal, or None when the field is not a number (docs/filters.md)."""
    if field is None or len(field) > 64:
        return None
    m = NUMBER.match(field)
    if not m:
        return None
    sign, body = m.group(1), m.group(2)
    intpart, _, frac = body.partition(b".")
    if len((intpart + frac.rstrip(b"0")).lstrip(b"0")) > 38:
        raise OverflowError  # sluice: "an aggregate exceeds 38 significant digits"
    return decimal.Decimal((sign + body).decode())


def scale(d):
    """Fraction digits of d with trailing zeros dropped."""
    d = d.normalize() if d != 0 else decimal.Decimal(0)
    return max(0, -d.as_tuple().exponent)


def text(d):
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    return s


def field(record, delim, n):
    if n == 0:
        return record
    parts = record.split(delim)
    return parts[n - 1] if n <= len(parts) else None


def aggregate(path, delim, group, ops, keep):
    with open(path, "rb") as f:
        data = f.read()
    records = data.split(b"\n")
    if records and records[-1] == b"":
        records.pop()
    groups = {}
    for r in records:
        if keep and field(r, delim, keep[0]) != keep[1]:
            continue
        key = b""
        if group is not None:
            key = field(r, delim, group)
            key = b"" if key is None else key
        g = groups.setdefault(key, [0, [[] for _ in ops]])
        g[0] += 1
        for i, (_, n) in enumerate(ops):
            v = parse(field(r, delim, n))
            if v is not None:
                g[1][i].append(v)
        if len(groups) > 100000:
            sys.stdout.write("GROUP BOUND\n")
            return
    out = []
    head = ([b"$%d" % group] if group is not None else []) + [b"count"] + [
        ("%s($%d)" % (op, n)).encode() for op, n in ops]
    out.append(delim.join(head))
    if not groups and group is None:
        groups[b""] = [0, [[] for _ in ops]]
    for key in sorted(groups):
        count, cols = groups[key]
        row = ([key] if group is not None else []) + [str(count).encode()]
        for (op, _), vals in zip(ops, cols):
            if not vals:
                row.append(b"")
                continue
            total = sum(vals, decimal.Decimal(0))
            if op == "sum":
                row.append(text(total).encode())
            elif op == "min":
                row.append(text(min(vals)).encode())
            elif op == "max":
                row.append(text(max(vals)).encode())
            else:
                digits = max(6, max(scale(v) for v in vals))
                q = (total / len(vals)).quantize(decimal.Decimal(1).scaleb(-digits), rounding=decimal.ROUND_HALF_UP)
                row.append(text(q).encode())
        out.append(delim.join(row))
    sys.stdout.buffer.write(b"\n".join(out) + b"\n")


def number(rng):
    """Integers, decimals of scale 0-6, negatives, signs, blanks, zeros, non-numbers."""
    kind = rng.random()
    if kind < 0.35:
        return str(rng.randint(-10**6, 10**6))
    if kind < 0.7:
        s = rng.randint(0, 6)
        v = decimal.Decimal(rng.randint(-10**9, 10**9)).scaleb(-s)
        return format(v, "f")
    if kind < 0.75:
        return rng.choice(["", "x", "1e5", "-", ".", "nan", "12a", "--1", "1.2.3", " ", "0x10"])
    if kind < 0.8:
        return rng.choice(["+5", " 7 ", "-0", "0005.500", ".5", "5.", "\t3", "-.25"])
    return str(rng.randint(0, 99))


def gen(kind, seed, out):
    rng = random.Random(seed)
    lines = []
    if kind == "mixed":  # many windows; numbers of every form; ~40 groups
        for i in range(150000):
            lines.append("g%d,%s,%s,%s" % (rng.randint(0, 39), number(rng), number(rng), rng.choice(["ok", "bad"])))
    elif kind == "fallback":  # values the kernel cannot hold, sums that overflow 64 bits there
        for i in range(40000):
            r = rng.random()
            if r < 0.1:
                v = "0.%07d" % rng.randint(0, 10**7 - 1)          # 7 fraction digits
            elif r < 0.2:
                v = str(rng.choice([1, -1]) * rng.randint(10**13, 10**20))  # too large for the kernel
            elif r < 0.45:
                v = str(rng.choice([1, -1]) * rng.randint(4 * 10**12, 9 * 10**12))  # fits; sums overflow
            elif r < 0.47:
                v = "9" * 24
            else:
                v = number(rng)
            lines.append("k%d,%s" % (rng.randint(0, 3), v))
    elif kind == "groups":  # more groups than the kernel map holds; keys past its key bound
        for i in range(30000):
            r = rng.random()
            if r < 0.1:
                key = "L" * rng.randint(60, 70) + str(rng.randint(0, 5))  # around the 64-byte bound
            else:
                key = "grp%d" % rng.randint(0, 7999)
            lines.append("%s;%s" % (key, number(rng)))
    elif kind == "long":  # records longer than any window (64 KiB) among short ones
        for i in range(3000):
            if i % 500 == 7:
                lines.append("big,%s,%s" % (number(rng), "z" * rng.randint(70000, 140000)))
            else:
                lines.append("small,%s,%s" % (number(rng), "y" * rng.randint(0, 300)))
    elif kind == "bound":  # one group past the user-space bound
        for i in range(100001):
            lines.append("%d,1" % i)
    else:
        raise SystemExit("unknown kind " + kind)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        path, delim, group = sys.argv[2], sys.argv[3].encode(), sys.argv[4]
        ops = [(o.split(":")[0], int(o.split(":")[1])) for o in sys.argv[5:] if not o.startswith("eq:")]
        keep = [(int(o.split(":")[1]), o.split(":", 2)[2].encode()) for o in sys.argv[5:] if o.startswith("eq:")]
        try:
            aggregate(path, delim, None if group == "-" else int(group), ops, keep[0] if keep else None)
        except OverflowError:
            sys.stdout.write("OVERFLOW\n")
