/*
 * error_test.c - freezes the failure-class to exit-code table (the man
 * page documents the same numbers; scripts depend on them) and checks the
 * message helpers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "maillog.h"
#include "util.h"
#include "unit.h"

static void
test_exit_codes(void)
{
	static const struct {
		enum error_kind kind;
		int code;
		const char *name;
	} table[] = {
	    {ERROR_NONE, 0, "ok"},
	    {ERROR_USAGE, 64, "usage"},
	    {ERROR_DATA, 65, "dataerr"},
	    {ERROR_NOINPUT, 66, "noinput"},
	    {ERROR_NOUSER, 67, "nouser"},
	    {ERROR_NOHOST, 68, "nohost"},
	    {ERROR_UNAVAILABLE, 69, "unavailable"},
	    {ERROR_SOFTWARE, 70, "software"},
	    {ERROR_OSERR, 71, "oserr"},
	    {ERROR_IOERR, 74, "ioerr"},
	    {ERROR_TEMPFAIL, 75, "tempfail"},
	    {ERROR_PROTOCOL, 76, "protocol"},
	    {ERROR_NOPERM, 77, "noperm"},
	    {ERROR_CONFIG, 78, "config"},
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		CHECK_INT(error_exit_code(table[i].kind), table[i].code);
		CHECK_STR(error_kind_name(table[i].kind), table[i].name);
	}
	CHECK_INT(error_exit_code((enum error_kind)99), 70);
}

static void
test_messages(void)
{
	struct error err;

	error_clear(&err);
	CHECK_INT(err.kind, ERROR_NONE);
	CHECK_INT(error_set(&err, ERROR_DATA, "bad %s", "thing"), -1);
	CHECK_STR(err.msg, "bad thing");
	CHECK_INT(err.kind, ERROR_DATA);

	error_set(&err, ERROR_TEMPFAIL, "line\r\nRSET\x1b[31m");
	CHECK_STR(err.msg, "line??RSET?[31m");

	error_set_errno(&err, ERROR_IOERR, ENOSPC, "cannot write %s", "x");
	CHECK_STR(err.msg, "cannot write x: No space left on device");

	error_prefix(&err, "spool: ");
	CHECK_STR(err.msg, "spool: cannot write x: No space left on device");
}

static void
test_worse(void)
{
	CHECK_INT(error_worse(ERROR_NONE, ERROR_TEMPFAIL), ERROR_TEMPFAIL);
	CHECK_INT(error_worse(ERROR_TEMPFAIL, ERROR_NOUSER), ERROR_NOUSER);
	CHECK_INT(error_worse(ERROR_NOUSER, ERROR_TEMPFAIL), ERROR_NOUSER);
	CHECK_INT(error_worse(ERROR_UNAVAILABLE, ERROR_NOUSER), ERROR_NOUSER);
	CHECK_INT(error_worse(ERROR_NOUSER, ERROR_NOPERM), ERROR_NOPERM);
}

static const struct envelope *
two_rcpts(struct envelope *env)
{
	envelope_init(env);
	envelope_set_sender(env, "s@x");
	envelope_add_rcpt(env, "a@x");
	envelope_add_rcpt(env, "b@y");
	return env;
}

static void
test_maillog(void)
{
	struct envelope env;
	struct error err;
	struct maillog_entry e = {
	    .host = "mx",
	    .env = two_rcpts(&env),
	    .size = 42,
	    .error = NULL,
	    .reply = "250 ok",
	};
	char line[256];

	maillog_format(&e, line, sizeof line);
	CHECK_STR(line, "host=mx from=<s@x> recipients=<a@x>,<b@y> size=42 "
	                "result=delivered reply=\"250 ok\"");
	error_set(&err, ERROR_NOUSER, "no such user");
	e.error = &err;
	e.reply = "";
	maillog_format(&e, line, sizeof line);
	CHECK_STR(line, "host=mx from=<s@x> recipients=<a@x>,<b@y> size=42 "
	                "result=nouser error=\"no such user\"");
	maillog_format(&e, line, 20);
	CHECK_INT(strlen(line), 19);
	/* Queued after a temporary failure: the id, and why. */
	error_set(&err, ERROR_TEMPFAIL, "connection refused");
	e.queued_id = "674a1b2c9f3e2d1a";
	maillog_format(&e, line, sizeof line);
	CHECK_STR(line, "host=mx from=<s@x> recipients=<a@x>,<b@y> size=42 "
	                "result=queued id=674a1b2c9f3e2d1a "
	                "error=\"connection refused\"");
	/* A queued entry's attempt (a flush): its id first, as Postfix. */
	e.entry_id = "674a1b2c9f3e2d1a";
	maillog_format(&e, line, sizeof line);
	CHECK_STR(line, "674a1b2c9f3e2d1a: host=mx from=<s@x> "
	                "recipients=<a@x>,<b@y> size=42 "
	                "result=queued id=674a1b2c9f3e2d1a "
	                "error=\"connection refused\"");
	envelope_clear(&env);
}

/* The log file line: msmtp's fields, order and quoting. */
static void
check_log_line(const struct maillog_entry *e, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = tmpfile();

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_INT(maillog_write(f, "Dec 07 10:00:00", e), 0);
	len = (size_t)ftell(f);
	rewind(f);
	text = calloc(1, len + 1);
	CHECK_INT(fread(text, 1, len, f), len);
	CHECK_STR(text, want);
	free(text);
	fclose(f);
}

static void
test_log_file_line(void)
{
	struct envelope env;
	struct error err;
	struct maillog_entry e = {
	    .host = "mx",
	    .env = two_rcpts(&env),
	    .size = 42,
	    .reply_code = 250,
	    .reply = "250 2.0.0 Ok: queued as 1",
	};

	check_log_line(&e, "Dec 07 10:00:00 host=mx tls=off auth=off "
	                   "from=s@x recipients=a@x,b@y mailsize=42 "
	                   "smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued "
	                   "as 1' exitcode=EX_OK\n");
	/* user= only with auth; tls as configured. */
	e.tls = true;
	e.user = "u1";
	check_log_line(&e, "Dec 07 10:00:00 host=mx tls=on auth=off "
	                   "from=s@x recipients=a@x,b@y mailsize=42 "
	                   "smtpstatus=250 smtpmsg='250 2.0.0 Ok: queued "
	                   "as 1' exitcode=EX_OK\n");
	e.auth = true;
	/* A refusal: no mailsize; the reply's lines joined by a literal \n,
	 * quotes hidden as msmtp hides them. */
	error_set(&err, ERROR_NOUSER, "bob's mailbox: refused");
	str_copy(err.smtp_reply, sizeof err.smtp_reply,
	         "550-5.1.1 'bob'\n550 5.1.1 unknown");
	err.smtp_code = 550;
	e.error = &err;
	check_log_line(&e, "Dec 07 10:00:00 host=mx tls=on auth=on user=u1 "
	                   "from=s@x recipients=a@x,b@y smtpstatus=550 "
	                   "smtpmsg='550-5.1.1 ?bob?\\n550 5.1.1 unknown' "
	                   "errormsg='bob?s mailbox: refused' "
	                   "exitcode=EX_NOUSER\n");
	/* No reply at all (connection refused): no smtpstatus. */
	error_set(&err, ERROR_TEMPFAIL, "cannot connect");
	check_log_line(&e, "Dec 07 10:00:00 host=mx tls=on auth=on user=u1 "
	                   "from=s@x recipients=a@x,b@y errormsg='cannot "
	                   "connect' exitcode=EX_TEMPFAIL\n");
	/* Queued after that failure, and queued without trying. */
	e.queued_id = "674a1b2c9f3e2d1a";
	check_log_line(&e, "Dec 07 10:00:00 host=mx tls=on auth=on user=u1 "
	                   "from=s@x recipients=a@x,b@y errormsg='cannot "
	                   "connect' queued=674a1b2c9f3e2d1a "
	                   "exitcode=EX_TEMPFAIL\n");
	e.error = NULL;
	check_log_line(&e, "Dec 07 10:00:00 host=mx tls=on auth=on user=u1 "
	                   "from=s@x recipients=a@x,b@y errormsg='queued "
	                   "without a delivery attempt' "
	                   "queued=674a1b2c9f3e2d1a exitcode=EX_TEMPFAIL\n");
	envelope_clear(&env);
}

int
main(void)
{
	test_exit_codes();
	test_messages();
	test_worse();
	test_maillog();
	test_log_file_line();
	return unit_done();
}
