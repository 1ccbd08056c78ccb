#!/usr/bin/env python3
"""includes.py - the module graph of src/ from its #include lines.

A module is a basename under src/ (conn for conn.c and conn.h).  Module
A depends on B when src/A.c or src/A.h has '#include "B.h"'.  Prints the
graph, one module a line with what it uses, and exits 1 with the cycle
named when there is one: the layers (util at the bottom, main at the top)
must only point down.

usage: includes.py [--quiet] SRCDIR
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)


def graph(srcdir):
    deps = {}
    for name in sorted(os.listdir(srcdir)):
        base, ext = os.path.splitext(name)
        if ext not in (".c", ".h"):
            continue
        with open(os.path.join(srcdir, name), encoding="utf-8") as f:
            used = set(INCLUDE.findall(f.read()))
        known = deps.setdefault(base, set())
        known.update(u for u in used if u != base and u != "config")
    return deps


def find_cycle(deps):
    """Return one cycle as a list of modules, or None (depth-first)."""
    state = {}  # absent: unseen, 1: on the path, 2: done
    path = []

    def visit(m):
        state[m] = 1
        path.append(m)
        for d in sorted(deps.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        path.pop()
        state[m] = 2
        return None

    for m in sorted(deps):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def main(argv):
    quiet = "--quiet" in argv
    args = [a for a in argv if a != "--quiet"]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    deps = graph(args[0])
    if not quiet:
        for m in sorted(deps):
            print("%s: %s" % (m, " ".join(sorted(deps[m]))))
    cycle = find_cycle(deps)
    if cycle:
        print("include cycle: " + " -> ".join(cycle), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
