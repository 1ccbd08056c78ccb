/*
 * send.c - the send mode: one message prepared, sent or kept, logged and
 * reported (send.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "send.h"

#include "deadletter.h"
#include "interrupt.h"
#include "jsonout.h"
#include "jsonresult.h"
#include "maillog.h"
#include "prepare.h"
#include "pretend.h"
#include "progress.h"
#include "queue.h"
#include "queuecmd.h"
#include "testmsg.h"

int
send_open_logs(struct job *job, FILE *diag, struct error *err)
{
	const char *path = job->acct.logfile;
	bool no_reader = false;

	if (path && strcmp(path, "-") == 0) {
		/* With --json, stdout holds only JSON. */
		job->logfile = job->req.json ? diag : stdout;
	} else if (path &&
	           !(job->logfile = maillog_open(path, &no_reader, err))) {
		/* A FIFO nobody reads is a set-up mistake, caught at once.
		 * Any other failure (a system msmtprc naming
		 * /var/log/msmtp that a user may not write, a directory
		 * gone) must not stop the mail: msmtp sends it and says so,
		 * and so does mailpost. */
		if (no_reader)
			return -1;
		fprintf(diag,
		        "mailpost: warning: %s; sending without a log line "
		        "(fix logfile or the permissions)\n",
		        err->msg);
		error_clear(err);
	}
	/* The dialogue goes to the log file only when asked for: msmtp's
	 * users parse it as one line per message. */
	job_open_transcript(job, diag,
	                    job->acct.logfile_transcript ||
	                            job->req.verbosity > 0
	                        ? job->logfile
	                        : NULL);
	return 0;
}

/* Only for a person watching: a big message, diag (stderr) a terminal,
 * no -v dialogue to mix with, no --quiet. */
static bool
want_progress(const struct job *job, FILE *diag)
{
	return job->stream.size > PROGRESS_MIN_SIZE && !job->req.quiet &&
	       job->req.verbosity == 0 && isatty(fileno(diag)) == 1;
}

/* tls_certcheck off is allowed, but never quietly: on every run, whatever
 * the verbosity. */
void
send_warn_insecure(const struct account *a, FILE *diag)
{
	if (!a->tls || a->tls_certcheck)
		return;
	fputs("mailpost: warning: TLS certificate checking is off "
	      "(tls_certcheck off): the server is not authenticated\n",
	      diag);
}

/* Settings given on the command line that a queued message would not
 * keep: it is sent later with the account's (only --host and --port are
 * remembered).  Security must not quietly change between the two. */
static bool
unqueueable_settings(const struct request *req)
{
	return req->tls || req->tls_starttls || req->tls_certcheck ||
	       req->tls_trust_file || req->tls_crl_file ||
	       req->tls_fingerprint || req->tls_cert_file ||
	       req->tls_key_file || req->tls_priorities ||
	       req->tls_host_override || req->auth || req->user ||
	       req->proxy_host || req->proxy_port || req->socket ||
	       req->passwordeval || req->password_fd_given ||
	       req->password_env || req->rcpt_policy != RCPT_POLICY_UNSET ||
	       req->deliver != CLI_DELIVER_UNSET;
}

/* Giving the server on the command line (--host), or one-off security
 * settings, is testing a server: no queue and no dead letter unless asked
 * for. */
static bool
testing_a_server(const struct request *req)
{
	return req->host != NULL || unqueueable_settings(req);
}

/* The queue policy of the send: --queue, else the account's, else
 * on-failure; never when testing a server or with one-off settings a
 * queued message would not keep. */
static int
queue_policy(const struct job *job, enum queue_policy *out, struct error *err)
{
	const struct request *req = &job->req;

	if (req->queue && req->queue != QUEUE_NEVER &&
	    unqueueable_settings(req))
		return error_set(
		    err, ERROR_USAGE,
		    "a queued message is sent with the account's "
		    "settings: put the --tls, --auth, --user, "
		    "--proxy, --socket, --rcpt-policy, --deliver and password "
		    "options in the configuration to use --queue");
	*out = req->queue ? req->queue : job->acct.queue;
	if (!req->queue && unqueueable_settings(req))
		*out = QUEUE_NEVER;
	if (!*out)
		*out = testing_a_server(req) ? QUEUE_NEVER : QUEUE_ON_FAILURE;
	return 0;
}

int
send_setup_outbox(struct job *job, struct error *err)
{
	const struct request *req = &job->req;
	const struct account *a = &job->acct;
	const char *dl = req->dead_letter ? req->dead_letter : a->dead_letter;
	struct outbox *o = &job->outbox;

	if (queue_policy(job, &o->policy, err) < 0)
		return -1;
	o->backoff = a->queue_backoff;
	/* The spool helper, or the queue directory; with none (no home at
	 * all) that is said when a message would need it, not before it was
	 * even tried. */
	if (o->policy != QUEUE_NEVER || job->gate)
		job_depot(job, &o->depot);
	/* -bs: a refused message stays with the SMTP client, which was told
	 * so (4xx/5xx); a dead letter would only be a second copy. */
	if (job->req.mode == CLI_SERVE || (dl && strcmp(dl, "off") == 0)) {
		o->dead_letter_off = true;
		return 0;
	}
	if (dl)
		job->dead_letter = xstrdup(dl);
	else if (!testing_a_server(req))
		job->dead_letter = deadletter_default_path(err);
	error_clear(err); /* no home: no default dead letter file */
	o->dead_letter = job->dead_letter;
	return 0;
}

/* The envelope as it is posted: the DSN parameters of a -bs client (in it
 * already), else the command line's, else the account's (RFC 3461); and
 * the account that sends it, with the --host/--port given, which a
 * queued entry remembers. */
static void
complete_envelope(struct job *job)
{
	struct envelope *e = &job->env;
	const struct request *req = &job->req;
	const struct account *a = &job->acct;

	envelope_set_dsn(e,
	                 e->dsn.notify     ? e->dsn.notify
	                 : req->dsn_notify ? req->dsn_notify
	                                   : a->dsn_notify,
	                 e->dsn.ret        ? e->dsn.ret
	                 : req->dsn_return ? req->dsn_return
	                                   : a->dsn_return,
	                 e->dsn.envid ? e->dsn.envid : req->dsn_envid);
	envelope_set_account(e, a->name ? a->name : "", req->host, req->port);
}

/* Send the prepared message, or keep it.  Signals are caught from here on
 * (interrupt.h): the message is complete in hand and must not be lost. */
int
send_post(struct job *job, struct outbox_result *res, FILE *diag,
          struct error *err)
{
	struct progress progress = {0};
	struct relay_route route;
	struct submission sub = {
	    .env = &job->env,
	    .message = job->stream,
	    .rcpt_policy = job->acct.rcpt_policy,
	    .transcript = job->transcript,
	    .report = &res->session,
	};
	int rc;

	if (send_setup_outbox(job, err) < 0 ||
	    relay_route_build(&route, &job->acct, job->cfg, &job->finish,
	                      job->transcript, err) < 0)
		return -1;
	route.preset = &job->system_token;
	complete_envelope(job);
	/* The progress display needs the size: the message is read whole
	 * first.  A message still being read from standard input lets a
	 * signal end the run, as it would while being read before sending:
	 * the catching begins once it is whole (prepare.c, settle). */
	if (want_progress(job, diag) && job->stream.settle &&
	    job->stream.settle(job->stream.ctx, &job->stream, err) < 0) {
		relay_route_clear(&route);
		return -1;
	}
	if (!job->stream.settle)
		interrupt_catch();
	sub.message = job->stream;
	if (want_progress(job, diag))
		sub.message = progress_wrap(&progress, &job->stream, diag);
	rc = outbox_post(&job->outbox, &route, &sub, &job->stream, res, err);
	progress_end(&progress);
	relay_route_clear(&route);
	return rc;
}

/* After a message went through: the server is reachable, so what waits in
 * the queue for the same account and is due goes now too.  Due only: this
 * run is as unattended as a timer's (a cron job's mail), and an entry
 * deferred for its own sake (a full mailbox, greylisting) must not be
 * offered again with every message that goes. */
static void
flush_after_send(struct job *job, FILE *diag)
{
	struct flush_request fr;
	struct flush_report rep;
	struct error err;

	/* The machine's spool is root's timer's to flush. */
	if (!job->acct.queue_flush_after_send || !job->outbox.depot.dir ||
	    depot_by_helper(&job->outbox.depot) || testing_a_server(&job->req))
		return;
	error_clear(&err);
	queuecmd_flush_request(job, job->outbox.depot.dir, diag, &fr);
	fr.select = 0;
	fr.only_account = job->acct.name ? job->acct.name : "";
	fr.due_only = true;
	if (flush_run(&fr, &rep, &err) < 0 && !interrupt_signal())
		fprintf(diag, "mailpost: %s\n", err.msg);
}

/* The transcript's last line for the message: delivered, queued or
 * refused, with the server's last word (mailpost(1), TRANSCRIPT). */
static void
transcript_outcome(const struct job *job, const struct outbox_result *res,
                   const struct error *err)
{
	struct transcript *t = job->transcript;
	size_t all = job->env.nrcpts;
	size_t got = envelope_count(&job->env, ENVELOPE_ACCEPTED);
	const char *reply = res->outcome.final_reply;

	if (res->fate == OUTBOX_DELIVERED && (!err || !err->kind))
		transcript_result(t, "delivered to %zu recipient%s: %s%s%s",
		                  got, got == 1 ? "" : "s", reply,
		                  res->id[0] ? "; the others queued as " : "",
		                  res->id);
	else if (res->fate == OUTBOX_DELIVERED)
		transcript_result(t, "delivered to %zu of %zu recipients: %s",
		                  got, all, err->msg);
	else if (res->fate == OUTBOX_QUEUED)
		transcript_result(t, "queued as %s%s%s", res->id,
		                  res->cause.kind ? ": " : "",
		                  res->cause.kind ? res->cause.msg : "");
	else
		transcript_result(t, "not delivered: %s",
		                  err && err->kind ? err->msg : "(no reason)");
}

/* The message's result as the log line has it (and --json's object). */
static struct maillog_entry
result_entry(const struct job *job, const struct outbox_result *res,
             const struct error *err)
{
	struct maillog_entry e = {
	    .host = res->outcome.host[0] ? res->outcome.host : job->acct.host,
	    .tls = job->acct.tls,
	    .auth = job->acct.auth != NULL,
	    .user = job_log_user(job, &job->acct),
	    .env = &job->env,
	    .size = job->stream.size,
	    .error = err,
	    .reply_code = res->outcome.final_code,
	    .reply = res->outcome.final_reply,
	    .queued_id = res->fate == OUTBOX_QUEUED ? res->id : NULL,
	    .session = res->session.tried ? &res->session : NULL,
	    .outcome = &res->outcome,
	    .dead_letter = res->dead_letter,
	};

	/* Delivered to some, the others refused for now queued: their
	 * entry, whatever the failure (some refused for good too). */
	if ((res->fate == OUTBOX_DELIVERED || res->rest_apart) && res->id[0])
		e.queued_id = res->id;

	if (res->fate == OUTBOX_QUEUED && (!err || !err->kind))
		e.error = res->cause.kind ? &res->cause : NULL;
	return e;
}

void
send_log_result(const struct job *job, const struct outbox_result *res,
                const struct error *err, FILE *diag)
{
	struct maillog_entry e = result_entry(job, res, err);

	transcript_outcome(job, res, err);
	if (maillog_record(job->logfile, job->acct.logfile_time_format,
	                   job->acct.syslog_facility, &e) < 0)
		fprintf(diag, "mailpost: cannot write to the log file %s: %s\n",
		        job->acct.logfile, strerror(errno));
}

/* What the user is told about a message that was queued. */
static void
report_queued(const struct job *job, const struct outbox_result *res,
              FILE *diag)
{
	if (res->cause.kind)
		fprintf(diag, "mailpost: queued as %s: %s\n", res->id,
		        res->cause.msg);
	else if (job->req.verbosity > 0)
		fprintf(diag, "mailpost: queued as %s\n", res->id);
}

/* --json: the message's result on out, with the code the run exits with
 * (rc, err: the send's outcome).  A result that cannot be written makes
 * a send that went fail with ERROR_IOERR, as any lost output does; the
 * line then says that the message went, lest it be sent again. */
static int
report_json(const struct job *job, const struct outbox_result *res, int rc,
            FILE *out, struct error *err)
{
	struct maillog_entry e = result_entry(job, res, rc < 0 ? err : NULL);
	struct jsonresult r;
	struct error werr;

	jsonresult_fill(&r, "send", &e, &job->acct,
	                rc < 0 ? error_exit_code(err->kind) : 0);
	error_clear(&werr);
	if (jsonout_write(out, &r, &werr) < 0 && rc == 0) {
		if (res->fate == OUTBOX_QUEUED)
			rc = error_set(err, werr.kind,
			               "%s; the message itself is queued as "
			               "%s: do not send it again",
			               werr.msg, res->id);
		else
			rc = error_set(err, werr.kind,
			               "%s; the message itself was delivered: "
			               "do not send it again",
			               werr.msg);
	}
	jsonresult_clear(&r);
	return rc;
}

/* The send itself, its outcome in res (send_run). */
static int
send_message(struct job *job, struct outbox_result *res, FILE *out, FILE *diag,
             struct error *err)
{
	int rc;

	if (job->req.read_envelope_from && prepare_envelope_from(job, err) < 0)
		return -1;
	if (job_load_account(job, err) < 0 || job_check_attach(job, err) < 0 ||
	    job_choose_sender(job, err) < 0)
		return -1;
	if (job->req.test_message && testmsg_prepare(job, time(NULL), err) < 0)
		return -1;
	/* --dry-run: no connection, no password, no log line; the envelope
	 * as it would be posted on diag, before the message on out. */
	if (job->req.dry_run) {
		enum queue_policy policy;

		if (queue_policy(job, &policy, err) < 0 ||
		    prepare_message(job, err) < 0)
			return -1;
		complete_envelope(job);
		if (pretend_envelope(diag, job, policy, err) < 0)
			return -1;
		return pretend_message(out, &job->stream, err);
	}
	if (send_open_logs(job, diag, err) < 0)
		return -1;
	send_warn_insecure(&job->acct, diag);
	if (prepare_message(job, err) < 0) {
		send_log_result(job, res, err, diag);
		return -1;
	}
	rc = send_post(job, res, diag, err);
	if (res->outcome.delivered && res->outcome.dsn_unoffered)
		fprintf(
		    diag,
		    "mailpost: %s does not offer DSN (RFC 3461): the message "
		    "went without the delivery notifications asked for "
		    "(-N/-R/-V, dsn_notify/dsn_return)\n",
		    res->outcome.host[0] ? res->outcome.host : "the server");
	send_log_result(job, res, rc < 0 ? err : NULL, diag);
	if (rc == 0 && res->fate == OUTBOX_QUEUED)
		report_queued(job, res, diag);
	if (rc == 0 && res->fate == OUTBOX_DELIVERED)
		flush_after_send(job, diag);
	return rc;
}

int
send_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct outbox_result res = {0};
	int rc = send_message(job, &res, out, diag, err);

	if (job->req.json)
		rc = report_json(job, &res, rc, out, err);
	submit_report_clear(&res.session);
	return rc;
}
