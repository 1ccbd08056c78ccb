/*
 * mime_test.c - composing MIME messages (mime.c), through its public API.
 *
 * Each case composes a message, reads it back in several block sizes,
 * checks that mime_size said exactly how many bytes came out, then parses
 * the result minimally (header block, boundaries, part headers) and
 * decodes each part to compare it with its input.  Files live in a
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
#include <sys/time.h>
#include <unistd.h>

#include "error.h"
#include "header.h"
#include "mime.h"
#include "source.h"
#include "util.h"
#include "unit.h"

#define S(lit) lit, sizeof(lit) - 1

static char test_dir[] = "/tmp/mailpost-mime-test.XXXXXX";
static const size_t chunk_sizes[] = {1, 7, 4096, 65536};

/* --- helpers ---------------------------------------------------------- */

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0) {
			perror("mime_test: write");
			exit(99);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* A file named name in the test directory holding data[0..n). */
static char *
make_file(const char *name, const char *data, size_t n)
{
	char *path = malloc(512);
	int fd;

	snprintf(path, 512, "%s/%s", test_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("mime_test: open");
		exit(99);
	}
	write_all(fd, data, n);
	close(fd);
	return path;
}

static void
remove_file(char *path)
{
	unlink(path);
	free(path);
}

/* The whole message, read chunk bytes at a time; NULL on an error. */
static char *
read_all(struct mime_message *m, size_t chunk, size_t *len, struct error *err)
{
	size_t cap = 1024, got = 0;
	char *out = malloc(cap);
	ssize_t r;

	if (mime_rewind(m, err) < 0) {
		free(out);
		return NULL;
	}
	for (;;) {
		if (cap - got < chunk + 1) {
			cap = 2 * cap + chunk;
			out = realloc(out, cap);
		}
		r = mime_read(m, out + got, chunk, err);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (r < 0) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	*len = got;
	return out;
}

/* Read in every chunk size: the same bytes each time, as many as
 * mime_size said.  Returns the message (caller frees). */
static char *
read_checked(struct mime_message *m, size_t *len)
{
	struct error err;
	char *first = NULL;
	size_t first_len = 0;

	for (size_t i = 0; i < sizeof chunk_sizes / sizeof *chunk_sizes; i++) {
		size_t n = 0;
		char *out = read_all(m, chunk_sizes[i], &n, &err);

		CHECK(out != NULL);
		if (!out)
			continue;
		CHECK_INT(n, mime_size(m));
		if (!first) {
			first = out;
			first_len = n;
			continue;
		}
		CHECK_MEM(out, n, first, first_len);
		free(out);
	}
	*len = first_len;
	return first;
}

/* --- a minimal MIME parser for the checks ------------------------------- */

struct part_view {
	char head[4096]; /* header fields, unfolded, lower case names kept */
	const char *body;
	size_t body_len;
};

/* The header block ends at the first empty line. */
static const char *
split_head(const char *msg, size_t len, char *head, size_t n)
{
	const char *end = memmem(msg, len, "\r\n\r\n", 4);
	size_t hl;

	if (msg[0] == '\r' && len >= 2) {
		head[0] = '\0';
		return msg + 2;
	}
	if (!end)
		return NULL;
	hl = (size_t)(end - msg) + 2;
	if (hl >= n)
		hl = n - 1;
	memcpy(head, msg, hl);
	head[hl] = '\0';
	return end + 4;
}

/* The unfolded value of field name in a header block, into out. */
static bool
field(const char *head, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	const char *p = head;

	while (p && *p) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			size_t o = 0;

			p += nl + 1;
			while (*p == ' ')
				p++;
			for (; *p && o + 1 < n; p++) {
				if (p[0] == '\r' && p[1] == '\n' &&
				    (p[2] == ' ' || p[2] == '\t')) {
					p += 1;
					continue;
				}
				if (p[0] == '\r')
					break;
				out[o++] = *p;
			}
			out[o] = '\0';
			return true;
		}
		p = strstr(p, "\r\n");
		if (p)
			p += 2;
	}
	return false;
}

/* The boundary parameter of a Content-Type value. */
static bool
boundary_of(const char *ctype, char *out, size_t n)
{
	const char *b = strstr(ctype, "boundary=\"");
	const char *e;

	if (!b)
		return false;
	b += 10;
	e = strchr(b, '"');
	if (!e || (size_t)(e - b) >= n)
		return false;
	memcpy(out, b, (size_t)(e - b));
	out[e - b] = '\0';
	return true;
}

/* Split a multipart body into at most max parts; returns the count, or
 * -1 when the structure is wrong (no close delimiter, text after it). */
static int
split_parts(const char *body, size_t len, const char *boundary,
            struct part_view *parts, int max)
{
	char delim[128];
	const char *end = body + len;
	const char *p;
	int n = 0;

	snprintf(delim, sizeof delim, "--%s\r\n", boundary);
	if (len < strlen(delim) || memcmp(body, delim, strlen(delim)) != 0)
		return -1;
	p = body + strlen(delim);
	snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	while (n < max) {
		const char *next =
		    memmem(p, (size_t)(end - p), delim, strlen(delim));
		const char *content;

		if (!next)
			return -1;
		content = split_head(p, (size_t)(next - p), parts[n].head,
		                     sizeof parts[n].head);
		if (!content)
			return -1;
		parts[n].body = content;
		parts[n].body_len = (size_t)(next - content);
		n++;
		p = next + strlen(delim);
		if (end - p >= 4 && memcmp(p, "--\r\n", 4) == 0)
			return p + 4 == end ? n : -1;
		if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
			return -1;
		p += 2;
	}
	return -1;
}

static int
b64_value(char c)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
	                        "uvwxyz0123456789+/";
	const char *p = c ? strchr(a, c) : NULL;

	return p ? (int)(p - a) : -1;
}

/* Decode base64 (line ends skipped); checks line lengths <= 76. */
static char *
b64_decode(const char *in, size_t n, size_t *out_len)
{
	char *out = malloc(n + 1);
	unsigned long acc = 0;
	size_t o = 0, col = 0, max = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);

		if (in[i] == '\r' || in[i] == '\n') {
			col = 0;
			continue;
		}
		if (++col > max)
			max = col;
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	CHECK(max <= 76);
	*out_len = o;
	return out;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode quoted-printable; hard breaks stay CRLF; lines <= 76. */
static char *
qp_decode(const char *in, size_t n, size_t *out_len)
{
	char *out = malloc(n + 1);
	size_t o = 0, col = 0;
	bool long_line = false;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\r') {
			long_line |= col > 76;
			col = 0;
			out[o++] = '\r';
			continue;
		}
		if (in[i] == '\n') {
			out[o++] = '\n';
			continue;
		}
		col++;
		if (in[i] == '=' && i + 2 < n && in[i + 1] == '\r') {
			long_line |= col > 76;
			col = 0;
			i += 2;
			continue;
		}
		if (in[i] == '=' && i + 2 < n) {
			out[o++] = (char)(hex_value(in[i + 1]) * 16 +
			                  hex_value(in[i + 2]));
			i += 2;
			col += 2;
			continue;
		}
		out[o++] = in[i];
	}
	CHECK(!long_line);
	*out_len = o;
	return out;
}

/* The content of a part, decoded per its Content-Transfer-Encoding. */
static char *
decode_part(const struct part_view *pv, size_t *len)
{
	char cte[64] = "7bit";
	char *out;

	field(pv->head, "Content-Transfer-Encoding", cte, sizeof cte);
	if (strcmp(cte, "base64") == 0)
		return b64_decode(pv->body, pv->body_len, len);
	if (strcmp(cte, "quoted-printable") == 0)
		return qp_decode(pv->body, pv->body_len, len);
	out = malloc(pv->body_len + 1);
	memcpy(out, pv->body, pv->body_len);
	*len = pv->body_len;
	return out;
}

/* in[0..n) with every LF made CRLF (for 7bit and QP text). */
static char *
canonical(const char *in, size_t n, size_t *len)
{
	char *out = malloc(2 * n + 3);
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			out[o++] = '\r';
		out[o++] = in[i];
	}
	if (n > 0 && in[n - 1] != '\n') {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	*len = o;
	return out;
}

/* No line of the message is longer than 998 characters. */
static void
check_line_lengths(const char *msg, size_t len)
{
	size_t col = 0, max = 0;

	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n') {
			col = 0;
			continue;
		}
		if (++col > max)
			max = col;
	}
	CHECK(max <= 999);
}

static struct mime_message *
compose_ok(const struct mime_request *req)
{
	struct mime_message *m = NULL;
	struct error err;

	error_clear(&err);
	CHECK_INT(mime_compose(&m, req, &err), 0);
	if (!m)
		fprintf(stderr, "compose: %s\n", err.msg);
	return m;
}

/* --- body cases: a single part ------------------------------------------ */

struct body_case {
	const char *text;
	size_t len;
	const char *cte;
	const char *ctype;
};

static const struct body_case body_cases[] = {
    {S(""), "7bit", "text/plain; charset=us-ascii"},
    {S("hello\n"), "7bit", "text/plain; charset=us-ascii"},
    {S("hello\r\nworld"), "7bit", "text/plain; charset=us-ascii"},
    {S("gr\xc3\xbc\xc3\x9f dich\n"), "quoted-printable",
     "text/plain; charset=utf-8"},
    {S("gr\xc3\xbc\xc3\x9f dich aus der Stadt"), "quoted-printable",
     "text/plain; charset=utf-8"},
    {S("\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
       "\xd0\xbc\xd0\xb8\xd1\x80\n"),
     "base64", "text/plain; charset=utf-8"},
    {S("caf\xe9 cr\xe8me\n"), "base64", "text/plain; charset=unknown-8bit"},
    {S("one\rtwo\n"), "base64", "text/plain; charset=us-ascii"},
    {S("a\0b\n"), "base64", "text/plain"},
    {S(". a dot line\nFrom the start\n"), "7bit",
     "text/plain; charset=us-ascii"},
};

static void
check_single(const char *msg, size_t len, const struct body_case *c)
{
	char head[8192], v[256];
	const char *body = split_head(msg, len, head, sizeof head);
	struct part_view pv;
	size_t dl = 0, wl = 0;
	char *got, *want;

	CHECK(body != NULL);
	if (!body)
		return;
	CHECK(field(head, "MIME-Version", v, sizeof v) && !strcmp(v, "1.0"));
	CHECK(field(head, "Content-Type", v, sizeof v));
	CHECK_STR(v, c->ctype);
	CHECK(field(head, "Content-Transfer-Encoding", v, sizeof v));
	CHECK_STR(v, c->cte);
	str_copy(pv.head, sizeof pv.head, head);
	pv.body = body;
	pv.body_len = len - (size_t)(body - msg);
	got = decode_part(&pv, &dl);
	if (strcmp(c->cte, "base64") == 0)
		want = memcpy(malloc(c->len + 1), c->text, c->len), wl = c->len;
	else
		want = canonical(c->text, c->len, &wl);
	CHECK_MEM(got, dl, want, wl);
	free(got);
	free(want);
}

static void
test_bodies(void)
{
	for (size_t i = 0; i < sizeof body_cases / sizeof *body_cases; i++) {
		const struct body_case *c = &body_cases[i];
		char *text = malloc(c->len + 1);
		char *path = make_file("body.txt", c->text, c->len);
		struct mime_request req = {.body_file = path};
		struct mime_message *m;
		size_t len;
		char *msg;

		memcpy(text, c->text, c->len);
		text[c->len] = '\0';
		/* --body (no NULs possible) and --body-file. */
		for (int k = 0; k < 2; k++) {
			if (k == 1 && memchr(c->text, 0, c->len))
				continue;
			if (k == 1) {
				req.body_file = NULL;
				req.body_text = text;
			}
			m = compose_ok(&req);
			if (!m)
				continue;
			msg = read_checked(m, &len);
			if (msg) {
				check_single(msg, len, c);
				check_line_lengths(msg, len);
			}
			free(msg);
			mime_free(m);
		}
		free(text);
		remove_file(path);
	}
}

/* A long ASCII line goes quoted-printable; a line is never over 76. */
static void
test_long_line(void)
{
	static const struct body_case c = {NULL, 0, "quoted-printable",
	                                   "text/plain; charset=us-ascii"};
	struct body_case cc = c;
	char *text = malloc(5002);
	struct mime_request req = {.body_text = text};
	struct mime_message *m;
	size_t len;
	char *msg;

	memset(text, 'x', 5000);
	text[5000] = '\n';
	text[5001] = '\0';
	cc.text = text;
	cc.len = 5001;
	m = compose_ok(&req);
	msg = m ? read_checked(m, &len) : NULL;
	if (msg) {
		check_single(msg, len, &cc);
		check_line_lengths(msg, len);
	}
	free(msg);
	mime_free(m);
	free(text);
}

/* --- headers ------------------------------------------------------------ */

static void
test_headers(void)
{
	static const char *const to[] = {
	    "alice@example.org", "bob@example.org",  "carol@example.org",
	    "dave@example.org",  "erin@example.org", "frank@example.org"};
	static const char *const cc[] = {"gina@example.org"};
	static const char *const reply_to[] = {"replies@example.org"};
	static const char *const extra[] = {"X-Mailer-Test: yes",
	                                    "X-Two: caf\xc3\xa9"};
	struct mime_request req = {.from = "me@example.org",
	                           .from_name = "Me Myself",
	                           .reply_to = reply_to,
	                           .nreply_to = 1,
	                           .subject = "Quarterly report",
	                           .to = to,
	                           .nto = 6,
	                           .cc = cc,
	                           .ncc = 1,
	                           .extra = extra,
	                           .nextra = 2,
	                           .priority = MIME_PRIORITY_HIGH,
	                           .body_text = "hi\n"};
	struct mime_message *m = compose_ok(&req);
	char head[8192], v[1024];
	size_t len;
	char *msg;

	if (!m)
		return;
	msg = read_checked(m, &len);
	split_head(msg, len, head, sizeof head);
	CHECK(field(head, "From", v, sizeof v) &&
	      strstr(v, "<me@example.org>"));
	CHECK(field(head, "Reply-To", v, sizeof v));
	CHECK_STR(v, "replies@example.org");
	CHECK(field(head, "To", v, sizeof v));
	CHECK_STR(v, "alice@example.org, bob@example.org, carol@example.org, "
	             "dave@example.org, erin@example.org, frank@example.org");
	CHECK(field(head, "Cc", v, sizeof v));
	CHECK(field(head, "Subject", v, sizeof v));
	CHECK_STR(v, "Quarterly report");
	CHECK(field(head, "X-Mailer-Test", v, sizeof v));
	CHECK_STR(v, "yes");
	CHECK(field(head, "X-Two", v, sizeof v));
	CHECK(field(head, "X-Priority", v, sizeof v));
	CHECK_STR(v, "1 (Highest)");
	CHECK(field(head, "Importance", v, sizeof v));
	CHECK_STR(v, "high");
	/* Folded: no header line passes 78. */
	for (const char *p = head; *p;) {
		const char *e = strstr(p, "\r\n");

		if (!e)
			break;
		CHECK(e - p <= 78);
		p = e + 2;
	}
	/* Edits through mime_headers count in mime_size. */
	struct error err;
	CHECK_INT(header_add(mime_headers(m), "Date",
	                     "Mon, 1 Jan 2026 "
	                     "00:00:00 +0000",
	                     &err),
	          0);
	free(msg);
	msg = read_checked(m, &len);
	CHECK(msg && strstr(msg, "\r\nDate: Mon, 1 Jan") != NULL);
	free(msg);
	mime_free(m);

	req.priority = MIME_PRIORITY_LOW;
	req.nextra = 0;
	m = compose_ok(&req);
	msg = m ? read_checked(m, &len) : NULL;
	CHECK(msg && strstr(msg, "X-Priority: 5 (Lowest)\r\nImportance: "
	                         "low\r\n"));
	free(msg);
	mime_free(m);
}

struct bad_case {
	const char *subject;
	const char *from_name;
	const char *to;
	const char *extra;
	const char *att_name;
	const char *att_type;
};

static const struct bad_case bad_cases[] = {
    {"hi\r\nBcc: evil@example.org", NULL, NULL, NULL, NULL, NULL},
    {"hi\nthere", NULL, NULL, NULL, NULL, NULL},
    {"bad \xff utf-8", NULL, NULL, NULL, NULL, NULL},
    {NULL, "Eve\r\nBcc: x@example.org", NULL, NULL, NULL, NULL},
    {NULL, NULL, "bob@example.org\r\nBcc: x@example.org", NULL, NULL, NULL},
    {NULL, NULL, "bob@example.org, eve@example.org", NULL, NULL, NULL},
    {NULL, NULL, NULL, "X-A: b\r\nBcc: x@example.org", NULL, NULL},
    {NULL, NULL, NULL, "X-A: b\nc", NULL, NULL},
    {NULL, NULL, NULL, "Bad Name: x", NULL, NULL},
    {NULL, NULL, NULL, "NoColon", NULL, NULL},
    {NULL, NULL, NULL, ": empty name", NULL, NULL},
    {NULL, NULL, NULL, "Content-Type: text/html", NULL, NULL},
    {NULL, NULL, NULL, "mime-version: 2.0", NULL, NULL},
    {NULL, NULL, NULL, NULL, "a\r\nb.txt", NULL},
    {NULL, NULL, NULL, NULL, "", NULL},
    {NULL, NULL, NULL, NULL, NULL, "text/plain\r\nX-Evil: 1"},
    {NULL, NULL, NULL, NULL, NULL, "text/plain; charset=x"},
    {NULL, NULL, NULL, NULL, NULL, "noslash"},
};

static void
test_injection(void)
{
	char *path = make_file("a.txt", S("text\n"));

	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		const struct bad_case *c = &bad_cases[i];
		const char *to[] = {c->to};
		const char *extra[] = {c->extra};
		struct mime_attachment a = {path, c->att_type, c->att_name};
		bool att = c->att_name || c->att_type;
		struct mime_request req = {.from = "me@example.org",
		                           .from_name = c->from_name,
		                           .subject = c->subject,
		                           .to = to,
		                           .nto = c->to ? 1 : 0,
		                           .extra = extra,
		                           .nextra = c->extra ? 1 : 0,
		                           .attachments = &a,
		                           .nattachments = att ? 1 : 0};
		struct mime_message *m = NULL;
		struct error err;

		error_clear(&err);
		CHECK_INT(mime_compose(&m, &req, &err), -1);
		CHECK_INT(err.kind, ERROR_USAGE);
		CHECK(m == NULL);
		CHECK(strchr(err.msg, '\n') == NULL);
		mime_free(m);
	}
	remove_file(path);
}

/* --- attachments and structure ------------------------------------------ */

struct att_case {
	const char *data;
	size_t len;
	const char *cte;
	const char *type_prefix; /* the Content-Type starts with this */
};

static const struct att_case att_cases[] = {
    {S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0"),
     "base64", "image/png"},
    {S(""), "7bit", "text/plain"},
    {S("line one\r\nline two\r\n"), "7bit", "text/plain; charset=us-ascii"},
    {S("line one\rline two\rline three\r"), "base64", "text/"},
    {S("plain text with \xc3\xa9 one accent\n"), "quoted-printable",
     "text/plain; charset=utf-8"},
    {S("\0\1\2\3\4\5\6\7binary\xff\xfe"), "base64", "application/"},
    /* no final line end: none is added (RFC 2046 5.1.1) */
    {S("one\ntwo, no final line end"), "7bit", "text/plain; charset=us-ascii"},
    {S("caf\xc3\xa9 without a line end  "), "quoted-printable",
     "text/plain; charset=utf-8"},
};

/* Check part pv against an attachment case: type, encoding, name and the
 * content byte for byte (text: as canonical CRLF text). */
static void
check_attachment(const struct part_view *pv, const struct att_case *c,
                 const char *name)
{
	char v[1024];
	size_t dl, wl;
	char *got, *want;

	CHECK(field(pv->head, "Content-Type", v, sizeof v));
	CHECK(strncmp(v, c->type_prefix, strlen(c->type_prefix)) == 0);
	CHECK(strstr(v, name) != NULL);
	CHECK(field(pv->head, "Content-Transfer-Encoding", v, sizeof v));
	CHECK_STR(v, c->cte);
	CHECK(field(pv->head, "Content-Disposition", v, sizeof v));
	CHECK(strncmp(v, "attachment;", 11) == 0 && strstr(v, name));
	got = decode_part(pv, &dl);
	if (strcmp(c->cte, "base64") == 0) {
		want = malloc(c->len + 1);
		memcpy(want, c->data, c->len);
		wl = c->len;
	} else {
		want = canonical(c->data, c->len, &wl);
		if (c->len > 0 && c->data[c->len - 1] != '\n')
			wl -= 2; /* a part gains no final line end */
	}
	CHECK_MEM(got, dl, want, wl);
	free(got);
	free(want);
}

static void
test_attachments(void)
{
	size_t n = sizeof att_cases / sizeof *att_cases;
	struct mime_attachment *a = calloc(n, sizeof *a);
	char names[16][32];
	struct mime_request req = {.body_text = "see attached\n",
	                           .subject = "files"};
	struct part_view parts[20];
	char head[8192], v[1024], b[128];
	struct mime_message *m;
	const char *body;
	size_t len;
	char *msg;
	int np;

	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "file%zu.dat", i);
		a[i].path =
		    make_file(names[i], att_cases[i].data, att_cases[i].len);
	}
	req.attachments = a;
	req.nattachments = n;
	m = compose_ok(&req);
	msg = m ? read_checked(m, &len) : NULL;
	body = msg ? split_head(msg, len, head, sizeof head) : NULL;
	CHECK(body != NULL);
	if (body) {
		check_line_lengths(msg, len);
		CHECK(field(head, "Content-Type", v, sizeof v));
		CHECK(strncmp(v, "multipart/mixed;", 16) == 0);
		CHECK(boundary_of(v, b, sizeof b));
		CHECK(field(head, "MIME-Version", v, sizeof v));
		np =
		    split_parts(body, len - (size_t)(body - msg), b, parts, 20);
		CHECK_INT(np, (int)n + 1);
		CHECK(np > 0 &&
		      field(parts[0].head, "Content-Type", v, sizeof v) &&
		      strcmp(v, "text/plain; charset=us-ascii") == 0);
		for (int i = 1; i < np && i <= (int)n; i++)
			check_attachment(&parts[i], &att_cases[i - 1],
			                 names[i - 1]);
	}
	free(msg);
	mime_free(m);
	for (size_t i = 0; i < n; i++)
		remove_file((char *)a[i].path);
	free(a);
}

/* Each attachment alone with an empty body: sizes exact in every case. */
static void
test_attachment_sizes(void)
{
	for (size_t i = 0; i < sizeof att_cases / sizeof *att_cases; i++) {
		char *path =
		    make_file("one", att_cases[i].data, att_cases[i].len);
		struct mime_attachment a = {path, NULL, "shown name.bin"};
		struct mime_request req = {.attachments = &a,
		                           .nattachments = 1};
		struct mime_message *m = compose_ok(&req);
		size_t len;
		char *msg = m ? read_checked(m, &len) : NULL;

		CHECK(msg && strstr(msg, "shown name.bin"));
		free(msg);
		mime_free(m);
		remove_file(path);
	}
}

static void
test_html(void)
{
	char *html = make_file("page.html", S("<html><body><p>Hello "
	                                      "\xc3\xa9</p></body></html>\n"));
	char *att = make_file("data.csv", S("a,b\n1,2\n"));
	struct mime_attachment a = {att, "text/csv", NULL};
	struct mime_request req = {.body_text = "Hello\n", .html_file = html};
	struct part_view parts[4], inner[4];
	char head[8192], v[1024], b[128], b2[128];
	struct mime_message *m;
	const char *body;
	size_t len;
	char *msg;

	/* Alone: multipart/alternative, text first. */
	m = compose_ok(&req);
	msg = m ? read_checked(m, &len) : NULL;
	body = msg ? split_head(msg, len, head, sizeof head) : NULL;
	if (body) {
		CHECK(field(head, "Content-Type", v, sizeof v) &&
		      strncmp(v, "multipart/alternative;", 22) == 0);
		CHECK(boundary_of(v, b, sizeof b));
		CHECK_INT(
		    split_parts(body, len - (size_t)(body - msg), b, parts, 4),
		    2);
		CHECK(field(parts[0].head, "Content-Type", v, sizeof v) &&
		      !strcmp(v, "text/plain; charset=us-ascii"));
		CHECK(field(parts[1].head, "Content-Type", v, sizeof v) &&
		      !strcmp(v, "text/html; charset=utf-8"));
	}
	free(msg);
	mime_free(m);

	/* With an attachment: mixed(alternative(text, html), csv). */
	req.attachments = &a;
	req.nattachments = 1;
	m = compose_ok(&req);
	msg = m ? read_checked(m, &len) : NULL;
	body = msg ? split_head(msg, len, head, sizeof head) : NULL;
	if (body) {
		CHECK(field(head, "Content-Type", v, sizeof v) &&
		      strncmp(v, "multipart/mixed;", 16) == 0);
		CHECK(boundary_of(v, b, sizeof b));
		CHECK_INT(
		    split_parts(body, len - (size_t)(body - msg), b, parts, 4),
		    2);
		CHECK(field(parts[0].head, "Content-Type", v, sizeof v) &&
		      boundary_of(v, b2, sizeof b2));
		CHECK(strcmp(b, b2) != 0);
		CHECK_INT(
		    split_parts(parts[0].body, parts[0].body_len, b2, inner, 4),
		    2);
		CHECK(field(parts[1].head, "Content-Type", v, sizeof v) &&
		      !strncmp(v, "text/csv; charset=us-ascii", 26));
	}
	free(msg);
	mime_free(m);
	remove_file(html);
	remove_file(att);
}

/* --- detected types (filetype_guess through mime_compose) --------------- */

struct type_case {
	const char *name;
	const char *data;
	size_t len;
	const char *type; /* the Content-Type, up to ';' (NULL: any) */
	const char *cte;
};

static const struct type_case type_cases[] = {
    /* Text throughout: by extension, never libmagic. */
    {"notes.txt", S("a note\n"), "text/plain", "7bit"},
    {"data.CSV", S("a,b\n1,2\n"), "text/csv", "7bit"},
    {"page.htm", S("<p>caf\xc3\xa9</p>\n"), "text/html", "quoted-printable"},
    {"cal.ics", S("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), "text/calendar",
     "7bit"},
    {"mail.eml", S("Subject: x\n\nbody\n"), "text/plain", "7bit"},
    {"no-extension", S("#!/bin/sh\necho hi\n"), "text/plain", "7bit"},
    {"ansi.log", S("\x1b[31mred\x1b[0m\tok\n"), "text/plain", "7bit"},
    {"empty.md", S(""), "text/markdown", "7bit"},
    /* Text formats registered outside text/: base64, byte for byte. */
    {"d.json", S("{\"a\": 1}\n"), "application/json", "base64"},
    {"pic.svg", S("<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"),
     "image/svg+xml", "base64"},
    /* Signed formats: extension and first bytes agree. */
    {"q3.PDF", S("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), "application/pdf",
     "base64"},
    {"ascii.pdf", S("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"),
     "application/pdf", "base64"},
    {"p.png", S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06"),
     "image/png", "base64"},
    {"a.zip", S("PK\x03\x04\x14\0\0\0\0\0"), "application/zip", "base64"},
    {"r.docx", S("PK\x03\x04\x14\0\x06\0\x08\0"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml."
     "document",
     "base64"},
    {"x.gz", S("\x1f\x8b\x08\0\0\0\0\0\0\x03"), "application/gzip", "base64"},
    /* The signature wins over the name, and types a file without one. */
    {"lie.pdf", S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06"),
     "image/png", "base64"},
    {"real.dat", S("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06"),
     "image/png", "base64"},
    {"p.zz",
     S("\x7f"
       "ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0"),
     "application/x-sharedlib", "base64"},
    /* A ZIP is the kind its name says, or a ZIP. */
    {"book.EPUB", S("PK\x03\x04\x14\0\0\0\0\0"), "application/epub+zip",
     "base64"},
    {"r.pdf", S("PK\x03\x04\x14\0\0\0\0\0"), "application/zip", "base64"},
    /* A short signature counts only under its own extension. */
    {"s.mp3", S("\xff\xfb\x90\x64\0\0"), "audio/mpeg", "base64"},
    /* The extension alone is not trusted for text: text named .pdf is
     * text; binary data without a signature is what the table (main)
     * says its extension is. */
    {"fake.pdf", S("not a pdf at all\n"), "text/plain", "7bit"},
    {"fake.png", S("\0\1\2\3\4\5\6\7\xff\xfe\xfd"), "image/png", "base64"},
    {"data.MPT", S("\0\1\2\3\4\5\6\7\xff\xfe\xfd"),
     "application/x-mailpost-test", "base64"},
    /* Not text by our rule, and no type the table gives: libmagic
     * decides (the table's text/plain for .dat is not taken for data
     * that is not text). */
    {"latin1.dat",
     S("caf\xe9 cr\xe8me br\xfbl\xe9"
       "e, tr\xe8"
       "s bien\n"),
     "text/plain", "base64"},
    {"ctl.dat", S("\0\1\2\3binary\x80\x81"), "application/octet-stream",
     "base64"},
    {"ctl.unknown-ext", S("\0\1\2\3binary\x80\x81"), "application/octet-stream",
     "base64"},
};

static void
check_type(const char *name, const char *data, size_t len, const char *type,
           const char *cte)
{
	char *path = make_file(name, data, len);
	struct mime_attachment a = {path, NULL, NULL};
	struct mime_request req = {.attachments = &a, .nattachments = 1};
	struct part_view parts[3];
	char head[8192], v[1024], b[128];
	struct mime_message *m = compose_ok(&req);
	const char *body;
	size_t n = 0;
	char *msg = m ? read_checked(m, &n) : NULL;

	body = msg ? split_head(msg, n, head, sizeof head) : NULL;
	CHECK(body && field(head, "Content-Type", v, sizeof v) &&
	      boundary_of(v, b, sizeof b));
	if (body &&
	    split_parts(body, n - (size_t)(body - msg), b, parts, 3) == 2) {
		char *dec;
		size_t dl;

		CHECK(field(parts[1].head, "Content-Type", v, sizeof v));
		if (!type)
			type = v; /* whatever libmagic says */
		else if (strncmp(v, type, strlen(type)) != 0 ||
		         (v[strlen(type)] != ';' && v[strlen(type)] != '\0'))
			fprintf(stderr, "%s: got \"%s\", want %s\n", name, v,
			        type);
		CHECK(type == v || (strncmp(v, type, strlen(type)) == 0 &&
		                    v[strlen(type)] == ';'));
		CHECK(field(parts[1].head, "Content-Transfer-Encoding", v,
		            sizeof v));
		CHECK_STR(v, cte);
		if (strcmp(cte, "base64") == 0) {
			dec = decode_part(&parts[1], &dl);
			CHECK_MEM(dec, dl, data, len);
			free(dec);
		}
	} else {
		CHECK(!"two parts");
	}
	CHECK(!m || !mime_has_8bit(m));
	free(msg);
	mime_free(m);
	remove_file(path);
}

static void
test_detected_types(void)
{
	size_t big = 3 * 64 * 1024;
	char *data = malloc(big);

	for (size_t i = 0; i < sizeof type_cases / sizeof *type_cases; i++)
		check_type(type_cases[i].name, type_cases[i].data,
		           type_cases[i].len, type_cases[i].type,
		           type_cases[i].cte);
	/* Text for the first blocks, a NUL far past the first look: the
	 * measuring pass finds it, and libmagic decides after all (5.44 says
	 * text/plain); base64 either way, byte for byte. */
	for (size_t i = 0; i < big; i++)
		data[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	data[big - 100] = '\0';
	data[big - 99] = '\x01';
	check_type("late-nul.txt", data, big, NULL, "base64");
	free(data);
}

/* --- -t: a complete message from standard input ------------------------- */

static struct source *
source_from(const char *text, size_t n, bool body_only)
{
	struct source_options o = {.tmpdir = test_dir, .body_only = body_only};
	char *path = make_file("stdin", text, n);
	int fd = open(path, O_RDONLY);
	struct source *s = NULL;
	struct error err;

	CHECK_INT(source_open(&s, fd, &o, &err), 0);
	close(fd);
	remove_file(path);
	return s;
}

static void
test_keep_headers_mime(void)
{
	static const char orig_body[] = "caf=E9 cr=E8me\r\n";
	struct source *s = source_from(
	    S("From: me@example.org\nTo: bob@example.org\nSubject: old\n"
	      "MIME-Version: 1.0\nContent-Type: text/plain; "
	      "charset=iso-8859-1\nContent-Transfer-Encoding: "
	      "quoted-printable\n\ncaf=E9 cr=E8me\n"),
	    false);
	char *att = make_file("log.txt", S("log line\n"));
	struct mime_attachment a = {att, NULL, NULL};
	struct mime_request req = {.body_source = s,
	                           .keep_headers = true,
	                           .subject = "new",
	                           .attachments = &a,
	                           .nattachments = 1};
	struct part_view parts[4];
	char head[8192], v[1024], b[128];
	struct mime_message *m = compose_ok(&req);
	const char *body;
	size_t len;
	char *msg;

	msg = m ? read_checked(m, &len) : NULL;
	body = msg ? split_head(msg, len, head, sizeof head) : NULL;
	if (body) {
		CHECK(field(head, "To", v, sizeof v) &&
		      !strcmp(v, "bob@example.org"));
		CHECK(field(head, "Subject", v, sizeof v) && !strcmp(v, "new"));
		CHECK(strstr(head, "Subject: old") == NULL);
		CHECK(strstr(head, "iso-8859-1") == NULL);
		/* MIME-Version once, at the top. */
		CHECK(strstr(head, "MIME-Version") ==
		          strrchr(head, 'M') - strlen("MIME-Version: 1.0\r\n") +
		              1 ||
		      strstr(strstr(head, "MIME-Version") + 1,
		             "MIME-Version") == NULL);
		CHECK(field(head, "Content-Type", v, sizeof v) &&
		      boundary_of(v, b, sizeof b));
		CHECK_INT(
		    split_parts(body, len - (size_t)(body - msg), b, parts, 4),
		    2);
		CHECK(field(parts[0].head, "Content-Type", v, sizeof v) &&
		      !strcmp(v, "text/plain; charset=iso-8859-1"));
		CHECK(field(parts[0].head, "Content-Transfer-Encoding", v,
		            sizeof v) &&
		      !strcmp(v, "quoted-printable"));
		CHECK(!field(parts[0].head, "MIME-Version", v, sizeof v));
		/* Byte for byte. */
		CHECK_MEM(parts[0].body, parts[0].body_len, orig_body,
		          sizeof orig_body - 1);
	}
	/* Passed through, but all ASCII: no 8BITMIME needed. */
	CHECK(m && !mime_has_8bit(m));
	free(msg);
	mime_free(m);
	source_free(s);
	remove_file(att);
}

/* -t with a MIME body in 8bit: passed through byte for byte, so the
 * message has 8-bit bytes and says so (BODY=8BITMIME); alone or with an
 * attachment. */
static void
test_keep_headers_8bit(void)
{
	static const char orig_body[] = "Gr\xc3\xbc\xc3\x9f"
	                                "e: 3 \xe2\x82\xac\r\n";
	for (int attach = 0; attach < 2; attach++) {
		struct source *s = source_from(
		    S("From: me@example.org\nTo: bob@example.org\n"
		      "MIME-Version: 1.0\nContent-Type: text/plain; "
		      "charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
		      "Gr\xc3\xbc\xc3\x9f"
		      "e: 3 \xe2\x82\xac\n"),
		    false);
		char *att = make_file("log.txt", S("log line\n"));
		struct mime_attachment a = {att, NULL, NULL};
		struct mime_request req = {.body_source = s,
		                           .keep_headers = true,
		                           .attachments = &a,
		                           .nattachments = attach ? 1 : 0};
		struct mime_message *m = compose_ok(&req);
		size_t len;
		char *msg = m ? read_checked(m, &len) : NULL;

		CHECK(m && mime_has_8bit(m));
		CHECK(msg && memmem(msg, len, orig_body,
		                    sizeof orig_body - 1) != NULL);
		free(msg);
		mime_free(m);
		source_free(s);
		remove_file(att);
	}
}

static void
test_keep_headers_plain(void)
{
	struct source *s = source_from(
	    S("To: bob@example.org\nSubject: report\nX-Keep: 1\n\nTotal: "
	      "12\xe2\x82\xac\n"),
	    false);
	const char *extra[] = {"X-Keep: 2"};
	struct mime_request req = {.body_source = s,
	                           .keep_headers = true,
	                           .extra = extra,
	                           .nextra = 1};
	struct mime_message *m = compose_ok(&req);
	char head[8192], v[1024];
	size_t len;
	char *msg = m ? read_checked(m, &len) : NULL;
	const char *body = msg ? split_head(msg, len, head, sizeof head) : NULL;

	if (body) {
		CHECK(field(head, "Subject", v, sizeof v) &&
		      !strcmp(v, "report"));
		CHECK(field(head, "X-Keep", v, sizeof v) && !strcmp(v, "2"));
		CHECK(strstr(head, "X-Keep: 1") == NULL);
		CHECK(field(head, "Content-Type", v, sizeof v) &&
		      !strcmp(v, "text/plain; charset=utf-8"));
		CHECK(field(head, "Content-Transfer-Encoding", v, sizeof v) &&
		      !strcmp(v, "quoted-printable"));
		CHECK(strstr(body, "Total: 12=E2=82=AC\r\n") == body);
	}
	/* Not MIME: encoded by us, so 7-bit whatever it held. */
	CHECK(m && !mime_has_8bit(m));
	free(msg);
	mime_free(m);
	source_free(s);
}

/* Standard input as the body (mailx mode): no header scanning. */
static void
test_body_source(void)
{
	struct source *s =
	    source_from(S("From: not a header\nSubject: body text\n"), true);
	struct mime_request req = {.body_source = s, .subject = "s"};
	struct mime_message *m = compose_ok(&req);
	size_t len;
	char *msg = m ? read_checked(m, &len) : NULL;

	CHECK(msg && strstr(msg, "\r\n\r\nFrom: not a header\r\nSubject: body "
	                         "text\r\n") != NULL);
	free(msg);
	mime_free(m);
	source_free(s);
}

/* --- errors ------------------------------------------------------------- */

static void
test_missing_files(void)
{
	char missing[512], dir[512];
	struct mime_attachment a = {missing, NULL, NULL};
	struct mime_request reqs[4] = {
	    {.attachments = &a, .nattachments = 1},
	    {.body_file = missing},
	    {.html_file = missing},
	    {.body_file = dir},
	};
	char *unreadable = make_file("secret", S("x"));

	snprintf(missing, sizeof missing, "%s/no-such-file", test_dir);
	snprintf(dir, sizeof dir, "%s", test_dir);
	for (size_t i = 0; i < 4; i++) {
		struct mime_message *m = NULL;
		struct error err;

		error_clear(&err);
		CHECK_INT(mime_compose(&m, &reqs[i], &err), -1);
		CHECK_INT(err.kind, ERROR_NOINPUT);
		CHECK(strstr(err.msg, i < 3 ? missing : dir) != NULL);
		CHECK(m == NULL);
	}
	chmod(unreadable, 0);
	if (geteuid() != 0) {
		struct mime_attachment u = {unreadable, NULL, NULL};
		struct mime_request r = {.attachments = &u, .nattachments = 1};
		struct mime_message *m = NULL;
		struct error err;

		CHECK_INT(mime_compose(&m, &r, &err), -1);
		CHECK_INT(err.kind, ERROR_NOINPUT);
	}
	remove_file(unreadable);
}

enum change { APPEND, TRUNCATE, TOUCH, REPLACE };

static void
change_file(const char *path, enum change how)
{
	struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
	int fd;

	switch (how) {
	case APPEND:
		fd = open(path, O_WRONLY | O_APPEND);
		write_all(fd, "more", 4);
		close(fd);
		break;
	case TRUNCATE:
		CHECK_INT(truncate(path, 10), 0);
		break;
	case TOUCH:
		CHECK_INT(utimes(path, tv), 0);
		break;
	case REPLACE:
		unlink(path);
		free(make_file("changing", S("0123456789abcdefghij")));
		break;
	}
}

static void
test_changed_files(void)
{
	for (int how = APPEND; how <= REPLACE; how++) {
		for (int text = 0; text < 2; text++) {
			char *path = make_file("changing",
			                       text ? "0123456789abcdefghij"
			                            : "01234\0006789abcdefghi",
			                       20);
			struct mime_attachment a = {path, NULL, NULL};
			struct mime_request req = {.body_text = "x",
			                           .attachments = &a,
			                           .nattachments = 1};
			struct mime_message *m = compose_ok(&req);
			struct error err;
			size_t len;
			char *msg;

			if (!m)
				continue;
			change_file(path, (enum change)how);
			error_clear(&err);
			msg = read_all(m, 65536, &len, &err);
			if (how == REPLACE) {
				/* Opened once: the file measured is the file
				 * sent, whatever now has its name. */
				CHECK(msg != NULL);
				CHECK(msg &&
				      memmem(msg, len,
				             text ? "0123456789abcdefghij"
				                  : "MDEyMzQANjc4OWFiY2",
				             18));
				free(msg);
				mime_free(m);
				remove_file(path);
				continue;
			}
			CHECK(msg == NULL);
			CHECK_INT(err.kind, ERROR_IOERR);
			CHECK(strstr(err.msg,
			             "changed while it was being sent") !=
			      NULL);
			CHECK(strstr(err.msg, path) != NULL);
			free(msg);
			mime_free(m);
			remove_file(path);
		}
	}
}

/* A 20 MB attachment streams in 4 KiB and 64 KiB reads, exactly as long
 * as mime_size said, and decodes to the file. */
static void
test_big_attachment(void)
{
	size_t n = 20 * 1024 * 1024;
	char *data = malloc(n);
	uint32_t x = 12345;
	char *path;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		data[i] = (char)(x >> 24);
	}
	path = make_file("big.bin", data, n);
	{
		struct mime_attachment a = {path, "application/octet-stream",
		                            NULL};
		struct mime_request req = {
		    .body_text = "big\n", .attachments = &a, .nattachments = 1};
		struct mime_message *m = compose_ok(&req);
		size_t sizes[2] = {4096, 65536};
		struct part_view parts[3];
		char head[8192], v[1024], b[128];

		for (size_t k = 0; m && k < 2; k++) {
			struct error err;
			size_t len = 0, dl = 0;
			char *msg = read_all(m, sizes[k], &len, &err);
			const char *body;
			char *dec;

			CHECK(msg != NULL);
			if (!msg)
				continue;
			CHECK_INT(len, mime_size(m));
			body = split_head(msg, len, head, sizeof head);
			CHECK(field(head, "Content-Type", v, sizeof v) &&
			      boundary_of(v, b, sizeof b));
			CHECK_INT(split_parts(body, len - (size_t)(body - msg),
			                      b, parts, 3),
			          2);
			dec = decode_part(&parts[1], &dl);
			CHECK_MEM(dec, dl, data, n);
			free(dec);
			free(msg);
		}
		mime_free(m);
	}
	remove_file(path);
	free(data);
}

/* The system's table of types by extension, for the whole run. */
#define TEST_TABLE                                                             \
	"# test table\n"                                                       \
	"image/png png\n"                                                      \
	"application/pdf pdf\n"                                                \
	"text/plain txt dat\n"                                                 \
	"application/x-mailpost-test mpt\n"

int
main(void)
{
	char *table;

	if (!mkdtemp(test_dir)) {
		perror("mime_test: mkdtemp");
		return 99;
	}
	/* The table of types by extension that filetype.c reads for binary
	 * data, and no ~/.mime.types: the cases do not depend on the
	 * system's. */
	table = make_file("mime.types", S(TEST_TABLE));
	setenv("MAILPOST_TEST_MIME_TYPES", table, 1);
	setenv("HOME", test_dir, 1);
	test_bodies();
	test_long_line();
	test_headers();
	test_injection();
	test_attachments();
	test_attachment_sizes();
	test_html();
	test_keep_headers_mime();
	test_keep_headers_8bit();
	test_keep_headers_plain();
	test_detected_types();
	test_body_source();
	test_missing_files();
	test_changed_files();
	test_big_attachment();
	remove_file(table);
	if (rmdir(test_dir) < 0)
		perror("mime_test: rmdir (files left behind?)");
	return unit_done();
}
