/*
 * spoolframe.h - the frames of the spool helper's protocol: the language
 * both sides speak over their socketpair (spoolgate.c the caller's side,
 * spoolserve.c the helper's).  It reads and writes whole frames and
 * checks each header against its type's ceiling; it is not either side:
 * it knows no request's meaning, no queue call, no process.
 *
 * The protocol.  A frame is a type byte, a length (4 bytes, big-endian)
 * and that many bytes.  Requests:
 *
 *   'A' add       the envelope as queuefile_format writes it, id
 *                 SPOOLFRAME_NEW_ID; then the message as 'D' frames of
 *                 1..SPOOLFRAME_CHUNK bytes, exactly its `size`, or an
 *                 empty '!' frame that gives up (nothing is stored)
 *   'X' dead      the same, into the spool's dead-letter queue (dead/),
 *                 the envelope's last-error saying why
 *   'L' list      (empty)
 *   'S' show      an id (QUEUE_ID_LEN bytes)
 *   'U' remove    an id
 *
 * Replies: 'K' ok (after add: the new id; after list and show: the end),
 * 'E' error (a kind byte, enum error_kind, then one line), and inside a
 * listing or a shown entry 'Q' (an entry: its id, then its envelope
 * text), 'G' (the same for a dead letter), 'Z' (a damaged entry: "ID:
 * why" in a listing, why in a show) and 'D' (message bytes of a shown
 * entry, up to SPOOLFRAME_CHUNK each).
 *
 * Both sides read and write whole frames; a short read is a peer gone.
 */
#ifndef MAILPOST_SPOOLFRAME_H
#define MAILPOST_SPOOLFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "queuefile.h"
#include "util.h"

/* A message travels in frames of this size (bounded memory both sides). */
#define SPOOLFRAME_CHUNK (64 * 1024)

/* The id an add request's envelope carries: the helper gives the real one. */
#define SPOOLFRAME_NEW_ID "0000000000000000"

/* Ceiling on one frame of any type: an envelope (the queue's own ceiling)
 * with its id in front. */
#define SPOOLFRAME_MAX (QUEUE_ENVELOPE_MAX + QUEUE_ID_LEN)

/* A frame header: type and a 32-bit big-endian length. */
#define SPOOLFRAME_HEADER_LEN 5

/* A frame's header as the protocol writes it (for tests of the parser). */
void spoolframe_header(unsigned char out[SPOOLFRAME_HEADER_LEN], char type,
                       uint32_t len);

/* A frame of type with the n bytes at p (n at most SPOOLFRAME_MAX, else
 * EMSGSIZE): 0, or -1 with errno. */
int spoolframe_write(int fd, char type, const void *p, size_t n);

/* n bytes, or: 1 at EOF before the first byte, -1 at EOF after it or on
 * an error (errno; EPIPE for a cut frame). */
int spoolframe_read(int fd, void *p, size_t n);

/* The next frame's header: 0, 1 at EOF, -1 when it cannot be read (errno)
 * or is malformed (*why: an unknown type, a length past its type's
 * ceiling), before anything is allocated for it. */
int spoolframe_next(int fd, char *type, uint32_t *len, const char **why);

/* A frame's payload, NUL-terminated, in a new string (len is checked by
 * spoolframe_next); NULL when the peer is gone. */
char *spoolframe_payload(int fd, uint32_t len);

#endif
