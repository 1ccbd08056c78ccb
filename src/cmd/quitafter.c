/*
 * quitafter.c - --quit-after (quitafter.h): the account, the sender and
 * recipients as far as the step needs them, then submit.c's session up
 * to that step.  The outbox is never set up: there is no message to keep.
 */
#include "config.h"

#include "quitafter.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "mxprobe.h"
#include "mxroute.h"
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

	/* Direct delivery: each hop's TLS is its policy's, whatever the
	 * account's tls keys say, and an MX is never authenticated to. */
	if (a->deliver == CONF_DELIVER_MX && step == SMTP_STEP_AUTH)
		return error_set(err, ERROR_USAGE,
		                 "--quit-after auth, but direct delivery "
		                 "(deliver mx) does not authenticate: an MX "
		                 "takes mail for its domain without AUTH");
	if (a->deliver == CONF_DELIVER_MX)
		return 0;
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

/* The sender from MAIL on, the recipients from RCPT on; in direct
 * delivery the recipients always, since they name the domain. */
static int
choose_envelope(struct job *job, enum smtp_step step, struct error *err)
{
	bool mx = job->acct.deliver == CONF_DELIVER_MX;

	if (step >= SMTP_STEP_MAIL && job_choose_sender(job, err) < 0)
		return -1;
	if ((step >= SMTP_STEP_RCPT || mx) &&
	    job_collect_recipients(job, err) < 0)
		return -1;
	if (mx && job->env.nrcpts == 0)
		return error_set(err, ERROR_USAGE,
		                 "--quit-after in direct delivery (deliver mx) "
		                 "tests the MX hosts of a recipient's domain: "
		                 "name a recipient");
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

/* --- direct delivery --- */

/* A domain as the route groups it: its A-label (compared without
 * regard to case); an address literal as it is.  A new string, or NULL
 * when the name is not one (mxroute_domain then says why). */
static char *
domain_key(const char *addr)
{
	const char *d = address_domain(addr);
	struct error ignored;
	char *key = NULL;

	if (!d || address_host_to_ascii(d, &key, &ignored) < 0)
		return NULL;
	return key;
}

/* The recipients' one domain: a test is of one route. */
static int
one_domain(const struct envelope *env, const char **domain,
           struct error *err)
{
	char *first = domain_key(env->rcpts[0].addr);
	int rc = 0;

	*domain = address_domain(env->rcpts[0].addr);
	if (!*domain || !**domain)
		rc = error_set(err, ERROR_USAGE,
		               "--quit-after: <%s> has no domain whose MX "
		               "hosts to test",
		               env->rcpts[0].addr);
	for (size_t i = 1; rc == 0 && first && i < env->nrcpts; i++) {
		char *other = domain_key(env->rcpts[i].addr);

		if (!other || !str_ieq(other, first))
			rc = error_set(err, ERROR_USAGE,
			               "--quit-after tests one domain's MX "
			               "hosts: <%s> and <%s> are at two; test "
			               "each on its own",
			               env->rcpts[0].addr, env->rcpts[i].addr);
		free(other);
	}
	free(first);
	return rc;
}

/* A hop passed over, one line each (the transcript has the detail). */
static void
say_passed_over(const struct mxprobe *p, FILE *diag)
{
	for (size_t i = 0; i < p->tried; i++) {
		const struct mxprobe_hop *ph = &p->hops[i];
		const struct mxroute_hop *h = &p->route.hops[i];

		if (ph->state == MXPROBE_UNUSABLE ||
		    ph->state == MXPROBE_FAILED)
			fprintf(diag,
			        "mailpost: %s [%s]: %s: %s; the next hop was "
			        "tried\n",
			        h->name, h->address,
			        ph->state == MXPROBE_UNUSABLE ? "not usable now"
			                                      : "failed",
			        ph->why.msg);
	}
}

/* The hop that passed, its TLS as the session had it. */
static void
say_chosen(const struct job *job, const struct mxprobe *p,
           const struct submit_report *report, enum smtp_step step,
           FILE *diag)
{
	const struct mxroute_hop *h = &p->route.hops[p->chosen];
	const struct mxprobe_hop *ph = &p->hops[p->chosen];

	fprintf(diag, "mailpost: %s [%s] port %d, ", h->name, h->address,
	        h->port);
	if (h->source == MXROUTE_FROM_MX)
		fprintf(diag, "MX %u of %s", h->pref, p->route.domain);
	else
		fprintf(diag, "%s of %s",
		        h->source == MXROUTE_FROM_IMPLICIT ? "implicit MX"
		                                           : "address literal",
		        p->route.domain);
	fprintf(diag, " (TLS policy: %s", h->tls_why);
	if (step >= SMTP_STEP_TLS && ph->tls_failed)
		fputs("; STARTTLS failed, tested again in the clear", diag);
	else if (step >= SMTP_STEP_TLS && !submit_report_tls(report))
		fputs("; no TLS: STARTTLS not offered", diag);
	else if (step >= SMTP_STEP_TLS && report->tls.version[0])
		fprintf(diag, "; %s", report->tls.version);
	(void)job;
	fprintf(diag,
	        "): every step up to %s succeeded; stopped there "
	        "(--quit-after), nothing was sent\n",
	        smtp_step_name(step));
}

static int
mx_test(struct job *job, enum smtp_step step, FILE *diag, struct error *err)
{
	struct mxroute *m = NULL;
	struct mxprobe p;
	struct submit_report report = {0};
	struct submission sub = {
	    .account = &job->acct,
	    .env = &job->env,
	    .rcpt_policy = RCPT_POLICY_ALL,
	    .transcript = job->transcript,
	    .report = &report,
	};
	const char *domain = NULL;
	int rc;

	if (one_domain(&job->env, &domain, err) < 0)
		return -1;
	mxprobe_init(&p);
	rc = mxroute_new(&m, &job->acct, job->transcript, err);
	if (rc == 0)
		rc = mxprobe_quit_after(m, &sub, domain, step, &p, err);
	if (!job->req.quiet)
		say_passed_over(&p, diag);
	if (rc == 0 && !job->req.quiet)
		say_chosen(job, &p, &report, step, diag);
	mxprobe_clear(&p);
	submit_report_clear(&report);
	mxroute_free(m);
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
	if (job->acct.deliver == CONF_DELIVER_MX)
		return mx_test(job, step, diag, err);
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
