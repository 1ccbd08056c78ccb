/*
 * quitafter.h - --quit-after: test a server up to one step of a session
 * (connect, greeting, ehlo, tls, auth, mail, rcpt, data) and no further,
 * as swaks --quit-after does, with the engine that sends the mail.
 *
 * No message is read (standard input stays untouched) and none is sent,
 * queued, logged or saved as a dead letter, whatever fails: nothing was
 * meant to be delivered.  The first host of the account's route is
 * tested, with no failover: a test is of one server.  Stopping after tls
 * needs TLS, after auth authentication (else ERROR_USAGE: the test would
 * pass without testing anything).  From mail on the envelope sender is
 * chosen as for a send, from rcpt on the recipients are those of the
 * command line (through the aliases).
 */
#ifndef MAILPOST_QUITAFTER_H
#define MAILPOST_QUITAFTER_H

#include <stdio.h>

#include "error.h"
#include "job.h"

/* The test of job->req.quit_after: 0 when every step up to it succeeded
 * (a line saying so on diag unless --quiet), else -1 with err as a send
 * would have failed at that step (the exit code maps from it). */
int quitafter_run(struct job *job, FILE *diag, struct error *err);

#endif
