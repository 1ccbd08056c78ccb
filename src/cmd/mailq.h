/*
 * mailq.h - the queue as the user sees it: `mailq` (-bp) lists every entry,
 * --queue-show prints one.  Output goes to the FILE given (the driver
 * passes stdout); untrusted text (addresses, the last error) is censored
 * before it reaches a terminal.
 */
#ifndef MAILPOST_MAILQ_H
#define MAILPOST_MAILQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "depot.h"
#include "error.h"
#include "queue.h"

/* What a listing shows: the entries (queue_list) and the damaged ones
 * (queue_damaged, "ID: why"; NULL: none); for the machine's spool its
 * dead letters too (from queue_open_shared_dead), and for root there an
 * owner column (every user's entries are listed). */
struct mailq_listing {
	const struct queue_envelope *v;
	size_t n;
	const struct strlist *damaged;
	const struct queue_envelope *dead;
	size_t ndead;
	bool owners;
};

/* The listing: for each entry its id, size, age, priority, attempts,
 * (owner,) sender, then one recipient per line and the last error; a
 * total line; then the dead letters under their own heading: id, size,
 * since when given up, (owner,) sender, recipients, why; then the
 * damaged entries, which are never sent.  "Mail queue is empty" when
 * there is nothing at all.  ERROR_IOERR when out fails. */
int mailq_print(FILE *out, const struct mailq_listing *l, time_t now,
                struct error *err);

/* How mailq_show shows an entry of the machine's spool: with an Owner
 * line (its login name and uid), and whether it is a dead letter. */
struct mailq_show_how {
	bool owner;
	bool dead;
};

/* One entry: its envelope as "Key: value" lines, an empty line, then the
 * message exactly as queued.  A damaged entry (depot_entry's damage) has
 * a "Damaged: why" line after its id, and then what could be read of it:
 * the envelope, the message file's bytes as they are; a dead letter a
 * "Dead-Letter" line.  how may be NULL (a queue of one's own). */
int mailq_show(FILE *out, struct depot_entry *e,
               const struct mailq_show_how *how, struct error *err);

/* mailq (-bp): the queue of d (depot.h) listed on out as mailq_print
 * does; for the machine's spool its dead letters too, and for root every
 * owner's entries with their owners.  A queue directory that does not
 * exist is an empty queue, not an error. */
int mailq_list(FILE *out, const struct depot *d, time_t now, struct error *err);

/* --queue-show (remove false) or --queue-remove: the entry id (checked
 * with queue_id_valid by the caller) of d, claimed first; in the
 * machine's spool found among the dead letters too.  ERROR_USAGE when
 * there is no such entry (another user's entry is none), ERROR_TEMPFAIL
 * when another mailpost is sending it.  A damaged entry is shown as far
 * as it can be read and then ERROR_IOERR says so; it can be removed. */
int mailq_entry(FILE *out, const struct depot *d, const char *id, bool remove,
                struct error *err);

/* "42s", "5m", "2h05m", "3d04h": an age for the listing. */
void mailq_age(time_t seconds, char *out, size_t n);

#endif
