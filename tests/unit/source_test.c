/*
 * source_test.c - the message read once from a descriptor (source.c),
 * through its public API only.
 *
 * Input goes in through a pipe (short cases) or an unlinked temporary
 * file; the message is read back with source_read in many chunk sizes and
 * compared byte for byte with the canonical form.  Spool files go to a
 * temporary directory of our own, removed at the end.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/mount.h>
#endif

#include "error.h"
#include "header.h"
#include "headeredit.h"
#include "source.h"
#include "util.h"
#include "unit.h"

/* A string literal with its length, so that cases may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

/* Our spool and input files live here. */
static char test_dir[] = "/tmp/mailpost-source-test.XXXXXX";

static const size_t chunk_sizes[] = {1, 2, 3, 7, 64, 4096, 65536};

/* --- helpers ---------------------------------------------------------- */

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("source_test: write");
			exit(99);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* A descriptor to read in[0..n) from: a pipe when the input fits in the
 * pipe's buffer whatever the system (PIPE_BUF), else an unlinked file. */
static int
input_fd(const char *in, size_t n, bool use_pipe)
{
	char path[256];
	int fd;

	if (use_pipe && n <= 4096) {
		int p[2];

		if (pipe(p) < 0) {
			perror("source_test: pipe");
			exit(99);
		}
		write_all(p[1], in, n);
		close(p[1]);
		return p[0];
	}
	snprintf(path, sizeof path, "%s/in.XXXXXX", test_dir);
	fd = mkstemp(path);
	if (fd < 0) {
		perror("source_test: mkstemp");
		exit(99);
	}
	unlink(path);
	write_all(fd, in, n);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int
open_input(struct source **s, const char *in, size_t n, bool dot, bool use_pipe,
           struct error *err)
{
	struct source_options o = {.dot_ends_input = dot, .tmpdir = test_dir};
	int fd = input_fd(in, n, use_pipe);
	int rc;

	error_clear(err);
	rc = source_open(s, fd, &o, err);
	close(fd);
	return rc;
}

/* The whole message from the start, read chunk bytes at a time; NULL on a
 * read error or when source_read yields more than source_size said. */
static char *
read_back(struct source *s, size_t chunk, size_t *len, struct error *err)
{
	size_t want = (size_t)source_size(s);
	char *out = malloc(want + chunk + 1);
	size_t got = 0;
	ssize_t r;

	if (source_rewind(s, err) < 0) {
		free(out);
		return NULL;
	}
	do {
		r = source_read(s, out + got, chunk, err);
		if (r > 0)
			got += (size_t)r;
	} while (r > 0 && got <= want);
	if (r < 0 || got > want) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*len = got;
	return out;
}

/* The message read back in every chunk size equals want[0..want_len),
 * and source_size said so beforehand. */
static void
check_read_back(struct source *s, const char *want, size_t want_len,
                const size_t *sizes, size_t nsizes)
{
	struct error err;

	CHECK_INT(source_size(s), want_len);
	for (size_t i = 0; i < nsizes; i++) {
		size_t len = 0;
		char *got = read_back(s, sizes[i], &len, &err);

		CHECK(got != NULL);
		if (got)
			CHECK_MEM(got, len, want, want_len);
		free(got);
	}
}

/* Does text match pattern?  In the pattern, "%L" is one ASCII letter,
 * "%D" one digit, "%d" one or more digits, "%X" 32 lowercase hex digits,
 * "%s" '+' or '-', "%%" a '%'; any other byte is itself. */
static bool
shape_match(const char *pat, const char *text)
{
	while (*pat) {
		size_t n;

		if (pat[0] != '%' || pat[1] == '%') {
			if (*text != *pat)
				return false;
			pat += pat[0] == '%' ? 2 : 1;
			text++;
			continue;
		}
		switch (pat[1]) {
		case 'L':
			n = ((*text | 0x20) >= 'a' && (*text | 0x20) <= 'z');
			break;
		case 'D':
			n = *text >= '0' && *text <= '9';
			break;
		case 'd':
			n = strspn(text, "0123456789");
			break;
		case 'X':
			n = strspn(text, "0123456789abcdef") == 32 ? 32 : 0;
			break;
		case 's':
			n = *text == '+' || *text == '-';
			break;
		default:
			return false;
		}
		if (n == 0)
			return false;
		text += n;
		pat += 2;
	}
	return *text == '\0';
}

/* Show CR and LF so that a failure prints on one line. */
static void
visible(char *out, size_t size, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < size; s++) {
		if (*s == '\r' || *s == '\n') {
			out[o++] = '\\';
			out[o++] = *s == '\r' ? 'r' : 'n';
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

static void
check_shape(const char *file, int line, const char *got, const char *pat)
{
	char g[400], w[400], m[1024];

	visible(g, sizeof g, got ? got : "(null)");
	visible(w, sizeof w, pat);
	snprintf(m, sizeof m, "got \"%s\", want the shape \"%s\"", g, w);
	unit_report(got && shape_match(pat, got), file, line, m);
}

#define CHECK_SHAPE(got, pat) check_shape(__FILE__, __LINE__, got, pat)

/* RFC 5322 3.3 as source.c writes it: "Sat, 28 Nov 2026 17:03:00 +0100" */
#define DATE_SHAPE                                                             \
	"Date: %L%L%L, %d %L%L%L %D%D%D%D %D%D:%D%D:%D%D %s%D%D%D%D\r\n"

struct shape_case {
	const char *pat;
	const char *text;
	bool want;
};

static const struct shape_case shape_cases[] = {
    {"abc", "abc", true},
    {"abc", "abcd", false},
    {"abcd", "abc", false},
    {"%L%L%L, %d", "Sat, 28", true},
    {"%L%L, %d", "Sat, 28", false},
    {"%L%L, %d", "S1, 28", false},
    {"%d:%D%D", "7:05", true},
    {"%d:%D%D", "7:5", false},
    {"%d:%D%D", ":05", false},
    {"%s%D", "-0", true},
    {"%s%D", "0", false},
    {"<%X.%d@x>", "<0123456789abcdef0123456789abcdef.17@x>", true},
    {"<%X.%d@x>", "<0123456789abcdef0123456789abcde.17@x>", false},
    {"<%X.%d@x>", "<0123456789ABCDEF0123456789abcdef.17@x>", false},
    {"100%%", "100%", true},
    {"%q", "q", false},
    {DATE_SHAPE, "Date: Sat, 28 Nov 2026 17:03:00 +0100\r\n", true},
    {DATE_SHAPE, "Date: Sat, 28 Nov 26 17:03:00 +0100\r\n", false},
    {DATE_SHAPE, "Date: Sat, 28 Nov 2026 17:03:00 0100\r\n", false},
};

/* The matcher itself, so that a passing shape means something. */
static void
test_shape_match(void)
{
	for (size_t i = 0; i < sizeof shape_cases / sizeof shape_cases[0]; i++)
		CHECK_INT(shape_match(shape_cases[i].pat, shape_cases[i].text),
		          shape_cases[i].want);
}

/* A buffer of prefix, n copies of ch, then suffix (caller frees). */
static char *
build(const char *prefix, char ch, size_t n, const char *suffix, size_t *len)
{
	size_t p = strlen(prefix), q = strlen(suffix);
	char *b = malloc(p + n + q + 1);

	memcpy(b, prefix, p);
	memset(b + p, ch, n);
	memcpy(b + p + n, suffix, q + 1);
	*len = p + n + q;
	return b;
}

/* --- canonical form ---------------------------------------------------- */

struct canon_case {
	const char *in;
	size_t in_len;
	bool dot; /* dot_ends_input */
	const char *want;
	size_t want_len;
	size_t fields; /* header fields found */
};

static const struct canon_case canon_cases[] = {
    /* header and body split at the empty line */
    {S("Subject: hi\nTo: a@x\n\nbody\n"), false,
     S("Subject: hi\r\nTo: a@x\r\n\r\nbody\r\n"), 2},
    {S("Subject: a\n b\n\n\nbody\n\n"), false,
     S("Subject: a\r\n b\r\n\r\n\r\nbody\r\n\r\n"), 1},
    /* a line that is not a header ends the block; the empty line that
     * separates them is supplied */
    {S("Subject: x\nbody line\nmore\n"), false,
     S("Subject: x\r\n\r\nbody line\r\nmore\r\n"), 1},
    {S("Subject: x\n\tfolded\n continued body?\n"), false,
     S("Subject: x\r\n\tfolded\r\n continued body?\r\n\r\n"), 1},
    /* no header at all */
    {S("hello world\nTo: not@header\n"), false,
     S("\r\nhello world\r\nTo: not@header\r\n"), 0},
    {S(" indented\n"), false, S("\r\n indented\r\n"), 0},
    {S("\nbody\n"), false, S("\r\nbody\r\n"), 0},
    {S(""), false, S("\r\n"), 0},
    {S(""), true, S("\r\n"), 0},
    /* header only */
    {S("Subject: x"), false, S("Subject: x\r\n\r\n"), 1},
    {S("Subject: x\n"), false, S("Subject: x\r\n\r\n"), 1},
    {S("Subject: x\n\n"), false, S("Subject: x\r\n\r\n"), 1},
    /* a leading mbox "From " line is dropped; later ones are body */
    {S("From a@b Sat Nov 28 17:03:00 2026\nSubject: x\n\nFrom b\n"), false,
     S("Subject: x\r\n\r\nFrom b\r\n"), 1},
    {S("From a@b Sat Nov 28 17:03:00 2026\r\n\r\nbody"), false,
     S("\r\nbody\r\n"), 0},
    {S("From a@b\nFrom c@d\n"), false, S("\r\nFrom c@d\r\n"), 0},
    {S("From: a@b\nFrom c@d\n"), false, S("From: a@b\r\n\r\nFrom c@d\r\n"), 1},
    /* RFC 5322 4.5.3: white space before the colon, kept as received */
    {S("Subject : x\nTo\t: y\n\nb\n"), false,
     S("Subject : x\r\nTo\t: y\r\n\r\nb\r\n"), 2},
    {S("From : a@b\n\nb\n"), false, S("From : a@b\r\n\r\nb\r\n"), 1},
    /* line ends: bare LF and bare CR become CRLF; a final one is added */
    {S("Subject: x\rTo: y\r\rbody\r"), false,
     S("Subject: x\r\nTo: y\r\n\r\nbody\r\n"), 2},
    {S("Subject: x\r\n\r\nbody"), false, S("Subject: x\r\n\r\nbody\r\n"), 1},
    {S("Subject: x\n\na\rb\r\nc\n\rd"), false,
     S("Subject: x\r\n\r\na\r\nb\r\nc\r\n\r\nd\r\n"), 1},
    {S("Subject: x\n\nnul\0byte\n"), false,
     S("Subject: x\r\n\r\nnul\0byte\r\n"), 1},
    {S("Subject: caf\xc3\xa9\n\n\xff\n"), false,
     S("Subject: caf\xc3\xa9\r\n\r\n\xff\r\n"), 1},
    /* sendmail's lone dot, in the body and in the header */
    {S("Subject: x\n\nbody\n.\nignored\n"), true,
     S("Subject: x\r\n\r\nbody\r\n"), 1},
    {S("Subject: x\n\nbody\n.\nkept\n"), false,
     S("Subject: x\r\n\r\nbody\r\n.\r\nkept\r\n"), 1},
    {S("Subject: x\n.\nTo: y\n"), true, S("Subject: x\r\n\r\n"), 1},
    {S(".\nSubject: x\n"), true, S("\r\n"), 0},
    {S("Subject: x\n\n..\n. \n.x\n"), true,
     S("Subject: x\r\n\r\n..\r\n. \r\n.x\r\n"), 1},
    {S("Subject: x\n\nend\n."), true, S("Subject: x\r\n\r\nend\r\n.\r\n"), 1},
};

static void
test_canonical(void)
{
	for (size_t i = 0; i < sizeof canon_cases / sizeof canon_cases[0];
	     i++) {
		const struct canon_case *t = &canon_cases[i];

		for (int use_pipe = 0; use_pipe <= 1; use_pipe++) {
			struct source *s = NULL;
			struct error err;

			CHECK_INT(open_input(&s, t->in, t->in_len, t->dot,
			                     use_pipe, &err),
			          0);
			if (!s)
				continue;
			CHECK_INT(source_headers(s)->n, t->fields);
			check_read_back(s, t->want, t->want_len, chunk_sizes,
			                sizeof chunk_sizes /
			                    sizeof chunk_sizes[0]);
			source_free(s);
		}
	}
	source_free(NULL);
}

/* Reading stops where it is; rewinding starts again from the start, and
 * edits made before the rewind show in the next pass. */
static void
test_rewind(void)
{
	static const char want1[] = "Subject: x\r\n\r\nbody\r\n";
	static const char want2[] = "Subject: x\r\nX-New: 1\r\n\r\nbody\r\n";
	struct source *s = NULL;
	struct error err;
	char buf[64];
	size_t len = 0;
	char *all;

	CHECK_INT(open_input(&s, S("Subject: x\n\nbody\n"), false, true, &err),
	          0);
	if (!s)
		return;
	CHECK_INT(source_read(s, buf, 5, &err), 5);
	CHECK_MEM(buf, 5, "Subje", 5);
	CHECK_INT(source_rewind(s, &err), 0);
	CHECK_INT(source_read(s, buf, sizeof buf, &err), sizeof want1 - 1);
	CHECK_MEM(buf, sizeof want1 - 1, want1, sizeof want1 - 1);
	CHECK_INT(source_read(s, buf, sizeof buf, &err), 0);
	CHECK_INT(source_read(s, buf, sizeof buf, &err), 0);
	CHECK_INT(source_rewind(s, &err), 0);
	CHECK_INT(header_add(source_headers(s), "X-New", "1", &err), 0);
	all = read_back(s, 3, &len, &err);
	CHECK(all != NULL);
	if (all)
		CHECK_MEM(all, len, want2, sizeof want2 - 1);
	CHECK_INT(source_size(s), sizeof want2 - 1);
	free(all);
	source_free(s);
}

/* A body of several MiB streams through the spool; every line ending is
 * converted, and the count of lines and bytes agrees. */
static void
test_big_body(void)
{
	static const char head[] = "Subject: big\n\n";
	static const size_t big_sizes[] = {4093, 65536, 65537, 1 << 20};
	const size_t nlines = 100000;
	const size_t line_len = 50; /* without its line end */
	size_t in_cap = sizeof head + nlines * (line_len + 2);
	size_t want_len = sizeof head + 1 + nlines * (line_len + 2);
	char *in = malloc(in_cap);
	char *want = malloc(want_len);
	size_t in_len = sizeof head - 1, wp = sizeof head + 1;
	struct source *s = NULL;
	struct error err;

	memcpy(in, head, sizeof head - 1);
	memcpy(want, "Subject: big\r\n\r\n", sizeof head + 1);
	for (size_t i = 0; i < nlines; i++) {
		/* all three kinds of line end in turn */
		static const char *const ends[] = {"\n", "\r", "\r\n"};
		const char *end = ends[i % 3];
		char line[64];

		snprintf(line, sizeof line, "%08zu %041zu", i, i * 7919);
		memcpy(in + in_len, line, line_len);
		memcpy(want + wp, line, line_len);
		in_len += line_len;
		wp += line_len;
		memcpy(in + in_len, end, strlen(end));
		in_len += strlen(end);
		memcpy(want + wp, "\r\n", 2);
		wp += 2;
	}
	CHECK(in_len > 4 * 1024 * 1024);
	CHECK_INT(open_input(&s, in, in_len, false, false, &err), 0);
	if (s) {
		CHECK_INT(source_stats(s)->lines, nlines + 2);
		CHECK_INT(source_stats(s)->bytes, want_len);
		CHECK_INT(source_make_sendable(s, &err), 0);
		check_read_back(s, want, want_len, big_sizes,
		                sizeof big_sizes / sizeof big_sizes[0]);
	}
	source_free(s);
	free(in);
	free(want);
}

/* --- the header ceiling ------------------------------------------------ */

/* Header fields whose canonical size is exactly total, then "\nbody\n"
 * after the empty line. */
static char *
fill_header(size_t total, size_t *len)
{
	char *b = malloc(total + 16);
	size_t o = 0;    /* input bytes (lines end in LF alone) */
	size_t done = 0; /* canonical bytes (lines end in CRLF) */

	while (done < total) {
		size_t left = total - done;
		size_t line = left;

		if (left > 2000)
			line = 1000;
		else if (left > 1000)
			line = left / 2;
		memcpy(b + o, "X-Fill: ", 8);
		memset(b + o + 8, 'f', line - 10);
		b[o + line - 2] = '\n';
		o += line - 1;
		done += line;
	}
	memcpy(b + o, "\nbody\n", 6);
	*len = o + 6;
	return b;
}

static void
test_header_max(void)
{
	struct header_policy p = {.set_date = true};
	struct source *s = NULL;
	struct error err;
	size_t len;
	char *in;

	/* exactly HEADER_BLOCK_MAX bytes of fields: accepted */
	in = fill_header(HEADER_BLOCK_MAX, &len);
	CHECK_INT(open_input(&s, in, len, false, false, &err), 0);
	if (s) {
		CHECK_INT(header_size(source_headers(s)), HEADER_BLOCK_MAX);
		CHECK_INT(source_size(s), HEADER_BLOCK_MAX + 2 + 6);
		/* and nothing more can be added */
		CHECK_INT(headeredit_complete(source_headers(s), &p, &err), -1);
		CHECK_INT(err.kind, ERROR_DATA);
	}
	source_free(s);
	free(in);

	/* one byte more: refused */
	in = fill_header(HEADER_BLOCK_MAX + 1, &len);
	s = (struct source *)&len;
	CHECK_INT(open_input(&s, in, len, false, false, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(s == NULL);
	free(in);

	/* one field longer than the whole block may be */
	in = build("X-Big: ", 'b', HEADER_BLOCK_MAX + 100, "\n\nbody\n", &len);
	CHECK_INT(open_input(&s, in, len, false, false, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	free(in);

	/* a folded field growing past the ceiling */
	in = build("X-Big: a\n ", 'b', HEADER_BLOCK_MAX, "\n\nbody\n", &len);
	CHECK_INT(open_input(&s, in, len, false, false, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	free(in);
}

/* Very long lines that are not header fields are no trouble: a first
 * body line, or an mbox "From " line that is dropped. */
static void
test_long_non_header_lines(void)
{
	size_t n = HEADER_BLOCK_MAX + HEADER_BLOCK_MAX / 2;
	struct source *s = NULL;
	struct error err;
	size_t len, want_len;
	char *in, *want;

	in = build("", 'x', n, "\n", &len);
	want = build("\r\n", 'x', n, "\r\n", &want_len);
	CHECK_INT(open_input(&s, in, len, false, false, &err), 0);
	if (s) {
		CHECK_INT(source_headers(s)->n, 0);
		check_read_back(s, want, want_len, chunk_sizes + 5, 2);
		/* re-encoded, not refused */
		CHECK_INT(source_make_sendable(s, &err), 0);
		CHECK(source_size(s) > want_len);
	}
	source_free(s);
	free(in);
	free(want);

	in = build("From ", 'x', n, "\nSubject: y\n\nb\n", &len);
	CHECK_INT(open_input(&s, in, len, false, false, &err), 0);
	if (s) {
		CHECK_INT(source_headers(s)->n, 1);
		check_read_back(s, S("Subject: y\r\n\r\nb\r\n"),
		                chunk_sizes + 5, 2);
	}
	source_free(s);
	free(in);
}

/* --- measurements ------------------------------------------------------ */

struct sendable_case {
	const char *prefix;
	size_t n; /* copies of 'a' after the prefix */
	const char *suffix;
	bool dot;
	int rc;
	const char *want; /* in the error when rc is -1, else in the message */
};

/* Long lines are never refused for their length (RFC 5322 2.1.1 is met by
 * re-encoding the body, folding the header, RFC 2047 words for text),
 * only a structured header line with no white space to fold at. */
static const struct sendable_case sendable_cases[] = {
    {"Subject: x\n\n", 998, "\n", false, 0, "\r\n\r\naaaa"},
    {"Subject: x\n\n", 998, "", false, 0, "\r\n\r\naaaa"},
    {"Subject: x\n\n", 998, "\r\nshort\n", false, 0, "\r\n\r\naaaa"},
    {"Subject: x\n\n", 999, "\n", false, 0, "quoted-printable"},
    {"Subject: x\n\n", 999, "", false, 0, "aaaa=\r\n"},
    {"Subject: x\n\nok\r\nok\r", 999, "\r", false, 0, "quoted-printable"},
    {"Subject: ", 989, "\n\n", false, 0, "Subject: aaa"},
    {"Subject: ", 990, "\n\n", false, 0, "Subject:\r\n aaa"},
    {"Subject:", 991, "\n\n", false, 0, "Subject: =?"},
    {"Message-ID:<", 991, "@x>\n\n", false, -1, "Message-ID"},
    {"Subject: x\n\n.\n", 999, "\n", true, 0, "\r\n\r\n"},
    {"Subject: x\n\n.\n", 999, "\n", false, 0, "quoted-printable"},
};

/* The whole message as source_read gives it, NUL-terminated. */
static char *
read_whole(struct source *s)
{
	size_t n = (size_t)source_size(s);
	char *out = xmalloc(n + 1);
	size_t got = 0;
	struct error err;
	ssize_t k;

	source_rewind(s, &err);
	while (got < n && (k = source_read(s, out + got, n - got, &err)) > 0)
		got += (size_t)k;
	out[got] = '\0';
	CHECK_INT(got, n);
	return out;
}

static void
test_sendable(void)
{
	for (size_t i = 0; i < sizeof sendable_cases / sizeof sendable_cases[0];
	     i++) {
		const struct sendable_case *t = &sendable_cases[i];
		struct source *s = NULL;
		struct error err;
		size_t len;
		char *in = build(t->prefix, 'a', t->n, t->suffix, &len);
		char *all;

		CHECK_INT(open_input(&s, in, len, t->dot, false, &err), 0);
		free(in);
		if (!s)
			continue;
		error_clear(&err);
		CHECK_INT(source_make_sendable(s, &err), t->rc);
		if (t->rc < 0) {
			CHECK_INT(err.kind, ERROR_DATA);
			CHECK(strstr(err.msg, t->want) != NULL);
			CHECK(strstr(err.msg, "998") != NULL);
		} else {
			all = read_whole(s);
			CHECK(strstr(all, t->want) != NULL);
			for (const char *p = all, *lf; (lf = strchr(p, '\n'));
			     p = lf + 1)
				CHECK(lf - p <= 999);
			free(all);
		}
		source_free(s);
	}
}

/* A NUL byte in the body stays, said by source_has_nul (BINARYMIME is
 * the server's to offer); one in the header is refused; one in an mbox
 * "From " line that is dropped, or after a lone "." that ends the input,
 * is no NUL of the message. */
static void
test_nul_refused(void)
{
	static const struct {
		const char *in;
		size_t len;
		bool dot;
		int rc;
		bool body_nul;
	} cases[] = {
	    {S("Subject: x\n\nbinary\0data\n"), false, 0, true},
	    {S("Subject: x\n\nbinary data\n"), false, 0, false},
	    {S("Subject: x\0y\n\nbinary data\n"), false, -1, false},
	    {S("Subject: x\n y\0\n\ndata\n"), false, -1, false},
	    {S("From a\0b Mon Jan  1\nSubject: x\n\ndata\n"), false, 0, false},
	    {S("Subject: x\n\ndata\n.\nafter\0\n"), true, 0, false},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct source *s = NULL;
		struct error err;

		error_clear(&err);
		CHECK_INT(open_input(&s, cases[i].in, cases[i].len,
		                     cases[i].dot, false, &err),
		          0);
		if (!s)
			continue;
		CHECK_INT(source_make_sendable(s, &err), cases[i].rc);
		if (cases[i].rc < 0) {
			CHECK_INT(err.kind, ERROR_DATA);
			CHECK(strstr(err.msg, "header holds a NUL") != NULL);
		}
		CHECK(source_has_nul(s) == cases[i].body_nul);
		source_free(s);
	}
}

struct eightbit_case {
	const char *in;
	size_t in_len;
	bool dot;
	bool want;
};

static const struct eightbit_case eightbit_cases[] = {
    {S("Subject: x\n\nplain ascii\x7f\n"), false, false},
    {S("Subject: caf\xc3\xa9\n\nplain\n"), false, true},
    {S("Subject: x\n\nna\xc3\xafve\n"), false, true},
    {S("Subject: x\n\n\x80"), false, true},
    {S("Subject: x\n\nok\n.\n\xff\n"), true, false},
    {S("Subject: x\n\nok\n.\n\xff\n"), false, true},
    {S(""), false, false},
};

static void
test_has_8bit(void)
{
	for (size_t i = 0; i < sizeof eightbit_cases / sizeof eightbit_cases[0];
	     i++) {
		const struct eightbit_case *t = &eightbit_cases[i];
		struct source *s = NULL;
		struct error err;

		CHECK_INT(open_input(&s, t->in, t->in_len, t->dot, true, &err),
		          0);
		if (!s)
			continue;
		CHECK_INT(source_has_8bit(s), t->want);
		source_free(s);
	}
}

/* --- recipients for -t ------------------------------------------------- */

struct rcpt_case {
	const char *in;
	int rc;
	const char *want; /* the addresses found, joined with ',' */
};

static const struct rcpt_case rcpt_cases[] = {
    {"To: a@x, b@y\nCc: c@z\nBcc: d@w\nSubject: s\n\n", 0, "a@x,b@y,c@z,d@w"},
    {"Bcc: d@w\nTo: a@x\nCc: c@z\n\n", 0, "d@w,a@x,c@z"},
    {"TO: a@x\ncc: b@x\nbCC: c@x\n\n", 0, "a@x,b@x,c@x"},
    {"To: a@x,\n b@y,\n\tc@z\n\n", 0, "a@x,b@y,c@z"},
    {"To: \"Doe, J\" <j@x>, Ann <a@y> (c), (x) b@z\n\n", 0, "j@x,a@y,b@z"},
    {"To: team: a@x, b@y;, c@z\n\n", 0, "a@x,b@y,c@z"},
    {"To: undisclosed-recipients:;\n\n", 0, ""},
    {"Subject: none\n\n", 0, ""},
    {"Subject: x\n\nTo: body@x\n", 0, ""},
    {"Reply-To: r@x\nX-To: y@x\nFrom: f@x\n\n", 0, ""},
    {"To : obs@x\nCc\t: obs2@x\n\n", 0, "obs@x,obs2@x"},
    /* once resent, only the Resent- fields count */
    {"To: a@x\nResent-To: r@x\nResent-Cc: s@x\nResent-Bcc: t@x\n\n", 0,
     "r@x,s@x,t@x"},
    {"To: a@x\nResent-From: f@x\n\n", 0, ""},
    {"To: a@x\nresent-date: d\nRESENT-TO: r@x\n\n", 0, "r@x"},
    {"To: a@x\nResent-: x\n\n", 0, "a@x"},
    {"To: <a@x\n\n", -1, NULL},
};

static void
join(const struct strlist *l, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		size_t o = strlen(out);

		snprintf(out + o, size - o, "%s%s", i ? "," : "", l->v[i]);
	}
}

static void
test_recipients(void)
{
	for (size_t i = 0; i < sizeof rcpt_cases / sizeof rcpt_cases[0]; i++) {
		const struct rcpt_case *t = &rcpt_cases[i];
		struct source *s = NULL;
		struct strlist l;
		struct error err;
		char got[256];

		CHECK_INT(
		    open_input(&s, t->in, strlen(t->in), false, true, &err), 0);
		if (!s)
			continue;
		strlist_init(&l);
		CHECK_INT(source_recipients(s, &l, &err), t->rc);
		if (t->rc == 0) {
			join(&l, got, sizeof got);
			CHECK_STR(got, t->want);
		} else {
			CHECK_INT(err.kind, ERROR_DATA);
			CHECK(strstr(err.msg, "To field") != NULL);
		}
		strlist_clear(&l);
		source_free(s);
	}
}

/* --- completing the header --------------------------------------------- */

#define ME "me@example.org"

struct policy_case {
	const char *in;
	struct header_policy p;
	int rc;
	const char *want; /* the whole message read back, a shape */
};

static const struct policy_case policy_cases[] = {
    /* From: auto, on, off; with and without one present */
    {"Subject: s\n\nb\n",
     {.from_address = ME, .set_from = FROM_HEADER_AUTO},
     0,
     "Subject: s\r\nFrom: " ME "\r\n\r\nb\r\n"},
    {"From: old@x\nSubject: s\n\nb\n",
     {.from_address = ME, .set_from = FROM_HEADER_AUTO},
     0,
     "From: old@x\r\nSubject: s\r\n\r\nb\r\n"},
    {"from : old@x\nSubject: s\n\nb\n",
     {.from_address = ME, .set_from = FROM_HEADER_AUTO},
     0,
     "from : old@x\r\nSubject: s\r\n\r\nb\r\n"},
    {"Subject: s\n\nb\n",
     {.from_address = "", .set_from = FROM_HEADER_AUTO},
     0,
     "Subject: s\r\n\r\nb\r\n"},
    {"From: old@x\nSubject: s\nFROM: two@x\n\nb\n",
     {.from_address = ME, .full_name = "Me Myself", .set_from = FROM_HEADER_ON},
     0,
     "Subject: s\r\nFrom: Me Myself <" ME ">\r\n\r\nb\r\n"},
    {"Subject: s\n\nb\n",
     {.from_address = ME, .set_from = FROM_HEADER_ON},
     0,
     "Subject: s\r\nFrom: " ME "\r\n\r\nb\r\n"},
    {"Subject: s\n\nb\n",
     {.from_address = ME, .set_from = FROM_HEADER_OFF},
     0,
     "Subject: s\r\n\r\nb\r\n"},
    {"From: old@x\n\nb\n",
     {.from_address = ME, .full_name = "N", .set_from = FROM_HEADER_OFF},
     0,
     "From: old@x\r\n\r\nb\r\n"},
    {"body only\n",
     {.from_address = ME, .set_from = FROM_HEADER_AUTO},
     0,
     "From: " ME "\r\n\r\nbody only\r\n"},
    /* the full name: atoms, a quoted string, encoded words */
    {"\n",
     {.from_address = ME, .full_name = "", .set_from = FROM_HEADER_ON},
     0,
     "From: " ME "\r\n\r\n"},
    {"\n",
     {.from_address = ME,
      .full_name = "Joe Q. Public",
      .set_from = FROM_HEADER_ON},
     0,
     "From: \"Joe Q. Public\" <" ME ">\r\n\r\n"},
    {"\n",
     {.from_address = ME,
      .full_name = "Joe \"Q\" \\Pub, Inc <x@y>",
      .set_from = FROM_HEADER_ON},
     0,
     "From: \"Joe \\\"Q\\\" \\\\Pub, Inc <x@y>\" <" ME ">\r\n\r\n"},
    {"\n",
     {.from_address = ME,
      .full_name = "J\xc3\xa9r\xc3\xb4me Dupont",
      .set_from = FROM_HEADER_ON},
     0,
     "From: =?UTF-8?B?SsOpcsO0bWUgRHVwb250?= <" ME ">\r\n\r\n"},
    /* 54 bytes: two words, cut before the 'Å' that would straddle */
    {"\n",
     {.from_address = ME,
      .full_name = "\xc3\x85ngstr\xc3\xb6m \xc3\x85ngstr\xc3\xb6m "
                   "\xc3\x85ngstr\xc3\xb6m \xc3\x85ngstr\xc3\xb6m "
                   "\xc3\x85ngstr\xc3\xb6m",
      .set_from = FROM_HEADER_ON},
     0,
     "From: =?UTF-8?B?w4VuZ3N0csO2bSDDhW5nc3Ryw7ZtIMOFbmdzdHLDtm0gw4VuZ3N0csO"
     "2bSA=?= =?UTF-8?B?w4VuZ3N0csO2bQ==?= <" ME ">\r\n\r\n"},
    /* control characters and line breaks are refused; nothing changes */
    {"To: a@x\n\nb\n",
     {.from_address = ME,
      .full_name = "Joe\r\nBcc: evil@x",
      .set_from = FROM_HEADER_ON,
      .set_date = true},
     -1,
     "To: a@x\r\n\r\nb\r\n"},
    {"To: a@x\n\nb\n",
     {.from_address = ME, .full_name = "Joe\x01", .set_from = FROM_HEADER_ON},
     -1,
     "To: a@x\r\n\r\nb\r\n"},
    {"To: a@x\n\nb\n",
     {.from_address = ME, .full_name = "Joe\x7f", .set_from = FROM_HEADER_AUTO},
     -1,
     "To: a@x\r\n\r\nb\r\n"},
    {"To: a@x\n\nb\n",
     {.from_address = ME "\r\nRCPT TO:<x@y>", .set_from = FROM_HEADER_ON},
     -1,
     "To: a@x\r\n\r\nb\r\n"},
    /* Date */
    {"Subject: s\n\nb\n",
     {.set_date = true},
     0,
     "Subject: s\r\n" DATE_SHAPE "\r\nb\r\n"},
    {"date: Sat, 28 Nov 2026 17:03:00 +0100\n\nb\n",
     {.set_date = true},
     0,
     "date: Sat, 28 Nov 2026 17:03:00 +0100\r\n\r\nb\r\n"},
    /* Message-ID */
    {"Subject: s\n\nb\n",
     {.set_msgid = true, .msgid_domain = "mail.example.net"},
     0,
     "Subject: s\r\nMessage-ID: <%X.%d@mail.example.net>\r\n\r\nb\r\n"},
    {"\n",
     {.from_address = ME, .set_msgid = true, .set_from = FROM_HEADER_OFF},
     0,
     "Message-ID: <%X.%d@example.org>\r\n\r\n"},
    {"\n", {.set_msgid = true}, 0, "Message-ID: <%X.%d@localhost>\r\n\r\n"},
    {"Message-Id: <a@b>\n\n",
     {.set_msgid = true},
     0,
     "Message-Id: <a@b>\r\n\r\n"},
    {"\n", {.set_msgid = true, .msgid_domain = "bad domain"}, -1, "\r\n"},
    {"\n", {.set_msgid = true, .msgid_domain = "a@b"}, -1, "\r\n"},
    /* Bcc and undisclosed recipients */
    {"To: a@x\nBcc: b@x\nbcc : c@x,\n d@x\nSubject: s\n\nBcc: body\n",
     {.remove_bcc = true},
     0,
     "To: a@x\r\nSubject: s\r\n\r\nBcc: body\r\n"},
    /* a resent message's blind recipients (RFC 5322 3.6.6), which -t
     * sends to, are as blind as a Bcc's */
    {"Resent-To: r@x\nResent-Bcc: s@x\nresent-bcc : t@x,\n u@x\nTo: a@x\n"
     "Bcc: b@x\n\nb\n",
     {.remove_bcc = true},
     0,
     "Resent-To: r@x\r\nTo: a@x\r\n\r\nb\r\n"},
    {"To: a@x\nCc: b@x\nBcc: c@x\nSubject: s\nTo: e@x\n\nb\n",
     {.undisclosed = true},
     0,
     "Subject: s\r\nTo: undisclosed-recipients:;\r\n\r\nb\r\n"},
    {"Subject: s\n\nb\n",
     {.undisclosed = true},
     0,
     "Subject: s\r\nTo: undisclosed-recipients:;\r\n\r\nb\r\n"},
    /* everything at once, in the order the fields are added */
    {"Subject: s\nBcc: x@y\n\nb\n",
     {.from_address = ME,
      .full_name = "Me",
      .set_from = FROM_HEADER_AUTO,
      .set_date = true,
      .set_msgid = true,
      .remove_bcc = true,
      .undisclosed = true},
     0,
     "Subject: s\r\nTo: undisclosed-recipients:;\r\nFrom: Me <" ME
     ">\r\n" DATE_SHAPE "Message-ID: <%X.%d@example.org>\r\n\r\nb\r\n"},
};

static void
test_complete_headers(void)
{
	for (size_t i = 0; i < sizeof policy_cases / sizeof policy_cases[0];
	     i++) {
		const struct policy_case *t = &policy_cases[i];
		struct source *s = NULL;
		struct error err;
		size_t len = 0;
		char *got;

		CHECK_INT(
		    open_input(&s, t->in, strlen(t->in), false, true, &err), 0);
		if (!s)
			continue;
		error_clear(&err);
		CHECK_INT(headeredit_complete(source_headers(s), &t->p, &err),
		          t->rc);
		if (t->rc < 0)
			CHECK_INT(err.kind, ERROR_DATA);
		got = read_back(s, 7, &len, &err);
		CHECK_SHAPE(got, t->want);
		if (got)
			CHECK_INT(len, source_size(s));
		free(got);
		source_free(s);
	}
}

/* --- failures while reading ------------------------------------------- */

static void
test_read_errors(void)
{
	struct source_options o = {.tmpdir = test_dir};
	struct source *s;
	struct error err;
	int fd, p[2];

	/* a directory cannot be read (EISDIR) */
	fd = open(test_dir, O_RDONLY);
	CHECK(fd >= 0);
	s = (struct source *)&o;
	CHECK_INT(source_open(&s, fd, &o, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(s == NULL);
	close(fd);

	/* a closed descriptor (EBADF) */
	CHECK_INT(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	CHECK_INT(source_open(&s, p[0], &o, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(strstr(err.msg, strerror(EBADF)) != NULL);
}

/* The spool directory: from the options, else $TMPDIR; a message whose
 * body the input ends within one block (64 KiB) needs none: the body
 * stays in memory and reads back whole. */
static void
test_spool_dir(void)
{
	char missing[300];
	char *old = getenv("TMPDIR");
	char *saved = old ? xstrdup(old) : NULL;
	struct source_options o = {.tmpdir = missing};
	struct source *s = NULL;
	struct error err;
	size_t len, blen, got = 0;
	char *in, *big, *back;
	int fd;

	snprintf(missing, sizeof missing, "%s/missing", test_dir);
	big = build("Subject: x\n\n", 'b', 70 * 1024, "\n", &blen);
	fd = input_fd(big, blen, true);
	CHECK_INT(source_open(&s, fd, &o, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(strstr(err.msg, missing) != NULL);
	close(fd);

	fd = input_fd(S("Subject: x\n\n"), true);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	CHECK_INT(source_size(s), 14);
	source_free(s);
	close(fd);

	/* A body of one block less a byte (its CRLF form), read in two
	 * reads: no file, and every byte read back. */
	in = build("Subject: x\n\n", 'm', 64 * 1024 - 3, "\n", &len);
	fd = input_fd(in, len, true);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	if (s) {
		back = read_back(s, 1000, &got, &err);
		CHECK(back != NULL && got == len + 3);
		if (back && got == len + 3)
			CHECK(memcmp(back + 14, in + 12, 64 * 1024 - 3) == 0 &&
			      memcmp(back + got - 2, "\r\n", 2) == 0);
		free(back);
		source_free(s);
	}
	close(fd);
	free(in);

	/* NULL and "" fall back to $TMPDIR */
	setenv("TMPDIR", missing, 1);
	o.tmpdir = "";
	fd = input_fd(big, blen, true);
	CHECK_INT(source_open(&s, fd, &o, &err), -1);
	CHECK(strstr(err.msg, missing) != NULL);
	close(fd);
	fd = input_fd(big, blen, true);
	CHECK_INT(source_open(&s, fd, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	close(fd);
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);

	/* a directory name too long for a path */
	in = build(test_dir, 'd', 5000, "", &len);
	o.tmpdir = in;
	fd = input_fd(big, blen, true);
	CHECK_INT(source_open(&s, fd, &o, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	close(fd);
	free(in);
	free(big);
}

/* A full file system under the spool: ERROR_IOERR, not a short message.
 * Needs a tmpfs of our own, so only as root (skipped otherwise). */
static void
test_disk_full(void)
{
#ifdef __linux__
	char dir[300];
	struct source_options o = {.tmpdir = dir};
	struct source *s = NULL;
	struct error err;
	size_t len;
	char *in;
	int fd;

	if (geteuid() != 0) {
		printf("skipped: disk full (needs root to mount a tmpfs)\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/full", test_dir);
	if (mkdir(dir, 0700) < 0)
		return;
	if (mount("mailpost-test", dir, "tmpfs", 0, "size=64k") < 0) {
		printf("skipped: disk full (cannot mount a tmpfs: %s)\n",
		       strerror(errno));
		rmdir(dir);
		return;
	}
	in = build("Subject: x\n\n", 'z', 1024 * 1024, "\n", &len);
	fd = input_fd(in, len, false);
	CHECK_INT(source_open(&s, fd, &o, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(strstr(err.msg, strerror(ENOSPC)) != NULL);
	CHECK(s == NULL);
	close(fd);
	free(in);
	CHECK_INT(umount(dir), 0);
	rmdir(dir);
#else
	printf("skipped: disk full (Linux only)\n");
#endif
}

/* --- body only, the body reader, headeredit_complete on any block ------- */

/* The body alone, read chunk bytes at a time from its start. */
static char *
read_body_back(struct source *s, size_t chunk, size_t *len)
{
	size_t want = (size_t)source_body_size(s);
	char *out = malloc(want + chunk + 1);
	struct error err;
	size_t got = 0;
	ssize_t r;

	CHECK_INT(source_rewind_body(s, &err), 0);
	do {
		r = source_read_body(s, out + got, chunk, &err);
		if (r > 0)
			got += (size_t)r;
	} while (r > 0 && got <= want);
	CHECK(r == 0);
	*len = got;
	return out;
}

struct body_only_case {
	const char *in;
	size_t in_len;
	bool dot;
	const char *body;
	size_t body_len;
};

static const struct body_only_case body_only_cases[] = {
    /* Header-looking lines and a leading mbox line are body text. */
    {S("From me\nSubject: x\n\nrest\n"), false,
     S("From me\r\nSubject: x\r\n\r\nrest\r\n")},
    {S("To: a@b\n"), false, S("To: a@b\r\n")},
    {S(" indented\r\nbare cr\rend"), false,
     S(" indented\r\nbare cr\r\nend\r\n")},
    {S(""), false, S("")},
    /* sendmail without -i: a lone dot ends the input. */
    {S("line\n.\nafter\n"), true, S("line\r\n")},
    {S("line\n.\nafter\n"), false, S("line\r\n.\r\nafter\r\n")},
};

static void
test_body_only(void)
{
	for (size_t i = 0;
	     i < sizeof body_only_cases / sizeof body_only_cases[0]; i++) {
		const struct body_only_case *t = &body_only_cases[i];
		struct source_options o = {.dot_ends_input = t->dot,
		                           .tmpdir = test_dir,
		                           .body_only = true};
		int fd = input_fd(t->in, t->in_len, true);
		struct source *s = NULL;
		struct error err;

		CHECK_INT(source_open(&s, fd, &o, &err), 0);
		close(fd);
		if (!s)
			continue;
		CHECK_INT(source_headers(s)->n, 0);
		CHECK_INT(source_body_size(s), t->body_len);
		/* source_read: the empty header block, then the body. */
		CHECK_INT(source_size(s), t->body_len + 2);
		for (size_t k = 0;
		     k < sizeof chunk_sizes / sizeof chunk_sizes[0]; k++) {
			size_t len = 0;
			char *got = read_body_back(s, chunk_sizes[k], &len);

			CHECK_MEM(got, len, t->body, t->body_len);
			free(got);
		}
		source_free(s);
	}
}

/* The body reader is separate from source_read and rewinds on its own. */
static void
test_read_body(void)
{
	static const char body[] = "line one\r\nline two\r\n";
	struct source *s = NULL;
	struct error err;
	char buf[64];
	size_t len = 0;
	char *big, *got;

	CHECK_INT(open_input(&s, S("Subject: x\n\nline one\nline two\n"), false,
	                     true, &err),
	          0);
	if (!s)
		return;
	CHECK_INT(source_body_size(s), sizeof body - 1);
	CHECK_INT(source_read(s, buf, 4, &err), 4);
	got = read_body_back(s, 5, &len);
	CHECK_MEM(got, len, body, sizeof body - 1);
	free(got);
	/* source_read went on where it was. */
	CHECK_INT(source_read(s, buf, 8, &err), 8);
	CHECK_MEM(buf, 8, "ect: x\r\n", 8);
	CHECK_INT(source_rewind_body(s, &err), 0);
	CHECK_INT(source_read_body(s, buf, 4, &err), 4);
	CHECK_MEM(buf, 4, "line", 4);
	source_free(s);

	/* A body of several spool blocks; an empty body. */
	big = build("Subject: big\n\n", 'q', 300 * 1024, "\n", &len);
	CHECK_INT(open_input(&s, big, len, false, false, &err), 0);
	if (s) {
		size_t n = 0;

		CHECK_INT(source_body_size(s), 300 * 1024 + 2);
		got = read_body_back(s, 65536, &n);
		CHECK_INT(n, 300 * 1024 + 2);
		CHECK(got[0] == 'q' && got[n - 2] == '\r');
		free(got);
		source_free(s);
	}
	free(big);
	CHECK_INT(open_input(&s, S("Subject: x\n\n"), false, true, &err), 0);
	if (s) {
		CHECK_INT(source_body_size(s), 0);
		CHECK_INT(source_rewind_body(s, &err), 0);
		CHECK_INT(source_read_body(s, buf, sizeof buf, &err), 0);
		source_free(s);
	}
}

/* headeredit_complete works on a block that no source read. */
static void
test_complete_any_block(void)
{
	struct header_policy p = {.from_address = "me@example.org",
	                          .full_name = "Me",
	                          .set_from = FROM_HEADER_AUTO,
	                          .set_date = true,
	                          .set_msgid = true,
	                          .remove_bcc = true};
	struct header_block h;
	struct error err;

	header_init(&h);
	CHECK_INT(header_add(&h, "Subject", "x", &err), 0);
	CHECK_INT(header_add(&h, "Bcc", "hidden@example.org", &err), 0);
	CHECK_INT(headeredit_complete(&h, &p, &err), 0);
	CHECK(header_find(&h, "Bcc", 0) < 0);
	CHECK(header_find(&h, "From", 0) >= 0);
	CHECK(header_find(&h, "Date", 0) >= 0);
	CHECK(header_find(&h, "Message-ID", 0) >= 0);
	CHECK(strstr(h.v[header_find(&h, "Message-ID", 0)].raw,
	             "@example.org>") != NULL);
	p.full_name = "Bad\r\nName";
	CHECK_INT(headeredit_complete(&h, &p, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	header_clear(&h);
}

/* --- streaming (stream_after) ----------------------------------------- */

/* A message of nlines body lines (LF) in *in, its canonical form in *want;
 * line `odd` (0: none) is replaced by odd_line. */
static void
stream_message(size_t nlines, size_t odd, const char *odd_line, char **in,
               size_t *in_len, char **want, size_t *want_len)
{
	size_t cap = 64 + nlines * 80 + (odd_line ? strlen(odd_line) : 0);
	size_t i = 0, w = 0;

	*in = malloc(cap);
	*want = malloc(cap + nlines + 2);
	i = (size_t)snprintf(*in, cap, "Subject: stream\n\n");
	w = (size_t)snprintf(*want, cap, "Subject: stream\r\n\r\n");
	for (size_t n = 1; n <= nlines; n++) {
		char line[80];
		const char *l = line;
		size_t len;

		snprintf(line, sizeof line, "%07zu %060zu", n, n * 31);
		if (n == odd && odd_line)
			l = odd_line;
		len = strlen(l);
		memcpy(*in + i, l, len);
		memcpy(*want + w, l, len);
		i += len;
		w += len;
		(*in)[i++] = '\n';
		(*want)[w++] = '\r';
		(*want)[w++] = '\n';
	}
	*in_len = i;
	*want_len = w;
}

/* A streaming source: open returns with the start read, reads go on
 * through the input, the whole arrives byte for byte, a regular file
 * bounds the size. */
static void
test_stream(void)
{
	struct source_options o = {.tmpdir = test_dir, .stream_after = 4096};
	struct source *s = NULL;
	struct error err;
	char *in, *want, *got;
	size_t in_len, want_len, got_len;
	uint64_t bound;
	int fd;

	stream_message(5000, 0, NULL, &in, &in_len, &want, &want_len);
	fd = input_fd(in, in_len, false);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	CHECK(!source_complete(s));
	CHECK(source_size(s) < want_len);
	CHECK(source_size_bound(s, &bound));
	CHECK(bound >= want_len);
	CHECK_INT(source_finish(s, &err), 0);
	CHECK(source_complete(s));
	CHECK_INT(source_size(s), want_len);
	CHECK_INT(source_make_sendable(s, &err), 0);
	got = read_back(s, 4093, &got_len, &err);
	CHECK(got != NULL);
	if (got)
		CHECK_MEM(got, got_len, want, want_len);
	free(got);
	CHECK(!source_was_cut(s));
	source_free(s);
	close(fd);

	/* Read straight through while incomplete: the reads themselves
	 * take the input to its end. */
	fd = input_fd(in, in_len, false);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	{
		char *buf = malloc(want_len + 1);
		size_t n = 0;
		ssize_t r;

		while ((r = source_read(s, buf + n, 1000, &err)) > 0)
			n += (size_t)r;
		CHECK_INT(r, 0);
		CHECK(source_complete(s));
		CHECK_MEM(buf, n, want, want_len);
		free(buf);
	}
	source_free(s);
	close(fd);
	free(in);
	free(want);
}

/* What a streaming source cannot give out as it reads: a NUL or a line
 * too long past the start ends the read (ERROR_DATA, cut once); a read
 * error is remembered by every later call. */
static void
test_stream_stops(void)
{
	struct source_options o = {.tmpdir = test_dir, .stream_after = 4096};
	char longl[1200];
	struct source *s = NULL;
	struct error err;
	char *in, *want, buf[65536];
	size_t in_len, want_len;
	ssize_t r;
	int fd;

	memset(longl, 'x', sizeof longl - 1);
	longl[sizeof longl - 1] = '\0';
	stream_message(5000, 3000, longl, &in, &in_len, &want, &want_len);
	fd = input_fd(in, in_len, false);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	CHECK(!source_complete(s));
	while ((r = source_read(s, buf, sizeof buf, &err)) > 0)
		;
	CHECK_INT(r, -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(source_was_cut(s));
	CHECK(!source_was_cut(s));
	CHECK_INT(source_finish(s, &err), 0);
	CHECK_INT(source_make_sendable(s, &err), 0);
	CHECK(source_has_8bit(s) == false);
	source_free(s);
	close(fd);
	free(in);
	free(want);

	/* A NUL in the input after the start. */
	stream_message(5000, 0, NULL, &in, &in_len, &want, &want_len);
	in[in_len - 100] = '\0';
	fd = input_fd(in, in_len, false);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	while ((r = source_read(s, buf, sizeof buf, &err)) > 0)
		;
	CHECK_INT(r, -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(source_was_cut(s));
	CHECK_INT(source_finish(s, &err), 0);
	CHECK_INT(source_make_sendable(s, &err), 0); /* BINARYMIME's */
	CHECK(source_has_nul(s));
	source_free(s);
	close(fd);

	/* A read error once streaming: every later call fails alike. */
	fd = input_fd(in, in_len, false);
	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	CHECK(!source_complete(s));
	close(fd); /* the next read: EBADF */
	r = source_read(s, buf, sizeof buf, &err);
	while (r > 0)
		r = source_read(s, buf, sizeof buf, &err);
	CHECK_INT(r, -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	error_clear(&err);
	CHECK_INT(source_finish(s, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(strstr(err.msg, "standard input") != NULL);
	CHECK_INT(source_rewind(s, &err), 0);
	error_clear(&err);
	while ((r = source_read(s, buf, sizeof buf, &err)) > 0)
		;
	CHECK_INT(r, -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	source_free(s);
	free(in);
	free(want);
}

int
main(void)
{
	if (!mkdtemp(test_dir)) {
		perror("source_test: mkdtemp");
		return 99;
	}
	test_shape_match();
	test_canonical();
	test_rewind();
	test_big_body();
	test_header_max();
	test_long_non_header_lines();
	test_sendable();
	test_nul_refused();
	test_has_8bit();
	test_recipients();
	test_complete_headers();
	test_read_errors();
	test_spool_dir();
	test_disk_full();
	test_body_only();
	test_read_body();
	test_complete_any_block();
	test_stream();
	test_stream_stops();
	if (rmdir(test_dir) < 0)
		perror("source_test: rmdir (spool files left behind?)");
	return unit_done();
}
