/*
 * pretend.h - what a send would do, shown instead of done, on the FILE
 * the driver gives (stdout): --pretend (msmtp's -P) prints the settings
 * a send would use, as "key = value" lines; --dry-run prints the exact
 * bytes that would be sent.  Neither connects, nor asks for a password:
 * a password and a passwordeval command (which may hold one) show as
 * "*".
 */
#ifndef MAILPOST_PRETEND_H
#define MAILPOST_PRETEND_H

#include <stdio.h>

#include "error.h"
#include "job.h"
#include "stream.h"

/* --pretend: the account (job_load_account) and the sender
 * (job_choose_sender; with --read-envelope-from it would come from the
 * message, which is not read) chosen, then pretend_settings. */
int pretend_run(struct job *job, FILE *out, struct error *err);

/* The settings of job->acct and job->env.sender: the configuration file and
 * account, the connection, the credentials' sources, the message
 * settings.  ERROR_IOERR when out cannot be written. */
int pretend_settings(FILE *out, const struct job *job, struct error *err);

/* --dry-run: the whole stream m, to out.  m's read errors; ERROR_IOERR
 * when out cannot be written. */
int pretend_message(FILE *out, const struct message_stream *m,
                    struct error *err);

#endif
