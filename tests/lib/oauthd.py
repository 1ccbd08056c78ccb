#!/usr/bin/env python3
# oauthd.py - a scripted OAuth 2.0 authorization server for mailpost's tests
# (issue #14).  Python 3 standard library only.
#
# It serves HTTPS on 127.0.0.1 port 0 with a certificate of the test CA
# (tests/lib/mkcerts.sh), writes the port it got to DIR/port, answers each
# request as the scenario says, logs every request as one JSON line, and
# exits on SIGTERM or after --idle-timeout seconds without a request.  It
# checks the client as a real server would (content type, fields, client
# id and secret, the device code, the PKCE verifier, the poll interval) and
# records each client mistake in DIR/problems.
#
# Endpoints (under https://127.0.0.1:PORT): POST /device (RFC 8628 3.1),
# POST /token (grant types urn:ietf:params:oauth:grant-type:device_code,
# refresh_token, authorization_code), GET /authorize (RFC 6749 4.1.1: it
# plays the user's browser having said yes, or no).  /verify, the page the
# device answer names, is not served: no test needs a user to type a code.
#
# Usage:
#   oauthd.py --dir DIR --cert PEM --key KEY [--scenario FILE] [OPTIONS]
# Every OPTION is also a key of the JSON scenario file (dashes as
# underscores: {"client_secret": "s", "refresh": ["ok", "invalid_grant"]});
# an option on the command line wins over the file.
#   --client-id ID          the client it knows (default mailpost-test)
#   --client-secret S       the client's secret; when set, /token requires
#                           it (form field client_secret, or HTTP Basic as
#                           RFC 6749 2.3.1 allows); default: a public client
#   --refresh-token T       the refresh token it accepts (default refresh-1);
#                           a device or code grant's success hands out this
#   --expires-in N|none     expires_in of access tokens (default 3600)
#   --interval N            the device grant's poll interval (default 1)
#   --device-expires-in N   the device code's lifetime (default 600); a poll
#                           after it gets expired_token whatever the script
#   --user-code CODE        (default WDJB-MJHT)
#   --no-complete-uri       the device answer lacks verification_uri_complete
#   --verification-field F  the device answer's name for the URL (default
#                           verification_uri; Google and Amazon send
#                           verification_url)
#   --device ANSWERS        answers to POST /device        (default ok)
#   --poll ANSWERS          answers to device-code polls   (default ok)
#   --refresh ANSWERS       answers to refresh_token grants (default ok)
#   --code ANSWERS          answers to authorization_code grants (default ok)
#   --authorize VERDICTS    answers to GET /authorize      (default allow)
#   --slow-down-step S      what slow_down adds to the interval it enforces
#                           (default 5, as RFC 8628 3.5 tells the client)
#   --poll-ms MS            how long one second of the interval (and of the
#                           step, and of EARLY_SLACK) lasts when a poll is
#                           checked, in ms (default 1000); the client is
#                           told the same with MAILPOST_TEST_OAUTH2_POLL_MS
#                           (oauthd_start passes it on), so that a device
#                           login costs a fraction of a second
#   --idle-timeout S        exit after S seconds without a request (120)
#
# ANSWERS: a comma-separated list (in JSON: a list of strings); the Nth
# request of that kind gets the Nth answer, the last one repeats.  A poll
# sooner than the interval since the previous one (or since the device
# answer; 0.2 s of jitter forgiven: EARLY_SLACK) does not use up an answer:
# it is answered slow_down, as RFC 8628 3.5 says, and recorded as a problem
# ("poll N came after S s, interval I s", in seconds of --poll-ms).  Each answer is WORD[:ARG]...:
#   ok                 200 and a token answer (RFC 6749 5.1): access_token
#                      access-K (the Kth access token handed out), token_type
#                      Bearer, expires_in; a device or code grant adds the
#                      refresh token; /device: the device answer (RFC 8628
#                      3.2), its device code device-K.  ARGs:
#                      expires_in=N|none, access_token=T.
#                      A wrong refresh token, device code, code, verifier or
#                      redirect_uri gets invalid_grant instead, as a real
#                      server would (and a problem line where it is the
#                      client's fault: verifier, redirect_uri, a code used
#                      twice)
#   rotate             ok plus a new refresh token refresh-2, -3.. (or ARG
#                      refresh_token=T) that replaces the accepted one: the
#                      old one gets invalid_grant from now on
#   ERROR              an error answer {"error": ERROR} (RFC 6749 5.2, RFC
#                      8628 3.5): authorization_pending, slow_down,
#                      expired_token, access_denied, invalid_grant,
#                      invalid_client (status 401), invalid_request,
#                      invalid_scope, unauthorized_client,
#                      unsupported_grant_type, temporarily_unavailable
#                      (status 503), server_error (500).  ARGs: a number
#                      (the status), description=TEXT (error_description;
#                      the last ARG: TEXT runs to the end, colons too).
#                      slow_down adds 5 s (--slow-down-step) to the
#                      interval it enforces.
#   status:N           status N, a short text/html body, no JSON
#   malformed          200 with a JSON text cut off in the middle
#   no_token           200 with {"token_type": "Bearer"} and no access_token
#   oversized:N        200 with a valid token answer padded to N bytes, sent
#                      without Content-Length (the client must stop reading)
#   long_header:N      ok, with a header field X-Padding of N bytes
#                      before the body (libcurl holds at most 100 KiB)
#   hang[:S]           no answer: the connection stays open S seconds
#                      (default 3600) and closes
#   redirect[:N]       status N (default 307) with Location: the same
#                      endpoint on this server, and a token answer (at
#                      /device: {}) as the body: a client that follows it
#                      makes a second request, which the log shows
# Examples:
#   --refresh rotate,invalid_grant   the first refresh rotates the refresh
#                                    token, every later one is refused
#   --poll authorization_pending,authorization_pending,ok:expires_in=60
#   --refresh hang:40                 (the client's timeout is 30 s)
#   --refresh 'invalid_grant:description=Token has been revoked.'
#                                    (a description with a comma: in a
#                                    scenario file only)
#   scenario file: {"interval": 0, "poll": ["slow_down", "ok"],
#                   "refresh": ["invalid_client:description=a, b"]}
#
# VERDICTS for /authorize (the user's browser said ...):
#   allow              302 to redirect_uri?code=code-K&state=STATE
#   deny               302 to redirect_uri?error=access_denied&state=STATE
#   wrong_state        allow, but with a state the client did not send
# GET /authorize checks response_type=code, the client id, a loopback
# http redirect_uri (RFC 8252 7.3), code_challenge_method S256 and a state;
# a bad client id or redirect_uri gets 400 and no redirect (RFC 6749
# 4.1.2.1), the rest a redirect with error=invalid_request.  POST /token's
# authorization_code grant checks the code (once), the redirect_uri and
# BASE64URL(SHA256(code_verifier)) against the code_challenge (RFC 7636 4.6).
#
# Every request, checked in this order: POST with Content-Type
# application/x-www-form-urlencoded and a body of at most 64 KiB (else 400
# invalid_request), a secret field in the URL's query (a problem), the
# fields the grant needs (400 invalid_request naming the field), the client
# id and secret (401 invalid_client), grant_type known (400
# unsupported_grant_type), then the scenario's answer.
#
# FILES in DIR:
#   port       the port, written once listening
#   log        one JSON object a line per request, written before the
#              answer goes: {"n", "time" (unix seconds, float), "method",
#              "path", "query" {..}, "form" {..}, "headers" {content-type,
#              authorization, accept, user-agent, content-length: those
#              present}, "kind" (device|poll|refresh|code|authorize|other),
#              "answer" (the scenario word used, or the check that failed),
#              "status", and "body" (its first 1000 bytes) when the body
#              was not a form}.  Secrets included: the log is the test's.
#   problems   one line per client mistake
#   handshakes one line per failed TLS handshake ("failed: REASON"; a client
#              that refuses the certificate is no mistake)
#   stderr of the process: nothing unless oauthd.py itself fails
#
# The bats helpers (tests/lib/helpers.bash): oauthd_start [OPTIONS...]
# (sets OAUTHD_URL, OAUTHD_LOG, OAUTHD_DIR, OAUTHD_PORT, OAUTHD_PID),
# oauthd_requests [PATH], oauthd_last_form FIELD [PATH], oauthd_problems,
# oauthd_log_query EXPR [PATH [ARG]], assert_oauthd_problem TEXT,
# assert_oauthd_no_problems, oauthd_authorize URL and oauthd_browse URL (set
# OAUTHD_REDIRECT), stop_oauthd, write_oauth2_config [LINE...]
# (OAUTH2_USER, OAUTH2_CLIENT_ID).
#
# Its own client (tests/01-harness.bats, oauthd_browse; no curl needed):
#   oauthd.py --request METHOD URL [--ca PEM] [--basic ID:SECRET]
#             [--content-type T] [--timeout S] [NAME=VALUE...]
#       one request (http:// or https://, verified against PEM, else the
#       system's store; POST sends the NAME=VALUE pairs form-encoded) and
#       prints "STATUS BODY-SIZE CONTENT-LENGTH|-", the Location header or
#       "-", then the body.  Exit 0 for any HTTP answer, 28 when none came
#       within S seconds (default 5), 1 for another failure (with a line
#       "no answer: REASON").

import argparse
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import signal
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

BODY_MAX = 64 * 1024          # a request body larger than this: 400
# A poll is early when it arrives more than this before the interval is
# up, measured between arrivals: a client may time its polls from its own
# sends, and one request delayed on a loaded machine makes the next gap
# look short.  Still catches a client that ignores the interval, or does
# not add slow_down's 5 s.
EARLY_SLACK = 0.2
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SECRET_FIELDS = {"client_secret", "refresh_token", "code_verifier",
                 "device_code", "code", "access_token", "password"}
ERROR_STATUS = {"invalid_client": 401, "temporarily_unavailable": 503,
                "server_error": 500}
ERRORS = {"authorization_pending", "slow_down", "expired_token",
          "access_denied", "invalid_grant", "invalid_client",
          "invalid_request", "invalid_scope", "unauthorized_client",
          "unsupported_grant_type", "temporarily_unavailable", "server_error"}
WORDS = {"ok", "rotate", "status", "malformed", "no_token", "oversized",
         "hang", "redirect", "long_header"} | ERRORS
VERDICTS = {"allow", "deny", "wrong_state"}
ARG_KEYS = {"expires_in", "access_token", "refresh_token"}  # description last
LIST_KEYS = ("device", "poll", "refresh", "code", "authorize")
DEFAULTS = {
    "client_id": "mailpost-test", "client_secret": None,
    "refresh_token": "refresh-1", "expires_in": "3600", "interval": 1,
    "device_expires_in": 600, "user_code": "WDJB-MJHT",
    "no_complete_uri": False, "verification_field": "verification_uri",
    "device": ["ok"], "poll": ["ok"],
    "refresh": ["ok"], "code": ["ok"], "authorize": ["allow"],
    "idle_timeout": 120, "slow_down_step": 5, "poll_ms": 1000,
}


class ScenarioError(Exception):
    pass


class Answer:
    """One scripted answer: WORD[:ARG]..."""

    def __init__(self, text):
        self.text = text
        head, sep, desc = text.partition(":description=")
        parts = head.split(":")
        self.word = parts[0]
        self.number = None
        self.args = {"description": desc} if sep else {}
        for arg in parts[1:]:
            key, eq, value = arg.partition("=")
            if eq and key in ARG_KEYS:
                self.args[key] = value
            elif re.fullmatch(r"[0-9]+(\.[0-9]+)?", arg) and \
                    self.number is None:
                self.number = float(arg)
            else:
                raise ScenarioError("answer %r: bad argument %r" % (text, arg))
        if self.word not in WORDS and self.word not in VERDICTS:
            raise ScenarioError("answer %r: unknown word %r" % (
                text, self.word))
        if self.word in ("status", "oversized", "long_header") and \
                self.number is None:
            raise ScenarioError("answer %r needs a number" % text)


class Sequence:
    """Answers handed out in order, the last one repeating."""

    def __init__(self, name, items, allowed):
        if isinstance(items, str):
            items = items.split(",")
        if not items:
            raise ScenarioError("%s: no answers" % name)
        self.items = [Answer(t.strip()) for t in items]
        for a in self.items:
            if a.word not in allowed:
                raise ScenarioError("%s: %r is not one of its answers" % (
                    name, a.text))
        self.next = 0

    def take(self):
        a = self.items[min(self.next, len(self.items) - 1)]
        self.next += 1
        return a


class Reply:
    """What goes back: a status, headers, a body (None: hang)."""

    def __init__(self, status, body=b"", ctype="application/json",
                 location=None, length=True, hang=0.0, answer="",
                 padding=0):
        self.status = status
        self.padding = padding
        self.body = body
        self.ctype = ctype
        self.location = location
        self.length = length
        self.hang = hang
        self.answer = answer


def json_reply(status, obj, answer):
    return Reply(status, json.dumps(obj).encode(), answer=answer)


def error_reply(error, answer=None, status=None, description=None):
    obj = {"error": error}
    if description is not None:
        obj["error_description"] = description
    return json_reply(status or ERROR_STATUS.get(error, 400), obj,
                      answer or error)


class Server:
    """The scenario and the state of the grants, under one lock."""

    def __init__(self, opts, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.client_id = opts["client_id"]
        self.client_secret = opts["client_secret"]
        self.refresh_token = opts["refresh_token"]
        self.expires_in = str(opts["expires_in"])
        self.interval = float(opts["interval"])
        self.step = float(opts["slow_down_step"])
        self.second = float(opts["poll_ms"]) / 1000
        self.device_expires_in = float(opts["device_expires_in"])
        self.user_code = opts["user_code"]
        self.complete_uri = not opts["no_complete_uri"]
        self.uri_field = opts["verification_field"]
        self.seq = {k: Sequence(k, opts[k], VERDICTS if k == "authorize"
                                else WORDS - VERDICTS) for k in LIST_KEYS}
        self.count = 0
        self.tokens = {"refresh": 1}  # prefix -> how many handed out
        self.devices = {}            # device_code -> its grant state
        self.codes = {}              # code -> what /authorize saw
        self.port = 0
        self.last_request = time.monotonic()

    def new_token(self, prefix):
        """access-1, access-2, ...; refresh-2 first (refresh-1 is given)."""
        self.tokens[prefix] = self.tokens.get(prefix, 0) + 1
        return "%s-%d" % (prefix, self.tokens[prefix])

    def problem(self, text):
        with open(os.path.join(self.dir, "problems"), "a") as f:
            f.write(text + "\n")

    def log(self, entry):
        with open(os.path.join(self.dir, "log"), "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")

    # --- answers shared by the grants -------------------------------------

    def scripted(self, a, tokens):
        """The reply for answer a; tokens() makes the success body."""
        w = a.word
        if w in ("ok", "rotate"):
            return json_reply(200, tokens(a), a.text)
        if w in ERRORS:
            st = int(a.number) if a.number is not None else None
            if w == "slow_down":
                self.interval += self.step
            return error_reply(w, a.text, st, a.args.get("description"))
        if w == "status":
            return Reply(int(a.number), b"<html><body>%d</body></html>\n" %
                         int(a.number), "text/html", answer=a.text)
        if w == "malformed":
            return Reply(200, b'{"access_token": "access-cut", "token_ty',
                         answer=a.text)
        if w == "no_token":
            return json_reply(200, {"token_type": "Bearer"}, a.text)
        if w == "oversized":
            obj = tokens(Answer("ok"))
            obj["padding"] = ""
            size = int(a.number)
            base = len(json.dumps(obj).encode())
            if size < base:
                raise ScenarioError("oversized:%d is smaller than a token "
                                    "answer (%d bytes)" % (size, base))
            obj["padding"] = "x" * (size - base)
            return Reply(200, json.dumps(obj).encode(), length=False,
                         answer=a.text)
        if w == "long_header":
            reply = json_reply(200, tokens(Answer("ok")), a.text)
            reply.padding = int(a.number)
            return reply
        if w == "hang":
            return Reply(0, hang=a.number or 3600.0, answer=a.text)
        if w == "redirect":
            reply = json_reply(int(a.number or 307),
                               tokens(Answer("ok")) if tokens else {},
                               a.text)
            reply.location = "https://127.0.0.1:%d/%s" % (
                self.port, "token" if tokens else "device")
            return reply
        raise ScenarioError("answer %r here" % a.text)

    def token_body(self, a, refresh):
        """RFC 6749 5.1; refresh: the refresh token to include, or None."""
        obj = {"access_token": a.args.get("access_token") or
               self.new_token("access"), "token_type": "Bearer"}
        exp = a.args.get("expires_in", self.expires_in)
        if exp != "none":
            obj["expires_in"] = int(exp)
        if a.word == "rotate":
            refresh = a.args.get("refresh_token") or self.new_token("refresh")
            self.refresh_token = refresh
        if refresh is not None:
            obj["refresh_token"] = refresh
        return obj

    # --- POST /device: RFC 8628 3.1-3.2 ------------------------------------

    def device(self, form, base_url):
        a = self.seq["device"].take()
        if a.word != "ok":
            return self.scripted(a, None)
        code = self.new_token("device")
        self.devices[code] = {"issued": time.monotonic(), "last": None,
                              "polls": 0, "done": False}
        obj = {"device_code": code, "user_code": self.user_code,
               self.uri_field: base_url + "/verify",
               "expires_in": int(self.device_expires_in),
               "interval": int(self.interval)}
        if self.complete_uri:
            obj["verification_uri_complete"] = "%s/verify?user_code=%s" % (
                base_url, self.user_code)
        return json_reply(200, obj, a.text)

    # --- POST /token ---------------------------------------------------------

    def poll(self, form):
        """RFC 8628 3.4-3.5."""
        d = self.devices.get(form["device_code"])
        if d is None:
            return error_reply("invalid_grant", "unknown device_code")
        if d["done"]:
            self.problem("poll after the device grant's final answer")
            return error_reply("invalid_grant", "device_code used up")
        now = time.monotonic()
        since = now - (d["last"] if d["last"] is not None else d["issued"])
        d["last"] = now
        d["polls"] += 1
        if now - d["issued"] > self.device_expires_in:
            return error_reply("expired_token", "device code expired")
        since /= self.second
        if since + EARLY_SLACK < self.interval:
            self.problem("poll %d came after %.2f s, interval %g s" % (
                d["polls"], since, self.interval))
            self.interval += self.step
            return error_reply("slow_down", "early poll")
        a = self.seq["poll"].take()
        d["done"] = a.word in ("ok", "rotate", "access_denied",
                               "expired_token")
        return self.scripted(a, lambda x: self.token_body(
            x, self.refresh_token))

    def refresh(self, form):
        """RFC 6749 6."""
        a = self.seq["refresh"].take()
        if a.word in ("ok", "rotate") and \
                form["refresh_token"] != self.refresh_token:
            return error_reply("invalid_grant", "refresh token not valid")
        return self.scripted(a, lambda x: self.token_body(x, None))

    def code(self, form):
        """RFC 6749 4.1.3, RFC 7636 4.5-4.6."""
        a = self.seq["code"].take()
        if a.word not in ("ok", "rotate"):
            return self.scripted(a, None)
        c = self.codes.get(form["code"])
        if c is None:
            return error_reply("invalid_grant", "unknown code")
        if c["used"]:
            self.problem("code %s used twice" % form["code"])
            return error_reply("invalid_grant", "code used twice")
        c["used"] = True
        if form["redirect_uri"] != c["redirect_uri"]:
            self.problem("redirect_uri %s at /token, %s at /authorize" % (
                form["redirect_uri"], c["redirect_uri"]))
            return error_reply("invalid_grant", "redirect_uri differs")
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        want = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not hmac.compare_digest(want, c["challenge"]):
            self.problem("code_verifier does not match the code_challenge")
            return error_reply("invalid_grant", "PKCE verifier mismatch")
        return self.scripted(a, lambda x: self.token_body(
            x, self.refresh_token))

    # --- GET /authorize: RFC 6749 4.1.1-4.1.2, RFC 7636, RFC 8252 --------------

    def authorize(self, q):
        redirect = q.get("redirect_uri", "")
        u = urllib.parse.urlsplit(redirect)
        if q.get("client_id") != self.client_id:
            return Reply(400, b"unknown client\n", "text/plain",
                         answer="client_id")
        if u.scheme != "http" or u.hostname not in ("127.0.0.1", "::1") \
                or u.port is None:
            self.problem("redirect_uri %s is not a loopback http address "
                         "with a port (RFC 8252 7.3)" % redirect)
            return Reply(400, b"bad redirect_uri\n", "text/plain",
                         answer="redirect_uri")
        state = q.get("state")
        sep = "&" if u.query else "?"
        missing = [f for f in ("response_type", "state", "code_challenge",
                               "code_challenge_method") if f not in q]
        if missing or q["response_type"] != "code" or \
                q["code_challenge_method"] != "S256":
            self.problem("/authorize without %s" % (
                ", ".join(missing) or "response_type=code and "
                "code_challenge_method=S256"))
            return self.redirect(redirect + sep + urllib.parse.urlencode(
                {"error": "invalid_request", "state": state or ""}),
                "invalid_request")
        a = self.seq["authorize"].take()
        if a.word == "deny":
            return self.redirect(redirect + sep + urllib.parse.urlencode(
                {"error": "access_denied", "state": state}), a.text)
        code = self.new_token("code")
        self.codes[code] = {"redirect_uri": redirect, "used": False,
                            "challenge": q["code_challenge"]}
        if a.word == "wrong_state":
            state = "not-" + state
        return self.redirect(redirect + sep + urllib.parse.urlencode(
            {"code": code, "state": state}), a.text)

    @staticmethod
    def redirect(location, answer):
        return Reply(302, b"", "text/plain", location=location,
                     answer=answer)


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "oauthd/1"
    protocol_version = "HTTP/1.1"  # Expect: 100-continue answered; every answer closes
    timeout = 10

    def log_message(self, fmt, *args):
        pass                    # the JSON log is the record

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def serve(self, method):
        s = self.server.state
        s.last_request = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        entry = {"time": time.time(), "method": method, "path": url.path,
                 "query": query, "form": {}, "headers": {
                     k.lower(): v for k, v in self.headers.items()
                     if k.lower() in ("content-type", "authorization",
                                      "accept", "user-agent",
                                      "content-length")}}
        body = self.read_body()
        try:
            with s.lock:
                s.count += 1
                entry["n"] = s.count
                reply = self.judge(s, method, url.path, query, body, entry)
                entry["answer"] = reply.answer
                entry["status"] = reply.status
                s.log(entry)
        except ScenarioError as e:
            print("oauthd.py: %s" % e, file=sys.stderr)
            reply = Reply(500, b"scenario error\n", "text/plain")
        self.send(reply)

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        if n < 0 or n > BODY_MAX:
            return None
        return self.rfile.read(n)

    def judge(self, s, method, path, query, body, entry):
        base = "https://127.0.0.1:%d" % s.port
        for name in SECRET_FIELDS & set(query):
            s.problem("%s %s carries %s in the URL" % (method, path, name))
        if path == "/authorize":
            entry["kind"] = "authorize"
            if method != "GET":
                return error_reply("invalid_request", "method")
            return s.authorize(query)
        if path not in ("/device", "/token"):
            entry["kind"] = "other"
            return Reply(404, b"not found\n", "text/plain", answer="path")
        form, bad = self.parse_form(method, body)
        entry["form"] = form
        if bad:
            entry["body"] = (body or b"")[:1000].decode("utf-8", "replace")
            s.problem("%s %s: %s" % (method, path, bad))
            entry["kind"] = "other"
            return error_reply("invalid_request", bad)
        if path == "/device":
            entry["kind"] = "device"
            return self.checked(s, form, [], lambda: s.device(form, base))
        grant = form.get("grant_type")
        kind, need, call = {
            DEVICE_GRANT: ("poll", ["device_code"], s.poll),
            "refresh_token": ("refresh", ["refresh_token"], s.refresh),
            "authorization_code": ("code", ["code", "redirect_uri",
                                            "code_verifier"], s.code),
        }.get(grant, ("other", [], None))
        entry["kind"] = kind
        if grant is None:
            s.problem("POST /token without grant_type")
            return error_reply("invalid_request",
                               description="grant_type missing")
        if call is None:
            return error_reply("unsupported_grant_type")
        return self.checked(s, form, need, lambda: call(form))

    def parse_form(self, method, body):
        """The form of a POST, or the reason it is not one."""
        ctype = self.headers.get("Content-Type", "")
        if method != "POST":
            return {}, "method %s, not POST" % method
        if ctype.split(";")[0].strip().lower() != \
                "application/x-www-form-urlencoded":
            return {}, "Content-Type %r, not application/x-www-form-" \
                "urlencoded" % ctype
        if body is None:
            return {}, "no valid Content-Length or a body over %d bytes" % \
                BODY_MAX
        try:
            pairs = urllib.parse.parse_qsl(body.decode("utf-8"),
                                           keep_blank_values=True,
                                           strict_parsing=bool(body))
        except (UnicodeDecodeError, ValueError):
            return {}, "body is not a form: %r" % body[:80]
        form = {}
        for k, v in pairs:
            if k in form:
                return form, "field %s twice (RFC 6749 3.2)" % k
            form[k] = v
        return form, None

    def checked(self, s, form, need, then):
        """The fields and the client, then the scenario's answer."""
        for f in need:
            if not form.get(f):
                s.problem("POST %s without %s" % (self.path, f))
                return error_reply("invalid_request",
                                   description="%s missing" % f)
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:], validate=True).decode()
                bid, _, bsecret = raw.partition(":")
                cid = urllib.parse.unquote_plus(bid)
                secret = urllib.parse.unquote_plus(bsecret)
            except ValueError:
                return error_reply("invalid_client", "bad Basic header")
            if "client_secret" in form:
                s.problem("client secret both in Basic and in the form")
        if cid is None:
            s.problem("POST %s without client_id" % self.path)
            return error_reply("invalid_request",
                               description="client_id missing")
        if cid != s.client_id:
            return error_reply("invalid_client", "client_id")
        if s.client_secret is not None and (
                secret is None or
                not hmac.compare_digest(secret, s.client_secret)):
            return error_reply("invalid_client", "client_secret")
        return then()

    def send(self, reply):
        if reply.hang:
            time.sleep(reply.hang)
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.ctype)
        self.send_header("Cache-Control", "no-store")
        if reply.location:
            self.send_header("Location", reply.location)
        if reply.padding:
            self.send_header("X-Padding", "x" * reply.padding)
        if reply.length:
            self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            self.wfile.write(reply.body)
            if not reply.length:
                # The body ends with the connection: a TLS close_notify
                # says it was not cut (a client must refuse a bare TCP
                # close after a body of no stated length).
                self.wfile.flush()
                self.connection.settimeout(2)
                self.connection.unwrap()
        except OSError:
            pass                # the client gave up reading: its right


class HTTPSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, state, ctx):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.ctx = ctx

    def server_bind(self):
        # Not HTTPServer's: its getfqdn() may wait for DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        # The handshake in the request's own thread: a client that
        # connects and says nothing holds up no one.
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as e:
            # Not a problem: refusing the certificate may be the test.
            with open(os.path.join(self.state.dir, "handshakes"), "a") as f:
                f.write("failed: %s\n" % e)
            return
        self.RequestHandlerClass(tls, client_address, self)


def load_options(args):
    opts = dict(DEFAULTS)
    if args.scenario:
        with open(args.scenario) as f:
            data = json.load(f)
        for k, v in data.items():
            if k not in DEFAULTS:
                raise ScenarioError("%s: unknown key %r" % (args.scenario, k))
            opts[k] = v
    for k in DEFAULTS:
        v = getattr(args, k)
        if v is not None and v is not False:
            opts[k] = v
    return opts


def serve(args):
    if not (args.dir and args.cert and args.key):
        sys.exit("oauthd.py: --dir, --cert and --key are required")
    try:
        state = Server(load_options(args), args.dir)
    except (ScenarioError, OSError, ValueError) as e:
        sys.exit("oauthd.py: %s" % e)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    httpd = HTTPSServer(state, ctx)
    state.port = httpd.server_address[1]
    idle = float(load_options(args)["idle_timeout"])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % state.port)
    os.rename(tmp, os.path.join(args.dir, "port"))
    httpd.timeout = 0.5
    while time.monotonic() - state.last_request < idle:
        httpd.handle_request()
    os._exit(0)


def client(args):
    """The self-test client: one request, the answer printed."""
    url = urllib.parse.urlsplit(args.request[1])
    if url.scheme == "https":
        ctx = ssl.create_default_context(cafile=args.ca)
        conn = http.client.HTTPSConnection(url.hostname, url.port,
                                           context=ctx, timeout=args.timeout)
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port,
                                          timeout=args.timeout)
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    headers = {}
    body = None
    if args.request[0] == "POST":
        body = urllib.parse.urlencode([tuple(f.split("=", 1))
                                       for f in args.fields])
        headers["Content-Type"] = args.content_type
    if args.basic:
        headers["Authorization"] = "Basic " + base64.b64encode(
            args.basic.encode()).decode()
    try:
        conn.request(args.request[0], path, body, headers)
        r = conn.getresponse()
        data = r.read()
    except TimeoutError as e:
        print("no answer: %s" % e)
        return 28
    except (OSError, http.client.HTTPException) as e:
        print("no answer: %s" % e)
        return 1
    print("%d %d %s" % (r.status, len(data),
                        r.getheader("Content-Length") or "-"))
    print(r.getheader("Location") or "-")
    sys.stdout.write(data.decode("utf-8", "replace") + "\n")
    return 0


def main():
    p = argparse.ArgumentParser(description="scripted OAuth 2.0 server")
    p.add_argument("--dir")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--scenario")
    for k in DEFAULTS:
        flag = "--" + k.replace("_", "-")
        if k == "no_complete_uri":
            p.add_argument(flag, action="store_true", default=None)
        else:
            p.add_argument(flag)
    p.add_argument("--request", nargs=2, metavar=("METHOD", "URL"))
    p.add_argument("--ca")
    p.add_argument("--basic")
    p.add_argument("--timeout", type=float, default=5)
    p.add_argument("--content-type",
                   default="application/x-www-form-urlencoded")
    p.add_argument("fields", nargs="*")
    args = p.parse_args()
    if args.request:
        sys.exit(client(args))
    serve(args)


if __name__ == "__main__":
    main()
