#!/usr/bin/env python3
# jsoncheck.py - checks mailpost's --json output (68-json.bats): every line
# of the file (or stdin) must be one JSON object of mailpost(1)'s JSON
# OUTPUT schema, version 1: each field present with its type (a field
# that may be null is given as a tuple with None).  With --count N, there
# must be exactly N lines.  Prints what differed and exits 1.
#
# usage: jsoncheck.py [--count N] [FILE]
import json
import sys

STR, INT, BOOL, NUM = str, int, bool, (int, float)
NULL = type(None)

STEPS = ("connect", "greeting", "ehlo", "tls", "auth", "mail", "rcpt",
         "data", "body", "quit")

SCHEMA = {
    "version": INT,
    "mode": ("send", "flush"),
    "queue_entry": (STR, NULL),
    "account": (STR, NULL),
    "server": {
        "host": (STR, NULL), "port": (INT, NULL),
        "protocol": ("smtp", "lmtp"),
        "socket": (STR, NULL),
        "proxy": ({"host": STR, "port": INT}, NULL),
    },
    "tls": {
        "enabled": BOOL, "mode": ("off", "starttls", "implicit"),
        "established": BOOL, "version": (STR, NULL), "cipher": (STR, NULL),
        "resumed": (BOOL, NULL),
        "verified": (BOOL, NULL), "verification": (STR, NULL),
        "dane": (BOOL, NULL),
        "fingerprint_sha256": (STR, NULL),
    },
    "auth": {"enabled": BOOL, "mechanism": (STR, NULL), "user": (STR, NULL)},
    "sender": STR,
    "recipients": [{
        "address": STR,
        "status": ("accepted", "refused-temporarily", "refused-permanently",
                   "queued", "pending"),
        "smtp_code": (INT, NULL), "enhanced_code": (STR, NULL),
        "reply": (STR, NULL),
    }],
    "size": INT,
    "status": ("delivered", "delivered-in-part", "queued", "refused",
               "failed"),
    "failed_step": STEPS + (None,),
    "error": ({"kind": STR, "message": STR}, NULL),
    "reply": ({"smtp_code": INT, "enhanced_code": (STR, NULL),
               "text": (STR, NULL)}, NULL),
    "queue_id": (STR, NULL),
    "dead_letter": (STR, NULL),
    "timing_ms": dict({s: (NUM, NULL) for s in STEPS}, total=(NUM, NULL)),
    "exit_code": INT,
}


def check(value, spec, where):
    """A list of what differs from spec at where."""
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not an object"]
        bad = [f"{where}: unknown field {k}" for k in value if k not in spec]
        for k, sub in spec.items():
            if k not in value:
                bad.append(f"{where}.{k}: missing")
            else:
                bad += check(value[k], sub, f"{where}.{k}")
        return bad
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not an array"]
        return [b for i, v in enumerate(value)
                for b in check(v, spec[0], f"{where}[{i}]")]
    if isinstance(spec, tuple):
        if all(isinstance(s, str) or s is None for s in spec):
            return [] if value in spec else [f"{where}: {value!r} not in {spec}"]
        for s in spec:
            if s is NULL and value is None:
                return []
            if s is not NULL and not check(value, s, where):
                return []
        return [f"{where}: {value!r} is none of the allowed types"]
    if spec is INT and isinstance(value, bool):
        return [f"{where}: {value!r} is a boolean, not an integer"]
    if not isinstance(value, spec):
        return [f"{where}: {value!r} is not {spec}"]
    return []


def main(argv):
    count = None
    if argv[:1] == ["--count"]:
        count, argv = int(argv[1]), argv[2:]
    data = open(argv[0], "rb").read() if argv else sys.stdin.buffer.read()
    lines = data.decode("utf-8").split("\n")
    if lines[-1] != "":
        print("the output does not end with a newline", file=sys.stderr)
        return 1
    lines = lines[:-1]
    bad = []
    if count is not None and len(lines) != count:
        bad.append(f"{len(lines)} lines, not {count}")
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            bad.append(f"line {n}: not JSON ({e}): {line!r}")
            continue
        bad += check(obj, SCHEMA, f"line {n}")
        if obj.get("version") != 1:
            bad.append(f"line {n}: version is not 1")
        for k, v in obj.get("timing_ms", {}).items():
            if isinstance(v, float) and round(v, 3) != v:
                bad.append(f"line {n}: timing_ms.{k} has more than 3 decimals")
    for b in bad:
        print(b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
