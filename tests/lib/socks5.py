#!/usr/bin/env python3
# socks5.py - a scripted SOCKS5 proxy (RFC 1928, CONNECT only) for
# mailpost's tests.  Python 3 standard library only.
#
# It listens on 127.0.0.1 port 0 (never a fixed port), writes the port it
# got to DIR/port, and serves connections one after another.  Whatever
# host a client asks for, a successful CONNECT is relayed to the scripted
# SMTP server on 127.0.0.1 --target-port: no name is ever resolved and no
# other address is ever contacted.  It exits after --max-connections
# connections, after --idle-timeout seconds without one, or on SIGTERM.
#
# Usage:
#   socks5.py --dir DIR --target-port PORT [--answer SPEC]...
#             [--max-connections N] [--idle-timeout SECONDS]
#
# What it records, one line per connection:
#   DIR/requests   "methods=00 atyp=3 host=smtp.example.org port=25" (the
#                  methods offered in hex; the CONNECT's address type, host
#                  as sent (an address literal in its usual text form) and
#                  port), or "methods=00" alone when no request came
#   DIR/problems   a client mistake (a version that is not 5, no "no
#                  authentication" method offered, a command that is not
#                  CONNECT, a reserved octet that is not 0)
#   DIR/log        what happened
#
# --answer SPEC, once per connection in order (the last one is repeated for
# further connections; default "ok"):
#   ok               method 0, then success (bound 127.0.0.1:PORT), relay
#   rep:N            method 0, then reply code N (a complete reply) and close
#   no-method        answer the greeting with method 0xFF and close
#   method:N         answer the greeting with method N (not offered)
#   version:N        answer the greeting with version N
#   reply-version:N  answer the request with version N
#   rsv:N            a success reply whose reserved octet is N
#   atyp:N           a success reply whose address type is N
#   empty-name       a success reply with an empty bound host name
#   bound-name       a success reply with a bound host name, then relay
#   bound-ipv6       a success reply with a bound IPv6 address, then relay
#   joined           connect to the server first and wait for its greeting,
#                    then send the success reply (a bound host name) and the
#                    greeting in one write, as a proxy may: a client that
#                    reads past the reply loses the greeting
#   dribble          the method and the success reply (a bound host name)
#                    one octet per write, 10 ms apart, then relay
#   truncated        the first 6 octets of a success reply, then close
#   close-greeting   read the greeting, close without answering
#   close-request    answer the greeting, read the request, close
#   silent           answer the greeting, read the request, say nothing
#                    until the client goes away
import argparse
import ipaddress
import os
import select
import signal
import socket
import struct
import sys
import time

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


class Closed(Exception):
    pass


class Proxy:
    def __init__(self, d, target_port, answers):
        self.dir = d
        self.target_port = target_port
        self.answers = answers or ["ok"]

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, line):
        with open(self.path(name), "a") as f:
            f.write(line + "\n")

    def log(self, n, text):
        self.write("log", "%d: %s" % (n, text))

    def problem(self, n, text):
        self.write("problems", "connection %d: %s" % (n, text))

    def answer(self, n):
        return self.answers[min(n, len(self.answers)) - 1]

    @staticmethod
    def read(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise Closed()
            data += chunk
        return data

    def greeting(self, sock, n):
        ver, nmethods = self.read(sock, 2)
        methods = self.read(sock, nmethods)
        if ver != 5:
            self.problem(n, "greeting version %d" % ver)
        if 0 not in methods:
            self.problem(n, "no 'no authentication' method offered")
        return methods.hex()

    def request(self, sock, n):
        ver, cmd, rsv, atyp = self.read(sock, 4)
        if ver != 5 or cmd != 1 or rsv != 0:
            self.problem(n, "request version %d command %d reserved %d"
                         % (ver, cmd, rsv))
        if atyp == 1:
            host = str(ipaddress.IPv4Address(self.read(sock, 4)))
        elif atyp == 4:
            host = str(ipaddress.IPv6Address(self.read(sock, 16)))
        elif atyp == 3:
            host = self.read(sock, self.read(sock, 1)[0]).decode(
                "ascii", "backslashreplace")
        else:
            self.problem(n, "address type %d" % atyp)
            raise Closed()
        port = struct.unpack("!H", self.read(sock, 2))[0]
        return "atyp=%d host=%s port=%d" % (atyp, host, port)

    @staticmethod
    def reply(rep=0, ver=5, rsv=0, atyp=1, bound=b"\x7f\x00\x00\x01"):
        return bytes([ver, rep, rsv, atyp]) + bound + b"\x00\x19"

    def handshake(self, sock, n, spec):
        """Runs the SOCKS part; returns True when the relay should run."""
        kind, _, arg = spec.partition(":")
        methods = self.greeting(sock, n)
        record = "methods=" + methods
        if kind == "close-greeting":
            self.write("requests", record)
            return False
        if kind == "no-method":
            sock.sendall(b"\x05\xff")
            self.write("requests", record)
            return False
        if kind in ("method", "version"):
            sock.sendall(bytes([5, int(arg)]) if kind == "method"
                         else bytes([int(arg), 0]))
            self.write("requests", record)
            return False
        self.send(sock, b"\x05\x00", kind == "dribble")
        try:
            record += " " + self.request(sock, n)
        finally:
            self.write("requests", record)
        replies = {
            "rep": lambda: self.reply(rep=int(arg)),
            "reply-version": lambda: self.reply(ver=int(arg)),
            "rsv": lambda: self.reply(rsv=int(arg)),
            "atyp": lambda: self.reply(atyp=int(arg)),
            "empty-name": lambda: self.reply(atyp=3, bound=b"\x00"),
            "truncated": lambda: self.reply()[:6],
        }
        if kind in ("close-request",):
            return False
        if kind == "silent":
            while sock.recv(4096):
                pass
            return False
        if kind in replies:
            sock.sendall(replies[kind]())
            return False
        if kind == "bound-name":
            sock.sendall(self.reply(atyp=3, bound=b"\x0aproxy.test"))
        elif kind == "joined":
            return self.joined(sock, n)
        elif kind == "bound-ipv6":
            sock.sendall(self.reply(atyp=4, bound=bytes(15) + b"\x01"))
        elif kind == "dribble":
            self.send(sock, self.reply(atyp=3, bound=b"\x0aproxy.test"),
                      True)
        elif kind == "ok":
            sock.sendall(self.reply())
        else:
            sys.exit("socks5.py: unknown --answer %r" % spec)
        return True

    @staticmethod
    def send(sock, data, dribble):
        if not dribble:
            sock.sendall(data)
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
            time.sleep(0.01)

    def connect_server(self):
        return socket.create_connection(("127.0.0.1", self.target_port),
                                        timeout=10)

    def joined(self, sock, n):
        """The reply and the server's greeting in one write."""
        server = self.connect_server()
        greeting = server.recv(65536)
        sock.sendall(self.reply(atyp=3, bound=b"\x0aproxy.test") + greeting)
        self.log(n, "sent the reply and %d octets of the server in one "
                 "write" % len(greeting))
        self.relay(sock, n, server)
        return False

    def relay(self, client, n, server=None):
        if server is None:
            server = self.connect_server()
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.log(n, "relaying to 127.0.0.1 port %d" % self.target_port)
        socks = [client, server]
        peer = {client: server, server: client}
        while socks and not stopping:
            r, _, _ = select.select(socks, [], [], 0.1)
            for s in r:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if data:
                    peer[s].sendall(data)
                    continue
                # One side is done: pass the end on, stop reading it.
                socks.remove(s)
                try:
                    peer[s].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        server.close()

    def serve(self, n, sock):
        spec = self.answer(n)
        self.log(n, "connection, answer %s" % spec)
        sock.settimeout(10)
        try:
            if self.handshake(sock, n, spec):
                self.relay(sock, n)
        except (Closed, OSError) as e:
            self.log(n, "ended: %s" % (e.__class__.__name__,))
        sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--target-port", type=int, required=True)
    p.add_argument("--answer", action="append", default=[])
    p.add_argument("--max-connections", type=int, default=1)
    p.add_argument("--idle-timeout", type=float, default=30.0)
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    proxy = Proxy(args.dir, args.target_port, args.answer)
    for name in ("requests", "problems", "log"):
        open(proxy.path(name), "w").close()
    signal.signal(signal.SIGTERM, on_term)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    with open(proxy.path("port.tmp"), "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(proxy.path("port.tmp"), proxy.path("port"))
    n = 0
    idle_since = time.monotonic()
    while n < args.max_connections and not stopping:
        r, _, _ = select.select([listener], [], [], 0.1)
        if not r:
            if time.monotonic() - idle_since > args.idle_timeout:
                break
            continue
        sock, _ = listener.accept()
        n += 1
        proxy.serve(n, sock)
        idle_since = time.monotonic()
    listener.close()
    proxy.log(0, "exiting after %d connection(s)" % n)


if __name__ == "__main__":
    main()
