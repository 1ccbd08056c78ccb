/*
 * progress.h - the progress line of a big send: "mailpost: sent 3.4 MB of
 * 12.0 MB (28%), 1.1 MB/s", redrawn in place (CR) on the FILE given (the
 * driver passes stderr, and only when a person is watching) as submit
 * reads the message, at most every PROGRESS_INTERVAL_MS, and ended with a
 * newline after the last byte or by progress_end.  It only counts and
 * draws: the bytes and errors of the stream it wraps pass through as they
 * are.
 */
#ifndef MAILPOST_PROGRESS_H
#define MAILPOST_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stream.h"

#define PROGRESS_MIN_SIZE (1024 * 1024) /* only for messages over 1 MiB */

/* Wraps the message stream, counting what submit reads from it.  The
 * caller owns it (zeroed, progress_end does nothing) for as long as the
 * wrapped stream is read. */
struct progress {
	struct message_stream inner;
	FILE *out;
	uint64_t done;
	int64_t start_ms, shown_ms;
	bool shown; /* a line is on the terminal */
	bool ended; /* and it was ended with a newline */
};

/* m, drawing its progress on out as it is read; a rewind (another
 * attempt: failover, or the queue) starts the count again. */
struct message_stream progress_wrap(struct progress *p,
                                    const struct message_stream *m, FILE *out);

/* End the line (after the last byte, or when the send failed midway), so
 * that what follows on out starts on a line of its own. */
void progress_end(struct progress *p);

#endif
