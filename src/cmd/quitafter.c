/*
 * quitafter.c - --quit-after (quitafter.h): the account, the sender and
 * recipients as far as the step needs them, then submit.c's session up
 * to that step.  The outbox is never set up: there is no message to keep.
 */
#include "config.h"

#include "quitafter.h"

#include <stdbool.h>

#include "relay.h"
#include "send.h"
#include "submit.h"
#include "util.h"

/* Stopping after a step the account does not take would pass without
 * testing anything: say what is missing instead.  A command-line
 * --tls-starttls turns TLS on (override.c), so TLS is off here with it
 * only when --tls=off was given too. */
static int
check_step(const struct job *job, enum smtp_step step, struct error *err)
{
	const struct account *a = &job->acct;

	if (step == SMTP_STEP_TLS && !a->tls && job->req.tls == CLI_OFF)
		return error_set(err, ERROR_USAGE,
		                 "--quit-after tls, but --tls=off turns TLS "
		                 "off%s: leave --tls=off out",
		                 job->req.tls_starttls != CLI_UNSET
		                     ? " (--tls-starttls only says how it "
		                       "starts)"
		                     : "");
	if (step == SMTP_STEP_TLS && !a->tls)
		return error_set(
		    err, ERROR_USAGE,
		    "--quit-after tls, but TLS is off for this "
		    "account: add --tls (STARTTLS), or "
		    "--tls-starttls=off (TLS from the first byte)");
	if (step == SMTP_STEP_AUTH && (!a->auth || str_ieq(a->auth, "off")))
		return error_set(err, ERROR_USAGE,
		                 "--quit-after auth, but authentication is off "
		                 "for this account: add --auth and --user");
	return 0;
}

/* The sender from MAIL on, the recipients from RCPT on. */
static int
choose_envelope(struct job *job, enum smtp_step step, struct error *err)
{
	if (step >= SMTP_STEP_MAIL && job_choose_sender(job, err) < 0)
		return -1;
	if (step >= SMTP_STEP_RCPT && job_collect_recipients(job, err) < 0)
		return -1;
	return 0;
}

/* The test itself, against the route's first hop (its password fetched
 * as for a send). */
static int
run_test(struct job *job, enum smtp_step step, char *host, size_t n, int *port,
         struct error *err)
{
	struct relay_route route;
	struct submission sub = {
	    .env = &job->env,
	    .rcpt_policy = RCPT_POLICY_ALL,
	    .transcript = job->transcript,
	};
	int rc;

	if (relay_route_build(&route, &job->acct, NULL, NULL, job->transcript,
	                      err) < 0)
		return -1;
	if (relay_direct(&route)) {
		relay_route_clear(&route);
		return error_set(err, ERROR_USAGE,
		                 "--quit-after tests one server: with deliver "
		                 "mx, name it with --host");
	}
	/* Before AUTH no password is used: none is fetched (no passwordeval
	 * run, no prompt, no failure for the want of one). */
	if (step < SMTP_STEP_AUTH) {
		sub.account = &route.hops[0].view;
		rc = 0;
	} else {
		rc = relay_submission(&route, 0, &sub, err);
	}
	if (rc == 0) {
		str_copy(host, n, sub.account->host);
		*port = submit_port(sub.account);
		rc = submit_quit_after(&sub, step, err);
	}
	relay_route_clear(&route);
	return rc;
}

int
quitafter_run(struct job *job, FILE *diag, struct error *err)
{
	enum smtp_step step = job->req.quit_after;
	char host[256] = "";
	int port = 0;

	if (job_load_account(job, err) < 0 || check_step(job, step, err) < 0 ||
	    choose_envelope(job, step, err) < 0 ||
	    send_open_logs(job, diag, err) < 0)
		return -1;
	send_warn_insecure(&job->acct, diag);
	if (run_test(job, step, host, sizeof host, &port, err) < 0)
		return -1;
	if (job->req.quiet)
		return 0;
	if (job->acct.socket && *job->acct.socket)
		fprintf(diag, "mailpost: %s (socket %s)", host,
		        job->acct.socket);
	else
		fprintf(diag, "mailpost: %s port %d", host, port);
	fprintf(diag,
	        ": every step up to %s succeeded; stopped there "
	        "(--quit-after), nothing was sent\n",
	        smtp_step_name(step));
	return 0;
}
