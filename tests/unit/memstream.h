/*
 * memstream.h - a message in memory as a struct message_stream, for the
 * unit tests of what reads one (the queue, the spool helper, the dead
 * letter file, the downgrade): reads as small as a test asks, a read
 * error at a chosen offset, rewind.  Not a harness (unit.h is): include
 * both where a test needs a message.
 */
#ifndef MAILPOST_MEMSTREAM_H
#define MAILPOST_MEMSTREAM_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "error.h"
#include "stream.h"
#include "util.h"

/* The error a read at or past fail_at gives. */
#define MEMSTREAM_ERROR "simulated read error"

struct memstream {
	const char *data;
	size_t len;
	size_t pos;
	size_t chunk;   /* at most this much per read (0: as much as asked) */
	size_t fail_at; /* a read from this offset on fails (SIZE_MAX: none) */
};

static ssize_t
memstream_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct memstream *m = ctx;

	if (m->pos >= m->fail_at)
		return error_set(err, ERROR_IOERR, MEMSTREAM_ERROR);
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	if (m->chunk && n > m->chunk)
		n = m->chunk;
	if (m->pos + n > m->fail_at)
		n = m->fail_at - m->pos;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int
memstream_rewind(void *ctx, struct error *err)
{
	(void)err;
	((struct memstream *)ctx)->pos = 0;
	return 0;
}

/* The len bytes at data (which must outlive the stream) as a stream of
 * reads of at most chunk bytes (0: as much as asked), without a read
 * error until the caller sets m->fail_at; has_8bit says whether they
 * hold a byte over 127. */
static struct message_stream
memstream_of(struct memstream *m, const char *data, size_t len, size_t chunk)
{
	m->data = data;
	m->len = len;
	m->pos = 0;
	m->chunk = chunk;
	m->fail_at = SIZE_MAX;
	return (struct message_stream){.read = memstream_read,
	                               .rewind = memstream_rewind,
	                               .ctx = m,
	                               .size = len,
	                               .has_8bit = str_has_8bit(data, len)};
}

#endif
