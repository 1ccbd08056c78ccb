#!/usr/bin/env python3
# bench/lib/table.py - the results of a bench/run, one row at a time, and the
# table made of them. Python 3 standard library only.
#
#   table.py add RESULTS FIG LABEL UNIT A B TARGET [VS]
#       append a row to RESULTS (JSON lines): figure FIG, what LABEL says,
#       mailpost's value A and the comparison's value B ("-": none) in UNIT,
#       the TARGET ("-": none; "<= 0.15x" is a ratio A/B, "<= 8"
#       a bound on A in UNIT, ">= 3x" a ratio too) and what B is (VS,
#       default msmtp)
#   table.py render RESULTS              print the Markdown table
#   table.py readme RESULTS README HEAD  put HEAD's text and the table
#       between README's "<!-- results -->" and "<!-- /results -->" lines
#   table.py merge RESULTS README HEAD   the same for a run of some figures
#       (bench/run --only): their rows replace that figure's rows of the
#       table already there, the other figures' rows stay as they were,
#       and HEAD's text is added under the old one, naming the figures
#
# UNITS: instr (shown in millions), s, ms, MiB, KiB (shown in MiB), msg/s,
# %, waits (A and B are then "n/wall-RTTs" strings, shown as they are).
import json
import os
import re
import sys


def fmt(value, unit):
    if value in ("-", None):
        return "-"
    if unit in ("waits", "count"):
        return str(value)
    v = float(value)
    if unit == "instr":
        return "%.2f M" % (v / 1e6)
    if unit == "KiB":
        return "%.1f MiB" % (v / 1024)
    if unit == "s":
        if v < 1:
            return "%.1f ms" % (v * 1000)
        return "%.2f s" % v if v < 10 else "%.1f s" % v
    if unit == "ms":
        return "%.1f ms" % v
    if unit == "%":
        return "%.3f %%" % v
    if unit == "msg/s":
        return "%.1f msg/s" % v
    return "%.3g %s" % (v, unit)


def ratio(a, b, unit):
    if unit == "waits" or a in ("-", None) or b in ("-", None):
        return None
    a, b = float(a), float(b)
    return a / b if b else None


def verdict(row, r):
    m = re.match(r"^\s*(<=|>=)\s*([0-9.]+)\s*(x?)", row["target"])
    if not m:
        return ""
    op, bound, is_ratio = m.group(1), float(m.group(2)), m.group(3)
    if is_ratio:
        if r is None:
            return ""
        v = r
    else:
        if row["a"] in ("-", None):
            return ""
        v = float(str(row["a"]).split()[0])  # waits: "N (wall/RTT)"
        if row["unit"] == "KiB":
            v /= 1024
    ok = v <= bound if op == "<=" else v >= bound
    return " (met)" if ok else " (not met)"


def render(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    out = ["| # | figure | mailpost | compared with | value | ratio | target |",
           "|---|---|---|---|---|---|---|"]
    for row in rows:
        r = ratio(row["a"], row["b"], row["unit"])
        target = row["target"] if row["target"] != "-" else ""
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            row["fig"], row["label"], fmt(row["a"], row["unit"]),
            row["vs"] if row["b"] not in ("-", None) else "",
            fmt(row["b"], row["unit"]),
            "%.3gx" % r if r is not None else "",
            target + (verdict(row, r) if target else "")))
    return "\n".join(out) + "\n"


def table_rows(block):
    """The rows of a rendered table in block, as (figure, line) pairs."""
    rows = []
    for line in block.splitlines():
        m = re.match(r"^\| (\d+) \|", line)
        if m:
            rows.append((int(m.group(1)), line))
    return rows


def merged(old_block, path, head, figures):
    """old_block's head and rows with figures' rows replaced by path's."""
    new_rows = table_rows(render(path))
    old_rows = [r for r in table_rows(old_block) if r[0] not in figures]
    rows = sorted(old_rows + new_rows, key=lambda r: r[0])  # stable
    old_head = old_block.split("\n\n| # |")[0].rstrip("\n")
    names = ", ".join(str(f) for f in sorted(figures))
    text = old_head + "\n\nFigure%s %s measured again: %s\n" % (
        "s" if len(figures) > 1 else "", names, head.strip())
    table = render(path).splitlines()[:2] + [line for _, line in rows]
    return text + "\n" + "\n".join(table) + "\n"


def main(argv):
    if len(argv) >= 9 and argv[1] == "add":
        row = {"fig": argv[3], "label": argv[4], "unit": argv[5],
               "a": argv[6], "b": argv[7], "target": argv[8],
               "vs": argv[9] if len(argv) > 9 else "msmtp"}
        with open(argv[2], "a") as f:
            f.write(json.dumps(row) + "\n")
        return 0
    if len(argv) == 3 and argv[1] == "render":
        sys.stdout.write(render(argv[2]))
        return 0
    if len(argv) == 5 and argv[1] in ("readme", "merge"):
        text = open(argv[3]).read()
        begin, end = "<!-- results -->\n", "<!-- /results -->\n"
        i, j = text.find(begin), text.find(end)
        if i < 0 or j < i:
            sys.exit("table.py: %s has no results markers" % argv[3])
        head = open(argv[4]).read()
        if argv[1] == "merge":
            figures = {int(json.loads(line)["fig"])
                       for line in open(argv[2]) if line.strip()}
            block = merged(text[i + len(begin):j], argv[2], head, figures)
        else:
            block = head + "\n" + render(argv[2])
        text = text[:i + len(begin)] + block + text[j:]
        with open(argv[3] + ".tmp", "w") as f:
            f.write(text)
        os.rename(argv[3] + ".tmp", argv[3])
        return 0
    sys.exit("usage: table.py add|render|readme|merge ... (see its header)")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
