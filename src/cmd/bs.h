/*
 * bs.h - sendmail's -bs mode: the SMTP server of serve.h on the given
 * descriptors (standard input and output), each message it accepts
 * prepared from the client's envelope (its sender and DSN as given, its
 * recipients through the aliases, each once; the data as a plain message,
 * headers completed) and sent or kept as the send mode does (send.h: the
 * account's route, the queue, the log line).  The reply to the client's
 * final dot is what became of the message, worded by fate.h
 * (fate_reply): 250 once it is delivered, or queued, or delivered to
 * some with the others queued; the failure's reply when a recipient who
 * did not get it is kept nowhere (refused for good, or refused for now
 * and not queued), since only the client can still keep it.
 *
 * The transcript and every message's failure go to diag (stderr), never
 * to out_fd, which is the SMTP session.
 */
#ifndef MAILPOST_BS_H
#define MAILPOST_BS_H

#include <stdio.h>

#include "error.h"
#include "job.h"

/* Run the session until QUIT or the end of input, with the account of
 * the job (loaded here) and its log file.  0, or -1 with err: the account
 * or the log file could not be used, or serve_run's errors (serve.h).
 * The failures of single messages are the client's replies and lines on
 * diag, not this result. */
int bs_run(struct job *job, int in_fd, int out_fd, FILE *diag,
           struct error *err);

#endif
