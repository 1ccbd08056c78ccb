#!/usr/bin/env python3
"""mimecheck.py - an independent MIME checker for mailpost's composer tests.

It shares no code with mailpost: the MIME tree is parsed with Python's email
package (policy=email.policy.default), and the line and boundary checks use
a small raw scanner of their own. The input is one message file: the output
of `mailpost --dry-run` (CRLF line ends) or a file Postfix delivered into a
Maildir (LF line ends). Either way the message is parsed with its line ends
made LF, as a mail client on a Unix system would see it, so a text part that
was LF-terminated on the sending side decodes to the same bytes.

Usage: mimecheck.py FILE COMMAND [ARG...]

Leaf parts (the non-multipart parts) are numbered 1, 2, ... in the order of
the tree (depth first); a single-part message is leaf 1.

  structure               print the MIME tree, one line per part, indented
                          by depth: "N: type/subtype" for leaves (then
                          charset=, cte=, disposition=, filename=, name=
                          when present) and "multipart/sub" for containers
  header NAME             print each decoded value of header NAME of the
                          top-level header, one per line; exit 1 when none
  count NAME              print how many NAME headers the top level has
  addresses NAME          print the addr-specs of the NAME headers
  display-names NAME      print the decoded display names of NAME headers
                          (an empty line for an address without one)
  raw-header NAME         print each raw value of NAME (folding kept,
                          nothing decoded)
  boundary                print the boundary of every multipart, one per
                          line, outermost first
  filenames               print the decoded file name of every leaf that
                          has one (Content-Disposition filename, else the
                          Content-Type name), one per line
  part N                  write the decoded payload of leaf N to stdout
  part-sha256 N           print the SHA-256 of the decoded payload of leaf N
  part-header N NAME      print the decoded value of header NAME of leaf N
  param N HEADER PARAM    print the decoded parameter PARAM of HEADER of
                          leaf N (e.g. "param 2 Content-Type name")
  attachment FILENAME     write the decoded payload of the one leaf whose
                          file name is FILENAME
  attachment-sha256 FILENAME   its SHA-256
  body-text               write the decoded text (UTF-8) of the first
                          text/plain leaf that is not an attachment, its
                          line ends made LF (a text part is sent in
                          canonical CRLF form, also inside base64, and a
                          mail client shows it with local line ends)
  html-text               the same for the first text/html leaf
  check-lines [--header-max N]
                          line ends consistent (all CRLF, or all LF and no
                          CR); every header line (of the message and of
                          every part) at most N characters (default 78);
                          every line at most 998; every line of a base64
                          or quoted-printable body at most 76
  check-7bit              no byte over 127 and no NUL anywhere
  encoded-words           every RFC 2047 encoded word in the headers is at
                          most 75 characters, stands apart from the text
                          around it, and decodes on its own (no multibyte
                          character split between two words); none inside
                          an addr-spec
  boundaries              every multipart has a boundary; the boundary
                          delimiter appears only as delimiter lines, the
                          close delimiter exactly once, and the raw scan
                          finds as many parts as the email package
  defects                 the email package reported no defect in any part
                          or header (print them otherwise)
  check [--header-max N]  all of: MIME-Version 1.0, known transfer
                          encodings, check-lines, encoded-words,
                          boundaries, defects

Exit status: 0 yes/ok, 1 no/differs, 2 usage or unreadable file.
"""

import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import os
import re
import sys

ADDRESS_HEADERS = {"from", "to", "cc", "bcc", "reply-to", "sender",
                   "resent-from", "resent-to", "resent-cc"}
KNOWN_CTE = {"7bit", "8bit", "binary", "base64", "quoted-printable"}
ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")


class Usage(Exception):
    pass


def fail(text):
    print(text, file=sys.stderr)
    return 1


class Checked:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        self.crlf = b"\r\n" in self.raw
        self.lf = re.sub(rb"\r\n", b"\n", self.raw)
        self.msg = email.message_from_bytes(self.lf,
                                            policy=email.policy.default)
        self.leaves = [p for p in self.msg.walk() if not p.is_multipart()]

    def leaf(self, n):
        try:
            k = int(n)
        except ValueError:
            raise Usage("leaf number wanted, got %r" % n)
        if not 1 <= k <= len(self.leaves):
            raise Usage("no leaf %d (the message has %d)"
                        % (k, len(self.leaves)))
        return self.leaves[k - 1]

    def by_filename(self, name):
        found = [p for p in self.leaves if filename_of(p) == name]
        if len(found) != 1:
            raise Usage("%d leaves with the file name %r (names: %r)"
                        % (len(found), name,
                           [filename_of(p) for p in self.leaves]))
        return found[0]


def filename_of(part):
    name = part.get_filename()
    if name is None:
        name = part.get_param("name", header="content-type")
        if isinstance(name, tuple):  # RFC 2231 triple
            name = email.utils.collapse_rfc2231_value(name)
        if name is not None:
            name = str(email.header.make_header(
                email.header.decode_header(name)))
    return name


def payload(part):
    data = part.get_payload(decode=True)
    return b"" if data is None else data


# --- the MIME tree ------------------------------------------------------------

def cmd_structure(c):
    n = 0

    def show(part, depth):
        nonlocal n
        pad = "  " * depth
        if part.is_multipart():
            print("%s%s" % (pad, part.get_content_type()))
            for sub in part.iter_parts():
                show(sub, depth + 1)
            return
        n += 1
        bits = ["%s%d: %s" % (pad, n, part.get_content_type())]
        cs = part.get_param("charset")
        if cs is not None:
            bits.append("charset=%s" % str(cs).lower())
        cte = part.get("Content-Transfer-Encoding")
        if cte is not None:
            bits.append("cte=%s" % str(cte).strip().lower())
        disp = part.get_content_disposition()
        if disp is not None:
            bits.append("disposition=%s" % disp)
        fn = part.get_filename()
        if fn is not None:
            bits.append("filename=%r" % fn)
        nm = part.get_param("name")
        if nm is not None:
            if isinstance(nm, tuple):
                nm = email.utils.collapse_rfc2231_value(nm)
            bits.append("name=%r" % str(nm))
        print(" ".join(bits))

    show(c.msg, 0)
    return 0


def cmd_header(c, name):
    values = c.msg.get_all(name) or []
    for v in values:
        print(str(v))
    return 0 if values else 1


def cmd_count(c, name):
    print(len(c.msg.get_all(name) or []))
    return 0


def address_list(c, name):
    out = []
    for v in c.msg.get_all(name) or []:
        for a in getattr(v, "addresses", ()):
            out.append(a)
    return out


def cmd_addresses(c, name):
    for a in address_list(c, name):
        print(a.addr_spec)
    return 0


def cmd_display_names(c, name):
    for a in address_list(c, name):
        print(a.display_name)
    return 0


def cmd_raw_header(c, name):
    values = [v for k, v in c.msg.raw_items() if k.lower() == name.lower()]
    for v in values:
        print(v)
    return 0 if values else 1


def cmd_boundary(c):
    for part in c.msg.walk():
        if part.is_multipart():
            print(part.get_boundary())
    return 0


def cmd_filenames(c):
    for p in c.leaves:
        fn = filename_of(p)
        if fn is not None:
            print(fn)
    return 0


def cmd_part(c, n):
    sys.stdout.buffer.write(payload(c.leaf(n)))
    return 0


def cmd_part_sha256(c, n):
    print(hashlib.sha256(payload(c.leaf(n))).hexdigest())
    return 0


def cmd_part_header(c, n, name):
    values = c.leaf(n).get_all(name) or []
    for v in values:
        print(str(v))
    return 0 if values else 1


def cmd_param(c, n, header, param):
    v = c.leaf(n).get_param(param, header=header)
    if v is None:
        return fail("leaf %s: no %s parameter in %s" % (n, param, header))
    if isinstance(v, tuple):
        v = email.utils.collapse_rfc2231_value(v)
    print(v)
    return 0


def cmd_attachment(c, name):
    sys.stdout.buffer.write(payload(c.by_filename(name)))
    return 0


def cmd_attachment_sha256(c, name):
    print(hashlib.sha256(payload(c.by_filename(name))).hexdigest())
    return 0


def first_text(c, subtype):
    for p in c.leaves:
        if p.get_content_type() == "text/" + subtype and \
                p.get_content_disposition() != "attachment" and \
                p.get_filename() is None:
            return p
    return None


def cmd_text(c, subtype):
    p = first_text(c, subtype)
    if p is None:
        return fail("no text/%s part that is not an attachment" % subtype)
    text = re.sub(r"\r\n", "\n", p.get_content())
    sys.stdout.buffer.write(text.encode("utf-8"))
    return 0


# --- raw scanning ---------------------------------------------------------------

class RawPart:
    """A part found by the raw scanner: header lines, body lines, children."""

    def __init__(self):
        self.header_lines = []   # (line number, text)
        self.body_lines = []     # (line number, text)
        self.children = []
        self.cte = None
        self.boundary = None


def scan(lines, start, end, problems):
    """Scan lines[start:end] as one part (header, empty line, body)."""
    part = RawPart()
    i = start
    while i < end and lines[i] != b"":
        part.header_lines.append((i + 1, lines[i]))
        i += 1
    if i < end:
        i += 1  # the empty line
    header = b"\n".join(t for _, t in part.header_lines) + b"\n\n"
    parsed = email.message_from_bytes(header, policy=email.policy.compat32)
    part.cte = (parsed.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    if parsed.get_content_maintype() == "multipart":
        part.boundary = parsed.get_param("boundary")
        if not part.boundary:
            problems.append("line %d: multipart without a boundary"
                            % (start + 1))
            part.body_lines = [(k + 1, lines[k]) for k in range(i, end)]
            return part
        delim = b"--" + part.boundary.encode("ascii", "replace")
        marks = []
        close = []
        for k in range(i, end):
            line = lines[k]
            if line == delim or (line.startswith(delim) and
                                 line[len(delim):].strip(b" \t") == b""):
                marks.append(k)
            elif line.startswith(delim + b"--") and \
                    line[len(delim) + 2:].strip(b" \t") == b"":
                close.append(k)
            elif delim in line:
                problems.append("line %d: the boundary %r occurs inside "
                                "content" % (k + 1, part.boundary))
        if len(close) != 1:
            problems.append("boundary %r: %d close delimiters, want 1"
                            % (part.boundary, len(close)))
        stop = close[0] if close else end
        inner = [m for m in marks if m < stop]
        if not inner:
            problems.append("boundary %r: no part" % part.boundary)
        if any(m > stop for m in marks):
            problems.append("boundary %r: a delimiter after the close "
                            "delimiter" % part.boundary)
        for a, b in zip(inner, inner[1:] + [stop]):
            part.children.append(scan(lines, a + 1, b, problems))
        return part
    part.body_lines = [(k + 1, lines[k]) for k in range(i, end)]
    return part


def raw_tree(c, problems):
    lines = c.lf.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return scan(lines, 0, len(lines), problems)


def walk_raw(p):
    yield p
    for ch in p.children:
        yield from walk_raw(ch)


def check_lines(c, header_max, problems):
    raw = c.raw
    if c.crlf:
        bare_lf = len(re.findall(rb"(?<!\r)\n", raw))
        bare_cr = len(re.findall(rb"\r(?!\n)", raw))
        if bare_lf:
            problems.append("%d bare LF line end(s) in a CRLF message" % bare_lf)
        if bare_cr:
            problems.append("%d bare CR(s)" % bare_cr)
    elif b"\r" in raw:
        problems.append("CR without LF in an LF message")
    if raw and not raw.endswith(b"\n"):
        problems.append("the message does not end with a line end")
    tree = raw_tree(c, problems)
    for p in walk_raw(tree):
        for n, text in p.header_lines:
            if len(text) > header_max:
                problems.append("line %d: header line of %d characters "
                                "(over %d): %r" % (n, len(text), header_max,
                                                   text[:80]))
        limit = 76 if p.cte in ("base64", "quoted-printable") else 998
        for n, text in p.body_lines:
            if len(text) > limit:
                problems.append("line %d: %s body line of %d characters "
                                "(over %d)" % (n, p.cte, len(text), limit))
    for n, text in enumerate(c.lf.split(b"\n"), 1):
        if len(text) > 998:
            problems.append("line %d: %d characters (over 998)"
                            % (n, len(text)))
    return tree


def header_fields(c):
    """(name, unfolded raw value) of every header of every part."""
    for part in c.msg.walk():
        for k, v in part.raw_items():
            yield k, re.sub(r"\r?\n(?=[ \t])", "", str(v))


def check_encoded_words(c, problems):
    for name, value in header_fields(c):
        for m in ENCODED_WORD.finditer(value):
            word = m.group(0)
            where = "%s: encoded word %r" % (name, word)
            if len(word) > 75:
                problems.append("%s is %d characters (over 75)"
                                % (where, len(word)))
            before = value[m.start() - 1] if m.start() > 0 else " "
            after = value[m.end()] if m.end() < len(value) else " "
            if not (before.isspace() or before in "(\"") or \
                    not (after.isspace() or after in ")<,\""):
                problems.append("%s is not separated from the text around "
                                "it" % where)
            charset, enc, text = m.groups()
            charset = charset.split("*")[0]
            try:
                if enc in "bB":
                    import base64
                    data = base64.b64decode(text, validate=True)
                else:
                    data = re.sub(
                        rb"=([0-9A-Fa-f]{2})",
                        lambda h: bytes([int(h.group(1), 16)]),
                        text.replace("_", " ").encode("ascii"))
                    if re.search(rb"=(?![0-9A-Fa-f]{2})", data):
                        raise ValueError("bad = escape")
                data.decode(charset, errors="strict")
            except (ValueError, LookupError) as e:
                problems.append("%s does not decode on its own: %s"
                                % (where, e))
        if name.lower() in ADDRESS_HEADERS:
            for _, addr in email.utils.getaddresses([value]):
                if "=?" in addr:
                    problems.append("%s: encoded word inside the addr-spec "
                                    "%r" % (name, addr))


def check_defects(c, problems):
    for k, part in enumerate(c.msg.walk()):
        for d in part.defects:
            problems.append("part %d (%s): %s: %s"
                            % (k, part.get_content_type(),
                               type(d).__name__, d))
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                problems.append("part %d header %s: %s: %s"
                                % (k, name, type(d).__name__, d))
        if not part.is_multipart():
            # Decoding registers payload defects (bad base64 and the like).
            before = len(part.defects)
            payload(part)
            for d in part.defects[before:]:
                problems.append("part %d payload: %s: %s"
                                % (k, type(d).__name__, d))


def check_boundaries(c, problems):
    tree = raw_tree(c, problems)

    def compare(raw, part, where):
        if part.is_multipart() != bool(raw.boundary):
            problems.append("%s: the raw scan and the email package "
                            "disagree on multipart" % where)
            return
        if part.is_multipart():
            subs = list(part.iter_parts())
            if len(subs) != len(raw.children):
                problems.append("%s: %d parts by the raw scan, %d by the "
                                "email package" % (where, len(raw.children),
                                                   len(subs)))
                return
            for k, (r, p) in enumerate(zip(raw.children, subs), 1):
                compare(r, p, "%s.%d" % (where, k))

    compare(tree, c.msg, "message")


def report(problems):
    problems = list(dict.fromkeys(problems))  # each once, in order
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


def header_max_arg(args):
    if not args:
        return 78
    if len(args) == 2 and args[0] == "--header-max" and args[1].isdigit():
        return int(args[1])
    raise Usage("want [--header-max N]")


def cmd_check_lines(c, *args):
    problems = []
    check_lines(c, header_max_arg(args), problems)
    return report(problems)


def cmd_check_7bit(c):
    problems = []
    for n, line in enumerate(c.lf.split(b"\n"), 1):
        if any(b > 127 for b in line):
            problems.append("line %d: 8-bit data: %r" % (n, line[:80]))
        if b"\0" in line:
            problems.append("line %d: NUL" % n)
    return report(problems)


def cmd_encoded_words(c):
    problems = []
    check_encoded_words(c, problems)
    return report(problems)


def cmd_boundaries(c):
    problems = []
    check_boundaries(c, problems)
    return report(problems)


def cmd_defects(c):
    problems = []
    check_defects(c, problems)
    return report(problems)


def cmd_check(c, *args):
    problems = []
    mv = c.msg.get_all("MIME-Version") or []
    if len(mv) != 1 or str(mv[0]).strip() != "1.0":
        problems.append("MIME-Version: %r, want one header 1.0"
                        % [str(v) for v in mv])
    for part in c.msg.walk():
        cte = part.get("Content-Transfer-Encoding")
        if cte is not None and str(cte).strip().lower() not in KNOWN_CTE:
            problems.append("unknown Content-Transfer-Encoding %r" % str(cte))
        if part.is_multipart() and cte is not None and \
                str(cte).strip().lower() not in ("7bit", "8bit", "binary"):
            problems.append("multipart with Content-Transfer-Encoding %r"
                            % str(cte))
    check_lines(c, header_max_arg(args), problems)
    check_encoded_words(c, problems)
    check_boundaries(c, problems)
    check_defects(c, problems)
    return report(problems)


COMMANDS = {
    "structure": (cmd_structure, 0, 0),
    "header": (cmd_header, 1, 1),
    "count": (cmd_count, 1, 1),
    "addresses": (cmd_addresses, 1, 1),
    "display-names": (cmd_display_names, 1, 1),
    "raw-header": (cmd_raw_header, 1, 1),
    "boundary": (cmd_boundary, 0, 0),
    "filenames": (cmd_filenames, 0, 0),
    "part": (cmd_part, 1, 1),
    "part-sha256": (cmd_part_sha256, 1, 1),
    "part-header": (cmd_part_header, 2, 2),
    "param": (cmd_param, 3, 3),
    "attachment": (cmd_attachment, 1, 1),
    "attachment-sha256": (cmd_attachment_sha256, 1, 1),
    "body-text": (lambda c: cmd_text(c, "plain"), 0, 0),
    "html-text": (lambda c: cmd_text(c, "html"), 0, 0),
    "check-lines": (cmd_check_lines, 0, 2),
    "check-7bit": (cmd_check_7bit, 0, 0),
    "encoded-words": (cmd_encoded_words, 0, 0),
    "boundaries": (cmd_boundaries, 0, 0),
    "defects": (cmd_defects, 0, 0),
    "check": (cmd_check, 0, 2),
}


def main(argv):
    if len(argv) < 3 or argv[2] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    func, lo, hi = COMMANDS[argv[2]]
    args = argv[3:]
    if not lo <= len(args) <= hi:
        print("mimecheck.py: %s takes %d to %d argument(s)"
              % (argv[2], lo, hi), file=sys.stderr)
        return 2
    try:
        c = Checked(argv[1])
        rc = func(c, *args)
        sys.stdout.flush()
        return rc
    except BrokenPipeError:
        # The reader had enough (| head): not an error of the message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:
        print("mimecheck.py: %s" % e, file=sys.stderr)
        return 2
    except Usage as e:
        print("mimecheck.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
