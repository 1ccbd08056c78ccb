#!/usr/bin/env python3
# bench/lib/rawsend.py - the raw-TCP transport limit of an SMTP session.
# Python 3 standard library only.
#
#   rawsend.py --wire MESSAGE WIRE     make WIRE: MESSAGE as DATA puts it on
#                                      the wire (CRLF line ends, leading dots
#                                      doubled, RFC 5321 section 4.5.2) and
#                                      the final ".\r\n"
#   rawsend.py PORT FROM TO WIRE       send WIRE to 127.0.0.1:PORT
#
# The sender is as trivial as a client can be: EHLO, then MAIL, RCPT and
# DATA in one write (PIPELINING), each reply checked for its code, then the
# prepared bytes with sendfile(2) (the kernel copies them from the page
# cache to the socket: no user-space work at all), the reply to the dot,
# QUIT. The same session bytes a client sends, with nothing computed: its
# wall time is what the transport and the server allow.
import os
import socket
import sys


def reply(f, want):
    while True:
        line = f.readline()
        if len(line) < 4 or not line.startswith(want):
            sys.exit("rawsend: expected %s, got %r" % (want.decode(), line))
        if line[3:4] == b" ":
            return


def wire(src, dst):
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        for line in fin:
            line = line.rstrip(b"\r\n")
            if line.startswith(b"."):
                line = b"." + line
            fout.write(line + b"\r\n")
        fout.write(b".\r\n")


def send(port, sender, rcpt, path):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb")
    reply(f, b"220")
    s.sendall(b"EHLO client.test\r\n")
    reply(f, b"250")
    s.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
              % (sender.encode(), rcpt.encode()))
    reply(f, b"250")
    reply(f, b"250")
    reply(f, b"354")
    with open(path, "rb") as body:
        size = os.fstat(body.fileno()).st_size
        sent = 0
        while sent < size:
            n = os.sendfile(s.fileno(), body.fileno(), sent, size - sent)
            if n == 0:
                sys.exit("rawsend: the connection closed during the body")
            sent += n
    reply(f, b"250")
    s.sendall(b"QUIT\r\n")
    reply(f, b"221")
    s.close()


def main(argv):
    if len(argv) == 4 and argv[1] == "--wire":
        wire(argv[2], argv[3])
    elif len(argv) == 5:
        send(*argv[1:])
    else:
        sys.exit("usage: rawsend.py --wire MESSAGE WIRE | PORT FROM TO WIRE")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
