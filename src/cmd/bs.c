/*
 * bs.c - sendmail's -bs mode: serve.c's messages prepared and sent as
 * send.c sends, answered from fate.c (bs.h).
 */
#include "config.h"

#include <stdlib.h>

#include "bs.h"

#include "address.h"
#include "envelope.h"
#include "fate.h"
#include "identity.h"
#include "outbox.h"
#include "prepare.h"
#include "send.h"
#include "serve.h"
#include "source.h"

/* What the deliver callback needs besides the message. */
struct bs {
	struct job *job;
	FILE *diag;
};

/* The job's message from the client's: its sender as -f's is (a local
 * name, bare or at this machine's name, qualified with maildomain, so
 * that rewrite_local_from and qualify_headers see it as -f's), its DSN as
 * it is (the command line's and the account's DSN only where it gave
 * none), its recipients through the aliases, each once. */
static int
prepare(struct job *job, const struct serve_message *m, struct error *err)
{
	const struct envelope *client = m->env;
	struct source_options so = {0};
	char *sender;

	if (*client->sender &&
	    address_check(client->sender, true, ERROR_DATA, err) < 0)
		return -1;
	sender =
	    address_qualify_sender(client->sender, job->acct.maildomain, NULL);
	envelope_set_sender(&job->env, sender);
	free(sender);
	envelope_set_dsn(&job->env, client->dsn.notify, client->dsn.ret,
	                 client->dsn.envid);
	for (size_t i = 0; i < client->nrcpts; i++)
		if (job_add_recipient(job, client->rcpts[i].addr, ERROR_DATA,
		                      err) < 0)
			return -1;
	if (source_open(&job->message, m->fd, &so, err) < 0)
		return -1;
	return prepare_finish_plain(job, err);
}

static void
deliver(void *ctx, const struct serve_message *m, struct serve_answer *a)
{
	struct bs *bs = ctx;
	struct job *job = bs->job;
	struct outbox_result res = {0};
	struct error err;
	int rc;

	error_clear(&err);
	job_reset_message(job);
	rc = prepare(job, m, &err);
	if (rc == 0)
		rc = send_post(job, &res, bs->diag, &err);
	send_log_result(job, &res, rc < 0 ? &err : NULL, bs->diag);
	/* Queued (also after a signal) or delivered to some: 250, the
	 * client must not send it again; unless a recipient who did not get
	 * it is kept nowhere (-bs has no dead letter file): those refused
	 * for now that could not be queued, and those refused for good,
	 * whom only the client can still tell.  Then the failure's reply, so
	 * that the client keeps the message (a delivery may repeat, none is
	 * lost). */
	fate_reply(res.fate == OUTBOX_QUEUED ? res.id : NULL,
	           res.fate == OUTBOX_DELIVERED && !res.rest_lost &&
	               envelope_count(&job->env, ENVELOPE_REFUSED_PERM) == 0,
	           rc < 0 ? &err : NULL, a->line, sizeof a->line);
	if (rc < 0)
		fprintf(bs->diag, "mailpost: %s\n", err.msg);
	submit_report_clear(&res.session);
}

int
bs_run(struct job *job, int in_fd, int out_fd, FILE *diag, struct error *err)
{
	char host[256];
	struct bs bs = {job, diag};
	struct serve_options o = {
	    .hostname = host,
	    .idle_timeout_ms = 5 * 60 * 1000,
	    .deliver = deliver,
	    .ctx = &bs,
	};

	if (job_load_account(job, err) < 0 ||
	    send_open_logs(job, diag, err) < 0)
		return -1;
	/* The transcript goes to diag only: out_fd is the SMTP session. */
	identity_host(host, sizeof host);
	send_warn_insecure(&job->acct, diag);
	return serve_run(in_fd, out_fd, &o, err);
}
