/*
 * serve.c - sendmail's -bs mode: an SMTP server (RFC 5321) on standard
 * input and output, for local programs that submit mail by talking SMTP to
 * /usr/sbin/sendmail (see serve.h).
 *
 * The session is one loop: read a command line, answer it.  Input is read
 * in 64 KiB blocks into one buffer, so a pipelining client (RFC 2920) may
 * send MAIL, RCPT, DATA and even the message in one packet.  Replies are
 * collected and written only when the server is about to block: before a
 * read, and before a delivery (which may take as long as a network
 * session).  So a turnaround costs one write, and the client always has
 * every reply it can expect before the server waits for it.
 *
 * The data of a message goes, dot-unstuffed, through a 64 KiB buffer to
 * an unlinked temporary file; nothing in memory grows with its size.
 *
 * Decisions the header leaves to this file:
 * - Every reply but 220 and 354 carries an enhanced status code
 *   (RFC 3463, RFC 2034: not on 3xx), after HELO as well as after EHLO.
 *   A deliver answer without one gets X.0.0; one of the wrong class is
 *   corrected.
 * - 20 protocol errors in a row (replies 500, 501, 502, 503, 504, 555:
 *   the client does not speak SMTP, not a refused address or size) end
 *   the session with "421 4.7.0": -1 with ERROR_PROTOCOL.
 * - The replies before a delivery are flushed first; when that write
 *   fails the client cannot learn the outcome, so the message is not
 *   delivered and the result is -1 with ERROR_IOERR.
 * - A failure to create or write the data file is answered 451 4.3.0
 *   (after the final dot when the data had started) and ends the session
 *   with -1 and ERROR_IOERR, as serve.h says.
 * - The idle timeout is counted per command line and per read of data;
 *   it also bounds waiting for a non-blocking output to take replies.
 * - the envelope's NOTIFY is that of the first accepted RCPT; a refused
 *   RCPT does not count.
 */
#include "config.h"

#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "encode.h"
#include "fdwait.h"
#include "interrupt.h"
#include "util.h"

/* RFC 5321 4.5.3.1.4 allows 512 octets a command line with its CRLF; some
 * clients send longer ones (long parameters), so we accept up to this. */
#define SERVE_CMD_LINE_MAX 2048
/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with its CRLF. */
#define SERVE_REPLY_MAX 512
/* RFC 5321 4.5.3.1.6 says 1000 octets a text line; we carry longer ones,
 * up to this many octets with the line ending. */
#define SERVE_DATA_LINE_MAX (1024 * 1024)
/* RFC 5321 4.5.3.1.8 asks for at least 100; more are refused with 452. */
#define SERVE_RCPTS_MAX 1000
/* Protocol errors in a row before the session is ended. */
#define SERVE_ERRORS_MAX 20
/* RFC 3461 4.4: an ENVID is at most 100 characters (decoded here). */
#define SERVE_ENVID_MAX 100
/* RFC 3461 4.2: an ORCPT value is at most 500 characters. */
#define SERVE_ORCPT_MAX 500
/* The name in the greeting: a DNS name is at most 255 octets. */
#define SERVE_HOST_MAX 256

#define SERVE_RBUF_SIZE (64 * 1024)
#define SERVE_WBUF_SIZE (16 * 1024)
#define SERVE_DBUF_SIZE (64 * 1024)
/* A piece of data never spans more than the input buffer, so it always
 * fits in an emptied data buffer. */
_Static_assert(SERVE_DBUF_SIZE >= SERVE_RBUF_SIZE, "data buffer too small");

/* The data of the message in progress: an unlinked file and its buffer. */
struct sink {
	int fd;
	uint64_t total;  /* octets of data so far, unstuffed */
	size_t line_len; /* octets of the current line so far */
	bool too_big;    /* past size_max: stop writing, answer 552 */
	bool line_long;  /* a line past SERVE_DATA_LINE_MAX: the same */
	bool has_nul;    /* a NUL octet: answer 554 (see deliver) */
	int write_errno; /* the first failed write to the file */
	size_t len;      /* octets in buf */
	char buf[SERVE_DBUF_SIZE];
};

struct server {
	int in_fd, out_fd;
	const struct serve_options *o;
	char host[SERVE_HOST_MAX];
	bool greeted;    /* EHLO or HELO seen */
	unsigned errors; /* protocol errors in a row */
	bool bare_lf;    /* the current command ended in a bare LF */
	int write_errno; /* sticky: the first failed write to the client */

	/* The transaction (RFC 5321 3.3), between MAIL and the final dot. */
	bool in_mail;
	struct envelope env; /* sender, recipients, DSN */
	bool body_8bit, smtputf8;

	size_t rstart, rend; /* unread input is rbuf[rstart..rend) */
	size_t wlen;         /* replies waiting in wbuf */
	char rbuf[SERVE_RBUF_SIZE];
	char wbuf[SERVE_WBUF_SIZE];
	struct sink sink;
};

/* --- output ----------------------------------------------------------- */

static int64_t
deadline(const struct server *s)
{
	if (s->o->idle_timeout_ms <= 0)
		return INT64_MAX;
	return now_ms() + s->o->idle_timeout_ms;
}

/* Write the collected replies.  A failure is kept (write_errno) for the
 * session loop to report; later replies are dropped. */
static void
flush(struct server *s)
{
	size_t off = 0;

	while (off < s->wlen && !s->write_errno) {
		ssize_t n = write(s->out_fd, s->wbuf + off, s->wlen - off);

		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = fd_wait(s->out_fd, POLLOUT, deadline(s));

			if (rc <= 0)
				s->write_errno = rc == 0 ? ETIMEDOUT : errno;
		} else {
			s->write_errno = n < 0 ? errno : EIO;
		}
	}
	s->wlen = 0;
}

/* RFC 5321 4.2.3: the replies that say the client broke the protocol. */
static bool
is_protocol_error(const char *line)
{
	static const char *const codes[] = {"500", "501", "502",
	                                    "503", "504", "555"};

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (strncmp(line, codes[i], 3) == 0)
			return true;
	return false;
}

static void reply(struct server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Queue one reply line (the CRLF is added). */
static void
reply(struct server *s, const char *fmt, ...)
{
	char line[SERVE_REPLY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof line - 3)
		n = (int)(sizeof line - 3);
	/* An echoed address or a callback's text: printable ASCII only. */
	str_censor(line, (size_t)n);
	if (is_protocol_error(line))
		s->errors++;
	else
		s->errors = 0;
	line[n++] = '\r';
	line[n++] = '\n';
	if (s->wlen + (size_t)n > sizeof s->wbuf)
		flush(s);
	memcpy(s->wbuf + s->wlen, line, (size_t)n);
	s->wlen += (size_t)n;
}

static int
write_failed(const struct server *s, struct error *err)
{
	return error_set_errno(err, ERROR_IOERR, s->write_errno,
	                       "cannot write to the SMTP client");
}

/* --- input ------------------------------------------------------------ */

enum input { INPUT_OK, INPUT_EOF, INPUT_FAIL };

static enum input
timed_out(struct server *s, struct error *err)
{
	reply(s, "421 4.4.2 %s Timeout", s->host);
	flush(s);
	error_set(err, ERROR_TEMPFAIL,
	          "the SMTP client sent nothing for %d ms; session ended",
	          s->o->idle_timeout_ms);
	return INPUT_FAIL;
}

/* Read more input after what is buffered.  The replies go out first: the
 * client may be waiting for them before it sends more. */
static enum input
fill(struct server *s, int64_t until, struct error *err)
{
	flush(s);
	if (s->write_errno) {
		write_failed(s, err);
		return INPUT_FAIL;
	}
	if (s->rstart > 0) {
		memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
		s->rend -= s->rstart;
		s->rstart = 0;
	}
	if (s->rend == sizeof s->rbuf) {
		error_set(err, ERROR_SOFTWARE, "serve: input buffer full");
		return INPUT_FAIL;
	}
	for (;;) {
		int rc = fd_wait(s->in_fd, POLLIN, until);
		ssize_t n;

		if (rc == 0)
			return timed_out(s, err);
		if (rc < 0 && interrupt_cuts()) {
			/* SIGTERM and friends (interrupt.h): what was
			 * answered 250 is delivered or queued; say goodbye. */
			reply(s, "421 4.3.2 %s Shutting down", s->host);
			flush(s);
			interrupt_error(err);
			return INPUT_FAIL;
		}
		if (rc < 0) {
			error_set_errno(err, ERROR_IOERR, errno,
			                "cannot wait for the SMTP client");
			return INPUT_FAIL;
		}
		n = read(s->in_fd, s->rbuf + s->rend, sizeof s->rbuf - s->rend);
		if (n > 0) {
			s->rend += (size_t)n;
			return INPUT_OK;
		}
		if (n == 0)
			return INPUT_EOF;
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			error_set_errno(err, ERROR_IOERR, errno,
			                "cannot read from the SMTP client");
			return INPUT_FAIL;
		}
	}
}

enum line_status { LINE_OK, LINE_TOO_LONG, LINE_EOF, LINE_FAIL };

/* The next command line, with its line ending, into line (at least
 * SERVE_CMD_LINE_MAX + 1 bytes, NUL-terminated); *len its length.  A line
 * that is too long is consumed to its end.  A last line without a line
 * ending is not a command: LINE_EOF. */
static enum line_status
next_line(struct server *s, char *line, size_t *len, struct error *err)
{
	int64_t until = deadline(s);
	bool discarding = false;

	for (;;) {
		const char *p = s->rbuf + s->rstart;
		size_t n = s->rend - s->rstart;
		const char *lf = memchr(p, '\n', n);
		enum input in;

		if (lf) {
			size_t l = (size_t)(lf - p) + 1;

			s->rstart += l;
			if (discarding || l > SERVE_CMD_LINE_MAX)
				return LINE_TOO_LONG;
			memcpy(line, p, l);
			line[l] = '\0';
			*len = l;
			return LINE_OK;
		}
		if (discarding || n >= SERVE_CMD_LINE_MAX) {
			discarding = true;
			s->rstart = s->rend;
		}
		in = fill(s, until, err);
		if (in == INPUT_EOF)
			return LINE_EOF;
		if (in == INPUT_FAIL)
			return LINE_FAIL;
	}
}

/* --- the transaction -------------------------------------------------- */

static void
reset_transaction(struct server *s)
{
	s->in_mail = false;
	envelope_clear(&s->env);
	s->body_8bit = false;
	s->smtputf8 = false;
}

/* --- syntax of MAIL and RCPT ------------------------------------------- */

static char *
skip_spaces(char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* RFC 5321 4.1.2: "<" [ A-d-l ":" ] Mailbox ">" at p.  On success *addr
 * points at the mailbox (source route dropped, RFC 5321 C), NUL-terminated
 * in place, and *rest after the '>'.  A space outside a quoted string, a
 * missing bracket or anything but a space after the '>' is a syntax error
 * (-1). */
static int
parse_path(char *p, char **addr, char **rest)
{
	bool quoted = false;
	char *q;

	if (*p != '<')
		return -1;
	for (q = p + 1; *q; q++) {
		if (quoted) {
			if (*q == '\\' && q[1] != '\0')
				q++;
			else if (*q == '"')
				quoted = false;
		} else if (*q == '"') {
			quoted = true;
		} else if (*q == '>') {
			break;
		} else if (*q == ' ' || *q == '\t' || *q == '<') {
			return -1;
		}
	}
	if (*q != '>' || (q[1] != '\0' && q[1] != ' '))
		return -1;
	*q = '\0';
	*rest = q + 1;
	p++;
	if (*p == '@') {
		char *colon = strchr(p, ':');

		if (!colon)
			return -1;
		p = colon + 1;
	}
	*addr = p;
	return 0;
}

/* The next parameter "KEY[=VALUE]" after *p, split in place; *value is
 * NULL without '='.  False at the end of the line. */
static bool
next_param(char **p, char **key, char **value)
{
	char *q = skip_spaces(*p);
	char *eq;

	if (*q == '\0')
		return false;
	*key = q;
	while (*q && *q != ' ')
		q++;
	if (*q)
		*q++ = '\0';
	*p = q;
	eq = strchr(*key, '=');
	*value = NULL;
	if (eq) {
		*eq = '\0';
		*value = eq + 1;
	}
	return true;
}

/* RFC 5321 4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"),
 * esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 too under RFC 6531 3.3. */
static bool
param_syntax_ok(const char *key, const char *value)
{
	if (!((key[0] >= 'A' && key[0] <= 'Z') ||
	      (key[0] >= 'a' && key[0] <= 'z') ||
	      (key[0] >= '0' && key[0] <= '9')))
		return false;
	for (const char *k = key; *k; k++)
		if (!((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') ||
		      (*k >= '0' && *k <= '9') || *k == '-'))
			return false;
	if (!value)
		return true;
	if (*value == '\0')
		return false;
	for (const unsigned char *v = (const unsigned char *)value; *v; v++)
		if (*v <= ' ' || *v == '=' || *v == 0x7f)
			return false;
	return true;
}

static bool
hex_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* RFC 3461 4: xtext = *( xchar / "+" 2HEXCHAR ), xchar printable ASCII
 * but '+' and '='.  The decoded length, or -1 when it is not xtext. */
static long
xtext_len(const char *x)
{
	long n = 0;

	for (; *x; x++, n++) {
		if (*x == '+') {
			if (!hex_upper(x[1]) || !hex_upper(x[2]))
				return -1;
			x += 2;
		} else if (*x < '!' || *x > '~' || *x == '=') {
			return -1;
		}
	}
	return n;
}

/* SIZE=n (RFC 1870): digits; a number too large to hold is as good as
 * infinite. */
static int
parse_size(const char *v, unsigned long long *out)
{
	unsigned long long n = 0;

	if (!*v)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		if (n > (ULLONG_MAX - 9) / 10)
			n = ULLONG_MAX;
		else
			n = n * 10 + (unsigned)(*v - '0');
	}
	*out = n;
	return 0;
}

static int
find_name(const char *const *names, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (str_ieq(names[i], key))
			return (int)i;
	return -1;
}

#define NAMES(a) (a), sizeof(a) / sizeof((a)[0])

/* What the MAIL parameters said, before the command is accepted. */
struct mail_params {
	bool body_8bit, smtputf8;
	const char *ret, *envid;
};

enum { MP_SIZE, MP_BODY, MP_SMTPUTF8, MP_RET, MP_ENVID, MP_AUTH };
static const char *const mail_param_names[] = {"SIZE", "BODY",  "SMTPUTF8",
                                               "RET",  "ENVID", "AUTH"};

/* Check one MAIL parameter; -1 after a reply that refuses it. */
static int
mail_param(struct server *s, int which, const char *key, const char *value,
           void *ctx)
{
	struct mail_params *mp = ctx;
	unsigned long long size;

	if (which != MP_SMTPUTF8 && !value) {
		reply(s, "501 5.5.4 %s needs a value", key);
		return -1;
	}
	switch (which) {
	case MP_SIZE: /* RFC 1870 6 */
		if (parse_size(value, &size) < 0) {
			reply(s, "501 5.5.4 Bad SIZE value");
			return -1;
		}
		if (s->o->size_max > 0 && size > s->o->size_max) {
			reply(s, "552 5.3.4 Message size exceeds fixed limit");
			return -1;
		}
		return 0;
	case MP_BODY: /* RFC 6152, RFC 3030 */
		if (str_ieq(value, "7BIT") || str_ieq(value, "8BITMIME")) {
			mp->body_8bit = str_ieq(value, "8BITMIME");
			return 0;
		}
		if (str_ieq(value, "BINARYMIME"))
			reply(s, "555 5.5.4 BODY=BINARYMIME is not supported");
		else
			reply(s, "501 5.5.4 Bad BODY value");
		return -1;
	case MP_SMTPUTF8: /* RFC 6531 3.4: no value */
		if (value) {
			reply(s, "501 5.5.4 SMTPUTF8 takes no value");
			return -1;
		}
		mp->smtputf8 = true;
		return 0;
	case MP_RET: /* RFC 3461 4.3 */
		if (!str_ieq(value, "FULL") && !str_ieq(value, "HDRS")) {
			reply(s, "501 5.5.4 Bad RET value");
			return -1;
		}
		mp->ret = value;
		return 0;
	case MP_ENVID: { /* RFC 3461 4.4 */
		long n = xtext_len(value);

		if (n < 0 || n > SERVE_ENVID_MAX) {
			reply(s, "501 5.5.4 Bad ENVID value");
			return -1;
		}
		mp->envid = value;
		return 0;
	}
	default: /* MP_AUTH (RFC 4954 5): no AUTH here, nothing to keep */
		return 0;
	}
}

/* Checks one parameter of a known name (its index in the table); -1
 * after a reply that refuses it. */
typedef int (*param_fn)(struct server *s, int which, const char *key,
                        const char *value, void *ctx);

#define PARAMS_MAX 8 /* names in the longest table */

/* Every parameter after the path of MAIL or RCPT (RFC 5321 4.1.2): its
 * syntax, a name from the table, no name twice, then fn.  -1 after a
 * refusing reply. */
static int
parse_params(struct server *s, char *p, const char *const *names, size_t nnames,
             param_fn fn, void *ctx)
{
	bool seen[PARAMS_MAX] = {false};
	char *key, *value;

	while (next_param(&p, &key, &value)) {
		int which;

		if (!param_syntax_ok(key, value)) {
			reply(s, "501 5.5.4 Bad parameter syntax");
			return -1;
		}
		which = find_name(names, nnames, key);
		if (which < 0) {
			reply(s, "555 5.5.4 Unsupported parameter %.64s", key);
			return -1;
		}
		if (seen[which]) {
			reply(s, "501 5.5.4 Duplicate parameter %s", key);
			return -1;
		}
		seen[which] = true;
		if (fn(s, which, key, value, ctx) < 0)
			return -1;
	}
	return 0;
}

/* All parameters after the path of MAIL; -1 after a refusing reply. */
static int
mail_params(struct server *s, char *p, struct mail_params *mp)
{
	_Static_assert(sizeof mail_param_names / sizeof mail_param_names[0] <=
	                   PARAMS_MAX,
	               "PARAMS_MAX too small");
	return parse_params(s, p, NAMES(mail_param_names), mail_param, mp);
}

/* RFC 3461 4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY. */
static bool
notify_ok(const char *v)
{
	static const char *const words[] = {"SUCCESS", "FAILURE", "DELAY"};
	bool seen[3] = {false, false, false};
	char word[16];

	if (str_ieq(v, "NEVER"))
		return true;
	while (*v) {
		size_t n = strcspn(v, ",");
		int i;

		if (n == 0 || n >= sizeof word)
			return false;
		memcpy(word, v, n);
		word[n] = '\0';
		i = find_name(NAMES(words), word);
		if (i < 0 || seen[i])
			return false;
		seen[i] = true;
		v += n;
		if (*v == ',' && *++v == '\0')
			return false;
	}
	return true;
}

/* RFC 3461 4.2: ORCPT=addr-type ";" xtext (utf-8-addr-xtext under
 * RFC 6533): checked for form only; it is not passed on. */
static bool
orcpt_ok(const char *v)
{
	const char *semi = strchr(v, ';');

	return semi && semi > v && semi[1] != '\0' &&
	       strlen(v) <= SERVE_ORCPT_MAX;
}

enum { RP_NOTIFY, RP_ORCPT };
static const char *const rcpt_param_names[] = {"NOTIFY", "ORCPT"};

/* One RCPT parameter; NOTIFY's value is kept in *ctx. */
static int
rcpt_param(struct server *s, int which, const char *key, const char *value,
           void *ctx)
{
	const char **notify = ctx;

	(void)key;
	if (which == RP_NOTIFY && (!value || !notify_ok(value))) {
		reply(s, "501 5.5.4 Bad NOTIFY value");
		return -1;
	}
	if (which == RP_ORCPT && (!value || !orcpt_ok(value))) {
		reply(s, "501 5.5.4 Bad ORCPT value");
		return -1;
	}
	if (which == RP_NOTIFY)
		*notify = value;
	return 0;
}

/* All parameters after the path of RCPT: the NOTIFY value (or NULL) in
 * *notify; -1 after a refusing reply. */
static int
rcpt_params(struct server *s, char *p, const char **notify)
{
	*notify = NULL;
	return parse_params(s, p, NAMES(rcpt_param_names), rcpt_param,
	                    (void *)notify);
}

/* --- the data --------------------------------------------------------- */

/* An unlinked temporary file (util.h, fd_temp): nothing is left behind
 * whatever happens, and no one else can open it. */
static int
data_file(const struct serve_options *o, struct error *err)
{
	const char *dir = tmp_dir(o->tmpdir);
	int fd = fd_temp(dir);

	if (fd < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot create a data file in %s", dir);
	return fd;
}

static void
sink_flush(struct sink *k)
{
	size_t off = 0;

	while (off < k->len && !k->write_errno) {
		ssize_t n = write(k->fd, k->buf + off, k->len - off);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			k->write_errno = n < 0 ? errno : EIO;
	}
	k->len = 0;
}

/* Take n octets of data; ends_line when they end with the line's LF.
 * Once the message is known to be refused, the octets are only counted. */
static void
sink_put(struct sink *k, const char *p, size_t n, bool ends_line,
         unsigned long size_max)
{
	k->total += n;
	k->line_len += n;
	if (k->line_len > SERVE_DATA_LINE_MAX)
		k->line_long = true;
	if (size_max > 0 && k->total > size_max)
		k->too_big = true;
	if (ends_line)
		k->line_len = 0;
	if (!k->has_nul && memchr(p, '\0', n))
		k->has_nul = true;
	if (k->too_big || k->line_long || k->has_nul || k->write_errno)
		return;
	if (k->len + n > sizeof k->buf)
		sink_flush(k);
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

/* How the end of the data is recognized (RFC 5321 4.1.1.4, 4.5.2). */
struct data_end {
	bool lf_client;  /* DATA came with a bare LF: the client ends its
	                  * lines so, and its end of data too */
	bool after_crlf; /* the line before ended in CRLF (or there was none) */
	bool last_cr;    /* the last octet taken was a CR */
};

/* p[0] is '.' at the start of a line, and p holds an LF or 3 octets: is
 * the line "." alone (*skip its length with the line end)? */
static bool
is_dot_line(const char *p, size_t n, size_t *skip)
{
	if (n >= 2 && p[1] == '\n') {
		*skip = 2;
		return true;
	}
	if (n >= 3 && p[1] == '\r' && p[2] == '\n') {
		*skip = 3;
		return true;
	}
	return false;
}

/* Does the line "." (dot_len octets with its line end) end the data?
 * For a client that sent DATA with CRLF, only <CR><LF>.<CR><LF> does
 * (as Postfix's smtpd_forbid_bare_newline = normalize): a client that
 * dot-stuffs only after CRLF passes "<LF>.<LF>" from a web form's text
 * as it is, and reading it as the end would let that text start a
 * second message with an envelope of its own (SMTP smuggling,
 * CVE-2023-51764).  Such a "." line is text, re-stuffed when sent on.
 * A client that sent DATA with a bare LF ends every line so; any "."
 * line ends its data, as RFC 5321 2.3.8's tolerance had it. */
static bool
ends_data(const struct data_end *e, size_t dot_len)
{
	if (e->lf_client)
		return true;
	return e->after_crlf && dot_len == 3;
}

enum data_status { DATA_END, DATA_EOF, DATA_FAIL };

/* Read the data up to the final dot into the sink: lines are un-stuffed
 * (RFC 5321 4.5.2: a leading '.' is removed from every line but a "."
 * alone) and keep the line endings they came with. */
static enum data_status
read_data(struct server *s, bool lf_client, struct error *err)
{
	struct sink *k = &s->sink;
	struct data_end e = {lf_client, true, false};
	bool line_start = true;

	for (;;) {
		const char *p = s->rbuf + s->rstart;
		size_t n = s->rend - s->rstart;
		const char *lf;
		size_t take, skip;

		/* A '.' at the start of a line is judged once the next two
		 * octets (or its LF) are here. */
		if (n == 0 || (line_start && p[0] == '.' && n < 3 &&
		               !memchr(p, '\n', n))) {
			enum input in = fill(s, deadline(s), err);

			if (in == INPUT_EOF)
				return DATA_EOF;
			if (in == INPUT_FAIL)
				return DATA_FAIL;
			continue;
		}
		if (line_start && p[0] == '.') {
			bool dot_line = is_dot_line(p, n, &skip);

			if (dot_line && ends_data(&e, skip)) {
				s->rstart += skip;
				return DATA_END;
			}
			if (!dot_line) {
				p++;
				n--;
				s->rstart++;
			}
		}
		lf = memchr(p, '\n', n);
		take = lf ? (size_t)(lf - p) + 1 : n;
		sink_put(k, p, take, lf != NULL, s->o->size_max);
		s->rstart += take;
		line_start = lf != NULL;
		if (lf)
			e.after_crlf = lf > p ? lf[-1] == '\r' : e.last_cr;
		e.last_cr = take > 0 && p[take - 1] == '\r';
	}
}

/* --- the answer to the final dot -------------------------------------- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of an enhanced status code "c.sss.ddd" (RFC 3463 2) at t, which
 * ends at a space or the end, else 0. */
static size_t
enhanced_len(const char *t)
{
	size_t i = 1, n;

	if (!is_digit(t[0]) || t[1] != '.')
		return 0;
	for (int part = 0; part < 2; part++) {
		i++;
		for (n = 0; is_digit(t[i]) && n < 3; n++)
			i++;
		if (n == 0 || (part == 0 && t[i] != '.'))
			return 0;
	}
	return t[i] == ' ' || t[i] == '\0' ? i : 0;
}

/* Send the deliver callback's answer: it must start with a code 2xx, 4xx
 * or 5xx and a space or '-' (sent as the last line: a space); its text is
 * censored, and its enhanced code made present and of the right class. */
static void
send_answer(struct server *s, struct serve_answer *a)
{
	char *line = a->line;
	char *text;

	line[sizeof a->line - 1] = '\0';
	if (!(line[0] == '2' || line[0] == '4' || line[0] == '5') ||
	    !is_digit(line[1]) || !is_digit(line[2]) ||
	    (line[3] != ' ' && line[3] != '-')) {
		reply(s, "451 4.3.0 Local delivery failed: no valid answer");
		return;
	}
	text = line + 4;
	str_censor(text, strlen(text));
	if (enhanced_len(text) > 0) {
		text[0] = line[0];
		reply(s, "%.3s %s", line, text);
	} else {
		reply(s, "%.3s %c.0.0%s%s", line, line[0], *text ? " " : "",
		      text);
	}
}

/* --- commands --------------------------------------------------------- */

/* A command's handler: 0 go on, 1 end the session (0 from serve_run), -1
 * end it with err set. */
typedef int (*command_fn)(struct server *s, char *arg, struct error *err);

static int
cmd_ehlo(struct server *s, char *arg, struct error *err)
{
	(void)err;
	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: EHLO hostname");
		return 0;
	}
	reset_transaction(s); /* RFC 5321 4.1.4 */
	s->greeted = true;
	reply(s, "250-%s", s->host);
	reply(s, "250-PIPELINING");
	reply(s, "250-8BITMIME");
	reply(s, "250-SMTPUTF8");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-DSN");
	if (s->o->size_max > 0)
		reply(s, "250-SIZE %lu", s->o->size_max);
	else
		reply(s, "250-SIZE");
	reply(s, "250 HELP");
	return 0;
}

static int
cmd_helo(struct server *s, char *arg, struct error *err)
{
	(void)err;
	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: HELO hostname");
		return 0;
	}
	reset_transaction(s);
	s->greeted = true;
	reply(s, "250 %s", s->host);
	return 0;
}

static int
cmd_mail(struct server *s, char *arg, struct error *err)
{
	struct mail_params mp = {0};
	struct error e;
	char *addr, *rest;
	char envid[SERVE_ENVID_MAX + 1];

	(void)err;
	if (!s->greeted) {
		reply(s, "503 5.5.1 Send EHLO or HELO first");
		return 0;
	}
	if (s->in_mail) {
		reply(s, "503 5.5.1 Nested MAIL command");
		return 0;
	}
	if (!str_iprefix(arg, "FROM:") ||
	    parse_path(skip_spaces(arg + 5), &addr, &rest) < 0) {
		reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return 0;
	}
	if (address_check(addr, true, ERROR_DATA, &e) < 0) {
		reply(s, "553 5.1.7 Bad sender address: %s", e.msg);
		return 0;
	}
	if (mail_params(s, rest, &mp) < 0)
		return 0;
	if (!mp.smtputf8 && address_needs_smtputf8(addr)) {
		reply(s, "553 5.6.7 A non-ASCII address needs SMTPUTF8");
		return 0;
	}
	s->in_mail = true;
	envelope_set_sender(&s->env, addr);
	s->body_8bit = mp.body_8bit;
	s->smtputf8 = mp.smtputf8;
	/* RFC 3461 4: ENVID comes as xtext (checked: at most
	 * SERVE_ENVID_MAX once decoded); smtp.c encodes it again for the
	 * next server. */
	envelope_set_dsn(&s->env, NULL, mp.ret,
	                 mp.envid ? xtext_decode(mp.envid, envid, sizeof envid)
	                          : NULL);
	reply(s, "250 2.1.0 Ok");
	return 0;
}

static int
cmd_rcpt(struct server *s, char *arg, struct error *err)
{
	const char *notify;
	struct error e;
	char *addr, *rest;

	(void)err;
	if (!s->in_mail) {
		reply(s, "503 5.5.1 Need MAIL command");
		return 0;
	}
	if (!str_iprefix(arg, "TO:") ||
	    parse_path(skip_spaces(arg + 3), &addr, &rest) < 0) {
		reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return 0;
	}
	if (address_check(addr, false, ERROR_DATA, &e) < 0) {
		reply(s, "553 5.1.3 Bad recipient address: %s", e.msg);
		return 0;
	}
	if (rcpt_params(s, rest, &notify) < 0)
		return 0;
	if (!s->smtputf8 && address_needs_smtputf8(addr)) {
		reply(s, "553 5.6.7 A non-ASCII address needs SMTPUTF8");
		return 0;
	}
	if (s->env.nrcpts >= SERVE_RCPTS_MAX) {
		reply(s, "452 4.5.3 Too many recipients");
		return 0;
	}
	if (s->env.nrcpts == 0 && notify)
		envelope_set_dsn(&s->env, notify, s->env.dsn.ret,
		                 s->env.dsn.envid);
	envelope_add_rcpt(&s->env, addr);
	reply(s, "250 2.1.5 Ok");
	return 0;
}

/* The data has been read into an unlinked file: judge it, hand it to the
 * deliver callback, answer. */
static int
deliver(struct server *s, struct error *err)
{
	struct sink *k = &s->sink;
	struct serve_answer answer;
	struct serve_message m = {
	    .env = &s->env,
	    .fd = k->fd,
	    .body_8bit = s->body_8bit,
	    .smtputf8 = s->smtputf8,
	};

	if (k->too_big) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		return 0;
	}
	if (k->line_long) {
		reply(s, "552 5.3.4 Line too long");
		return 0;
	}
	/* Data sent with DATA holds no NUL (RFC 5321 4.1.1.4, RFC 6152 3:
	 * not with 8BITMIME either); only BDAT with BODY=BINARYMIME may
	 * carry one (RFC 3030 3), and neither is offered here: a NUL in
	 * DATA is the client's mistake, not a binary body it declared, and
	 * is not relayed as one. */
	if (k->has_nul) {
		reply(s, "554 5.6.0 The data holds NUL octets, which DATA "
		         "cannot carry (RFC 3030 3: only BDAT with "
		         "BODY=BINARYMIME, not offered here)");
		return 0;
	}
	sink_flush(k);
	if (!k->write_errno && lseek(k->fd, 0, SEEK_SET) < 0)
		k->write_errno = errno;
	if (k->write_errno) {
		reply(s, "451 4.3.0 Cannot store the message: %s",
		      strerror(k->write_errno));
		flush(s);
		return error_set_errno(err, ERROR_IOERR, k->write_errno,
		                       "cannot write the message data");
	}
	/* The client must be there to hear the outcome. */
	flush(s);
	if (s->write_errno)
		return write_failed(s, err);
	answer.line[0] = '\0';
	if (s->o->deliver)
		s->o->deliver(s->o->ctx, &m, &answer);
	send_answer(s, &answer);
	return 0;
}

static int
cmd_data(struct server *s, char *arg, struct error *err)
{
	struct sink *k = &s->sink;
	enum data_status st;
	int rc;

	if (!s->in_mail) {
		reply(s, "503 5.5.1 Need MAIL command");
		return 0;
	}
	if (s->env.nrcpts == 0) {
		reply(s, "503 5.5.1 Need RCPT command");
		return 0;
	}
	if (*arg) {
		reply(s, "501 5.5.4 Syntax: DATA");
		return 0;
	}
	k->fd = data_file(s->o, err);
	if (k->fd < 0) {
		reply(s, "451 4.3.0 Cannot store the message");
		flush(s);
		return -1;
	}
	k->total = 0;
	k->line_len = 0;
	k->too_big = k->line_long = k->has_nul = false;
	k->write_errno = 0;
	k->len = 0;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
	st = read_data(s, s->bare_lf, err);
	if (st == DATA_END)
		rc = deliver(s, err);
	else
		rc = st == DATA_EOF ? 1 : -1; /* never delivered */
	close(k->fd);
	k->fd = -1;
	reset_transaction(s);
	return rc;
}

static int
cmd_rset(struct server *s, char *arg, struct error *err)
{
	(void)err;
	if (*arg) {
		reply(s, "501 5.5.4 Syntax: RSET");
		return 0;
	}
	reset_transaction(s);
	reply(s, "250 2.0.0 Ok");
	return 0;
}

static int
cmd_noop(struct server *s, char *arg, struct error *err)
{
	(void)arg; /* RFC 5321 4.1.1.9: a parameter is allowed, ignored */
	(void)err;
	reply(s, "250 2.0.0 Ok");
	return 0;
}

static int
cmd_vrfy(struct server *s, char *arg, struct error *err)
{
	(void)err;
	if (*arg == '\0') {
		reply(s, "501 5.5.4 Syntax: VRFY address");
		return 0;
	}
	/* RFC 5321 3.5.3: no answer, but no refusal either. */
	reply(s, "252 2.5.0 Cannot VRFY user, but will accept message");
	return 0;
}

static int
cmd_help(struct server *s, char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP "
	         "VRFY EXPN HELP QUIT");
	return 0;
}

static int
cmd_quit(struct server *s, char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	reply(s, "221 2.0.0 Bye");
	return 1;
}

static int
cmd_not_implemented(struct server *s, char *arg, struct error *err)
{
	(void)arg;
	(void)err;
	reply(s, "502 5.5.1 Command not implemented");
	return 0;
}

static const struct command {
	const char *name;
	command_fn fn;
} commands[] = {
    {"EHLO", cmd_ehlo},
    {"HELO", cmd_helo},
    {"MAIL", cmd_mail},
    {"RCPT", cmd_rcpt},
    {"DATA", cmd_data},
    {"RSET", cmd_rset},
    {"NOOP", cmd_noop},
    {"VRFY", cmd_vrfy},
    {"EXPN", cmd_vrfy},
    {"HELP", cmd_help},
    {"QUIT", cmd_quit},
    /* No TLS, no AUTH, no CHUNKING, no relay turns: the peer is local. */
    {"STARTTLS", cmd_not_implemented},
    {"AUTH", cmd_not_implemented},
    {"BDAT", cmd_not_implemented},
    {"ETRN", cmd_not_implemented},
    {"TURN", cmd_not_implemented},
    {"ATRN", cmd_not_implemented},
};

/* One received line (with its line ending, NUL-terminated at len). */
static int
command(struct server *s, char *line, size_t len, struct error *err)
{
	char *arg;

	/* Strip the LF and a CR before it; any other CR, or a NUL, has no
	 * place in a command (RFC 5321 2.3.8). */
	line[--len] = '\0';
	s->bare_lf = len == 0 || line[len - 1] != '\r';
	if (!s->bare_lf)
		line[--len] = '\0';
	if (memchr(line, '\0', len) || memchr(line, '\r', len)) {
		reply(s, "500 5.5.2 Bad character in command");
		return 0;
	}
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		line[--len] = '\0';
	arg = line + strcspn(line, " ");
	if (*arg)
		*arg++ = '\0';
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (str_ieq(line, commands[i].name))
			return commands[i].fn(s, arg, err);
	reply(s, "500 5.5.2 Command not recognized");
	return 0;
}

/* --- the session ------------------------------------------------------ */

static int
session(struct server *s, struct error *err)
{
	char line[SERVE_CMD_LINE_MAX + 1];

	reply(s, "220 %s ESMTP mailpost", s->host);
	for (;;) {
		size_t len = 0;
		int rc = 0;

		switch (next_line(s, line, &len, err)) {
		case LINE_OK:
			rc = command(s, line, len, err);
			break;
		case LINE_TOO_LONG:
			reply(s, "500 5.5.2 Line too long");
			break;
		case LINE_EOF:
			rc = 1;
			break;
		case LINE_FAIL:
			rc = -1;
			break;
		}
		if (rc < 0)
			return -1;
		if (rc > 0) {
			flush(s);
			return s->write_errno ? write_failed(s, err) : 0;
		}
		if (s->errors >= SERVE_ERRORS_MAX) {
			reply(s, "421 4.7.0 %s Too many errors", s->host);
			flush(s);
			return error_set(err, ERROR_PROTOCOL,
			                 "the SMTP client made %d errors in a "
			                 "row; session ended",
			                 SERVE_ERRORS_MAX);
		}
	}
}

int
serve_run(int in_fd, int out_fd, const struct serve_options *o,
          struct error *err)
{
	struct server *s = xcalloc(1, sizeof *s);
	int rc;

	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->o = o;
	str_copy(s->host, sizeof s->host,
	         o->hostname && *o->hostname ? o->hostname : "localhost");
	str_censor(s->host, strlen(s->host));
	envelope_init(&s->env);
	s->sink.fd = -1;
	error_clear(err);
	rc = session(s, err);
	reset_transaction(s);
	free(s);
	return rc;
}
