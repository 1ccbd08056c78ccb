#!/usr/bin/env python3
# httpsd.py - a loopback HTTPS file server for mailpost's tests (issue
# #15: MTA-STS policies, autoconfig documents).  Python 3 standard
# library only.
#
# It serves HTTPS on 127.0.0.1 (or --listen ADDR) port 0 (or --port N)
# with a certificate of the test CA (tests/lib/mkcerts.sh: names.pem
# carries the test zones' names), writes the port it got to --port-file,
# and answers GET and HEAD of https://HOST/PATH from ROOT/HOST/PATH, HOST
# being the Host header's name (lower case, any ":port" dropped), so that
# one server plays every host of the test zones the client was pointed at
# (the client connects to 127.0.0.1 and names the host in SNI and Host).
# It exits on SIGTERM or after --idle-timeout seconds without a request.
#
# What a request gets, for the file F = ROOT/HOST/PATH:
#   - F.answer exists: its first line says, as WORD [ARG]:
#       status N        status N, with F's bytes as the body when F exists
#       redirect URL    302 with Location URL
#       type T          200, F's bytes, Content-Type T (the rest of the
#                       line; "none": no Content-Type at all)
#       hang            read the request, answer nothing; the connection
#                       stays open until the client gives up (or 60 s)
#       close           read the request, close without an answer
#       big N           200 with a body of N bytes ('x'), Content-Length N
#       endless         200 without Content-Length, 'x' sent until the
#                       client stops reading
#     (the file is read at each request: a test changes an answer by
#     writing it, between two runs of the client);
#   - else F exists (a file): 200, its bytes, Content-Type text/plain;
#   - else 404.
# Anything but GET and HEAD: 405.
#
# The log (--log FILE; default: the file "log" beside ROOT): one JSON line per
# request: n, time, method, host (from the Host header), sni (the TLS
# server name the client sent, or null), path, query, headers (host,
# user-agent, accept), status (null for hang and close).  A failed
# handshake appends "failed: REASON" to the log's directory's file
# "handshakes" (refusing the certificate may be the test).
#
# Usage:
#   httpsd.py --root DIR --cert PEM --key KEY --port-file FILE
#             [--log FILE] [--listen ADDR] [--port N] [--idle-timeout S]
import argparse
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import http.server
import urllib.parse

HANG_MAX = 60          # seconds a "hang" answer keeps a connection
ENDLESS_MAX = 64 << 20  # bytes an "endless" answer sends at most


class State:
    def __init__(self, args):
        self.root = os.path.abspath(args.root)
        self.log_path = args.log or os.path.join(
            os.path.dirname(self.root), "log")
        self.lock = threading.Lock()
        self.count = 0
        self.last_request = time.monotonic()

    def log(self, entry):
        with open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def handshake_failed(self, why):
        name = os.path.join(os.path.dirname(self.log_path), "handshakes")
        with self.lock, open(name, "a") as f:
            f.write("failed: %s\n" % why)


def safe_path(root, host, path):
    """ROOT/HOST/PATH, or None when a part would leave ROOT."""
    parts = [host] + [p for p in path.split("/") if p]
    if not host or any(p in (".", "..") or "\0" in p for p in parts):
        return None
    return os.path.join(root, *parts)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "httpsd/1"
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, fmt, *args):
        pass                    # the JSON log is the record

    def do_GET(self):
        self.serve(True)

    def do_HEAD(self):
        self.serve(False)

    def do_POST(self):
        self.refuse()

    def do_PUT(self):
        self.refuse()

    def refuse(self):
        self.record(405)
        self.reply(405, b"method not allowed\n", True)

    def entry(self):
        url = urllib.parse.urlsplit(self.path)
        host = (self.headers.get("Host") or "").lower()
        if host.startswith("["):
            host = host[:host.find("]") + 1]
        else:
            host = host.split(":", 1)[0]
        return {"time": time.time(), "method": self.command, "host": host,
                "sni": getattr(self.connection, "sni", None),
                "path": url.path, "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()
                            if k.lower() in ("host", "user-agent",
                                             "accept")}}

    def record(self, status, entry=None):
        s = self.server.state
        entry = entry or self.entry()
        with s.lock:
            s.count += 1
            s.last_request = time.monotonic()
            entry["n"] = s.count
            entry["status"] = status
            s.log(entry)

    def reply(self, status, body, with_body, ctype="text/plain",
              headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def serve(self, with_body):
        entry = self.entry()
        f = safe_path(self.server.state.root, entry["host"], entry["path"])
        answer = None
        if f and os.path.isfile(f + ".answer"):
            with open(f + ".answer") as a:
                answer = (a.readline().split() or ["status", "200"])
        body = None
        if f and os.path.isfile(f):
            with open(f, "rb") as b:
                body = b.read()
        if answer is None:
            status = 200 if body is not None else 404
            self.record(status, entry)
            self.reply(status, body if body is not None else b"not found\n",
                       with_body)
            return
        word, arg = answer[0], (answer[1] if len(answer) > 1 else "")
        if word == "status":
            self.record(int(arg), entry)
            self.reply(int(arg), body or b"", with_body)
        elif word == "type":
            self.record(200, entry)
            ctype = " ".join(answer[1:])
            self.reply(200, body or b"", with_body,
                       ctype=None if ctype == "none" else ctype)
        elif word == "redirect":
            self.record(302, entry)
            self.reply(302, b"", with_body, headers=[("Location", arg)])
        elif word == "hang":
            self.record(None, entry)
            self.close_connection = True
            deadline = time.monotonic() + HANG_MAX
            self.connection.settimeout(1)
            while time.monotonic() < deadline:
                try:
                    if not self.connection.recv(1):
                        break
                except TimeoutError:
                    continue
                except (OSError, ssl.SSLError):
                    break
        elif word == "close":
            self.record(None, entry)
            self.close_connection = True
        elif word == "big":
            self.record(200, entry)
            self.reply(200, b"x" * int(arg), with_body)
        elif word == "endless":
            self.record(200, entry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            sent = 0
            try:
                while with_body and sent < ENDLESS_MAX:
                    self.wfile.write(b"x" * 65536)
                    sent += 65536
            except (OSError, ssl.SSLError):
                pass
        else:
            print("httpsd.py: %s.answer: unknown answer %r" % (f, word),
                  file=sys.stderr)
            self.record(500, entry)
            self.reply(500, b"bad answer file\n", with_body)


class HTTPSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, state, ctx, address):
        self.state = state
        self.ctx = ctx
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        # The handshake in the request's thread: a client that connects
        # and says nothing holds up no one.
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.state.handshake_failed(e)
            return
        self.RequestHandlerClass(tls, client_address, self)


def remember_sni(sock, name, ctx):
    sock.sni = name


def main():
    p = argparse.ArgumentParser(description="loopback HTTPS file server")
    p.add_argument("--root", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--log")
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--idle-timeout", type=float, default=300)
    args = p.parse_args()
    state = State(args)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.sni_callback = remember_sni
    httpd = HTTPSServer(state, ctx, (args.listen, args.port))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.rename(tmp, args.port_file)
    httpd.timeout = 0.5
    while time.monotonic() - state.last_request < args.idle_timeout:
        httpd.handle_request()
    os._exit(0)


if __name__ == "__main__":
    main()
