#!/usr/bin/env python3
# bench/lib/sink.py - a discarding ESMTP server for the benchmark suite.
# Python 3 standard library only.
#
# Postfix's smtp-sink is the plain sink; it offers neither STARTTLS nor
# implicit TLS, nor CHUNKING (RFC 3030). This one does, and answers at once
# (no scripted delays: the figures measure the client). It accepts every
# envelope, reads and discards the message, and serves connections in
# parallel threads, one TLS context for all of them so that TLS 1.3 tickets
# issued on one connection resume on the next (RFC 8446 section 2.2).
#
#   sink.py --listen ADDR:PORT --port-file FILE [--tls none|starttls|implicit]
#           [--cert PEM --key PEM] [--auth USER --password-file FILE]
#           [--chunking] [--stats FILE] [--hostname NAME]
#
# --listen takes a loopback address only (127.0.0.0/8); port 0 picks a free
# one, written to --port-file once the socket listens.
# --auth: AUTH PLAIN and LOGIN (RFC 4954) are offered, inside TLS only when
# TLS is on, and MAIL is refused (530) before a successful AUTH. The
# password is read from a file (mode 0600 by the caller), never argv.
# --chunking: CHUNKING and BINARYMIME are offered and BDAT is served.
# --stats: one JSON line per connection, appended when it ends:
#   tls            TLS version or null
#   resumed        whether the TLS session was resumed
#   wire_in        bytes received from the client after the handshake
#                  (TLS records: headers, tags, padding, and the payload)
#   plain_in       the plaintext those bytes carried (SMTP commands and data)
#   body           bytes of message content (DATA without the final dot,
#                  or the sum of BDAT chunk sizes)
#   messages       messages accepted
# so that (wire_in - plain_in) / plain_in is the TLS record overhead of the
# client's writes after the handshake (a full 16 KiB TLS 1.3 record costs
# 22 bytes: 0.13 %).
#
# Replies are buffered while further complete commands are already waiting
# (PIPELINING, RFC 2920 section 3.2) and flushed before the server would
# block on input, as Postfix does.
import argparse
import base64
import ipaddress
import json
import os
import socket
import socketserver
import ssl
import sys
import threading

LINE_MAX = 4096          # longest command line accepted (RFC 5321 4.5.3.1.4
                         # allows 512; generous for AUTH initial responses)
RECV_SIZE = 256 * 1024   # one socket read


class Closed(Exception):
    """The client went away."""


class PlainIO:
    def __init__(self, sock):
        self.sock = sock
        self.wire_in = 0
        self.plain_in = 0

    def recv(self):
        data = self.sock.recv(RECV_SIZE)
        self.wire_in += len(data)
        self.plain_in += len(data)
        return data

    def send(self, data):
        self.sock.sendall(data)


class TLSIO:
    """TLS through memory BIOs, so that the raw bytes can be counted."""

    def __init__(self, sock, context):
        self.sock = sock
        self.bio_in = ssl.MemoryBIO()
        self.bio_out = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.bio_in, self.bio_out,
                                    server_side=True)
        self.raw = 0
        self.wire_in = 0
        self.plain_in = 0
        self.eof = False

    def _flush(self):
        data = self.bio_out.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(RECV_SIZE)
        if not data:
            self.eof = True
            self.bio_in.write_eof()
            return
        self.raw += len(data)
        self.bio_in.write(data)

    def handshake(self):
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if self.eof:
                    raise Closed()
                self._fill()
        self._flush()
        # Whatever the client sent after its Finished is already counted
        # in raw and still waits in the BIO: it belongs to wire_in.
        self.wire_from = self.raw - self.bio_in.pending

    def recv(self):
        while True:
            try:
                data = self.tls.read(RECV_SIZE)
                self.plain_in += len(data)
                self.wire_in = self.raw - self.bio_in.pending - self.wire_from
                return data
            except ssl.SSLWantReadError:
                self._flush()
                if self.eof:
                    return b""
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def send(self, data):
        self.tls.write(data)
        self._flush()


class Session:
    def __init__(self, sock, opts, context):
        self.opts = opts
        self.context = context
        self.io = PlainIO(sock)
        self.sock = sock
        self.buf = b""
        self.out = []
        self.authed = opts.auth is None
        self.in_mail = False
        self.rcpts = 0
        self.body = 0
        self.messages = 0
        self.tls_version = None
        self.resumed = False
        self.bdat_failed = False

    # -- input -------------------------------------------------------------
    def fill(self):
        self.flush()
        data = self.io.recv()
        if not data:
            raise Closed()
        self.buf += data

    def readline(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                return line.rstrip(b"\r\n")
            if len(self.buf) > LINE_MAX:
                raise Closed()
            self.fill()

    def skip(self, n):
        """Read and discard exactly n bytes (a BDAT chunk)."""
        while n > 0:
            if not self.buf:
                self.fill()
            take = min(n, len(self.buf))
            self.buf = self.buf[take:]
            n -= take

    def read_data(self):
        """Discard DATA content up to CRLF.CRLF; return its size."""
        size = 0
        prev = b"\r\n"  # the DATA line's own end
        while True:
            hay = prev + self.buf
            i = hay.find(b"\r\n.\r\n")
            if i >= 0:
                used = i + 5 - len(prev)
                size += max(0, i + 2 - len(prev))
                self.buf = self.buf[used:]
                return size
            size += len(self.buf)
            prev = hay[-4:]
            self.buf = b""
            self.fill()

    # -- output ------------------------------------------------------------
    def reply(self, text):
        self.out.append(text.encode() + b"\r\n")
        if b"\n" not in self.buf:
            self.flush()

    def flush(self):
        if self.out:
            data = b"".join(self.out)
            self.out = []
            self.io.send(data)

    # -- commands ----------------------------------------------------------
    def caps(self):
        lines = [self.opts.hostname, "PIPELINING", "SIZE 0", "8BITMIME",
                 "ENHANCEDSTATUSCODES", "SMTPUTF8"]
        if self.opts.tls == "starttls" and self.tls_version is None:
            lines.append("STARTTLS")
        if self.opts.auth and (self.opts.tls == "none" or self.tls_version):
            lines.append("AUTH PLAIN LOGIN")
        if self.opts.chunking:
            lines += ["CHUNKING", "BINARYMIME"]
        return "\r\n".join(("250-" if i < len(lines) - 1 else "250 ") + l
                           for i, l in enumerate(lines))

    def start_tls(self):
        self.flush()
        io = TLSIO(self.sock, self.context)
        if self.buf:  # RFC 3207 section 4.2: nothing may follow STARTTLS
            raise Closed()
        io.handshake()
        self.io = io
        self.tls_version = io.tls.version()
        self.resumed = io.tls.session_reused
        self.authed = self.opts.auth is None
        self.in_mail = False

    def check_auth(self, user, password):
        return user == self.opts.auth and password == self.opts.password

    def auth(self, args):
        if self.opts.auth is None or self.authed or \
                (self.opts.tls != "none" and not self.tls_version):
            return self.reply("503 5.5.1 AUTH not available")
        mech = args[0].upper() if args else ""
        try:
            if mech == "PLAIN":
                resp = args[1] if len(args) > 1 else None
                if resp is None:
                    self.reply("334 ")
                    resp = self.readline().decode()
                if resp == "*":
                    return self.reply("501 5.7.0 cancelled")
                parts = base64.b64decode(resp, validate=True).split(b"\0")
                ok = len(parts) == 3 and self.check_auth(parts[1].decode(),
                                                         parts[2].decode())
            elif mech == "LOGIN":
                self.reply("334 VXNlcm5hbWU6")
                user = base64.b64decode(self.readline(), validate=True)
                self.reply("334 UGFzc3dvcmQ6")
                pw = base64.b64decode(self.readline(), validate=True)
                ok = self.check_auth(user.decode(), pw.decode())
            else:
                return self.reply("504 5.5.4 mechanism not offered")
        except (ValueError, UnicodeDecodeError):
            return self.reply("501 5.5.2 bad base64")
        if not ok:
            return self.reply("535 5.7.8 authentication failed")
        self.authed = True
        self.reply("235 2.7.0 authenticated")

    def bdat(self, args):
        try:
            size = int(args[0])
            last = len(args) > 1 and args[1].upper() == "LAST"
        except (IndexError, ValueError):
            return self.reply("501 5.5.4 BDAT size [LAST]")
        self.skip(size)
        if not self.opts.chunking or not self.in_mail or not self.rcpts:
            self.bdat_failed = True
        if self.bdat_failed:
            if last:
                self.bdat_failed = False
                self.in_mail = False
            return self.reply("503 5.5.1 BDAT without a transaction")
        self.body += size
        if last:
            self.messages += 1
            self.in_mail = False
            return self.reply("250 2.0.0 %d octets discarded" % size)
        self.reply("250 2.0.0 %d octets received" % size)

    def serve(self):
        if self.opts.tls == "implicit":
            self.start_tls()
        self.reply("220 %s ESMTP bench sink" % self.opts.hostname)
        while True:
            line = self.readline().decode("utf-8", "replace")
            verb, _, rest = line.partition(" ")
            verb = verb.upper()
            args = rest.split()
            if verb in ("EHLO", "HELO"):
                self.in_mail = False
                self.reply(self.caps() if verb == "EHLO" else
                           "250 " + self.opts.hostname)
            elif verb == "STARTTLS" and self.opts.tls == "starttls" \
                    and not self.tls_version:
                self.reply("220 2.0.0 go ahead")
                self.start_tls()
            elif verb == "AUTH":
                self.auth(args)
            elif verb == "MAIL":
                if not self.authed:
                    self.reply("530 5.7.0 authentication required")
                else:
                    self.in_mail, self.rcpts = True, 0
                    self.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                if not self.in_mail:
                    self.reply("503 5.5.1 MAIL first")
                else:
                    self.rcpts += 1
                    self.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not self.in_mail or not self.rcpts:
                    self.reply("503 5.5.1 no recipients")
                    continue
                self.reply("354 end with <CRLF>.<CRLF>")
                self.body += self.read_data()
                self.messages += 1
                self.in_mail = False
                self.reply("250 2.0.0 discarded")
            elif verb == "BDAT":
                self.bdat(args)
            elif verb in ("RSET", "NOOP"):
                if verb == "RSET":
                    self.in_mail = False
                self.reply("250 2.0.0 ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 bye")
                self.flush()
                return
            else:
                self.reply("502 5.5.2 command not recognised")

    def stats(self):
        return {"tls": self.tls_version, "resumed": self.resumed,
                "wire_in": self.io.wire_in, "plain_in": self.io.plain_in,
                "body": self.body, "messages": self.messages}


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


def make_handler(opts, context, lock):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(self.request, opts, context)
            try:
                session.serve()
            except (Closed, OSError, ssl.SSLError):
                pass
            if opts.stats:
                with lock, open(opts.stats, "a") as f:
                    f.write(json.dumps(session.stats()) + "\n")
    return Handler


def main():
    p = argparse.ArgumentParser(description="a discarding ESMTP sink")
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--port-file", required=True)
    p.add_argument("--tls", choices=("none", "starttls", "implicit"),
                   default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", metavar="USER")
    p.add_argument("--password-file")
    p.add_argument("--chunking", action="store_true")
    p.add_argument("--stats")
    p.add_argument("--hostname", default="sink.test")
    opts = p.parse_args()
    host, _, port = opts.listen.rpartition(":")
    if not ipaddress.ip_address(host).is_loopback:
        p.error("--listen: a loopback address only")
    context = None
    if opts.tls != "none":
        if not (opts.cert and opts.key):
            p.error("--tls needs --cert and --key")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(opts.cert, opts.key)
    opts.password = None
    if opts.auth:
        if not opts.password_file:
            p.error("--auth needs --password-file")
        with open(opts.password_file) as f:
            opts.password = f.readline().rstrip("\n")
    server = Server((host, int(port)), make_handler(opts, context,
                                                    threading.Lock()))
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, opts.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
