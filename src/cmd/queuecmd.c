/*
 * queuecmd.c - the commands that work on the queue without a new message:
 * -q, mailq and --queue-show/--queue-remove (queuecmd.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queuecmd.h"

#include "interrupt.h"
#include "mailq.h"
#include "jsonout.h"
#include "jsonresult.h"
#include "maillog.h"
#include "queue.h"

/* A flush's notice, one line on the driver's diagnostic FILE. */
static void
print_notice(void *ctx, const char *line)
{
	fprintf(ctx, "mailpost: %s\n", line);
}

/* The entry log's file for path (NULL: none), the one open when it is
 * the same. */
static FILE *
entry_log_file(struct job_entry_log *l, const char *path)
{
	bool no_reader;
	struct error err;

	if (!path || (l->path && strcmp(l->path, path) == 0))
		return path ? l->file : NULL;
	if (l->file && l->file != stdout && l->file != l->diag)
		fclose(l->file);
	free(l->path);
	l->path = xstrdup(path);
	error_clear(&err);
	if (strcmp(path, "-") == 0)
		l->file = l->json ? l->diag : stdout; /* stdout is JSON's */
	else if (!(l->file = maillog_open(path, &no_reader, &err)))
		fprintf(l->diag,
		        "mailpost: warning: %s; flushing without log lines "
		        "(fix logfile or the permissions)\n",
		        err.msg);
	return l->file;
}

/* What an entry's attempt would make the run exit with on its own: 0
 * when it went, or waits in the queue for a retry that may cure it (as
 * flush_verdict counts it), else its failure's code. */
static int
entry_exit_code(const struct maillog_entry *e)
{
	const struct error *why = e->error;

	if (!why || why->kind == ERROR_NONE ||
	    (e->queued_id && why->kind == ERROR_TEMPFAIL))
		return 0;
	return error_exit_code(why->kind);
}

/* --json: the entry's result on the JSON FILE; a write that fails is
 * said on diag, and the flush goes on. */
static void
json_entry(struct job_entry_log *l, const struct account *a,
           const struct maillog_entry *e)
{
	struct jsonresult r;
	struct error err;

	jsonresult_fill(&r, "flush", e, a, entry_exit_code(e));
	error_clear(&err);
	if (jsonout_write(l->json, &r, &err) < 0)
		fprintf(l->diag, "mailpost: %s\n", err.msg);
	jsonresult_clear(&r);
}

/* flush.h's log hook (ctx: the job): a queued entry's result line, in
 * the log file of the account that sent it (opened when first needed,
 * kept open while the next entries use the same; "-" is stdout) and its
 * syslog.  A log file that cannot be opened is said once and the flush
 * goes on without its lines, as a send does (send_open_logs). */
static void
log_entry(void *ctx, const struct account *a, const struct maillog_entry *e)
{
	struct job *job = ctx;
	struct job_entry_log *l = &job->entry_log;
	struct maillog_entry line = *e;
	FILE *f = entry_log_file(l, a->logfile);

	line.user = job_log_user(job, a);
	if (maillog_record(f, a->logfile_time_format, a->syslog_facility,
	                   &line) < 0)
		fprintf(l->diag,
		        "mailpost: cannot write to the log file %s: %s\n",
		        a->logfile, strerror(errno));
	if (l->json)
		json_entry(l, a, &line);
}

void
queuecmd_flush_request(struct job *job, const char *dir, FILE *diag,
                       struct flush_request *fr)
{
	job->queued = (struct override_queue){job->cfg, &job->req};
	job->entry_log.diag = diag;
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
	    .log = log_entry,
	    .log_ctx = job,
	    .owner_dead_letter_seconds = job->owner_dead_letter_seconds,
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
queuecmd_flush(struct job *job, FILE *out, FILE *diag, struct error *err)
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
	job_open_transcript(job, diag, NULL);
	interrupt_catch();
	queuecmd_flush_request(job, dir, diag, &fr);
	job->entry_log.json = job->req.json ? out : NULL;
	rc = flush_run(&fr, &rep, err);
	if (rc == 0)
		rc = flush_verdict(&rep, dir, err);
	/* The objects that could not be written were said one by one
	 * (json_entry); the flush went on.  Standard output holds only
	 * JSON: a run that lost some must not exit 0, as a send does not. */
	if (rc == 0 && job->entry_log.json && (fflush(out) != 0 || ferror(out)))
		rc = error_set(err, ERROR_IOERR,
		               "the JSON results of -q could not all be "
		               "written to standard output; the entries were "
		               "handled all the same (mailq lists what waits)");
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
