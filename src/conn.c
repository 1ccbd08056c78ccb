/*
 * conn.c - a connection to a server (see conn.h): name resolution, a
 * connect with a timeout for every address, buffered writes and timed line
 * reads over a non-blocking socket, and the switch to TLS.
 *
 * All data passes through read_some() and write_some(), and nothing else
 * touches the socket's bytes: that is where TLS is switched on, so no code
 * above this file ever asks whether the stream is encrypted.  Both
 * functions are tried before waiting, so bytes a TLS layer has already
 * decrypted are never stuck behind a poll() that cannot see them.
 */
#include "config.h"

#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "interrupt.h"
#include "util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* systems without it: main() ignores SIGPIPE */
#endif

/* "ffff:...:ffff port 65535" */
#define CONN_PEER_MAX (NI_MAXHOST + 16)
/* A reason for a failed connect attempt, kept for the final message. */
#define CONN_REASON_MAX 256

/* The host name conn_open was given, the default for TLS verification. */
#define CONN_HOST_MAX 256

struct conn {
	int fd;
	struct tls *tls; /* NULL: plaintext */
	struct transcript *t;
	char host[CONN_HOST_MAX];
	char peer[CONN_PEER_MAX];
	size_t wlen;         /* bytes queued in wbuf */
	size_t rstart, rend; /* unread bytes are rbuf[rstart..rend) */
	char wbuf[CONN_WBUF_SIZE];
	char rbuf[CONN_RBUF_SIZE];
};

/* --- the transport --- */

/* Up to n bytes: >0 read, 0 end of stream, -1 with errno (EAGAIN: wait for
 * read_events() and try again). */
static ssize_t
read_some(struct conn *c, void *buf, size_t n)
{
	if (c->tls)
		return tls_read(c->tls, buf, n);
	return recv(c->fd, buf, n, 0);
}

/* Up to n bytes: >0 written, -1 with errno (EAGAIN: wait for POLLOUT). */
static ssize_t
write_some(struct conn *c, const void *buf, size_t n)
{
	if (c->tls)
		return tls_write(c->tls, buf, n);
	return send(c->fd, buf, n, MSG_NOSIGNAL);
}

/* What a read that said EAGAIN waits for: a TLS 1.3 session may have to
 * send (a KeyUpdate answer, RFC 8446 4.6.3) before it can read on. */
static short
read_events(const struct conn *c)
{
	return c->tls && tls_wants_write(c->tls) ? POLLOUT : POLLIN;
}

/* A failed read_some or write_some (errno set) as an error. */
static int
io_failed(const struct conn *c, const char *doing, struct error *err)
{
	/* A fatal TLS alert (EPROTO from tls.c) is the peer refusing us, for
	 * example a TLS 1.3 server that wanted a client certificate: a TLS
	 * failure, not a connection that may work next time. */
	if (c->tls)
		return error_set(
		    err, errno == EPROTO ? ERROR_PROTOCOL : ERROR_TEMPFAIL,
		    "cannot %s %s: %s", doing, c->peer, tls_last_error(c->tls));
	return error_set_errno(err, ERROR_TEMPFAIL, errno, "cannot %s %s",
	                       doing, c->peer);
}

/* --- waiting --- */

static int64_t
deadline_after(int timeout_ms)
{
	return now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
}

/* "60" or "0.5": whole seconds when the timeout is a whole number. */
static void
format_seconds(int ms, char *out, size_t n)
{
	if (ms % 1000 == 0)
		snprintf(out, n, "%d", ms / 1000);
	else
		snprintf(out, n, "%.1f", ms / 1000.0);
}

static int
timed_out(struct error *err, int timeout_ms, const char *doing)
{
	char secs[32];

	format_seconds(timeout_ms > 0 ? timeout_ms : 0, secs, sizeof secs);
	return error_set(err, ERROR_TEMPFAIL, "timed out after %s s %s", secs,
	                 doing);
}

/* --- connecting --- */

static int
resolve(const struct conn_target *tg, struct addrinfo **list, struct error *err)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV,
	};
	char port[16];
	int rc;

	snprintf(port, sizeof port, "%d", tg->port);
	rc = getaddrinfo(tg->host, port, &hints, list);
	switch (rc) {
	case 0:
		return 0;
	case EAI_NONAME:
	case EAI_FAIL:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return error_set(err, ERROR_NOHOST, "cannot resolve %s: %s",
		                 tg->host, gai_strerror(rc));
	case EAI_MEMORY:
		return error_set(err, ERROR_OSERR, "cannot resolve %s: %s",
		                 tg->host, gai_strerror(rc));
	case EAI_SYSTEM:
		return error_set_errno(err, ERROR_TEMPFAIL, errno,
		                       "cannot resolve %s", tg->host);
	default: /* EAI_AGAIN and anything else: try again later */
		return error_set(err, ERROR_TEMPFAIL, "cannot resolve %s: %s",
		                 tg->host, gai_strerror(rc));
	}
}

static void
set_reason_errno(char *reason, int errnum)
{
	str_copy(reason, CONN_REASON_MAX, strerror(errnum));
}

/* Bind to the configured local address, of the family being tried. */
static int
bind_source(int fd, const char *source_ip, int family, char *reason)
{
	struct addrinfo hints = {
	    .ai_family = family,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
	};
	struct addrinfo *local;
	int rc = getaddrinfo(source_ip, NULL, &hints, &local);

	if (rc != 0) {
		snprintf(reason, CONN_REASON_MAX,
		         "cannot use source address %s: %s", source_ip,
		         gai_strerror(rc));
		return -1;
	}
	rc = bind(fd, local->ai_addr, local->ai_addrlen);
	if (rc < 0)
		snprintf(reason, CONN_REASON_MAX, "cannot bind to %s: %s",
		         source_ip, strerror(errno));
	freeaddrinfo(local);
	return rc;
}

/* A non-blocking connect, waited for with poll (the only portable way to
 * give connect(2) a timeout). */
static int
connect_timeout(int fd, const struct addrinfo *ai, int timeout_ms, char *reason)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;
	int rc;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR) {
		set_reason_errno(reason, errno);
		return -1;
	}
	rc = fd_wait(fd, POLLOUT, deadline_after(timeout_ms));
	if (rc == 0) {
		char secs[32];

		format_seconds(timeout_ms > 0 ? timeout_ms : 0, secs,
		               sizeof secs);
		snprintf(reason, CONN_REASON_MAX, "timed out after %s s", secs);
		return -1;
	}
	if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr != 0) {
		set_reason_errno(reason, soerr);
		return -1;
	}
	return 0;
}

static int
new_socket(const struct addrinfo *ai, char *reason)
{
	int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	int flags;

	if (fd < 0) {
		set_reason_errno(reason, errno);
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		set_reason_errno(reason, errno);
		close(fd);
		return -1;
	}
	return fd;
}

/* One address: a connected, non-blocking socket, or -1 with the reason. */
static int
try_address(const struct conn_target *tg, const struct addrinfo *ai,
            struct transcript *t, char *peer, char *reason)
{
	char addr[NI_MAXHOST];
	int one = 1;
	int fd;

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0,
	                NI_NUMERICHOST) != 0)
		str_copy(addr, sizeof addr, "?");
	transcript_note(t, "Trying %s port %d...", addr, tg->port);
	fd = new_socket(ai, reason);
	if (fd >= 0 && tg->source_ip &&
	    bind_source(fd, tg->source_ip, ai->ai_family, reason) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && connect_timeout(fd, ai, tg->timeout_ms, reason) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		transcript_problem(t, "%s port %d: %s", addr, tg->port, reason);
		return -1;
	}
	/* We batch writes ourselves (one write per turnaround); Nagle would
	 * only hold the last segment back for an ACK.  Failure costs speed,
	 * not correctness, so it is ignored. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	snprintf(peer, CONN_PEER_MAX, "%s port %d", addr, tg->port);
	transcript_note(t, "Connected to %s", peer);
	return fd;
}

int
conn_open(struct conn **out, const struct conn_target *tg, struct transcript *t,
          struct error *err)
{
	char reason[CONN_REASON_MAX] = "no address to try";
	char peer[CONN_PEER_MAX];
	struct addrinfo *list;
	struct conn *c;
	int fd = -1;

	*out = NULL;
	if (!tg->host || !*tg->host)
		return error_set(err, ERROR_CONFIG, "no server host given");
	if (tg->port < 1 || tg->port > 65535)
		return error_set(err, ERROR_CONFIG, "invalid port %d",
		                 tg->port);
	if (resolve(tg, &list, err) < 0)
		return -1;
	for (const struct addrinfo *ai = list; ai && fd < 0 && !interrupt_cuts();
	     ai = ai->ai_next)
		fd = try_address(tg, ai, t, peer, reason);
	freeaddrinfo(list);
	if (fd < 0 && interrupt_cuts())
		return interrupt_error(err);
	if (fd < 0)
		return error_set(err, ERROR_TEMPFAIL,
		                 "cannot connect to %s port %d: %s", tg->host,
		                 tg->port, reason);
	c = xmalloc(sizeof *c);
	c->fd = fd;
	c->tls = NULL;
	c->t = t;
	str_copy(c->host, sizeof c->host, tg->host);
	str_copy(c->peer, sizeof c->peer, peer);
	c->wlen = 0;
	c->rstart = 0;
	c->rend = 0;
	*out = c;
	return 0;
}

void
conn_close(struct conn *c)
{
	if (!c)
		return;
	tls_close(c->tls, CONN_BYE_TIMEOUT_MS);
	close(c->fd);
	/* The buffers may still hold an AUTH line. */
	wipe(c, sizeof *c);
	free(c);
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

/* --- writing --- */

int
conn_write(struct conn *c, const void *data, size_t n, int timeout_ms,
           struct error *err)
{
	const char *p = data;

	while (n > 0) {
		size_t room = CONN_WBUF_SIZE - c->wlen;
		size_t take = n < room ? n : room;

		if (room == 0) {
			if (conn_flush(c, timeout_ms, err) < 0)
				return -1;
			continue;
		}
		memcpy(c->wbuf + c->wlen, p, take);
		c->wlen += take;
		p += take;
		n -= take;
	}
	return 0;
}

int
conn_flush(struct conn *c, int timeout_ms, struct error *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t n = write_some(c, c->wbuf + off, c->wlen - off);
		int rc;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			c->wlen = 0;
			return error_set_errno(err, ERROR_TEMPFAIL, EIO,
			                       "cannot send to %s", c->peer);
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->wlen = 0;
			return io_failed(c, "send to", err);
		}
		rc = fd_wait(c->fd, POLLOUT, deadline);
		if (rc <= 0) {
			c->wlen = 0;
			if (rc < 0 && interrupt_cuts())
				return interrupt_error(err);
			if (rc < 0)
				return error_set_errno(
				    err, ERROR_TEMPFAIL, errno,
				    "cannot send to %s", c->peer);
			return timed_out(err, timeout_ms,
			                 "sending to the server");
		}
	}
	c->wlen = 0;
	return 0;
}

/* --- reading --- */

/* Read more bytes into rbuf (which has room), waiting until the deadline. */
static int
fill(struct conn *c, int64_t deadline, int timeout_ms, struct error *err)
{
	for (;;) {
		ssize_t n =
		    read_some(c, c->rbuf + c->rend, CONN_RBUF_SIZE - c->rend);
		int rc;

		if (n > 0) {
			c->rend += (size_t)n;
			return 0;
		}
		if (n == 0)
			return error_set(err, ERROR_TEMPFAIL,
			                 "connection closed by server");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return io_failed(c, "read from", err);
		rc = fd_wait(c->fd, read_events(c), deadline);
		if (rc < 0 && interrupt_cuts())
			return interrupt_error(err);
		if (rc < 0)
			return error_set_errno(err, ERROR_TEMPFAIL, errno,
			                       "cannot read from %s", c->peer);
		if (rc == 0)
			return timed_out(err, timeout_ms,
			                 "waiting for the server");
	}
}

/* Move the unread bytes to the front of rbuf. */
static void
compact(struct conn *c)
{
	size_t n = c->rend - c->rstart;

	if (c->rstart == 0)
		return;
	memmove(c->rbuf, c->rbuf + c->rstart, n);
	c->rstart = 0;
	c->rend = n;
}

/* Take up to n bytes into the line, or fail when it would pass max-1. */
static int
take(struct conn *c, char *line, size_t max, size_t *len, size_t n,
     struct error *err)
{
	if (n > max - 1 - *len)
		return error_set(err, ERROR_PROTOCOL,
		                 "a line from the server is longer than %zu "
		                 "bytes",
		                 max - 1);
	memcpy(line + *len, c->rbuf + c->rstart, n);
	*len += n;
	return 0;
}

int
conn_read_line(struct conn *c, char *line, size_t max, size_t *len,
               int timeout_ms, struct error *err)
{
	int64_t deadline = deadline_after(timeout_ms);

	*len = 0;
	if (max < 1)
		return error_set(err, ERROR_SOFTWARE, "no room for a line");
	for (;;) {
		const char *p = c->rbuf + c->rstart;
		size_t avail = c->rend - c->rstart;
		const char *lf = memchr(p, '\n', avail);
		size_t n = lf ? (size_t)(lf - p) : avail;
		size_t keep = n;

		/* A CR right before the LF belongs to the line ending; a CR
		 * at the very end of what we have may be one, so it waits
		 * in the buffer for the next read. */
		if (keep > 0 && p[keep - 1] == '\r')
			keep--;
		if (take(c, line, max, len, keep, err) < 0)
			return -1;
		if (lf) {
			c->rstart += n + 1;
			line[*len] = '\0';
			return 0;
		}
		c->rstart += keep;
		compact(c);
		if (fill(c, deadline, timeout_ms, err) < 0)
			return -1;
	}
}

size_t
conn_pending(const struct conn *c)
{
	return c->rend - c->rstart + (c->tls ? tls_pending(c->tls) : 0);
}

/* --- TLS --- */

/* RFC 3207 5 and the STARTTLS command-injection advisories (CVE-2011-0411
 * and kin): the server speaks no more until our ClientHello, so a byte
 * buffered here, or already waiting in the socket, was sent before the
 * handshake and would be read as if it came through TLS. */
static bool
early_data(const struct conn *c)
{
	char byte;

	return c->rend - c->rstart > 0 ||
	       recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static int
start_tls(struct conn *c, const struct tls_params *p, const char *early,
          struct error *err)
{
	struct tls_params params = *p;

	if (c->tls)
		return error_set(err, ERROR_SOFTWARE, "TLS is already active");
	if (c->wlen > 0)
		return error_set(err, ERROR_SOFTWARE,
		                 "unsent data before the TLS handshake");
	if (early_data(c))
		return error_set(err, ERROR_PROTOCOL, "%s", early);
	if (!params.host)
		params.host = c->host;
	transcript_note(c->t, "Starting TLS with %s",
	                params.host_override ? params.host_override
	                                     : params.host);
	return tls_start(&c->tls, c->fd, &params, c->t, err);
}

int
conn_start_tls(struct conn *c, const struct tls_params *p, struct error *err)
{
	return start_tls(c, p,
	                 "the server sent data after its STARTTLS reply "
	                 "(possible response injection); aborting",
	                 err);
}

/* In TLS the client speaks first (RFC 8446 2): a server that has already
 * said something talks plaintext, and RFC 8314 3.3 forbids falling back. */
int
conn_open_tls(struct conn **out, const struct conn_target *target,
              const struct tls_params *p, struct transcript *t,
              struct error *err)
{
	if (conn_open(out, target, t, err) < 0)
		return -1;
	if (start_tls(*out, p,
	              "the server sent plaintext before the TLS handshake: "
	              "it does not speak implicit TLS on this port (a "
	              "plaintext server needs STARTTLS)",
	              err) == 0)
		return 0;
	conn_close(*out);
	*out = NULL;
	return -1;
}

void
conn_expect_close(struct conn *c)
{
	if (c->tls)
		tls_expect_close(c->tls);
}

enum tls_binding
conn_channel_binding_type(const struct conn *c)
{
	return c->tls ? tls_binding_preferred(c->tls) : TLS_BINDING_NONE;
}

int
conn_channel_binding(const struct conn *c, enum tls_binding which, char *out,
                     size_t size, struct error *err)
{
	if (!c->tls)
		return error_set(err, ERROR_SOFTWARE,
		                 "channel binding needs a TLS connection");
	return tls_channel_binding(c->tls, which, out, size, err);
}
