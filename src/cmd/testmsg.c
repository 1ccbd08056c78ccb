/*
 * testmsg.c - the --test message (testmsg.h): its subject and body, from
 * what this run will use.
 */
#include "config.h"

#include "testmsg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "submit.h"
#include "util.h"

/* Room for the body: a few lines, each field cut to its own bound. */
#define TESTMSG_BODY_MAX 2048

static const char *
tls_words(const struct account *a)
{
	if (!a->tls)
		return "none";
	return a->tls_starttls ? "STARTTLS (RFC 3207)"
	                       : "TLS from the first byte (RFC 8314)";
}

/* The account as the user knows it: its name and file, or none. */
static void
account_words(const struct account *a, char *out, size_t n)
{
	if (a->file)
		snprintf(out, n, "%.100s (%.300s)",
		         a->name ? a->name : "default", a->file);
	else
		str_copy(out, n, "none (the command line only)");
}

static void
server_words(const struct account *a, char *out, size_t n)
{
	const char *proto = a->lmtp ? "LMTP" : "SMTP";

	if (a->deliver == CONF_DELIVER_MX)
		snprintf(out, n,
		         "each recipient domain's MX hosts, port %d, %s",
		         submit_port(a), proto);
	else if (a->socket && *a->socket)
		snprintf(out, n, "%.255s, local socket %.300s, %s", a->host,
		         a->socket, proto);
	else
		snprintf(out, n, "%.255s port %d, %s", a->host, submit_port(a),
		         proto);
}

/* The user as the log line shows it ("*" for the system
 * configuration's). */
static void
auth_words(const struct job *job, char *out, size_t n)
{
	const struct account *a = &job->acct;
	const char *user = job_log_user(job, a);

	if (!user || !*user)
		user = "(no user)";
	if (!a->auth || str_ieq(a->auth, "off"))
		str_copy(out, n, "none");
	else if (str_ieq(a->auth, "on"))
		snprintf(out, n, "the best mechanism offered, as %.100s", user);
	else
		snprintf(out, n, "%.20s, as %.100s", a->auth, user);
}

static void
write_body(const struct job *job, const char *host, char *out, size_t n)
{
	const struct account *a = &job->acct;
	char account[420], server[600], auth[160];

	account_words(a, account, sizeof account);
	server_words(a, server, sizeof server);
	auth_words(job, auth, sizeof auth);
	snprintf(out, n,
	         "This is a test message sent with mailpost --test, to check "
	         "that mail from\n"
	         "this machine reaches its recipients.  It needs no answer.\n"
	         "\n"
	         "Sent from:   %.255s, by %.100s (mailpost %s)\n"
	         "Account:     %s\n"
	         "Server:      %s\n"
	         "TLS:         %s%s\n"
	         "AUTH:        %s\n"
	         "Sender:      <%.300s>\n",
	         host, identity_login(), PACKAGE_VERSION, account, server,
	         tls_words(a),
	         a->tls && !a->tls_certcheck ? ", certificate not checked" : "",
	         auth, job->env.sender ? job->env.sender : "");
}

int
testmsg_prepare(struct job *job, time_t now, struct error *err)
{
	char host[256], date[64], subject[400];
	char *body = xmalloc(TESTMSG_BODY_MAX);
	struct tm tm;

	identity_host(host, sizeof host);
	if (!localtime_r(&now, &tm) ||
	    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %z", &tm) == 0) {
		free(body);
		return error_set(err, ERROR_SOFTWARE,
		                 "cannot write the date of the test message");
	}
	snprintf(subject, sizeof subject,
	         "mailpost test message from %.255s at %s", host, date);
	write_body(job, host, body, TESTMSG_BODY_MAX);
	free(job->test_subject);
	free(job->test_body);
	job->test_subject = xstrdup(subject);
	job->test_body = body;
	job->req.compose = true;
	job->req.subject = job->test_subject;
	job->req.body_text = job->test_body;
	job->acct.set_date_header = true;
	job->acct.set_msgid_header = true;
	return 0;
}
