/*
 * stream.h - a message as it goes on the wire: canonical CRLF text read in
 * blocks, whose exact size and 8-bit content are known before the first
 * byte is read (SIZE=, BODY=8BITMIME).  A message read from standard input
 * (source.h), one composed from arguments (mime.h) and one taken back out
 * of the queue (queue.h) all present themselves this way, to submit.c, to
 * the queue and to the dead letter file alike.
 */
#ifndef MAILPOST_STREAM_H
#define MAILPOST_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct message_stream {
	/* Bytes placed in buf (at most n), 0 at the end, -1 with err set. */
	ssize_t (*read)(void *ctx, char *buf, size_t n, struct error *err);
	/* Back to the first byte, for another reader (the queue after a
	 * failed send, the dead letter file).  0 or -1 with err set. */
	int (*rewind)(void *ctx, struct error *err);
	void *ctx;
	uint64_t size;
	bool has_8bit;
	/* The body holds NUL bytes (the header never does: source.h).  Such
	 * a message goes only as BODY=BINARYMIME by BDAT (RFC 3030 3): 7-bit
	 * and 8BITMIME data may not hold NUL (RFC 5321 4.1.1.4, RFC 6152
	 * 3), and DATA cannot carry it (submit.c decides, once the server's
	 * offer is known). */
	bool has_nul;
	/* NULL when the message is whole.  Otherwise it is still being read
	 * from its input as it is sent (source.h): size is then an upper
	 * bound of its final size, or 0 when none is known, and has_8bit
	 * says only that none was seen yet.  Such a stream may go out while
	 * it is read only behind BODY=8BITMIME, without SIZE= (RFC 6152,
	 * RFC 1870); settle reads the rest and makes the message sendable,
	 * then fills in size, has_8bit and has_nul of *m and sets m->settle to
	 * NULL.
	 * Returns 0, 1 when what was sent so far is void (the rest could not
	 * go out as begun: send it again, whole), or -1 when the message
	 * could not be read whole or cannot be sent at all: nothing of it
	 * may then be sent, queued or saved, as when reading it fails before
	 * any sending.  Any copy's settle gives the same answer. */
	int (*settle)(void *ctx, struct message_stream *m, struct error *err);
};

#endif
