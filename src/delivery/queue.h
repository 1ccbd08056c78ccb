/*
 * queue.h - the spool: messages waiting for a later attempt.
 *
 * One directory per queue (mode 0700, owned by the user, never reached
 * through a symbolic link).  Each entry is complete or absent, whatever
 * instant the process is killed at: it is built in a private directory
 * under tmp/ (written, fsync'ed) and renamed into place in one step, and
 * the queue directory is fsync'ed after.  The on-disk format is described
 * at the top of queue.c (the envelope file's text in queuefile.h) and in
 * mailpost(1), section QUEUE.
 *
 * Sending an entry is done under an exclusive lock on it (queue_claim), so
 * that two flushes running at once never send the same entry twice: the
 * second one finds it busy (or gone) and skips it.
 *
 * An entry that cannot be sent as it is (see "Damaged entries" at the top
 * of queue.c: an unreadable envelope, a message file missing, a symbolic
 * link, of the wrong size or owner...) is damaged: never listed with the
 * others nor sent, always named by queue_damaged.
 *
 * The machine's spool (queue_open_shared: a setgid installation's one
 * queue for every user, root:GROUP 2770) holds every user's entries: an
 * entry belongs to the owner of its directory (0700; its files 0600 and
 * that owner's, else it is damaged).  Root sees and may claim every
 * entry; any other process only its own: another's is left out of
 * queue_list and queue_damaged, and queue_claim finds it gone.  Its
 * dead-letter queue (queue_open_shared_dead, DIR/dead) has the same
 * entries, never flushed, each saying why in its last error.
 *
 * Errors: ERROR_IOERR for what the file system refused (ENOSPC, EIO...),
 * ERROR_CONFIG for a queue directory that is unsafe (a symbolic link, not
 * ours, group/world writable; for the spool: not root:GROUP, or open to
 * others), ERROR_DATA for an entry that cannot be parsed, ERROR_USAGE for
 * an unknown id given by the user.
 */
#ifndef MAILPOST_QUEUE_H
#define MAILPOST_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "envelope.h"
#include "error.h"
#include "queuefile.h"
#include "stream.h"
#include "util.h"

/* The queue directory when no queue_dir is configured:
 * $XDG_STATE_HOME/mailpost/queue, else ~/.local/state/mailpost/queue.
 * A new string; NULL with ERROR_CONFIG when there is no home to put it. */
char *queue_default_dir(struct error *err);

struct queue;

/* Open a queue directory, creating it (and missing parents, 0700) when it
 * does not exist.  Refused (ERROR_CONFIG): a symbolic link anywhere in the
 * last component, not a directory, owned by another user, or writable by
 * group or others.  Leftovers of writers killed mid-way (tmp/ entries more
 * than an hour old) are removed. */
int queue_open(struct queue **out, const char *dir, struct error *err);

/* queue_open with a clock for the times the queue takes itself (an
 * entry's creation when none is given, the age of tmp/ leftovers):
 * clock() instead of time(2) when not NULL, so that a test can set it
 * (outbox.h, flush.h). */
int queue_open_clock(struct queue **out, const char *dir, time_t (*clock)(void),
                     struct error *err);

/* Open the machine's spool dir (a setgid installation's, group its
 * group), made root:GROUP 2770 with tmp/ and dead/ when missing and this
 * process is root.  Refused (ERROR_CONFIG): a relative path (each run
 * would find its own, by its working directory), a symbolic link, not a
 * directory, DIR, DIR/tmp or DIR/dead not owned by root or not of the
 * group, or with any permission for others; missing (but for root).
 * Leftovers under tmp/ are cleaned as queue_open does: root's process
 * cleans every user's, another only its own.  Entries are added,
 * listed, claimed and removed as in any queue, with the owners' rules
 * at the top of this file. */
int queue_open_shared(struct queue **out, const char *dir, gid_t group,
                      struct error *err);
int queue_open_shared_clock(struct queue **out, const char *dir, gid_t group,
                            time_t (*clock)(void), struct error *err);

/* The spool's dead-letter queue, DIR/dead, checked as the spool is (and
 * the spool with it): entries whose delivery was given up, added by
 * queue_add (a caller's dead letter, last_error saying why) or moved from
 * the spool by queue_entry_bury; listed, claimed and removed like any
 * entries, never sent. */
int queue_open_shared_dead(struct queue **out, const char *dir, gid_t group,
                           struct error *err);

/* The queue a job chose: queue_open_clock, or with spool_group not NULL
 * (the machine's spool, of that group) queue_open_shared_clock. */
int queue_open_as(struct queue **out, const char *dir, const gid_t *spool_group,
                  time_t (*clock)(void), struct error *err);

/* An entry owner's login name, censored for a terminal, or its uid for
 * a user since deleted: one word, for mailq, notices and the log line.
 * Returns buf. */
const char *queue_owner_name(uid_t uid, char *buf, size_t n);

/* Opened by queue_open_shared or queue_open_shared_dead. */
bool queue_is_shared(const struct queue *q);

void queue_close(struct queue *q);
const char *queue_dir(const struct queue *q);

/* Store a message: env (id, size, has_8bit, has_nul ignored; created 0 means
 * now) and every byte of m (rewound first when it can be, else read from its
 * current position, to the end: exactly m->size bytes).  Only when the entry is
 * durably in place (fsync of the files and of the queue directory) is `id`
 * filled and 0 returned.  On any failure, nothing is left behind (ERROR_IOERR
 * naming the cause, e.g. "No space left on device").  Signals that arrive
 * meanwhile do not interrupt it.  The entry is this process's, except
 * that root in the machine's spool makes it env->owner's (the rest of a
 * user's entry after a partial delivery stays that user's). */
int queue_add(struct queue *q, const struct queue_envelope *env,
              struct message_stream *m, char id[QUEUE_ID_SIZE],
              struct error *err);

/* Every complete entry's envelope, best first: higher priority first,
 * then older first.  *out is an array of *n envelopes (free with
 * queue_list_free).  A damaged entry is left out (queue_damaged names
 * it), and so is one being removed. */
int queue_list(struct queue *q, struct queue_envelope **out, size_t *n,
               struct error *err);
void queue_list_free(struct queue_envelope *v, size_t n);

/* The damaged entries, which queue_list leaves out, as "ID: why" lines
 * appended to out: they are never sent, so they must at least be seen.
 * An entry that vanishes meanwhile is not one of them. */
int queue_damaged(struct queue *q, struct strlist *out, struct error *err);

/* An entry taken for sending (or removing): locked until released. */
struct queue_entry;

enum queue_claim_result {
	QUEUE_CLAIMED = 0,
	QUEUE_BUSY,    /* another process holds it */
	QUEUE_GONE,    /* no such entry (any more) */
	QUEUE_DAMAGED, /* damaged: *out is set, err says why */
};

/* Lock entry `id` without waiting.  Returns a queue_claim_result, or -1 on
 * an error (err set).  A claimed entry is re-read after the lock is held,
 * so what it says is current.  A damaged entry is handed out too (locked
 * when it has a regular message file to lock), so that it can be shown
 * and removed; it cannot be sent nor marked failed. */
int queue_claim(struct queue *q, const char *id, struct queue_entry **out,
                struct error *err);

const char *queue_entry_id(const struct queue_entry *e);

/* NULL only for a damaged entry whose envelope could not be read.  The
 * sender of a claimed entry may record its recipients' states in it (they
 * are not stored; queue_entry_failed writes the rest as it was read). */
struct queue_envelope *queue_entry_envelope(struct queue_entry *e);

/* Why a damaged entry cannot be sent (one line, without its id); NULL for
 * an entry that can. */
const char *queue_entry_damage(const struct queue_entry *e);

/* The message of a claimed entry, positioned at its first byte (rewind
 * works); valid until the entry is released.  For a damaged entry: the
 * bytes of its message file as they are when it is a regular file (in
 * the machine's spool, for a process other than root, only one of its
 * own), else nothing. */
struct message_stream queue_entry_message(struct queue_entry *e);

/* Whether the entry has left the queue (removed, or moved into the
 * spool's dead letters). */
bool queue_entry_removed(const struct queue_entry *e);

/* After a failed attempt at `when` (the caller's clock): attempts + 1,
 * last_attempt = when, the error line, the next attempt time.  The
 * envelope is replaced atomically. */
int queue_entry_failed(struct queue_entry *e, const char *error_line,
                       time_t when, time_t next_attempt, struct error *err);

/* The same, with the entry's recipients narrowed to those whose state,
 * as the attempt recorded it, is in `states` (ENVELOPE_BIT; they are
 * pending again after): after a partial delivery, so that those who have
 * the message do not get it twice.  The new envelope replaces the old one
 * in one step (a temporary file, then rename), so a crash leaves one or
 * the other, never a mix.  ERROR_SOFTWARE when no recipient is in those
 * states. */
int queue_entry_narrow(struct queue_entry *e, unsigned states,
                       const char *error_line, time_t when, time_t next_attempt,
                       struct error *err);

/* Remove the entry (after it was delivered, dead-lettered or removed on
 * request; a damaged one too): it disappears from the listing in one
 * step. */
int queue_entry_remove(struct queue_entry *e, struct error *err);

/* Move a claimed entry of the spool into the spool's dead-letter queue
 * dead (queue_open_shared_dead): as queue_entry_failed with `why` at
 * `when` (states not 0: as queue_entry_narrow, after a partial
 * delivery), then one rename, so it is in one queue or the other, never
 * both nor neither; it keeps its id and owner.  ERROR_SOFTWARE for an
 * entry not in a spool, removed or damaged. */
int queue_entry_bury(struct queue_entry *e, struct queue *dead, unsigned states,
                     const char *why, time_t when, struct error *err);

/* Unlock and free (NULL is a no-op). */
void queue_entry_release(struct queue_entry *e);

#endif
