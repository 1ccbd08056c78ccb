/*
 * maillog_test.c - the log file side of the one line per message: its
 * time stamp, opening the file (a FIFO without a reader fails at once),
 * and maillog_record, which writes msmtp's line where the account says.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "maillog.h"
#include "unit.h"

static char dir[256];

/* 2026-03-04 05:06:07 UTC. */
#define SOME_TIME ((time_t)1772600767)

static void
test_stamp(void)
{
	char out[MAILLOG_STAMP_MAX], small[4];

	CHECK_STR(maillog_stamp(NULL, SOME_TIME, out, sizeof out),
	          "Mar 04 05:06:07");
	CHECK_STR(
	    maillog_stamp("%Y-%m-%dT%H:%M:%S", SOME_TIME, out, sizeof out),
	    "2026-03-04T05:06:07");
	CHECK_STR(maillog_stamp("STAMP", SOME_TIME, out, sizeof out), "STAMP");
	/* Nothing to show, or no room: a placeholder, never an empty field
	 * that would shift msmtp's columns. */
	CHECK_STR(maillog_stamp("", SOME_TIME, out, sizeof out), "-");
	CHECK_STR(maillog_stamp("%Y-%m-%d", SOME_TIME, small, sizeof small),
	          "-");
}

static void
test_open(void)
{
	char path[512], fifo[512];
	struct error err;
	bool no_reader = true;
	FILE *f;

	snprintf(path, sizeof path, "%s/log", dir);
	error_clear(&err);
	f = maillog_open(path, &no_reader, &err);
	CHECK(f != NULL);
	CHECK(!no_reader);
	if (f)
		fclose(f);

	/* A FIFO that nobody reads: at once, not a hang in open(2). */
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	error_clear(&err);
	CHECK(maillog_open(fifo, &no_reader, &err) == NULL);
	CHECK(no_reader);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "a FIFO that no process reads") != NULL);

	/* Any other failure is not a missing reader: the mail may go. */
	snprintf(path, sizeof path, "%s/no/such/dir/log", dir);
	error_clear(&err);
	CHECK(maillog_open(path, &no_reader, &err) == NULL);
	CHECK(!no_reader);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "cannot open log file") != NULL);
}

static char *
file_text(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	text[n] = '\0';
	return text;
}

static void
test_record(void)
{
	struct envelope env;
	struct maillog_entry e = {
	    .host = "mail.example.org",
	    .tls = true,
	    .auth = true,
	    .user = "alice",
	    .env = &env,
	    .size = 1234,
	    .reply_code = 250,
	    .reply = "2.0.0 Ok: queued as 'X'",
	};
	struct error failed;
	char path[512];
	bool no_reader;
	FILE *f;

	envelope_init(&env);
	envelope_set_sender(&env, "alice@example.org");
	envelope_add_rcpt(&env, "bob@example.org");
	envelope_add_rcpt(&env, "carol@example.org");
	/* Neither a file nor syslog: nothing to do, no error. */
	CHECK_INT(maillog_record(NULL, NULL, -1, &e), 0);

	snprintf(path, sizeof path, "%s/record", dir);
	f = maillog_open(path, &no_reader, &failed);
	CHECK(f != NULL);
	if (!f) {
		envelope_clear(&env);
		return;
	}
	CHECK_INT(maillog_record(f, "STAMP", -1, &e), 0);
	error_clear(&failed);
	error_set(&failed, ERROR_TEMPFAIL, "connection refused");
	e.error = &failed;
	CHECK_INT(maillog_record(f, "STAMP", -1, &e), 0);
	/* A queued entry's attempt (a flush): its id, and where it stays. */
	e.entry_id = "0123456789abcdef";
	e.queued_id = "0123456789abcdef";
	CHECK_INT(maillog_record(f, "STAMP", -1, &e), 0);
	e.error = NULL;
	e.queued_id = NULL;
	CHECK_INT(maillog_record(f, "STAMP", -1, &e), 0);
	/* Another user's entry, sent by root's flush of the spool. */
	e.owner = "www-data";
	CHECK_INT(maillog_record(f, "STAMP", -1, &e), 0);
	fclose(f);
	CHECK_STR(file_text(path),
	          "STAMP host=mail.example.org tls=on auth=on user=alice "
	          "from=alice@example.org "
	          "recipients=bob@example.org,carol@example.org "
	          "mailsize=1234 smtpstatus=250 "
	          "smtpmsg='2.0.0 Ok: queued as ?X?' exitcode=EX_OK\n"
	          "STAMP host=mail.example.org tls=on auth=on user=alice "
	          "from=alice@example.org "
	          "recipients=bob@example.org,carol@example.org "
	          "errormsg='connection refused' exitcode=EX_TEMPFAIL\n"
	          "STAMP host=mail.example.org tls=on auth=on user=alice "
	          "from=alice@example.org "
	          "recipients=bob@example.org,carol@example.org "
	          "errormsg='connection refused' queueid=0123456789abcdef "
	          "queued=0123456789abcdef exitcode=EX_TEMPFAIL\n"
	          "STAMP host=mail.example.org tls=on auth=on user=alice "
	          "from=alice@example.org "
	          "recipients=bob@example.org,carol@example.org "
	          "mailsize=1234 smtpstatus=250 "
	          "smtpmsg='2.0.0 Ok: queued as ?X?' "
	          "queueid=0123456789abcdef exitcode=EX_OK\n"
	          "STAMP host=mail.example.org tls=on auth=on user=alice "
	          "from=alice@example.org "
	          "recipients=bob@example.org,carol@example.org "
	          "mailsize=1234 smtpstatus=250 "
	          "smtpmsg='2.0.0 Ok: queued as ?X?' "
	          "queueid=0123456789abcdef owner=www-data exitcode=EX_OK\n");
	{
		char line[512];

		maillog_format(&e, line, sizeof line);
		CHECK(strncmp(line, "0123456789abcdef: owner=www-data host=",
		              38) == 0);
	}
	envelope_clear(&env);
}

static void
remove_dir(void)
{
	const char *names[] = {"log", "fifo", "record"};
	char path[512];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");

	/* The stamps above are in UTC whatever the machine's zone. */
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(dir, sizeof dir, "%s/maillog_test.XXXXXX", t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_stamp();
	test_open();
	test_record();
	remove_dir();
	return unit_done();
}
