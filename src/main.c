/*
 * main.c - the driver: parse the command line, pick the mode, hand over
 * (send.c, queuecmd.c, pretend.c, serve.c), and the one place where a
 * failure becomes a diagnostic line and an exit code.
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

#include "address.h"
#include "cli.h"
#include "encode.h"
#include "error.h"
#include "fate.h"
#include "identity.h"
#include "job.h"
#include "outbox.h"
#include "prepare.h"
#include "pretend.h"
#include "queuecmd.h"
#include "send.h"
#include "serve.h"
#include "source.h"
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

/* ---- -bs: SMTP on standard input and output ---------------------------------
 */

static int
serve_prepare(struct job *job, const struct serve_message *m, struct error *err)
{
	const struct envelope *client = m->env;
	struct source_options so = {0};

	/* The client's sender and DSN as they are (the command line's and
	 * the account's DSN only where it gave none); its recipients through
	 * the aliases, each once. */
	envelope_set_sender(&job->env, client->sender);
	envelope_set_dsn(&job->env, client->dsn.notify, client->dsn.ret,
	                 client->dsn.envid);
	if (*client->sender &&
	    address_check(client->sender, true, ERROR_DATA, err) < 0)
		return -1;
	for (size_t i = 0; i < client->nrcpts; i++)
		if (job_add_recipient(job, client->rcpts[i].addr, ERROR_DATA,
		                      err) < 0)
			return -1;
	if (source_open(&job->message, m->fd, &so, err) < 0)
		return -1;
	return prepare_finish_plain(job, err);
}

static void
serve_deliver(void *ctx, const struct serve_message *m, struct serve_answer *a)
{
	struct job *job = ctx;
	struct outbox_result res = {0};
	struct error err;
	int rc;

	error_clear(&err);
	job_reset_message(job);
	rc = serve_prepare(job, m, &err);
	if (rc == 0)
		rc = send_post(job, &res, stderr, &err);
	send_log_result(job, &res, rc < 0 ? &err : NULL, stderr);
	/* Queued (also after a signal) or delivered to some: 250, the
	 * client must not send it again. */
	fate_reply(res.fate == OUTBOX_QUEUED ? res.id : NULL,
	           res.fate == OUTBOX_DELIVERED, rc < 0 ? &err : NULL, a->line,
	           sizeof a->line);
	if (rc < 0)
		fprintf(stderr, "mailpost: %s\n", err.msg);
}

static int
run_serve(struct job *job, struct error *err)
{
	char host[256];
	struct serve_options o = {
	    .hostname = host,
	    .idle_timeout_ms = 5 * 60 * 1000,
	    .deliver = serve_deliver,
	    .ctx = job,
	};

	if (job_load_account(job, err) < 0 ||
	    send_open_logs(job, stderr, err) < 0)
		return -1;
	/* The transcript goes to stderr only: stdout is the SMTP session. */
	identity_host(host, sizeof host);
	send_warn_insecure(&job->acct, stderr);
	return serve_run(STDIN_FILENO, STDOUT_FILENO, &o, err);
}

/* The modes that need no message. */
static int
run_simple_mode(enum cli_mode mode)
{
	switch (mode) {
	case CLI_HELP:
		fputs(cli_usage(), stdout);
		break;
	case CLI_VERSION:
		fputs(cli_version(), stdout);
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
		return send_run(job, stdout, stderr, err);
	case CLI_QUEUE_LIST:
		return queuecmd_list(job, stdout, err);
	case CLI_QUEUE_FLUSH:
		return queuecmd_flush(job, stderr, err);
	case CLI_QUEUE_SHOW:
	case CLI_QUEUE_REMOVE:
		return queuecmd_entry(job, stdout, err);
	case CLI_SERVE:
		return run_serve(job, err);
	case CLI_PRETEND:
		return pretend_run(job, stdout, err);
	case CLI_NOOP:
	case CLI_VERSION:
	case CLI_HELP:
		break;
	}
	return run_simple_mode(job->req.mode);
}

int
main(int argc, char **argv)
{
	struct job job = {0};
	struct error err;
	int rc;

	prepare_process();
	error_clear(&err);
	job_init(&job);
	rc = cli_parse(argc, argv, &job.req, &err);
	if (rc == 0)
		rc = run_mode(&job, &err);
	if (rc < 0) {
		fprintf(stderr, "mailpost: %s\n", err.msg);
		rc = error_exit_code(err.kind);
	}
	job_clear(&job);
	return rc;
}
