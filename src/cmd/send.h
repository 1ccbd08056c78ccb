/*
 * send.h - the send mode (sendmail's default, mailx's): one message
 * prepared (prepare.h), sent through the outbox (outbox.h: the route,
 * then the queue or the dead letter file when it cannot go now), its
 * result written to the log (maillog.h), a queued message reported, and
 * after a delivery what waits in the queue for the same account and is
 * due sent too.  -bs sends each of its messages with the same pieces
 * (send_open_logs, send_post, send_log_result).
 *
 * Warnings, notices and the progress line go to the FILE the driver gives
 * (diag: stderr); the failure that decides the exit code is returned in
 * err, for the driver to print.
 */
#ifndef MAILPOST_SEND_H
#define MAILPOST_SEND_H

#include <stdio.h>

#include "conf.h"
#include "error.h"
#include "job.h"
#include "outbox.h"

/* The whole send: the account, the sender, the message, then (--dry-run)
 * the bytes on out, or the send, its log line, and what the user is told
 * of a queued message on diag. */
int send_run(struct job *job, FILE *out, FILE *diag, struct error *err);

/* The account's log file (job->logfile; "-" is stdout) and the
 * transcript (job->transcript: the -v dialogue on diag, and in the log
 * file with logfile_level transcript or -v).  A log file that cannot be
 * opened is a warning on diag and the mail goes without a log line;
 * only a FIFO that no process reads is an error (ERROR_CONFIG). */
int send_open_logs(struct job *job, FILE *diag, struct error *err);

/* tls_certcheck off is said on diag, on every run. */
void send_warn_insecure(const struct account *a, FILE *diag);

/* job->outbox, from the command line and the account: the queue policy
 * (--queue, else the account's queue; a server or one-off security
 * settings given on the command line are testing a server: never
 * queued unless asked for, and such settings cannot be queued at all),
 * where it waits (job_depot: the machine's spool through the spool
 * helper, else the queue directory; when there is none, why is kept
 * for the moment a message would need it), the back-off, and the dead
 * letter file (--dead-letter, the account's, else the default unless
 * testing a server; none for -bs, whose client keeps a refused message,
 * nor for "off").  ERROR_USAGE for --queue with settings a queued
 * message would not keep. */
int send_setup_outbox(struct job *job, struct error *err);

/* Send the prepared message, or keep it (outbox_post), with the outbox
 * set up from the command line and the account (queue policy, queue
 * directory, dead letter file: send_setup_outbox).  Signals are caught from
 * here on (interrupt.h).  The progress line of a big message goes to diag when
 * it is a terminal.  ERROR_USAGE for one-off security settings with
 * --queue; relay_route_build's and outbox_post's errors. */
int send_post(struct job *job, struct outbox_result *res, FILE *diag,
              struct error *err);

/* The result line of the message (res and err: NULL when it went), to
 * syslog and the log file as the account says; a log file that cannot
 * be written is said on diag. */
void send_log_result(const struct job *job, const struct outbox_result *res,
                     const struct error *err, FILE *diag);

#endif
