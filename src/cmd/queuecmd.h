/*
 * queuecmd.h - the commands that work on the queue without sending a new
 * message: -q (flush.h runs it), mailq/-bp and --queue-show/--queue-remove
 * (mailq.h shows it).  Each reads the configuration, chooses the account
 * (--account, else the default; no -f) for its queue directory, and
 * hands over; mailq and the entry commands go through the job's depot
 * (job_depot: the machine's spool through the spool helper, or the
 * queue directory).  Output goes to the FILE given (the driver passes stdout
 * for what was asked for, stderr for notices and the -v dialogue).
 */
#ifndef MAILPOST_QUEUECMD_H
#define MAILPOST_QUEUECMD_H

#include <stdio.h>

#include "error.h"
#include "flush.h"
#include "job.h"

/* -q: send what is queued (job->req's selection, --due), then
 * flush_verdict's one error for the run.  Signals are caught from here
 * on.  Notices and the -v dialogue go to diag; with --json, each entry
 * tried gets its result as one line of JSON on out (jsonout.h).  A caller
 * outside the group whose queue is the machine's spool never gets here:
 * job_load_config refuses it (ERROR_USAGE, saying what to run instead)
 * before any passwordeval runs; root's timer flushes that spool. */
int queuecmd_flush(struct job *job, FILE *out, FILE *diag, struct error *err);

/* mailq (-bp): the listing, on out. */
int queuecmd_list(struct job *job, FILE *out, struct error *err);

/* --queue-show or --queue-remove (job->req.mode) of the entry
 * job->req.queue_match: ERROR_USAGE when that is not a queue id, then as
 * mailq_entry. */
int queuecmd_entry(struct job *job, FILE *out, struct error *err);

/* A flush of the queue in dir as job->req asks (selection, --due,
 * --dead-letter, -v), the queued entries' accounts from job->cfg with the
 * command line over them (override_queued; job->queued holds what it
 * needs), notices on diag.  The caller may narrow it (a flush after a
 * send: one account, due entries only). */
void queuecmd_flush_request(struct job *job, const char *dir, FILE *diag,
                            struct flush_request *fr);

#endif
