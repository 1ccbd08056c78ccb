/*
 * reencode_test.c - lossless re-encoding of long body lines (reencode.c):
 * exact output for small cases, the same output for every split of the
 * input, and what is refused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "header.h"
#include "header_text.h"
#include "reencode.h"
#include "unit.h"
#include "util.h"

/* In case texts, '#' stands for a run of RUN 'x's (a long line), '@'
 * for RUN 'A's (long base64), '%' for 998 'x's (the longest line),
 * '~' for 300 "word " (a long header line that folds), '^' for 2 * RUN
 * '-'s (where every break falls before a "-") and '&' for RUN spaces. */
#define RUN 1000

static char *
expand(const char *t, size_t *len)
{
	struct buf b;
	char *out;

	buf_init(&b, 1 << 24);
	for (; *t; t++) {
		if (*t == '#' || *t == '@')
			for (int i = 0; i < RUN; i++)
				buf_append_char(&b, *t == '#' ? 'x' : 'A');
		else if (*t == '%')
			for (int i = 0; i < 998; i++)
				buf_append_char(&b, 'x');
		else if (*t == '&')
			for (int i = 0; i < RUN; i++)
				buf_append_char(&b, ' ');
		else if (*t == '^')
			for (int i = 0; i < 2 * RUN; i++)
				buf_append_char(&b, '-');
		else if (*t == '~')
			for (int i = 0; i < 300; i++)
				buf_append_str(&b, "word ");
		else
			buf_append_char(&b, *t);
	}
	*len = b.len;
	out = xmalloc(b.len + 1);
	memcpy(out, b.data, b.len);
	out[b.len] = '\0';
	buf_clear(&b);
	return out;
}

static int
sink_write(void *ctx, const char *p, size_t n, struct error *err)
{
	(void)err;
	return buf_append(ctx, p, n);
}

/* Push body in pieces of `step` bytes, the first one `first` bytes long. */
static int
push_all(struct reencoder *r, const char *body, size_t len, size_t first,
         size_t step, bool eol_added, struct error *err)
{
	size_t off = 0;

	while (off < len) {
		size_t n = off == 0 ? first : step;

		if (n > len - off)
			n = len - off;
		if (n == 0)
			n = 1;
		if (reencode_push(r, body + off, n, err) < 0)
			return -1;
		off += n;
	}
	return reencode_finish(r, eol_added, err);
}

/* Scan and rewrite; out gets the top header (edited), an empty line, and
 * the body; returns -1 with err when refused, 1 when nothing changes. */
static int
run(const char *top, const char *body, size_t len, size_t first, size_t step,
    bool eol_added, struct buf *out, struct error *err)
{
	struct header_block h;
	struct reencoder *r;
	struct reencode_sink sink = {sink_write, out};
	int rc;

	header_from(&h, top);
	r = reencode_new(&h);
	rc = push_all(r, body, len, first, step, eol_added, err);
	if (rc == 0 && !reencode_needed(r))
		rc = 1;
	if (rc == 0 && reencode_edit_top(r, &h, err) < 0)
		rc = -1;
	if (rc == 0) {
		for (size_t i = 0; i < h.n; i++)
			buf_append(out, h.v[i].raw, h.v[i].raw_len);
		buf_append(out, "\r\n", 2);
		reencode_rewrite(r, &sink);
		rc = push_all(r, body, len, first, step, eol_added, err);
	}
	reencode_free(r);
	header_clear(&h);
	return rc;
}

struct exact_case {
	const char *top;  /* top header, "\n" line ends (CRLF added) */
	const char *body; /* '#' long run */
	bool eol_added;
	const char *want; /* header + "\r\n" + body, expanded */
};

/* 1000 x's as quoted-printable: 13 lines of 75 and a soft break, then 25. */
#define X75                                                                    \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxx"
#define X25 "xxxxxxxxxxxxxxxxxxxxxxxxx"
#define QP1000                                                                 \
	X75 "=\r\n" X75 "=\r\n" X75 "=\r\n" X75 "=\r\n" X75 "=\r\n" X75        \
	    "=\r\n" X75 "=\r\n" X75 "=\r\n" X75 "=\r\n" X75 "=\r\n" X75        \
	    "=\r\n" X75 "=\r\n" X75 "=\r\n" X25

static const struct exact_case exact_cases[] = {
    /* no MIME fields: all three added, the body quoted-printable */
    {"Subject: t\r\n", "a \r\n#\r\nb\r\n", false,
     "Subject: t\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
     "\r\na=20\r\n" QP1000 "\r\nb\r\n"},
    /* the last line had no line end: a soft break ends the text */
    {"Subject: t\r\n", "#\r\n", true,
     "Subject: t\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
     "\r\n" QP1000 "=\r\n"},
    /* cron: the encoding replaced where it stands, the type kept */
    {"MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n"
     "Content-Type: text/plain; charset=UTF-8\r\n",
     "#\r\n", false,
     "MIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n"
     "Content-Type: text/plain; charset=UTF-8\r\n\r\n" QP1000 "\r\n"},
    /* a part: the CRLF before the boundary stays the delimiter's */
    {"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
     "pre\r\n--b\r\nContent-Type: text/plain\r\n\r\n#\r\n--b\r\n\r\nok\r\n"
     "--b--\r\n",
     false,
     "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
     "pre\r\n--b\r\nContent-Type: text/plain\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n" QP1000
     "\r\n--b\r\n\r\nok\r\n--b--\r\n"},
    /* a soft break never starts a line with "-": here it would have made
     * the line "--b", a delimiter (RFC 2046 5.1.1) */
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "--b\r\nContent-Type: text/plain\r\n\r\n" X75 "--b\r\n#\r\n--b--\r\n",
     false,
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
     "--b\r\nContent-Type: text/plain\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\n" X75
     "=\r\n=2D-b\r\n" QP1000 "\r\n--b--\r\n"},
    /* nor does a cut in a preamble */
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "%--b\r\n--b\r\n\r\nok\r\n--b--\r\n", false,
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n%"
     "\r\n --b\r\n--b\r\n\r\nok\r\n--b--\r\n"},
    /* a delimiter made long by its padding (RFC 2046 5.1.1) is a
     * delimiter, written without the padding */
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "--b&\r\n\r\nok\r\n--b-- \t&\r\n", false,
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
     "--b\r\n\r\nok\r\n--b--\r\n"},
    /* a preamble and an epilogue are cut at 998 */
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "#\r\n--b\r\n\r\nok\r\n--b--\r\n", false,
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n%"
     "\r\nxx\r\n--b\r\n\r\nok\r\n--b--\r\n"},
};

static void
test_exact(void)
{
	for (size_t i = 0; i < sizeof exact_cases / sizeof exact_cases[0];
	     i++) {
		const struct exact_case *t = &exact_cases[i];
		size_t len;
		char *body = expand(t->body, &len);
		size_t want_len;
		char *want = expand(t->want, &want_len);
		struct buf out;
		struct error err;

		buf_init(&out, 1 << 24);
		CHECK_INT(
		    run(t->top, body, len, len, len, t->eol_added, &out, &err),
		    0);
		CHECK_MEM(out.data, out.len, want, want_len);
		buf_clear(&out);
		free(want);
		free(body);
	}
}

/* Inputs for the split test and the properties. */
static const char *const split_tops[] = {
    "Subject: t\r\n",
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    "Content-Type: message/rfc822\r\n",
    "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n",
    "Content-Type: text/plain\r\nContent-Transfer-Encoding: "
    "quoted-printable\r\n",
    "Content-Type: multipart/mixed; boundary=b\r\n",
};
static const char *const split_bodies[] = {
    "a\r\n#\r\n.#\r\nFrom #\t\r\nend\r",
    "pre#\r\n--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n"
    "--c\r\nX-Long: ~\r\n\r\n#\r\n--c\r\n\r\nshort\r\n--c--\r\n--b\r\n"
    "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
    "\r\n@\r\n--b--   \r\nepi#\r\n",
    "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n#\r\n"
    "--b--\r\n",
    "Subject: inner\r\n\r\n\xc3\xa9#\r\n",
    "@\r\n@@\r\n",
    "=3D#=3D=\r\n#=\r\n",
    "--b &\r\n\r\n#\r\n--b--&\t\r\n",
};

/* Every split into two pieces, and pieces of 1 and 7 bytes, give what one
 * push gives. */
static void
test_splits(void)
{
	for (size_t i = 0; i < sizeof split_bodies / sizeof split_bodies[0];
	     i++) {
		size_t len;
		char *body = expand(split_bodies[i], &len);
		struct buf want, got;
		struct error err;
		int fails = 0;

		buf_init(&want, 1 << 24);
		buf_init(&got, 1 << 24);
		CHECK_INT(
		    run(split_tops[i], body, len, len, len, false, &want, &err),
		    0);
		for (size_t k = 1; k < len; k++) {
			buf_reset(&got);
			if (run(split_tops[i], body, len, k, len, false, &got,
			        &err) != 0 ||
			    got.len != want.len ||
			    memcmp(got.data, want.data, got.len) != 0)
				fails++;
		}
		CHECK_INT(fails, 0);
		for (size_t step = 1; step <= 7; step += 6) {
			buf_reset(&got);
			CHECK_INT(run(split_tops[i], body, len, step, step,
			              false, &got, &err),
			          0);
			CHECK_MEM(got.data, got.len, want.data, want.len);
		}
		/* Whatever the case, no line of the result passes 998. */
		for (size_t k = 0, col = 0; k < want.len; k++) {
			col = want.data[k] == '\n' ? 0 : col + 1;
			if (col > 999) {
				CHECK(col <= 999);
				break;
			}
		}
		buf_clear(&want);
		buf_clear(&got);
		free(body);
	}
}

/* Quoted-printable decoding (RFC 2045 6.7), for the rewrap check. */
static size_t
qp_decode(const char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '=' && i + 2 < n && in[i + 1] == '\r' &&
		    in[i + 2] == '\n') {
			i += 2;
		} else if (in[i] == '=' && i + 2 < n) {
			char hex[3] = {in[i + 1], in[i + 2], 0};

			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			out[o++] = in[i];
		}
	}
	return o;
}

/* A quoted-printable part with long lines decodes the same after the
 * soft breaks, which never split "=XX", and no line passes 76: for
 * well-formed escapes (malformed is false), and for a long run of "="
 * (malformed: each "=" inside an escape is its byte, so the run is cut
 * in threes; the fuzzer found a run that was never cut). */
static void
check_rewrap_qp(bool malformed)
{
	const char *top = "Content-Transfer-Encoding: quoted-printable\r\n";
	struct buf b, out;
	struct error err;
	char *d1, *d2;
	size_t n1, n2, body_at, col = 0, maxcol = 0;

	buf_init(&b, 1 << 20);
	buf_init(&out, 1 << 24);
	for (int i = 0; i < 500; i++)
		buf_append_str(&b, malformed ? (i == 7 ? "root" : "===")
		                   : i % 3   ? "a=3D"
		                             : "=C3=A9 ");
	buf_append_str(&b, "=\r\nshort\r\n");
	CHECK_INT(run(top, b.data, b.len, b.len, b.len, false, &out, &err), 0);
	body_at = strstr(out.data, "\r\n\r\n") - out.data + 4;
	for (size_t k = body_at; k < out.len; k++) {
		col = out.data[k] == '\r'   ? col
		      : out.data[k] == '\n' ? 0
		                            : col + 1;
		maxcol = col > maxcol ? col : maxcol;
	}
	CHECK(maxcol <= 76);
	d1 = xmalloc(b.len);
	d2 = xmalloc(out.len);
	n1 = qp_decode(b.data, b.len, d1);
	n2 = qp_decode(out.data + body_at, out.len - body_at, d2);
	CHECK_MEM(d2, n2, d1, n1);
	free(d1);
	free(d2);
	buf_clear(&b);
	buf_clear(&out);
}

static void
test_rewrap_qp(void)
{
	check_rewrap_qp(false);
	check_rewrap_qp(true);
}

/* Whatever is re-encoded, rewrapped or cut, a line the input did not
 * start never starts with "-": it could complete a boundary delimiter,
 * which RFC 2046 5.1.1 lets readers find by its prefix.  The only lines
 * of the result starting with "-" are the input's delimiters. */
static void
test_no_delimiter_made(void)
{
	static const char *const tops[] = {
	    "Subject: t\r\n",
	    "Content-Transfer-Encoding: quoted-printable\r\n",
	    "Content-Transfer-Encoding: base64\r\n",
	    "Content-Type: multipart/mixed; boundary=b\r\n",
	};
	static const char *const bodies[] = {
	    "a^\r\n",
	    "a^\r\n",
	    "@^\r\n",
	    "a^\r\n--b\r\n\r\na^\r\n--b--\r\na^\r\n",
	};
	for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
		size_t len;
		char *body = expand(bodies[i], &len);
		struct buf out;
		struct error err;
		int bad = 0;

		buf_init(&out, 1 << 24);
		CHECK_INT(run(tops[i], body, len, len, len, false, &out, &err),
		          0);
		for (const char *l = strstr(out.data, "\r\n\r\n") + 4;
		     l && l < out.data + out.len;) {
			const char *eol = strstr(l, "\r\n");
			size_t n = (size_t)(eol - l);

			if (*l == '-' && !(n == 3 && !memcmp(l, "--b", 3)) &&
			    !(n == 5 && !memcmp(l, "--b--", 5)))
				bad++;
			l = eol + 2;
		}
		CHECK_INT(bad, 0);
		buf_clear(&out);
		free(body);
	}
}

struct refuse_case {
	const char *top, *body, *why;
};

static const struct refuse_case refuse_cases[] = {
    {"Content-Transfer-Encoding: x-uuencode\r\n", "#\r\n", "x-uuencode"},
    {"Content-Type: multipart/mixed\r\n", "#\r\n", "without a boundary"},
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "--b\r\nContent-Transfer-Encoding: x-gzip\r\n\r\n#\r\n--b--\r\n",
     "x-gzip"},
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "--b\r\nContent-ID: <#>\r\n\r\nok\r\n--b--\r\n", "Content-ID"},
    {"Content-Type: multipart/mixed; boundary=b\r\n",
     "--b&x\r\n\r\nok\r\n--b--\r\n", "white space"},
};

static void
test_refused(void)
{
	for (size_t i = 0; i < sizeof refuse_cases / sizeof refuse_cases[0];
	     i++) {
		const struct refuse_case *t = &refuse_cases[i];
		size_t len;
		char *body = expand(t->body, &len);
		struct buf out;
		struct error err;

		buf_init(&out, 1 << 24);
		error_clear(&err);
		CHECK_INT(run(t->top, body, len, len, len, false, &out, &err),
		          -1);
		CHECK_INT(err.kind, ERROR_DATA);
		CHECK(strstr(err.msg, t->why) != NULL);
		buf_clear(&out);
		free(body);
	}
}

/* Nothing long: nothing to do, whatever the structure. */
static void
test_nothing_to_do(void)
{
	static const char *const bodies[] = {
	    "short\r\n",
	    "--b\r\n\r\nx\r\n--b--\r\n",
	    "",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		struct buf out;
		struct error err;

		buf_init(&out, 1 << 20);
		CHECK_INT(run("Content-Type: multipart/mixed; boundary=b\r\n",
		              bodies[i], strlen(bodies[i]), 3, 3, false, &out,
		              &err),
		          1);
		buf_clear(&out);
	}
}

/* A Content-Type value that ends in white space or in a comment, closed
 * or not: the boundary scan stops at its end (it read past it: found by
 * tests/fuzz/source_fuzz.c; ASan in the --sanitizers build). */
static void
test_type_value_end(void)
{
	static const char *const tops[] = {
	    "Content-Type: multipart/mixed; boundary=b (unclosed\r\n",
	    "Content-Type: multipart/mixed; boundary=b (closed)\r\n",
	    "Content-Type: multipart/mixed; boundary=b\t\r\n",
	    "Content-Type: multipart/mixed (\\\r\n", /* no boundary */
	};
	for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
		size_t len;
		char *body = expand("--b\r\n\r\n~\r\n--b--\r\n", &len);
		struct buf out;
		struct error err;

		buf_init(&out, 1 << 24);
		error_clear(&err);
		if (i < 3)
			CHECK_INT(run(tops[i], body, len, len, len, false,
			              &out, &err),
			          0);
		else
			CHECK(run(tops[i], body, len, len, len, false, &out,
			          &err) == -1 &&
			      strstr(err.msg, "without a boundary"));
		buf_clear(&out);
		free(body);
	}
}

int
main(void)
{
	test_exact();
	test_splits();
	test_rewrap_qp();
	test_no_delimiter_made();
	test_refused();
	test_nothing_to_do();
	test_type_value_end();
	return unit_done();
}
