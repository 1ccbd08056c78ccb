/*
 * queuecmd.c - the commands that work on the queue without a new message:
 * -q, mailq and --queue-show/--queue-remove (queuecmd.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "queuecmd.h"

#include "interrupt.h"
#include "mailq.h"
#include "queue.h"

/* A flush's notice, one line on the driver's diagnostic FILE. */
static void
print_notice(void *ctx, const char *line)
{
	fprintf(ctx, "mailpost: %s\n", line);
}

void
queuecmd_flush_request(struct job *job, const char *dir, FILE *diag,
                       struct flush_request *fr)
{
	job->queued = (struct override_queue){job->cfg, &job->req};
	*fr = (struct flush_request){
	    .queue_dir = dir,
	    .spool = job_spool(job),
	    .cfg = job->cfg,
	    .finish = &job->finish,
	    .account = override_queued,
	    .account_ctx = &job->queued,
	    .select = job->req.queue_select,
	    .match = job->req.queue_match,
	    .due_only = job->req.queue_due,
	    .dead_letter = job->req.dead_letter,
	    .transcript = job->transcript,
	    .verbose = job->req.verbosity > 0,
	    .notice = print_notice,
	    .notice_ctx = diag,
	};
}

/* The configuration and the account, for the commands that work on the
 * queue without sending a new message. */
static int
load_queue_setup(struct job *job, struct error *err)
{
	const struct request *req = &job->req;

	if (job_load_config(job, err) < 0)
		return -1;
	if (job->cfg)
		return conf_select(job->cfg, req->account, NULL, &job->acct,
		                   err);
	account_defaults(&job->acct);
	return 0;
}

int
queuecmd_flush(struct job *job, FILE *diag, struct error *err)
{
	struct flush_request fr;
	struct flush_report rep;
	char *dir = NULL;
	int rc;

	/* A caller outside the group is refused the machine's spool while
	 * the configuration is read (job.c): root's timer flushes it. */
	if (load_queue_setup(job, err) < 0)
		return -1;
	if (job_queue_dir(job, &dir, err) < 0)
		return -1;
	job->transcript = transcript_new(diag, job->req.verbosity, NULL);
	interrupt_catch();
	queuecmd_flush_request(job, dir, diag, &fr);
	rc = flush_run(&fr, &rep, err);
	if (rc == 0)
		rc = flush_verdict(&rep, dir, err);
	free(dir);
	return rc;
}

int
queuecmd_list(struct job *job, FILE *out, struct error *err)
{
	struct depot d;

	if (load_queue_setup(job, err) < 0)
		return -1;
	job_depot(job, &d);
	return mailq_list(out, &d, time(NULL), err);
}

int
queuecmd_entry(struct job *job, FILE *out, struct error *err)
{
	const char *id = job->req.queue_match;
	struct depot d;

	if (!queue_id_valid(id))
		return error_set(err, ERROR_USAGE, "'%s' is not a queue id",
		                 id);
	if (load_queue_setup(job, err) < 0)
		return -1;
	job_depot(job, &d);
	return mailq_entry(out, &d, id, job->req.mode == CLI_QUEUE_REMOVE, err);
}
