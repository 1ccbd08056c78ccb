/*
 * encode.h - the MIME encodings (RFC 2045, 2047, 2231), as pure streaming
 * code: base64 and quoted-printable bodies with lines of at most 76
 * characters and CRLF line ends, encoded words for header text, encoded
 * parameters for file names, and multipart boundaries; and RFC 3986's
 * percent-encoding, for the OAuth2 addresses and forms.
 *
 * The body encoders are streaming: any split of the input gives the same
 * output, and the exact output size can be known before sending (base64
 * from the input size alone; quoted-printable by a measuring pass that
 * pushes the input with out == NULL).
 */
#ifndef MAILPOST_ENCODE_H
#define MAILPOST_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

/* RFC 2045 6.7 and 6.8: encoded lines are at most 76 characters. */
#define ENCODE_LINE_MAX 76

/* --- base64 (RFC 2045 6.8) --- */
struct b64_encoder {
	unsigned char carry[3];
	size_t ncarry;
	size_t col; /* characters on the current output line */
};

/* Worst-case output for n input bytes (one push). */
#define B64_OUT_MAX(n) (((n) + 2) / 3 * 4 + ((n) / 57 + 2) * 2 + 8)

void b64_init(struct b64_encoder *e);
/* Encode in[0..n) into out (B64_OUT_MAX(n) bytes); returns bytes written. */
size_t b64_push(struct b64_encoder *e, const void *in, size_t n, char *out);
/* The last group, padding, and a final CRLF (out holds 8 bytes); an empty
 * input gives no output at all. */
size_t b64_finish(struct b64_encoder *e, char *out);
/* Exact size of the whole encoding of n bytes, CRLFs included. */
uint64_t b64_encoded_size(uint64_t n);

/* The size of in[0..n) as base64 on one line, padded (RFC 4648 4). */
#define B64_LINE_SIZE(n) (((n) + 2) / 3 * 4)
/* in[0..n) as base64 on one line, with no line break and not terminated
 * (an encoded word, a SASL response): B64_LINE_SIZE(n) bytes into out. */
size_t b64_line(const void *in, size_t n, char *out);
/* Decode the base64 text in[*at..len) (RFC 4648 4) into out, which has
 * room for (len - *at) / 4 * 3 + 3 bytes, white space (space, tab, CR,
 * LF) skipped wherever it stands (PEM's lines, RFC 7468 3), '=' padding
 * only where it ends a group; or only until max bytes are out, and then
 * *at is where to go on (SIZE_MAX: all).  Returns the number of bytes,
 * or SIZE_MAX with the reason in *why (a static string, worded for a
 * PEM block, castore.c's messages): a byte outside
 * the alphabet, a misplaced '=', or text cut short of a whole group. */
size_t b64_decode_text(const char *in, size_t len, size_t *at,
                       unsigned char *out, size_t max, const char **why);
/* Decode quads groups of four base64 characters that stand in[0..4 *
 * quads) with nothing between them (no white space, no '='): 3 * quads
 * bytes into out; fewer (whole groups) when a character is not one of
 * the alphabet's.  The quick step for a caller that knows where the
 * groups stand (castore.c in a PEM block of regular lines). */
size_t b64_decode_quads(const char *in, size_t quads, unsigned char *out);

/* --- quoted-printable (RFC 2045 6.7), for text --- */
struct qp_encoder {
	size_t col;        /* characters on the current output line */
	unsigned char held; /* the last byte, held until we know whether it
			     * ends the line (rule 3, and column 76) */
	bool has_held;
	bool pending_cr;   /* a CR seen, waiting for its LF */
	unsigned char from_len; /* bytes of "From " matched at a line start */
};

/* Worst-case output for n input bytes (one push). */
#define QP_OUT_MAX(n) ((n) * 3 + ((n) * 3 / 75 + 2) * 3 + 8)

void qp_init(struct qp_encoder *e);
/* Encode text in[0..n): line ends (LF or CRLF) become CRLF hard breaks;
 * other bytes are encoded per the rules of RFC 2045 6.7 with soft breaks
 * ("=" CRLF) so that no line passes 76 characters; a line starting with
 * "." or "From " is encoded so that neither dot-stuffing nor mbox
 * quoting changes it, and a line a soft break starts never starts with
 * "-" (it could complete a boundary delimiter, RFC 2046 5.1.1).  With
 * out == NULL nothing is written and the size
 * is still returned (the measuring pass). */
size_t qp_push(struct qp_encoder *e, const void *in, size_t n, char *out);
/* Flush what is held (out holds 16 bytes, or NULL to measure).  No CRLF
 * is added: text that does not end with a line end ends without a hard
 * break (and without a soft one), so it decodes byte for byte; the CRLF
 * before a following boundary belongs to the delimiter (RFC 2046 5.1.1).
 * e->col is then the length of the last output line: non-zero when the
 * output does not end with CRLF (a caller that needs a line end, such as
 * a message body that is not followed by a boundary, adds one; the
 * encoder then needs qp_init before further use).  Returns bytes
 * written. */
size_t qp_finish(struct qp_encoder *e, char *out);

/* --- header text (RFC 2047, RFC 5322 2.2.3) --- */

/* Append `text` as a header field body to out, starting at column `col`
 * (after "Subject: "): as it is when it is printable ASCII, else as UTF-8
 * "B" or "Q" encoded words, folded (CRLF + space) so no line passes 78
 * characters, never splitting a UTF-8 sequence.  Text with CR, LF or
 * other control characters is refused (ERROR_USAGE): that is how header
 * injection is made impossible.  Invalid UTF-8 is ERROR_USAGE as well.
 * Details: only the words that need it are encoded (8-bit words, words
 * that look like "=?...?=", words over 900 characters), consecutive ones
 * as one run; each run takes B or Q, whichever is shorter.  A tab is
 * allowed (it is white space).  A plain word longer than a line is kept
 * whole rather than cut. */
int encode_header_text(struct buf *out, const char *text, size_t col,
		       struct error *err);

/* Append a display name and address as a mailbox ("Name" <a@b>, or
 * =?UTF-8?...?= <a@b>); the addr-spec itself is never encoded.  An ASCII
 * name of atoms goes as it is, another ASCII name as a quoted-string; a
 * NULL or empty name gives the bare address.  Controls (tab included) in
 * either are refused (ERROR_USAGE). */
int encode_mailbox(struct buf *out, const char *name, const char *addr,
		   size_t col, struct error *err);

/* --- parameters (RFC 2231, RFC 2045 5.1) --- */

/* Append "; name=value" to out (a Content-Type or Content-Disposition
 * line), exactly once: bare when the value is only letters, digits and
 * "._-", else a quoted string, when it is ASCII and fits on the line;
 * non-ASCII or long values use RFC 2231 (name*=utf-8''..., continued
 * name*0*=, name*1*= ... under 78 columns).  No RFC 2047 words are
 * written when `legacy` is NULL, which is what the composer passes.
 * Control characters are refused (ERROR_USAGE).  The column is taken from
 * what out already holds after its last LF, so out should hold the whole
 * field ("Content-Type: text/plain").
 * `legacy` (kept for compatibility; the composer does not use it): when
 * given, a second parameter of that (different) name is added for old
 * clients, plain when the value is, else RFC 2047 "B" words in quotes --
 * which RFC 2047 5 forbids and Python's email package flags as a defect,
 * so pass NULL. */
int encode_param(struct buf *out, const char *name, const char *value,
		 const char *legacy, struct error *err);

/* --- boundaries (RFC 2046 5.1.1) --- */

/* --- xtext (RFC 3461 4), for the DSN ENVID --- */

/* in as xtext into out[0..n), always terminated, cut at a whole
 * character: '+', '=' and bytes outside '!'..'~' are written "+XX", so
 * nothing in it can end the command or start a new parameter. */
void xtext_encode(const char *in, char *out, size_t n);

/* The text of xtext in ("+2B" for '+') into out[0..n), always
 * terminated, cut when out is full; a '+' not followed by two hex digits
 * is kept as it is.  Returns out. */
char *xtext_decode(const char *in, char *out, size_t n);

/* RFC 3461 4.2: the most characters of an ORCPT value's xtext. */
#define XTEXT_ORCPT_MAX 500

/* The ORCPT value for the recipient addr as sent on RCPT, into
 * out[0..n): "rfc822;" and addr as xtext when addr is ASCII, else (an
 * SMTPUTF8 address) "utf-8;" and RFC 6533 3's utf-8-addr-xtext, each
 * character outside QCHAR as "\x{HEX}" of its code point, which RFC 6533
 * says is safe even where SMTPUTF8 is not.  0; -1 when addr is not
 * UTF-8, or its xtext is over XTEXT_ORCPT_MAX or does not fit (ORCPT is
 * optional: the caller sends none). */
int xtext_orcpt(const char *addr, char *out, size_t n);

/* --- percent-encoding (RFC 3986 2.1), for URLs and HTML forms --- */

/* s with every byte but RFC 3986 2.3's unreserved characters (letters,
 * digits, '-', '.', '_', '~') as %XX in upper-case hex: what a URL's
 * query and application/x-www-form-urlencoded both take, written into
 * out, which has room for 3 * strlen(s) bytes.  The bytes written; no
 * NUL is added. */
size_t url_encode(char *out, const char *s);

/* A new random boundary (at most 70 characters) into out (71 bytes). It
 * contains "=_", which can occur in neither base64 nor quoted-printable
 * output, and enough randomness that it cannot occur in other content:
 * "=_mailpost_" and 32 base32 characters (160 bits from getrandom(2)).
 * It must be quoted in the Content-Type ("=" is a tspecial). */
void encode_boundary(char *out, size_t n);

#endif
