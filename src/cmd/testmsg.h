/*
 * testmsg.h - --test: the built-in test message, so that one line tests
 * a server (mailpost --test -v --host mx.example.org alice@example.org).
 *
 * It is composed as mailx mode composes (-s, --body): From is the
 * envelope sender, To the recipients, Date and Message-ID always (the
 * account's set_date_header / set_msgid_header off do not apply: a test
 * message is dated and identified), a subject that says what it is, which
 * host sent it and when ("mailpost test message from HOST at DATE"), and
 * a short body naming the account, server, port, protocol, TLS and AUTH
 * settings it was sent with.  Standard input is not read.
 */
#ifndef MAILPOST_TESTMSG_H
#define MAILPOST_TESTMSG_H

#include <time.h>

#include "error.h"
#include "job.h"

/* Make job->req compose the test message (req.compose, subject and
 * body_text, stored in job->test_subject and job->test_body) from the
 * account and sender already chosen (job_load_account,
 * job_choose_sender); `now` is the time it names.  Never fails but on a
 * date that cannot be written (ERROR_SOFTWARE). */
int testmsg_prepare(struct job *job, time_t now, struct error *err);

#endif
