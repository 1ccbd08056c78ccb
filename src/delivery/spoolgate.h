/*
 * spoolgate.h - the spool helper of a setgid installation: Postfix's
 * postdrop in one forked process.  It keeps the group (privilege.h) so
 * that a caller outside the group can use the machine's spool (the
 * system configuration's queue_dir, 2770 root:GROUP) while the caller's
 * own process has given the group up for good.
 *
 * Who does what.  job.c forks the helper (spoolgate_start) after the
 * system configuration was read with the group and before the group is
 * dropped, only for a caller other than root using the system
 * configuration in a mode that may need the spool.  The child forgets
 * the run (the caller's hook wipes the configuration and its secrets),
 * keeps descriptor 0-2 on /dev/null and its end of a socketpair and
 * nothing else, empties its environment, ignores the terminal's signals
 * (the caller's side decides what an interrupted send becomes, and needs
 * the helper for it), opens the spool and its dead-letter queue with the
 * group raised, and serves requests until the socket ends.  Its uid is
 * the caller's: an entry it writes is owned by the caller, and the queue
 * shows it only the caller's entries.  The group is raised only around
 * the queue's own calls.
 *
 * Threat model.  The caller owns the other end: it can send any bytes,
 * stop half-way, or kill the helper (same uid); it cannot ptrace it (not
 * dumpable) nor give it a descriptor it did not ask for.  So every
 * request is hostile input: each frame has a type and a length checked
 * against that type's ceiling before anything is allocated, an envelope
 * is parsed with queue_envelope_parse and refused when damaged, an id is
 * checked with queue_id_valid, and a message is taken as frames of at
 * most SPOOLGATE_CHUNK bytes adding up to exactly the size the envelope
 * announced.  One request at a time; a malformed frame ends the session
 * (the stream is out of step) after an error reply; EOF ends it quietly.
 * The helper opens nothing by a name the caller gives: ids name entries
 * inside the spool it opened itself, never through a symbolic link.
 *
 * The protocol.  A frame is a type byte, a length (4 bytes, big-endian)
 * and that many bytes.  Requests:
 *
 *   'A' add       the envelope as queue_envelope_format writes it, id
 *                 SPOOLGATE_NEW_ID; then the message as 'D' frames of
 *                 1..SPOOLGATE_CHUNK bytes, exactly its `size`, or an
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
 * entry, up to SPOOLGATE_CHUNK each).
 *
 * Errors are those of the queue (queue.h), returned to the caller's side
 * as they are; ERROR_TEMPFAIL "the spool helper ..." when the helper is
 * gone or answers out of step (the caller then does what it does without
 * a queue: the dead letter file, exit 75 at worst); ERROR_USAGE for an
 * unknown id, ERROR_TEMPFAIL for an entry being sent.
 */
#ifndef MAILPOST_SPOOLGATE_H
#define MAILPOST_SPOOLGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "queue.h"
#include "stream.h"
#include "util.h"

/* A message travels in frames of this size (bounded memory both sides). */
#define SPOOLGATE_CHUNK (64 * 1024)

/* The id an add request's envelope carries: the helper gives the real one. */
#define SPOOLGATE_NEW_ID "0000000000000000"

/* Ceiling on one frame of any type: an envelope (the queue's own ceiling)
 * with its id in front. */
#define SPOOLGATE_FRAME_MAX (QUEUE_ENVELOPE_MAX + QUEUE_ID_LEN)

struct spoolgate;

/* Fork the helper for the spool in dir (group: the spool's group, as
 * queue_open_shared takes it).  In the child, forget(arg) runs first (it
 * must free and wipe what the caller's run holds: the configuration and
 * its secrets, the command line), then the child serves and exits; it
 * never returns here.  In the caller: 0 and *out, whose requests fail
 * with the helper's reason when it could not open the spool; -1 with
 * ERROR_OSERR when socketpair or fork failed. */
int spoolgate_start(struct spoolgate **out, const char *dir, gid_t group,
                    void (*forget)(void *arg), void *arg, struct error *err);

/* The caller's side over fd, whose other end runs spoolgate_serve (for
 * tests: no process of its own to reap). */
struct spoolgate *spoolgate_attach(int fd, const char *dir);

/* Close the caller's end (the helper sees EOF and exits) and reap it. */
void spoolgate_close(struct spoolgate *g);

/* The spool's directory (for messages). */
const char *spoolgate_dir(const struct spoolgate *g);

/* Store m (rewound first, exactly m->size bytes) with env (id, size,
 * has_8bit ignored; created 0 means now) in the spool, or with dead in
 * its dead-letter queue; the new entry's id in id.  As queue_add. */
int spoolgate_add(struct spoolgate *g, bool dead,
                  const struct queue_envelope *env, struct message_stream *m,
                  char id[QUEUE_ID_SIZE], struct error *err);

/* The caller's entries (best first, as queue_list), its damaged entries
 * ("ID: why" lines) and its dead letters; each envelope's owner is the
 * caller.  Free with spoolgate_listing_clear. */
struct spoolgate_listing {
	struct queue_envelope *entries;
	size_t nentries;
	struct strlist damaged;
	struct queue_envelope *dead;
	size_t ndead;
};

int spoolgate_list(struct spoolgate *g, struct spoolgate_listing *out,
                   struct error *err);
void spoolgate_listing_clear(struct spoolgate_listing *l);

/* One entry of the caller's, in either queue, being shown: its envelope
 * (NULL when it could not be read), why it is damaged (NULL when it is
 * not), whether it is a dead letter, and its message, read from the
 * helper as it comes (message.size is not known: 0).  Read the message
 * to its end (0), then spoolgate_shown_clear. */
struct spoolgate_shown {
	struct spoolgate *g;
	char id[QUEUE_ID_SIZE];
	struct queue_envelope env;
	bool has_env;
	char *damage;
	bool dead;
	struct message_stream message;
	uint32_t left; /* bytes of the current 'D' frame not yet read */
	bool ended;
};

int spoolgate_show(struct spoolgate *g, const char *id,
                   struct spoolgate_shown *out, struct error *err);
void spoolgate_shown_clear(struct spoolgate_shown *s);

/* Remove the caller's entry id from either queue. */
int spoolgate_remove(struct spoolgate *g, const char *id, struct error *err);

/* The helper's side, for the child and for tests: serve requests on fd
 * with the spool q and its dead-letter queue dead (NULL: none), or, when
 * q is NULL, answer every request with *broken (why the spool could not
 * be opened).  Around each queue call the group is raised when it is
 * held.  Returns at EOF (0) or after a malformed frame or a lost socket
 * (-1). */
int spoolgate_serve(int fd, struct queue *q, struct queue *dead,
                    const struct error *broken);

/* A frame's header as the protocol writes it (for tests of the parser). */
void spoolgate_frame_header(unsigned char out[5], char type, uint32_t len);

#endif
