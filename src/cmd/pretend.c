/*
 * pretend.c - what a send would do, shown instead of done (pretend.h):
 * --pretend's settings, --dry-run's bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "pretend.h"

#include "socks.h"
#include "submit.h"

int
pretend_message(FILE *out, const struct message_stream *m, struct error *err)
{
	char buf[65536];

	for (;;) {
		ssize_t got = m->read(m->ctx, buf, sizeof buf, err);

		if (got < 0)
			return -1;
		if (got == 0)
			break;
		if (fwrite(buf, 1, (size_t)got, out) != (size_t)got)
			return error_set_errno(err, ERROR_IOERR, errno,
			                       "cannot write the message to "
			                       "standard output");
	}
	if (fflush(out) != 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the message to standard "
		                       "output");
	return 0;
}

static const char *
or_unset(const char *v)
{
	return v && *v ? v : "(not set)";
}

static const char *
on_off(bool b)
{
	return b ? "on" : "off";
}

static const char *
from_header_name(enum conf_from_header h)
{
	return h == CONF_FROM_ON ? "on" : h == CONF_FROM_OFF ? "off" : "auto";
}

/* Where the password comes from; the password and the passwordeval
 * command themselves are shown as "*" (a command may hold a secret). */
static void
print_credentials(FILE *out, const struct account *a)
{
	fprintf(out, "auth = %s\n", a->auth ? a->auth : "off");
	fprintf(out, "user = %s\n", or_unset(a->user));
	fprintf(out, "password = %s\n", a->password ? "*" : "(not set)");
	fprintf(out, "passwordeval = %s\n",
	        a->passwordeval ? "*" : "(not set)");
	if (a->passwordenv)
		fprintf(out, "passwordenv = %s\n", a->passwordenv);
	if (a->passwordcred)
		fprintf(out, "passwordcred = %s\n", a->passwordcred);
	if (a->passwordfd)
		fprintf(out, "passwordfd = %d\n", a->passwordfd);
}

static void
print_connection(FILE *out, const struct account *a)
{
	fprintf(out, "host = %s\n", or_unset(a->host));
	fprintf(out, "port = %d\n", submit_port(a));
	/* How the connection is made matters as much as where: a Tor
	 * set-up checks here that the proxy is used. */
	fprintf(out, "source_ip = %s\n", or_unset(a->source_ip));
	fprintf(out, "socket = %s\n", or_unset(a->socket));
	fprintf(out, "proxy_host = %s\n", or_unset(a->proxy_host));
	if (a->proxy_host && *a->proxy_host)
		fprintf(out, "proxy_port = %d\n",
		        a->proxy_port ? a->proxy_port : SOCKS_PORT);
	else
		fprintf(out, "proxy_port = (not set)\n");
	fprintf(out, "protocol = %s\n", a->lmtp ? "lmtp" : "smtp");
	if (a->timeout)
		fprintf(out, "timeout = %d\n", a->timeout);
	else
		fprintf(out, "timeout = (built in: RFC 5321 4.5.3.2)\n");
	fprintf(out, "domain = %s\n", or_unset(a->domain));
	fprintf(out, "pipelining = %s\n", on_off(a->pipelining));
	fprintf(out, "tls = %s\n", on_off(a->tls));
	fprintf(out, "tls_starttls = %s\n", on_off(a->tls_starttls));
	fprintf(out, "tls_trust_file = %s\n",
	        a->tls_trust_file ? a->tls_trust_file : "system");
	fprintf(out, "tls_fingerprint = %s\n", or_unset(a->tls_fingerprint));
	fprintf(out, "tls_cert_file = %s\n", or_unset(a->tls_cert_file));
	fprintf(out, "tls_key_file = %s\n", or_unset(a->tls_key_file));
	fprintf(out, "tls_certcheck = %s\n", on_off(a->tls_certcheck));
	fprintf(out, "tls_priorities = %s\n", or_unset(a->tls_priorities));
	fprintf(out, "tls_host_override = %s\n",
	        or_unset(a->tls_host_override));
}

static void
print_message_settings(FILE *out, const struct job *job)
{
	const struct account *a = &job->acct;

	if (job->req.read_envelope_from)
		fprintf(out,
		        "envelope-from = (the From field of the message)\n");
	else
		fprintf(out, "envelope-from = %s\n", or_unset(job->env.sender));
	fprintf(out, "set_from_header = %s\n",
	        from_header_name(a->set_from_header));
	fprintf(out, "set_date_header = %s\n",
	        a->set_date_header ? "auto" : "off");
	fprintf(out, "set_msgid_header = %s\n",
	        a->set_msgid_header ? "auto" : "off");
	fprintf(out, "remove_bcc_headers = %s\n",
	        on_off(a->remove_bcc_headers));
	fprintf(out, "undisclosed_recipients = %s\n",
	        on_off(a->undisclosed_recipients));
	fprintf(out, "dsn_notify = %s\n", or_unset(a->dsn_notify));
	fprintf(out, "dsn_return = %s\n", or_unset(a->dsn_return));
	fprintf(out, "aliases = %s\n", or_unset(a->aliases));
	fprintf(out, "logfile = %s\n", or_unset(a->logfile));
	fprintf(out, "logfile_level = %s\n",
	        a->logfile_transcript ? "transcript" : "summary");
	fprintf(out, "syslog = %s\n", a->syslog_facility < 0 ? "off" : "on");
}

int
pretend_settings(FILE *out, const struct job *job, struct error *err)
{
	const struct account *a = &job->acct;

	fprintf(out, "configuration file = %s\n", a->file ? a->file : "(none)");
	fprintf(out, "account = %s\n",
	        a->name ? a->name : "(command line only)");
	print_connection(out, a);
	print_credentials(out, a);
	print_message_settings(out, job);
	return fflush(out) == 0 && !ferror(out)
	           ? 0
	           : error_set(err, ERROR_IOERR,
	                       "cannot write to standard output");
}

/* Nothing is read from standard input, no connection is made and no
 * password is asked for: only the account and the sender are chosen. */
int
pretend_run(struct job *job, FILE *out, struct error *err)
{
	if (job_load_account(job, err) < 0 ||
	    (!job->req.read_envelope_from && job_choose_sender(job, err) < 0))
		return -1;
	return pretend_settings(out, job, err);
}
