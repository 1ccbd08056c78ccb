#!/usr/bin/env python3
"""msgcheck.py - inspect a delivered message, independently of mailpost.

The real-MTA tests use this to look at what Postfix wrote into a Maildir.
It shares no code with mailpost: headers are parsed with Python's email
package, and byte-exact checks work on the raw file. A Maildir file has LF
line endings (Postfix turns the CRLF of the wire into LF), so "the same body"
means the sent body with every line ending made LF.

Usage: msgcheck.py FILE COMMAND [ARG...]

  header NAME       print each value of header NAME (unfolded), one per line;
                    exit 1 when there is none
  count NAME        print how many NAME headers there are
  has-header NAME   exit 0 when a NAME header exists, 1 when not (silent)
  addresses NAME    print the addresses in the NAME headers, one per line
  return-path       print the address inside Return-Path's <> (empty for <>)
  body              write the body bytes to stdout
  body-sha256       print the SHA-256 of the body bytes
  date-ok           exit 0 when there is exactly one Date header, parseable,
                    with a zone
  msgid-ok          exit 0 when there is exactly one Message-ID of the form
                    <left@right>
  check             exit 0 when the file is well formed: header/body
                    separator, no CR, no line over 998 octets, no parser
                    defects in the header
  same-as ORIGINAL  exit 0 when the body equals ORIGINAL's body with line
                    endings made LF (a missing final newline added), and
                    ORIGINAL's header fields all appear, in order and
                    unchanged, among FILE's (which may have more: Received,
                    Return-Path, Delivered-To...); else say what differs.
  fields            print the header field names in order, one per line
  decodes-as ORIGINAL
                    exit 0 when FILE, parsed as MIME, has the leaves of
                    ORIGINAL in the same order, each with the same content
                    type and the same bytes after decoding its transfer
                    encoding (line endings made LF in both files first, a
                    missing final newline not added), and ORIGINAL's header
                    fields (but Content-Transfer-Encoding) all appear among
                    FILE's with the same unfolded value; else say what differs

Exit status: 0 yes/ok, 1 no/differs, 2 usage or unreadable file.
"""

import email
import email.policy
import email.utils
import hashlib
import re
import sys


def normalize_eol(data):
    """Every CRLF, bare CR and bare LF becomes LF."""
    return re.sub(rb"\r\n|\r|\n", b"\n", data)


def split_message(data):
    """Split LF-only data into (header bytes, body bytes) at the first empty
    line. A message without an empty line is all header."""
    if data.startswith(b"\n"):
        return b"", data[1:]
    pos = data.find(b"\n\n")
    if pos < 0:
        return data, b""
    return data[: pos + 1], data[pos + 2 :]


def raw_fields(header):
    """Return [(name, raw value with folding kept)] from LF-only header bytes."""
    fields = []
    for line in header.split(b"\n"):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + b"\n" + line)
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            fields.append((None, line))
        else:
            fields.append((name.decode("ascii", "replace"), value))
    return fields


def unfold(value):
    return re.sub(r"\r?\n(?=[ \t])", "", value).strip()


class Message:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        header, self.body = split_message(normalize_eol(self.raw))
        self.header = header
        self.fields = raw_fields(header)
        self.parsed = email.message_from_bytes(
            header + b"\n", policy=email.policy.compat32
        )

    def values(self, name):
        return [unfold(v) for v in (self.parsed.get_all(name) or [])]


def fail(msg):
    print(msg, file=sys.stderr)
    return 1


def cmd_header(msg, name):
    values = msg.values(name)
    for v in values:
        print(v)
    return 0 if values else 1


def cmd_count(msg, name):
    print(len(msg.values(name)))
    return 0


def cmd_has_header(msg, name):
    return 0 if msg.values(name) else 1


def cmd_addresses(msg, name):
    for _, addr in email.utils.getaddresses(msg.values(name)):
        if addr:
            print(addr)
    return 0


def cmd_return_path(msg):
    values = msg.values("Return-Path")
    if len(values) != 1:
        return fail("%d Return-Path headers, want 1" % len(values))
    m = re.fullmatch(r"<(.*)>", values[0])
    if not m:
        return fail("Return-Path is not <address>: %r" % values[0])
    print(m.group(1))
    return 0


def cmd_body(msg):
    sys.stdout.buffer.write(msg.body)
    return 0


def cmd_body_sha256(msg):
    print(hashlib.sha256(msg.body).hexdigest())
    return 0


def cmd_date_ok(msg):
    values = msg.values("Date")
    if len(values) != 1:
        return fail("%d Date headers, want 1" % len(values))
    try:
        when = email.utils.parsedate_to_datetime(values[0])
    except (TypeError, ValueError) as e:
        return fail("Date %r does not parse: %s" % (values[0], e))
    if when is None or when.tzinfo is None:
        return fail("Date %r has no zone" % values[0])
    return 0


# RFC 5322 section 3.6.4: msg-id = "<" id-left "@" id-right ">", where id-left
# is dot-atom-text and id-right dot-atom-text or no-fold-literal.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
DOT_ATOM = ATEXT + r"(?:\." + ATEXT + r")*"
MSGID = r"<" + DOT_ATOM + r"@(?:" + DOT_ATOM + r"|\[[!-Z^-~]*\])>"


def cmd_msgid_ok(msg):
    values = msg.values("Message-ID")
    if len(values) != 1:
        return fail("%d Message-ID headers, want 1" % len(values))
    if not re.fullmatch(MSGID, values[0]):
        return fail("Message-ID %r is not <left@right>" % values[0])
    return 0


def cmd_check(msg):
    problems = []
    if b"\r" in msg.raw:
        problems.append("CR in a Maildir file (want LF line endings)")
    for n, line in enumerate(msg.raw.split(b"\n"), 1):
        if len(line) > 998:
            problems.append("line %d has %d octets (over 998)" % (n, len(line)))
            break
    if b"\n\n" not in msg.raw:
        problems.append("no empty line between header and body")
    for name, value in msg.fields:
        if name is None:
            problems.append("header line without a colon: %r" % value[:60])
    parsed = email.message_from_bytes(msg.header + b"\n", policy=email.policy.default)
    for d in parsed.defects:
        problems.append("header defect: %s" % d)
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def describe_diff(got, want):
    i = 0
    while i < len(got) and i < len(want) and got[i] == want[i]:
        i += 1
    line = want.count(b"\n", 0, i) + 1
    return "%d bytes, want %d; first difference at byte %d (line %d): got %r, want %r" % (
        len(got), len(want), i, line, got[i : i + 40], want[i : i + 40])


def cmd_same_as(msg, original):
    with open(original, "rb") as f:
        data = normalize_eol(f.read())
    if data and not data.endswith(b"\n"):
        data += b"\n"
    header, body = split_message(data)
    status = 0
    if msg.body != body:
        status = fail("body differs: " + describe_diff(msg.body, body))
    # Each original field must appear, unchanged, after the previous match.
    got = msg.fields
    pos = 0
    for name, value in raw_fields(header):
        for j in range(pos, len(got)):
            if got[j][0] is not None and name is not None \
                    and got[j][0].lower() == name.lower() and got[j][1] == value:
                pos = j + 1
                break
        else:
            status = fail("header field missing, changed or out of order: %s:%s"
                          % (name, value.decode("utf-8", "replace")))
    return status


def leaves(parsed):
    return [p for p in parsed.walk() if not p.is_multipart()]


def cmd_decodes_as(msg, original):
    with open(original, "rb") as f:
        want = email.message_from_bytes(normalize_eol(f.read()),
                                        policy=email.policy.compat32)
    got = email.message_from_bytes(normalize_eol(msg.raw),
                                   policy=email.policy.compat32)
    status = 0
    a, b = leaves(got), leaves(want)
    if len(a) != len(b):
        return fail("%d leaf parts, want %d" % (len(a), len(b)))
    for n, (g, w) in enumerate(zip(a, b), 1):
        if g.get_content_type() != w.get_content_type():
            status = fail("part %d is %s, want %s" % (
                n, g.get_content_type(), w.get_content_type()))
        gb, wb = g.get_payload(decode=True), w.get_payload(decode=True)
        if gb != wb:
            status = fail("part %d decodes differently: %s" % (
                n, describe_diff(gb, wb)))
    for name, value in want.items():
        if name.lower() == "content-transfer-encoding":
            continue
        if unfold(value) not in [unfold(v) for v in got.get_all(name) or []]:
            status = fail("header field missing or changed: %s: %s" % (name, value))
    return status


def cmd_fields(msg):
    for name, _ in msg.fields:
        print(name if name is not None else "(not a field)")
    return 0


COMMANDS = {
    "header": (cmd_header, 1),
    "count": (cmd_count, 1),
    "has-header": (cmd_has_header, 1),
    "addresses": (cmd_addresses, 1),
    "return-path": (cmd_return_path, 0),
    "body": (cmd_body, 0),
    "body-sha256": (cmd_body_sha256, 0),
    "date-ok": (cmd_date_ok, 0),
    "msgid-ok": (cmd_msgid_ok, 0),
    "check": (cmd_check, 0),
    "same-as": (cmd_same_as, 1),
    "fields": (cmd_fields, 0),
    "decodes-as": (cmd_decodes_as, 1),
}


def main(argv):
    if len(argv) < 3 or argv[2] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    func, nargs = COMMANDS[argv[2]]
    if len(argv) != 3 + nargs:
        print("msgcheck.py: %s takes %d argument(s)" % (argv[2], nargs), file=sys.stderr)
        return 2
    try:
        msg = Message(argv[1])
        return func(msg, *argv[3:])
    except OSError as e:
        print("msgcheck.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
