/*
 * main.c - the driver: parse the command line, pick the mode, hand over
 * (send.c, quitafter.c, queuecmd.c, checkconf.c, bs.c, serverinfo.c,
 * smuggle.c, oauthlogin.c, configure.c), and the one place where a failure becomes a
 * diagnostic line and an exit code.
 *
 * Everything below main() reports failures in a struct error; only here is
 * the failure printed, once, as "mailpost: MESSAGE", and the exit code
 * comes from error_exit_code() (error.c holds the table).  The modes
 * write what they show (output, warnings, notices) on the FILEs main()
 * hands them: stdout and stderr.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "bs.h"
#include "cli.h"
#include "clihelp.h"
#include "error.h"
#include "job.h"
#include "checkconf.h"
#include "configure.h"
#include "oauthlogin.h"
#include "privilege.h"
#include "queuecmd.h"
#include "quitafter.h"
#include "send.h"
#include "serverinfo.h"
#include "smuggle.h"
#include "util.h"

/* Descriptors 0-2 closed at start would be reused by the first open() and
 * receive output meant for the terminal (or the network): put /dev/null
 * there.  A closed pipe, or a file past the size limit, is a write error
 * we report, not a signal. */
static void
prepare_process(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(71);
	}
	signal(SIGPIPE, SIG_IGN);
	/* Past the file size limit (ulimit -f) a write fails with EFBIG and
	 * is reported like a full disk, rather than killing us mid-queue. */
	signal(SIGXFSZ, SIG_IGN);
}

/* The group of a setgid installation (configure --with-mta-group); the
 * test program tests/mailpost-privtest is built with a test group's. */
#ifndef MAILPOST_MTA_GROUP
#ifdef MTA_GROUP
#define MAILPOST_MTA_GROUP MTA_GROUP
#else
#define MAILPOST_MTA_GROUP NULL
#endif
#endif

/* How long root's flush waits for another user's dead letter
 * (flush_request): 0, DEADLETTER_CHILD_SECONDS.  Only the test program
 * tests/mailpost-spooltest is built with a shorter limit (Makefile.am),
 * so that 81-spool's held lock costs a second, not thirty. */
#ifndef MAILPOST_OWNER_DEAD_LETTER_SECONDS
#define MAILPOST_OWNER_DEAD_LETTER_SECONDS 0
#endif

/* The modes that need no message.  --version names the group the program
 * drops at start-up (privilege.h): make install-mta and the Debian package
 * make the program setgid only when it says so. */
static int
run_simple_mode(enum cli_mode mode)
{
	const char *group = MAILPOST_MTA_GROUP;

	switch (mode) {
	case CLI_HELP:
		fputs(clihelp_usage(), stdout);
		break;
	case CLI_VERSION:
		fputs(clihelp_version(), stdout);
		if (group)
			printf("System sendmail group: %s\n", group);
		break;
	default: /* CLI_NOOP */
		break;
	}
	/* A text longer than stdio's buffer was written (and failed) before
	 * the flush: the error flag tells. */
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 74;
}

static int
run_mode(struct job *job, struct error *err)
{
	switch (job->req.mode) {
	case CLI_SEND:
		if (job->req.quit_after_set)
			return quitafter_run(job, stderr, err);
		return send_run(job, stdout, stderr, err);
	case CLI_QUEUE_LIST:
		return queuecmd_list(job, stdout, err);
	case CLI_QUEUE_FLUSH:
		return queuecmd_flush(job, stdout, stderr, err);
	case CLI_QUEUE_SHOW:
	case CLI_QUEUE_REMOVE:
		return queuecmd_entry(job, stdout, err);
	case CLI_SERVE:
		return bs_run(job, STDIN_FILENO, STDOUT_FILENO, stderr, err);
	case CLI_PRETEND:
		return checkconf_run(job, stdout, stderr, err);
	case CLI_SERVERINFO:
		return serverinfo_run(job, stdout, stderr, err);
	case CLI_SMUGGLE_TEST:
		return smuggle_run(job, stdout, stderr, err);
	case CLI_OAUTH2_LOGIN:
		return oauthlogin_run(job, stdout, stderr, err);
	case CLI_CONFIGURE:
		return configure_run(job, stdout, stderr, err);
	case CLI_NOOP:
	case CLI_VERSION:
	case CLI_HELP:
		break;
	}
	return run_simple_mode(job->req.mode);
}

/* The modes that read the configuration file. */
static bool
reads_config(enum cli_mode mode)
{
	return mode != CLI_HELP && mode != CLI_VERSION && mode != CLI_NOOP;
}

/* The configuration is read first, the only thing done with the group of
 * a setgid installation; the group is then gone for good, before any file
 * the caller names is opened and before any child runs (privilege.h). */
static int
load_config_then_drop(struct job *job, struct error *err)
{
	if (reads_config(job->req.mode) && job_load_config(job, err) < 0)
		return -1;
	return privilege_drop(err);
}

int
main(int argc, char **argv)
{
	struct job job = {0};
	struct error err;
	int rc;

	error_clear(&err);
	rc = privilege_start(MAILPOST_MTA_GROUP, &err);
	prepare_process();
	job_init(&job);
	job.owner_dead_letter_seconds = MAILPOST_OWNER_DEAD_LETTER_SECONDS;
	if (rc == 0)
		rc = cli_parse(argc, argv, &job.req, &err);
	if (rc == 0)
		rc = load_config_then_drop(&job, &err);
	if (rc == 0)
		rc = run_mode(&job, &err);
	if (rc < 0) {
		fprintf(stderr, "mailpost: %s\n", err.msg);
		rc = error_exit_code(err.kind);
	}
	job_clear(&job);
	return rc;
}
