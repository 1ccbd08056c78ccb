/*
 * job_test.c - the sender and the recipients of a job: which address
 * the envelope gets from -f, --from and the account (a wildcard `from`, a
 * proxy that must not learn this host's name), and the recipients as the
 * command line gives them (lists, groups, duplicates, maildomain).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "identity.h"
#include "job.h"
#include "unit.h"
#include "util.h"

/* A job whose account has the built-in defaults, as with no file. */
static void
job_start(struct job *job)
{
	memset(job, 0, sizeof *job);
	job_init(job);
	account_defaults(&job->acct);
}

/* job_clear, with the command line's arrays (the test's own) let go. */
static void
job_end(struct job *job)
{
	memset(&job->req, 0, sizeof job->req);
	job_clear(job);
}

/* The sender chosen, or the error's kind and text when there is none. */
static void
check_sender(struct job *job, const char *want)
{
	struct error err;

	error_clear(&err);
	if (job_choose_sender(job, &err) < 0) {
		char m[600];

		snprintf(m, sizeof m, "sender %.200s: error %.300s", want,
		         err.msg);
		unit_report(0, __FILE__, __LINE__, m);
		return;
	}
	CHECK_STR(job->env.sender, want);
}

static void
test_sender(void)
{
	struct job job;
	struct error err;
	char want[512];

	/* -f, where the account allows it (the default). */
	job_start(&job);
	job.acct.from = xstrdup("alice@example.org");
	job.req.sender = "bob@example.net";
	check_sender(&job, "bob@example.net");
	job_end(&job);

	/* allow_from_override off: the account's from stands. */
	job_start(&job);
	job.acct.from = xstrdup("alice@example.org");
	job.acct.allow_from_override = false;
	job.req.sender = "bob@example.net";
	check_sender(&job, "alice@example.org");
	job_end(&job);

	/* --from as the sender when there is no -f; a local name
	 * qualified with maildomain. */
	job_start(&job);
	job.acct.maildomain = xstrdup("example.org");
	job.req.from = "carol";
	check_sender(&job, "carol@example.org");
	job_end(&job);

	/* A -f or --from at a name of this machine (GNU mail's
	 * root@HOST) is as local as a bare name: it gets maildomain; a
	 * foreign one keeps its domain; without maildomain it stays. */
	{
		static const char *const other[] = {
		    "root@example.com", "root@localhost.example", NULL};
		char host[256], at_host[300];
		const char *local[] = {"root", "root@localhost",
		                       "root@localhost.localdomain", at_host};

		identity_host(host, sizeof host);
		snprintf(at_host, sizeof at_host, "root@%s", host);
		for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
			const char *given = local[i];

			job_start(&job);
			job.acct.maildomain = xstrdup("example.org");
			job.acct.from = xstrdup("alice@example.org");
			job.req.sender = given;
			check_sender(&job, "root@example.org");
			job_end(&job);
			job_start(&job);
			job.acct.maildomain = xstrdup("example.org");
			job.req.from = given;
			check_sender(&job, "root@example.org");
			job_end(&job);
			job_start(&job);
			job.req.sender = given;
			check_sender(&job, given);
			job_end(&job);
		}
		for (size_t i = 0; other[i]; i++) {
			job_start(&job);
			job.acct.maildomain = xstrdup("example.org");
			job.req.sender = other[i];
			check_sender(&job, other[i]);
			job_end(&job);
		}
	}

	/* A wildcard from names no sender: the user, when it matches. */
	job_start(&job);
	job.acct.from = xstrdup("*@example.org");
	job.acct.user = xstrdup("dave@example.org");
	check_sender(&job, "dave@example.org");
	job_end(&job);

	/* ... and an error, never login@host, when it does not. */
	job_start(&job);
	job.acct.from = xstrdup("*@example.org");
	job.acct.user = xstrdup("dave");
	error_clear(&err);
	CHECK_INT(job_choose_sender(&job, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "has the pattern 'from *@example.org'") != NULL);
	CHECK(job.env.sender == NULL);
	job_end(&job);

	/* No from: the login at maildomain. */
	job_start(&job);
	job.acct.maildomain = xstrdup("example.org");
	snprintf(want, sizeof want, "%s@example.org", identity_login());
	check_sender(&job, want);
	job_end(&job);

	/* No from and no maildomain through a proxy: the host name would
	 * give this machine away. */
	job_start(&job);
	job.acct.proxy_host = xstrdup("127.0.0.1");
	error_clear(&err);
	CHECK_INT(job_choose_sender(&job, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "would give away") != NULL);
	job_end(&job);

	/* A sender that could smuggle a command is refused. */
	job_start(&job);
	job.req.sender = "eve@example.org\r\nRCPT TO:<x@y>";
	error_clear(&err);
	CHECK_INT(job_choose_sender(&job, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	job_end(&job);
}

static void
test_recipients(void)
{
	const char *rcpts[] = {"Anna <anna@example.org>, bob",
	                       "undisclosed-recipients:;"};
	const char *cc[] = {"anna@example.org"};
	const char *group[] = {"undisclosed-recipients:;"};
	struct job job;
	struct error err;

	/* Lists as people write them, bare names qualified, each address
	 * once, a group with no members naming nobody. */
	job_start(&job);
	job.acct.maildomain = xstrdup("example.org");
	job.req.rcpts = rcpts;
	job.req.nrcpts = 2;
	job.req.cc = cc;
	job.req.ncc = 1;
	error_clear(&err);
	CHECK_INT(job_collect_recipients(&job, &err), 0);
	CHECK_INT(job.env.nrcpts, 2);
	if (job.env.nrcpts == 2) {
		CHECK_STR(job.env.rcpts[0].addr, "anna@example.org");
		CHECK_STR(job.env.rcpts[1].addr, "bob@example.org");
	}
	job_end(&job);

	/* Only an empty group: nobody, said as a usage error. */
	job_start(&job);
	job.req.rcpts = group;
	job.req.nrcpts = 1;
	error_clear(&err);
	CHECK_INT(job_collect_recipients(&job, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	CHECK(strstr(err.msg, "no recipients") != NULL);
	job_end(&job);

	/* From a message (-bs, -t), a bad address is the message's fault. */
	job_start(&job);
	error_clear(&err);
	CHECK_INT(job_add_recipient(&job, "a@b\r\nQUIT", ERROR_DATA, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(job.env.nrcpts, 0);
	job_end(&job);
}

static void
test_queue_dir(void)
{
	struct job job;
	struct error err;
	char *dir = NULL;

	job_start(&job);
	job.acct.queue_dir = xstrdup("/var/spool/account");
	error_clear(&err);
	CHECK_INT(job_queue_dir(&job, &dir, &err), 0);
	CHECK_STR(dir, "/var/spool/account");
	free(dir);
	job.req.queue_dir = "/tmp/given";
	CHECK_INT(job_queue_dir(&job, &dir, &err), 0);
	CHECK_STR(dir, "/tmp/given");
	free(dir);
	job_end(&job);
}

/* -bs: what one message left in the job is gone before the next, so that
 * the log line of a message that fails before it is read (an alias that
 * cannot be expanded, a bad header) does not carry the previous one's
 * size (maillog_format's size=). */
static void
test_reset_message(void)
{
	struct job job;
	struct error err;

	job_start(&job);
	error_clear(&err);
	CHECK_INT(job_add_recipient(&job, "anna@example.org", ERROR_DATA, &err),
	          0);
	job.env.priority = 4;
	job.stream.size = 12345;
	job.stream.has_8bit = true;
	job_reset_message(&job);
	CHECK_INT(job.env.nrcpts, 0);
	CHECK_INT(job.env.priority, 0);
	CHECK_INT((int)job.stream.size, 0);
	CHECK(!job.stream.has_8bit);
	CHECK(job.stream.read == NULL && job.stream.ctx == NULL);
	/* The address given again is not a duplicate of the last message's. */
	CHECK_INT(job_add_recipient(&job, "anna@example.org", ERROR_DATA, &err),
	          0);
	CHECK_INT(job.env.nrcpts, 1);
	job_end(&job);
}

int
main(void)
{
	test_sender();
	test_recipients();
	test_queue_dir();
	test_reset_message();
	return unit_done();
}
