#!/usr/bin/env python3
# streamfeed.py - runs mailpost with a large message on standard input that
# it writes in two parts, waiting between them for the test server to show
# that mailpost is already sending: the proof that a message streams
# (source.h), and the way to make a failure happen while the input is still
# being read.  Python 3 standard library only.
#
#   streamfeed.py [options] -- MAILPOST ARGS...
#     --message FILE     also write the whole message (LF lines) here
#     --lines N          body lines of 76 characters (default 16000, ~1.2 MB)
#     --mark N           body line N reads MARK-STREAMED (default 14000,
#                        past source.h's SOURCE_STREAM_AFTER)
#     --first N          write the header and body lines 1..N, then wait
#                        (default 15000)
#     --wait-for FILE:TEXT
#                        before the rest: poll (at most 15 s) until FILE
#                        holds TEXT; exit 3 when it never does (mailpost
#                        did not send before its input ended)
#     --line N:TEXT      body line N is TEXT instead (escapes \0 \xHH)
#     --then eof|reset   after the rest: close the input (eof, default) or,
#                        input a TCP socket, reset it (RST) before the end
#                        so that mailpost's read fails (ECONNRESET)
#     --reset-after N    with --then reset: write body lines up to N only
#
# mailpost's exit code is this program's (its stdout and stderr are
# inherited), unless the wait failed.
import argparse
import os
import socket
import struct
import subprocess
import sys
import time

HEAD = (b"From: alice@example.org\nTo: bob@example.net\n"
        b"Subject: a large message\nDate: Sat, 01 Feb 2025 10:00:00 +0000\n"
        b"Message-ID: <stream.1@client.test>\n\n")


def body_line(n, special):
    if n in special:
        return special[n]
    return (b"%07d " % n + b"abcdefghijklmnopqrstuvwxyz" * 3)[:76]


def lines(a, b, special):
    return b"".join(body_line(n, special) + b"\n" for n in range(a, b + 1))


def wait_for(spec):
    path, text = spec.split(":", 1)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                if text.encode() in f.read():
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--message")
    ap.add_argument("--lines", type=int, default=16000)
    ap.add_argument("--mark", type=int, default=14000)
    ap.add_argument("--first", type=int, default=15000)
    ap.add_argument("--wait-for")
    ap.add_argument("--line", action="append", default=[])
    ap.add_argument("--then", choices=("eof", "reset"), default="eof")
    ap.add_argument("--reset-after", type=int)
    ap.add_argument("cmd", nargs="+")
    o = ap.parse_args()
    special = {o.mark: b"MARK-STREAMED"}
    for spec in o.line:
        n, text = spec.split(":", 1)
        special[int(n)] = text.encode().decode("unicode_escape").encode("latin-1")
    if o.message:
        with open(o.message, "wb") as f:
            f.write(HEAD + lines(1, o.lines, special))

    if o.then == "reset":
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        reader = socket.create_connection(lsock.getsockname())
        writer, _ = lsock.accept()
        lsock.close()
        proc = subprocess.Popen(o.cmd, stdin=reader.fileno())
        reader.close()
        out = writer.makefile("wb")
    else:
        proc = subprocess.Popen(o.cmd, stdin=subprocess.PIPE)
        out = proc.stdin
    waited = True
    try:
        out.write(HEAD + lines(1, o.first, special))
        out.flush()
        if o.wait_for:
            waited = wait_for(o.wait_for)
        last = o.reset_after if o.then == "reset" and o.reset_after else o.lines
        out.write(lines(o.first + 1, last, special))
        out.flush()
        if o.then == "reset":
            writer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack("ii", 1, 0))
            out.close()
            writer.close()
        else:
            out.close()
    except BrokenPipeError:
        pass
    rc = proc.wait()
    if not waited:
        sys.stderr.write("streamfeed: %s never came\n" % o.wait_for)
        return 3
    return rc


if __name__ == "__main__":
    sys.exit(main())
