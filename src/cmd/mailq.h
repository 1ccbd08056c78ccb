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
#include <time.h>

#include "error.h"
#include "queue.h"

/* The listing: for each entry its id, size, age, priority, attempts,
 * sender, then one recipient per line and the last error; a total line;
 * then the damaged entries ("ID: why", queue_damaged), which are never
 * sent.  "Mail queue is empty" when there is nothing at all.  ERROR_IOERR when
 * out fails. */
int mailq_print(FILE *out, const struct queue_envelope *v, size_t n,
                const struct strlist *damaged, time_t now, struct error *err);

/* One entry: its envelope as "Key: value" lines, an empty line, then the
 * message exactly as queued.  A damaged entry (queue_entry_damage) has a
 * "Damaged: why" line after its id, and then what could be read of it:
 * the envelope, the message file's bytes as they are. */
int mailq_show(FILE *out, struct queue_entry *e, struct error *err);

/* mailq (-bp): the queue in dir listed on out as mailq_print does.  A
 * queue directory that does not exist is an empty queue, not an error. */
int mailq_list(FILE *out, const char *dir, time_t now, struct error *err);

/* --queue-show (remove false) or --queue-remove: the entry id (checked
 * with queue_id_valid by the caller) in the queue in dir, claimed first.
 * ERROR_USAGE when there is no such entry, ERROR_TEMPFAIL when another
 * mailpost is sending it.  A damaged entry is shown as far as it can be
 * read and then ERROR_IOERR says so; it can be removed. */
int mailq_entry(FILE *out, const char *dir, const char *id, bool remove,
                struct error *err);

/* "42s", "5m", "2h05m", "3d04h": an age for the listing. */
void mailq_age(time_t seconds, char *out, size_t n);

#endif
