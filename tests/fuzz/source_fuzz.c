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
 * CRLF_LINE_MAX once the message was made sendable, and none of the -t
 * recipients holds CR or LF.
 */
#include "config.h"

#include "fuzz.h"

#include "source.h"

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
	struct error err;
	int fd;

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
	if (source_complete_headers(s, &p, &err) == 0 &&
	    source_make_sendable(s, &err) == 0)
		read_back(s);
	else
		FUZZ_ASSERT(err.kind == ERROR_DATA || err.kind == ERROR_IOERR);
	source_free(s);
	return 0;
}
