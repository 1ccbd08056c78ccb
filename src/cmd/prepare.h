/*
 * prepare.h - the message of a job (job.h), made ready to send: read
 * whole from standard input and passed through with its header completed
 * (sendmail mode, -bs), or composed from the command line's arguments
 * with standard input as the body (mailx mode, mime.h).  Either way the
 * result is job->stream, what is sent (or printed by --dry-run), with
 * job->env.priority taken from the message or from --priority.
 *
 * The header is completed and cleaned as the account says: From, Date
 * and Message-ID added (the sender in header form: A-labels), Bcc
 * removed, and for system mail the local From and bare names rewritten
 * (rewrite.h).
 */
#ifndef MAILPOST_PREPARE_H
#define MAILPOST_PREPARE_H

#include "error.h"
#include "job.h"

/* --read-envelope-from: standard input is read now, before the account is
 * chosen, and its From address becomes the sender (job->req.sender), as
 * -f would.  source_open's and source_sender's errors. */
int prepare_envelope_from(struct job *job, struct error *err);

/* The message to send: with job->req.compose composed (a file named on
 * the command line that cannot be read is ERROR_NOINPUT before the body
 * is typed on a terminal), else read from standard input (unless
 * prepare_envelope_from read it); then the recipients (-t's included,
 * job_collect_recipients) and the completed header.  The sender must be
 * chosen (job_choose_sender). */
int prepare_message(struct job *job, struct error *err);

/* A message already open in job->message (-bs): header hygiene, priority,
 * header completion, the checks, and job->stream. */
int prepare_finish_plain(struct job *job, struct error *err);

#endif
