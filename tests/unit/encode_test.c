/*
 * encode_test.c - base64, quoted-printable, encoded words, RFC 2231
 * parameters and boundaries (encode.c).
 *
 * The body encoders are streaming, so every case is fed whole, split at
 * every point (every pair of points for short inputs) and byte by byte,
 * and the measuring pass must agree with the real one.  Header output is
 * checked by decoding it again with the small decoders below.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

/* ------------------------------------------------------------------ */
/* helpers                                                              */

/* Append s to the string in dst (dst is large enough by construction). */
static void
append(char *dst, const char *s)
{
	size_t n = strlen(dst);

	memcpy(dst + n, s, strlen(s) + 1);
}

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Bit by bit, then wrapped: the obviously right base64. */
static size_t
ref_b64(const unsigned char *in, size_t n, char *out)
{
	size_t chars = 0, o = 0;
	char *flat = malloc(n / 3 * 4 + 8);

	for (size_t bit = 0; bit < n * 8; bit += 6) {
		unsigned v = 0;

		for (size_t b = bit; b < bit + 6; b++) {
			unsigned byte = b / 8 < n ? in[b / 8] : 0;

			v = v << 1 | ((byte >> (7 - b % 8)) & 1);
		}
		flat[chars++] = alphabet[v];
	}
	while (chars % 4)
		flat[chars++] = '=';
	for (size_t i = 0; i < chars; i++) {
		out[o++] = flat[i];
		if ((i + 1) % 76 == 0 || i + 1 == chars) {
			out[o++] = '\r';
			out[o++] = '\n';
		}
	}
	free(flat);
	return o;
}

/* Every line ends in CRLF and has at most max characters before it. */
static bool
lines_ok(const char *s, size_t n, size_t max)
{
	size_t start = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n') {
			if (i == 0 || s[i - 1] != '\r' || i - 1 - start > max)
				return false;
			start = i + 1;
		} else if (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n')) {
			return false;
		}
	}
	return start == n;
}

/* Quoted-printable lines: as lines_ok, except that the last line may
 * lack its CRLF (the input had no final line end); it is still at most
 * 76 characters and does not end in a soft break. */
static bool
qp_lines_ok(const char *s, size_t n)
{
	size_t start = n;

	while (start > 0 && s[start - 1] != '\n')
		start--;
	if (!lines_ok(s, start, ENCODE_LINE_MAX) || n - start > ENCODE_LINE_MAX)
		return false;
	return n == start || s[n - 1] != '=';
}

static bool
utf8_valid(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = s[i] < 0x80   ? 1
		             : s[i] < 0xc2 ? 0
		             : s[i] < 0xe0 ? 2
		             : s[i] < 0xf0 ? 3
		             : s[i] < 0xf5 ? 4
		                           : 0;

		if (len == 0 || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* base64 text (no line breaks) to bytes; -1 on a bad character. */
static long
b64_decode(const char *s, size_t n, unsigned char *out)
{
	unsigned v = 0, bits = 0;
	long o = 0;

	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *p = strchr(alphabet, s[i]);

		if (!p || !*p)
			return -1;
		v = v << 6 | (unsigned)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return o;
}

/* ------------------------------------------------------------------ */
/* base64                                                               */

/* Pushes whose output passed B64_OUT_MAX or QP_OUT_MAX of their input. */
static int over_bound;

static size_t
b64_feed(const unsigned char *in, size_t n, const size_t *cuts, size_t ncuts,
         char *out)
{
	struct b64_encoder e;
	size_t prev = 0, o = 0;

	b64_init(&e);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t next = i < ncuts ? cuts[i] : n;

		size_t got = b64_push(&e, in + prev, next - prev, out + o);

		over_bound += got > B64_OUT_MAX(next - prev);
		o += got;
		prev = next;
	}
	return o + b64_finish(&e, out + o);
}

static void
test_b64_vectors(void)
{
	static const struct {
		const char *in, *want;
	} v[] = {
	    /* RFC 4648 10 */
	    {"", ""},
	    {"f", "Zg==\r\n"},
	    {"fo", "Zm8=\r\n"},
	    {"foo", "Zm9v\r\n"},
	    {"foob", "Zm9vYg==\r\n"},
	    {"fooba", "Zm9vYmE=\r\n"},
	    {"foobar", "Zm9vYmFy\r\n"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = strlen(v[i].in);
		size_t len =
		    b64_feed((const unsigned char *)v[i].in, n, NULL, 0, out);

		CHECK_MEM(out, len, v[i].want, strlen(v[i].want));
		CHECK_INT(b64_encoded_size(n), strlen(v[i].want));
	}
}

/* Every size 0..300 against the reference, fed whole, at every single
 * cut, at pairs of cuts (short sizes) and byte by byte. */
static void
test_b64_sizes(void)
{
	unsigned char in[300];
	char *want = malloc(B64_OUT_MAX(300));
	char *got = malloc(B64_OUT_MAX(300) + 64);
	size_t cuts[300];
	int bad_ref = 0, bad_split = 0, bad_lines = 0, bad_size = 0;

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (unsigned char)(i * 151 + 7);
	for (size_t n = 0; n <= sizeof in; n++) {
		size_t wl = ref_b64(in, n, want);
		size_t len = b64_feed(in, n, NULL, 0, got);

		bad_ref += len != wl || memcmp(got, want, wl) != 0;
		bad_lines += !lines_ok(got, len, ENCODE_LINE_MAX);
		bad_size += b64_encoded_size(n) != wl;
		for (size_t i = 0; i <= n; i++) {
			for (size_t j = n <= 40 ? i : n; j <= n; j++) {
				cuts[0] = i;
				cuts[1] = j;
				len = b64_feed(in, n, cuts, 2, got);
				bad_split +=
				    len != wl || memcmp(got, want, wl) != 0;
			}
		}
		for (size_t i = 0; i + 1 < n; i++)
			cuts[i] = i + 1;
		len = b64_feed(in, n, cuts, n ? n - 1 : 0, got);
		bad_split += len != wl || memcmp(got, want, wl) != 0;
	}
	CHECK_INT(bad_ref, 0);
	CHECK_INT(bad_split, 0);
	CHECK_INT(bad_lines, 0);
	CHECK_INT(bad_size, 0);
	free(want);
	free(got);
}

/* b64_encoded_size against the real output, 0..1000 and a few large
 * sizes pushed in uneven pieces. */
static void
test_b64_encoded_size(void)
{
	static const size_t large[] = {57 * 1000, 57 * 1000 + 1, 1 << 20,
	                               3000001, 4194305};
	size_t max = 4194305;
	unsigned char *in = malloc(max);
	char *out = malloc(B64_OUT_MAX(max) + 64);
	int bad = 0;

	for (size_t i = 0; i < max; i++)
		in[i] = (unsigned char)(i ^ (i >> 8));
	for (size_t n = 0; n <= 1000; n++)
		bad += b64_encoded_size(n) != b64_feed(in, n, NULL, 0, out);
	CHECK_INT(bad, 0);
	for (size_t k = 0; k < sizeof large / sizeof large[0]; k++) {
		size_t n = large[k];
		size_t cuts[] = {1, 4097, n / 2, n - 1};
		size_t len = b64_feed(in, n, cuts, 4, out);

		CHECK_INT(len, b64_encoded_size(n));
		CHECK(lines_ok(out, len, ENCODE_LINE_MAX));
	}
	/* 100 MB and beyond, by arithmetic: 4 chars per 3 bytes, CRLF per 76 */
	CHECK_INT(b64_encoded_size(100000000), 133333336 + 2 * 1754386);
	CHECK_INT(b64_encoded_size(57), 78);
	CHECK_INT(b64_encoded_size(58), 84);
	free(in);
	free(out);
}

/* ------------------------------------------------------------------ */
/* quoted-printable                                                     */

static size_t
qp_feed(const char *in, size_t n, const size_t *cuts, size_t ncuts, char *out)
{
	struct qp_encoder e;
	size_t prev = 0, o = 0;

	qp_init(&e);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t next = i < ncuts ? cuts[i] : n;

		size_t got =
		    qp_push(&e, in + prev, next - prev, out ? out + o : NULL);

		over_bound += got > QP_OUT_MAX(next - prev);
		o += got;
		prev = next;
	}
	return o + qp_finish(&e, out ? out + o : NULL);
}

/* How many ways of feeding in (cuts, byte by byte, measuring) differ
 * from want. */
static int
qp_split_mismatches(const char *in, size_t n, const char *want, size_t wl)
{
	char *got = malloc(QP_OUT_MAX(n) + 16 * (n + 2));
	size_t *cuts = malloc((n + 2) * sizeof *cuts);
	size_t len;
	int bad = 0;

	for (size_t i = 0; i <= n; i++) {
		for (size_t j = n <= 48 ? i : n; j <= n; j++) {
			cuts[0] = i;
			cuts[1] = j;
			len = qp_feed(in, n, cuts, 2, got);
			bad += len != wl || memcmp(got, want, wl) != 0;
			bad += qp_feed(in, n, cuts, 2, NULL) != wl;
		}
	}
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	len = qp_feed(in, n, cuts, n, got);
	bad += len != wl || memcmp(got, want, wl) != 0;
	bad += qp_feed(in, n, cuts, n, NULL) != wl;
	free(got);
	free(cuts);
	return bad;
}

struct qp_case {
	const char *in;
	size_t in_len;
	const char *want;
	size_t want_len;
};

static const struct qp_case qp_cases[] = {
    {S(""), S("")},
    {S("hello"), S("hello")},
    {S("hello\n"), S("hello\r\n")},
    {S("hello\r\n"), S("hello\r\n")},
    {S("a\nb\r\nc"), S("a\r\nb\r\nc")},
    {S("\n\n"), S("\r\n\r\n")},
    /* rule 3: white space at a line end is encoded */
    {S("a \nb\t\r\nc  "), S("a=20\r\nb=09\r\nc =20")},
    {S("a b\tc"), S("a b\tc")},
    {S(" "), S("=20")},
    {S("x \r"), S("x =0D")},
    /* "=" and controls */
    {S("a=b"), S("a=3Db")},
    {S("=\n="), S("=3D\r\n=3D")},
    {S("\x01\x7f\0"), S("=01=7F=00")},
    /* a bare CR is data */
    {S("a\rb"), S("a=0Db")},
    {S("a\r\r\nb"), S("a=0D\r\nb")},
    {S("\r"), S("=0D")},
    {S("\r\r"), S("=0D=0D")},
    {S("a \rb"), S("a =0Db")},
    /* 8-bit */
    {S("caf\xc3\xa9\n"), S("caf=C3=A9\r\n")},
    {S("\xff"), S("=FF")},
    /* dot-stuffing and mbox quoting cannot touch the text */
    {S(".\n"), S("=2E\r\n")},
    {S("..x\n.\r\n"), S("=2E.x\r\n=2E\r\n")},
    {S("a.\n.b"), S("a.\r\n=2Eb")},
    {S("From me\n"), S("=46rom me\r\n")},
    {S("x\nFrom \n"), S("x\r\n=46rom=20\r\n")},
    {S("From"), S("From")},
    {S("Fro\n"), S("Fro\r\n")},
    {S("Fromage\n"), S("Fromage\r\n")},
    {S("FFrom x"), S("FFrom x")},
    {S("F\rrom "), S("F=0Drom=20")},
    {S("From\r\nFrom "), S("From\r\n=46rom=20")},
    {S(" From x"), S(" From x")},
    {S("from x"), S("from x")},
    /* no final line end in, none out (and no soft break at the end) */
    {S("a\n\n"), S("a\r\n\r\n")},
    {S("\n"), S("\r\n")},
    {S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaa"),
     S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaa=\r\naaa")},
    {S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaa"),
     S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaa")},
};

static void
test_qp_table(void)
{
	for (size_t i = 0; i < sizeof qp_cases / sizeof qp_cases[0]; i++) {
		const struct qp_case *t = &qp_cases[i];
		char *got = malloc(QP_OUT_MAX(t->in_len) + 16);
		size_t len = qp_feed(t->in, t->in_len, NULL, 0, got);

		CHECK_MEM(got, len, t->want, t->want_len);
		CHECK_INT(qp_feed(t->in, t->in_len, NULL, 0, NULL),
		          t->want_len);
		CHECK_INT(
		    qp_split_mismatches(t->in, t->in_len, t->want, t->want_len),
		    0);
		free(got);
	}
}

/* A line of `n` characters: `fill` then `tail` at the end. */
static char *
make_line(size_t n, const char *tail, char end)
{
	size_t tl = strlen(tail);
	char *s = malloc(n + 2);

	memset(s, 'a', n - tl);
	memcpy(s + n - tl, tail, tl);
	s[n] = end;
	s[n + 1] = '\0';
	return s;
}

struct qp_edge {
	size_t n;         /* input line length, then "\n" */
	const char *tail; /* the last characters of the line */
	size_t as;        /* the output starts with this many "a" */
	const char *rest; /* and goes on with this */
};

/* Breaks at the 76 boundary: a line of 76 passes whole, a longer one is
 * broken with "=" in column 76 at most, and an =XX never straddles the
 * break. */
static const struct qp_edge qp_edges[] = {
    {75, "", 75, "\r\n"},
    {76, "", 76, "\r\n"},
    {77, "", 75, "=\r\naa\r\n"},
    {78, "", 75, "=\r\naaa\r\n"},
    {151, "", 75, "=\r\n" /* then 75 more: see check_qp_edge */},
    {74, " ", 73, "=20\r\n"},      /* 73 + "=20" = 76 */
    {75, " ", 74, "=\r\n=20\r\n"}, /* 74 + "=20" = 77: broken */
    {76, " ", 75, "=\r\n=20\r\n"},
    {74, "=", 73, "=3D\r\n"},
    {75, "=", 74, "=\r\n=3D\r\n"},
    {74, "=b", 72, "=3Db\r\n"}, /* 72 + "=3D" + "b" = 76 */
    {75, "=b", 73, "=\r\n=3Db\r\n"},
    {72, "\xc3\xa9", 70, "=C3=A9\r\n"},
    {73, "\xc3\xa9", 71, "=C3=\r\n=A9\r\n"},
    {74, "\xc3\xa9", 72, "=C3=\r\n=A9\r\n"},
    {75, "\xc3\xa9", 73, "=\r\n=C3=A9\r\n"},
    {77, ".a", 75, "=\r\n=2Ea\r\n"}, /* a dot pushed to a line start */
    {77, "Fa", 75, "=\r\n=46a\r\n"}, /* an F too: "From " may follow */
};

static void
check_qp_edge(const struct qp_edge *t)
{
	char *in = make_line(t->n, t->tail, '\n');
	char *want = malloc(QP_OUT_MAX(t->n + 1));
	char *got = malloc(QP_OUT_MAX(t->n + 1));
	size_t wl, len;

	memset(want, 'a', t->as);
	wl = t->as;
	memcpy(want + wl, t->rest, strlen(t->rest));
	wl += strlen(t->rest);
	if (t->n == 151) { /* two full lines, the second one hard */
		memset(want + wl, 'a', 76);
		memcpy(want + wl + 76, "\r\n", 2);
		wl += 78;
	}
	len = qp_feed(in, t->n + 1, NULL, 0, got);
	CHECK_MEM(got, len, want, wl);
	CHECK(lines_ok(got, len, ENCODE_LINE_MAX));
	CHECK_INT(qp_split_mismatches(in, t->n + 1, want, wl), 0);
	free(in);
	free(want);
	free(got);
}

static void
test_qp_edges(void)
{
	for (size_t i = 0; i < sizeof qp_edges / sizeof qp_edges[0]; i++)
		check_qp_edge(&qp_edges[i]);
}

/* RFC 2045 6.7 decoding, for the round trip. */
static size_t
qp_decode(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r') {
			i += 2; /* soft break */
		} else if (s[i] == '=' && i + 2 < n) {
			out[o++] =
			    (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

/* Output rules: no trailing white space, no "=" that is not =XX or a
 * soft break, no line that starts with "." or "From ". */
static bool
qp_output_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool bol = i == 0 || s[i - 1] == '\n';

		if (bol && (s[i] == '.' || strncmp(s + i, "From ", 5) == 0))
			return false;
		if (s[i] == '\r' && i > 0 &&
		    (s[i - 1] == ' ' || s[i - 1] == '\t'))
			return false;
		if (s[i] == '=' && !(i + 2 < n && s[i + 1] == '\r') &&
		    !(i + 2 < n && hexval(s[i + 1]) >= 0 &&
		      hexval(s[i + 2]) >= 0))
			return false;
		if ((unsigned char)s[i] >= 0x7f)
			return false;
	}
	return true;
}

/* Random text from a small alphabet full of the hard cases; the decoded
 * output equals the input with line ends as CRLF. */
static void
test_qp_round_trip(void)
{
	static const char pick[] = "aaaa    \t=.F\n\n\r\xc3\xa9\x01";
	unsigned seed = 12345;
	int bad_trip = 0, bad_rules = 0, bad_lines = 0, bad_split = 0;

	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)round * 3 % 400;
		char *in = malloc(n + 1);
		char *norm = malloc(2 * n + 2);
		char *got = malloc(QP_OUT_MAX(n) + 16);
		char *dec = malloc(QP_OUT_MAX(n) + 16);
		size_t nl = 0, len, dl;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = pick[(seed >> 16) % (sizeof pick - 1)];
		}
		for (size_t i = 0; i < n; i++) {
			if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
				continue;
			if (in[i] == '\n')
				norm[nl++] = '\r';
			norm[nl++] = in[i];
		}
		len = qp_feed(in, n, NULL, 0, got);
		dl = qp_decode(got, len, dec);
		bad_trip += dl != nl || memcmp(dec, norm, nl) != 0;
		bad_rules += !qp_output_ok(got, len);
		bad_lines += !qp_lines_ok(got, len);
		if (round % 10 == 0)
			bad_split += qp_split_mismatches(in, n, got, len);
		free(in);
		free(norm);
		free(got);
		free(dec);
	}
	CHECK_INT(bad_trip, 0);
	CHECK_INT(bad_rules, 0);
	CHECK_INT(bad_lines, 0);
	CHECK_INT(bad_split, 0);
}

/* ------------------------------------------------------------------ */
/* header decoding, for the round trips                                 */

struct hdr_check {
	bool words_ok;   /* every encoded word <= 75 and valid UTF-8 */
	bool lines_ok;   /* every line <= 78, folds are CRLF + WSP */
	size_t nwords;   /* encoded words seen */
	char text[4096]; /* the decoded text */
};

/* Decode one encoded word s[0..n) into out; false if it is not one. */
static bool
decode_word(const char *s, size_t n, char *out, size_t *olen)
{
	unsigned char tmp[256];
	long len = 0;
	const char *text = s + 10;
	size_t tn = n - 12;

	if (n < 12 || n > 75 + 1 || strncmp(s, "=?UTF-8?", 8) != 0 ||
	    s[9] != '?' || strncmp(s + n - 2, "?=", 2) != 0)
		return false;
	if (s[8] == 'B') {
		len = b64_decode(text, tn, tmp);
	} else if (s[8] == 'Q') {
		for (size_t i = 0; i < tn; i++) {
			if (text[i] == '_') {
				tmp[len++] = ' ';
			} else if (text[i] == '=' && i + 2 < tn) {
				tmp[len++] =
				    (unsigned char)(hexval(text[i + 1]) * 16 +
				                    hexval(text[i + 2]));
				i += 2;
			} else {
				tmp[len++] = (unsigned char)text[i];
			}
		}
	} else {
		return false;
	}
	if (len < 0)
		return false;
	memcpy(out, tmp, (size_t)len);
	*olen = (size_t)len;
	return true;
}

/* Unfold s (started at column col) and decode its encoded words: white
 * space between two encoded words is dropped (RFC 2047 6.2). */
static void
decode_header(const char *s, size_t col, struct hdr_check *h)
{
	char unf[8192];
	size_t n = 0, line = col, o = 0;
	bool prev_ew = false;

	h->words_ok = true;
	h->lines_ok = true;
	h->nwords = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n') {
			h->lines_ok = h->lines_ok && line <= 78 &&
			              (s[i + 2] == ' ' || s[i + 2] == '\t');
			line = 0;
			i++;
			continue;
		}
		if (s[i] == '\r' || s[i] == '\n')
			h->lines_ok = false;
		line++;
		unf[n++] = s[i];
	}
	h->lines_ok = h->lines_ok && line <= 78;
	for (size_t i = 0; i < n;) {
		size_t ws = i, we, dl;

		while (i < n && (unf[i] == ' ' || unf[i] == '\t'))
			i++;
		we = i;
		while (i < n && unf[i] != ' ' && unf[i] != '\t')
			i++;
		if (we < i && decode_word(unf + we, i - we,
		                          h->text + o + (we - ws), &dl)) {
			h->words_ok =
			    h->words_ok && i - we <= 75 &&
			    utf8_valid((unsigned char *)h->text + o + (we - ws),
			               dl);
			h->nwords++;
			if (prev_ew) {
				memmove(h->text + o, h->text + o + (we - ws),
				        dl);
			} else {
				memcpy(h->text + o, unf + ws, we - ws);
				o += we - ws;
			}
			o += dl;
			prev_ew = true;
		} else {
			memcpy(h->text + o, unf + ws, i - ws);
			o += i - ws;
			prev_ew = false;
		}
	}
	h->text[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* header text                                                          */

static void
check_header_round_trip(const char *text, size_t col, size_t min_words)
{
	struct buf b;
	struct error err;
	struct hdr_check *h = malloc(sizeof *h);

	buf_init(&b, 1 << 16);
	error_clear(&err);
	CHECK_INT(encode_header_text(&b, text, col, &err), 0);
	decode_header(buf_str(&b), col, h);
	CHECK(h->words_ok);
	CHECK(h->lines_ok);
	CHECK(h->nwords >= min_words);
	/* a fold before the first word adds white space after the colon */
	CHECK_STR(h->text + (strncmp(buf_str(&b), "\r\n ", 3) == 0), text);
	free(h);
	buf_clear(&b);
}

static void
test_header_ascii(void)
{
	static const char long_text[] =
	    "The quarterly report for the third quarter is attached, "
	    "with the figures for every region and the notes from the "
	    "meeting on Tuesday afternoon";
	struct buf b;
	struct error err;

	buf_init(&b, 4096);
	CHECK_INT(encode_header_text(&b, "Q3 report", 9, &err), 0);
	CHECK_STR(buf_str(&b), "Q3 report");
	buf_reset(&b);
	CHECK_INT(encode_header_text(&b, long_text, 9, &err), 0);
	CHECK(strstr(buf_str(&b), "=?") == NULL);
	CHECK(strstr(buf_str(&b), "\r\n ") != NULL);
	buf_reset(&b);
	/* a word longer than a line is not cut */
	CHECK_INT(encode_header_text(&b,
	                             "see https://example.org/a/very/long/path/"
	                             "that/goes/on/and/on/past/the/line/limit"
	                             "/index.html now",
	                             9, &err),
	          0);
	CHECK_STR(buf_str(&b), "see\r\n https://example.org/a/very/long/path/"
	                       "that/goes/on/and/on/past/the/line/limit"
	                       "/index.html\r\n now");
	buf_reset(&b);
	/* text that looks like an encoded word is encoded itself */
	CHECK_INT(encode_header_text(&b, "a =?UTF-8?B?QQ==?= b", 9, &err), 0);
	CHECK(strstr(buf_str(&b), "=?UTF-8?B?QQ==?=") == NULL);
	buf_clear(&b);
	check_header_round_trip(long_text, 9, 0);
	check_header_round_trip("a =?UTF-8?B?QQ==?= b", 9, 1);
	check_header_round_trip("tab\tand  two spaces ", 9, 0);
}

static void
test_header_utf8(void)
{
	struct buf b;
	struct error err;
	char text[2048];
	size_t n = 0;

	buf_init(&b, 4096);
	CHECK_INT(encode_header_text(&b,
	                             "Gr\xc3\xbc\xc3\x9f"
	                             "e",
	                             9, &err),
	          0);
	CHECK_STR(buf_str(&b), "=?UTF-8?B?R3LDvMOfZQ==?=");
	buf_reset(&b);
	/* Q when it is shorter */
	CHECK_INT(
	    encode_header_text(&b, "Fran\xc3\xa7ois-Xavier ouvert", 9, &err),
	    0);
	CHECK_STR(buf_str(&b), "=?UTF-8?Q?Fran=C3=A7ois-Xavier?= ouvert");
	buf_clear(&b);

	/* a long subject of 3-byte (CJK) and 4-byte (emoji) characters,
	 * with and without spaces */
	for (int i = 0; i < 60; i++) {
		const char *c = i % 3 == 2   ? "\xf0\x9f\x98\x80"
		                : i % 3 == 1 ? "\xe6\x97\xa5"
		                             : "\xe2\x82\xac";

		memcpy(text + n, c, strlen(c));
		n += strlen(c);
		if (i % 17 == 16)
			text[n++] = ' ';
	}
	text[n] = '\0';
	for (size_t col = 0; col <= 40; col += 9)
		check_header_round_trip(text, col, 4);
	check_header_round_trip("Re: Protokoll der Sitzung vom 3. M\xc3\xa4rz "
	                        "\xe2\x80\x93 Entw\xc3\xbc"
	                        "rfe, Anmerkungen und die n\xc3\xa4"
	                        "chsten Schritte f\xc3\xbcr das Projekt",
	                        9, 1);
	check_header_round_trip("\xc3\xa9", 70, 1);
	check_header_round_trip("a \xc3\xa9 b \xc3\xa9", 74, 2);
}

static void
test_header_refused(void)
{
	static const char *bad[] = {
	    "hi\r\nBcc: victim@example.org",
	    "hi\nBcc: x",
	    "hi\r",
	    "nul\x01",
	    "del\x7f",
	    "\xc3",             /* truncated */
	    "\xc0\xaf",         /* overlong */
	    "\xed\xa0\x80",     /* surrogate */
	    "\xf4\x90\x80\x80", /* past U+10FFFF */
	    "\xff",
	};
	struct buf b;
	struct error err;

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		error_clear(&err);
		CHECK_INT(encode_header_text(&b, bad[i], 9, &err), -1);
		CHECK_INT(err.kind, ERROR_USAGE);
		error_clear(&err);
		CHECK_INT(encode_mailbox(&b, bad[i], "a@b", 6, &err), -1);
		CHECK_INT(err.kind, ERROR_USAGE);
		error_clear(&err);
		CHECK_INT(encode_param(&b, "filename", bad[i], "name", &err),
		          -1);
		CHECK_INT(err.kind, ERROR_USAGE);
	}
	CHECK_INT(encode_mailbox(&b, "Joe", "a@b>\r\nRCPT TO:<x", 6, &err), -1);
	CHECK_INT(encode_mailbox(&b, "Joe", "a@b\n", 6, &err), -1);
	CHECK_INT(encode_mailbox(&b, "Joe\tX", "a@b", 6, &err), -1);
	CHECK_INT(encode_param(&b, "file\r\nname", "x", NULL, &err), -1);
	CHECK_INT(encode_param(&b, "filename", "a\tb", NULL, &err), -1);
	CHECK_INT(b.len, 0);
	CHECK_STR(err.msg, "parameter value contains a line break or control "
	                   "character");
	buf_clear(&b);
}

/* ------------------------------------------------------------------ */
/* mailboxes                                                            */

struct mailbox_case {
	const char *name, *addr, *want;
};

static const struct mailbox_case mailbox_cases[] = {
    {NULL, "bob@example.org", "bob@example.org"},
    {"", "bob@example.org", "bob@example.org"},
    {"Bob", "bob@example.org", "Bob <bob@example.org>"},
    {"Bob M. Smith", "b@x", "\"Bob M. Smith\" <b@x>"},
    {"Bob Smith", "b@x", "Bob Smith <b@x>"},
    {"Smith, Bob", "b@x", "\"Smith, Bob\" <b@x>"},
    {"say \"hi\" \\o/", "b@x", "\"say \\\"hi\\\" \\\\o/\" <b@x>"},
    {" Bob", "b@x", "\" Bob\" <b@x>"},
    {"=?UTF-8?Q?x?=", "b@x", "\"=?UTF-8?Q?x?=\" <b@x>"},
    {"J\xc3\xb6rg", "j@x", "=?UTF-8?B?SsO2cmc=?= <j@x>"},
    {"Fran\xc3\xa7ois-Xavier Dupont", "f@x",
     "=?UTF-8?Q?Fran=C3=A7ois-Xavier?= Dupont <f@x>"},
    {"J\xc3\xb6rg M\xc3\xbcller", "j@x",
     "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <j@x>"},
    {"Ren\xc3\xa9 (Dev) Bob", "r@x", "=?UTF-8?B?UmVuw6kgKERldik=?= Bob <r@x>"},
    /* the addr-spec is never encoded */
    {"Bob", "b\xc3\xb6@b\xc3\xbc.example", "Bob <b\xc3\xb6@b\xc3\xbc.example>"},
};

static void
test_mailbox(void)
{
	struct buf b;
	struct error err;
	struct hdr_check *h = malloc(sizeof *h);
	char name[512];

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof mailbox_cases / sizeof mailbox_cases[0];
	     i++) {
		buf_reset(&b);
		CHECK_INT(encode_mailbox(&b, mailbox_cases[i].name,
		                         mailbox_cases[i].addr, 6, &err),
		          0);
		CHECK_STR(buf_str(&b), mailbox_cases[i].want);
	}
	/* a long non-ASCII name: folded words, then the address */
	name[0] = '\0';
	for (int i = 0; i < 12; i++)
		append(name, i % 2 ? "\xe5\xb1\xb1\xe7\x94\xb0 "
		                   : "Fran\xc3\xa7ois ");
	append(name, "Z");
	buf_reset(&b);
	CHECK_INT(encode_mailbox(&b, name,
	                         "a-rather-long-address@mail.example.org", 4,
	                         &err),
	          0);
	decode_header(buf_str(&b), 4, h);
	CHECK(h->words_ok);
	CHECK(h->lines_ok);
	CHECK(strstr(h->text, " <a-rather-long-address@mail.example.org>"));
	*strstr(h->text, " <a-rather") = '\0';
	CHECK_STR(h->text, name);
	free(h);
	buf_clear(&b);
}

/* ------------------------------------------------------------------ */
/* parameters                                                           */

/* Percent-decode s up to the next ";" or the end into out + *o. */
static void
pct_decode(const char *s, char *out, size_t *o)
{
	for (; *s && *s != ';'; s++) {
		if (*s == '%') {
			out[(*o)++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else {
			out[(*o)++] = *s;
		}
	}
}

/* A plain value: "quoted" or a token. */
static void
plain_decode(const char *s, char *out, size_t *o)
{
	if (*s != '"') {
		while (*s && *s != ';')
			out[(*o)++] = *s++;
		return;
	}
	for (s++; *s != '"'; s++) {
		if (*s == '\\')
			s++;
		out[(*o)++] = *s;
	}
}

/* Unfold and collect name=, name*=, or name*0*= name*1*= ... back into
 * the value (percent-decoded); the result is "" if absent. */
static void
decode_param(const char *hdr, const char *name, char *out)
{
	char unf[8192], key[64];
	size_t n = 0, o = 0;
	const char *p;

	for (size_t i = 0; hdr[i]; i++)
		if (hdr[i] != '\r' && hdr[i] != '\n')
			unf[n++] = hdr[i];
	unf[n] = '\0';
	snprintf(key, sizeof key, "; %s*=utf-8''", name);
	p = strstr(unf, key);
	if (p) {
		pct_decode(p + strlen(key), out, &o);
	} else {
		snprintf(key, sizeof key, "; %s=", name);
		p = strstr(unf, key);
		if (p)
			plain_decode(p + strlen(key), out, &o);
	}
	for (int seg = 0; !p; seg++) {
		snprintf(key, sizeof key, "; %s*%d*=%s", name, seg,
		         seg ? "" : "utf-8''");
		if (!strstr(unf, key))
			break;
		pct_decode(strstr(unf, key) + strlen(key), out, &o);
	}
	out[o] = '\0';
}

static bool
param_lines_ok(const char *s, size_t start_col)
{
	struct hdr_check *h = malloc(sizeof *h);
	bool ok;

	decode_header(s, start_col, h);
	ok = h->lines_ok;
	free(h);
	return ok;
}

static void
test_param_plain(void)
{
	struct buf b;
	struct error err;

	buf_init(&b, 4096);
	buf_append_str(&b, "Content-Type: application/pdf");
	CHECK_INT(encode_param(&b, "name", "q3.pdf", NULL, &err), 0);
	CHECK_STR(buf_str(&b), "Content-Type: application/pdf; name=q3.pdf");
	buf_reset(&b);
	CHECK_INT(
	    encode_param(&b, "filename", "Q3 report (final).pdf", "name", &err),
	    0);
	CHECK_STR(buf_str(&b), "; filename=\"Q3 report (final).pdf\"; "
	                       "name=\"Q3 report (final).pdf\"");
	buf_reset(&b);
	CHECK_INT(encode_param(&b, "x", "a\"b\\c", NULL, &err), 0);
	CHECK_STR(buf_str(&b), "; x=\"a\\\"b\\\\c\"");
	buf_reset(&b);
	CHECK_INT(encode_param(&b, "x", "", NULL, &err), 0);
	CHECK_STR(buf_str(&b), "; x=\"\"");
	buf_reset(&b);
	/* bare only for letters, digits and "._-": other token characters
	 * are quoted too, since some parsers flag them */
	CHECK_INT(encode_param(&b, "filename", "it's.txt", NULL, &err), 0);
	CHECK_STR(buf_str(&b), "; filename=\"it's.txt\"");
	buf_reset(&b);
	CHECK_INT(encode_param(&b, "name", "a+b~c!.txt", NULL, &err), 0);
	CHECK_STR(buf_str(&b), "; name=\"a+b~c!.txt\"");
	buf_reset(&b);
	CHECK_INT(encode_param(&b, "name", "My_File-2.tar.gz", NULL, &err), 0);
	CHECK_STR(buf_str(&b), "; name=My_File-2.tar.gz");
	buf_reset(&b);
	/* folded before a parameter that does not fit */
	buf_append_str(&b, "Content-Disposition: attachment");
	CHECK_INT(encode_param(&b, "filename",
	                       "a-file-name-that-is-long-enough-1.txt", NULL,
	                       &err),
	          0);
	CHECK_STR(buf_str(&b),
	          "Content-Disposition: attachment;\r\n "
	          "filename=a-file-name-that-is-long-enough-1.txt");
	buf_reset(&b);
	CHECK_INT(encode_param(&b, "filename", "r\xc3\xa9sum\xc3\xa9.pdf", NULL,
	                       &err),
	          0);
	CHECK_STR(buf_str(&b), "; filename*=utf-8''r%C3%A9sum%C3%A9.pdf");
	CHECK(strstr(buf_str(&b), "=?") == NULL); /* no RFC 2047 words */
	buf_clear(&b);
}

static void
check_param_round_trip(const char *value, const char *prefix)
{
	struct buf b;
	struct error err;
	char got[4096];
	struct hdr_check *h = malloc(sizeof *h);

	buf_init(&b, 1 << 16);
	buf_append_str(&b, prefix);
	CHECK_INT(encode_param(&b, "filename", value, "name", &err), 0);
	CHECK(param_lines_ok(buf_str(&b), 0));
	decode_param(buf_str(&b), "filename", got);
	CHECK_STR(got, value);
	/* the legacy parameter: encoded words inside quotes */
	decode_param(buf_str(&b), "name", got);
	CHECK(strncmp(got, "=?UTF-8?", 8) == 0);
	decode_header(got, 0, h);
	CHECK(h->words_ok);
	CHECK_STR(h->text, value);
	free(h);
	buf_clear(&b);
}

static void
test_param_2231(void)
{
	char value[1024] = "";
	struct buf b;
	struct error err;

	for (int i = 0; i < 14; i++)
		append(value, i % 2 ? "\xe5\xa0\xb1\xe5\x91\x8a-"
		                    : "Qu\xc3\xa4rtalsbericht ");
	append(value, "\xf0\x9f\x93\x88.pdf");
	check_param_round_trip(value, "Content-Disposition: attachment");
	check_param_round_trip("r\xc3\xa9sum\xc3\xa9.pdf", "Content-Type: a/b");
	/* long ASCII also continues rather than making a long line */
	check_param_round_trip("a-very-long-file-name-with-many-words-in-it-"
	                       "that-goes-past-the-line-limit-of-78.txt",
	                       "Content-Disposition: attachment");

	buf_init(&b, 1 << 16);
	CHECK_INT(encode_param(&b, "filename", value, NULL, &err), 0);
	CHECK(strstr(buf_str(&b), ";\r\n filename*0*=utf-8''") == buf_str(&b));
	CHECK(strstr(buf_str(&b), ";\r\n filename*1*=") != NULL);
	CHECK(strstr(buf_str(&b), "name=") == NULL);
	buf_clear(&b);
}

/* ------------------------------------------------------------------ */
/* boundaries                                                           */

static bool
is_bchars(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 70 || s[n - 1] == ' ')
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		            "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ",
		            *s))
			return false;
	return true;
}

/* RFC 4648 10: the test vectors, on one line, and the size given. */
static void
test_b64_line(void)
{
	static const char *const in[] = {"",     "f",     "fo",    "foo",
	                                 "foob", "fooba", "foobar"};
	static const char *const want[] = {
	    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	char out[64], big[B64_LINE_SIZE(60) + 1];
	unsigned char bytes[60];

	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
		size_t n = b64_line(in[i], strlen(in[i]), out);

		CHECK_INT(n, B64_LINE_SIZE(strlen(in[i])));
		out[n] = '\0';
		CHECK_STR(out, want[i]);
	}
	/* 60 bytes: 80 characters and no line break, unlike b64_push(). */
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)(i * 37 + 251);
	CHECK_INT(b64_line(bytes, sizeof bytes, big), 80);
	big[80] = '\0';
	CHECK(strchr(big, '\r') == NULL && strchr(big, '\n') == NULL);
	CHECK_INT(strspn(big,
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789+/"),
	          80);
}

/* RFC 3461 4: xtext both ways, as smtp.c writes ENVID= and -bs reads it. */
static void
test_xtext(void)
{
	char out[64], back[64];

	xtext_encode("plain.id-42@host", out, sizeof out);
	CHECK_STR(out, "plain.id-42@host");
	xtext_encode("a+b=c d\x7f\xc3\xa9", out, sizeof out);
	CHECK_STR(out, "a+2Bb+3Dc+20d+7F+C3+A9");
	CHECK_STR(xtext_decode(out, back, sizeof back), "a+b=c d\x7f\xc3\xa9");
	/* Cut at a whole "+XX", never inside one: 4 bytes hold "a" only. */
	xtext_encode("a+b", out, 4);
	CHECK_STR(out, "a");
	xtext_encode("a+b", out, 5);
	CHECK_STR(out, "a+2B");
	/* Either case decodes; a '+' without two hex digits stays. */
	CHECK_STR(xtext_decode("+2b+2B", back, sizeof back), "++");
	CHECK_STR(xtext_decode("+2", back, sizeof back), "+2");
	CHECK_STR(xtext_decode("+G1x+", back, sizeof back), "+G1x+");
	CHECK_STR(xtext_decode("abcdef", back, 4), "abc");
}

/* RFC 3461 4.2's ORCPT: rfc822 and xtext for an ASCII address, RFC 6533
 * 3's utf-8-addr-xtext for a UTF-8 one; none (-1) when it is not UTF-8,
 * over 500 characters or over the room. */
static void
test_xtext_orcpt(void)
{
	char out[600], big[400];

	CHECK_INT(xtext_orcpt("bob@example.net", out, sizeof out), 0);
	CHECK_STR(out, "rfc822;bob@example.net");
	CHECK_INT(xtext_orcpt("b+t=1@example.net", out, sizeof out), 0);
	CHECK_STR(out, "rfc822;b+2Bt+3D1@example.net");
	/* U+00F6, U+20AC, U+1F600; '+', '=' and the backslash as \x{..}. */
	CHECK_INT(
	    xtext_orcpt("j\xc3\xb6rg+\\=\xe2\x82\xac\xf0\x9f\x98\x80@b.test",
	                out, sizeof out),
	    0);
	CHECK_STR(out, "utf-8;j\\x{F6}rg\\x{2B}\\x{5C}\\x{3D}\\x{20AC}"
	               "\\x{1F600}@b.test");
	/* Not UTF-8: a lone continuation byte, an overlong '/', a
	 * surrogate, a cut sequence. */
	CHECK_INT(xtext_orcpt("a\x80@b.test", out, sizeof out), -1);
	CHECK_INT(xtext_orcpt("a\xc0\xaf@b.test", out, sizeof out), -1);
	CHECK_INT(xtext_orcpt("a\xed\xa0\x80@b.test", out, sizeof out), -1);
	CHECK_INT(xtext_orcpt("a\xc3", out, sizeof out), -1);
	/* Over the room, or over RFC 3461's 500: none rather than a cut. */
	CHECK_INT(xtext_orcpt("bob@example.net", out, 20), -1);
	CHECK_INT(xtext_orcpt("bob@example.net", out, 26), 0);
	memset(big, '+', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_INT(xtext_orcpt(big, out, sizeof out), -1);
	memset(big, 'a', sizeof big - 1);
	CHECK_INT(xtext_orcpt(big, out, sizeof out), 0);
}

static void
test_boundary(void)
{
	char a[71], b[71], small[8];

	encode_boundary(a, sizeof a);
	encode_boundary(b, sizeof b);
	CHECK(strcmp(a, b) != 0);
	CHECK(strstr(a, "=_") != NULL);
	CHECK(strstr(b, "=_") != NULL);
	CHECK(is_bchars(a));
	CHECK(strlen(a) >= 40);
	encode_boundary(small, sizeof small);
	CHECK_INT(strlen(small), 7);
}

/* b64_decode_text: white space anywhere, padding only at a group's end,
 * every refusal with its reason, and a decode stopped at max resumed at
 * *at to the same bytes. */
static void
test_b64_decode_text(void)
{
	static const struct {
		const char *in, *out, *why; /* why NULL: decodes to out */
	} cases[] = {
	    {"", "", NULL},
	    {"Zm9v", "foo", NULL},
	    {"Zm9vYg==", "foob", NULL},
	    {"Zm9vYmE=", "fooba", NULL},
	    {" Zm9v\r\nYm\tFy\n", "foobar", NULL},
	    {"Zm9vYg=\n=", "foob", NULL},
	    {"Zm=v", NULL, "misplaced '='"},
	    {"Z===", NULL, "misplaced '='"},
	    {"Zg==Zm9v", NULL, "misplaced '='"},
	    {"Zm9", NULL, "cut short"},
	    {"Zm9vY", NULL, "cut short"},
	    {"Zm9v!", NULL, "not base64"},
	    {"Zm\0v", NULL, "not base64"},
	};
	unsigned char out[64];
	size_t at, n, more;
	const char *why;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t len = strlen(cases[i].in);

		if (strcmp(cases[i].in, "Zm\0v") == 0)
			len = 5;
		at = 0;
		why = NULL;
		n = b64_decode_text(cases[i].in, len, &at, out, SIZE_MAX, &why);
		if (!cases[i].why) {
			CHECK_INT(n, strlen(cases[i].out));
			CHECK(n != SIZE_MAX &&
			      memcmp(out, cases[i].out, n) == 0);
		} else {
			CHECK(n == SIZE_MAX);
			CHECK(why && strstr(why, cases[i].why) != NULL);
		}
	}
	/* Stopped at 3 bytes, then resumed from *at. */
	at = 0;
	n = b64_decode_text("Zm9vYmFy", 8, &at, out, 3, &why);
	CHECK_INT(n, 3);
	CHECK_INT(at, 4);
	more = b64_decode_text("Zm9vYmFy", 8, &at, out + n, SIZE_MAX, &why);
	CHECK_INT(more, 3);
	CHECK(memcmp(out, "foobar", 6) == 0);
}

/* RFC 3986 2.1 and 2.3: the unreserved bytes as they are, every other
 * (a space, '+', '/', '%', UTF-8, a control) as upper-case %XX; room for
 * 3 bytes an input byte is enough. */
static void
test_url_encode(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"AZaz09-._~", "AZaz09-._~"},
	    {"a b+c/d", "a%20b%2Bc%2Fd"},
	    {"100%", "100%25"},
	    {"https://x/?a=b&c", "https%3A%2F%2Fx%2F%3Fa%3Db%26c"},
	    {"\xc3\xa9\x7f\x01", "%C3%A9%7F%01"},
	};
	char out[64];

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t n;

		memset(out, '#', sizeof out);
		n = url_encode(out, cases[i].in);
		CHECK_INT(n, strlen(cases[i].out));
		CHECK(memcmp(out, cases[i].out, n) == 0);
		CHECK(out[n] == '#');
	}
}

int
main(void)
{
	test_b64_vectors();
	test_b64_decode_text();
	test_b64_sizes();
	test_b64_encoded_size();
	test_qp_table();
	test_qp_edges();
	test_qp_round_trip();
	test_header_ascii();
	test_header_utf8();
	test_header_refused();
	test_mailbox();
	test_param_plain();
	test_param_2231();
	test_boundary();
	test_xtext();
	test_xtext_orcpt();
	test_b64_line();
	test_url_encode();
	CHECK_INT(over_bound, 0);
	return unit_done();
}
