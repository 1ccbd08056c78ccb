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
};

#endif
