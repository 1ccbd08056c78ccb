/*
 * depot.h - where a message waits when it cannot go now, and where the
 * queue commands look: the caller's own queue directory, or the machine's
 * spool through the spool helper (spoolgate.h) for a caller outside the
 * group of a setgid installation.  The job chooses once (job.c: a helper
 * was started or not); outbox.c (queueing, the dead-letter fallback),
 * mailq.c and queuecmd.c go through these functions and never ask which.
 *
 * Errors are the queue's (queue.h) or the helper's (spoolgate.h).
 */
#ifndef MAILPOST_DEPOT_H
#define MAILPOST_DEPOT_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "error.h"
#include "queue.h"
#include "spoolgate.h"
#include "stream.h"

struct depot {
	const char *dir;        /* the queue directory (created when first
	                         * needed); NULL: none */
	const char *problem;    /* why there is none (a message) */
	const gid_t *spool;     /* dir is the machine's spool, of this group
	                         * (root's: queue_open_as); NULL: a queue of
	                         * one's own */
	time_t (*clock)(void);  /* the local queue's clock; NULL: time(2) */
	struct spoolgate *gate; /* the machine's spool through the helper;
	                         * then nothing above is used */
};

/* The place, for messages: the queue directory or the spool's. */
const char *depot_where(const struct depot *d);

/* The machine's spool through the helper: root's timer flushes it (a
 * send does not, and the caller may not run -q on it). */
bool depot_by_helper(const struct depot *d);

/* The machine's spool, which has dead letters (dead/). */
bool depot_has_dead_letters(const struct depot *d);

/* Store a message, as queue_add (the queue opened first; ERROR_CONFIG
 * with the problem when there is none). */
int depot_add(const struct depot *d, const struct queue_envelope *env,
              struct message_stream *m, char id[QUEUE_ID_SIZE],
              struct error *err);

/* A dead letter into the spool's dead-letter queue (env's last_error says
 * why): only the machine's spool has one; otherwise ERROR_CONFIG. */
int depot_add_dead(const struct depot *d, const struct queue_envelope *env,
                   struct message_stream *m, char id[QUEUE_ID_SIZE],
                   struct error *err);

/* The entries the caller may see, the damaged ones ("ID: why"; a dead
 * letter's said so) and the dead letters (spoolgate.h); a queue
 * directory that does not exist is empty. */
int depot_list(const struct depot *d, struct spoolgate_listing *out,
               struct error *err);

/* One entry named by the user, in the queue or among the dead letters,
 * held (claimed) while it is shown: what mailq_show prints.  Close it with
 * depot_entry_close whatever depot_entry_open returned.  ERROR_USAGE "no
 * queued message ID" when there is none the caller may see,
 * ERROR_TEMPFAIL when another mailpost is sending it. */
struct depot_entry {
	const char *id;
	const struct queue_envelope *env; /* NULL: its envelope is unreadable */
	const char *damage;               /* why it is never sent, or NULL */
	bool dead;                        /* a dead letter */
	struct message_stream message;    /* its bytes (size 0: not known) */
	/* the way it was found */
	struct queue *q;
	struct queue_entry *e;
	struct spoolgate_shown shown;
	bool remote;
};

int depot_entry_open(const struct depot *d, const char *id,
                     struct depot_entry *out, struct error *err);
void depot_entry_close(struct depot_entry *e);

/* Remove the entry id (the caller's own only, in a shared spool). */
int depot_remove(const struct depot *d, const char *id, struct error *err);

#endif
