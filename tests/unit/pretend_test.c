/*
 * pretend_test.c - what --pretend shows of an account (never a password
 * nor a passwordeval command) and what --dry-run writes (the stream's
 * bytes, whole, and a write error said as one).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "error.h"
#include "job.h"
#include "pretend.h"
#include "memstream.h"
#include "unit.h"

/* The settings of job as --pretend prints them, in a string (caller
 * frees). */
static char *
settings_text(const struct job *job)
{
	struct error err;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	error_clear(&err);
	CHECK(f != NULL);
	if (!f)
		return NULL;
	CHECK_INT(pretend_settings(f, job, &err), 0);
	fclose(f);
	return text;
}

static void
check_line(const char *text, const char *line)
{
	char m[256];
	const char *at = text ? strstr(text, line) : NULL;

	/* A whole line: at the start or after a newline, ending with one. */
	while (at && !(at == text || at[-1] == '\n'))
		at = strstr(at + 1, line);
	snprintf(m, sizeof m, "a line \"%s\"", line);
	unit_report(at && at[strlen(line)] == '\n', __FILE__, __LINE__, m);
}

static void
test_secrets(void)
{
	struct job job = {0};
	char *text;

	account_defaults(&job.acct);
	job.acct.host = "mail.example.org";
	job.acct.auth = "on";
	job.acct.user = "alice";
	job.acct.password = "s3cret-password";
	job.acct.passwordeval = "echo s3cret-command";
	envelope_set_sender(&job.env, "alice@example.org");
	text = settings_text(&job);
	check_line(text, "host = mail.example.org");
	check_line(text, "account = (command line only)");
	check_line(text, "configuration file = (none)");
	check_line(text, "user = alice");
	check_line(text, "password = *");
	check_line(text, "passwordeval = *");
	check_line(text, "envelope-from = alice@example.org");
	CHECK(text && !strstr(text, "s3cret"));
	free(text);
	envelope_clear(&job.env);
}

/* An account of the system configuration that the caller may not read:
 * whether each value is set, never what it is (host and port, which a
 * send shows anyway, excepted). */
static void
test_hidden(void)
{
	struct job job = {0};
	char *text;

	account_defaults(&job.acct);
	job.acct.hidden = true;
	job.acct.host = "mail.example.org";
	job.acct.auth = "on";
	job.acct.user = "h1dden-user";
	job.acct.passwordenv = "H1DDEN_VAR";
	job.acct.tls_trust_file = "/etc/h1dden.pem";
	job.acct.tls_cert_file = "/etc/h1dden-cert.pem";
	job.acct.proxy_host = "h1dden-proxy";
	job.acct.proxy_port = 9050;
	job.acct.logfile = "/var/log/h1dden";
	text = settings_text(&job);
	check_line(text, "host = mail.example.org");
	check_line(text, "user = (set, hidden)");
	check_line(text, "passwordenv = (set, hidden)");
	check_line(text, "tls_trust_file = (set, hidden)");
	check_line(text, "tls_cert_file = (set, hidden)");
	check_line(text, "tls_key_file = (not set)");
	check_line(text, "proxy_host = (set, hidden)");
	check_line(text, "proxy_port = (set, hidden)");
	check_line(text, "logfile = (set, hidden)");
	CHECK(text && !strstr(text, "h1dden") && !strstr(text, "H1DDEN") &&
	      !strstr(text, "9050"));
	free(text);
}

static void
test_unset(void)
{
	struct job job = {0};
	char *text;

	account_defaults(&job.acct);
	job.req.read_envelope_from = true;
	text = settings_text(&job);
	check_line(text, "host = (not set)");
	check_line(text, "auth = off");
	check_line(text, "password = (not set)");
	check_line(text, "proxy_port = (not set)");
	check_line(text, "envelope-from = (the From field of the message)");
	free(text);
}

static void
test_message(void)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
	struct memstream mem;
	struct message_stream s = memstream_of(&mem, msg, sizeof msg - 1, 0);
	struct error err;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	error_clear(&err);
	CHECK_INT(pretend_message(f, &s, &err), 0);
	fclose(f);
	CHECK_MEM(text, len, msg, sizeof msg - 1);
	free(text);

	/* A full disk is an I/O error, not a message shown in part. */
	f = fopen("/dev/full", "w");
	if (!f)
		return;
	mem.pos = 0;
	CHECK_INT(pretend_message(f, &s, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	fclose(f);
}

int
main(void)
{
	test_secrets();
	test_hidden();
	test_unset();
	test_message();
	return unit_done();
}
