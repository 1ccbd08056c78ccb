/*
 * redirect.c - the loopback end of an OAuth 2.0 authorization request
 * (see redirect.h).
 */
#include "config.h"

#include "redirect.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdwait.h"
#include "interrupt.h"
#include "util.h"

/* "http://127.0.0.1:65535" */
#define REDIRECT_ORIGIN_MAX 32

struct redirect_conn {
	int fd;          /* -1: the slot is free */
	uint64_t opened; /* order of arrival: the oldest goes first */
	size_t len;
	char head[REDIRECT_HEAD_MAX];
};

struct redirect {
	int fd;
	char *path;
	char *uri;
	uint64_t arrivals;
	struct redirect_conn conn[REDIRECT_CONN_MAX];
	bool paste_done; /* its end of file was read */
	bool paste_skip; /* the rest of a line too long is dropped */
	size_t paste_len;
	char paste[REDIRECT_PASTE_MAX];
};

void
redirect_result_clear(struct redirect_result *res)
{
	str_wipe_free(&res->code);
	free(res->state);
	free(res->error);
	free(res->error_description);
	memset(res, 0, sizeof *res);
}

/* --- the query (RFC 6749 4.1.2, 4.1.2.1; RFC 3986 2.1) --- */

/* Decode p[0..n) of a query: %XX escapes, '+' for a space (the form
 * encoding providers use); a NUL, a bad escape or more than
 * REDIRECT_VALUE_MAX bytes: NULL. */
static char *
decode(const char *p, size_t n)
{
	char *out;
	size_t k = 0;

	if (n > 3 * REDIRECT_VALUE_MAX)
		return NULL;
	out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)p[i];

		if (c == '%') {
			int hi = i + 2 < n ? hex_digit(p[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit(p[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				goto bad;
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == '\0' || k == REDIRECT_VALUE_MAX)
			goto bad;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return out;
bad:
	wipe(out, k);
	free(out);
	return NULL;
}

/* RFC 6749 A.5, A.11, A.7: state and code are VSCHAR, error is NQSCHAR
 * (all printable ASCII, no '"' nor '\\' in error). */
static bool
printable(const char *s, bool error)
{
	for (; *s; s++) {
		if (*s < 0x20 || *s > 0x7e)
			return false;
		if (error && (*s == '"' || *s == '\\'))
			return false;
	}
	return true;
}

/* Where the value of the parameter named name[0..n) goes, or NULL for a
 * parameter we do not use (RFC 6749 4.1.2: ignored). */
static char **
slot(struct redirect_result *out, const char *name, size_t n)
{
	static const char *const names[] = {"code", "state", "error",
	                                    "error_description"};
	char **slots[] = {&out->code, &out->state, &out->error,
	                  &out->error_description};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			return slots[i];
	return NULL;
}

/* One "name=value" of the query; 0, or -1 when it is malformed or names
 * a parameter a second time. */
static int
take_param(const char *p, size_t n, struct redirect_result *out)
{
	const char *eq = memchr(p, '=', n);
	size_t name_len = eq ? (size_t)(eq - p) : n;
	char **to = slot(out, p, name_len);
	char *value;

	if (to == NULL)
		return 0;
	if (*to != NULL)
		return -1; /* RFC 6749 3.1: no parameter twice */
	value = decode(eq ? eq + 1 : p + n, eq ? n - name_len - 1 : 0);
	if (value == NULL)
		return -1;
	*to = value;
	if (to == &out->error_description)
		return 0; /* text for a person: censored when shown */
	return printable(value, to == &out->error) ? 0 : -1;
}

/* The query q[0..n) into *out; -1 (out cleared) when it is malformed. */
static int
parse_query(const char *q, size_t n, struct redirect_result *out)
{
	while (n > 0) {
		const char *amp = memchr(q, '&', n);
		size_t len = amp ? (size_t)(amp - q) : n;

		if (take_param(q, len, out) < 0) {
			redirect_result_clear(out);
			return -1;
		}
		q += len;
		n -= len;
		if (amp) {
			q++;
			n--;
		}
	}
	return 0;
}

static bool
has_answer(const struct redirect_result *r)
{
	return r->code != NULL || r->error != NULL;
}

/* --- the request head (RFC 9112 2.1, 3) --- */

int
redirect_status(enum redirect_verdict v)
{
	switch (v) {
	case REDIRECT_NOTFOUND:
		return 404;
	case REDIRECT_METHOD:
		return 405;
	case REDIRECT_TOOBIG:
		return 431;
	case REDIRECT_EMPTY:
	case REDIRECT_BAD:
		return 400;
	case REDIRECT_MORE:
	case REDIRECT_ANSWER:
		break;
	}
	return 200;
}

/* Whether head[0..len) holds the blank line that ends the header
 * fields (CRLF CRLF, or bare LFs as RFC 9112 2.2 lets a server accept). */
static bool
head_complete(const char *head, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (head[i] != '\n')
			continue;
		if (head[i + 1] == '\n' ||
		    (head[i + 1] == '\r' && i + 2 < len && head[i + 2] == '\n'))
			return true;
	}
	return false;
}

/* The request line line[0..n): method SP target SP version. */
static enum redirect_verdict
judge_line(const char *line, size_t n, const char *path,
           struct redirect_result *out)
{
	const char *sp1 = memchr(line, ' ', n);
	const char *target, *sp2, *q;
	size_t tlen, plen;

	if (sp1 == NULL || str_has_ctl(line, n))
		return REDIRECT_BAD;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', (size_t)(line + n - target));
	if (sp2 == NULL || sp2 == target || n - (size_t)(sp2 + 1 - line) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || *target != '/')
		return REDIRECT_BAD;
	if ((size_t)(sp1 - line) != 3 || memcmp(line, "GET", 3) != 0)
		return REDIRECT_METHOD;
	tlen = (size_t)(sp2 - target);
	if (memchr(target, '#', tlen))
		return REDIRECT_BAD; /* a fragment never goes on the wire */
	q = memchr(target, '?', tlen);
	plen = q ? (size_t)(q - target) : tlen;
	if (plen != strlen(path) || memcmp(target, path, plen) != 0)
		return REDIRECT_NOTFOUND;
	if (q && parse_query(q + 1, tlen - plen - 1, out) < 0)
		return REDIRECT_BAD;
	if (!has_answer(out)) {
		redirect_result_clear(out);
		return REDIRECT_EMPTY;
	}
	return REDIRECT_ANSWER;
}

enum redirect_verdict
redirect_judge(const char *head, size_t len, const char *path,
               struct redirect_result *out)
{
	const char *nl;
	size_t n;

	memset(out, 0, sizeof *out);
	if (!head_complete(head, len))
		return len >= REDIRECT_HEAD_MAX ? REDIRECT_TOOBIG
		                                : REDIRECT_MORE;
	nl = memchr(head, '\n', len);
	n = (size_t)(nl - head);
	if (n > 0 && head[n - 1] == '\r')
		n--;
	return judge_line(head, n, path, out);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* s[0..*n) without a leading "http://" (an address bar may show the
 * address without it). */
static const char *
skip_scheme(const char *s, size_t *n)
{
	if (*n >= 7 && str_iprefix(s, "http://")) {
		*n -= 7;
		return s + 7;
	}
	return s;
}

int
redirect_judge_pasted(const char *line, size_t len, const char *uri,
                      struct redirect_result *out, struct error *err)
{
	size_t ulen = strlen(uri);
	const char *u = skip_scheme(uri, &ulen);
	const char *hash;

	memset(out, 0, sizeof *out);
	while (len > 0 && is_space(*line)) {
		line++;
		len--;
	}
	while (len > 0 && is_space(line[len - 1]))
		len--;
	line = skip_scheme(line, &len);
	if (len <= ulen || memcmp(line, u, ulen) != 0 || line[ulen] != '?') {
		error_set(err, ERROR_USAGE,
		          "that is not the address the browser ended at: it "
		          "begins with %s?",
		          uri);
		return 0;
	}
	line += ulen + 1;
	len -= ulen + 1;
	hash = memchr(line, '#', len);
	if (hash)
		len = (size_t)(hash - line);
	if (parse_query(line, len, out) < 0) {
		error_set(err, ERROR_USAGE,
		          "the pasted address's query is malformed (a "
		          "parameter twice, a bad %%-escape or a control "
		          "character)");
		return 0;
	}
	if (!has_answer(out)) {
		redirect_result_clear(out);
		error_set(err, ERROR_USAGE,
		          "the pasted address holds no answer (neither code= "
		          "nor error=)");
		return 0;
	}
	return 1;
}

/* --- the socket --- */

int
redirect_open(struct redirect **out, const char *path, struct error *err)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof a;
	struct redirect *r;
	char origin[REDIRECT_ORIGIN_MAX];
	size_t ulen;
	int fd;

	*out = NULL;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(fd, REDIRECT_CONN_MAX) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return error_set_errno(err, ERROR_OSERR, e,
		                       "cannot listen on 127.0.0.1 for the "
		                       "browser's redirect");
	}
	r = xcalloc(1, sizeof *r);
	r->fd = fd;
	for (size_t i = 0; i < REDIRECT_CONN_MAX; i++)
		r->conn[i].fd = -1;
	r->path = xstrdup(path);
	snprintf(origin, sizeof origin, "http://127.0.0.1:%u",
	         (unsigned)ntohs(a.sin_port));
	ulen = strlen(origin) + strlen(path) + 1;
	r->uri = xmalloc(ulen);
	snprintf(r->uri, ulen, "%s%s", origin, path);
	*out = r;
	return 0;
}

const char *
redirect_uri(const struct redirect *r)
{
	return r->uri;
}

static void
conn_close(struct redirect_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	wipe(c->head, c->len); /* the request line may hold the code */
	c->len = 0;
}

void
redirect_close(struct redirect *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < REDIRECT_CONN_MAX; i++)
		conn_close(&r->conn[i]);
	close(r->fd);
	wipe(r->paste, r->paste_len);
	free(r->path);
	free(r->uri);
	free(r);
}

/* The page each verdict is answered with: it says that the answer
 * arrived, never what it was (the terminal says that); no link, no
 * script, and no Referer to leak the address with its code. */
static void
answer(struct redirect_conn *c, enum redirect_verdict v)
{
	static const char ok[] =
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>mailpost</title></head><body>\n<p>mailpost has the "
	    "answer to its authorization request. You can close this page: "
	    "the terminal says whether the login worked.</p>\n"
	    "</body></html>\n";
	static const char other[] =
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
	    "<title>mailpost</title></head><body>\n<p>This is not the "
	    "answer mailpost waits for.</p>\n</body></html>\n";
	/* One literal per reason: clang's -Wstring-concatenation (the fuzz
	 * build) takes a split one in a list for a missing comma. */
	static const char *const reasons[] = {
	    "OK", "Bad Request", "Not Found", "Method Not Allowed",
	    "Request Header Fields Too Large"};
	int status = redirect_status(v);
	const char *body = status == 200 ? ok : other;
	const char *reason = status == 200   ? reasons[0]
	                     : status == 400 ? reasons[1]
	                     : status == 404 ? reasons[2]
	                     : status == 405 ? reasons[3]
	                                     : reasons[4];
	char page[1024];
	int n = snprintf(page, sizeof page,
	                 "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
	                 "charset=utf-8\r\nContent-Length: %zu\r\n"
	                 "Cache-Control: no-store\r\nReferrer-Policy: "
	                 "no-referrer\r\n%sConnection: close\r\n\r\n%s",
	                 status, reason, strlen(body),
	                 status == 405 ? "Allow: GET\r\n" : "", body);

	/* A few hundred bytes into an empty socket buffer: one write, and
	 * what a peer that does not read leaves unsent is its loss. */
	if (n > 0 && (size_t)n < sizeof page &&
	    write(c->fd, page, (size_t)n) == n)
		shutdown(c->fd, SHUT_WR);
	conn_close(c);
}

/* A new connection into a free slot, or the oldest one's. */
static void
take_connection(struct redirect *r)
{
	struct redirect_conn *slot = NULL;
	int fd = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return; /* gone before we took it, or out of descriptors */
	for (size_t i = 0; i < REDIRECT_CONN_MAX; i++) {
		struct redirect_conn *c = &r->conn[i];

		if (c->fd < 0) {
			slot = c;
			break;
		}
		if (slot == NULL || c->opened < slot->opened)
			slot = c;
	}
	conn_close(slot);
	slot->fd = fd;
	slot->opened = ++r->arrivals;
}

/* Read what a connection has; 1 with *out filled when it brought the
 * answer, else 0 (the connection read on, answered or closed). */
static int
serve_connection(struct redirect *r, struct redirect_conn *c,
                 struct redirect_result *out)
{
	ssize_t n = read(c->fd, c->head + c->len, sizeof c->head - c->len);
	enum redirect_verdict v;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(c);
		return 0;
	}
	c->len += (size_t)n;
	v = redirect_judge(c->head, c->len, r->path, out);
	if (v == REDIRECT_MORE)
		return 0;
	answer(c, v);
	return v == REDIRECT_ANSWER;
}

/* Judge the first line of r->paste (its first len bytes, then the rest
 * kept for the next call). */
static int
judge_paste_line(struct redirect *r, size_t len, struct redirect_result *out,
                 struct error *err)
{
	int rc = redirect_judge_pasted(r->paste, len, r->uri, out, err);
	size_t used = len < r->paste_len ? len + 1 : len;

	wipe(r->paste, used);
	memmove(r->paste, r->paste + used, r->paste_len - used);
	r->paste_len -= used;
	return rc;
}

/* A whole line already read: judged (1 or 0); none: -1. */
static int
pasted_line(struct redirect *r, struct redirect_result *out, struct error *err)
{
	char *nl = memchr(r->paste, '\n', r->paste_len);

	if (nl)
		return judge_paste_line(r, (size_t)(nl - r->paste), out, err);
	if (r->paste_done && r->paste_len > 0)
		return judge_paste_line(r, r->paste_len, out, err);
	return -1;
}

/* Drop what is left of a line too long, through its newline. */
static void
skip_rest(struct redirect *r)
{
	char *nl = memchr(r->paste, '\n', r->paste_len);
	size_t used = nl ? (size_t)(nl - r->paste) + 1 : r->paste_len;

	wipe(r->paste, used);
	memmove(r->paste, r->paste + used, r->paste_len - used);
	r->paste_len -= used;
	r->paste_skip = nl == NULL;
}

/* Read the pasted text: 1 or 0 for a whole line (as redirect_wait), 2
 * for nothing yet, -1 for a read error. */
static int
read_paste(struct redirect *r, int fd, struct redirect_result *out,
           struct error *err)
{
	ssize_t n;
	int rc;

	if (r->paste_len == sizeof r->paste) {
		wipe(r->paste, r->paste_len);
		r->paste_len = 0;
		r->paste_skip = true;
		error_set(err, ERROR_USAGE,
		          "the pasted line is longer than %d bytes: that is "
		          "not the address the browser ended at",
		          REDIRECT_PASTE_MAX);
		return 0;
	}
	n = read(fd, r->paste + r->paste_len, sizeof r->paste - r->paste_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 2;
	if (n < 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot read the terminal");
	if (n == 0)
		r->paste_done = true;
	r->paste_len += (size_t)n;
	if (r->paste_skip)
		skip_rest(r);
	rc = pasted_line(r, out, err);
	return rc < 0 ? 2 : rc;
}

static int
wait_failed(const struct redirect *r, int64_t deadline, struct error *err)
{
	if (errno == EINTR)
		return interrupt_error(err);
	if (now_ms() >= deadline)
		return error_set(err, ERROR_TEMPFAIL,
		                 "no answer reached %s in time", r->uri);
	return error_set_errno(err, ERROR_OSERR, errno,
	                       "cannot wait for the browser's redirect");
}

int
redirect_wait(struct redirect *r, int paste_fd, int64_t deadline,
              struct redirect_result *out, struct error *err)
{
	int rc;

	memset(out, 0, sizeof *out);
	rc = pasted_line(r, out, err); /* a second line read earlier */
	if (rc >= 0)
		return rc;
	for (;;) {
		struct pollfd p[2 + REDIRECT_CONN_MAX];

		p[0] = (struct pollfd){.fd = r->fd, .events = POLLIN};
		p[1] = (struct pollfd){
		    .fd = paste_fd >= 0 && !r->paste_done ? paste_fd : -1,
		    .events = POLLIN};
		for (size_t i = 0; i < REDIRECT_CONN_MAX; i++)
			p[2 + i] = (struct pollfd){.fd = r->conn[i].fd,
			                           .events = POLLIN};
		rc = fd_wait_any(p, 2 + REDIRECT_CONN_MAX, deadline);
		if (rc == 0)
			errno = 0;
		if (rc <= 0)
			return wait_failed(r, deadline, err);
		for (size_t i = 0; i < REDIRECT_CONN_MAX; i++)
			if (p[2 + i].revents && r->conn[i].fd >= 0 &&
			    serve_connection(r, &r->conn[i], out))
				return 1;
		if (p[1].revents) {
			rc = read_paste(r, paste_fd, out, err);
			if (rc != 2)
				return rc;
		}
		if (p[0].revents)
			take_connection(r);
	}
}
