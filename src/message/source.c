/*
 * source.c - the message to send, read once from a descriptor (see
 * source.h).
 *
 * Reading: 64 KiB blocks go through crlf_push; the canonical output is cut
 * into lines for the header scanner until the header block ends, and the
 * rest streams into an unlinked temporary spool file.  Only the header
 * block is in memory, so memory does not grow with the message; but a
 * body that the input ends within one block (the spool's write buffer),
 * as cron's and scripts' messages do, stays in that buffer and needs no
 * file at all (making and unlinking one costs a journalled directory
 * update, some 0.3 ms of a short send's CPU here).
 *
 * Writing back: the header fields (as edited), the empty line, then the
 * body read back from the spool with pread.
 */
#include "config.h"

#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "encode.h"
#include "reencode.h"

/* Reads and spool writes go in blocks this large (DESIGN: bulk path). */
#define BLOCK_SIZE (64 * 1024)
/* A header line cannot be longer than the whole block may be. */
#define HEADER_LINE_MAX (HEADER_BLOCK_MAX + 2)

struct source {
	struct header_block h;
	struct crlf_norm norm;
	int spool_fd;      /* -1 while the body is empty or in mem */
	char *mem;         /* the body, when it never needed a file */
	uint64_t body_len; /* bytes in the spool (or mem) */
	struct buf head;   /* header block + CRLF, rendered for reading */
	bool rendered;
	uint64_t pos;      /* read position in the whole message */
	uint64_t body_pos; /* read position of source_read_body */
	char *dir;         /* the spool directory */
	bool has_8bit;     /* as sent (re-encoding may remove 8-bit bytes) */
	bool header_nul;   /* a NUL byte in a line of the header block */
	bool body_nul;     /* a NUL byte in the body as sent */
	/* Input still to read (source_complete false), else NULL. */
	struct reader *rd;
	bool input_failed; /* the input could not be read whole: err */
	struct error input_err;
	bool sendable; /* source_make_sendable did its work */
	bool cut;      /* a read refused to go on (source_read) */
};

/* State that lives while the input is read: all of source_open, and
 * after it, for a source that streams, until the input ends. */
struct reader {
	struct source *s;
	int fd;          /* the input */
	const char *dir; /* spool directory, for messages */
	bool in_header;  /* lines still go to the header scanner */
	bool skip_line;  /* drop the rest of an overlong mbox "From " line */
	bool eof;        /* the input ended */
	struct buf line; /* a header line not yet complete */
	char *in;        /* input block */
	char *cbuf;      /* its canonical form */
	char *wbuf;      /* spool write buffer */
	size_t wlen;
	bool regular; /* the input is a regular file of in_size bytes */
	uint64_t in_size;
	uint64_t in_read; /* bytes read from the input */
	struct error *err;
};

/* An unlinked temporary file (util.h, fd_temp): the descriptor, or -1. */
static int
spool_open_file(const char *dir, struct error *err)
{
	int fd = fd_temp(dir);

	if (fd < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot spool the message to %s", dir);
	return fd;
}

static int
spool_create(struct reader *r)
{
	int fd = spool_open_file(r->dir, r->err);

	if (fd < 0)
		return -1;
	r->s->spool_fd = fd;
	return 0;
}

static int
spool_flush(struct reader *r)
{
	if (r->wlen == 0)
		return 0;
	if (r->s->spool_fd < 0 && spool_create(r) < 0)
		return -1;
	if (fd_write_all(r->s->spool_fd, r->wbuf, r->wlen) < 0)
		return error_set_errno(r->err, ERROR_IOERR, errno,
		                       "cannot spool the message to %s",
		                       r->dir);
	r->wlen = 0;
	return 0;
}

static int
spool_write(struct reader *r, const char *p, size_t n)
{
	struct source *s = r->s;

	if (n == 0)
		return 0;
	/* crlf.c has looked at this block already: the body is searched
	 * only once the input is known to hold a NUL somewhere. */
	if (s->norm.has_nul && !s->body_nul && memchr(p, '\0', n))
		s->body_nul = true;
	r->s->body_len += n;
	if (r->wlen + n > BLOCK_SIZE && spool_flush(r) < 0)
		return -1;
	if (n >= BLOCK_SIZE) {
		if (r->s->spool_fd < 0 && spool_create(r) < 0)
			return -1;
		if (fd_write_all(r->s->spool_fd, p, n) < 0)
			return error_set_errno(r->err, ERROR_IOERR, errno,
			                       "cannot spool the message to %s",
			                       r->dir);
		return 0;
	}
	memcpy(r->wbuf + r->wlen, p, n);
	r->wlen += n;
	return 0;
}

/* Act on what the header scanner said about the line in r->line. */
static int
header_result(struct reader *r, int result)
{
	int rc = 0;

	if (result < 0)
		return -1;
	if (result == HEADER_MORE && memchr(r->line.data, '\0', r->line.len))
		r->s->header_nul = true;
	if (result == HEADER_END_BLANK || result == HEADER_END_BODY)
		r->in_header = false;
	/* The line that is not a header is the first line of the body. */
	if (result == HEADER_END_BODY)
		rc = spool_write(r, r->line.data, r->line.len);
	buf_reset(&r->line);
	return rc;
}

/* A line longer than any header block can hold: the scanner decides from
 * its start whether it is a (too big) field, an mbox line, or body. */
static int
overlong_line(struct reader *r, const char *p, size_t room)
{
	int result;

	if (buf_append(&r->line, p, room) < 0)
		return error_set(r->err, ERROR_OSERR, "out of memory");
	result = header_push_line(&r->s->h, r->line.data, r->line.len, r->err);
	if (result == HEADER_SKIPPED)
		r->skip_line = true;
	return header_result(r, result);
}

/* Give the scanner the lines that start p[0..n); returns how many bytes it
 * took (the rest is body), or -1. */
static long
header_take(struct reader *r, const char *p, size_t n)
{
	size_t used = 0;

	while (used < n && r->in_header) {
		const char *lf = memchr(p + used, '\n', n - used);
		size_t seg = lf ? (size_t)(lf - (p + used)) + 1 : n - used;
		size_t room = HEADER_LINE_MAX - r->line.len;
		int result;

		if (r->skip_line) {
			r->skip_line = lf == NULL;
			used += seg;
			continue;
		}
		if (seg > room) {
			if (overlong_line(r, p + used, room) < 0)
				return -1;
			used += room;
			continue;
		}
		if (buf_append(&r->line, p + used, seg) < 0)
			return error_set(r->err, ERROR_OSERR, "out of memory");
		used += seg;
		if (!lf)
			break;
		result = header_push_line(&r->s->h, r->line.data, r->line.len,
		                          r->err);
		if (header_result(r, result) < 0)
			return -1;
	}
	return (long)used;
}

/* Canonical text from crlf: header lines first, then the spool. */
static int
take_output(struct reader *r, const char *p, size_t n)
{
	if (r->in_header) {
		long used = header_take(r, p, n);

		if (used < 0)
			return -1;
		p += used;
		n -= (size_t)used;
	}
	return spool_write(r, p, n);
}

/* The end of the input: the text's last bytes. */
static int
read_end(struct reader *r)
{
	size_t m = crlf_finish(&r->s->norm, r->cbuf);

	r->eof = true;
	if (take_output(r, r->cbuf, m) < 0)
		return -1;
	/* Cannot happen (crlf ends the text with CRLF), but a partial line
	 * must never be lost. */
	if (r->in_header && r->line.len > 0 &&
	    header_result(r, header_push_line(&r->s->h, r->line.data,
	                                      r->line.len, r->err)) < 0)
		return -1;
	return 0;
}

/* One block of input through crlf into the header or the spool (the
 * spool's write buffer still to flush); at the end, read_end. */
static int
read_block(struct reader *r)
{
	struct crlf_norm *c = &r->s->norm;
	ssize_t got = c->done ? 0 : fd_read(r->fd, r->in, BLOCK_SIZE);

	if (got < 0)
		return error_set_errno(
		    r->err, ERROR_IOERR, errno,
		    "cannot read the message from standard input");
	if (got == 0)
		return read_end(r);
	r->in_read += (uint64_t)got;
	return take_output(r, r->cbuf,
	                   crlf_push(c, r->in, (size_t)got, r->cbuf));
}

/* The write buffer into the spool file; but when the input has ended and
 * no byte of the body went to a file, the buffer becomes the body (s->mem)
 * and no file is made. */
static int
spool_settle(struct reader *r)
{
	struct source *s = r->s;

	if (!r->eof || s->spool_fd >= 0 || r->wlen == 0)
		return spool_flush(r);
	s->mem = r->wbuf;
	r->wbuf = NULL;
	r->wlen = 0;
	return 0;
}

/* Read until the input ends, or (stop > 0) until the header block is
 * read and the spool holds stop bytes of body. */
static int
read_until(struct reader *r, uint64_t stop)
{
	while (!r->eof &&
	       (stop == 0 || r->in_header || r->s->body_len + r->wlen < stop))
		if (read_block(r) < 0)
			return -1;
	return spool_settle(r);
}

static struct reader *
reader_new(struct source *s, int fd, bool body_only, struct error *err)
{
	struct reader *r = xcalloc(1, sizeof *r);
	struct stat st;

	r->s = s;
	r->fd = fd;
	r->in_header = !body_only;
	r->dir = s->dir;
	r->err = err;
	buf_init(&r->line, HEADER_LINE_MAX);
	r->in = xmalloc(BLOCK_SIZE);
	r->cbuf = xmalloc(CRLF_OUT_MAX(BLOCK_SIZE));
	r->wbuf = xmalloc(BLOCK_SIZE);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		r->regular = true;
		r->in_size = (uint64_t)st.st_size;
	}
	return r;
}

static void
reader_free(struct reader *r)
{
	if (!r)
		return;
	buf_clear(&r->line);
	free(r->wbuf);
	free(r->cbuf);
	free(r->in);
	free(r);
}

int
source_open(struct source **out, int fd, const struct source_options *o,
            struct error *err)
{
	struct source *s = xcalloc(1, sizeof *s);
	struct reader *r;
	int rc;

	header_init(&s->h);
	crlf_init(&s->norm, o ? o->dot_ends_input : false);
	s->spool_fd = -1;
	buf_init(&s->head, HEADER_LINE_MAX);
	s->dir = xstrdup(tmp_dir(o ? o->tmpdir : NULL));
	/* mailx mode: no header block is looked for, all input is body. */
	r = reader_new(s, fd, o && o->body_only, err);
	rc = read_until(r, o ? o->stream_after : 0);
	s->has_8bit = s->norm.has_8bit;
	if (rc < 0 || r->eof)
		reader_free(r);
	else
		s->rd = r;
	if (rc < 0) {
		source_free(s);
		*out = NULL;
		return -1;
	}
	*out = s;
	return 0;
}

bool
source_complete(const struct source *s)
{
	return s->rd == NULL;
}

/* The input failed: remembered, so that every later call says the same. */
static int
input_failed(struct source *s, struct error *err)
{
	s->input_failed = true;
	s->input_err = *err;
	reader_free(s->rd);
	s->rd = NULL;
	return -1;
}

int
source_finish(struct source *s, struct error *err)
{
	if (s->input_failed) {
		*err = s->input_err;
		return -1;
	}
	if (!s->rd)
		return 0;
	s->rd->err = err;
	if (read_until(s->rd, 0) < 0)
		return input_failed(s, err);
	reader_free(s->rd);
	s->rd = NULL;
	s->has_8bit = s->norm.has_8bit;
	return 0;
}

bool
source_size_bound(const struct source *s, uint64_t *bound)
{
	const struct reader *r = s->rd;

	if (!r) {
		*bound = source_size(s);
		return true;
	}
	if (!r->regular || r->in_size < r->in_read)
		return false;
	/* Every byte left may become two (a bare LF its CRLF), and the
	 * text may end with a CRLF added (crlf.h). */
	*bound = source_size(s) + r->wlen + 2 * (r->in_size - r->in_read) + 2;
	return true;
}

bool
source_was_cut(struct source *s)
{
	bool cut = s->cut;

	s->cut = false;
	return cut;
}

void
source_free(struct source *s)
{
	if (!s)
		return;
	free(s->dir);
	header_clear(&s->h);
	buf_clear(&s->head);
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	free(s->mem);
	reader_free(s->rd);
	free(s);
}

struct header_block *
source_headers(struct source *s)
{
	return &s->h;
}

const struct crlf_norm *
source_stats(const struct source *s)
{
	return &s->norm;
}

/* Body bytes from offset off of the spool, at most n. */
static ssize_t spool_pread(const struct source *s, uint64_t off, char *buf,
                           size_t n, struct error *err);

/* The second spool file the re-encoded body goes to. */
struct respool {
	int fd;
	const char *dir;
	char *buf;
	size_t len;
	uint64_t total;
	bool has_8bit;
	bool has_nul;
};

static int
respool_flush(struct respool *w, struct error *err)
{
	if (w->len > 0 && fd_write_all(w->fd, w->buf, w->len) < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot spool the message to %s",
		                       w->dir);
	w->len = 0;
	return 0;
}

static int
respool_write(void *ctx, const char *p, size_t n, struct error *err)
{
	struct respool *w = ctx;

	for (size_t i = 0; i < n && !w->has_8bit; i++)
		w->has_8bit = (unsigned char)p[i] >= 0x80;
	if (!w->has_nul && memchr(p, '\0', n))
		w->has_nul = true;
	w->total += n;
	while (n > 0) {
		size_t k = BLOCK_SIZE - w->len < n ? BLOCK_SIZE - w->len : n;

		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p += k;
		n -= k;
		if (w->len == BLOCK_SIZE && respool_flush(w, err) < 0)
			return -1;
	}
	return 0;
}

/* One pass of the re-encoder over the whole spooled body. */
static int
reencode_pass(struct source *s, struct reencoder *r, char *block,
              struct error *err)
{
	uint64_t off = 0;

	while (off < s->body_len) {
		ssize_t got = spool_pread(s, off, block, BLOCK_SIZE, err);

		if (got < 0 || reencode_push(r, block, (size_t)got, err) < 0)
			return -1;
		off += (uint64_t)got;
	}
	return reencode_finish(r, s->norm.eol_added, err);
}

/* The rewrite pass into a new spool file, which then replaces the old
 * one; the top header is edited to match. */
static int
reencode_body(struct source *s, struct reencoder *r, char *block,
              struct error *err)
{
	struct respool w = {.dir = s->dir};
	const struct reencode_sink sink = {respool_write, &w};
	int rc;

	w.fd = spool_open_file(s->dir, err);
	if (w.fd < 0)
		return -1;
	w.buf = xmalloc(BLOCK_SIZE);
	reencode_rewrite(r, &sink);
	rc = reencode_pass(s, r, block, err);
	if (rc == 0)
		rc = respool_flush(&w, err);
	if (rc == 0)
		rc = reencode_edit_top(r, &s->h, err);
	free(w.buf);
	if (rc < 0) {
		close(w.fd);
		return -1;
	}
	if (s->spool_fd >= 0)
		close(s->spool_fd);
	free(s->mem);
	s->mem = NULL;
	s->spool_fd = w.fd;
	s->body_len = w.total;
	s->has_8bit = w.has_8bit || header_has_8bit(&s->h);
	s->body_nul = w.has_nul;
	return 0;
}

/* RFC 5322 2.1.1 limits lines to 998 octets.  Header lines are folded;
 * body lines re-encoded (reencode.h): scan first, rewrite only when the
 * scan found something to change. */
static int
fix_long_lines(struct source *s, struct error *err)
{
	struct reencoder *r;
	char *block;
	int rc;

	if (header_fold_long(&s->h, err) < 0)
		return -1;
	if (s->body_len == 0)
		return 0;
	r = reencode_new(&s->h);
	block = xmalloc(BLOCK_SIZE);
	rc = reencode_pass(s, r, block, err);
	if (rc == 0 && reencode_needed(r))
		rc = reencode_body(s, r, block, err);
	free(block);
	reencode_free(r);
	return rc;
}

int
source_make_sendable(struct source *s, struct error *err)
{
	if (s->sendable)
		return 0;
	/* A NUL in the body can still go, as BODY=BINARYMIME by BDAT (RFC
	 * 3030 3), which submit.c asks of the server (source_has_nul).  Not
	 * in the header: BINARYMIME is about the body alone, the header
	 * stays RFC 5322 text (RFC 3030 3 leaves it to MIME, whose header
	 * has no binary form), no server is bound to keep such a field, and
	 * header.c hands a field's value to -t, the edits and the downgrade
	 * as C strings, where a NUL would cut it short without a word. */
	if (s->header_nul)
		return error_set(
		    err, ERROR_DATA,
		    "the message header holds a NUL byte, which no SMTP "
		    "extension can carry; remove it from the header");
	/* Once whole, the work is done once (a streaming source is settled
	 * by more than one caller). */
	if (s->rd)
		return 0;
	s->sendable = true;
	if (s->norm.first_long_line == 0)
		return 0;
	if (fix_long_lines(s, err) == 0)
		return 0;
	s->sendable = false;
	return -1;
}

bool
source_has_8bit(const struct source *s)
{
	return s->has_8bit;
}

bool
source_has_nul(const struct source *s)
{
	return s->body_nul;
}

uint64_t
source_size(const struct source *s)
{
	return (uint64_t)header_size(&s->h) + 2 + s->body_len;
}

/* The header block as it will be sent, built once per pass. */
static int
render_head(struct source *s, struct error *err)
{
	buf_reset(&s->head);
	if (header_render(&s->h, &s->head) < 0 ||
	    buf_append(&s->head, "\r\n", 2) < 0)
		return error_set(err, ERROR_OSERR,
		                 "cannot hold the message header");
	s->rendered = true;
	return 0;
}

/* Body bytes from offset off of the spool, at most n. */
static ssize_t
spool_pread(const struct source *s, uint64_t off, char *buf, size_t n,
            struct error *err)
{
	ssize_t got;

	if (off >= s->body_len)
		return 0;
	if (n > s->body_len - off)
		n = (size_t)(s->body_len - off);
	if (s->mem) {
		memcpy(buf, s->mem + off, n);
		return (ssize_t)n;
	}
	do
		got = pread(s->spool_fd, buf, n, (off_t)off);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read the spooled message");
	if (got == 0)
		return error_set(err, ERROR_IOERR,
		                 "cannot read the spooled message: it is "
		                 "shorter than expected");
	return got;
}

/* A source that streams: read on until the spool holds byte off or the
 * input ends.  Each block is in the spool file before any of it is
 * returned, so that a failure at any point finds the whole message there
 * once the rest is read (source_finish).  What source_make_sendable would
 * have to change (a line too long), or a NUL in the body (the stream
 * began as BODY=8BITMIME, which cannot carry it), found after the first
 * bytes went out, ends the read: the message cannot go out as it was
 * begun. */
static int
grow(struct source *s, uint64_t off, struct error *err)
{
	while (s->rd && off >= s->body_len) {
		struct reader *r = s->rd;

		r->err = err;
		if (read_block(r) < 0 || spool_flush(r) < 0)
			return input_failed(s, err);
		if (s->body_nul || s->norm.first_long_line != 0) {
			s->cut = true;
			return error_set(
			    err, ERROR_DATA,
			    "the message holds a NUL byte or a line "
			    "longer than %d octets past its first "
			    "%d KiB: it is read whole first",
			    CRLF_LINE_MAX, SOURCE_STREAM_AFTER / 1024);
		}
		if (r->eof) {
			reader_free(r);
			s->rd = NULL;
			s->has_8bit = s->norm.has_8bit;
		}
	}
	return 0;
}

static ssize_t
read_body(struct source *s, char *buf, size_t n, struct error *err)
{
	uint64_t off = s->pos - s->head.len;

	if (s->input_failed) {
		*err = s->input_err;
		return -1;
	}
	if (s->rd && grow(s, off, err) < 0)
		return -1;
	return spool_pread(s, off, buf, n, err);
}

uint64_t
source_body_size(const struct source *s)
{
	return s->body_len;
}

int
source_rewind_body(struct source *s, struct error *err)
{
	(void)err;
	s->body_pos = 0;
	return 0;
}

ssize_t
source_read_body(struct source *s, char *buf, size_t n, struct error *err)
{
	ssize_t got;

	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	got = spool_pread(s, s->body_pos, buf, n, err);
	if (got > 0)
		s->body_pos += (uint64_t)got;
	return got;
}

ssize_t
source_read(struct source *s, char *buf, size_t n, struct error *err)
{
	size_t done = 0;
	ssize_t got;

	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (!s->rendered && render_head(s, err) < 0)
		return -1;
	if (s->pos < s->head.len) {
		done = (size_t)(s->head.len - s->pos);
		if (done > n)
			done = n;
		memcpy(buf, s->head.data + s->pos, done);
		s->pos += done;
	}
	if (done == n)
		return (ssize_t)done;
	got = read_body(s, buf + done, n - done, err);
	if (got < 0)
		return -1;
	s->pos += (uint64_t)got;
	return (ssize_t)(done + (size_t)got);
}

int
source_rewind(struct source *s, struct error *err)
{
	(void)err;
	s->pos = 0;
	s->rendered = false;
	return 0;
}

/* --- recipients for -t ------------------------------------------------ */

static bool
has_resent(const struct header_block *h)
{
	struct header_walk w;
	const struct header_field *f;

	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, NULL)) != NULL)
		if (header_has_prefix(f, "Resent-"))
			return true;
	return false;
}

int
source_recipients(const struct source *s, struct strlist *out,
                  struct error *err)
{
	static const char *plain[] = {"To", "Cc", "Bcc"};
	static const char *resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};
	/* sendmail: when the message was resent, only the Resent- fields
	 * name the new recipients (RFC 5322 3.6.6). */
	const char **names = has_resent(&s->h) ? resent : plain;
	struct header_walk w;
	const struct header_field *f;
	struct buf v;
	int rc = 0;

	buf_init(&v, HEADER_BLOCK_MAX);
	header_walk_init(&w);
	while (rc == 0 && (f = header_walk_next(&s->h, &w, NULL)) != NULL) {
		size_t n;
		const char *name = header_name(f, &n);

		if (!header_is(f, names[0]) && !header_is(f, names[1]) &&
		    !header_is(f, names[2]))
			continue;
		buf_reset(&v);
		if (header_value(f, &v) < 0) {
			rc = error_set(err, ERROR_OSERR, "out of memory");
			break;
		}
		rc = address_parse_list(buf_str(&v), v.len, out, err);
		if (rc < 0)
			error_prefix(err, "in the %.*s field: ", (int)n, name);
	}
	buf_clear(&v);
	return rc;
}

int
source_sender(const struct source *s, char **out, struct error *err)
{
	const struct header_field *from = header_first(&s->h, "From");
	struct strlist addrs;
	struct buf v;
	int rc = 0;

	*out = NULL;
	if (!from)
		return error_set(
		    err, ERROR_DATA,
		    "--read-envelope-from: the message has no From "
		    "field; give the sender with -f");
	strlist_init(&addrs);
	buf_init(&v, HEADER_BLOCK_MAX);
	if (header_value(from, &v) < 0)
		rc = error_set(err, ERROR_OSERR, "out of memory");
	else if (address_parse_list(buf_str(&v), v.len, &addrs, err) < 0) {
		error_prefix(err, "--read-envelope-from: in the From field: ");
		rc = -1;
	} else if (addrs.n == 0)
		rc = error_set(err, ERROR_DATA,
		               "--read-envelope-from: the From field holds no "
		               "address; give the sender with -f");
	else
		*out = xstrdup(addrs.v[0]);
	buf_clear(&v);
	strlist_clear(&addrs);
	return rc;
}
