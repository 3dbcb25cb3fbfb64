#!/usr/bin/env python3
"""The JSON-lines reference for --where on paths (docs/where.md, "JSON lines"), with python3's
json module: generates JSON-lines data made to exercise the rules, and says which records each
predicate keeps.

  jsonl_reference.py generate SEED OUT    write generated records to OUT
  jsonl_reference.py expressions          the predicates, one sluice expression a line
  jsonl_reference.py evaluate FILE        per predicate, one line: the 0-based numbers of the
                                          records it keeps, space-separated

Each predicate is written twice, in sluice's language and in Python over json.loads' result,
by the documented rules (not by sluice's code).
"""
import json
import random
import sys
from decimal import Decimal

DEPTH_MAX = 64  # SLUICE_JSON_DEPTH_MAX
NUMBER_MAX = 64  # SLUICE_NUMBER_MAX: a longer number is "not a number"


class Raw(str):
    """A JSON number as written (json.loads' parse_int/parse_float hooks)."""


class Invalid(Exception):
    pass


MISSING = object()
INVALID = object()


def reject_constant(name):
    raise Invalid(name)  # NaN, Infinity, -Infinity are not JSON


def check(value, depth):
    """Nesting depth and unpaired surrogates (decoded to lone code points by json)."""
    if isinstance(value, (dict, list)):
        if depth > DEPTH_MAX:
            raise Invalid("too deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            if isinstance(k, str):
                k.encode("utf-8")
            check(v, depth + 1)
    elif isinstance(value, str):
        value.encode("utf-8")  # raises on a lone surrogate


def parse(record):
    """The record's object, or INVALID."""
    try:
        obj = json.loads(record.decode("utf-8"), parse_int=Raw, parse_float=Raw, parse_constant=reject_constant)
        if not isinstance(obj, dict):
            return INVALID
        check(obj, 1)
        return obj
    except (ValueError, UnicodeError, Invalid, RecursionError):
        return INVALID


def get(obj, *path):
    if obj is INVALID:
        return INVALID
    v = obj
    for key in path:
        if not isinstance(v, dict) or key not in v:
            return MISSING
        v = v[key]
    return v


def text(v):
    """What string tests see: a string's UTF-8, a number's or true/false's token text."""
    if isinstance(v, Raw):
        return v.encode()
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, str):
        return v.encode("utf-8")
    return None  # missing, null, objects, arrays, invalid records


def num(v):
    """What numeric tests see: a JSON number without exponent, at most 64 characters."""
    if isinstance(v, Raw) and "e" not in v.lower() and len(v) <= NUMBER_MAX:
        return Decimal(v)
    return None


def empty(v):
    return v is MISSING or v is None or v == ""


def cmp_num(v, op, k):
    n = num(v)
    return n is not None and op(n, Decimal(k))


def cmp_text(v, op, k):
    t = text(v)
    return t is not None and op(t, k.encode("utf-8") if isinstance(k, str) else k)


def eq(a, b):
    return a == b


def ne(a, b):
    return a != b


def lt(a, b):
    return a < b


def le(a, b):
    return a <= b


def gt(a, b):
    return a > b


def ge(a, b):
    return a >= b


def has(v, how, k):
    t = text(v)
    k = k.encode("utf-8")
    if t is None:
        return False
    return k in t if how == "contains" else t.startswith(k) if how == "startswith" else t.endswith(k)


PREDICATES = [
    ('.status == 200', lambda o, r: cmp_num(get(o, "status"), eq, "200")),
    ('.status != 200', lambda o, r: cmp_num(get(o, "status"), ne, "200")),
    ('.status >= 400 and .status < 500', lambda o, r: cmp_num(get(o, "status"), ge, "400") and cmp_num(get(o, "status"), lt, "500")),
    ('.price > 10.5', lambda o, r: cmp_num(get(o, "price"), gt, "10.5")),
    ('.price <= -0', lambda o, r: cmp_num(get(o, "price"), le, "0")),
    ('.price == 0', lambda o, r: cmp_num(get(o, "price"), eq, "0")),
    ('.price in (1.5, 100, "1e3")', lambda o, r: cmp_num(get(o, "price"), eq, "1.5") or cmp_num(get(o, "price"), eq, "100") or cmp_text(get(o, "price"), eq, "1e3")),
    ('.name == "caf\xc3\xa9"', lambda o, r: cmp_text(get(o, "name"), eq, "caf\u00e9")),
    ('.name < "b"', lambda o, r: cmp_text(get(o, "name"), lt, "b")),
    ('.name >= "\xf0\x9f\x98\x80"', lambda o, r: cmp_text(get(o, "name"), ge, "\U0001F600")),
    ('.name == "a\\"b\\\\c/d"', lambda o, r: cmp_text(get(o, "name"), eq, 'a"b\\c/d')),
    ('.name == "tab\\there\\nnl"', lambda o, r: cmp_text(get(o, "name"), eq, "tab\there\nnl")),
    ('contains(.name, "\xc3\xa9")', lambda o, r: has(get(o, "name"), "contains", "\u00e9")),
    ('contains(.name, "\xf0\x9f\x98\x80x")', lambda o, r: has(get(o, "name"), "contains", "\U0001F600x")),
    ('startswith(.name, "al")', lambda o, r: has(get(o, "name"), "startswith", "al")),
    ('endswith(.name, "ha")', lambda o, r: has(get(o, "name"), "endswith", "ha")),
    ('endswith(.name, "\xe2\x82\xac")', lambda o, r: has(get(o, "name"), "endswith", "\u20ac")),
    ('contains(.name, "")', lambda o, r: has(get(o, "name"), "contains", "")),
    ('.name is empty', lambda o, r: empty(get(o, "name"))),
    ('.name is not empty', lambda o, r: not empty(get(o, "name"))),
    ('.user.id == 7', lambda o, r: cmp_num(get(o, "user", "id"), eq, "7")),
    ('.user.id > 3 or .user.name == "bob"', lambda o, r: cmp_num(get(o, "user", "id"), gt, "3") or cmp_text(get(o, "user", "name"), eq, "bob")),
    ('.user.name in ("bob", "al\xc3\xafce", "")', lambda o, r: any(cmp_text(get(o, "user", "name"), eq, k) for k in ("bob", "al\u00efce", ""))),
    ('.user.address.city == "Paris"', lambda o, r: cmp_text(get(o, "user", "address", "city"), eq, "Paris")),
    ('.user is empty', lambda o, r: empty(get(o, "user"))),
    ('.user == "x" or .tags == "x"', lambda o, r: cmp_text(get(o, "user"), eq, "x") or cmp_text(get(o, "tags"), eq, "x")),
    ('.ok == "true"', lambda o, r: cmp_text(get(o, "ok"), eq, "true")),
    ('.ok == "null" or .ok > 0', lambda o, r: cmp_text(get(o, "ok"), eq, "null") or cmp_num(get(o, "ok"), gt, "0")),
    ('."content-type" == "text/html"', lambda o, r: cmp_text(get(o, "content-type"), eq, "text/html")),
    ('."k\xc3\xa9y".x is not empty', lambda o, r: not empty(get(o, "k\u00e9y", "x"))),
    ('."" == 1', lambda o, r: cmp_num(get(o, ""), eq, "1")),
    ('not (.status == 200)', lambda o, r: not cmp_num(get(o, "status"), eq, "200")),
    ('contains($0, "zz") and .status > 0', lambda o, r: b"zz" in r and cmp_num(get(o, "status"), gt, "0")),
    ('.big == 123456789012345678901234567890', lambda o, r: cmp_num(get(o, "big"), eq, "123456789012345678901234567890")),
]


def keep(index, record, obj):
    return bool(PREDICATES[index][1](obj, record))  # $0 (r) is the record's bytes, valid JSON or not


# ---- generation ------------------------------------------------------------------------

WORDS = ["alpha", "bob", "caf\u00e9", "Paris", "text/html", "al\u00efce", "", "a\"b\\c/d", "tab\there\nnl",
         "\U0001F600", "\U0001F600x", "x", "b", "true", "null", "zz", "\u20ac", "\u00e9t\u00e9 \u20ac", "\u0000nul",
         "ha", "alpha\u20ac", "1e3", "line\u2028sep", "\ud7ff\ue000"]
NUMBERS = ["200", "404", "500", "0", "-0", "-0.0", "10.5", "10.50", "10.51", "1e3", "1E+2", "-2.5e-3", "100", "1.5",
           "7", "3", "1", "12", "123456789012345678901234567890", "1" + "0" * 70, "0.000001", "-17", "499", "400"]
KEYS = ["status", "price", "name", "user", "tags", "ok", "content-type", "k\u00e9y", "", "big", "id", "x", "city",
        "address", "other"]


def encode_string(rng, s):
    out = ['"']
    for ch in s:
        cp = ord(ch)
        r = rng.random()
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif cp < 0x20:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}.get(ch, "\\u%04x" % cp))
        elif ch == "/" and r < 0.5:
            out.append("\\/")
        elif r < 0.1 and cp < 0x10000:
            out.append(("\\u%04x" if rng.random() < 0.5 else "\\u%04X") % cp)
        elif r < 0.1:
            v = cp - 0x10000
            out.append("\\u%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def ws(rng):
    return rng.choice(["", "", "", " ", "\t", "  ", " \r "])


def gen_value(rng, depth):
    r = rng.random()
    if depth < 4 and r < 0.12:
        return gen_object(rng, depth + 1)
    if depth < 4 and r < 0.2:
        return "[" + ws(rng) + ("," + ws(rng)).join(gen_value(rng, depth + 1) for _ in range(rng.randrange(4))) + ws(rng) + "]"
    if r < 0.5:
        return encode_string(rng, rng.choice(WORDS))
    if r < 0.85:
        return rng.choice(NUMBERS)
    return rng.choice(["true", "false", "null"])


def gen_object(rng, depth):
    members = []
    for _ in range(rng.randrange(6)):
        key = rng.choice(KEYS)
        if key == "user" and depth == 1:
            value = gen_user(rng)
        else:
            value = gen_value(rng, depth)
        members.append(ws(rng) + encode_string(rng, key) + ws(rng) + ":" + ws(rng) + value + ws(rng))
    if members and rng.random() < 0.1:  # a duplicate key: the last one wins
        members.append(members[0].split(":")[0] + ":" + gen_value(rng, depth))
    return "{" + ",".join(members) + "}"


def gen_user(rng):
    fields = []
    if rng.random() < 0.8:
        fields.append('"id":' + rng.choice(["7", "7.0", "3", "4", "-1", "\"7\"", "1e1", "null"]))
    if rng.random() < 0.7:
        fields.append('"name":' + encode_string(rng, rng.choice(["bob", "al\u00efce", "", "Bob", "x"])))
    if rng.random() < 0.5:
        fields.append('"address":{"city":' + encode_string(rng, rng.choice(["Paris", "paris", "Lyon"])) + "}")
    rng.shuffle(fields)
    return rng.choice(["{" + ",".join(fields) + "}", '"x"', "[]", "null", "{}"])


def gen_invalid(rng, valid):
    kind = rng.randrange(15)
    if kind == 0:
        return valid[: rng.randrange(len(valid))]  # cut short
    if kind == 1:
        return valid[:-1] + ",}"  # trailing comma
    if kind == 2:
        return '{"name":"\\ud800","status":200}'  # lone surrogate
    if kind == 3:
        return '{"status":200,"price":NaN}'
    if kind == 4:
        return "{'status':200}"
    if kind == 5:
        return '{"name":"a\tb","status":200}'  # raw control character
    if kind == 6:
        return '[{"status":200}]'
    if kind == 7:
        return "{" * 70 + "}" * 70  # deeper than 64
    if kind == 8:
        return '{"status":0200}'
    if kind == 9:
        return valid + " x"
    if kind == 10:
        return '{"status":200,"name":"\\x41"}'
    if kind == 11:
        return '{"status":200 "name":"a"}'
    if kind == 12:
        return '{"status":-}'
    if kind == 13:
        return '{"status":200,"name":"a\x00b"}'  # a raw NUL byte in a string
    return '{"status":200,"name":"\\ude00\\ud800"}'


def generate(seed, out_path):
    rng = random.Random(seed)
    lines = []
    size = 0
    while size < 400 * 1024:  # several kernel windows: records straddle their edges
        r = rng.random()
        if r < 0.12:
            valid = gen_object(rng, 1).encode("utf-8")
            line = gen_invalid(rng, valid.decode("utf-8")).encode("utf-8", "surrogatepass")
        elif r < 0.14:
            line = b'{"name":"\xff","status":200}'  # not UTF-8
        elif r < 0.15:
            line = b'{"name":"\xed\xa0\x80","status":200}'  # a surrogate in UTF-8
        elif r < 0.16:
            line = b'{"name":"\xc0\xaf","status":200}'  # overlong
        else:
            line = (ws(rng) + gen_object(rng, 1) + ws(rng)).encode("utf-8")
        lines.append(line)
        size += len(line) + 1
    # depth exactly at the limit, and one over
    lines.append(b'{"a":' + b"[" * 63 + b"1" + b"]" * 63 + b',"status":200}')
    lines.append(b'{"a":' + b"[" * 64 + b"1" + b"]" * 64 + b',"status":200}')
    # records longer than a kernel window (judged in user space), and an empty line
    lines.append(('{"name":' + encode_string(rng, "x" * 70000 + "\u00e9") + ',"status":200,"zz":1}').encode("utf-8"))
    lines.append(('{"pad":"' + "y" * 66000 + '","name":"caf\\u00e9"}').encode("utf-8"))
    lines.append(b"")
    rng.shuffle(lines)
    with open(out_path, "wb") as f:
        f.write(b"\n".join(lines))  # no trailing newline


def evaluate(path):
    with open(path, "rb") as f:
        data = f.read()
    records = data.split(b"\n")
    if records and records[-1] == b"" and data.endswith(b"\n"):
        records.pop()
    objs = [parse(r) for r in records]
    for i in range(len(PREDICATES)):
        print(" ".join(str(n) for n, r in enumerate(records) if keep(i, r, objs[n])))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "expressions":
        sys.stdout.buffer.write(b"".join(e.encode("latin-1") + b"\n" for e, _ in PREDICATES))
    elif len(sys.argv) == 4 and sys.argv[1] == "generate":
        generate(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "evaluate":
        evaluate(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
