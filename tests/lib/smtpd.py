#!/usr/bin/env python3
# smtpd.py - a scripted, fault-injecting SMTP/LMTP server for mailpost's
# tests.  Python 3 standard library only.
#
# It listens on 127.0.0.1 port 0 (never a fixed port; --listen takes another
# loopback address, 127.0.0.0/8 only), writes the port it got to a file,
# serves connections one after
# another and exits after --max-connections of them, after --idle-timeout
# seconds without a connection, or on SIGTERM (after recording whatever the
# current client still sent).  Without a script it is a well-behaved ESMTP
# server that accepts everything.  It records every byte it receives and
# flags client mistakes in DIR/problems.
#
# Usage:
#   smtpd.py --dir DIR [--script FILE] [--port-file FILE]
#            [--max-connections N] [--idle-timeout SECONDS] [--listen ADDR]
#            [--port N]          (this port instead of one the kernel
#                                 picks: servers on 127.0.0.2, 127.0.0.3..
#                                 share one, as MX hosts do port 25)
#            [--unix PATH]       (listen on this local socket instead of
#                                 TCP; the port file then holds PATH)
#   smtpd.py --check-script FILE        parse a script, report errors
#   smtpd.py --escape < bytes           bytes -> one escaped line per line
#   smtpd.py --talk PORT STEP...        a tiny client for self-tests:
#            send:TEXT (escapes decoded, one write), reply (read and print
#            one reply line), eof (read until the server closes),
#            sleep:SECONDS, count (print how many recv() calls so far),
#            reconnect (close, and open the next connection: one client
#            process for several sessions),
#            tls[:CA[:CERT:KEY]] (handshake now, as "localhost", verified
#            against CA when given, presenting CERT; prints the version and
#            any bytes that came before it)
#
# THE SCRIPT (line-based; '#' at the start of a line is a comment)
#
#   hostname NAME            the name in default replies (smtpd.test)
#   caps KEYWORD, KEYWORD..  the EHLO/LHLO capability lines, comma-separated
#                            ("caps" alone: none).  Default:
#                            PIPELINING, SIZE 10240000, 8BITMIME,
#                            ENHANCEDSTATUSCODES, DSN
#   option require-pipelining
#                            after MAIL, answer nothing until DATA has been
#                            received too (wait at most `option wait`
#                            seconds, default 3; a problem is logged if it
#                            does not come): proves MAIL, RCPT.. DATA came
#                            as one group
#   option require-quit-with-dot
#                            after the final dot, wait (same limit) for QUIT
#                            before answering: proves QUIT left with the dot
#   option wait SECONDS      the limit for the two options above
#   option dribble SECONDS   send all output one byte at a time
#   connection N             the rules below apply only to connection N
#                            (1-based); rules before any `connection` line
#                            apply to all connections, and connection rules
#                            win over them
#   on EVENT[#N] [STEP]      what to do on EVENT (or only on its Nth
#     STEP                   occurrence in the connection); further steps on
#     ...                    the following indented lines.  A rule replaces
#                            the default reply; #N rules win over plain ones,
#                            and a later rule over an earlier one.
#
# BDAT (RFC 3030, when caps offers CHUNKING): the chunk's octets are read
# exactly as "BDAT n" says before the reply; the LAST chunk ends the
# transaction (msg.T holds the chunks joined, recorded when no chunk
# failed; msg.T.partial what came of a chunk the connection cut).  A chunk
# outside a transaction (no MAIL, no accepted RCPT) gets 503 or 554, and
# is flagged without PIPELINING (with it, BDAT may follow a refused RCPT
# in the same group); once
# a chunk got a negative reply (by default or a rule), every later chunk
# of the transaction gets 503 and is dropped (RFC 3030 2), and a client
# that sends one after that reply without PIPELINING is flagged, as are
# BDAT without CHUNKING offered, DATA and BDAT in one transaction,
# BODY=BINARYMIME without BINARYMIME offered or over DATA, and a NUL in
# a message without BODY=BINARYMIME.  option
# require-quit-with-dot holds the reply to a LAST chunk until QUIT came.
# In LMTP the LAST chunk gets one reply per accepted recipient, as the
# final dot does (events LMTP#N), unless a BDAT rule replaces them.
#
# EVENTS: CONNECT (the greeting), any command verb as the client sends it
# (EHLO, HELO, LHLO, MAIL, RCPT, DATA, RSET, QUIT, NOOP, BDAT, STARTTLS, AUTH
# or anything else, case-insensitive), DOT (the final "." of DATA),
# BODYLINE (each line of the body as it arrives; no default action),
# LMTP (after the final dot in LMTP mode, once per accepted recipient: the
# Nth is LMTP#N; used only when there is no DOT rule).
#
# STEPS:
#   reply TEXT    a reply: TEXT split on "\n", each line sent with CRLF
#   TEXT          (a step that is not a keyword) the same as "reply TEXT"
#   raw TEXT      exactly these bytes, escapes decoded, nothing added
#   default       the reply the server would give without a rule
#   sleep SECONDS wait (output before it is sent first)
#   flush         send what is queued now (otherwise output is queued and
#                 sent in one write when the server next waits for input)
#   dribble [S]   the rest of this event's output goes byte by byte, S
#                 seconds apart (default 0.002)
#   close         send what is queued, then close the connection
#   reset         close with an RST (SO_LINGER 0)
# Escapes in TEXT: \n (line break; a real LF in raw), \r, \t, \e (ESC),
# \xHH, \\.  Trailing spaces are kept.

# TLS (the ssl module; certificates from tests/lib/mkcerts.sh)
#
#   tls-cert CERT KEY        the server's certificate and key (PEM).  With
#                            it, STARTTLS is answered "220 2.0.0 Ready to
#                            start TLS" and the handshake follows (without
#                            it: 454).  STARTTLS is offered only when caps
#                            lists it.
#   tls-caps KEYWORD, ..     the capabilities inside TLS (after STARTTLS or
#                            with implicit TLS); default: caps without
#                            STARTTLS.  "tls-caps" alone: none.
#   tls-client-ca CA [optional]
#                            ask for a client certificate and verify it
#                            against CA; without "optional" a handshake
#                            without one fails
#   option end-of-data crlf|smuggling
#                            read DATA as a byte stream, not as lines, and
#                            end it at the first of these sequences (the
#                            start of the data counting as after a CRLF):
#                            crlf only <CR><LF>.<CR><LF>, as RFC 5321
#                            4.1.1.4 says; smuggling also at every one of
#                            SMUGGLING_ENDS (the longest where two start
#                            at one place), as a server open to SMTP
#                            smuggling would.  What follows is read as
#                            commands.  msg.T holds the bytes before the
#                            sequence as they came (not un-dot-stuffed);
#                            bare CR and LF in them are not flagged.
#   option implicit-tls      handshake at once on connect (RFC 8314)
#   option tls12             TLS 1.2 at most (tls-unique exists only there)
#
# A rule for STARTTLS replaces the reply; when its output starts with 220
# and there is a tls-cert, everything it queued goes out in one write and
# the handshake follows, so
#     on STARTTLS
#       reply 220 2.0.0 go ahead
#       raw 250 injected\r\n
# is a response-injection attempt.  After the handshake the server forgets
# the EHLO state and flags a command other than EHLO/HELO/LHLO/NOOP/RSET/
# QUIT before a new EHLO, a second STARTTLS, and bytes sent in clear after
# STARTTLS.
#
# AUTH (RFC 4954).  Offer mechanisms with a caps line ("AUTH PLAIN LOGIN").
# Implemented: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1, SCRAM-SHA-256 and their
# -PLUS forms (tls-unique only, so with option tls12; RFC 5802, 7677),
# XOAUTH2, OAUTHBEARER (RFC 7628) and EXTERNAL (the verified client
# certificate; its CN is the identity).
#
#   user NAME SECRET         an account (SECRET: the password, or the token
#                            for XOAUTH2/OAUTHBEARER; the rest of the line).
#                            For the bearer mechanisms this is the one token
#                            accepted: any other is refused with RFC 7628
#                            3.2.2's JSON error challenge (status
#                            invalid_token), the client's dummy response
#                            (\x01 for OAUTHBEARER, empty for XOAUTH2, as
#                            Google does; another one is flagged), then 535
#                            5.7.8.  Each token that arrives is recorded in
#                            DIR/bearer.  OAUTHBEARER without a= is checked
#                            against every user.
#   option auth-required     MAIL before a successful AUTH gets 530 5.7.0
#   option scram-iterations N, option scram-salt BASE64,
#   option scram-nonce TEXT  fixed SCRAM values (default 4096, random,
#                            random), for the RFC test vectors
#   option scram-bad-signature   server-final with a wrong v=
#   option scram-no-final    235 at once after the client proof (no v=)
#   option cram-challenge TEXT   a fixed CRAM-MD5 challenge
#
# Events of an exchange: AUTH (the command; its default runs the
# mechanism), AUTHSTEP (each response line after a 334), AUTHCANCEL (a "*"
# response; default 501 5.7.0) and AUTHDONE (the final reply; default 235
# 2.7.0 when the credentials were right, else 535 5.7.8).  Any rule whose
# last line starts with 334 keeps the exchange going: the next line is a
# response, not a command.  Two more steps:
#   echo TEXT           TEXT followed by the client's last response as sent
#   echo-decoded TEXT   the same, base64-decoded (control bytes as spaces)
# Examples:
#   on AUTH 454 4.7.0 Temporary authentication failure
#   on AUTH 334 !!not-base64!!        (the client must answer "*")
#   on AUTHDONE
#     echo 535 5.7.8 rejected:\x20
#
# Example:
#   caps PIPELINING, SIZE 1000, 8BITMIME
#   on CONNECT 220-first line\n220 smtpd.test ready
#   on RCPT#2 550 5.1.1 <carol@example.net>: no such user
#   on DOT
#     sleep 2
#     reply 250 2.0.0 queued
#
# FILES in DIR:
#   port                 the port, written once listening
#   received             every byte received, all connections in order
#   conn.N.received      the same for connection N
#   sent                 every byte sent
#   recv.log             one line per recv(): "N SEQ LEN ESCAPED-BYTES"
#   log                  readable transcript (C: client, S: server, *: notes)
#   problems             client mistakes, one per line ("conn N: ...")
#   msg.T                body of transaction T (1-based over the run),
#                        un-dot-stuffed, as received (CRLF line ends)
#   msg.T.partial        body of a DATA that never saw its final dot
#   env.T                "MAIL FROM:..." and accepted "RCPT TO:..." lines
#   received.clear       bytes received before TLS, all connections
#   received.tls         bytes received inside TLS (decrypted)
#   commands             one line per command: "N clear|tls ESCAPED-LINE"
#                        (AUTH responses too, as "N tls|clear > LINE")
#   tls                  one line per handshake: "conn N: VERSION CIPHER
#                        client-cert=CN|none sni=NAME|None" or "conn N:
#                        handshake failed: REASON"
#   resumed              one line "conn N" per handshake that resumed a
#                        session (one SSLContext serves every connection
#                        of the run, so its tickets stay valid)
#   bearer               one line per bearer token that arrived (XOAUTH2,
#                        OAUTHBEARER): "conn N: MECH user=NAME|? token=TOKEN
#                        accepted|refused" (TOKEN escaped)
#   auth                 one line per AUTH exchange, when it ends:
#                        "conn N: MECH user=NAME|? reply=CODE [cancelled]
#                        tls|clear"
#   waits                one line per connection when it ends: "conn N: W",
#                        how often its client waited for the server (WAITS)
#   tlswire              one line per connection that finished a TLS
#                        handshake, when it ends: "conn N: records R wire W
#                        plaintext P" (TLS WIRE)
#   tlsrec.N             the records of connection N that tlswire counts,
#                        one a line: "TYPE WIRE PLAINTEXT" (decimal)
#   finished             written when the server exits
#
# WAITS: the round trips a client makes, counted as the blocking waits for
# the server that it cannot avoid or chose not to.  The connection's TCP
# handshake is the first (the client's connect() waits for the SYN-ACK;
# none over --unix).  Then the server sets a flag whenever it sends
# something the client must wait for: SMTP replies (every flush of its
# output; it flushes only right before it needs more input), and a TLS
# handshake flight the client must answer (ServerHello..Finished; TLS 1.2's
# final server Finished too) -- not TLS 1.3's session tickets or other
# post-handshake messages, which nothing waits for.  The first recv() that
# returns with the flag set -- bytes, or the client's EOF -- is one wait and
# clears the flag.  So whatever the client sends in one turn counts once,
# however many reads it takes: GnuTLS writes TLS 1.3's compatibility
# ChangeCipherSpec while still reading the server's flight, so its CCS and
# Finished often come in two reads, one wait.  After the reply to QUIT the
# server shuts down its side of the connection and reads until the client
# closes (at most QUIT_LINGER seconds; what comes is logged, not recorded):
# that read counts the wait for 221.  With PIPELINING, one message to one
# recipient is: plain 5 (connect, greeting, EHLO, MAIL..DATA, the body and
# the dot with QUIT); STARTTLS 8 (+ STARTTLS, the handshake flight, EHLO
# again); implicit TLS 6; AUTH with an initial response adds 1.  Each wait
# is also a line "wait N ended" in DIR/log.
#
# TLS WIRE: after a handshake, the raw bytes from the client are followed
# through the 5-octet TLS record headers (type, version, length; RFC 8446
# 5.1) and given to TLS up to one record's end at a time, so each record's
# wire size (header included) and the plaintext it carried are known.
# Counted from the first record that begins after the handshake's last
# read (application data that shared that read with the client's Finished
# is not counted); TLS 1.3 records are type 23 whatever they carry.

import argparse
import base64
import hashlib
import hmac
import os
import re
import select
import signal
import socket
import ssl
import struct
import sys
import time

DEFAULT_CAPS = ["PIPELINING", "SIZE 10240000", "8BITMIME",
                "ENHANCEDSTATUSCODES", "DSN"]
# RFC 2920 3.1: these end a pipeline group; the client must wait after them.
GROUP_ENDERS = {"EHLO", "HELO", "LHLO", "DATA", "QUIT", "NOOP", "STARTTLS",
                "AUTH", "VRFY", "EXPN", "TURN"}
KNOWN_VERBS = {"HELO", "EHLO", "LHLO", "MAIL", "RCPT", "DATA", "RSET", "QUIT",
               "NOOP", "VRFY", "EXPN", "HELP", "BDAT", "STARTTLS", "AUTH",
               "ETRN", "TURN"}
STEP_WORDS = {"reply", "raw", "default", "sleep", "flush", "dribble",
              "close", "reset", "echo", "echo-decoded"}
FLAG_OPTIONS = {"require-pipelining", "require-quit-with-dot", "implicit-tls",
                "tls12", "auth-required", "scram-bad-signature",
                "scram-no-final"}
NUMBER_OPTIONS = {"wait", "dribble", "scram-iterations"}
TEXT_OPTIONS = {"scram-salt", "scram-nonce", "cram-challenge",
                "end-of-data"}
# What option end-of-data smuggling takes for the end of the data: the
# malformed sequences of the SMTP smuggling research (SEC Consult, 2023)
# and the tools written after it, and the real one.
SMUGGLING_ENDS = [b"\r\n.\r\n", b"\n.\n", b"\n.\r\n", b"\r\n.\n",
                  b"\r.\r", b"\r.\n", b"\n.\r", b"\r.\r\n", b"\r\n.\r",
                  b"\r\n\x00.\r\n", b"\r\n.\r\r\n"]
END_OF_DATA = {b"crlf": [b"\r\n.\r\n"], b"smuggling": SMUGGLING_ENDS}
# Commands allowed after STARTTLS before the new EHLO (RFC 3207 4.2).
BEFORE_EHLO_OK = {"EHLO", "HELO", "LHLO", "NOOP", "RSET", "QUIT"}

# How long the server waits for the client to close after the reply to
# QUIT (it has closed its own side; a client that does not close costs this).
QUIT_LINGER = 2.0
# TLS record header (RFC 8446 5.1, RFC 5246 6.2): type, version, length.
TLS_HEADER = 5

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


# --- escapes --------------------------------------------------------------

def unescape(text):
    """Script text -> bytes.  \\n is LF here; reply() turns LFs into
    CRLF line breaks."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    simple = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t",
              ord("e"): b"\x1b", ord("\\"): b"\\", ord("0"): b"\x00"}
    while i < len(raw):
        c = raw[i]
        if c != 0x5C or i + 1 >= len(raw):
            out.append(c)
            i += 1
            continue
        n = raw[i + 1]
        if n in simple:
            out += simple[n]
            i += 2
        elif n == ord("x") and re.match(rb"[0-9a-fA-F]{2}", raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError("unknown escape \\%s" % chr(n))
    return bytes(out)


def escape(data):
    """Bytes -> printable text: \\r \\n \\t \\\\ and \\xHH for the rest."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


# --- the script -----------------------------------------------------------

class ScriptError(Exception):
    pass


class Script:
    def __init__(self):
        self.hostname = "smtpd.test"
        self.caps = list(DEFAULT_CAPS)
        self.options = {"wait": 3.0, "scram-iterations": 4096}
        self.tls_caps = None       # None: caps without STARTTLS
        self.cert = None           # (cert, key)
        self.client_ca = None      # (ca, required)
        self.users = {}            # name -> secret (bytes)
        # rules[(conn or 0, EVENT, N or 0)] = [steps]
        self.rules = {}

    @classmethod
    def parse(cls, text, name="script"):
        s = cls()
        conn = 0
        current = None
        for lineno, line in enumerate(text.split("\n"), 1):
            line = line.rstrip("\r")
            where = "%s:%d: " % (name, lineno)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                if line[0] in " \t":
                    if current is None:
                        raise ScriptError("indented step outside an 'on' rule")
                    current.append(parse_step(line.lstrip(" \t")))
                    continue
                word, _, rest = line.partition(" ")
                current = None
                if word == "hostname":
                    s.hostname = rest.strip()
                elif word == "caps":
                    s.caps = [c.strip() for c in rest.split(",") if c.strip()]
                elif word == "tls-caps":
                    s.tls_caps = [c.strip() for c in rest.split(",")
                                  if c.strip()]
                elif word == "tls-cert":
                    files = rest.split()
                    if len(files) != 2:
                        raise ScriptError("tls-cert wants CERT KEY")
                    s.cert = tuple(files)
                elif word == "tls-client-ca":
                    args = rest.split()
                    if len(args) not in (1, 2) or args[1:] not in (
                            [], ["optional"]):
                        raise ScriptError("tls-client-ca wants CA [optional]")
                    s.client_ca = (args[0], len(args) == 1)
                elif word == "user":
                    name, _, secret = rest.partition(" ")
                    if not name or not secret:
                        raise ScriptError("user wants NAME SECRET")
                    s.users[name] = unescape(secret)
                elif word == "option":
                    oname, _, value = rest.strip().partition(" ")
                    if oname in FLAG_OPTIONS:
                        s.options[oname] = True
                    elif oname in NUMBER_OPTIONS:
                        s.options[oname] = float(value)
                    elif oname in TEXT_OPTIONS:
                        s.options[oname] = value.encode()
                        if oname == "end-of-data" and \
                                value.encode() not in END_OF_DATA:
                            raise ScriptError("end-of-data wants crlf or "
                                              "smuggling")
                    else:
                        raise ScriptError("unknown option %r" % oname)
                elif word == "connection":
                    conn = int(rest)
                    if conn < 1:
                        raise ScriptError("connection numbers start at 1")
                elif word == "on":
                    event, _, step = rest.partition(" ")
                    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_-]*)(?:#([0-9]+))?",
                                     event)
                    if not m:
                        raise ScriptError("bad event %r" % event)
                    key = (conn, m.group(1).upper(), int(m.group(2) or 0))
                    current = []
                    s.rules[key] = current
                    if step:
                        current.append(parse_step(step))
                else:
                    raise ScriptError("unknown directive %r" % word)
            except (ScriptError, ValueError) as e:
                raise ScriptError(where + str(e))
        return s

    def rule(self, conn, event, n):
        for key in ((conn, event, n), (conn, event, 0), (0, event, n),
                    (0, event, 0)):
            if key in self.rules:
                return self.rules[key]
        return None

    def has_event(self, conn, event):
        return any(k[1] == event and k[0] in (0, conn) for k in self.rules)


def parse_step(text):
    word, _, rest = text.partition(" ")
    if word not in STEP_WORDS:
        return ("reply", unescape(text))
    if word in ("reply", "raw", "echo", "echo-decoded"):
        return (word, unescape(rest))
    if word == "sleep":
        return ("sleep", float(rest))
    if word == "dribble":
        return ("dribble", float(rest) if rest.strip() else 0.002)
    if rest.strip():
        raise ScriptError("%s takes no argument" % word)
    return (word,)


def reply_bytes(text):
    return b"".join(line + b"\r\n" for line in text.split(b"\n"))


# --- recording ------------------------------------------------------------

class Recorder:
    def __init__(self, d):
        self.dir = d
        self.start = time.monotonic()
        self.transactions = 0

    def path(self, name):
        return os.path.join(self.dir, name)

    def append(self, name, data):
        with open(self.path(name), "ab") as f:
            f.write(data)

    def log(self, conn, what, text):
        t = time.monotonic() - self.start
        self.append("log", ("[%8.3f] %d %s %s\n" % (t, conn, what, text))
                    .encode())

    def problem(self, conn, text):
        self.append("problems", ("conn %d: %s\n" % (conn, text)).encode())
        self.log(conn, "!", "PROBLEM: " + text)


# --- TLS records ----------------------------------------------------------

class RecordFramer:
    """Follows the TLS record framing of the client's raw byte stream (the
    5-octet headers only; nothing is decrypted here).  feed() returns
    (type, wire octets, counted) for the record a piece of input ended, the
    piece ending at most one record (to_record_end()); counted is whether
    the record began after counting was switched on."""

    def __init__(self):
        self.head = bytearray()   # header octets of the current record
        self.left = 0             # body octets still to come
        self.counting = False
        self.started_counting = False

    def to_record_end(self):
        """Octets up to the end of the current record (of its header while
        that is incomplete)."""
        if len(self.head) < TLS_HEADER:
            return TLS_HEADER - len(self.head)
        return self.left

    def feed(self, data):
        ended = None
        i = 0
        while i < len(data):
            if len(self.head) < TLS_HEADER:
                if not self.head:
                    self.started_counting = self.counting
                take = min(TLS_HEADER - len(self.head), len(data) - i)
                self.head += data[i:i + take]
                i += take
                if len(self.head) == TLS_HEADER:
                    self.left = int.from_bytes(self.head[3:5], "big")
            else:
                take = min(self.left, len(data) - i)
                self.left -= take
                i += take
            if len(self.head) == TLS_HEADER and self.left == 0:
                ended = (self.head[0], TLS_HEADER + int.from_bytes(
                    self.head[3:5], "big"), self.started_counting)
                self.head = bytearray()
        return ended


# --- one connection -------------------------------------------------------

class Closed(Exception):
    pass


class Session:
    def __init__(self, sock, n, script, rec, tls_context=None):
        self.sock = sock
        self.tls_context = tls_context
        self.tls = None            # ssl.SSLObject once TLS is on
        self.tls_in = None         # its memory BIOs
        self.tls_out = None
        self.starttls_done = False
        self.ehlo_since_tls = True
        self.client_cn = None      # CN of a verified client certificate
        self.sasl = None           # the running AUTH exchange (Exchange)
        self.sasl_waiting = False  # a 334 was sent: next line is a response
        self.authenticated = False
        self.n = n
        self.script = script
        self.rec = rec
        self.inbuf = bytearray()
        self.out = bytearray()
        self.eof = False
        self.closed = False
        self.recvs = 0
        self.counts = {}
        self.dribble = script.options.get("dribble", 0)
        self.offered = {}          # capability keyword -> argument
        self.greeted = False
        self.lmtp = False
        self.quit_seen = False
        self.reset_transaction()
        self.data_refused = None   # reply code when DATA was refused
        self.lineno = 0
        # Round trips (see WAITS in the header): awaited is set when the
        # server sent something the client must wait for.
        self.awaited = False
        self.recv_error = None     # why the last raw_recv() got nothing
        # The client's connect() waited for the server's SYN-ACK.
        self.waits = 1 if sock.family != socket.AF_UNIX else 0
        # TLS records after the handshake (see TLS WIRE in the header).
        self.framer = None
        self.tls_records = []      # (type, wire octets, plaintext octets)

    def reset_transaction(self):
        self.mail = None
        self.mail_params = {}
        self.rcpts = []
        self.bdat = b""            # the chunks of this transaction so far
        self.bdat_used = False     # a BDAT came in this transaction
        self.bdat_failed = None    # the code that refused a chunk

    # input ----------------------------------------------------------------
    def recv(self, timeout):
        """Wait up to timeout for bytes; False on timeout, raise at EOF."""
        if self.eof:
            raise Closed()
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if stopping:
                left = min(left, 0.5)
            if left <= 0:
                if stopping:
                    self.eof = True
                    raise Closed()
                return False
            r, _, _ = select.select([self.sock], [], [], min(left, 0.1))
            if not r:
                continue
            data = self.raw_recv()
            if self.recv_error:
                self.rec.log(self.n, "*", "recv failed: %s" % self.recv_error)
            if not data:
                self.eof = True
                raise Closed()
            if not self.tls:
                break
            # TLS: a record may arrive in pieces, or carry no data.
            data = self.tls_feed(data)
            if data is None:
                self.eof = True
                raise Closed()
            if data:
                break
        self.take(data)
        return True

    def raw_recv(self):
        """One recv() from the socket (b"" at EOF or on an error).  The
        first after the server sent something the client must wait for is
        one wait: the client's answer (or its EOF) ends that round trip,
        and whatever else it sends before the server next sends belongs to
        the same turn (GnuTLS's ChangeCipherSpec and Finished may come in
        two reads)."""
        self.recv_error = None
        try:
            data = self.sock.recv(65536)
        except OSError as e:
            self.recv_error = str(e)
            data = b""
        if self.awaited:
            self.awaited = False
            self.waits += 1
            self.rec.log(self.n, "*", "wait %d ended: %d octets"
                         % (self.waits, len(data)))
        return data

    def tls_feed(self, data):
        """Raw bytes received inside an established TLS session -> the
        plaintext they completed (maybe b""), None at the end.  They go to
        the TLS object up to each record's end at a time, so that the
        plaintext of every record is known (TLS WIRE)."""
        out = bytearray()
        while data:
            n = self.framer.to_record_end()
            piece, data = data[:n], data[n:]
            self.tls_in.write(piece)
            record = self.framer.feed(piece)
            if record is None and data:
                continue
            plain = self.tls_read()
            if record is not None and record[2]:
                self.tls_records.append((record[0], record[1],
                                         len(plain or b"")))
            if plain is None:
                return bytes(out) if out else None
            out += plain
        return bytes(out)

    def take(self, data):
        """Record bytes from the client and queue them for parsing."""
        self.recvs += 1
        self.rec.append("received", data)
        self.rec.append("received.tls" if self.tls else "received.clear",
                        data)
        self.rec.append("conn.%d.received" % self.n, data)
        self.rec.append("recv.log", ("%d %d %d %s\n" % (
            self.n, self.recvs, len(data), escape(data))).encode())
        self.inbuf += data

    def tls_read(self):
        """Decrypt what the BIO holds: bytes (maybe b""), None at the end."""
        data = bytearray()
        try:
            while True:
                chunk = self.tls.read(65536)
                if not chunk:
                    self.rec.log(self.n, "*", "TLS close_notify received")
                    return bytes(data) if data else None
                data += chunk
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            self.rec.log(self.n, "*", "TLS read failed: %s" % e)
            return bytes(data) if data else None
        finally:
            self.tls_send_pending()
        return bytes(data)

    def tls_send_pending(self):
        """Send what the TLS object wrote; True if there was anything."""
        pending = self.tls_out.read()
        if pending:
            try:
                self.sock.sendall(pending)
            except OSError as e:
                self.rec.log(self.n, "*", "send failed: %s" % e)
        return bool(pending)

    def start_tls(self, how):
        """The server side of a handshake; raise Closed when it fails."""
        if self.inbuf:
            self.rec.problem(self.n, "client sent %s in clear after the "
                             "reply to STARTTLS, before the handshake" %
                             escape(self.inbuf[:80]))
            self.inbuf.clear()
        self.tls_in = ssl.MemoryBIO()
        self.tls_out = ssl.MemoryBIO()
        self.tls = self.tls_context.wrap_bio(self.tls_in, self.tls_out,
                                             server_side=True)
        self.framer = RecordFramer()
        self.rec.log(self.n, "*", "TLS handshake (%s)" % how)
        deadline = time.monotonic() + 10
        why = None
        raw = bytearray()
        while why is None:
            try:
                self.tls.do_handshake()
                # What the last step wrote: TLS 1.2's server Finished, which
                # the client waits for; TLS 1.3's session tickets, which it
                # does not (RFC 8446 4.6.1).
                if (self.tls_send_pending() and
                        self.tls.version() != "TLSv1.3"):
                    self.awaited = True
                break
            except ssl.SSLWantReadError:
                # A flight the client must answer (ServerHello..Finished).
                if self.tls_send_pending():
                    self.awaited = True
            except ssl.SSLError as e:
                self.tls_send_pending()
                why = getattr(e, "reason", None) or str(e)
                break
            left = deadline - time.monotonic()
            r = []
            if left > 0:
                r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                why = "timeout"
                break
            data = self.raw_recv()
            if not data:
                why = self.recv_error or "the client closed the connection"
                break
            raw += data
            self.framer.feed(data)
            self.tls_in.write(data)
        if why is not None:
            # What arrived was not TLS to us: record it as clear input, so
            # a client that talks plaintext after 220 is caught.
            for name in ("received", "received.clear",
                         "conn.%d.received" % self.n):
                self.rec.append(name, bytes(raw))
            self.rec.append("tls", ("conn %d: handshake failed: %s\n" %
                                    (self.n, why)).encode())
            self.rec.log(self.n, "*", "TLS handshake failed: %s" % why)
            self.tls = None
            self.sock.close()
            self.closed = True
            raise Closed()
        cert = self.tls.getpeercert()
        if cert:
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        self.client_cn = v
        cipher = self.tls.cipher()
        line = "conn %d: %s %s client-cert=%s sni=%s" % (
            self.n, self.tls.version(), cipher[0] if cipher else "?",
            self.client_cn or "none", getattr(self.tls, "sni", None))
        self.rec.append("tls", (line + "\n").encode())
        self.rec.log(self.n, "*", "TLS established: " + line)
        if self.tls.session_reused:
            self.rec.append("resumed", ("conn %d\n" % self.n).encode())
        # RFC 3207 4.2: forget everything learnt before TLS.
        self.offered = {}
        self.ehlo_since_tls = how == "implicit"
        self.authenticated = False
        self.reset_transaction()
        # Records counted from here; one begun with the handshake's last
        # read is not.
        self.framer.counting = True
        # Application data may have come with the client's last handshake
        # message, and sit in the BIO already.
        if self.tls_in.pending:
            data = self.tls_read()
            if data:
                self.take(data)

    def poll_input(self):
        """Take in whatever has already arrived, without waiting."""
        try:
            while not self.eof and self.recv(0.02):
                pass
        except Closed:
            pass

    def next_line(self, idle):
        while b"\n" not in self.inbuf:
            self.flush()
            try:
                if not self.recv(idle):
                    self.rec.log(self.n, "*", "idle timeout")
                    raise Closed()
            except Closed:
                if self.inbuf:
                    self.rec.problem(self.n, "partial line at end of "
                                     "stream: %s" % escape(self.inbuf))
                raise
        i = self.inbuf.index(b"\n")
        line = bytes(self.inbuf[:i + 1])
        del self.inbuf[:i + 1]
        self.lineno += 1
        self.check_line(line)
        return line

    def check_line(self, line):
        what = "line %d" % self.lineno
        if not line.endswith(b"\r\n"):
            self.rec.problem(self.n, "bare LF ending %s: %s" %
                             (what, escape(line[:80])))
        body = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        if b"\r" in body:
            self.rec.problem(self.n, "bare CR in %s: %s" %
                             (what, escape(line[:80])))
        if b"\x00" in body:
            self.rec.problem(self.n, "NUL in %s" % what)
        if len(line) > 1000:
            self.rec.problem(self.n, "%s is %d octets long, over the 1000 "
                             "of RFC 5321 4.5.3.1.6" % (what, len(line)))

    def wait_for(self, pattern, why):
        """Hold replies until pattern is in the input (option require-*)."""
        deadline = time.monotonic() + self.script.options["wait"]
        while not re.search(pattern, self.inbuf):
            left = deadline - time.monotonic()
            try:
                if left <= 0 or not self.recv(left):
                    self.rec.problem(self.n, why)
                    return
            except Closed:
                self.rec.problem(self.n, why + " (connection closed)")
                return

    # output ---------------------------------------------------------------
    def send(self, data):
        self.out += data

    def flush(self):
        if not self.out or self.closed:
            self.out.clear()
            return
        data = bytes(self.out)
        self.out.clear()
        for line in data.split(b"\n"):
            if line:
                self.rec.log(self.n, "S:", escape(line.rstrip(b"\r")))
        try:
            if self.dribble:
                for i in range(len(data)):
                    self.write(data[i:i + 1])
                    self.rec.append("sent", data[i:i + 1])
                    if not stopping:
                        time.sleep(self.dribble)
            else:
                self.write(data)
                self.rec.append("sent", data)
        except (OSError, ssl.SSLError) as e:
            self.rec.log(self.n, "*", "send failed: %s" % e)
        # Replies: the client waits for them (what it may send before
        # reading them arrived already, PIPELINING or not).
        self.awaited = True

    def write(self, data):
        if self.tls:
            self.tls.write(data)
            self.tls_send_pending()
        else:
            self.sock.sendall(data)

    def close(self, rst=False, linger=False):
        """Close (rst: with an RST) and raise Closed.  linger (after the
        reply to QUIT): end our side, then read until the client closes
        its own (at most QUIT_LINGER seconds), so that the client's wait
        for 221 is counted; what it still sends is logged, not recorded."""
        self.flush()
        if self.tls and not rst:
            try:
                self.tls.unwrap()
            except (ssl.SSLError, OSError):
                pass
            self.tls_send_pending()
        if linger and not rst:
            self.linger()
        if rst:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        self.rec.log(self.n, "*", "server closes the connection" +
                     (" with RST" if rst else ""))
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True
        raise Closed()

    def linger(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass      # the client was quicker: the reads below see its end
        deadline = time.monotonic() + QUIT_LINGER
        late = 0
        while True:
            # Told to stop (the client has typically exited): only what
            # already arrived, its end among it.
            left = 0 if stopping else deadline - time.monotonic()
            r, _, _ = select.select([self.sock], [], [],
                                    max(0, min(left, 0.1)))
            if not r:
                if left > 0:
                    continue
                self.rec.log(self.n, "*", "the client did not close within "
                             "%gs of the reply to QUIT" % QUIT_LINGER)
                break
            data = self.raw_recv()
            if not data:
                break
            late += len(data)
            if time.monotonic() > deadline:
                self.rec.log(self.n, "*", "the client still sent after "
                             "%gs since the reply to QUIT" % QUIT_LINGER)
                break
        if late:
            self.rec.log(self.n, "*", "%d octets after the reply to QUIT "
                         "(not recorded; TLS close_notify when encrypted)"
                         % late)

    # events ---------------------------------------------------------------
    def event(self, name, default, arg=b""):
        """Run the rule for event name, or default().  Returns the bytes
        queued for the client by this event."""
        k = self.counts.get(name, 0) + 1
        self.counts[name] = k
        steps = self.script.rule(self.n, name, k)
        start = len(self.out)
        if steps is None:
            default(arg)
            return bytes(self.out[start:])
        produced = bytearray()
        saved_dribble = self.dribble
        for step in steps:
            kind = step[0]
            if kind == "reply":
                self.send(reply_bytes(step[1]))
            elif kind == "raw":
                self.send(step[1])
            elif kind in ("echo", "echo-decoded"):
                self.send(step[1] + self.echo(kind) + b"\r\n")
            elif kind == "default":
                default(arg)
            elif kind == "sleep":
                produced += self.out[start:]
                self.flush()
                start = 0
                self.rec.log(self.n, "*", "sleeping %gs" % step[1])
                end = time.monotonic() + step[1]
                while time.monotonic() < end and not stopping:
                    time.sleep(min(0.05, end - time.monotonic()))
            elif kind == "flush":
                produced += self.out[start:]
                self.flush()
                start = 0
            elif kind == "dribble":
                produced += self.out[start:]
                self.flush()
                start = 0
                self.dribble = step[1]
            elif kind in ("close", "reset"):
                self.close(rst=(kind == "reset"))
        produced += self.out[start:]
        if self.dribble != saved_dribble:
            self.flush()
            self.dribble = saved_dribble
        return bytes(produced)

    def echo(self, kind):
        """The client's last AUTH response, for the echo steps."""
        last = self.sasl.last if self.sasl else b""
        if kind == "echo":
            return last
        try:
            raw = base64.b64decode(last, validate=True)
        except ValueError:
            raw = last
        return bytes(b if 0x20 <= b < 0x7F else 0x20 for b in raw)

    # the conversation -----------------------------------------------------
    def run(self, idle):
        self.rec.log(self.n, "*", "connection %d accepted" % self.n)
        try:
            if self.script.options.get("implicit-tls"):
                self.start_tls("implicit")
            self.event("CONNECT", self.default_greeting)
            self.poll_input()
            if self.inbuf:
                self.rec.problem(self.n, "client sent %s before the greeting"
                                 % escape(self.inbuf[:80]))
            self.flush()
            while True:
                line = self.next_line(idle)
                self.command(line, idle)
        except Closed:
            pass
        finally:
            self.flush()
            if not self.closed:
                self.sock.close()
            self.record_counts()
            self.rec.log(self.n, "*", "connection %d ended" % self.n)

    def record_counts(self):
        """DIR/waits and, after a handshake, DIR/tlswire and tlsrec.N."""
        self.rec.append("waits", b"conn %d: %d\n" % (self.n, self.waits))
        self.rec.log(self.n, "*", "the client waited %d times" % self.waits)
        if self.framer is None or not self.framer.counting:
            return
        records = self.tls_records
        wire = sum(r[1] for r in records)
        plain = sum(r[2] for r in records)
        self.rec.append("tlswire", b"conn %d: records %d wire %d "
                        b"plaintext %d\n" % (self.n, len(records), wire,
                                              plain))
        self.rec.append("tlsrec.%d" % self.n, b"".join(
            b"%d %d %d\n" % r for r in records))

    def command(self, line, idle):
        text = line.rstrip(b"\r\n")
        where = "tls" if self.tls else "clear"
        if self.sasl_waiting:
            self.rec.log(self.n, "C:", escape(text))
            self.rec.append("commands", ("%d %s > %s\n" % (
                self.n, where, escape(text))).encode())
            self.auth_response(text)
            return
        self.rec.log(self.n, "C:", escape(text))
        self.rec.append("commands", ("%d %s %s\n" % (
            self.n, where, escape(text))).encode())
        if self.quit_seen:
            self.rec.problem(self.n, "client sent %s after QUIT" % escape(text))
        if len(line) > 512 and not text.upper().startswith((b"MAIL", b"RCPT")):
            self.rec.problem(self.n, "command line of %d octets, over the 512 "
                             "of RFC 5321 4.5.3.1.4" % len(line))
        # A MAIL line may carry its own SMTPUTF8 parameter (RFC 6531 3.4).
        own_smtputf8 = (text.upper().startswith(b"MAIL ")
                        and b" SMTPUTF8" in text.upper())
        if (any(b >= 0x80 for b in text) and not own_smtputf8
                and "SMTPUTF8" not in self.mail_params):
            self.rec.problem(self.n, "8-bit bytes in a command without "
                             "SMTPUTF8: %s" % escape(text))
        verb = text.split(b" ", 1)[0].decode("latin-1").upper()
        arg = text[len(verb) + 1:]
        if self.data_refused and verb not in KNOWN_VERBS:
            self.rec.problem(self.n, "body data %s sent after DATA got %s"
                             % (escape(text[:60]), self.data_refused))
        if not re.fullmatch(r"[A-Z]{3,10}", verb):
            verb = "UNKNOWN"
        if not self.ehlo_since_tls and verb not in BEFORE_EHLO_OK:
            self.rec.problem(self.n, "%s after STARTTLS without a new EHLO "
                             "(RFC 3207 4.2)" % verb)
        if verb == "STARTTLS" and self.tls:
            self.rec.problem(self.n, "a second STARTTLS inside TLS")
        if verb == "MAIL" and self.script.options.get("require-pipelining"):
            if "PIPELINING" in self.offered:
                self.wait_for(rb"(?im)^DATA\r?\n",
                              "pipelining: DATA did not arrive with MAIL "
                              "within %gs" % self.script.options["wait"])
        if verb == "DATA" and self.bdat_used:
            self.rec.problem(self.n, "DATA after BDAT in one transaction "
                             "(RFC 3030 2)")
        if verb == "DATA" and \
                self.mail_params.get("BODY", "").upper() == "BINARYMIME":
            self.rec.problem(self.n, "DATA for a BODY=BINARYMIME message "
                             "(RFC 3030 3: BDAT only)")
        if verb == "MAIL":
            self.parse_mail(arg)
        elif verb == "RCPT":
            self.last_rcpt_line = b"RCPT " + arg
            for param in (b"NOTIFY=", b"ORCPT="):
                if param in arg.upper() and "DSN" not in self.offered:
                    self.rec.problem(self.n, "RCPT %s but DSN was not "
                                     "offered" % param.decode())
        elif verb == "BDAT":
            self.read_chunk(arg, idle)
        if verb == "AUTH":
            words = arg.split(b" ")
            self.sasl = Exchange(words[0].decode("latin-1").upper())
            self.sasl.last = words[1] if len(words) > 1 else b""
        handler = getattr(self, "cmd_" + verb, self.cmd_UNKNOWN)
        out = self.event(verb, handler, arg)
        self.after_reply(verb, out)
        must_wait = verb in GROUP_ENDERS or "PIPELINING" not in self.offered
        if must_wait and not self.closed:
            self.poll_input()
            if self.inbuf:
                self.rec.problem(self.n, "client sent %s before the reply to "
                                 "%s%s" % (escape(self.inbuf[:80]), verb,
                                           "" if "PIPELINING" in self.offered
                                           else " (no PIPELINING)"))
        if verb == "STARTTLS" and out.startswith(b"220") and \
                self.tls_context and not self.tls and not self.closed:
            self.flush()
            self.starttls_done = True
            self.start_tls("STARTTLS")
        if verb == "AUTH":
            self.sasl_waiting = self.continues(out)
        if verb == "DATA" and out.startswith(b"354"):
            self.flush()
            self.data_phase(idle)
        if verb == "QUIT" and not self.closed:
            self.close(linger=True)

    def after_reply(self, verb, out):
        code = out[:3]
        if verb in ("EHLO", "HELO", "LHLO"):
            self.ehlo_since_tls = True
        if verb in ("EHLO", "LHLO"):
            self.lmtp = verb == "LHLO"
            self.offered = {}
            if code == b"250":
                for l in out.split(b"\n")[1:]:
                    kw = l.rstrip(b"\r")[4:].decode("latin-1").split(" ", 1)
                    if kw and kw[0]:
                        self.offered[kw[0].upper()] = (kw[1] if len(kw) > 1
                                                       else "")
        elif verb == "HELO":
            self.offered = {}
        elif verb == "MAIL":
            self.data_refused = None
            if code == b"250":
                self.mail = self.last_mail_line
                self.mail_params = self.last_mail_params
                self.rcpts = []
        elif verb == "RCPT":
            if out[:1] == b"2":
                self.rcpts.append(self.last_rcpt_line)
        elif verb == "DATA":
            self.data_refused = None if code == b"354" else code.decode(
                "latin-1") or "nothing"
        elif verb == "BDAT":
            self.after_chunk(code)
        elif verb == "RSET":
            self.reset_transaction()
        elif verb == "QUIT":
            self.quit_seen = True

    def data_stream(self, idle, ends):
        """The data up to the first of the sequences ends, as bytes (option
        end-of-data); what follows it stays in inbuf, to be commands."""
        while True:
            # The data starts as if after a CRLF.
            view = b"\r\n" + bytes(self.inbuf)
            found = None
            for end in ends:
                at = view.find(end)
                if at >= 0 and (found is None or at < found[0] or
                                (at == found[0] and len(end) > len(found[1]))):
                    found = (at, end)
            # A longer sequence may still be arriving at the same place.
            if found and found[0] + max(map(len, ends)) <= len(view):
                break
            if found and not self.recv(0.05):
                break
            if not found and not self.recv(idle):
                self.rec.log(self.n, "*", "idle timeout")
                raise Closed()
        at, end = found
        body = view[2:at] if at >= 2 else b""
        consumed = at + len(end) - 2
        self.rec.log(self.n, "*", "end of data at %s" % escape(end))
        del self.inbuf[:consumed]
        return bytearray(body), body.count(b"\n")

    def data_phase(self, idle):
        body = bytearray()
        self.rec.log(self.n, "*", "receiving message data")
        lines = 0
        ends = END_OF_DATA.get(self.script.options.get("end-of-data"))
        try:
            while ends is None:
                line = self.next_line(idle)
                if line in (b".\r\n", b".\n"):
                    break
                lines += 1
                if line.startswith(b"."):
                    line = line[1:]
                body += line
                if self.script.has_event(self.n, "BODYLINE"):
                    self.event("BODYLINE", lambda a: None)
            if ends is not None:
                body, lines = self.data_stream(idle, ends)
        except Closed:
            self.rec.transactions += 1
            t = self.rec.transactions
            self.rec.append("msg.%d.partial" % t, bytes(body))
            self.rec.log(self.n, "*", "connection lost in DATA after %d "
                         "lines, %d octets (msg.%d.partial)" % (lines,
                                                               len(body), t))
            raise
        self.rec.transactions += 1
        t = self.rec.transactions
        self.rec.append("msg.%d" % t, bytes(body))
        self.rec.append("env.%d" % t, (self.mail or b"") + b"\n" +
                        b"".join(r + b"\n" for r in self.rcpts))
        self.rec.log(self.n, "*", "message %d: %d lines, %d octets (msg.%d)"
                     % (t, lines, len(body), t))
        self.check_message(body)
        if self.script.options.get("require-quit-with-dot"):
            self.wait_for(rb"(?i)^QUIT\r?\n",
                          "QUIT did not arrive with the final dot")
        if self.lmtp and not self.script.rule(self.n, "DOT", 1):
            for r in self.rcpts:
                addr = r[r.find(b":") + 1:].strip()
                self.event("LMTP", lambda a: self.send(
                    b"250 2.1.5 %s delivered\r\n" % a), addr)
        else:
            self.event("DOT", self.default_dot, bytes(body))
        if "PIPELINING" not in self.offered and not self.closed:
            self.poll_input()
            if self.inbuf:
                self.rec.problem(self.n, "client sent %s before the reply to "
                                 "the final dot (no PIPELINING)" %
                                 escape(self.inbuf[:80]))
        self.reset_transaction()

    def check_message(self, body):
        declared = self.mail_params.get("SIZE")
        if declared is not None and declared != str(len(body)):
            self.rec.problem(self.n, "SIZE=%s declared but the message has "
                             "%d octets" % (declared, len(body)))
        if any(b >= 0x80 for b in body) and \
                self.mail_params.get("BODY", "").upper() not in (
                    "8BITMIME", "BINARYMIME"):
            self.rec.problem(self.n, "8-bit message data without "
                             "BODY=8BITMIME")
        if b"\0" in body and \
                self.mail_params.get("BODY", "").upper() != "BINARYMIME":
            self.rec.problem(self.n, "NUL in message data without "
                             "BODY=BINARYMIME (RFC 3030 3)")

    # default replies ------------------------------------------------------
    def default_greeting(self, arg):
        self.send(b"220 %s ESMTP mailpost test server\r\n" %
                  self.script.hostname.encode())

    def ehlo_reply(self, arg):
        lines = ["%s Hello %s" % (self.script.hostname, arg.decode("latin-1"))]
        lines += self.caps_now()
        out = b""
        for i, l in enumerate(lines):
            sep = "-" if i < len(lines) - 1 else " "
            out += ("250" + sep + l + "\r\n").encode("latin-1")
        self.send(out)

    def caps_now(self):
        if not self.tls:
            return self.script.caps
        if self.script.tls_caps is not None:
            return self.script.tls_caps
        return [c for c in self.script.caps if c.upper() != "STARTTLS"]

    cmd_EHLO = ehlo_reply
    cmd_LHLO = ehlo_reply

    def cmd_HELO(self, arg):
        self.send(b"250 %s\r\n" % self.script.hostname.encode())

    def parse_mail(self, arg):
        self.last_mail_line = b"MAIL " + arg
        self.last_mail_params = {}
        self.last_mail_ok = False
        m = re.match(rb"(?i)FROM:\s*<([^>]*)>(.*)", arg)
        if not m:
            return
        self.last_mail_ok = True
        for p in m.group(2).split():
            k, _, v = p.decode("latin-1").partition("=")
            k = k.upper()
            self.last_mail_params[k] = v
            ext = {"RET": "DSN", "ENVID": "DSN", "BODY": "8BITMIME",
                   "AUTH": "AUTH"}.get(k, k)
            if k == "BODY" and v.upper() == "BINARYMIME":
                ext = "BINARYMIME"
            if ext not in self.offered:
                self.rec.problem(self.n, "MAIL parameter %s but %s was not "
                                 "offered" % (p.decode("latin-1"), ext))

    def cmd_MAIL(self, arg):
        if not self.last_mail_ok:
            self.send(b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n")
            return
        if self.script.options.get("auth-required") and \
                not self.authenticated:
            self.send(b"530 5.7.0 Authentication required\r\n")
            return
        limit = self.offered.get("SIZE", "")
        size = self.last_mail_params.get("SIZE", "")
        if limit.isdigit() and size.isdigit() and int(limit) and \
                int(size) > int(limit):
            self.send(b"552 5.3.4 Message size exceeds fixed limit\r\n")
            return
        if self.mail is not None:
            self.send(b"503 5.5.1 Error: nested MAIL command\r\n")
            return
        self.send(b"250 2.1.0 Ok\r\n")

    def cmd_RCPT(self, arg):
        if self.mail is None:
            self.send(b"503 5.5.1 Error: need MAIL command\r\n")
            return
        self.send(b"250 2.1.5 Ok\r\n")

    def cmd_DATA(self, arg):
        if self.mail is None:
            self.send(b"503 5.5.1 Error: need MAIL command\r\n")
        elif not self.rcpts:
            self.send(b"554 5.5.1 Error: no valid recipients\r\n")
        else:
            self.send(b"354 End data with <CR><LF>.<CR><LF>\r\n")

    def default_dot(self, body):
        limit = self.offered.get("SIZE", "")
        if limit.isdigit() and int(limit) and len(body) > int(limit):
            self.send(b"552 5.3.4 Message size exceeds fixed limit\r\n")
        else:
            self.send(b"250 2.0.0 Ok: queued as %d\r\n" % self.rec.transactions)

    def read_chunk(self, arg, idle):
        """BDAT (RFC 3030): take the chunk's octets before replying."""
        m = re.fullmatch(rb"([0-9]+)( +LAST)?", arg.strip(), re.I)
        self.bdat_ok = bool(m)
        self.bdat_last = bool(m and m.group(2))
        if "CHUNKING" not in self.offered:
            self.rec.problem(self.n, "BDAT but CHUNKING was not offered")
        if self.bdat_failed and "PIPELINING" not in self.offered:
            self.rec.problem(self.n, "BDAT after a chunk was refused with "
                             "%s (RFC 3030 2)" % self.bdat_failed)
        if (self.mail is None or not self.rcpts) and \
                "PIPELINING" not in self.offered:
            # With PIPELINING, BDAT may follow a refused MAIL or RCPT in
            # the same group (RFC 3030 2, RFC 2920): it is refused.
            self.rec.problem(self.n, "BDAT without %s" %
                             ("MAIL" if self.mail is None else
                              "an accepted recipient"))
        self.bdat_used = True
        if not m:
            return
        n = int(m.group(1))
        while len(self.inbuf) < n:
            self.flush()
            try:
                if self.recv(idle):
                    continue
            except Closed:
                pass
            self.rec.transactions += 1
            t = self.rec.transactions
            self.rec.append("msg.%d.partial" % t,
                            self.bdat + bytes(self.inbuf))
            self.rec.log(self.n, "*", "connection lost in a BDAT chunk "
                         "after %d of %d octets (msg.%d.partial)" %
                         (len(self.inbuf), n, t))
            raise Closed()
        chunk = bytes(self.inbuf[:n])
        del self.inbuf[:n]
        self.rec.log(self.n, "*", "chunk of %d octets%s" %
                     (n, " (LAST)" if self.bdat_last else ""))
        self.bdat += chunk
        self.bdat_size = n
        if self.bdat_last and self.script.options.get("require-quit-with-dot"):
            self.wait_for(rb"(?im)^QUIT\r?\n",
                          "QUIT did not arrive with the LAST chunk")

    def after_chunk(self, code):
        """A chunk's reply went out: a refusal fails the transaction (RFC
        3030 2); the LAST one ends it, with a message if none failed."""
        if code[:1] != b"2" and not self.bdat_failed:
            self.bdat_failed = code.decode("latin-1") or "nothing"
        if not self.bdat_last or not self.bdat_ok:
            return
        if not self.bdat_failed:
            self.rec.transactions += 1
            t = self.rec.transactions
            self.rec.append("msg.%d" % t, self.bdat)
            self.rec.append("env.%d" % t, (self.mail or b"") + b"\n" +
                            b"".join(r + b"\n" for r in self.rcpts))
            self.rec.log(self.n, "*", "message %d: %d octets by BDAT" %
                         (t, len(self.bdat)))
            self.check_message(self.bdat)
        else:
            self.rec.log(self.n, "*", "LAST chunk: the transaction failed "
                         "(%s), nothing kept" % self.bdat_failed)
        self.reset_transaction()

    def cmd_BDAT(self, arg):
        if not self.bdat_ok:
            self.send(b"501 5.5.4 Syntax: BDAT size [LAST]\r\n")
        elif self.mail is None:
            self.send(b"503 5.5.1 Error: need MAIL command\r\n")
        elif not self.rcpts:
            self.send(b"554 5.5.1 Error: no valid recipients\r\n")
        elif self.bdat_failed:
            self.send(b"503 5.5.1 Error: an earlier chunk failed\r\n")
        elif self.lmtp and self.bdat_last:
            # RFC 2033 4.2 with RFC 3030: one reply per recipient after
            # the LAST chunk, as after the final dot (events LMTP#N).
            for r in self.rcpts:
                addr = r[r.find(b":") + 1:].strip()
                self.event("LMTP", lambda a: self.send(
                    b"250 2.1.5 %s delivered\r\n" % a), addr)
        else:
            self.send(b"250 2.0.0 %d octets received\r\n" % self.bdat_size)

    def cmd_RSET(self, arg):
        self.send(b"250 2.0.0 Ok\r\n")

    def cmd_NOOP(self, arg):
        self.send(b"250 2.0.0 Ok\r\n")

    def cmd_QUIT(self, arg):
        self.send(b"221 2.0.0 Bye\r\n")

    def cmd_STARTTLS(self, arg):
        if self.tls:
            self.send(b"503 5.5.1 Error: TLS already active\r\n")
        elif self.tls_context is None:
            self.send(b"454 4.7.0 TLS not available in this test server\r\n")
        elif "STARTTLS" not in self.offered:
            self.rec.problem(self.n, "STARTTLS but it was not offered")
            self.send(b"502 5.5.1 Error: STARTTLS not offered\r\n")
        else:
            self.send(b"220 2.0.0 Ready to start TLS\r\n")

    # AUTH (RFC 4954) ------------------------------------------------------
    def cmd_AUTH(self, arg):
        words = arg.split(b" ")
        mech = words[0].decode("latin-1").upper()
        offered = self.offered.get("AUTH", "").upper().split()
        if len(words) > 2 or not mech:
            self.rec.problem(self.n, "malformed AUTH command")
            self.send(b"501 5.5.4 Syntax: AUTH mechanism [initial-response]"
                      b"\r\n")
            return
        if self.authenticated:
            self.rec.problem(self.n, "AUTH after a successful AUTH")
            self.send(b"503 5.5.1 Error: already authenticated\r\n")
            return
        if self.mail is not None:
            self.rec.problem(self.n, "AUTH during a mail transaction")
            self.send(b"503 5.5.1 Error: MAIL transaction in progress\r\n")
            return
        if mech not in offered or mech not in MECHANISMS:
            self.rec.problem(self.n, "AUTH %s but %s was not offered" %
                             (mech, mech))
            self.send(b"504 5.5.4 Unrecognized authentication type\r\n")
            return
        ir = None
        if len(words) == 2:
            if words[1] == b"=":
                ir = b""
            else:
                try:
                    ir = base64.b64decode(words[1], validate=True)
                except ValueError:
                    self.rec.problem(self.n, "AUTH initial response is not "
                                     "base64")
                    self.send(b"501 5.5.2 Cannot decode response\r\n")
                    return
        self.sasl.gen = MECHANISMS[mech](self, ir)
        self.auth_advance(None)

    def auth_advance(self, data):
        """Run the mechanism one step: a 334 challenge or the result."""
        try:
            if data is None:
                challenge = next(self.sasl.gen)
            else:
                challenge = self.sasl.gen.send(data)
        except StopIteration as e:
            ok, user, why = e.value
            self.sasl.user = user
            self.rec.log(self.n, "*", "AUTH %s user %s: %s" % (
                self.sasl.mech, user, "credentials ok" if ok else why))
            self.event("AUTHDONE", lambda a: self.send(
                b"235 2.7.0 Authentication successful\r\n" if ok else
                b"535 5.7.8 Authentication credentials invalid\r\n"))
            return
        self.send(b"334 " + base64.b64encode(challenge) + b"\r\n")

    def auth_response(self, text):
        """A line after a 334: the client's response (or "*")."""
        if self.sasl is None:
            self.sasl = Exchange("?")
        self.sasl.last = text
        self.sasl.steps += 1
        if text == b"*":
            self.sasl.cancelled = True
            self.rec.log(self.n, "*", "the client cancelled AUTH")
            out = self.event("AUTHCANCEL", lambda a: self.send(
                b"501 5.7.0 Authentication cancelled\r\n"))
        else:
            out = self.event("AUTHSTEP", self.default_auth_step, text)
        self.sasl_waiting = self.continues(out)
        if not self.closed:
            self.poll_input()
            if self.inbuf:
                self.rec.problem(self.n, "client sent %s before the reply "
                                 "to its AUTH response" %
                                 escape(self.inbuf[:80]))

    def default_auth_step(self, text):
        if self.sasl.gen is None:
            self.send(b"535 5.7.8 Authentication failed\r\n")
            return
        try:
            data = base64.b64decode(text, validate=True)
        except ValueError:
            self.rec.problem(self.n, "AUTH response is not base64: %s" %
                             escape(text[:80]))
            self.send(b"501 5.5.2 Cannot decode response\r\n")
            return
        self.auth_advance(data)

    def continues(self, out):
        """Does this output keep an AUTH exchange going (last line 334)?
        When not, the exchange is over: record how it ended."""
        lines = [l for l in out.split(b"\r\n") if l]
        if lines and lines[-1].startswith(b"334"):
            return True
        if self.sasl is not None:
            code = lines[-1][:3].decode("latin-1") if lines else "none"
            if code == "235":
                self.authenticated = True
            ex = self.sasl
            self.rec.append("auth", ("conn %d: %s user=%s reply=%s%s %s\n" % (
                self.n, ex.mech, ex.user or "?", code,
                " cancelled" if ex.cancelled else "",
                "tls" if self.tls else "clear")).encode())
            self.sasl = None
        return False

    def password_ok(self, user, secret):
        want = self.script.users.get(user.decode("utf-8", "replace"))
        return want is not None and hmac.compare_digest(want, secret)

    def mech_plain(self, ir):
        resp = ir if ir is not None else (yield b"")
        parts = resp.split(b"\0")
        if len(parts) != 3:
            return False, None, "malformed PLAIN response"
        user = parts[1].decode("utf-8", "replace")
        if parts[0] and parts[0] != parts[1]:
            return False, user, "authorization identity %s refused" % (
                parts[0].decode("utf-8", "replace"))
        if not self.password_ok(parts[1], parts[2]):
            return False, user, "wrong user name or password"
        return True, user, ""

    def mech_login(self, ir):
        # RFC 4954 does not define LOGIN; servers take an initial response
        # as the user name.
        user = ir if ir is not None else (yield b"Username:")
        password = yield b"Password:"
        name = user.decode("utf-8", "replace")
        if not self.password_ok(user, password):
            return False, name, "wrong user name or password"
        return True, name, ""

    def mech_cram_md5(self, ir):
        if ir is not None:
            self.rec.problem(self.n, "CRAM-MD5 with an initial response")
        challenge = self.script.options.get("cram-challenge") or (
            b"<%d.%d@%s>" % (os.getpid(), int(time.time() * 1000),
                             self.script.hostname.encode()))
        resp = yield challenge
        user, _, digest = resp.rpartition(b" ")
        name = user.decode("utf-8", "replace")
        secret = self.script.users.get(name)
        if secret is None:
            return False, name, "unknown user"
        want = hmac.new(secret, challenge, "md5").hexdigest().encode()
        if not hmac.compare_digest(want, digest):
            return False, name, "wrong digest"
        return True, name, ""

    def mech_scram(self, ir, hname, plus):
        """RFC 5802 (SHA-1), RFC 7677 (SHA-256); -PLUS with tls-unique."""
        first = ir if ir is not None else (yield b"")
        m = re.fullmatch(rb"(n|y|p=[A-Za-z0-9.-]+),(a=[^,]*)?,"
                         rb"(n=([^,]*),r=([^,]+)(,.*)?)", first, re.S)
        if not m:
            return False, None, "malformed client-first-message"
        cbflag, bare = m.group(1), m.group(3)
        name = m.group(4).replace(b"=2C", b",").replace(b"=3D", b"=")
        user = name.decode("utf-8", "replace")
        header = first[:len(first) - len(bare)]
        offered_plus = any(x.endswith("-PLUS") for x in
                           self.offered.get("AUTH", "").upper().split())
        cbdata = b""
        if plus != cbflag.startswith(b"p="):
            return False, user, "channel binding flag %s with %s" % (
                cbflag.decode(), self.sasl.mech)
        if cbflag == b"y" and self.tls and offered_plus:
            return False, user, "client says 'y' (no binding) although "                 "-PLUS was offered: a downgrade (RFC 5802 6)"
        if cbflag.startswith(b"p="):
            cbtype = cbflag[2:].decode()
            if cbtype != "tls-unique":
                return False, user, "channel binding %s not supported by "                     "this server (only tls-unique)" % cbtype
            cbdata = self.tls.get_channel_binding("tls-unique")                 if self.tls else None
            if cbdata is None:
                return False, user, "no tls-unique on this session"
        nonce = m.group(5) + (self.script.options.get("scram-nonce") or
                              base64.b64encode(os.urandom(18)))
        salt_b64 = self.script.options.get("scram-salt") or \
            base64.b64encode(os.urandom(16))
        iterations = int(self.script.options["scram-iterations"])
        server_first = b"r=%s,s=%s,i=%d" % (nonce, salt_b64, iterations)
        final = yield server_first
        m = re.fullmatch(rb"(c=([^,]*),r=([^,]*)(?:,[^,]*)*?),p=([^,]*)",
                         final)
        if not m:
            return False, user, "malformed client-final-message"
        if m.group(3) != nonce:
            return False, user, "nonce mismatch"
        if m.group(2) != base64.b64encode(header + cbdata):
            return False, user, "channel binding data mismatch"
        secret = self.script.users.get(user, os.urandom(16))
        salted = hashlib.pbkdf2_hmac(hname, secret,
                                     base64.b64decode(salt_b64), iterations)

        def mac(key, msg):
            return hmac.new(key, msg, hname).digest()
        client_key = mac(salted, b"Client Key")
        auth_message = bare + b"," + server_first + b"," + m.group(1)
        signature = mac(hashlib.new(hname, client_key).digest(), auth_message)
        want = bytes(a ^ b for a, b in zip(client_key, signature))
        try:
            proof = base64.b64decode(m.group(4), validate=True)
        except ValueError:
            return False, user, "proof is not base64"
        if user not in self.script.users or \
                not hmac.compare_digest(proof, want):
            return False, user, "wrong user name or password (bad proof)"
        if self.script.options.get("scram-no-final"):
            return True, user, ""
        server_sig = mac(mac(salted, b"Server Key"), auth_message)
        if self.script.options.get("scram-bad-signature"):
            server_sig = bytes([server_sig[0] ^ 1]) + server_sig[1:]
        resp = yield b"v=" + base64.b64encode(server_sig)
        if resp:
            self.rec.problem(self.n, "non-empty response after the SCRAM "
                             "server-final-message")
        return True, user, ""

    def bearer_failed(self, expect):
        """RFC 7628 3.2.2: an error challenge, then the client's dummy
        response, then 535."""
        resp = yield b'{"status":"invalid_token","schemes":"bearer",' \
            b'"scope":"https://mail.example/"}'
        if resp != expect:
            self.rec.problem(self.n, "response to a bearer error challenge "
                             "is %s, expected %s" % (escape(resp),
                                                     escape(expect)))

    def bearer_record(self, mech, user, token, ok):
        """One line in DIR/bearer per bearer token that arrived."""
        self.rec.append("bearer", b"conn %d: %s user=%s token=%s %s\n" % (
            self.n, mech, escape(user).encode() if user else b"?",
            escape(token or b"").encode(),
            b"accepted" if ok else b"refused"))

    def mech_xoauth2(self, ir):
        resp = ir if ir is not None else (yield b"")
        m = re.fullmatch(rb"user=([^\x01]*)\x01auth=Bearer ([^\x01]*)"
                         rb"\x01\x01", resp)
        if not m:
            return False, None, "malformed XOAUTH2 response"
        user = m.group(1).decode("utf-8", "replace")
        ok = self.password_ok(m.group(1), m.group(2))
        self.bearer_record(b"XOAUTH2", m.group(1), m.group(2), ok)
        if not ok:
            yield from self.bearer_failed(b"")
            return False, user, "wrong token"
        return True, user, ""

    def mech_oauthbearer(self, ir):
        resp = ir if ir is not None else (yield b"")
        m = re.fullmatch(rb"n,(?:a=([^,]*))?,\x01((?:[A-Za-z]+=[^\x01]*"
                         rb"\x01)*)\x01", resp)
        if not m:
            return False, None, "malformed OAUTHBEARER response"
        pairs = dict(kv.split(b"=", 1) for kv in m.group(2).split(b"\x01")
                     if kv)
        auth = pairs.get(b"auth", b"")
        token = auth[7:] if auth.lower().startswith(b"bearer ") else None
        name = m.group(1) or b""
        users = [name] if name else [u.encode() for u in self.script.users]
        user = name.decode("utf-8", "replace") or None
        for u in users:
            if token is not None and self.password_ok(u, token):
                self.bearer_record(b"OAUTHBEARER", u, token, True)
                return True, u.decode("utf-8", "replace"), ""
        self.bearer_record(b"OAUTHBEARER", name, token, False)
        yield from self.bearer_failed(b"\x01")
        return False, user, "wrong token"

    def mech_external(self, ir):
        resp = ir if ir is not None else (yield b"")
        authz = resp.decode("utf-8", "replace")
        if not self.tls or not self.client_cn:
            return False, authz or None, "no verified client certificate"
        if authz and authz != self.client_cn and \
                authz not in self.script.users:
            return False, authz, "authorization identity refused"
        return True, authz or self.client_cn, ""

    def cmd_UNKNOWN(self, arg):
        self.send(b"502 5.5.2 Error: command not recognized\r\n")


class Exchange:
    """One AUTH exchange."""
    def __init__(self, mech):
        self.mech = mech
        self.gen = None        # the mechanism, a generator of challenges
        self.user = None
        self.last = b""        # the client's last response, as sent
        self.steps = 0
        self.cancelled = False


MECHANISMS = {
    "PLAIN": Session.mech_plain,
    "LOGIN": Session.mech_login,
    "CRAM-MD5": Session.mech_cram_md5,
    "SCRAM-SHA-1": lambda s, ir: s.mech_scram(ir, "sha1", False),
    "SCRAM-SHA-1-PLUS": lambda s, ir: s.mech_scram(ir, "sha1", True),
    "SCRAM-SHA-256": lambda s, ir: s.mech_scram(ir, "sha256", False),
    "SCRAM-SHA-256-PLUS": lambda s, ir: s.mech_scram(ir, "sha256", True),
    "XOAUTH2": Session.mech_xoauth2,
    "OAUTHBEARER": Session.mech_oauthbearer,
    "EXTERNAL": Session.mech_external,
}


# --- the server -----------------------------------------------------------

def make_tls_context(script):
    if not script.cert:
        if script.options.get("implicit-tls"):
            raise ScriptError("option implicit-tls needs tls-cert")
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(*script.cert)
        if script.client_ca:
            ctx.load_verify_locations(script.client_ca[0])
            ctx.verify_mode = (ssl.CERT_REQUIRED if script.client_ca[1]
                               else ssl.CERT_OPTIONAL)
    except (OSError, ssl.SSLError) as e:
        raise ScriptError("TLS files: %s" % e)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.sni_callback = note_sni
    if script.options.get("tls12"):
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def note_sni(tls, name, ctx):
    """The server name the client asked for (RFC 6066 3), for DIR/tls."""
    tls.sni = name


def drain_backlog(listener, rec, n):
    """On SIGTERM: record what clients still queued in the backlog sent."""
    listener.setblocking(False)
    while True:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        n += 1
        sock.setblocking(True)
        sock.settimeout(0.5)
        rec.log(n, "*", "connection %d drained at shutdown" % n)
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                rec.append("received", data)
                rec.append("conn.%d.received" % n, data)
        except OSError:
            pass
        sock.close()


def serve(args):
    script = Script()
    if args.script:
        with open(args.script, encoding="utf-8",
                  errors="surrogateescape") as f:
            script = Script.parse(f.read(), args.script)
    tls_context = make_tls_context(script)
    os.makedirs(args.dir, exist_ok=True)
    rec = Recorder(args.dir)
    for name in ("received", "sent", "recv.log", "log", "problems",
                 "received.clear", "received.tls", "commands", "tls", "auth",
                 "waits", "tlswire", "resumed"):
        open(rec.path(name), "wb").close()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    # The suite talks to loopback only (127.0.0.0/8), never to another
    # address of this machine or beyond.
    if not args.listen.startswith("127."):
        sys.exit("smtpd.py: --listen takes a 127.0.0.0/8 address, not %r"
                 % args.listen)
    if args.unix:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(args.unix)
        port, where = args.unix, "socket " + args.unix
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A port given (--port) is often the one an earlier server of the
        # test file left in TIME_WAIT; another listener still refuses.
        if args.port:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((args.listen, args.port))
        port = listener.getsockname()[1]
        where = "%s port %d" % (args.listen, port)
    listener.listen(16)
    port_file = args.port_file or rec.path("port")
    with open(port_file + ".tmp", "w") as f:
        f.write("%s\n" % port)
    os.rename(port_file + ".tmp", port_file)
    rec.log(0, "*", "listening on " + where)
    n = 0
    idle_since = time.monotonic()
    while n < args.max_connections and not stopping:
        r, _, _ = select.select([listener], [], [], 0.1)
        if not r:
            if time.monotonic() - idle_since > args.idle_timeout:
                rec.log(0, "*", "idle timeout: no connection")
                break
            continue
        sock, _ = listener.accept()
        n += 1
        if not args.unix:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Session(sock, n, script, rec, tls_context).run(args.idle_timeout)
        idle_since = time.monotonic()
    if stopping:
        drain_backlog(listener, rec, n)
    listener.close()
    rec.log(0, "*", "exiting after %d connection(s)" % n)
    open(rec.path("finished"), "w").close()


def talk(port, steps):
    """A minimal client for the server's self-tests."""
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=10)
    buf = bytearray()
    recvs = [0]

    def read_more():
        try:
            data = sock.recv(65536)
        except ssl.SSLError as e:
            print("TLS error: %s" % (getattr(e, "reason", None) or e))
            data = b""
        if not data:
            raise EOFError
        recvs[0] += 1
        buf.extend(data)

    for step in steps:
        if step == "reconnect":
            sock.close()
            sock = socket.create_connection(("127.0.0.1", int(port)),
                                            timeout=10)
            buf.clear()
        elif step.startswith("send:"):
            sock.sendall(unescape(step[5:]))
        elif step.startswith("sleep:"):
            time.sleep(float(step[6:]))
        elif step == "reply":
            try:
                while True:
                    m = re.search(rb"(?m)^[0-9]{3}(?: [^\n]*)?\n", buf)
                    if m:
                        break
                    read_more()
                print(escape(buf[:m.end()]))
                del buf[:m.end()]
            except EOFError:
                print("EOF" + (" after " + escape(buf) if buf else ""))
                buf.clear()
        elif step == "count":
            print("recv calls: %d" % recvs[0])
        elif step == "tls" or step.startswith("tls:"):
            files = step.split(":")[1:]
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if files:
                ctx.load_verify_locations(files[0])
            else:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if len(files) == 3:
                ctx.load_cert_chain(files[1], files[2])
            if buf:
                print("before TLS: " + escape(buf))
                buf.clear()
            try:
                sock = ctx.wrap_socket(sock, server_hostname="localhost")
                print("TLS " + sock.version())
            except (ssl.SSLError, OSError) as e:
                print("TLS failed: %s" % (getattr(e, "reason", None) or e))
                return
        elif step == "eof":
            try:
                while True:
                    read_more()
            except EOFError:
                pass
            except OSError as e:
                print("ERROR %s" % e.strerror)
            print("EOF" + (" after " + escape(buf) if buf else ""))
            buf.clear()
        else:
            sys.exit("unknown talk step %r" % step)
    sock.close()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir")
    p.add_argument("--script")
    p.add_argument("--port-file")
    p.add_argument("--max-connections", type=int, default=1)
    p.add_argument("--idle-timeout", type=float, default=30.0)
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--unix")
    p.add_argument("--check-script")
    p.add_argument("--escape", action="store_true")
    p.add_argument("--talk", nargs="+", metavar=("PORT", "STEP"))
    args = p.parse_args()
    try:
        if args.escape:
            data = sys.stdin.buffer.read()
            for line in re.findall(rb"[^\n]*\n|[^\n]+$", data):
                print(escape(line))
        elif args.check_script:
            with open(args.check_script, encoding="utf-8",
                      errors="surrogateescape") as f:
                Script.parse(f.read(), args.check_script)
        elif args.talk:
            talk(args.talk[0], args.talk[1:])
        elif args.dir:
            serve(args)
        else:
            p.error("--dir is required to serve")
    except ScriptError as e:
        sys.exit("smtpd.py: %s" % e)


if __name__ == "__main__":
    main()
