/*
 * conn.c - a connection to a server (see conn.h): name resolution, a
 * connect with a timeout for every address (directly, through a SOCKS5
 * proxy, or to a local socket), buffered writes and timed line reads over
 * a non-blocking socket, and the switch to TLS.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdwait.h"
#include "interrupt.h"
#include "socks.h"
#include "util.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* systems without it: main() ignores SIGPIPE */
#endif

/* The host name conn_open was given, the default for TLS verification. */
#define CONN_HOST_MAX 256
/* "[ffff:...:ffff]:65535", a proxy as named in messages */
#define CONN_PROXY_MAX (NI_MAXHOST + 16)
/* "ffff:...:ffff port 65535", or "HOST port 65535 via SOCKS5 proxy
 * PROXY", or "socket PATH" */
#define CONN_PEER_MAX (CONN_HOST_MAX + CONN_PROXY_MAX + 48)
/* A reason for a failed connect attempt, kept for the final message. */
#define CONN_REASON_MAX 256

struct conn {
	int fd;
	bool local;      /* the path to the server stays on this machine */
	struct tls *tls; /* NULL: plaintext */
	struct transcript *t;
	char host[CONN_HOST_MAX];
	char peer[CONN_PEER_MAX];
	size_t wlen;         /* bytes queued in wbuf */
	size_t rstart, rend; /* unread bytes are rbuf[rstart..rend) */
	/* How far into wbuf and rbuf bytes were ever put: what conn_close
	 * wipes.  The rest was never touched, so wiping it would only fault
	 * in zero pages (most of wbuf's 64 KiB for a short session). */
	size_t wtop, rtop;
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

static int
timed_out(struct error *err, int timeout_ms, const char *doing)
{
	char secs[32];

	str_seconds(secs, sizeof secs, timeout_ms > 0 ? timeout_ms : 0);
	return error_set(err, ERROR_TEMPFAIL, "timed out after %s s %s", secs,
	                 doing);
}

/* --- connecting --- */

/* what: "" for the server, "proxy " for the proxy (in messages). */
static int
resolve(const char *host, int port, const char *what, struct addrinfo **list,
        struct error *err)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV,
	};
	char service[16];
	char literal[CONN_HOST_MAX];
	const char *name = host;
	size_t n = strlen(host);
	int rc;

	/* "[192.0.2.1]", "[2001:db8::1]" (RFC 5321 4.1.3): an address
	 * written so, and never looked up (no DNS query for it, through a
	 * proxy above all). */
	if (n > 2 && n - 2 < sizeof literal && host[0] == '[' &&
	    host[n - 1] == ']') {
		memcpy(literal, host + 1, n - 2);
		literal[n - 2] = '\0';
		name = literal;
		hints.ai_flags |= AI_NUMERICHOST;
	}
	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(name, service, &hints, list);
	if (rc == EAI_NONAME && name != host)
		return error_set(err, ERROR_CONFIG,
		                 "%s%s is in brackets but is not an IPv4 or "
		                 "IPv6 address; write the address, or the name "
		                 "without brackets",
		                 what, host);
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
		return error_set(err, ERROR_NOHOST, "cannot resolve %s%s: %s",
		                 what, host, gai_strerror(rc));
	case EAI_MEMORY:
		return error_set(err, ERROR_OSERR, "cannot resolve %s%s: %s",
		                 what, host, gai_strerror(rc));
	case EAI_SYSTEM:
		return error_set_errno(err, ERROR_TEMPFAIL, errno,
		                       "cannot resolve %s%s", what, host);
	default: /* EAI_AGAIN and anything else: try again later */
		return error_set(err, ERROR_TEMPFAIL, "cannot resolve %s%s: %s",
		                 what, host, gai_strerror(rc));
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
connect_timeout(int fd, const struct sockaddr *sa, socklen_t salen,
                int timeout_ms, char *reason)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;
	int rc;

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR) {
		set_reason_errno(reason, errno);
		return -1;
	}
	rc = fd_wait(fd, POLLOUT, deadline_after(timeout_ms));
	if (rc == 0) {
		char secs[32];

		str_seconds(secs, sizeof secs, timeout_ms > 0 ? timeout_ms : 0);
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
new_socket(int family, int protocol, char *reason)
{
	int fd = socket(family, SOCK_STREAM, protocol);
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

/* 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: the connection stays on this
 * machine. */
static bool
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			return in6->sin6_addr.s6_addr[12] == 127;
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return false;
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
	fd = new_socket(ai->ai_family, ai->ai_protocol, reason);
	if (fd >= 0 && tg->source_ip &&
	    bind_source(fd, tg->source_ip, ai->ai_family, reason) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && connect_timeout(fd, ai->ai_addr, ai->ai_addrlen,
	                               tg->timeout_ms, reason) < 0) {
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

/* Resolve tg->host and connect to the first of its addresses that
 * answers; *local says whether that address is a loopback one.  what is
 * "" for the server, "SOCKS5 proxy " for the proxy (in messages). */
static int
connect_tcp(const struct conn_target *tg, const char *what,
            struct transcript *t, char *peer, bool *local, struct error *err)
{
	char reason[CONN_REASON_MAX] = "no address to try";
	struct addrinfo *list;
	int fd = -1;

	if (resolve(tg->host, tg->port, what, &list, err) < 0)
		return -1;
	for (const struct addrinfo *ai = list;
	     ai && fd < 0 && !interrupt_cuts(); ai = ai->ai_next) {
		fd = try_address(tg, ai, t, peer, reason);
		*local = fd >= 0 && is_loopback(ai->ai_addr);
	}
	freeaddrinfo(list);
	if (fd < 0 && interrupt_cuts())
		return interrupt_error(err);
	if (fd < 0)
		return error_set(err, ERROR_TEMPFAIL,
		                 "cannot connect to %s%s port %d: %s", what,
		                 tg->host, tg->port, reason);
	return fd;
}

/* --- a SOCKS5 proxy (socks.h does the protocol, this the bytes) --- */

static int
proxy_waited(int rc, int timeout_ms, struct error *err)
{
	if (rc < 0 && interrupt_cuts())
		return interrupt_error(err);
	if (rc < 0)
		return error_set_errno(err, ERROR_TEMPFAIL, errno,
		                       "cannot talk to the proxy");
	return timed_out(err, timeout_ms, "waiting for the proxy");
}

static int
proxy_send(int fd, const unsigned char *p, size_t n, int64_t deadline,
           int timeout_ms, struct error *err)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		int rc;

		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return error_set_errno(err, ERROR_TEMPFAIL, errno,
			                       "cannot send to the proxy");
		rc = fd_wait(fd, POLLOUT, deadline);
		if (rc <= 0)
			return proxy_waited(rc, timeout_ms, err);
	}
	return 0;
}

/* Exactly n bytes, never more: what follows the proxy's reply is the
 * server's and stays in the socket for conn_read_line (or for the TLS
 * handshake, which must find nothing before it).  An end of stream
 * before a reply began is the proxy giving up (temporary); inside a
 * reply (mid: this part continues one) it is a malformed reply. */
static int
proxy_recv(int fd, unsigned char *p, size_t n, bool mid, int64_t deadline,
           int timeout_ms, struct error *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = recv(fd, p + got, n - got, 0);
		int rc;

		if (k > 0) {
			got += (size_t)k;
			continue;
		}
		if (k == 0 && (mid || got > 0))
			return error_set(err, ERROR_PROTOCOL,
			                 "malformed proxy reply: it ends too "
			                 "soon" SOCKS_CHECK_PROXY);
		if (k == 0)
			return error_set(err, ERROR_TEMPFAIL,
			                 "the proxy closed the connection "
			                 "without answering" SOCKS_CHECK_PROXY);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return error_set_errno(err, ERROR_TEMPFAIL, errno,
			                       "cannot read from the proxy");
		rc = fd_wait(fd, POLLIN, deadline);
		if (rc <= 0)
			return proxy_waited(rc, timeout_ms, err);
	}
	return 0;
}

/* RFC 1928 3-6: greeting, method, CONNECT request, reply.  The proxy may
 * need a whole connect of its own to the server, so its answers get the
 * connect timeout, once for the whole exchange. */
static int
socks_exchange(int fd, const unsigned char *req, size_t reqlen, int timeout_ms,
               struct error *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	unsigned char buf[SOCKS_REQUEST_MAX];
	size_t n = socks_greeting(buf);
	size_t rest;

	if (proxy_send(fd, buf, n, deadline, timeout_ms, err) < 0 ||
	    proxy_recv(fd, buf, SOCKS_METHOD_LEN, false, deadline, timeout_ms,
	               err) < 0 ||
	    socks_check_method(buf, err) < 0)
		return -1;
	if (proxy_send(fd, req, reqlen, deadline, timeout_ms, err) < 0 ||
	    proxy_recv(fd, buf, SOCKS_STATUS_LEN, false, deadline, timeout_ms,
	               err) < 0 ||
	    socks_check_status(buf, err) < 0)
		return -1;
	if (proxy_recv(fd, buf, SOCKS_ADDR_HEAD_LEN, true, deadline, timeout_ms,
	               err) < 0 ||
	    socks_check_bound(buf, &rest, err) < 0)
		return -1;
	return proxy_recv(fd, buf, rest, true, deadline, timeout_ms, err);
}

/* "127.0.0.1:9050", "[::1]:9050", "tor.example:9050". */
static void
proxy_name(const char *host, int port, char *out, size_t n)
{
	if (strchr(host, ':') && host[0] != '[')
		snprintf(out, n, "[%s]:%d", host, port);
	else
		snprintf(out, n, "%s:%d", host, port);
}

/* The proxy itself could not be had: say what to check (with Tor, most
 * often that it is not running). */
static void
proxy_next_step(struct error *err)
{
	char cause[sizeof err->msg];

	str_copy(cause, sizeof cause, err->msg);
	if (err->kind == ERROR_NOHOST)
		error_set(err, err->kind, "%s; check proxy_host", cause);
	else
		error_set(err, err->kind,
		          "%s; is the proxy running? (check proxy_host and "
		          "proxy_port)",
		          cause);
}

static int
open_via_proxy(const struct conn_target *tg, struct transcript *t, char *peer,
               struct error *err)
{
	struct conn_target via = *tg;
	unsigned char req[SOCKS_REQUEST_MAX];
	char proxy[CONN_PROXY_MAX];
	size_t reqlen;
	bool local;
	int fd;

	via.host = tg->proxy_host;
	via.port = tg->proxy_port ? tg->proxy_port : SOCKS_PORT;
	via.proxy_host = NULL;
	if (via.port < 1 || via.port > 65535)
		return error_set(err, ERROR_CONFIG, "invalid proxy port %d",
		                 via.port);
	proxy_name(via.host, via.port, proxy, sizeof proxy);
	/* Checked before anything is sent anywhere. */
	if (socks_request(tg->host, tg->port, req, &reqlen, err) < 0) {
		error_prefix(err, "cannot ask SOCKS5 proxy %s for %s: ", proxy,
		             tg->host);
		return -1;
	}
	transcript_note(t, "Connecting to %s port %d via SOCKS5 proxy %s",
	                tg->host, tg->port, proxy);
	fd = connect_tcp(&via, "SOCKS5 proxy ", t, peer, &local, err);
	if (fd < 0) {
		if (!interrupt_cuts())
			proxy_next_step(err);
		return -1;
	}
	if (socks_exchange(fd, req, reqlen, tg->timeout_ms, err) < 0) {
		close(fd);
		if (interrupt_cuts())
			return -1;
		transcript_problem(t, "SOCKS5 proxy %s: %s", proxy, err->msg);
		error_prefix(err,
		             "cannot connect to %s port %d via SOCKS5 "
		             "proxy %s: ",
		             tg->host, tg->port, proxy);
		return -1;
	}
	snprintf(peer, CONN_PEER_MAX, "%s port %d via SOCKS5 proxy %s",
	         tg->host, tg->port, proxy);
	transcript_note(t, "Connected to %s", peer);
	return fd;
}

/* --- a local socket --- */

/* What connect(2) on a local socket said, as a failure class: a path
 * that is no socket, or one we may not use, stays wrong until the
 * configuration changes; a missing socket or one nobody listens on is a
 * server that is not running (yet), and the message waits for it. */
static int
socket_failed(const char *path, int errnum, struct error *err)
{
	enum error_kind kind = ERROR_TEMPFAIL;
	const char *next = "is the server that listens there running?";

	if (errnum == ENOTSOCK || errnum == EACCES || errnum == EPERM ||
	    errnum == ENOTDIR || errnum == ELOOP || errnum == ENAMETOOLONG) {
		kind = ERROR_CONFIG;
		next = "check the 'socket' setting";
	}
	return error_set(err, kind, "cannot connect to socket %s: %s; %s", path,
	                 strerror(errnum), next);
}

static int
open_socket_path(const struct conn_target *tg, struct transcript *t, char *peer,
                 struct error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = tg->socket_path;
	char reason[CONN_REASON_MAX];
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return socket_failed(path, ENAMETOOLONG, err);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	transcript_note(t, "Connecting to socket %s", path);
	/* connect(2) says ECONNREFUSED for a regular file: ask first. */
	if (stat(path, &st) < 0)
		return socket_failed(path, errno, err);
	if (!S_ISSOCK(st.st_mode))
		return socket_failed(path, ENOTSOCK, err);
	fd = new_socket(AF_UNIX, 0, reason);
	if (fd >= 0 && connect_timeout(fd, (const struct sockaddr *)&sa,
	                               sizeof sa, tg->timeout_ms, reason) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		if (interrupt_cuts())
			return interrupt_error(err);
		transcript_problem(t, "socket %s: %s", path, reason);
		return error_set(err, ERROR_TEMPFAIL,
		                 "cannot connect to socket %s: %s; is the "
		                 "server that listens there running?",
		                 path, reason);
	}
	snprintf(peer, CONN_PEER_MAX, "socket %s", path);
	transcript_note(t, "Connected to %s", peer);
	return fd;
}

static bool
given(const char *s)
{
	return s && *s;
}

int
conn_open(struct conn **out, const struct conn_target *tg, struct transcript *t,
          struct error *err)
{
	char peer[CONN_PEER_MAX];
	bool local = true;
	struct conn *c;
	int fd;

	*out = NULL;
	if (!given(tg->host))
		return error_set(err, ERROR_CONFIG, "no server host given");
	if (tg->port < 1 || tg->port > 65535)
		return error_set(err, ERROR_CONFIG, "invalid port %d",
		                 tg->port);
	if (given(tg->socket_path))
		fd = open_socket_path(tg, t, peer, err);
	else if (given(tg->proxy_host)) {
		fd = open_via_proxy(tg, t, peer, err);
		local = false;
	} else
		fd = connect_tcp(tg, "", t, peer, &local, err);
	if (fd < 0)
		return -1;
	c = xmalloc(sizeof *c);
	c->fd = fd;
	c->local = local;
	c->tls = NULL;
	c->t = t;
	str_copy(c->host, sizeof c->host, tg->host);
	str_copy(c->peer, sizeof c->peer, peer);
	c->wlen = 0;
	c->rstart = 0;
	c->rend = 0;
	c->wtop = 0;
	c->rtop = 0;
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
	wipe(c->wbuf, c->wtop);
	wipe(c->rbuf, c->rtop);
	wipe(c, offsetof(struct conn, wbuf));
	free(c);
}

const char *
conn_peer(const struct conn *c)
{
	return c->peer;
}

bool
conn_is_local(const struct conn *c)
{
	return c->local;
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
		if (c->wlen > c->wtop)
			c->wtop = c->wlen;
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
fill(struct conn *c, const struct conn_wait *w, struct error *err)
{
	for (;;) {
		ssize_t n =
		    read_some(c, c->rbuf + c->rend, CONN_RBUF_SIZE - c->rend);
		int rc;

		if (n > 0) {
			c->rend += (size_t)n;
			if (c->rend > c->rtop)
				c->rtop = c->rend;
			return 0;
		}
		if (n == 0)
			return error_set(err, ERROR_TEMPFAIL,
			                 "connection closed by server");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return io_failed(c, "read from", err);
		rc = fd_wait(c->fd, read_events(c), w->deadline);
		if (rc < 0 && interrupt_cuts())
			return interrupt_error(err);
		if (rc < 0)
			return error_set_errno(err, ERROR_TEMPFAIL, errno,
			                       "cannot read from %s", c->peer);
		if (rc == 0)
			return timed_out(err, w->timeout_ms, w->doing);
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

void
conn_wait_init(struct conn_wait *w, int timeout_ms, const char *doing)
{
	w->deadline = deadline_after(timeout_ms);
	w->timeout_ms = timeout_ms;
	w->doing = doing;
}

int
conn_read_line(struct conn *c, char *line, size_t max, size_t *len,
               int timeout_ms, struct error *err)
{
	struct conn_wait w;

	conn_wait_init(&w, timeout_ms, "waiting for the server");
	return conn_read_line_until(c, line, max, len, &w, err);
}

int
conn_read_line_until(struct conn *c, char *line, size_t max, size_t *len,
                     const struct conn_wait *w, struct error *err)
{
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
		if (fill(c, w, err) < 0)
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
conn_start_implicit_tls(struct conn *c, const struct tls_params *p,
                        struct error *err)
{
	return start_tls(c, p,
	                 "the server sent plaintext before the TLS handshake: "
	                 "it does not speak implicit TLS on this port (a "
	                 "plaintext server needs STARTTLS)",
	                 err);
}

int
conn_open_tls(struct conn **out, const struct conn_target *target,
              const struct tls_params *p, struct transcript *t,
              struct error *err)
{
	if (conn_open(out, target, t, err) < 0)
		return -1;
	if (conn_start_implicit_tls(*out, p, err) == 0)
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
