/*
 * conn.h - a connection to a server: a byte stream with buffered writes and
 * bounded, timed line reads.
 *
 * Output is buffered and leaves only on conn_flush (or when the buffer is
 * full), so that a pipeline group goes out in one write: the protocol layer
 * calls conn_flush exactly when it must wait for a reply.  Every wait has a
 * timeout.  TLS (a later layer) is switched on inside this module, so code
 * above it never asks whether the stream is encrypted.
 *
 * Errors: connection failures are ERROR_NOHOST (name does not resolve) or
 * ERROR_TEMPFAIL (refused, unreachable, timed out, reset, closed); a line
 * longer than the caller's limit is ERROR_PROTOCOL.
 */
#ifndef MAILPOST_CONN_H
#define MAILPOST_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "transcript.h"

/* Output buffer: large enough that a body block and a TLS record fill up
 * before a write happens. */
#define CONN_WBUF_SIZE (64 * 1024)
#define CONN_RBUF_SIZE (16 * 1024)

struct conn;

struct conn_target {
	const char *host;      /* name or address literal */
	int port;
	const char *source_ip; /* bind to this local address, or NULL */
	int timeout_ms;        /* for each connect attempt */
};

/* Resolve host and try every address it has (IPv6 and IPv4, in the
 * resolver's order) until one connects.  Each attempt is noted in the
 * transcript (which may be NULL).  TCP_NODELAY is set: we batch writes
 * ourselves. */
int conn_open(struct conn **out, const struct conn_target *target,
	      struct transcript *t, struct error *err);

/* Close and free (NULL is a no-op).  Unsent buffered output is dropped. */
void conn_close(struct conn *c);

/* The numeric address and port actually connected to ("127.0.0.1 port 25"). */
const char *conn_peer(const struct conn *c);

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

/* Bytes received but not yet consumed by conn_read_line. */
size_t conn_pending(const struct conn *c);

#endif
