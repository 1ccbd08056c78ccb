#!/usr/bin/env python3
# bench/lib/measure.py - run commands alternately; wall, CPU and peak RSS.
# Python 3 standard library only.
#
#   measure.py [--runs N] [--warmup N] [--prepare CMD] NAME=CMD...
#
# Each round runs every command once, in turn, and the round's first command
# rotates (round r starts with command r mod k), so that on a shared, loaded
# machine a slow minute falls on all of them alike. (hyperfine runs all of
# one command's runs before the next command's: not alternation.) Each CMD
# runs under /bin/sh -c; write "exec PROGRAM ..." to measure one program
# without the shell. --prepare runs (untimed) before every run. Per run:
#   wall   seconds, from fork to exit
#   cpu    user + system seconds of the process and its reaped children
#          (wait4's rusage: the kernel's exact runtime, not ticks; it
#          includes GNU time's own, well under a millisecond)
#   rss    peak resident set in KiB (the largest of the process and its
#          children), as GNU time (/usr/bin/time -f %M) reports it: a child
#          forked from this Python process would count Python's resident
#          pages from before its exec (Linux keeps the high-water mark of
#          the old memory across execve), ~10 MiB; a child forked from
#          time counts time's, ~1 MiB, less than any client's
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


def run_once(cmd, rss_file):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(GNU_TIME, [GNU_TIME, "-f", "%M", "-o", rss_file,
                                "/bin/sh", "-c", cmd])
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        sys.exit("measure: failed (status %d): %s" % (status, cmd))
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": rss}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--prepare")
    p.add_argument("commands", nargs="+", metavar="NAME=CMD")
    opts = p.parse_args()
    cmds = []
    for spec in opts.commands:
        name, sep, cmd = spec.partition("=")
        if not sep or not name:
            p.error("NAME=CMD expected: %r" % spec)
        cmds.append((name, cmd))
    runs = {name: [] for name, _ in cmds}
    fd, rss_file = tempfile.mkstemp(prefix="measure-rss.")
    os.close(fd)
    for r in range(opts.warmup + opts.runs):
        k = r % len(cmds)
        for name, cmd in cmds[k:] + cmds[:k]:
            if opts.prepare:
                subprocess.run(["/bin/sh", "-c", opts.prepare], check=True)
            m = run_once(cmd, rss_file)
            if r >= opts.warmup:
                runs[name].append(m)
    os.unlink(rss_file)
    out = {}
    for name, ms in runs.items():
        out[name] = {
            "wall": statistics.median(m["wall"] for m in ms),
            "cpu": statistics.median(m["cpu"] for m in ms),
            "rss": max(m["rss"] for m in ms),
            "runs": ms,
        }
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
