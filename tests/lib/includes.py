#!/usr/bin/env python3
"""includes.py - the layers of src/ and the module graph of their #include
lines.

Each module lives in the folder of its layer (doc/ARCHITECTURE.md draws
them), and LAYERS below says which folders each folder may use:

    cmd/                 the program: argv, the modes, the exit code
    delivery/            what becomes of a message
    message/             the message, edited as its account says
    account/   wire/     the settings; the SMTP client, which knows none
    base/                what every layer uses

A module is a basename (conn for wire/conn.c and wire/conn.h).  Every
folder is on the compiler's include path, so '#include "conn.h"' names a
module, not its place, and a basename may be used in one folder only.
Module A depends on B when A's .c or .h has '#include "B.h"'.

Checks, each failure named in one line on stderr, exit status 1:
  - every .c and .h of src/ is in a layer folder;
  - no basename is used in two folders;
  - a module includes only modules of its own folder and of the folders
    its folder may use (the layers only point down);
  - no include cycle among the modules.
Prints the graph first, one module a line ("folder/module: what it
uses"), unless --quiet; --layers prints LAYERS instead, bottom up.

usage: includes.py [--quiet] SRCDIR
       includes.py --layers
"""
import os
import re
import sys

# Each layer folder and the folders below it that it may include; a folder
# may always include itself.  Bottom up: the order of the build's lists.
LAYERS = {
    "base": (),
    "account": ("base",),
    "message": ("base", "account"),
    "wire": ("base",),
    "delivery": ("base", "account", "message", "wire"),
    "cmd": ("base", "account", "message", "wire", "delivery"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"(?:[^"]*/)?([^"/]+)\.h"', re.M)


def modules(srcdir, problems):
    """Map each module to its folder and the set of headers its files
    include; what is misplaced goes to problems."""
    folder_of, used = {}, {}
    for dirpath, dirnames, filenames in os.walk(srcdir):
        dirnames.sort()
        rel = os.path.relpath(dirpath, srcdir)
        for name in sorted(filenames):
            base, ext = os.path.splitext(name)
            if ext not in (".c", ".h"):
                continue
            where = os.path.join("src", rel, name) if rel != "." else \
                os.path.join("src", name)
            if rel not in LAYERS:
                problems.append("%s is in no layer folder (%s)"
                                % (where, " ".join(f + "/" for f in LAYERS)))
                continue
            if folder_of.setdefault(base, rel) != rel:
                problems.append("%s: module %s is also in src/%s/; a name "
                                "is used in one folder only"
                                % (where, base, folder_of[base]))
                continue
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                found = set(INCLUDE.findall(f.read()))
            used.setdefault(base, set()).update(found)
    return folder_of, used


def graph(srcdir, problems):
    """The modules' dependencies, and an entry in problems for each include
    that points up or sideways out of its layer."""
    folder_of, used = modules(srcdir, problems)
    deps = {}
    for m in sorted(used):
        here = folder_of[m]
        deps[m] = set()
        for u in sorted(used[m]):
            if u == m or u not in folder_of:
                continue  # its own header, config.h, a system header
            deps[m].add(u)
            there = folder_of[u]
            if there != here and there not in LAYERS[here]:
                problems.append(
                    "layer: %s/%s includes %s.h of %s/; %s/ may use only %s"
                    % (here, m, u, there, here,
                       ", ".join(f + "/" for f in (here,) + LAYERS[here])))
    return folder_of, deps


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
    if argv == ["--layers"]:
        for folder, below in LAYERS.items():
            print("%s: %s" % (folder, " ".join(below)))
        return 0
    quiet = "--quiet" in argv
    args = [a for a in argv if a != "--quiet"]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    problems = []
    folder_of, deps = graph(args[0], problems)
    if not quiet:
        order = list(LAYERS)
        for m in sorted(deps, key=lambda m: (order.index(folder_of[m]), m)):
            print("%s/%s: %s" % (folder_of[m], m, " ".join(sorted(deps[m]))))
    cycle = find_cycle(deps)
    if cycle:
        problems.append("include cycle: " + " -> ".join(cycle))
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
