/*
 * conn.h - a connection to a server: a byte stream with buffered writes and
 * bounded, timed line reads.
 *
 * Output is buffered and leaves only on conn_flush (or when the buffer is
 * full), so that a pipeline group goes out in one write: the protocol layer
 * calls conn_flush exactly when it must wait for a reply.  Every wait has a
 * timeout.  TLS is switched on inside this module (conn_start_tls), after
 * which the same calls read and write through it: code above never asks
 * whether the stream is encrypted.
 *
 * Errors: connection failures are ERROR_NOHOST (name does not resolve) or
 * ERROR_TEMPFAIL (refused, unreachable, timed out, reset, closed); a line
 * longer than the caller's limit is ERROR_PROTOCOL.  TLS failures are as
 * tls.h says; after the handshake, a fatal TLS alert from the peer is
 * ERROR_PROTOCOL, and any other read or write error ERROR_TEMPFAIL like any
 * other broken connection.
 */
#ifndef MAILPOST_CONN_H
#define MAILPOST_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tls.h"
#include "transcript.h"

/* Output buffer: large enough that a body block and a TLS record fill up
 * before a write happens. */
#define CONN_WBUF_SIZE (64 * 1024)
#define CONN_RBUF_SIZE (16 * 1024)
/* How long conn_close waits to hand our TLS close_notify to the socket. */
#define CONN_BYE_TIMEOUT_MS 1000

struct conn;

struct conn_target {
	const char *host; /* name (in ASCII: A-labels) or address literal */
	int port;
	const char *source_ip; /* bind to this local address, or NULL */
	int timeout_ms;        /* for each connect attempt */
	/* A SOCKS5 proxy (RFC 1928), or NULL/"": connect directly. */
	const char *proxy_host;
	int proxy_port; /* 0: SOCKS_PORT (1080) */
	/* A local stream socket (AF_UNIX) to connect to instead of host,
	 * port and proxy, or NULL/"": host then only names the server
	 * (TLS verification and SNI). */
	const char *socket_path;
};

/* Open the byte stream, noting each step in the transcript (which may be
 * NULL).  A host (or proxy) in brackets ("[192.0.2.1]", RFC 5321 4.1.3)
 * is an address and never looked up; a name in brackets is ERROR_CONFIG.
 * The ways:
 * - directly: resolve host and try every address it has (IPv6 and IPv4,
 *   in the resolver's order) until one connects;
 * - through a proxy: resolve and connect to the proxy likewise, then ask
 *   it (socks.h) to connect to host and port, sending the name, never an
 *   address we resolved: nothing about the server is looked up here.  The
 *   proxy's answer is awaited at most timeout_ms.  ERROR_NOHOST means
 *   the proxy's name does not resolve; a proxy that cannot be reached,
 *   closes or says nothing in time is ERROR_TEMPFAIL; its refusals are
 *   as socks.h says;
 * - through socket_path: ERROR_CONFIG when it is not a socket or may
 *   not be used (a wrong path stays wrong), ERROR_TEMPFAIL when it does
 *   not exist, nothing listens on it or it does not answer in time (a
 *   server not running yet; mailpost.conf(5) says so of `socket`).
 * TCP_NODELAY is set: we batch writes ourselves. */
int conn_open(struct conn **out, const struct conn_target *target,
              struct transcript *t, struct error *err);

/* Switch the connection to TLS: the handshake and the verification of the
 * server (tls_start; p->host defaults to the host conn_open was given).
 * For STARTTLS (RFC 3207) call it right after the 220 reply: any byte
 * already received then, or waiting in the socket, was sent before the
 * handshake and is refused as a response-injection attempt
 * (ERROR_PROTOCOL), as is unsent output (ERROR_SOFTWARE) and a second
 * call (ERROR_SOFTWARE).  On failure the connection is unusable: close it
 * without a QUIT (nothing may be sent in plaintext after a failed
 * STARTTLS, and the TLS session is gone). */
int conn_start_tls(struct conn *c, const struct tls_params *p,
                   struct error *err);

/* Implicit TLS (RFC 8314 3.3): the handshake right after conn_open, so a
 * server that talks plaintext is a handshake failure, never a fallback.
 * On failure the connection is unusable: close it. */
int conn_start_implicit_tls(struct conn *c, const struct tls_params *p,
                            struct error *err);

/* conn_open and conn_start_implicit_tls in one: on failure nothing is left
 * open and *out is NULL. */
int conn_open_tls(struct conn **out, const struct conn_target *target,
                  const struct tls_params *p, struct transcript *t,
                  struct error *err);

/* The protocol has ended (QUIT sent): an end of stream without a TLS
 * close_notify is then normal, not a possible truncation.  No effect on a
 * plain connection. */
void conn_expect_close(struct conn *c);

/* The channel binding for SASL *-PLUS mechanisms on this connection:
 * TLS_BINDING_NONE when it is not encrypted, else the kind to use
 * (tls-exporter on TLS 1.3, tls-unique on TLS 1.2). */
enum tls_binding conn_channel_binding_type(const struct conn *c);

/* The binding data of that kind, base64, NUL-terminated (see
 * tls_channel_binding); ERROR_SOFTWARE on a plain connection. */
int conn_channel_binding(const struct conn *c, enum tls_binding which,
                         char *out, size_t size, struct error *err);

/* Close and free (NULL is a no-op).  Unsent buffered output is dropped; a
 * TLS session sends its close_notify first (waiting at most
 * CONN_BYE_TIMEOUT_MS). */
void conn_close(struct conn *c);

/* What was actually connected to, for messages: "127.0.0.1 port 25",
 * "smtp.example.org port 25 via SOCKS5 proxy 127.0.0.1:9050", or
 * "socket /run/smtp.sock". */
const char *conn_peer(const struct conn *c);

/* Whether the whole path to the server stays on this machine: a direct
 * connection to a loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104)
 * or a local socket.  Never through a proxy, whatever its address: the
 * proxy's onward connection leaves the machine. */
bool conn_is_local(const struct conn *c);

/* Queue bytes for sending; flushes by itself when the buffer fills. */
int conn_write(struct conn *c, const void *data, size_t n, int timeout_ms,
               struct error *err);
/* Send everything queued; waits at most timeout_ms for the socket. */
int conn_flush(struct conn *c, int timeout_ms, struct error *err);

/* Read one line into line[0..max-1], without its CRLF (a bare LF is also
 * accepted as the end), NUL-terminated, length in *len.  Waits at most
 * timeout_ms in total.  A line longer than max-1 bytes is ERROR_PROTOCOL;
 * end of stream is ERROR_TEMPFAIL ("connection closed by server"). */
int conn_read_line(struct conn *c, char *line, size_t max, size_t *len,
                   int timeout_ms, struct error *err);

/* One time limit shared by several reads: a multi-line reply must arrive
 * whole within it, or a server could keep us waiting a timeout per line. */
struct conn_wait {
	int64_t deadline;  /* now_ms() scale (util.h) */
	int timeout_ms;    /* the limit it was set from, for the message */
	const char *doing; /* e.g. "waiting for the server", for the message */
};

/* A wait ending timeout_ms from now. */
void conn_wait_init(struct conn_wait *w, int timeout_ms, const char *doing);

/* conn_read_line, waiting at most until w->deadline; a timeout is
 * ERROR_TEMPFAIL "timed out after N s " followed by w->doing. */
int conn_read_line_until(struct conn *c, char *line, size_t max, size_t *len,
                         const struct conn_wait *w, struct error *err);

/* Bytes received but not yet consumed by conn_read_line (including those
 * the TLS layer has decrypted and holds). */
size_t conn_pending(const struct conn *c);

#endif
