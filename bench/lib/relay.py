#!/usr/bin/env python3
# bench/lib/relay.py - a userspace delay relay that counts a client's waits.
# Python 3 standard library only.
#
# This kernel has no sch_netem, so latency is made in user space: the relay
# accepts the client's TCP connection in one network namespace and opens its
# own to the server in another (--netns; without it, in the same one), and
# holds every chunk it reads for RTT/2 before writing it on, in each
# direction. What it models:
#   - the connection: the relay connects to the server RTT/2 after it
#     accepted the client (the SYN's trip), so the greeting reaches the
#     client one RTT after connect(), as on a real link;
#   - data: each recv() on one side becomes one send() on the other, RTT/2
#     later, in order (one queue per direction, written by one thread).
#     TCP_NODELAY on all four sockets keeps the writes as the client and
#     server made them, "segment boundaries as far as it can": chunks that
#     arrive together in one recv() stay together;
#   - end of stream: a half-close (shutdown SHUT_WR) is passed on RTT/2
#     later, like data.
# What it does not model: the ACK clock. The client's kernel talks to the
# relay's kernel over loopback, so ACKs come back at once, and Nagle or
# delayed-ACK stalls that would cost a round trip on a real link cost little
# here. The wait count below does not depend on them.
#
# THE WAIT COUNT. First the connection: on a real link connect() blocks
# for one RTT (SYN, SYN-ACK) before the client can send anything. The
# client's kernel completes that handshake with the relay's on loopback, so
# the relay can neither delay nor see it; it counts it as one wait, and the
# rest of the connection runs one RTT early, which changes no other wait.
# Then the data: events are taken at the relay: A = data (or end of stream)
# arriving from the client, D = data (or end of stream) delivered to the
# client. A client event A is a wait when
#   (1) at least one D came after the client's previous event (or after the
#       accept, for the first), and
#   (2) the client was silent for at least RTT/2 before A.
# Why this counts waits and not receives: the client cannot act on a server
# reply sooner than one RTT after it sent what the server replies to, so a
# client that had to wait shows a silence of about one RTT ended by its
# first event after a delivery (1 and 2 hold). A client that keeps writing
# while server data arrives (a TLS 1.3 NewSessionTicket during the body, or
# GnuTLS's compatibility ChangeCipherSpec written before it has read the
# rest of the server's flight, followed by its Finished and EHLO an instant
# later) shows no such silence: one wait, not two. A client that stalls on
# its own (Nagle, a slow local step) without new server data is not waiting
# for the server (1 fails). The end of stream the client sends after
# reading 221 counts: it waited for that reply. So a plain send that puts
# QUIT in the same write as the final dot waits 5 times: connect, greeting,
# EHLO, MAIL/RCPT/DATA, the dot's and QUIT's replies. The connection's wall
# time in RTTs (plus the connect's one) is written too, as a cross-check:
# it also counts local stalls.
#
#   relay.py --listen ADDR:PORT --port-file FILE --connect ADDR:PORT
#            --rtt MS [--netns NAME] [--log FILE]
#   relay.py --self-test        check the delay and the count (no netns)
#
# --listen and --connect take loopback addresses only (127.0.0.0/8): inside
# the namespaces each has its own loopback. --netns NAME: the upstream
# sockets are made in /run/netns/NAME (needs CAP_SYS_ADMIN); the listening
# socket is made first, in the namespace the relay was started in.
# --log: one JSON line per connection, appended when both directions have
# ended: waits, wall_ms and wall_rtts (with the connect's RTT), rtt_ms, c2s
# and s2c ([bytes, chunks]).
import argparse
import ctypes
import ipaddress
import json
import os
import queue
import socket
import sys
import threading
import time

RECV_SIZE = 256 * 1024
CLONE_NEWNET = 0x40000000


def enter_netns(name):
    """Make this thread's (and its future threads') sockets in NAME."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns %s: %s" % (name, os.strerror(err)))
    finally:
        os.close(fd)


def count_waits(events, start, half):
    """events: (time, 'A'|'D'), sorted. See the header."""
    waits, last_a, delivered = 0, start, False
    for t, kind in events:
        if kind == "D":
            delivered = True
            continue
        if delivered and t - last_a >= half:
            waits += 1
        delivered = False
        last_a = t
    return waits


class Link:
    """One relayed connection."""

    def __init__(self, client, upstream_addr, half, log, log_lock):
        self.client = client
        self.upstream_addr = upstream_addr
        self.half = half
        self.log = log
        self.log_lock = log_lock
        self.start = time.monotonic()
        self.events = []
        self.lock = threading.Lock()
        self.bytes = {"c2s": 0, "s2c": 0}
        self.chunks = {"c2s": 0, "s2c": 0}
        self.server = None
        self.connected = threading.Event()

    def event(self, kind, t=None):
        with self.lock:
            self.events.append((time.monotonic() if t is None else t, kind))

    def run(self):
        c2s, s2c = queue.Queue(), queue.Queue()
        threads = [
            threading.Thread(target=self.read, args=(self.client, c2s, "c2s")),
            threading.Thread(target=self.write, args=(c2s, "c2s")),
            threading.Thread(target=self.write, args=(s2c, "s2c")),
        ]
        for th in threads:
            th.start()
        # The SYN's trip, then the connection to the server.
        time.sleep(self.half)
        try:
            self.server = socket.create_connection(self.upstream_addr, 10)
            self.server.settimeout(None)
            self.server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            print("relay: connect %s: %s" % (self.upstream_addr, e),
                  file=sys.stderr)
            self.server = None
        self.connected.set()
        if self.server is not None:
            self.read(self.server, s2c, "s2c")
        else:
            s2c.put((time.monotonic(), None))
        for th in threads:
            th.join()
        for s in (self.client, self.server):
            if s is not None:
                s.close()
        self.report()

    def read(self, sock, q, way):
        while True:
            try:
                data = sock.recv(RECV_SIZE)
            except OSError:
                data = b""
            now = time.monotonic()
            if way == "c2s":
                self.event("A", now)
            q.put((now + self.half, data or None))
            if not data:
                return
            self.bytes[way] += len(data)
            self.chunks[way] += 1

    def write(self, q, way):
        dead = False
        while True:
            due, data = q.get()
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if way == "c2s":
                self.connected.wait()
                sock = self.server
            else:
                sock = self.client
            if sock is None or dead:
                if data is None:
                    return
                continue
            # The delivery time is taken before the write: the client may
            # read and answer before sendall() returns here.
            if way == "s2c":
                self.event("D")
            try:
                if data is None:
                    sock.shutdown(socket.SHUT_WR)
                else:
                    sock.sendall(data)
            except OSError:
                dead = True
            if data is None:
                return

    def report(self):
        self.events.sort()
        # One for the connect (see the header), then the data's.
        waits = 1 + count_waits(self.events, self.start, self.half)
        end = self.events[-1][0] if self.events else self.start
        wall = end - self.start + 2 * self.half
        rec = {"waits": waits, "wall_ms": round(wall * 1000, 1),
               "rtt_ms": round(self.half * 2000, 1),
               "wall_rtts": round(wall / (2 * self.half), 2),
               "c2s": [self.bytes["c2s"], self.chunks["c2s"]],
               "s2c": [self.bytes["s2c"], self.chunks["s2c"]]}
        if self.log:
            with self.log_lock, open(self.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        self.result = rec


def loopback(spec, what):
    host, _, port = spec.rpartition(":")
    if not ipaddress.ip_address(host).is_loopback:
        sys.exit("relay: %s: a loopback address only" % what)
    return host, int(port)


def listener(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(64)
    return s


def serve(lsock, upstream, half, log, once=False):
    log_lock = threading.Lock()
    while True:
        client, _ = lsock.accept()
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = Link(client, upstream, half, log, log_lock)
        if once:
            link.run()
            return link.result
        threading.Thread(target=link.run, daemon=True).start()


# -- self-test ----------------------------------------------------------------
def self_test():
    """A line server behind the relay; a client with a known number of waits.

    The client: connects (wait 1), reads the greeting (wait 2), sends "a",
    reads its reply (wait 3), sends "b" and "c" as two writes without
    waiting, reads both replies (wait 4), and closes. The server also pushes an unsolicited
    line right after answering "a", which the client does not wait for.
    Expected: 4 waits, every reply at least one RTT after its request, the
    order kept, and the count function right on hand-made timelines."""
    rtt = 0.04
    half = rtt / 2
    srv = listener(("127.0.0.1", 0))

    def line_server():
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.sendall(b"220 hello\n")
        f = conn.makefile("rb")
        for line in f:
            conn.sendall(b"250 " + line)
            if line == b"a\n":
                conn.sendall(b"NOTE pushed\n")
        conn.close()

    threading.Thread(target=line_server, daemon=True).start()
    rl = listener(("127.0.0.1", 0))
    result = {}

    def relay():
        result.update(serve(rl, srv.getsockname(), half, None, once=True))

    rt = threading.Thread(target=relay)
    rt.start()
    t0 = time.monotonic()
    c = socket.create_connection(rl.getsockname())
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = c.makefile("rb")
    got = [f.readline()]
    t_greet = time.monotonic() - t0
    t1 = time.monotonic()
    c.sendall(b"a\n")
    got.append(f.readline())
    t_a = time.monotonic() - t1
    got.append(f.readline())
    c.sendall(b"b\n")
    c.sendall(b"c\n")
    got += [f.readline(), f.readline()]
    c.shutdown(socket.SHUT_WR)
    got.append(f.read())
    c.close()
    rt.join()
    fails = []
    want = [b"220 hello\n", b"250 a\n", b"NOTE pushed\n", b"250 b\n",
            b"250 c\n", b""]
    if got != want:
        fails.append("order: got %r" % got)
    if t_greet < rtt or t_a < rtt:
        fails.append("delay: greeting %.3f s, reply %.3f s, RTT %.3f s"
                     % (t_greet, t_a, rtt))
    if result.get("waits") != 4:
        fails.append("waits: %r, want 4" % result.get("waits"))
    # Hand-made timelines (RTT 1, half 0.5): a compatibility CCS then
    # Finished right after the server flight is one wait; a push during
    # the client's writing is none; a local stall without server data none.
    cases = [
        ([(1.0, "D"), (1.01, "A"), (1.02, "A")], 1),
        ([(1.0, "D"), (1.01, "A"), (1.2, "D"), (1.3, "A")], 1),
        ([(1.0, "D"), (1.01, "A"), (1.9, "A")], 1),
        ([(1.0, "D"), (1.01, "A"), (2.0, "D"), (2.02, "A"), (3.0, "D"),
          (3.03, "A")], 3),
    ]
    for events, want_n in cases:
        n = count_waits(events, 0.0, 0.5)
        if n != want_n:
            fails.append("count_waits(%r) = %d, want %d" % (events, n, want_n))
    for msg in fails:
        print("relay self-test: " + msg, file=sys.stderr)
    if not fails:
        print("relay self-test: ok (4 waits, delays >= RTT, order kept)")
    return 1 if fails else 0


def main():
    p = argparse.ArgumentParser(description="a delay relay counting waits")
    p.add_argument("--listen")
    p.add_argument("--port-file")
    p.add_argument("--connect")
    p.add_argument("--rtt", type=float, help="milliseconds")
    p.add_argument("--netns")
    p.add_argument("--log")
    p.add_argument("--self-test", action="store_true")
    opts = p.parse_args()
    if opts.self_test:
        return self_test()
    if not (opts.listen and opts.connect and opts.rtt and opts.port_file):
        p.error("--listen, --port-file, --connect and --rtt are required")
    lsock = listener(loopback(opts.listen, "--listen"))
    upstream = loopback(opts.connect, "--connect")
    if opts.netns:
        enter_netns(opts.netns)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % lsock.getsockname()[1])
    os.rename(tmp, opts.port_file)
    try:
        serve(lsock, upstream, opts.rtt / 2000.0, opts.log)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
