/*
 * encode.c - the MIME encodings (see encode.h): base64 (RFC 2045 6.8),
 * quoted-printable (RFC 2045 6.7), encoded words for header text
 * (RFC 2047), parameter values (RFC 2045 5.1, RFC 2231) and multipart
 * boundaries (RFC 2046 5.1.1).
 *
 * Header choices: header text and display names become "B" or "Q"
 * encoded words, whichever is shorter for the run of words that needs
 * encoding (Q uses only the characters RFC 2047 5(3) allows in a phrase,
 * so the same words are valid in a Subject and in a display name).  Only
 * the words that need it are encoded; plain words stay readable.
 */
#include "config.h"

#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters. */
#define HEADER_LINE_MAX 78
/* RFC 2047 2: an encoded word is at most 75 characters. */
#define ENCODED_WORD_MAX 75
/* "=?UTF-8?B?" and "?=" around the encoded text. */
#define ENCODED_WORD_OVERHEAD 12
/* A plain word longer than this is encoded instead, so that it can be
 * split: RFC 5322 2.1.1 forbids lines over 998 characters. */
#define PLAIN_WORD_MAX 900

/* ------------------------------------------------------------------ */
/* base64 (RFC 2045 6.8, RFC 4648 4)                                    */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Two output characters for each 12-bit value: two lookups per group of
 * three bytes instead of four. */
static char b64_pair[4096][2];
static bool b64_pair_ready;

static void
b64_make_pairs(void)
{
	if (b64_pair_ready)
		return;
	for (size_t i = 0; i < 4096; i++) {
		b64_pair[i][0] = b64_alphabet[i >> 6];
		b64_pair[i][1] = b64_alphabet[i & 63];
	}
	b64_pair_ready = true;
}

static inline char *
b64_group(char *o, const unsigned char *p)
{
	uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

	memcpy(o, b64_pair[v >> 12], 2);
	memcpy(o + 2, b64_pair[v & 0xfff], 2);
	return o + 4;
}

/* The last 1 or 2 bytes, padded with "=" (RFC 4648 4). */
static char *
b64_tail(char *o, const unsigned char *p, size_t n)
{
	unsigned char g[3] = {0, 0, 0};

	memcpy(g, p, n);
	b64_group(o, g);
	o[3] = '=';
	if (n == 1)
		o[2] = '=';
	return o + 4;
}

/* Whole groups, a line at a time, each full line ended by CRLF. */
static char *
b64_groups(struct b64_encoder *e, const unsigned char *p, size_t groups,
           char *o)
{
	while (groups > 0) {
		size_t room = (ENCODE_LINE_MAX - e->col) / 4;
		size_t k = groups < room ? groups : room;

		for (size_t i = 0; i < k; i++)
			o = b64_group(o, p + 3 * i);
		p += 3 * k;
		groups -= k;
		e->col += 4 * k;
		if (e->col == ENCODE_LINE_MAX) {
			o[0] = '\r';
			o[1] = '\n';
			o += 2;
			e->col = 0;
		}
	}
	return o;
}

void
b64_init(struct b64_encoder *e)
{
	b64_make_pairs();
	e->ncarry = 0;
	e->col = 0;
}

size_t
b64_push(struct b64_encoder *e, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	char *o = out;
	size_t groups;

	b64_make_pairs();
	if (e->ncarry > 0) {
		while (e->ncarry < 3 && n > 0) {
			e->carry[e->ncarry++] = *p++;
			n--;
		}
		if (e->ncarry < 3)
			return 0;
		o = b64_groups(e, e->carry, 1, o);
		e->ncarry = 0;
	}
	groups = n / 3;
	o = b64_groups(e, p, groups, o);
	e->ncarry = n - 3 * groups;
	memcpy(e->carry, p + 3 * groups, e->ncarry);
	return (size_t)(o - out);
}

size_t
b64_finish(struct b64_encoder *e, char *out)
{
	char *o = out;

	b64_make_pairs();
	if (e->ncarry > 0) {
		o = b64_tail(o, e->carry, e->ncarry);
		e->col += 4;
		e->ncarry = 0;
	}
	if (e->col > 0) {
		memcpy(o, "\r\n", 2);
		o += 2;
		e->col = 0;
	}
	return (size_t)(o - out);
}

uint64_t
b64_encoded_size(uint64_t n)
{
	uint64_t chars = (n / 3 + (n % 3 != 0)) * 4;
	uint64_t lines =
	    chars / ENCODE_LINE_MAX + (chars % ENCODE_LINE_MAX != 0);

	return chars + 2 * lines;
}

size_t
b64_line(const void *in, size_t n, char *o)
{
	const unsigned char *p = in;
	char *start = o;

	b64_make_pairs();
	for (; n >= 3; n -= 3, p += 3)
		o = b64_group(o, p);
	if (n > 0)
		o = b64_tail(o, p, n);
	return (size_t)(o - start);
}

/* Decoding: one table from byte to value, white space and the pad
 * marked. */

enum { B64_BAD = -1, B64_SPACE = -2, B64_PAD = -3 };

static signed char b64_value[256];
static bool b64_value_ready;

static void
b64_table(void)
{
	if (b64_value_ready)
		return;
	b64_value_ready = true;
	memset(b64_value, B64_BAD, sizeof b64_value);
	for (int i = 0; i < 64; i++)
		b64_value[(unsigned char)b64_alphabet[i]] = (signed char)i;
	b64_value[' '] = b64_value['\t'] = B64_SPACE;
	b64_value['\r'] = b64_value['\n'] = B64_SPACE;
	b64_value['='] = B64_PAD;
}

/* As many whole groups of four base64 characters from u as stand there
 * (at most len / 4, and no more than `room` bytes' worth), decoded into
 * out: the number of bytes.  The inner loop of b64_decode_text, kept tight
 * because it does nearly all of the work. */
static size_t
b64_quads(const unsigned char *u, size_t len, unsigned char *out, size_t room)
{
	size_t o = 0;

	for (; len >= 4 && room - o >= 3; u += 4, len -= 4, o += 3) {
		int a = b64_value[u[0]], b = b64_value[u[1]];
		int c = b64_value[u[2]], d = b64_value[u[3]];

		if ((a | b | c | d) < 0)
			break;
		out[o] = (unsigned char)(a << 2 | b >> 4);
		out[o + 1] = (unsigned char)(b << 4 | c >> 2);
		out[o + 2] = (unsigned char)(c << 6 | d);
	}
	return o;
}

size_t
b64_decode_quads(const char *in, size_t quads, unsigned char *out)
{
	b64_table();
	return b64_quads((const unsigned char *)in, quads * 4, out, quads * 3);
}

size_t
b64_decode_text(const char *in, size_t len, size_t *at, unsigned char *out,
                size_t max, const char **why)
{
	const unsigned char *u = (const unsigned char *)in;
	uint32_t acc = 0;
	unsigned n = 0, pad = 0;
	size_t o = 0, i = *at;

	b64_table();
	while (i < len) {
		int v;

		if (n == 0 && pad == 0) {
			size_t got = b64_quads(u + i, len - i, out + o,
			                       max - o < 3 ? 3 : max - o);

			o += got;
			i += got / 3 * 4;
			*at = i;
			if (o >= max)
				return o;
			if (i >= len)
				break;
		}
		v = b64_value[u[i++]];
		if (v >= 0 && pad == 0) {
			acc = acc << 6 | (uint32_t)v;
			if (++n == 4) {
				out[o++] = (unsigned char)(acc >> 16);
				out[o++] = (unsigned char)(acc >> 8);
				out[o++] = (unsigned char)acc;
				n = 0;
				*at = i;
				if (o >= max)
					return o;
			}
		} else if (v == B64_PAD && n >= 2 && n + pad < 4) {
			pad++;
		} else if (v != B64_SPACE) {
			*why =
			    v == B64_PAD || v >= 0
			        ? "misplaced '=' in the base64 text"
			        : "a byte that is not base64 inside the block";
			return SIZE_MAX;
		}
	}
	if (pad == 0 && n == 0)
		return o;
	if (n + pad != 4) {
		*why = "the base64 text is cut short";
		return SIZE_MAX;
	}
	acc <<= 6 * pad;
	out[o++] = (unsigned char)(acc >> 16);
	if (n == 3)
		out[o++] = (unsigned char)(acc >> 8);
	return o;
}

/* ------------------------------------------------------------------ */
/* quoted-printable (RFC 2045 6.7)                                      */

static const char from_line[] = "From ";

/* Where to write next; NULL stays NULL in the measuring pass. */
static inline char *
at(char *out, size_t o)
{
	return out ? out + o : NULL;
}

static inline size_t
put(char *out, const char *s, size_t n)
{
	if (out)
		memcpy(out, s, n);
	return n;
}

/* Rule 2: printable ASCII except "=" stands for itself; so do space and
 * tab, except at the end of a line (rule 3). */
static inline bool
qp_literal(unsigned char c)
{
	return (c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t';
}

/* One input byte at the current column, after a soft break (rule 5) when
 * it would not fit.  A token that ends its line (`last`) may reach column
 * 76; the others leave room for the "=" of a soft break, so that an =XX
 * is never split.  A "." starting a line is encoded (SMTP dot-stuffing,
 * RFC 5321 4.5.2), and so is an "F" after a soft break, where we cannot
 * look ahead for "From " (mbox quoting). */
static size_t
qp_token(struct qp_encoder *e, unsigned char c, bool force, bool last,
         char *out)
{
	bool enc = force || !qp_literal(c) || (last && (c == ' ' || c == '\t'));
	size_t limit = last ? ENCODE_LINE_MAX : ENCODE_LINE_MAX - 1;
	size_t o = 0;

	if (e->col + (enc ? 3 : 1) > limit) {
		o += put(out, "=\r\n", 3);
		e->col = 0;
		/* The text had no line start here: none that reads as "From "
		 * or as a boundary delimiter, which RFC 2046 5.1.1 lets a
		 * reader find by its "--" prefix alone. */
		enc = enc || c == 'F' || c == '-';
	}
	if (e->col == 0 && c == '.')
		enc = true;
	if (enc) {
		char t[3] = {'='};

		hex_pair(t + 1, c);
		e->col += 3;
		return o + put(at(out, o), t, 3);
	}
	e->col++;
	return o + put(at(out, o), (const char *)&c, 1);
}

/* Write the held byte, knowing now whether it ends its line. */
static size_t
qp_flush(struct qp_encoder *e, bool last, char *out)
{
	if (!e->has_held)
		return 0;
	e->has_held = false;
	return qp_token(e, e->held, false, last, out);
}

/* An ordinary byte: the one held before it does not end the line, and
 * this one is held until the next byte is known. */
static size_t
qp_plain(struct qp_encoder *e, unsigned char c, char *out)
{
	size_t o = qp_flush(e, false, out);

	e->held = c;
	e->has_held = true;
	return o;
}

/* A line end in the input: a CRLF hard break in the output. */
static size_t
qp_hard_break(struct qp_encoder *e, char *out)
{
	size_t o = qp_flush(e, true, out);

	e->col = 0;
	return o + put(at(out, o), "\r\n", 2);
}

/* A line started with "From ": write it as "=46rom ". */
static size_t
qp_from(struct qp_encoder *e, char *out)
{
	size_t o = qp_token(e, 'F', true, false, out);

	for (size_t i = 1; i < sizeof from_line - 1; i++)
		o += qp_plain(e, (unsigned char)from_line[i], at(out, o));
	return o;
}

/* A partial match of "From " was not one: its bytes are ordinary. */
static size_t
qp_unmatch(struct qp_encoder *e, char *out)
{
	size_t n = e->from_len, o = 0;

	e->from_len = 0;
	for (size_t i = 0; i < n; i++)
		o += qp_plain(e, (unsigned char)from_line[i], at(out, o));
	return o;
}

/* Continue a "From " match at a line start; false when c ends it. */
static bool
qp_match(struct qp_encoder *e, unsigned char c, size_t *o, char *out)
{
	if (c != (unsigned char)from_line[e->from_len])
		return false;
	e->from_len++;
	if (e->from_len == sizeof from_line - 1) {
		e->from_len = 0;
		*o += qp_from(e, at(out, *o));
	}
	return true;
}

static size_t
qp_byte(struct qp_encoder *e, unsigned char c, char *out)
{
	size_t o = 0;

	if (e->pending_cr) {
		e->pending_cr = false;
		if (c == '\n')
			return qp_hard_break(e, out);
		o += qp_plain(e, '\r', out); /* a bare CR is data: =0D */
	}
	if (e->from_len > 0) {
		if (qp_match(e, c, &o, out))
			return o;
		o += qp_unmatch(e, at(out, o));
	}
	if (c == '\r') {
		e->pending_cr = true;
		return o;
	}
	if (c == '\n')
		return o + qp_hard_break(e, at(out, o));
	if (c == 'F' && e->col == 0 && !e->has_held) {
		e->from_len = 1;
		return o;
	}
	return o + qp_plain(e, c, at(out, o));
}

void
qp_init(struct qp_encoder *e)
{
	e->col = 0;
	e->held = 0;
	e->has_held = false;
	e->pending_cr = false;
	e->from_len = 0;
}

size_t
qp_push(struct qp_encoder *e, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		o += qp_byte(e, p[i], at(out, o));
	return o;
}

size_t
qp_finish(struct qp_encoder *e, char *out)
{
	size_t o = 0;

	if (e->from_len > 0)
		o += qp_unmatch(e, out);
	if (e->pending_cr) {
		e->pending_cr = false;
		o += qp_plain(e, '\r', at(out, o));
	}
	/* No hard break the input did not have: RFC 2046 5.1.1 gives the CRLF
	 * before a boundary to the delimiter, and the last line needs no
	 * soft break to end (its white space is encoded: rule 3). */
	o += qp_flush(e, true, at(out, o));
	return o;
}

/* ------------------------------------------------------------------ */
/* checking header input                                                */

/* Refuse line breaks and other controls (a tab only when !tab_ok) and
 * invalid UTF-8; *ascii tells whether every byte was ASCII. */
static int
check_text(const char *text, bool tab_ok, const char *what, bool *ascii,
           struct error *err)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text);

	*ascii = true;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq_len(s + i, n - i);

		if ((s[i] < 0x20 && !(tab_ok && s[i] == '\t')) || s[i] == 0x7f)
			return error_set(err, ERROR_USAGE,
			                 "%s contains a line break or control "
			                 "character",
			                 what);
		if (len == 0)
			return error_set(err, ERROR_USAGE,
			                 "%s is not valid UTF-8; give it in "
			                 "UTF-8 (iconv -f latin1 -t utf-8 "
			                 "converts Latin-1)",
			                 what);
		*ascii = *ascii && len == 1;
		i += len;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* writing header lines                                                 */

/* Appends to a header line, following the column; the first failure is
 * kept and reported once at the end. */
struct hw {
	struct buf *out;
	size_t col;
	int errnum;
};

static void
hw_put(struct hw *w, const char *s, size_t n)
{
	if (w->errnum)
		return;
	if (buf_append(w->out, s, n) < 0) {
		w->errnum = errno ? errno : ENOMEM;
		return;
	}
	w->col += n;
}

static void
hw_str(struct hw *w, const char *s)
{
	hw_put(w, s, strlen(s));
}

/* RFC 5322 2.2.3: fold by putting CRLF before white space. */
static void
hw_crlf(struct hw *w)
{
	hw_put(w, "\r\n", 2);
	w->col = 0;
}

static int
hw_done(const struct hw *w, struct error *err)
{
	if (!w->errnum)
		return 0;
	if (w->errnum == EMSGSIZE)
		return error_set(err, ERROR_DATA, "header line too long");
	return error_set_errno(err, ERROR_OSERR, w->errnum,
	                       "cannot build header");
}

/* ------------------------------------------------------------------ */
/* encoded words (RFC 2047)                                             */

/* RFC 2047 5(3): the characters a "Q" word may carry as themselves in a
 * phrase (the strictest context; "_" stands for a space). */
static bool
q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/' || c == ' ';
}

static size_t
q_cost(const unsigned char *p, size_t n)
{
	size_t cost = 0;

	for (size_t i = 0; i < n; i++)
		cost += q_literal(p[i]) ? 1 : 3;
	return cost;
}

static size_t
b_cost(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* How many bytes of p, in whole UTF-8 characters, fit in `room`
 * characters of encoded text. */
static size_t
ew_fit(const unsigned char *p, size_t n, bool q, size_t room)
{
	size_t k = 0, qc = 0;

	while (k < n) {
		size_t len = utf8_seq_len(p + k, n - k);
		size_t c = q ? qc + q_cost(p + k, len) : b_cost(k + len);

		if (c > room)
			break;
		qc = c;
		k += len;
	}
	return k;
}

static void
ew_put(struct hw *w, const unsigned char *p, size_t n, bool q)
{
	char t[ENCODED_WORD_MAX];
	size_t len = 0;

	if (!q) {
		len = b64_line(p, n, t);
	}
	for (size_t i = 0; q && i < n; i++) {
		if (p[i] == ' ') {
			t[len++] = '_';
		} else if (q_literal(p[i])) {
			t[len++] = (char)p[i];
		} else {
			t[len++] = '=';
			hex_pair(t + len, p[i]);
			len += 2;
		}
	}
	hw_str(w, q ? "=?UTF-8?Q?" : "=?UTF-8?B?");
	hw_put(w, t, len);
	hw_put(w, "?=", 2);
}

/* Bytes of p that fit in one encoded word at the current column, keeping
 * `reserve` columns free at the end of the line. */
static size_t
ew_fit_here(const struct hw *w, const unsigned char *p, size_t n, bool q,
            size_t reserve)
{
	size_t used = w->col + reserve + ENCODED_WORD_OVERHEAD;
	size_t room = HEADER_LINE_MAX > used ? HEADER_LINE_MAX - used : 0;

	if (room > ENCODED_WORD_MAX - ENCODED_WORD_OVERHEAD)
		room = ENCODED_WORD_MAX - ENCODED_WORD_OVERHEAD;
	return ew_fit(p, n, q, room);
}

/* p[0..n) as encoded words from the current column: the words are
 * separated by a space, or folded, and decoders drop that white space
 * (RFC 2047 6.2), so any text may be cut between characters. */
static void
ew_run(struct hw *w, const unsigned char *p, size_t n, bool q, size_t reserve)
{
	for (bool first = true; n > 0; first = false) {
		size_t k;

		if (!first) {
			w->col++; /* the separating space */
			k = ew_fit_here(w, p, n, q, reserve);
			w->col--;
			if (k > 0) {
				hw_put(w, " ", 1);
			} else {
				hw_crlf(w);
				hw_put(w, " ", 1);
			}
		}
		k = ew_fit_here(w, p, n, q, reserve);
		if (k == 0)
			k = utf8_seq_len(p, n); /* no better place: go past 78 */
		ew_put(w, p, k, q);
		p += k;
		n -= k;
	}
}

/* "Q" when it is not longer than "B" for the whole run. */
static bool
ew_choose_q(const unsigned char *p, size_t n)
{
	return q_cost(p, n) <= b_cost(n);
}

/* ------------------------------------------------------------------ */
/* header text and phrases (RFC 5322 3.2.3, 3.2.5)                      */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 3.2.3 atext */
static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* A word that cannot go as it is: 8-bit, something a decoder would take
 * for an encoded word, too long for a line, or (in a phrase) not an
 * atom. */
static bool
word_needs_encoding(const char *s, size_t n, bool phrase)
{
	if (n > PLAIN_WORD_MAX)
		return true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || (phrase && !is_atext(c)))
			return true;
		if (c == '=' && i + 1 < n && s[i + 1] == '?')
			return true;
	}
	return false;
}

/* White space then a plain word, folding before the white space when the
 * word would pass the line limit. */
static void
put_plain(struct hw *w, const char *ws, size_t wsn, const char *word, size_t n,
          bool may_fold)
{
	if (may_fold && wsn > 0 && w->col + wsn + n > HEADER_LINE_MAX)
		hw_crlf(w);
	hw_put(w, ws, wsn);
	hw_put(w, word, n);
}

/* White space then a run to encode, folding before the white space when
 * not even one character would fit on this line.  A run at the very start
 * may fold too (CRLF SP before the text: white space after the colon). */
static void
put_encoded(struct hw *w, const char *ws, size_t wsn, const char *run, size_t n)
{
	const unsigned char *p = (const unsigned char *)run;
	bool q = ew_choose_q(p, n);
	bool fits;

	w->col += wsn;
	fits = ew_fit_here(w, p, n, q, 0) > 0;
	w->col -= wsn;
	if (!fits && (wsn > 0 || w->col > 1)) {
		hw_crlf(w);
		if (wsn == 0)
			hw_put(w, " ", 1);
	}
	hw_put(w, ws, wsn);
	ew_run(w, p, n, q, 0);
}

/* End of the white space + word starting at s[i]; *word is where the
 * word begins. */
static size_t
next_word(const char *s, size_t n, size_t i, size_t *word)
{
	while (i < n && is_wsp(s[i]))
		i++;
	*word = i;
	while (i < n && !is_wsp(s[i]))
		i++;
	return i;
}

/* Text as words separated by white space; consecutive words that need
 * encoding become one run of encoded words (with the white space between
 * them inside), since white space between encoded words is dropped. */
static void
put_words(struct hw *w, const char *s, size_t n, bool phrase)
{
	size_t i = 0;

	while (i < n) {
		size_t word, end = next_word(s, n, i, &word);

		if (word == end) {
			hw_put(w, s + i, end - i); /* trailing white space */
			return;
		}
		if (!word_needs_encoding(s + word, end - word, phrase)) {
			put_plain(w, s + i, word - i, s + word, end - word,
			          i > 0);
			i = end;
			continue;
		}
		for (;;) {
			size_t w2, e2 = next_word(s, n, end, &w2);

			if (w2 == e2 ||
			    !word_needs_encoding(s + w2, e2 - w2, phrase))
				break;
			end = e2;
		}
		put_encoded(w, s + i, word - i, s + word, end - word);
		i = end;
	}
}

int
encode_header_text(struct buf *out, const char *text, size_t col,
                   struct error *err)
{
	struct hw w = {out, col, 0};
	bool ascii;

	if (check_text(text, true, "header text", &ascii, err) < 0)
		return -1;
	put_words(&w, text, strlen(text), false);
	return hw_done(&w, err);
}

/* Atoms separated by single spaces (RFC 5322 3.2.5 phrase), with nothing
 * that looks like an encoded word. */
static bool
is_atom_phrase(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || strstr(s, "  ") ||
	    strstr(s, "=?"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && !is_atext((unsigned char)s[i]))
			return false;
	return true;
}

/* RFC 5322 3.2.4 quoted-string, escaping DQUOTE and backslash. */
static void
put_quoted(struct hw *w, const char *s)
{
	hw_put(w, "\"", 1);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			hw_put(w, "\\", 1);
		hw_put(w, s, 1);
	}
	hw_put(w, "\"", 1);
}

static void
put_display_name(struct hw *w, const char *name, bool ascii)
{
	if (!ascii || is_atom_phrase(name))
		put_words(w, name, strlen(name), true);
	else
		put_quoted(w, name);
}

int
encode_mailbox(struct buf *out, const char *name, const char *addr, size_t col,
               struct error *err)
{
	struct hw w = {out, col, 0};
	bool ascii;
	size_t alen;

	if (!addr || !*addr)
		return error_set(err, ERROR_USAGE, "empty address");
	if (check_text(addr, false, "address", &ascii, err) < 0)
		return -1;
	if (!name || !*name) {
		hw_str(&w, addr);
		return hw_done(&w, err);
	}
	if (check_text(name, false, "display name", &ascii, err) < 0)
		return -1;
	put_display_name(&w, name, ascii);
	alen = strlen(addr);
	if (w.col + 3 + alen > HEADER_LINE_MAX)
		hw_crlf(&w);
	hw_put(&w, " <", 2);
	hw_put(&w, addr, alen);
	hw_put(&w, ">", 1);
	return hw_done(&w, err);
}

/* ------------------------------------------------------------------ */
/* parameters (RFC 2045 5.1, RFC 2231)                                  */

/* RFC 2045 5.1 token characters. */
static bool
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* RFC 2231 7 attribute-char: a token character but "*", "'", "%". */
static bool
is_attr_char(unsigned char c)
{
	return is_token_char(c) && c != '*' && c != '\'' && c != '%';
}

/* A value written bare: letters, digits and "._-" only.  RFC 2045
 * allows more in a token, but some parsers flag values with other
 * specials ("it's.txt"), so anything else is quoted. */
static bool
is_bare_value(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && !strchr("._-", c))
			return false;
	}
	return true;
}

static bool
is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_token_char((unsigned char)*s))
			return false;
	return true;
}

/* The column after the last line break already in out. */
static size_t
current_col(const struct buf *out)
{
	const char *s = buf_str(out);
	const char *nl = strrchr(s, '\n');

	return nl ? out->len - (size_t)(nl + 1 - s) : out->len;
}

/* ";" then a space, or a fold when `need` more columns (and the ";" of
 * a following parameter) would not fit on this line. */
static void
param_sep(struct hw *w, size_t need)
{
	hw_put(w, ";", 1);
	if (w->col + 1 + need + 1 > HEADER_LINE_MAX) {
		hw_crlf(w);
	}
	hw_put(w, " ", 1);
}

static size_t
quoted_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++)
		n += (*s == '"' || *s == '\\') ? 2 : 1;
	return n;
}

/* name=token or name="quoted string" (RFC 2045 5.1). */
static size_t
plain_param_len(const char *name, const char *value)
{
	return strlen(name) + 1 +
	       (is_bare_value(value) ? strlen(value) : quoted_len(value));
}

static void
put_plain_param(struct hw *w, const char *name, const char *value)
{
	param_sep(w, plain_param_len(name, value));
	hw_str(w, name);
	hw_put(w, "=", 1);
	if (is_bare_value(value))
		hw_str(w, value);
	else
		put_quoted(w, value);
}

static size_t
pct_len(const unsigned char *p, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += is_attr_char(p[i]) ? 1 : 3;
	return len;
}

/* RFC 2231 4: attribute-chars as they are, other bytes as %XX. */
static void
put_pct(struct hw *w, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char t[3] = {'%'};

		hex_pair(t + 1, p[i]);
		if (is_attr_char(p[i]))
			hw_put(w, (const char *)p + i, 1);
		else
			hw_put(w, t, 3);
	}
}

/* Bytes of p, in whole UTF-8 characters, whose %-encoding fits in room
 * columns (at least one character). */
static size_t
pct_fit(const unsigned char *p, size_t n, size_t room)
{
	size_t k = 0, used = 0;

	while (k < n) {
		size_t len = utf8_seq_len(p + k, n - k);
		size_t c = pct_len(p + k, len);

		if (k > 0 && used + c > room)
			break;
		used += c;
		k += len;
	}
	return k;
}

/* RFC 2231 3 and 4: name*=utf-8''..., or continued over folded lines as
 * name*0*=utf-8''..., name*1*=..., never cutting a %XX or a UTF-8
 * character. */
static void
put_2231_param(struct hw *w, const char *name, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t n = strlen(value);
	size_t nlen = strlen(name);
	char head[64];

	if (1 + nlen + 9 + pct_len(p, n) + 1 <= HEADER_LINE_MAX) {
		param_sep(w, nlen + 9 + pct_len(p, n));
		hw_str(w, name);
		hw_str(w, "*=utf-8''");
		put_pct(w, p, n);
		return;
	}
	for (unsigned i = 0; n > 0 || i == 0; i++) {
		size_t k, room;

		hw_put(w, ";", 1);
		hw_crlf(w);
		snprintf(head, sizeof head, " %s*%u*=%s", name, i,
		         i == 0 ? "utf-8''" : "");
		hw_str(w, head);
		room = w->col + 1 < HEADER_LINE_MAX
		           ? HEADER_LINE_MAX - w->col - 1
		           : 0;
		k = pct_fit(p, n, room);
		put_pct(w, p, k);
		p += k;
		n -= k;
	}
}

/* legacy="=?UTF-8?B?...?=" as common clients write it: RFC 2047 words
 * inside a quoted string, folded between words. */
static void
put_legacy_param(struct hw *w, const char *legacy, const char *value)
{
	hw_put(w, ";", 1);
	hw_crlf(w);
	hw_put(w, " ", 1);
	hw_str(w, legacy);
	hw_put(w, "=\"", 2);
	ew_run(w, (const unsigned char *)value, strlen(value), false, 2);
	hw_put(w, "\"", 1);
}

static int
check_param_name(const char *name, struct error *err)
{
	if (!name || !is_token(name) || strlen(name) > 40 ||
	    strchr(name, '*') || strchr(name, '\'') || strchr(name, '%'))
		return error_set(err, ERROR_USAGE, "bad parameter name");
	return 0;
}

int
encode_param(struct buf *out, const char *name, const char *value,
             const char *legacy, struct error *err)
{
	struct hw w = {out, current_col(out), 0};
	bool ascii;

	if (check_param_name(name, err) < 0 ||
	    (legacy && check_param_name(legacy, err) < 0))
		return -1;
	if (check_text(value, false, "parameter value", &ascii, err) < 0)
		return -1;
	if (ascii && 1 + plain_param_len(name, value) + 1 <= HEADER_LINE_MAX) {
		put_plain_param(&w, name, value);
		if (legacy)
			put_plain_param(&w, legacy, value);
		return hw_done(&w, err);
	}
	put_2231_param(&w, name, value);
	if (legacy)
		put_legacy_param(&w, legacy, value);
	return hw_done(&w, err);
}

/* ------------------------------------------------------------------ */
/* xtext (RFC 3461 4)                                                   */

void
xtext_encode(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in && o + 4 <= n; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < '!' || c > '~' || c == '+' || c == '=') {
			out[o++] = '+';
			hex_pair(out + o, c);
			o += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

char *
xtext_decode(const char *in, char *out, size_t n)
{
	size_t k = 0;

	for (const char *p = in; *p && k + 1 < n; p++) {
		int hi = *p == '+' ? hex_digit(p[1]) : -1;
		int lo = hi >= 0 ? hex_digit(p[2]) : -1;

		if (lo >= 0) {
			out[k++] = (char)(hi << 4 | lo);
			p += 2;
		} else {
			out[k++] = *p;
		}
	}
	out[k] = '\0';
	return out;
}

/* One UTF-8 character at *p (advanced past it): its code point, or -1
 * for a byte sequence that is not UTF-8 (RFC 3629 4: no overlong form,
 * no surrogate, nothing above U+10FFFF). */
static long
utf8_take(const unsigned char **p)
{
	const unsigned char *s = *p;
	static const long least[] = {0, 0, 0x80, 0x800, 0x10000};
	int len = s[0] < 0x80             ? 1
	          : (s[0] & 0xe0) == 0xc0 ? 2
	          : (s[0] & 0xf0) == 0xe0 ? 3
	          : (s[0] & 0xf8) == 0xf0 ? 4
	                                  : 0;
	long cp;

	if (len == 0)
		return -1;
	cp = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len > 1 && (cp < least[len] || cp > 0x10ffff ||
	                (cp >= 0xd800 && cp <= 0xdfff)))
		return -1;
	*p = s + len;
	return cp;
}

/* RFC 6533 3's QCHAR: printable ASCII but backslash, '+' and '='. */
static bool
is_qchar(long c)
{
	return c >= 0x21 && c <= 0x7e && c != '\\' && c != '+' && c != '=';
}

int
xtext_orcpt(const char *addr, char *out, size_t n)
{
	const unsigned char *p = (const unsigned char *)addr;
	bool ascii = true;
	size_t o, start;

	for (const unsigned char *q = p; *q; q++)
		if (*q >= 0x80)
			ascii = false;
	o = (size_t)snprintf(out, n, "%s", ascii ? "rfc822;" : "utf-8;");
	start = o;
	if (ascii) {
		size_t need = 0;

		for (const unsigned char *q = p; *q; q++)
			need += *q < '!' || *q > '~' || *q == '+' || *q == '='
			            ? 3
			            : 1;
		/* Cut short by the room it would be another address: none. */
		if (need > XTEXT_ORCPT_MAX || o + need + 3 >= n)
			return -1;
		xtext_encode(addr, out + o, n - o);
		return 0;
	}
	while (*p && o < n) {
		long c = utf8_take(&p);
		int w;

		if (c < 0)
			return -1;
		/* The code point in as few digits as it takes, two at least
		 * (HEXPOINT); a backslash as \x{5C}, as the erratum to RFC
		 * 6533 allows, since QCHAR leaves it out. */
		w = is_qchar(c) ? snprintf(out + o, n - o, "%c", (int)c)
		                : snprintf(out + o, n - o, "\\x{%02lX}", c);
		if (w < 0 || (size_t)w >= n - o)
			return -1;
		o += (size_t)w;
	}
	if (o >= n || *p || o - start > XTEXT_ORCPT_MAX)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* boundaries (RFC 2046 5.1.1)                                          */

/* RFC 3986 2.3: the bytes a URL or a form keeps as they are. */
static bool
url_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

size_t
url_encode(char *out, const char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (url_unreserved(c)) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			hex_pair(out + n, c);
			n += 2;
		}
	}
	return n;
}

void
encode_boundary(char *out, size_t n)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	static const char prefix[] = "=_mailpost_";
	unsigned char r[20]; /* 160 bits: 32 base32 characters */
	char s[sizeof prefix + 32];
	size_t len = sizeof prefix - 1;
	uint32_t bits = 0;
	unsigned nbits = 0;

	random_unique(r, sizeof r);
	memcpy(s, prefix, len);
	for (size_t i = 0; i < sizeof r; i++) {
		bits = bits << 8 | r[i];
		nbits += 8;
		while (nbits >= 5) {
			nbits -= 5;
			s[len++] = b32[(bits >> nbits) & 31];
		}
	}
	s[len] = '\0';
	if (n > 0)
		str_copy(out, n, s);
}
