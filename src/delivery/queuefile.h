/*
 * queuefile.h - a queue entry's envelope: the struct every stage of the
 * queue passes along, its ids, and the text of its envelope file, written
 * and read back (one field table drives both).  It is not the queue
 * (queue.h): it opens no file and knows no directory, lock or owner; the
 * queue writes and reads the files, the spool helper (spoolframe.h)
 * sends the same text over its socket.
 *
 * The envelope file.  Text, one "key: value" line per field, the first
 * line being "version: 1".  In a value, '%' and the bytes 0x00-0x1f and
 * 0x7f are written as '%' and two upper-case hexadecimal digits (a line
 * feed is %0A); every other byte, spaces and UTF-8 included, stands for
 * itself, so any value without NUL is given back byte for byte.  Times
 * are decimal seconds since the epoch, 0 meaning never.  The keys, in the
 * order they are written:
 *
 *     version       1 (any other version is refused)
 *     id            the entry's id (the name of its directory)
 *     account       the account to send with; empty for the defaults
 *     host, port    a host and port given on the command line (optional)
 *     sender        the envelope sender; empty for the null sender <>
 *     rcpt          a recipient; one line each, in order
 *     priority      -9 to 9 (RFC 6710), higher is sent first
 *     dsn-notify, dsn-return, dsn-envid
 *                   the DSN parameters (RFC 3461), when given (optional;
 *                   a value RFC 3461 does not allow makes it damaged)
 *     created       when the message was queued
 *     attempts      how many delivery attempts have failed
 *     last-attempt  when the last one was made
 *     next-attempt  not to be tried again before this time
 *     last-error    why the last attempt failed (one line; optional)
 *     size          the size of the message file in bytes
 *     8bit          1 when the message has 8-bit bytes, else 0
 *     nul           1 when its body has NUL bytes (it goes only as
 *                   BODY=BINARYMIME, stream.h), else 0; an entry
 *                   without the key has none
 *
 * id, sender, at least one rcpt (none empty), created and size must be
 * present.  A key that is not known is ignored, so that a later version
 * may add keys without changing the version.
 */
#ifndef MAILPOST_QUEUEFILE_H
#define MAILPOST_QUEUEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "envelope.h"
#include "error.h"

/* An id: 16 lower-case hex digits, the creation time in seconds (8) and
 * 32 random bits (8), so that ids sort by age and never collide. */
#define QUEUE_ID_LEN 16
#define QUEUE_ID_SIZE (QUEUE_ID_LEN + 1)

/* Ceiling on an envelope file: room for thousands of recipients, far more
 * than the 100 a server must accept (RFC 5321 section 4.5.3.1.8), while a
 * corrupt or hostile file cannot make us allocate without bound. */
#define QUEUE_ENVELOPE_MAX (4 * 1024 * 1024)

/* RFC 6710 priorities run from -9 to 9; 0 is normal. */
#define QUEUE_PRIORITY_MIN ENVELOPE_PRIORITY_MIN
#define QUEUE_PRIORITY_MAX ENVELOPE_PRIORITY_MAX

/* A queued message's envelope (envelope.h: sender, recipients, DSN,
 * priority, the account with the --host/--port given at submission) and
 * what the queue knows besides its bytes.  Strings are owned
 * (queue_envelope_clear frees them); every string may hold any byte but
 * NUL (addresses with spaces, quotes, a leading '-', UTF-8 are stored and
 * given back byte for byte).  The recipients' states are not stored: an
 * entry read back has them all pending. */
struct queue_envelope {
	char id[QUEUE_ID_SIZE]; /* set by queue_add; "" before */
	struct envelope env;    /* env.account: "" for none (defaults) */
	time_t created;         /* when it was queued */
	unsigned attempts;      /* delivery attempts so far */
	time_t last_attempt;    /* 0: never */
	time_t next_attempt;    /* not to be tried before (0: at once) */
	char *last_error;       /* one line, or NULL */
	uint64_t size;          /* bytes of the message (set by queue_add) */
	bool has_8bit;          /* (set by queue_add) */
	bool has_nul;           /* (set by queue_add) */
	uid_t owner;            /* whose entry: set when read (the owner of
	                         * its directory); queue_add makes it its
	                         * euid, but root in the machine's spool
	                         * gives the entry to this owner */
};

/* The in-memory envelope keeps the queue's names (queue_envelope_*,
 * queue_id_valid): it is what the queue's callers hold. */
void queue_envelope_init(struct queue_envelope *e);
void queue_envelope_clear(struct queue_envelope *e);

/* True when s has the form of an id (for the command line's checks). */
bool queue_id_valid(const char *s);

/* Parse the text of an envelope file (the format above) of entry `id`
 * into e (initialised; the caller clears it whatever the result).
 * ERROR_DATA "queue entry ID: bad envelope: why" when it cannot be read.
 * For the queue's files, the spool helper's requests, the fuzz target
 * and tests. */
int queuefile_parse(const char *text, size_t len, const char *id,
                    struct queue_envelope *e, struct error *err);

/* The same on the len bytes at s, which it changes (the values are
 * unescaped in place): for a buffer the caller owns and drops after,
 * with no copy of it made. */
int queuefile_parse_in_place(char *s, size_t len, const char *id,
                             struct queue_envelope *e, struct error *err);

/* The text of e's envelope file (the format above) in out (initialised
 * here; the caller clears it): what queuefile_parse reads back.
 * ERROR_DATA when it would pass QUEUE_ENVELOPE_MAX. */
int queuefile_format(const struct queue_envelope *e, struct buf *out,
                     struct error *err);

#endif
