#!/usr/bin/env python3
# bsclient.py - a scripted SMTP client for sendmail's -bs mode, for
# mailpost's tests.  Python 3 standard library only.
#
# It starts PROGRAM (mailpost ... -bs) with pipes on its standard input and
# output (standard error is passed through), reads the greeting, plays the
# session script, and prints every reply line the program wrote, without
# its CRLF, one per line, in order.  The last line of its output is always
# "exit N", N being the program's exit status (or "exit signal N").
#
# Usage:
#   bsclient.py [--pipeline] [--lf] [--timeout S] [--times FILE]
#               [--script FILE] -- PROGRAM [ARG...]
#
#   --pipeline    after the greeting, everything the script sends goes to
#                 the program in one write (RFC 2920 taken to the limit:
#                 commands, DATA, the message text and QUIT together), and
#                 only then are the replies read
#   --lf          line ends sent as a bare LF instead of CRLF (commands
#                 and message text alike)
#   --timeout S   the limit for each reply and for the program's exit
#                 (default 30 s)
#   --times FILE  for each reply: the seconds from the last write before
#                 it to its last line, and its first line ("1.02 250 ...")
#   --script FILE the session (default: standard input)
#
# THE SCRIPT, one step a line ('#' starts a comment line, blank lines are
# ignored):
#
#   > TEXT             send the command TEXT and a line end; read one reply
#   data FILE          send FILE as message text the way a client does:
#                      each line with the session's line end, a line that
#                      starts with "." gets another one in front (RFC 5321
#                      4.5.2), then the end-of-data line "."; read one reply
#   message FILE FROM TO...
#                      MAIL FROM:<FROM>, RCPT TO:<TO> for each TO, DATA, and
#                      "data FILE": four replies or more
#   send TEXT          send TEXT as it is (escapes \r \n \t \\ \xHH decoded,
#                      nothing added); read nothing
#   reply              read one reply
#   sleep S            wait S seconds (line mode only)
#   eof                close the program's standard input now (an abrupt
#                      end when the session is not over); no step may follow
#
# When the script is done the program's standard input is closed, whatever
# it writes until it exits is printed as well, and the program is waited
# for.  A reply line that does not end in CRLF, or is not a reply line
# (three digits, then space, hyphen or nothing), is printed all the same
# and reported on standard error.
#
# Exit status: 0 when every reply expected came and was well formed; 1 for
# a malformed reply or one missing (end of output); 2 for a usage or script
# error; 3 when the program took longer than --timeout (it is then killed).

import argparse
import os
import re
import select
import subprocess
import sys
import time


class Timeout(Exception):
    pass


class Session:
    def __init__(self, argv, eol, timeout, times_file):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        self.eol = eol
        self.timeout = timeout
        self.times = times_file
        self.inbuf = b""
        self.out_eof = False
        self.in_closed = False
        self.last_write = time.monotonic()
        self.bad = False

    # -- output from the program ---------------------------------------

    def _fill(self, deadline):
        """Read more of the program's output; False at its end."""
        if self.out_eof:
            return False
        fd = self.proc.stdout.fileno()
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout()
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            raise Timeout()
        data = os.read(fd, 65536)
        if not data:
            self.out_eof = True
            return False
        self.inbuf += data
        return True

    def read_line(self, deadline):
        """One line with its ending, or what is left at the end (b"" when
        nothing is)."""
        while b"\n" not in self.inbuf:
            if not self._fill(deadline):
                line, self.inbuf = self.inbuf, b""
                return line
        pos = self.inbuf.index(b"\n") + 1
        line, self.inbuf = self.inbuf[:pos], self.inbuf[pos:]
        return line

    def show(self, line):
        text = line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")
        print(text, flush=True)
        if not line.endswith(b"\r\n"):
            self.complain("reply line without CRLF: %r" % line)
        if not re.fullmatch(rb"[2-5][0-9][0-9]([ -].*)?\r?\n?", line,
                            re.DOTALL):
            self.complain("not a reply line: %r" % line)
        return text

    def read_reply(self):
        """One reply (all its lines); False when the output ended first."""
        deadline = time.monotonic() + self.timeout
        first = None
        while True:
            line = self.read_line(deadline)
            if not line:
                self.complain("the output ended where a reply was expected")
                return False
            text = self.show(line)
            if first is None:
                first = text
            if len(text) < 4 or text[3] != "-":
                break
        if self.times:
            self.times.write("%.2f %s\n" % (time.monotonic() - self.last_write,
                                            first))
            self.times.flush()
        return True

    def drain(self):
        """Print whatever the program still writes until it closes."""
        deadline = time.monotonic() + self.timeout
        while True:
            line = self.read_line(deadline)
            if not line:
                return
            self.show(line)

    def complain(self, text):
        self.bad = True
        print("bsclient: " + text, file=sys.stderr, flush=True)

    # -- input to the program ---------------------------------------------

    def write(self, data):
        if not data:
            return
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.complain("the program closed its input (%d bytes not "
                          "taken)" % len(data))
        self.last_write = time.monotonic()

    def close_input(self):
        if not self.in_closed:
            self.in_closed = True
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass

    def finish(self):
        self.close_input()
        self.drain()
        try:
            rc = self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            raise Timeout()
        print("exit signal %d" % -rc if rc < 0 else "exit %d" % rc,
              flush=True)


# --- the script -------------------------------------------------------------

def unescape(text):
    out = bytearray()
    raw = text.encode("utf-8", "surrogateescape")
    simple = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t",
              ord("\\"): b"\\"}
    i = 0
    while i < len(raw):
        c = raw[i]
        if c != 0x5C or i + 1 >= len(raw):
            out.append(c)
            i += 1
        elif raw[i + 1] in simple:
            out += simple[raw[i + 1]]
            i += 2
        elif raw[i + 1] == ord("x") and re.fullmatch(rb"[0-9a-fA-F]{2}",
                                                     raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("unknown escape \\%s" % chr(raw[i + 1]))
    return bytes(out)


def message_text(path, eol):
    """FILE as DATA text: line ends made eol, dot-stuffed, then "."."""
    with open(path, "rb") as f:
        data = f.read()
    lines = re.split(rb"\r\n|\n", data)
    if lines and lines[-1] == b"":
        lines.pop()
    out = bytearray()
    for line in lines:
        if line.startswith(b"."):
            out += b"."
        out += line + eol
    return bytes(out + b"." + eol)


def parse_script(text, eol):
    """The script as a list of (kind, bytes-to-send, replies-expected)
    steps; kind is "send", "sleep" (bytes: the seconds) or "eof"."""
    steps = []
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        try:
            if steps and steps[-1][0] == "eof":
                raise ValueError("nothing may follow eof")
            if word == ">":
                steps.append(("send", rest.encode("utf-8") + eol, 1))
            elif word == "data":
                steps.append(("send", message_text(rest, eol), 1))
            elif word == "message":
                args = rest.split()
                if len(args) < 3:
                    raise ValueError("message wants FILE FROM TO...")
                cmds = [b"MAIL FROM:<%s>" % args[1].encode()]
                cmds += [b"RCPT TO:<%s>" % a.encode() for a in args[2:]]
                cmds.append(b"DATA")
                for c in cmds:
                    steps.append(("send", c + eol, 1))
                steps.append(("send", message_text(args[0], eol), 1))
            elif word == "send":
                steps.append(("send", unescape(rest), 0))
            elif word == "reply":
                steps.append(("send", b"", 1))
            elif word == "sleep":
                steps.append(("sleep", float(rest), 0))
            elif word == "eof":
                steps.append(("eof", b"", 0))
            else:
                raise ValueError("unknown step %r" % word)
        except (ValueError, OSError) as e:
            raise ValueError("script line %d: %s" % (lineno, e))
    return steps


def play(session, steps, pipeline):
    if not session.read_reply():  # the greeting
        return
    if pipeline:
        if any(kind == "sleep" for kind, _, _ in steps):
            raise ValueError("sleep makes no sense with --pipeline")
        session.write(b"".join(data for kind, data, _ in steps
                               if kind == "send"))
        if steps and steps[-1][0] == "eof":
            session.close_input()
        for _ in range(sum(n for _, _, n in steps)):
            if not session.read_reply():
                return
        return
    for kind, data, replies in steps:
        if kind == "eof":
            session.close_input()
        elif kind == "sleep":
            time.sleep(data)
        else:
            session.write(data)
            for _ in range(replies):
                if not session.read_reply():
                    return


def main():
    p = argparse.ArgumentParser(description="a scripted -bs client")
    p.add_argument("--pipeline", action="store_true")
    p.add_argument("--lf", action="store_true")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--times")
    p.add_argument("--script", default="-")
    p.add_argument("command", nargs="+")
    a = p.parse_args()
    eol = b"\n" if a.lf else b"\r\n"
    try:
        if a.script == "-":
            text = sys.stdin.read()
        else:
            with open(a.script) as f:
                text = f.read()
        steps = parse_script(text, eol)
    except (ValueError, OSError) as e:
        print("bsclient: %s" % e, file=sys.stderr)
        return 2
    times = open(a.times, "w") if a.times else None
    session = Session(a.command, eol, a.timeout, times)
    try:
        play(session, steps, a.pipeline)
        session.finish()
    except ValueError as e:
        print("bsclient: %s" % e, file=sys.stderr)
        session.proc.kill()
        session.proc.wait()
        return 2
    except Timeout:
        print("bsclient: no reply, or no exit, within %g s" % a.timeout,
              file=sys.stderr, flush=True)
        session.proc.kill()
        session.proc.wait()
        print("exit timeout", flush=True)
        return 3
    return 1 if session.bad else 0


if __name__ == "__main__":
    sys.exit(main())
