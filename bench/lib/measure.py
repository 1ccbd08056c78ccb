#!/usr/bin/env python3
# bench/lib/measure.py - run commands alternately; wall, CPU and peak RSS.
# Python 3 standard library only.
#
#   measure.py [--runs N] [--warmup N] [--prepare CMD] [--rss] NAME=CMD...
#
# Each round runs every command once, in turn, and the round's first command
# rotates (round r starts with command r mod k), so that on a shared, loaded
# machine a slow minute falls on all of them alike. (hyperfine runs all of
# one command's runs before the next command's: not alternation.) --prepare
# runs (untimed) before every run.
#
# What is counted is the command's own process and the children it reaps,
# nothing of the measuring: a CMD of the form "exec PROGRAM ARGS..." with
# at most the redirections <FILE, >FILE, >>FILE, 2>FILE, 2>>FILE and 2>&1
# is started as that program alone, by posix_spawn (vfork and exec: no
# copy of this process, no shell); any other CMD runs under /bin/sh -c,
# started the same way, and then the shell's own start-up counts too. Per
# run:
#   wall   seconds, from posix_spawn to wait4's return
#   cpu    user + system seconds from wait4's rusage of the program (the
#          kernel's exact runtime, not ticks)
#   rss    (--rss only) peak resident set in KiB, from a second run of the
#          same command, after the first in the same round, under GNU time
#          (/usr/bin/time -f %M): the kernel keeps the high-water mark of
#          the memory a process had before its execve, so a program
#          spawned from here would report this Python's ~10 MiB; one
#          forked from time carries time's ~1 MiB, less than any client's
# Until 2026-12-07 every run was forked from this process and went through
# time and /bin/sh -c: the child's copy of this Python's page tables torn
# down at its exec, time's and sh's start-up, all counted in cpu. That is
# some 3 ms on an idle machine of this kind and 10-17 ms at load 5, the
# same for every command, so it pulled every CPU ratio towards 1.
# A command that exits non-zero stops everything (exit 1, its status said).
# Output: one JSON object on stdout, NAME -> {wall, cpu, rss: medians (rss:
# maximum), runs: [...]}.
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"

# Redirections a direct command may carry: token -> (fd, flags).
REDIRECTS = {
    "<": (0, os.O_RDONLY),
    ">": (1, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ">>": (1, os.O_WRONLY | os.O_CREAT | os.O_APPEND),
    "2>": (2, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    "2>>": (2, os.O_WRONLY | os.O_CREAT | os.O_APPEND),
}


# Characters that make a CMD the shell's to read (quoting, expansion,
# lists, pipes, globs).
SHELL_CHARS = "|;&$`(){}*?[]~\\'\"\n"


def direct(cmd):
    """(argv, file_actions) when cmd is "exec PROGRAM ARGS..." with only
    simple redirections, else None (the shell runs it)."""
    if any(c in cmd.replace("2>&1", "") for c in SHELL_CHARS):
        return None
    words = cmd.split()
    if len(words) < 2 or words[0] != "exec":
        return None
    argv, actions = [], []
    for w in words[1:]:
        if w == "2>&1":
            actions.append((os.POSIX_SPAWN_DUP2, 1, 2))
            continue
        for op in sorted(REDIRECTS, key=len, reverse=True):
            if w.startswith(op) and len(w) > len(op):
                path = w[len(op):]
                if path[0] in "<>&":  # <<, <>, >&: the shell's
                    return None
                fd, flags = REDIRECTS[op]
                actions.append((os.POSIX_SPAWN_OPEN, fd, path, flags,
                                0o666))
                break
        else:
            if "<" in w or ">" in w:
                return None
            argv.append(w)
    return (argv, actions) if argv else None


def spawn_wait(argv, actions, cmd):
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        sys.exit("measure: failed (status %d): %s" % (status, cmd))
    return wall, ru


def run_once(cmd, prepared):
    argv, actions = prepared or (["/bin/sh", "-c", cmd], [])
    wall, ru = spawn_wait(argv, actions, cmd)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime}


def rss_once(cmd, rss_file):
    spawn_wait([GNU_TIME, "-f", "%M", "-o", rss_file, "/bin/sh", "-c", cmd],
               [], cmd)
    with open(rss_file) as f:
        return int(f.read().split()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--prepare")
    p.add_argument("--rss", action="store_true")
    p.add_argument("commands", nargs="+", metavar="NAME=CMD")
    opts = p.parse_args()
    cmds = []
    for spec in opts.commands:
        name, sep, cmd = spec.partition("=")
        if not sep or not name:
            p.error("NAME=CMD expected: %r" % spec)
        cmds.append((name, cmd, direct(cmd)))
    runs = {name: [] for name, _, _ in cmds}
    fd, rss_file = tempfile.mkstemp(prefix="measure-rss.")
    os.close(fd)

    def prepare():
        if opts.prepare:
            subprocess.run(["/bin/sh", "-c", opts.prepare], check=True)

    for r in range(opts.warmup + opts.runs):
        k = r % len(cmds)
        for name, cmd, prepared in cmds[k:] + cmds[:k]:
            prepare()
            m = run_once(cmd, prepared)
            if opts.rss:
                prepare()
                m["rss"] = rss_once(cmd, rss_file)
            if r >= opts.warmup:
                runs[name].append(m)
    os.unlink(rss_file)
    out = {}
    for name, ms in runs.items():
        out[name] = {
            "wall": statistics.median(m["wall"] for m in ms),
            "cpu": statistics.median(m["cpu"] for m in ms),
            "runs": ms,
        }
        if opts.rss:
            out[name]["rss"] = max(m["rss"] for m in ms)
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
