/*
 * source_fuzz - a whole message on standard input (source.c with crlf.c
 * and header.c): byte 0 holds the options (bit 0: the lone-dot rule of
 * sendmail without -i; bit 1: body only, as in mailx mode), the rest is
 * what the caller pipes in, read from a memory file.  The message is
 * then handled as main.c does: its -t recipients taken, its headers
 * completed, made sendable (long lines folded or re-encoded), and read
 * back.
 * Checked: source_read yields exactly source_size bytes and the body
 * reader source_body_size, both in canonical CRLF form with no line over
 * CRLF_LINE_MAX once the message was made sendable; a single-part body
 * (7bit, 8bit, binary, quoted-printable) decodes to the same bytes after
 * that as before (reencode.h: lossless); none of the -t recipients holds
 * CR or LF.
 */
#include "config.h"

#include "fuzz.h"

#include <strings.h>

#include "buf.h"
#include "headeredit.h"
#include "source.h"

/* A message held in memory for the comparison is at most this big (the
 * fuzzer's inputs are far smaller). */
#define BODY_MAX (64 * 1024 * 1024)

/* Canonical CRLF text, no line longer than RFC 5322 2.1.1 allows; *last
 * and *col carry the state from one block to the next. */
static void
check_canonical(const char *p, size_t n, char *last, size_t *col)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			FUZZ_ASSERT(*last == '\r');
			*col = 0;
		} else if (*last == '\r') {
			FUZZ_ASSERT(p[i] == '\n');
		} else if (p[i] != '\r') {
			++*col;
			FUZZ_ASSERT(*col <= CRLF_LINE_MAX);
		}
		*last = p[i];
	}
}

/* The value of the first field `name`, trimmed, or "" (in out). */
static void
field(struct header_block *h, const char *name, struct buf *out)
{
	const struct header_field *f = header_first(h, name);

	buf_reset(out);
	if (f)
		(void)header_value(f, out);
}

/* The body's transfer encoding when this check can decode it: 0 none
 * (7bit, 8bit, binary or not given), 1 quoted-printable, -1 otherwise
 * (base64, unknown, or a multipart or message/ type, whose parts this
 * check does not walk). */
static int
encoding(struct header_block *h)
{
	struct buf v;
	int enc = -1;

	buf_init(&v, HEADER_BLOCK_MAX);
	field(h, "Content-Type", &v);
	if (str_iprefix(buf_str(&v), "multipart/") ||
	    str_iprefix(buf_str(&v), "message/")) {
		buf_clear(&v);
		return -1;
	}
	field(h, "Content-Transfer-Encoding", &v);
	if (!*buf_str(&v) || str_ieq(buf_str(&v), "7bit") ||
	    str_ieq(buf_str(&v), "8bit") || str_ieq(buf_str(&v), "binary"))
		enc = 0;
	else if (str_ieq(buf_str(&v), "quoted-printable"))
		enc = 1;
	buf_clear(&v);
	return enc;
}

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 2045 6.7: "=" CRLF is a soft line break, "=XX" an octet (upper-case
 * hex, rule 1), white space before a line break is dropped by a decoder
 * (rule 3: so an encoder must not leave any that matters).  False when
 * in is not well-formed. */
static bool
qp_decode(const char *in, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *eol = memmem(in + i, n - i, "\r\n", 2);
		size_t end = eol ? (size_t)(eol - in) : n, k = end;
		bool soft = false;

		while (k > i && (in[k - 1] == ' ' || in[k - 1] == '\t'))
			k--;
		for (size_t j = i; j < k; j++) {
			if (in[j] != '=') {
				buf_append_char(out, in[j]);
			} else if (j + 1 == k) {
				soft = true;
			} else {
				if (j + 2 >= k || hex(in[j + 1]) < 0 ||
				    hex(in[j + 2]) < 0)
					return false;
				buf_append_char(out,
				                (char)(hex(in[j + 1]) << 4 |
				                       hex(in[j + 2])));
				j += 2;
			}
		}
		if (eol && !soft)
			buf_append(out, "\r\n", 2);
		i = eol ? end + 2 : n;
	}
	return true;
}

/* The body decoded (enc as encoding() says) into out; false when it is
 * not well-formed quoted-printable. */
static bool
decoded_body(struct source *s, int enc, struct buf *out)
{
	bool ok = true;

	struct buf raw;
	struct error err;
	char block[8192];
	ssize_t n;

	buf_init(&raw, BODY_MAX);
	FUZZ_ASSERT(source_rewind_body(s, &err) == 0);
	while ((n = source_read_body(s, block, sizeof block, &err)) > 0)
		FUZZ_ASSERT(buf_append(&raw, block, (size_t)n) == 0);
	FUZZ_ASSERT(n == 0);
	if (enc == 1)
		ok = qp_decode(raw.data ? raw.data : "", raw.len, out);
	else
		buf_append(out, raw.data ? raw.data : "", raw.len);
	buf_clear(&raw);
	return ok;
}

/* Lossless: the body decodes to what it did before it was made sendable;
 * a final line break that crlf.c added may be gone (reencode.h). */
static void
check_lossless(const struct buf *before, const struct buf *after)
{
	/* An empty buf may have no data at all. */
	bool prefix = after->len <= before->len &&
	              (after->len == 0 ||
	               memcmp(after->data, before->data, after->len) == 0);

	FUZZ_ASSERT(prefix && (after->len == before->len ||
	                       (after->len + 2 == before->len &&
	                        memcmp(before->data + after->len, "\r\n",
	                               2) == 0)));
}

static void
read_back(struct source *s)
{
	char block[8192], last = '\n';
	uint64_t total = 0;
	size_t col = 0;
	struct error err;
	ssize_t n;

	while ((n = source_read(s, block, sizeof block, &err)) > 0) {
		check_canonical(block, (size_t)n, &last, &col);
		total += (uint64_t)n;
	}
	FUZZ_ASSERT(n == 0);
	FUZZ_ASSERT(total == source_size(s));
	FUZZ_ASSERT(total == 0 || last == '\n');

	FUZZ_ASSERT(source_rewind_body(s, &err) == 0);
	total = 0;
	last = '\n';
	col = 0;
	while ((n = source_read_body(s, block, sizeof block, &err)) > 0) {
		check_canonical(block, (size_t)n, &last, &col);
		total += (uint64_t)n;
	}
	FUZZ_ASSERT(n == 0);
	FUZZ_ASSERT(total == source_body_size(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source_options o = {0};
	struct header_policy p = {0};
	struct source *s = NULL;
	struct strlist rcpts;
	struct buf before, after;
	struct error err;
	int fd, enc;

	if (size < 1)
		return 0;
	o.dot_ends_input = data[0] & 1;
	o.body_only = data[0] & 2;
	o.tmpdir = getenv("TMPDIR");
	fd = fuzz_memfd(data + 1, size - 1);
	if (source_open(&s, fd, &o, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_DATA || err.kind == ERROR_IOERR);
		close(fd);
		return 0;
	}
	close(fd);
	(void)source_has_8bit(s);
	strlist_init(&rcpts);
	if (source_recipients(s, &rcpts, &err) == 0) {
		for (size_t i = 0; i < rcpts.n; i++)
			FUZZ_ASSERT(!strpbrk(rcpts.v[i], "\r\n"));
	}
	strlist_clear(&rcpts);
	p.from_address = "sender@example.org";
	p.full_name = "Fuzz Sender";
	p.set_from = FROM_HEADER_AUTO;
	p.set_date = true;
	p.set_msgid = true;
	p.remove_bcc = true;
	p.undisclosed = data[0] & 4;
	p.msgid_domain = "example.org";
	if (headeredit_complete(source_headers(s), &p, &err) < 0) {
		FUZZ_ASSERT(err.kind == ERROR_DATA);
		source_free(s);
		return 0;
	}
	buf_init(&before, BODY_MAX);
	buf_init(&after, BODY_MAX);
	enc = o.body_only ? -1 : encoding(source_headers(s));
	/* A malformed quoted-printable input has nothing to compare with;
	 * what make_sendable wrote from a well-formed one must be. */
	if (enc >= 0 && !decoded_body(s, enc, &before))
		enc = -1;
	if (source_make_sendable(s, &err) == 0) {
		read_back(s);
		if (enc >= 0 && (enc = encoding(source_headers(s))) >= 0) {
			FUZZ_ASSERT(decoded_body(s, enc, &after));
			check_lossless(&before, &after);
		}
	} else {
		FUZZ_ASSERT(err.kind == ERROR_DATA || err.kind == ERROR_IOERR);
	}
	buf_clear(&before);
	buf_clear(&after);
	source_free(s);
	return 0;
}
