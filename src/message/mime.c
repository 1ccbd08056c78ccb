/*
 * mime.c - composing a MIME message from arguments (see mime.h).
 *
 * mime_compose builds three things:
 *   - the top-level header block (editable through mime_headers);
 *   - the parts (leaves): the text body, the HTML alternative, each
 *     attachment, with their type, charset, transfer encoding and the
 *     exact encoded size, found by one measuring pass over each text;
 *   - a list of segments that is the body of the message in order: text
 *     held in memory (boundary lines and part headers, all small) and
 *     part contents, which are produced from their file or source while
 *     they are read.
 *
 * mime_read walks the segments with a cursor; a part's content goes
 * through its encoder in BLOCK_SIZE blocks, so memory stays constant
 * whatever the size of the files.
 *
 * Structure (RFC 2046 5.1): a body alone is a single part; with --html it
 * is multipart/alternative (text first, RFC 2046 5.1.4: the preferred
 * form last), unless the text is empty: then the HTML is the body; with
 * attachments, multipart/mixed whose first part is the body or the
 * alternative.
 *
 * Types of attachments given without one (filetype.h, filetype_guess): a
 * first look at the file's first block (probe_type) settles a binary
 * file at once, without a measuring pass; a file that starts as text is
 * measured, and the pass tells whether it is text throughout (no NUL or
 * stray control character, ASCII or valid UTF-8), which then picks its
 * type by extension without libmagic.  libmagic is only asked about what
 * is not text and not a common signed format.
 *
 * Charsets (our rule): text that is pure ASCII is us-ascii; text with
 * 8-bit bytes that is valid UTF-8 is utf-8; 8-bit text that is not valid
 * UTF-8 has no charset we can know, so it is labelled "unknown-8bit"
 * (RFC 1428) and sent base64, which keeps its bytes exactly.
 */
#include "config.h"

#include "mime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "crlf.h"
#include "encode.h"
#include "fdwait.h"
#include "filetype.h"
#include "mimetypes.h"
#include "util.h"

/* Input is read and encoded in blocks this large (DESIGN: bulk path). */
#define BLOCK_SIZE (64 * 1024)
/* Room for the encoding of one block, whichever encoder (QP is the
 * largest), plus what a finish call adds. */
#define OUT_SIZE (QP_OUT_MAX(BLOCK_SIZE) + 64)
/* RFC 5322 2.1.1: lines SHOULD stay within 78 characters. */
#define FOLD_COLUMN 78
/* A boundary (at most 70, RFC 2046 5.1.1) with its NUL. */
#define BOUNDARY_SIZE 71
/* How many times we draw a new boundary when one occurs in the content. */
#define BOUNDARY_TRIES 8

enum part_input {
	IN_TEXT,   /* --body TEXT, in memory */
	IN_FILE,   /* a file: body file, HTML, attachment */
	IN_SOURCE, /* the body of a struct source */
};

enum part_enc {
	ENC_7BIT, /* text with its line ends made CRLF */
	ENC_QP,
	ENC_B64,
	ENC_RAW, /* passed through as it is (-t: an existing MIME body) */
};

static const char *const enc_names[] = {"7bit", "quoted-printable", "base64",
                                        "7bit"};

struct part {
	enum part_input input;
	enum part_enc enc;
	const char *path; /* IN_FILE (owned by the request) */
	const char *text; /* IN_TEXT */
	size_t text_len;
	struct source *src; /* IN_SOURCE */
	int fd;             /* IN_FILE: opened once by file_part, or the
	                     * spool of a pipe; owned (-1: none) */
	bool spooled;       /* the input was a FIFO, pipe or device */
	struct stat st;     /* IN_FILE: as seen by mime_compose */
	uint64_t in_size;   /* input bytes */
	uint64_t out_size;  /* encoded bytes */
	char type[FILETYPE_MAX];
	const char *charset; /* for text, else NULL */
	const char *name;    /* attachment file name, or NULL */
	char auto_name[32];  /* a spooled attachment's default name */
	bool binary;         /* no text pass: base64 from the size */
	bool detect;         /* type decided after the measuring pass */
	bool delimited;      /* a boundary follows: a last line without a
	                      * line end stays so (RFC 2046 5.1.1); else the
	                      * content ends with CRLF, like the message */
	struct buf head;     /* Content-* lines, without the empty line */
};

/* A piece of the body: text in memory, or the content of a part. */
struct seg {
	char *mem;
	size_t len;
	struct part *part;
};

/* What one measuring pass over a text learns (mime.h: encodings). */
struct scan {
	struct crlf_norm norm; /* CRLF size, longest line, NUL, 8-bit */
	bool open_line;        /* no final line end: crlf_finish added a CRLF */
	bool qp_open;          /* the quoted-printable ends without CRLF */
	struct qp_encoder qp;
	uint64_t qp_size;
	uint64_t n8bit;
	bool prev_cr;
	bool bare_cr;
	struct utf8_check utf8;
	bool bad_utf8;
	bool ctrl; /* a NUL or a control character text does not hold */
	char tail[2 * BOUNDARY_SIZE]; /* end of the previous block */
	size_t ntail;
	bool collision; /* a boundary occurs in the content */
};

/* The reading position inside a part's content. */
struct cursor {
	struct part *p;
	bool open;
	int fd;
	uint64_t got;      /* input bytes taken */
	uint64_t produced; /* output bytes made */
	bool finished;
	size_t opos, olen; /* pending output in m->out */
	struct crlf_norm norm;
	struct qp_encoder qp;
	struct b64_encoder b64;
};

struct mime_message {
	struct header_block h;
	struct part *parts; /* [0] body, then HTML, then attachments */
	size_t nparts;
	struct part *html; /* the alternative to parts[0], or NULL */
	bool html_alone;   /* parts[0] is the HTML: the text was empty */
	bool stdin_read;   /* standard input is the body (or -t's message) */
	size_t first_attachment;
	struct seg *segs;
	size_t nsegs, segcap;
	struct buf pending; /* text for the next memory segment */
	char bmix[BOUNDARY_SIZE];
	char balt[BOUNDARY_SIZE];
	bool has_8bit; /* a passed-through body has 8-bit bytes */
	/* reading */
	bool started;
	struct buf head; /* the header block rendered, and the empty line */
	uint64_t head_pos;
	size_t seg;
	size_t seg_pos;
	struct cursor cur;
	char *in;
	char *out;
};

/* --- small helpers ---------------------------------------------------- */

static int
oom(struct error *err)
{
	return error_set(err, ERROR_OSERR, "out of memory");
}

static bool
is_text_type(const char *type)
{
	return str_iprefix(type, "text/");
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int
changed(const struct part *p, struct error *err)
{
	if (p->input == IN_FILE)
		return error_set(err, ERROR_IOERR,
		                 "%s changed while it was being sent; nothing "
		                 "was delivered",
		                 p->path);
	return error_set(err, ERROR_IOERR,
	                 "the message body changed while it was being sent; "
	                 "nothing was delivered");
}

/* Same file, same size, same modification time as mime_compose saw. */
static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* --- reading a part's input --------------------------------------------- */

static int
input_open(struct cursor *c, struct part *p, struct error *err)
{
	struct stat st;

	memset(c, 0, sizeof *c);
	c->p = p;
	c->fd = -1;
	c->open = true;
	if (p->input == IN_SOURCE)
		return source_rewind_body(p->src, err);
	if (p->input != IN_FILE)
		return 0;
	/* The file file_part opened, never again by name: the same file
	 * is read from its start on every pass. */
	c->fd = p->fd;
	if (lseek(c->fd, 0, SEEK_SET) != 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read %s", p->path);
	if (fstat(c->fd, &st) < 0 || !same_file(&st, &p->st))
		return changed(p, err);
	return 0;
}

/* The descriptor belongs to the part (closed by mime_free). */
static void
input_close(struct cursor *c)
{
	c->fd = -1;
	c->open = false;
}

/* A file must end exactly where mime_compose measured it, unchanged. */
static ssize_t
file_end(struct cursor *c, char *buf, struct error *err)
{
	struct stat st;
	ssize_t got = fd_read(c->fd, buf, 1);

	if (got < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read %s", c->p->path);
	if (got > 0 || fstat(c->fd, &st) < 0 || !same_file(&st, &c->p->st))
		return changed(c->p, err);
	return 0;
}

static ssize_t
file_read(struct cursor *c, char *buf, size_t n, struct error *err)
{
	uint64_t left = c->p->in_size - c->got;
	ssize_t got;

	if (left == 0)
		return file_end(c, buf, err);
	if (n > left)
		n = (size_t)left;
	got = fd_read(c->fd, buf, n);
	if (got < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read %s", c->p->path);
	if (got == 0)
		return changed(c->p, err);
	return got;
}

/* The next input bytes of the part; 0 at its end. */
static ssize_t
input_read(struct cursor *c, char *buf, size_t n, struct error *err)
{
	struct part *p = c->p;
	ssize_t got;
	size_t left;

	switch (p->input) {
	case IN_FILE:
		got = file_read(c, buf, n, err);
		break;
	case IN_SOURCE:
		got = source_read_body(p->src, buf, n, err);
		break;
	default:
		left = p->text_len - (size_t)c->got;
		got = (ssize_t)(n < left ? n : left);
		memcpy(buf, p->text + c->got, (size_t)got);
		break;
	}
	if (got > 0)
		c->got += (uint64_t)got;
	return got;
}

/* --- the measuring pass ------------------------------------------------- */

/* Controls that text may hold, as for libmagic: BEL, BS, TAB, LF, FF, CR
 * and ESC (the colours of terminal logs).  NUL, the other C0 controls
 * and DEL mark binary data. */
static bool
text_control(unsigned char c)
{
	return (c >= 0x07 && c <= 0x0a) || c == 0x0c || c == 0x0d || c == 0x1b;
}

static void
scan_bytes(struct scan *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (s->prev_cr && c != '\n')
			s->bare_cr = true;
		s->prev_cr = c == '\r';
		if (c >= 0x80)
			s->n8bit++;
		else if ((c < 0x20 && !text_control(c)) || c == 0x7f)
			s->ctrl = true;
		if (!utf8_check_byte(&s->utf8, c))
			s->bad_utf8 = true;
	}
}

/* Does either boundary occur in the content, across block ends too? */
static bool
has_boundary(const char *p, size_t n, const struct mime_message *m)
{
	const char *b[2] = {m->bmix, m->balt};

	for (size_t i = 0; i < 2; i++)
		if (b[i][0] && memmem(p, n, b[i], strlen(b[i])))
			return true;
	return false;
}

static void
scan_boundaries(struct scan *s, const char *p, size_t n,
                const struct mime_message *m)
{
	size_t keep = BOUNDARY_SIZE - 1;
	size_t head = n < keep ? n : keep;
	char joint[sizeof s->tail + BOUNDARY_SIZE];

	memcpy(joint, s->tail, s->ntail);
	memcpy(joint + s->ntail, p, head);
	if (has_boundary(joint, s->ntail + head, m) || has_boundary(p, n, m))
		s->collision = true;
	/* Keep the last keep bytes of what was seen. */
	if (s->ntail + head > keep) {
		size_t total = s->ntail + head;

		if (n >= keep) {
			memcpy(s->tail, p + n - keep, keep);
		} else {
			memmove(joint, joint + total - keep, keep);
			memcpy(s->tail, joint, keep);
		}
		s->ntail = keep;
	} else {
		memcpy(s->tail, joint, s->ntail + head);
		s->ntail += head;
	}
}

static void
scan_push(struct mime_message *m, struct scan *s, const char *p, size_t n)
{
	scan_bytes(s, (const unsigned char *)p, n);
	crlf_push(&s->norm, p, n, m->out);
	s->qp_size += qp_push(&s->qp, p, n, NULL);
	scan_boundaries(s, p, n, m);
}

static int
scan_part(struct mime_message *m, struct part *p, struct scan *s,
          struct error *err)
{
	struct cursor c;
	ssize_t got;
	int rc = 0;

	memset(s, 0, sizeof *s);
	crlf_init(&s->norm, false);
	qp_init(&s->qp);
	if (input_open(&c, p, err) < 0) {
		input_close(&c);
		return -1;
	}
	while ((got = input_read(&c, m->in, BLOCK_SIZE, err)) > 0)
		scan_push(m, s, m->in, (size_t)got);
	if (got < 0)
		rc = -1;
	input_close(&c);
	s->open_line = !s->norm.at_line_start;
	crlf_finish(&s->norm, m->out);
	s->qp_size += qp_finish(&s->qp, NULL);
	s->qp_open = s->qp.col > 0;
	if (s->prev_cr)
		s->bare_cr = true;
	if (!utf8_check_done(&s->utf8))
		s->bad_utf8 = true;
	return rc;
}

/* mime.h: 7bit for short-lined ASCII, QP for some 8-bit bytes or long
 * lines, base64 for binary, bare CRs, 8-bit text that is not UTF-8, and
 * text that is mostly 8-bit: more than a third of its bytes (QP triples
 * each such byte, so past that point it is both larger and no more
 * readable than base64; Cyrillic or CJK UTF-8 lands here, accented Latin
 * text does not). */
static void
choose_encoding(struct part *p, const struct scan *s)
{
	uint64_t b64 = b64_encoded_size(p->in_size);

	if (s->norm.has_nul || s->bare_cr) {
		p->enc = ENC_B64;
	} else if (!s->norm.has_8bit && s->norm.max_line <= CRLF_LINE_MAX) {
		p->enc = ENC_7BIT;
	} else if (s->bad_utf8) {
		p->enc = ENC_B64;
	} else {
		p->enc = s->n8bit * 3 <= p->in_size ? ENC_QP : ENC_B64;
	}
	if (p->enc == ENC_7BIT)
		p->out_size =
		    s->norm.bytes - (p->delimited && s->open_line ? 2 : 0);
	else if (p->enc == ENC_QP)
		p->out_size =
		    s->qp_size + (!p->delimited && s->qp_open ? 2 : 0);
	else
		p->out_size = b64;
	if (!is_text_type(p->type) || s->norm.has_nul)
		p->charset = NULL;
	else if (!s->norm.has_8bit)
		p->charset = "us-ascii";
	else
		p->charset = s->bad_utf8 ? "unknown-8bit" : "utf-8";
}

/* The name whose extension helps to type a file: the one shown when
 * given (--attach-name report.csv for -a <(command)), else its path. */
static const char *
type_name(const struct part *p)
{
	return p->name ? p->name : p->path;
}

/* A file that started as text, measured: text throughout gets its type
 * without libmagic.  1 when the type is not text after all (the part
 * is then binary: base64 from the size), 0 when it is, -1 with err when
 * libmagic was needed and cannot be loaded. */
static int
decide_type(struct part *p, const struct scan *s, struct error *err)
{
	bool text = !s->ctrl && !s->bad_utf8;

	if (filetype_guess(p->fd, type_name(p),
	                   text ? FILETYPE_TEXT : FILETYPE_UNKNOWN, p->type,
	                   sizeof p->type, err) < 0)
		return -1;
	p->detect = false;
	if (is_text_type(p->type))
		return 0;
	p->binary = true;
	p->enc = ENC_B64;
	return 1;
}

/* Measure a part; *collision when a boundary occurs in text that would be
 * sent as it is. */
static int
measure_part(struct mime_message *m, struct part *p, bool *collision,
             struct error *err)
{
	struct scan s;

	if (p->binary) {
		/* Binary: base64 from the size alone, no pass. */
		p->out_size = b64_encoded_size(p->in_size);
		return 0;
	}
	if (scan_part(m, p, &s, err) < 0)
		return -1;
	if (p->detect) {
		int binary = decide_type(p, &s, err);

		if (binary < 0)
			return -1;
		if (binary) {
			p->out_size = b64_encoded_size(p->in_size);
			return 0;
		}
	}
	if (p->enc == ENC_RAW) {
		p->out_size = p->in_size;
		if (s.n8bit > 0)
			m->has_8bit = true;
	} else {
		choose_encoding(p, &s);
	}
	if (s.collision && (p->enc == ENC_RAW || p->enc == ENC_7BIT))
		*collision = true;
	return 0;
}

/* --- the parts ---------------------------------------------------------- */

/* A FIFO that no process has opened for writing within this time is an
 * error rather than a wait without end; a writer that has it open may
 * then take as long as it needs. */
#define FIFO_WRITER_WAIT_MS 500

enum writer_state {
	WRITER_UNKNOWN, /* nothing read yet, no writer seen */
	WRITER_WAITED,  /* FIFO_WRITER_WAIT_MS passed without one */
	WRITER_SEEN,    /* a writer had it open: its end is the end */
};

static int
spool_error(const struct part *p, const char *dir, struct error *err)
{
	return error_set_errno(err, ERROR_IOERR, errno,
	                       "cannot copy %s to a temporary file in %s",
	                       p->path, dir);
}

/* On a FIFO opened without blocking, read() says 0 both at the end and
 * when no process has it open for writing yet (POSIX read(), "empty
 * pipe or FIFO"); poll then waits for a writer to come and write or
 * close, so a 0 before any writer was seen gets a bounded wait. */
static int
next_writer_state(struct part *p, int in, enum writer_state *state,
                  struct error *err)
{
	int r;

	if (*state == WRITER_WAITED)
		return error_set(err, ERROR_NOINPUT,
		                 "no process writes to the FIFO %s; start the "
		                 "command that writes it first (or use -a "
		                 "<(command))",
		                 p->path);
	r = fd_wait(in, POLLIN, now_ms() + FIFO_WRITER_WAIT_MS);
	if (r < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read %s", p->path);
	*state = r > 0 ? WRITER_SEEN : WRITER_WAITED;
	return 0;
}

/* Copy a FIFO, pipe or character device (opened without blocking) to an
 * unlinked temporary file, which then stands for it: its size is known
 * before SIZE= is sent, it can be read once per pass, and memory stays
 * at one block whatever the size. */
static int
spool(struct mime_message *m, struct part *p, int in, bool fifo,
      struct error *err)
{
	const char *dir = tmp_dir(NULL);
	enum writer_state state = fifo ? WRITER_UNKNOWN : WRITER_SEEN;
	ssize_t got;

	p->fd = fd_temp(dir);
	if (p->fd < 0)
		return spool_error(p, dir, err);
	p->spooled = true;
	for (;;) {
		got = read(in, m->in, BLOCK_SIZE);
		if (got > 0) {
			state = WRITER_SEEN;
			if (fd_write_all(p->fd, m->in, (size_t)got) < 0)
				return spool_error(p, dir, err);
		} else if (got < 0 && errno == EAGAIN) {
			/* A writer is there: now wait for its bytes. */
			state = WRITER_SEEN;
			fcntl(in, F_SETFL, fcntl(in, F_GETFL) & ~O_NONBLOCK);
		} else if (got < 0 && errno != EINTR) {
			return error_set_errno(err, ERROR_IOERR, errno,
			                       "cannot read %s", p->path);
		} else if (got == 0 && state == WRITER_SEEN) {
			break;
		} else if (got == 0 &&
		           next_writer_state(p, in, &state, err) < 0) {
			return -1;
		}
	}
	if (fstat(p->fd, &p->st) < 0)
		return spool_error(p, dir, err);
	p->in_size = (uint64_t)p->st.st_size;
	return 0;
}

static int
open_error(const char *path, struct error *err)
{
	int e = errno;
	struct stat st;

	if (e == EMFILE || e == ENFILE)
		return error_set(err, ERROR_OSERR,
		                 "cannot open %s: too many files open at once; "
		                 "raise the limit (ulimit -n) or attach fewer "
		                 "files",
		                 path);
	/* open(2) of a socket is ENXIO. */
	if (e == ENXIO && stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		return error_set(err, ERROR_NOINPUT,
		                 "cannot read %s: it is a socket, not a file",
		                 path);
	if (e == EACCES || e == EPERM)
		return error_set(err, ERROR_NOINPUT,
		                 "cannot read %s: permission denied; make it "
		                 "readable for this user (ls -l shows who may "
		                 "read it) or give a copy that is",
		                 path);
	if (e == ENOENT || e == ENOTDIR)
		return error_set(err, ERROR_NOINPUT,
		                 "cannot read %s: no such file; check the path",
		                 path);
	return error_set_errno(err, ERROR_NOINPUT, e, "cannot read %s", path);
}

/* /dev/stdin (or /dev/fd/0) given as a file while standard input is the
 * body: a pipe has been read to its end for the body already, so the file
 * would come out empty without a word.  A regular file opened again is
 * read from its start, and a terminal can be typed into twice: both work
 * and are left alone. */
static bool
is_stdin_pipe(const struct mime_message *m, const struct stat *st)
{
	struct stat in;

	return m->stdin_read && S_ISFIFO(st->st_mode) &&
	       fstat(STDIN_FILENO, &in) == 0 && in.st_dev == st->st_dev &&
	       in.st_ino == st->st_ino;
}

/* Open a file named on the command line, once: it stays open and is
 * never opened by name again (mime.h).  A missing or unreadable one stops
 * us before anything is sent (ERROR_NOINPUT, exit 66).  O_NONBLOCK, so
 * that a FIFO without a writer cannot hang us in open(2); a FIFO, pipe
 * (-a <(command)) or character device is spooled, a directory or socket
 * refused. */
static int
file_part(struct mime_message *m, struct part *p, const char *path,
          struct error *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	int rc = 0;

	p->input = IN_FILE;
	p->path = path;
	p->fd = -1;
	if (fd < 0)
		return open_error(path, err);
	if (fstat(fd, &st) < 0)
		rc = error_set_errno(err, ERROR_NOINPUT, errno,
		                     "cannot read %s", path);
	else if (S_ISDIR(st.st_mode))
		rc = error_set(err, ERROR_NOINPUT,
		               "cannot read %s: it is a directory, not a file",
		               path);
	else if (is_stdin_pipe(m, &st))
		rc = error_set(err, ERROR_USAGE,
		               "cannot read %s: it is standard input, which is "
		               "read for the message body already; give the "
		               "body with --body or --body-file",
		               path);
	else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		rc = spool(m, p, fd, S_ISFIFO(st.st_mode), err);
	else if (!S_ISREG(st.st_mode))
		rc = error_set(err, ERROR_NOINPUT,
		               "cannot read %s: not a file, FIFO, pipe or "
		               "character device",
		               path);
	if (p->spooled || rc < 0) {
		close(fd);
		return rc;
	}
	p->fd = fd;
	p->st = st;
	p->in_size = (uint64_t)st.st_size;
	return 0;
}

static void
part_release(struct part *p)
{
	if (p->input == IN_FILE && p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	buf_clear(&p->head);
}

static int
body_part(struct mime_message *m, struct part *p,
          const struct mime_request *req, struct error *err)
{
	str_copy(p->type, sizeof p->type, "text/plain");
	if (req->body_file)
		return file_part(m, p, req->body_file, err);
	if (req->body_source) {
		p->input = IN_SOURCE;
		p->src = req->body_source;
		p->in_size = source_body_size(p->src);
		return 0;
	}
	p->input = IN_TEXT;
	p->text = req->body_text ? req->body_text : "";
	p->text_len = strlen(p->text);
	p->in_size = p->text_len;
	return 0;
}

/* A spooled attachment has no name of its own worth showing ("63" of
 * /dev/fd/63): without --attach-name it is named once its type is known
 * (default_name). */
static int
attachment_part(struct mime_message *m, struct part *p,
                const struct mime_attachment *a, struct error *err)
{
	if (file_part(m, p, a->path, err) < 0)
		return -1;
	p->name = a->name ? a->name : p->spooled ? NULL : base_name(a->path);
	if (p->name && !*p->name)
		return error_set(err, ERROR_USAGE,
		                 "no file name to show for %s", a->path);
	if (a->type && !mimetypes_valid(a->type))
		return error_set(err, ERROR_USAGE,
		                 "invalid content type \"%s\" for %s: expected "
		                 "type/subtype",
		                 a->type, a->path);
	if (!a->type) {
		/* Decided by probe_type, or after the measuring pass. */
		p->detect = true;
		return 0;
	}
	str_copy(p->type, sizeof p->type, a->type);
	/* Only text gets a measuring pass; the rest is base64. */
	p->binary = !is_text_type(p->type);
	if (p->binary)
		p->enc = ENC_B64;
	return 0;
}

/* A first look at an attachment to be typed: its first block.  When that
 * is not text, the type is decided now and, if it is not a text type, the
 * part is binary and needs no measuring pass (a large binary file is not
 * read twice).  Otherwise the pass decides (decide_type). */
static int
probe_type(struct mime_message *m, struct part *p, struct error *err)
{
	struct cursor c;
	struct scan s;
	size_t n = 0;
	ssize_t got = 1;

	if (input_open(&c, p, err) < 0) {
		input_close(&c);
		return -1;
	}
	while (n < BLOCK_SIZE && got > 0 && c.got < p->in_size) {
		got = input_read(&c, m->in + n, BLOCK_SIZE - n, err);
		if (got > 0)
			n += (size_t)got;
	}
	input_close(&c);
	if (got < 0)
		return -1;
	memset(&s, 0, sizeof s);
	scan_bytes(&s, (const unsigned char *)m->in, n);
	/* A sequence cut by the end of the block is not an error. */
	if (!s.ctrl && !s.bad_utf8)
		return 0;
	if (filetype_guess(p->fd, type_name(p), FILETYPE_UNKNOWN, p->type,
	                   sizeof p->type, err) < 0)
		return -1;
	p->detect = false;
	p->binary = !is_text_type(p->type);
	if (p->binary)
		p->enc = ENC_B64;
	return 0;
}

/* Descriptors kept free beside the open files (standard streams, the
 * connection, the log, spool files, libmagic's pipe, a child's). */
#define FD_RESERVE 64

/* Each file stays open from mime_compose to mime_free: make room for
 * them up to the hard limit, as the soft one (often 1024) would refuse a
 * message with many attachments that worked one open at a time. */
static void
room_for_files(size_t nfiles)
{
	rlim_t want = (rlim_t)nfiles + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    want <= rl.rlim_cur)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max
	                  ? rl.rlim_max
	                  : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* --html with an empty text body (no --body, --body-file or standard
 * input, or an empty one): the HTML is the body, a single part, rather
 * than the second of an alternative whose preferred plain form is blank
 * (RFC 2046 5.1.4: a client that prefers text would show nothing). */
static int
setup_parts(struct mime_message *m, const struct mime_request *req,
            struct error *err)
{
	struct part body;
	size_t n, i = 1;

	room_for_files(req->nattachments + 2);
	m->stdin_read = req->body_source != NULL;
	memset(&body, 0, sizeof body);
	body.fd = -1;
	if (body_part(m, &body, req, err) < 0) {
		part_release(&body);
		return -1;
	}
	m->html_alone = req->html_file && body.in_size == 0;
	n = 1 + (req->html_file && !m->html_alone ? 1 : 0) + req->nattachments;
	m->parts = xcalloc(n, sizeof *m->parts);
	m->nparts = n;
	if (!m->html_alone)
		m->parts[0] = body;
	else
		part_release(&body);
	for (size_t k = 0; k < n; k++)
		buf_init(&m->parts[k].head, 2 * HEADER_BLOCK_MAX);
	if (req->html_file) {
		struct part *h = m->html_alone ? &m->parts[0] : &m->parts[i++];

		str_copy(h->type, sizeof h->type, "text/html");
		if (file_part(m, h, req->html_file, err) < 0)
			return -1;
		if (!m->html_alone)
			m->html = h;
	}
	m->first_attachment = i;
	for (size_t k = 0; k < req->nattachments; k++, i++) {
		struct part *p = &m->parts[i];

		if (attachment_part(m, p, &req->attachments[k], err) < 0 ||
		    (p->detect && probe_type(m, p, err) < 0))
			return -1;
	}
	return 0;
}

static size_t
nattachments(const struct mime_message *m)
{
	return m->nparts - m->first_attachment;
}

/* Choose the boundaries and measure every part; draw new boundaries in
 * the (astronomically unlikely) case that one occurs in text sent as it
 * is (RFC 2046 5.1.1: it must not appear inside the encapsulated parts). */
static int
measure_all(struct mime_message *m, struct error *err)
{
	for (int tries = 0; tries < BOUNDARY_TRIES; tries++) {
		bool collision = false;

		m->has_8bit = false;
		m->bmix[0] = m->balt[0] = '\0';
		if (nattachments(m) > 0)
			encode_boundary(m->bmix, sizeof m->bmix);
		if (m->html)
			encode_boundary(m->balt, sizeof m->balt);
		for (size_t i = 0; i < m->nparts; i++)
			m->parts[i].delimited =
			    nattachments(m) > 0 || m->html != NULL;
		for (size_t i = 0; i < m->nparts; i++)
			if (measure_part(m, &m->parts[i], &collision, err) < 0)
				return -1;
		if (!collision)
			return 0;
	}
	return error_set(err, ERROR_SOFTWARE,
	                 "cannot find a MIME boundary that does not occur in "
	                 "the message");
}

/* " param=value" after ";", folded first when it would pass the column. */
static int
add_param(struct buf *b, const char *name, const char *value)
{
	const char *nl = b->data ? strrchr(b->data, '\n') : NULL;
	size_t col = nl ? b->len - (size_t)(nl + 1 - b->data) : b->len;
	size_t len = strlen(name) + strlen(value) + 3;

	if (col + len > FOLD_COLUMN)
		return buf_printf(b, ";\r\n %s=%s", name, value);
	return buf_printf(b, "; %s=%s", name, value);
}

/* "; name=value" once: plain or quoted when ASCII and short, RFC 2231
 * otherwise; never RFC 2047 words (forbidden in a quoted string by
 * RFC 2047 5) and never the same parameter twice. */
static int
file_param(struct buf *b, const char *name, const char *value,
           struct error *err)
{
	return encode_param(b, name, value, NULL, err);
}

/* Content-Type's name= is the legacy place for a file name, read by
 * clients that know neither Content-Disposition nor RFC 2231.  It gets a
 * plain ASCII stand-in (each non-ASCII character becomes '_', a long name
 * keeps its start and its extension) so that such clients show something
 * close, while filename= in Content-Disposition carries the exact name. */
#define LEGACY_NAME_MAX 60

static int
legacy_name_param(struct buf *b, const char *name, struct error *err)
{
	char ascii[LEGACY_NAME_MAX + 1];
	char tmp[4 * LEGACY_NAME_MAX + 1];
	size_t n = 0, len;
	const char *dot;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		if (*c >= 0x80 && (*c & 0xc0) == 0x80)
			continue; /* a UTF-8 continuation byte */
		if (n + 1 >= sizeof tmp)
			break;
		tmp[n++] = *c >= 0x20 && *c < 0x7f ? (char)*c : '_';
	}
	tmp[n] = '\0';
	len = n;
	dot = strrchr(tmp, '.');
	if (len > LEGACY_NAME_MAX && dot && strlen(dot) <= 10) {
		size_t keep = LEGACY_NAME_MAX - strlen(dot);

		memcpy(ascii, tmp, keep);
		str_copy(ascii + keep, sizeof ascii - keep, dot);
	} else {
		str_copy(ascii, sizeof ascii, tmp);
	}
	return file_param(b, "name", ascii, err);
}

/* The part's Content-* lines (RFC 2045 5, 6; RFC 2183 for the
 * disposition, with RFC 2231 file names when needed). */
static int
part_head(struct part *p, struct error *err)
{
	struct buf *b = &p->head;

	if (buf_printf(b, "Content-Type: %s", p->type) < 0 ||
	    (p->charset && add_param(b, "charset", p->charset) < 0))
		return oom(err);
	if (p->name && legacy_name_param(b, p->name, err) < 0)
		return -1;
	if (buf_printf(b, "\r\nContent-Transfer-Encoding: %s\r\n",
	               enc_names[p->enc]) < 0)
		return oom(err);
	if (!p->name)
		return 0;
	if (buf_append_str(b, "Content-Disposition: attachment") < 0)
		return oom(err);
	if (file_param(b, "filename", p->name, err) < 0)
		return -1;
	if (buf_append_str(b, "\r\n") < 0)
		return oom(err);
	return 0;
}

/* --- the top-level header block ----------------------------------------- */

/* "Name: value" CRLF, value already encoded and folded. */
static int
add_field(struct header_block *h, const char *name, const struct buf *value,
          struct error *err)
{
	struct buf f;
	int rc;

	buf_init(&f, HEADER_BLOCK_MAX);
	if (buf_printf(&f, "%s: %s\r\n", name, buf_str(value)) < 0)
		rc = error_set(err, ERROR_USAGE, "the %s field is too long",
		               name);
	else
		rc = header_push_fields(h, f.data, f.len, err);
	buf_clear(&f);
	return rc;
}

/* A plain address in a header: an envelope-valid addr-spec that cannot
 * break the list it is put in. */
static int
check_header_address(const char *addr, struct error *err)
{
	if (address_check(addr, false, ERROR_USAGE, err) < 0)
		return -1;
	if (!strchr(addr, '"') && strpbrk(addr, ",;()<> \t"))
		return error_set(err, ERROR_USAGE, "invalid address \"%s\"",
		                 addr);
	return 0;
}

/* One mailbox of a list (display name in RFC 2047 words when it is not
 * ASCII), and a ',' after it unless it is the last, into m starting at
 * column col. */
static int
list_mailbox(struct buf *m, const char *name, const char *addr, bool last,
             size_t col, struct error *err)
{
	buf_reset(m);
	if (check_header_address(addr, err) < 0 ||
	    encode_mailbox(m, name, addr, col, err) < 0)
		return -1;
	if (!last && buf_append(m, ",", 1) < 0)
		return error_set(err, ERROR_USAGE,
		                 "the display name of <%s> is too long", addr);
	return 0;
}

/* RFC 5322 3.4: address-list, folded between mailboxes at 78: a mailbox
 * that does not fit on the line (or is folded itself) starts a new one. */
static int
address_list(struct buf *v, const char *const *list, const char *const *names,
             size_t n, size_t col, struct error *err)
{
	struct buf m;
	int rc = 0;

	buf_init(&m, HEADER_BLOCK_MAX);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *name = names ? names[i] : NULL;
		bool last = i + 1 == n;
		const char *sep = i > 0 ? " " : "";

		rc = list_mailbox(&m, name, list[i], last, col + (i > 0), err);
		if (rc == 0 && i > 0 &&
		    (memchr(m.data, '\n', m.len) ||
		     col + 1 + m.len > FOLD_COLUMN)) {
			sep = "\r\n ";
			col = 0;
			rc = list_mailbox(&m, name, list[i], last, 1, err);
		}
		if (rc == 0 && buf_printf(v, "%s%s", sep, buf_str(&m)) < 0)
			rc = error_set(err, ERROR_USAGE,
			               "too many addresses for one field");
		/* The column after it: what follows its last line break. */
		if (rc == 0 && memchr(m.data, '\n', m.len))
			col = m.len - (size_t)((const char *)memrchr(
			                           m.data, '\n', m.len) +
			                       1 - m.data);
		else if (rc == 0)
			col += (i > 0) + m.len;
	}
	buf_clear(&m);
	return rc;
}

/* An address list and then, when group is not NULL, the group with no
 * members "group:;" (RFC 5322 3.4), on a line of its own when it does
 * not fit. */
static int
address_list_group(struct buf *v, const char *const *list,
                   const char *const *names, size_t n, const char *group,
                   size_t col, struct error *err)
{
	const char *nl;
	size_t at;

	if (n > 0 && address_list(v, list, names, n, col, err) < 0)
		return -1;
	if (!group)
		return 0;
	nl = memrchr(v->data, '\n', v->len);
	at = nl ? v->len - (size_t)(nl + 1 - v->data) : col + v->len;
	if (buf_printf(v, "%s%s:;",
	               n == 0                                  ? ""
	               : at + 2 + strlen(group) + 2 > FOLD_COLUMN ? ",\r\n "
	                                                          : ", ",
	               group) < 0)
		return error_set(err, ERROR_USAGE,
		                 "too many addresses for one field");
	return 0;
}

/* What the header fields are built from: the request, and which -H
 * fields have taken the place of a field mailpost generates. */
struct fields {
	struct mime_message *m;
	const struct mime_request *req;
	bool *used; /* [nextra]: written in place of a generated field */
	struct buf v;
};

/* True when the -H field `field` is named `name` (case-insensitive). */
static bool
extra_is(const char *field, const char *name)
{
	size_t n = strlen(name);

	return str_iprefix(field, name) && field[n] == ':';
}

static bool
extra_in(const char *field, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (extra_is(field, names[i]))
			return true;
	return false;
}

/* Fields -H may not name.  The MIME structure fields describe the body
 * mailpost builds, so another value would break it (RFC 2045 5, 6).  A
 * recipient field would say one thing while the envelope, built from the
 * command line (or, with -t, from the message as read), says another. */
static const char *const mime_structure[] = {
    "Content-Type", "Content-Transfer-Encoding", "MIME-Version"};
static const char *const recipient_fields[] = {
    "To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"};
/* Fields -H may give once: those RFC 5322 3.6 allows at most once (the
 * recipient ones are refused above), and the others mailpost generates. */
static const char *const single_fields[] = {
    "Date",        "From",       "Sender",  "Reply-To",   "Message-ID",
    "In-Reply-To", "References", "Subject", "X-Priority", "Importance"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 5322 3.6.8 field name (printable ASCII, no space or colon) before
 * the colon, and a name -H may set. */
static int
extra_name(const char *field, size_t *len, struct error *err)
{
	const char *colon = strchr(field, ':');
	size_t n = colon ? (size_t)(colon - field) : 0;

	if (!header_name_valid(field, n))
		return error_set(err, ERROR_USAGE,
		                 "invalid header field \"%s\": expected "
		                 "\"Name: value\"",
		                 field);
	if (extra_in(field, mime_structure, NELEM(mime_structure)))
		return error_set(err, ERROR_USAGE,
		                 "-H cannot set %.*s: mailpost writes the MIME "
		                 "structure itself; use --html, -a and "
		                 "--attach-type for the content",
		                 (int)n, field);
	if (extra_in(field, recipient_fields, NELEM(recipient_fields)))
		return error_set(err, ERROR_USAGE,
		                 "-H cannot set %.*s: give recipients as "
		                 "arguments, with -c (Cc) or -b (Bcc), so that "
		                 "the envelope matches the header",
		                 (int)n, field);
	*len = n;
	return 0;
}

/* Every -H field well formed, allowed, and a single-instance one given
 * once: checked before any file is opened. */
static int
check_extras(const struct mime_request *req, struct error *err)
{
	for (size_t i = 0; i < req->nextra; i++) {
		const char *f = req->extra[i];
		size_t n;

		if (extra_name(f, &n, err) < 0)
			return -1;
		for (size_t k = 0; k < NELEM(single_fields); k++) {
			if (!extra_is(f, single_fields[k]))
				continue;
			for (size_t j = 0; j < i; j++)
				if (extra_is(req->extra[j], single_fields[k]))
					return error_set(
					    err, ERROR_USAGE,
					    "-H gives the %s field twice; "
					    "a message has it at most once",
					    single_fields[k]);
		}
	}
	return 0;
}

/* Fields whose value is a list of mailboxes (RFC 5322 3.6.2, 3.6.6;
 * RFC 8098 2.1; the common Mail-Followup-To and Mail-Reply-To). */
static const char *const mailbox_fields[] = {
    "From",          "Sender",
    "Reply-To",      "Resent-From",
    "Resent-Sender", "Mail-Followup-To",
    "Mail-Reply-To", "Disposition-Notification-To"};

/* A mailbox field from -H with UTF-8 in it: encoded as unstructured text,
 * the angle address and any quotes would vanish into one encoded word
 * (RFC 2047 5(3): not allowed in an addr-spec or quoted-string).  Parsed
 * as the command line's lists are instead, each display name in encoded
 * words and each domain in A-labels (address_header_form). */
static int
encode_mailbox_list(struct buf *v, const char *value, size_t col,
                    struct error *err)
{
	struct address_entries list;
	struct strlist addrs, names;
	int rc;

	address_entries_init(&list);
	strlist_init(&addrs);
	strlist_init(&names);
	rc = address_parse_input(value, ERROR_USAGE, &list, err);
	for (size_t i = 0; rc == 0 && i < list.n; i++) {
		char *h = NULL;

		rc = address_header_form(list.v[i].addr, &h, err);
		if (rc == 0) {
			strlist_add(&addrs, h);
			strlist_add(&names,
			            list.v[i].name ? list.v[i].name : "");
		}
		free(h);
	}
	if (rc == 0)
		rc = address_list(v, (const char *const *)addrs.v,
		                  (const char *const *)names.v, addrs.n, col,
		                  err);
	strlist_clear(&names);
	strlist_clear(&addrs);
	address_entries_clear(&list);
	return rc;
}

/* Add a -H field, its value encoded (which refuses CR, LF and other
 * controls: no injection).  An ASCII value is kept as given. */
static int
add_extra(struct fields *fs, const char *field, struct error *err)
{
	const char *colon = strchr(field, ':');
	const char *value = colon + 1;
	size_t n = (size_t)(colon - field);
	char *name;
	int rc = -1;

	while (*value == ' ' || *value == '\t')
		value++;
	name = xstrndup(field, n);
	buf_reset(&fs->v);
	if (!str_is_ascii(value) &&
	    extra_in(field, mailbox_fields, NELEM(mailbox_fields)))
		rc = encode_mailbox_list(&fs->v, value, n + 2, err);
	else
		rc = encode_header_text(&fs->v, value, n + 2, err);
	if (rc == 0)
		rc = add_field(&fs->m->h, name, &fs->v, err);
	free(name);
	return rc;
}

/* Write a generated field built in fs->v, or in its place the -H field of
 * the same name; with -t, replacing the message's own. */
static int
set_field(struct fields *fs, const char *name, struct error *err)
{
	const struct mime_request *req = fs->req;

	if (req->keep_headers)
		header_remove(&fs->m->h, name);
	for (size_t i = 0; i < req->nextra; i++) {
		if (!extra_is(req->extra[i], name))
			continue;
		fs->used[i] = true;
		return add_extra(fs, req->extra[i], err);
	}
	return add_field(&fs->m->h, name, &fs->v, err);
}

static int
address_fields(struct fields *fs, struct error *err)
{
	const struct mime_request *req = fs->req;
	struct buf *v = &fs->v;

	if (req->from) {
		buf_reset(v);
		if (check_header_address(req->from, err) < 0 ||
		    encode_mailbox(v, req->from_name, req->from, 6, err) < 0 ||
		    set_field(fs, "From", err) < 0)
			return -1;
	}
	if (req->nreply_to > 0) {
		buf_reset(v);
		if (address_list(v, req->reply_to, req->reply_to_names,
		                 req->nreply_to, 10, err) < 0 ||
		    set_field(fs, "Reply-To", err) < 0)
			return -1;
	}
	if (req->nto > 0 || req->to_group) {
		buf_reset(v);
		if (address_list_group(v, req->to, req->to_names, req->nto,
		                       req->to_group, 4, err) < 0 ||
		    set_field(fs, "To", err) < 0)
			return -1;
	}
	if (req->ncc > 0 || req->cc_group) {
		buf_reset(v);
		if (address_list_group(v, req->cc, req->cc_names, req->ncc,
		                       req->cc_group, 4, err) < 0 ||
		    set_field(fs, "Cc", err) < 0)
			return -1;
	}
	return 0;
}

static int
priority_fields(struct fields *fs, struct error *err)
{
	static const char *const xprio[] = {"", "1 (Highest)", "3 (Normal)",
	                                    "5 (Lowest)"};
	static const char *const importance[] = {"", "high", "normal", "low"};
	int prio = (int)fs->req->priority;

	if (prio <= MIME_PRIORITY_NONE || prio > MIME_PRIORITY_LOW)
		return 0;
	buf_reset(&fs->v);
	buf_append_str(&fs->v, xprio[prio]);
	if (set_field(fs, "X-Priority", err) < 0)
		return -1;
	buf_reset(&fs->v);
	buf_append_str(&fs->v, importance[prio]);
	return set_field(fs, "Importance", err);
}

/* Subject and priority, then the -H fields that did not take the place
 * of a generated one, in the order given.  With -t a -H field replaces
 * the message's fields of that name (two -H fields of a name that may
 * repeat are both kept). */
static int
text_fields(struct fields *fs, struct error *err)
{
	const struct mime_request *req = fs->req;

	if (req->subject) {
		buf_reset(&fs->v);
		if (encode_header_text(&fs->v, req->subject, 9, err) < 0 ||
		    set_field(fs, "Subject", err) < 0)
			return -1;
	}
	if (priority_fields(fs, err) < 0)
		return -1;
	for (size_t i = 0; i < req->nextra; i++)
		if (!fs->used[i] && add_extra(fs, req->extra[i], err) < 0)
			return -1;
	return 0;
}

static bool
is_mime_field(const struct header_field *f)
{
	return header_has_prefix(f, "Content-") || header_is(f, "MIME-Version");
}

/* -t: the message's own fields are kept, except the MIME ones, which
 * describe its body and so move into the first part (body; NULL when
 * the body is empty and the HTML stands alone: they describe nothing).
 * Returns 1 when the message was already MIME (its body is then passed
 * through), -1 with header_fold_long's error for a line that cannot be
 * folded. */
static int
keep_source_fields(struct mime_message *m, struct source *s, struct part *body,
                   struct error *err)
{
	const struct header_block *src = source_headers(s);
	struct header_walk w;
	const struct header_field *f;
	int mime = 0;

	header_walk_init(&w);
	while ((f = header_walk_next(src, &w, NULL)) != NULL) {
		size_t n;
		const char *raw = header_raw(f, &n);

		if (!is_mime_field(f)) {
			if (header_push_fields(&m->h, raw, n, err) < 0)
				return -1;
			continue;
		}
		mime = 1;
		if (header_is(f, "MIME-Version") || !body)
			continue;
		if (buf_append(&body->head, raw, n) < 0)
			return oom(err);
	}
	/* RFC 5322 2.1.1: a kept line over 998 octets is folded (or
	 * written as RFC 2047 words), as source.c does in sendmail mode. */
	if (header_fold_long(&m->h, err) < 0)
		return -1;
	return mime;
}

/* Remove the fields named as the -H field `field` is. */
static void
remove_named(struct header_block *h, const char *field)
{
	char *name = xstrndup(field, strcspn(field, ":"));

	header_remove(h, name);
	free(name);
}

static int
build_headers(struct mime_message *m, const struct mime_request *req,
              struct error *err)
{
	struct fields fs = {.m = m, .req = req};
	int rc = 0;

	if (req->keep_headers && req->body_source) {
		rc = keep_source_fields(m, req->body_source,
		                        m->html_alone ? NULL : &m->parts[0],
		                        err);
		if (rc < 0)
			return -1;
		if (rc == 1 && !m->html_alone)
			m->parts[0].enc = ENC_RAW;
		/* -t: a -H field replaces the message's fields of its name. */
		for (size_t i = 0; i < req->nextra; i++)
			remove_named(&m->h, req->extra[i]);
	}
	fs.used = xcalloc(req->nextra + 1, sizeof *fs.used);
	buf_init(&fs.v, HEADER_BLOCK_MAX);
	rc = address_fields(&fs, err);
	if (rc == 0)
		rc = text_fields(&fs, err);
	buf_clear(&fs.v);
	free(fs.used);
	return rc;
}

/* MIME-Version and the Content-* fields of the whole message. */
static int
root_fields(struct mime_message *m, struct error *err)
{
	struct buf f;
	int rc;

	buf_init(&f, 2 * HEADER_BLOCK_MAX);
	buf_append_str(&f, "MIME-Version: 1.0\r\n");
	if (nattachments(m) > 0)
		buf_printf(&f,
		           "Content-Type: multipart/mixed;\r\n"
		           " boundary=\"%s\"\r\n",
		           m->bmix);
	else if (m->html)
		buf_printf(&f,
		           "Content-Type: multipart/alternative;\r\n"
		           " boundary=\"%s\"\r\n",
		           m->balt);
	else if (buf_append(&f, m->parts[0].head.data, m->parts[0].head.len) <
	         0)
		buf_clear(&f);
	if (f.len == 0)
		rc = oom(err);
	else
		rc = header_push_fields(&m->h, f.data, f.len, err);
	buf_clear(&f);
	return rc;
}

/* --- the body as segments ----------------------------------------------- */

static void
seg_push(struct mime_message *m, char *mem, size_t len, struct part *p)
{
	if (m->nsegs == m->segcap) {
		m->segcap = m->segcap ? 2 * m->segcap : 16;
		m->segs = xrealloc(m->segs, m->segcap * sizeof *m->segs);
	}
	m->segs[m->nsegs].mem = mem;
	m->segs[m->nsegs].len = len;
	m->segs[m->nsegs].part = p;
	m->nsegs++;
}

static void
seg_flush(struct mime_message *m)
{
	if (m->pending.len == 0)
		return;
	seg_push(m, xstrndup(m->pending.data, m->pending.len), m->pending.len,
	         NULL);
	buf_reset(&m->pending);
}

static int
mem(struct mime_message *m, const char *text, size_t len)
{
	return buf_append(&m->pending, text, len);
}

/* Part headers, the empty line, the content. */
static int
leaf(struct mime_message *m, struct part *p)
{
	if (mem(m, p->head.data, p->head.len) < 0 || mem(m, "\r\n", 2) < 0)
		return -1;
	seg_flush(m);
	seg_push(m, NULL, 0, p);
	return 0;
}

/* RFC 2046 5.1.1: the CRLF before "--boundary" belongs to the delimiter,
 * so every part's content ends where its own bytes end. */
static int
delimiter(struct mime_message *m, const char *b, bool first, bool close)
{
	return buf_printf(&m->pending, "%s--%s%s\r\n", first ? "" : "\r\n", b,
	                  close ? "--" : "");
}

static int
alternative(struct mime_message *m)
{
	if (delimiter(m, m->balt, true, false) < 0 ||
	    leaf(m, &m->parts[0]) < 0 ||
	    delimiter(m, m->balt, false, false) < 0 || leaf(m, m->html) < 0)
		return -1;
	return delimiter(m, m->balt, false, true);
}

static int
mixed(struct mime_message *m)
{
	if (delimiter(m, m->bmix, true, false) < 0)
		return -1;
	if (m->html) {
		if (buf_printf(&m->pending,
		               "Content-Type: multipart/alternative;\r\n"
		               " boundary=\"%s\"\r\n\r\n",
		               m->balt) < 0 ||
		    alternative(m) < 0)
			return -1;
	} else if (leaf(m, &m->parts[0]) < 0) {
		return -1;
	}
	for (size_t i = m->first_attachment; i < m->nparts; i++)
		if (delimiter(m, m->bmix, false, false) < 0 ||
		    leaf(m, &m->parts[i]) < 0)
			return -1;
	return delimiter(m, m->bmix, false, true);
}

static int
build_segments(struct mime_message *m, struct error *err)
{
	int rc;

	if (nattachments(m) > 0) {
		rc = mixed(m);
	} else if (m->html) {
		rc = alternative(m);
	} else {
		/* A single part: its Content-* fields are the message's. */
		seg_push(m, NULL, 0, &m->parts[0]);
		rc = 0;
	}
	if (rc < 0)
		return oom(err);
	seg_flush(m);
	return 0;
}

/* --- compose ------------------------------------------------------------ */

/* A spooled attachment without --attach-name: "attachment", with the
 * extension of its type when it has a common one ("attachment.csv"). */
static void
default_name(struct part *p)
{
	const char *ext = filetype_extension(p->type);

	if (p->name)
		return;
	snprintf(p->auto_name, sizeof p->auto_name, "attachment%s%s",
	         ext ? "." : "", ext ? ext : "");
	p->name = p->auto_name;
}

static int
compose(struct mime_message *m, const struct mime_request *req,
        struct error *err)
{
	int rc = check_extras(req, err);

	if (rc == 0)
		rc = setup_parts(m, req, err);
	if (rc == 0 && build_headers(m, req, err) == 0)
		rc = measure_all(m, err);
	else
		rc = -1;
	/* The magic database is large: let it go before the streaming
	 * (filetype_guess already does; this is for any other path). */
	filetype_cleanup();
	if (rc < 0)
		return -1;
	for (size_t i = m->first_attachment; i < m->nparts; i++)
		default_name(&m->parts[i]);
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].enc != ENC_RAW &&
		    part_head(&m->parts[i], err) < 0)
			return -1;
	if (root_fields(m, err) < 0)
		return -1;
	return build_segments(m, err);
}

int
mime_compose(struct mime_message **out, const struct mime_request *req,
             struct error *err)
{
	struct mime_message *m = xcalloc(1, sizeof *m);

	header_init(&m->h);
	buf_init(&m->pending, 4 * HEADER_BLOCK_MAX);
	buf_init(&m->head, HEADER_BLOCK_MAX + 2);
	m->cur.fd = -1;
	m->in = xmalloc(BLOCK_SIZE);
	m->out = xmalloc(OUT_SIZE);
	if (compose(m, req, err) < 0) {
		mime_free(m);
		*out = NULL;
		return -1;
	}
	*out = m;
	return 0;
}

void
mime_free(struct mime_message *m)
{
	if (!m)
		return;
	input_close(&m->cur);
	header_clear(&m->h);
	for (size_t i = 0; i < m->nparts; i++)
		part_release(&m->parts[i]);
	free(m->parts);
	for (size_t i = 0; i < m->nsegs; i++)
		free(m->segs[i].mem);
	free(m->segs);
	buf_clear(&m->pending);
	buf_clear(&m->head);
	free(m->in);
	free(m->out);
	free(m);
}

int
mime_priority_value(enum mime_priority p)
{
	return p == MIME_PRIORITY_HIGH ? 4 : p == MIME_PRIORITY_LOW ? -4 : 0;
}

bool
mime_sets_field(const struct mime_request *req, const char *name)
{
	for (size_t i = 0; i < req->nextra; i++)
		if (extra_is(req->extra[i], name))
			return true;
	return false;
}

bool
mime_has_8bit(const struct mime_message *m)
{
	return m->has_8bit;
}

struct header_block *
mime_headers(struct mime_message *m)
{
	return &m->h;
}

uint64_t
mime_size(const struct mime_message *m)
{
	uint64_t n = (uint64_t)header_size(&m->h) + 2;

	for (size_t i = 0; i < m->nsegs; i++)
		n += m->segs[i].part ? m->segs[i].part->out_size
		                     : m->segs[i].len;
	return n;
}

/* --- reading ------------------------------------------------------------ */

static size_t
encode_block(struct cursor *c, const char *in, size_t n, char *out)
{
	switch (c->p->enc) {
	case ENC_7BIT:
		return crlf_push(&c->norm, in, n, out);
	case ENC_QP:
		return qp_push(&c->qp, in, n, out);
	case ENC_B64:
		return b64_push(&c->b64, in, n, out);
	default:
		memcpy(out, in, n);
		return n;
	}
}

/* The end of a 7bit text: what crlf_finish holds back, but in a part
 * that a boundary follows not the CRLF it adds to a last line without one
 * (RFC 2046 5.1.1: the CRLF before a boundary is the delimiter's), so
 * the text comes back as it was.  A body alone ends with CRLF, as a
 * message does. */
static size_t
seven_bit_finish(struct crlf_norm *norm, bool delimited, char *out)
{
	bool open_line = !norm->at_line_start;
	size_t n = crlf_finish(norm, out);

	return delimited && open_line && n >= 2 ? n - 2 : n;
}

/* The end of a quoted-printable text: no hard break the text did not
 * have, except in a body alone, which ends with CRLF as a message does. */
static size_t
qp_end(struct qp_encoder *qp, bool delimited, char *out)
{
	size_t n = qp_finish(qp, out);

	if (!delimited && qp->col > 0) {
		memcpy(out + n, "\r\n", 2);
		n += 2;
	}
	qp->col = 0;
	return n;
}

static size_t
encode_finish(struct cursor *c, char *out)
{
	switch (c->p->enc) {
	case ENC_7BIT:
		return seven_bit_finish(&c->norm, c->p->delimited, out);
	case ENC_QP:
		return qp_end(&c->qp, c->p->delimited, out);
	case ENC_B64:
		return b64_finish(&c->b64, out);
	default:
		return 0;
	}
}

/* The next block of the current part's encoded content into m->out. */
static int
fill(struct mime_message *m, struct error *err)
{
	struct cursor *c = &m->cur;
	ssize_t got = input_read(c, m->in, BLOCK_SIZE, err);

	if (got < 0)
		return -1;
	if (got > 0) {
		c->olen = encode_block(c, m->in, (size_t)got, m->out);
	} else {
		c->olen = encode_finish(c, m->out);
		c->finished = true;
	}
	c->opos = 0;
	c->produced += c->olen;
	/* What we promised in SIZE= is what we send, or nothing. */
	if (c->produced > c->p->out_size ||
	    (c->finished && c->produced != c->p->out_size))
		return changed(c->p, err);
	return 0;
}

static int
cursor_start(struct mime_message *m, struct part *p, struct error *err)
{
	struct cursor *c = &m->cur;

	if (input_open(c, p, err) < 0)
		return -1;
	crlf_init(&c->norm, false);
	qp_init(&c->qp);
	b64_init(&c->b64);
	return 0;
}

/* Content bytes of part p; 0 at its end. */
static ssize_t
content_read(struct mime_message *m, struct part *p, char *buf, size_t n,
             struct error *err)
{
	struct cursor *c = &m->cur;
	size_t k;

	if (!c->open && cursor_start(m, p, err) < 0)
		return -1;
	while (c->opos == c->olen) {
		if (c->finished) {
			input_close(c);
			memset(c, 0, sizeof *c);
			c->fd = -1;
			return 0;
		}
		if (fill(m, err) < 0)
			return -1;
	}
	k = c->olen - c->opos;
	if (k > n)
		k = n;
	memcpy(buf, m->out + c->opos, k);
	c->opos += k;
	return (ssize_t)k;
}

static int
render_head(struct mime_message *m, struct error *err)
{
	buf_reset(&m->head);
	if (header_render(&m->h, &m->head) < 0 ||
	    buf_append(&m->head, "\r\n", 2) < 0)
		return oom(err);
	m->started = true;
	return 0;
}

static size_t
copy_mem(char *dst, size_t n, const char *src, size_t len, size_t *pos)
{
	size_t k = len - *pos < n ? len - *pos : n;

	memcpy(dst, src + *pos, k);
	*pos += k;
	return k;
}

/* Some bytes from the current position: header, memory, or content. */
static ssize_t
next_bytes(struct mime_message *m, char *buf, size_t n, struct error *err)
{
	size_t hpos = (size_t)m->head_pos;

	if (hpos < m->head.len) {
		size_t k = copy_mem(buf, n, m->head.data, m->head.len, &hpos);

		m->head_pos = hpos;
		return (ssize_t)k;
	}
	while (m->seg < m->nsegs) {
		struct seg *s = &m->segs[m->seg];

		if (!s->part && m->seg_pos < s->len)
			return (ssize_t)copy_mem(buf, n, s->mem, s->len,
			                         &m->seg_pos);
		if (s->part) {
			ssize_t got = content_read(m, s->part, buf, n, err);

			if (got != 0)
				return got;
		}
		m->seg++;
		m->seg_pos = 0;
	}
	return 0;
}

ssize_t
mime_read(struct mime_message *m, char *buf, size_t n, struct error *err)
{
	size_t done = 0;

	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	if (!m->started && render_head(m, err) < 0)
		return -1;
	while (done < n) {
		ssize_t got = next_bytes(m, buf + done, n - done, err);

		if (got < 0)
			return -1;
		if (got == 0)
			break;
		done += (size_t)got;
	}
	return (ssize_t)done;
}

int
mime_rewind(struct mime_message *m, struct error *err)
{
	(void)err;
	input_close(&m->cur);
	memset(&m->cur, 0, sizeof m->cur);
	m->cur.fd = -1;
	m->started = false;
	m->head_pos = 0;
	m->seg = 0;
	m->seg_pos = 0;
	return 0;
}
