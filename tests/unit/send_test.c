/*
 * send_test.c - where a message of the send mode goes when it cannot go
 * now, as send_setup_outbox reads the command line and the account: the
 * queue policy (a server given on the command line is a test: no queue,
 * no dead letter, unless asked for), settings a queued message would not
 * keep, the dead letter file for -bs and "off".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "error.h"
#include "job.h"
#include "send.h"
#include "unit.h"
#include "util.h"

static void
job_start(struct job *job)
{
	memset(job, 0, sizeof *job);
	job_init(job);
	account_defaults(&job->acct);
	job->req.mode = CLI_SEND;
	job->req.queue_dir = "/var/spool/test-queue";
	job->acct.dead_letter = xstrdup("/home/test/dead.letter");
}

static void
job_end(struct job *job)
{
	memset(&job->req, 0, sizeof job->req);
	job_clear(job);
}

static int
setup(struct job *job, struct error *err)
{
	error_clear(err);
	return send_setup_outbox(job, err);
}

static void
test_policy(void)
{
	struct job job;
	struct error err;

	/* The account's server: queued on a temporary failure, and a dead
	 * letter for a permanent one. */
	job_start(&job);
	CHECK_INT(setup(&job, &err), 0);
	CHECK_INT(job.outbox.policy, QUEUE_ON_FAILURE);
	CHECK_STR(job.outbox.depot.dir, "/var/spool/test-queue");
	CHECK_STR(job.outbox.dead_letter, "/home/test/dead.letter");
	CHECK_INT(job.outbox.backoff, job.acct.queue_backoff);
	job_end(&job);

	/* The account's queue key. */
	job_start(&job);
	job.acct.queue = QUEUE_ALWAYS;
	CHECK_INT(setup(&job, &err), 0);
	CHECK_INT(job.outbox.policy, QUEUE_ALWAYS);
	job_end(&job);

	/* --host: testing a server; no queue (so no directory looked up),
	 * and the account's own dead letter file is still the user's
	 * choice, but no default one would be made. */
	job_start(&job);
	job.req.host = "127.0.0.1";
	CHECK_INT(setup(&job, &err), 0);
	CHECK_INT(job.outbox.policy, QUEUE_NEVER);
	CHECK(job.outbox.depot.dir == NULL);
	CHECK_STR(job.outbox.dead_letter, "/home/test/dead.letter");
	job_end(&job);

	/* --host and no dead letter file configured: none, not the
	 * default one. */
	job_start(&job);
	free(job.acct.dead_letter);
	job.acct.dead_letter = NULL;
	job.req.host = "127.0.0.1";
	CHECK_INT(setup(&job, &err), 0);
	CHECK(job.outbox.dead_letter == NULL);
	job_end(&job);

	/* --host --queue=on-failure: asked for, so queued. */
	job_start(&job);
	job.req.host = "127.0.0.1";
	job.req.queue = QUEUE_ON_FAILURE;
	CHECK_INT(setup(&job, &err), 0);
	CHECK_INT(job.outbox.policy, QUEUE_ON_FAILURE);
	job_end(&job);
}

static void
test_unqueueable(void)
{
	struct job job;
	struct error err;

	/* One-off security settings: never queued, even when the account
	 * says always, since the entry would go later without them. */
	job_start(&job);
	job.acct.queue = QUEUE_ALWAYS;
	job.req.tls = CLI_ON;
	CHECK_INT(setup(&job, &err), 0);
	CHECK_INT(job.outbox.policy, QUEUE_NEVER);
	job_end(&job);

	/* ... and asking for the queue with them is a usage error. */
	job_start(&job);
	job.req.auth = "on";
	job.req.queue = QUEUE_ALWAYS;
	CHECK_INT(setup(&job, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	CHECK(strstr(err.msg, "a queued message is sent with the account's "
	                      "settings") != NULL);
	job_end(&job);

	/* --queue=never with them is fine. */
	job_start(&job);
	job.req.user = "alice";
	job.req.queue = QUEUE_NEVER;
	CHECK_INT(setup(&job, &err), 0);
	CHECK_INT(job.outbox.policy, QUEUE_NEVER);
	job_end(&job);
}

static void
test_dead_letter(void)
{
	struct job job;
	struct error err;

	/* --dead-letter over the account's. */
	job_start(&job);
	job.req.dead_letter = "/tmp/given.letter";
	CHECK_INT(setup(&job, &err), 0);
	CHECK_STR(job.outbox.dead_letter, "/tmp/given.letter");
	job_end(&job);

	/* "off": none. */
	job_start(&job);
	job.req.dead_letter = "off";
	CHECK_INT(setup(&job, &err), 0);
	CHECK(job.outbox.dead_letter == NULL);
	job_end(&job);

	/* -bs: the client keeps a refused message; no second copy. */
	job_start(&job);
	job.req.mode = CLI_SERVE;
	CHECK_INT(setup(&job, &err), 0);
	CHECK(job.outbox.dead_letter == NULL);
	CHECK_INT(job.outbox.policy, QUEUE_ON_FAILURE);
	job_end(&job);
}

int
main(void)
{
	test_policy();
	test_unqueueable();
	test_dead_letter();
	return unit_done();
}
