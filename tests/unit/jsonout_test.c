/*
 * jsonout_test.c - a message's result as plain C data (jsonresult.c: the
 * statuses, codes and steps made from a log line's entry) and as JSON
 * (jsonout.c): strings with control characters and bytes that are not
 * UTF-8, as a hostile server's reply may hold, still give valid JSON;
 * absent values are null; timings have three decimals.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "error.h"
#include "jsonout.h"
#include "jsonresult.h"
#include "unit.h"
#include "util.h"

/* An account as the defaults leave it, host 127.0.0.1. */
static void
some_account(struct account *a)
{
	memset(a, 0, sizeof *a);
	account_defaults(a);
	free(a->host);
	a->host = strdup("127.0.0.1");
}

/* Does text hold needle? */
static int
holds(const char *text, const char *needle)
{
	return text && strstr(text, needle) != NULL;
}

static void
test_enhanced(void)
{
	char out[JSONRESULT_ENHANCED_MAX];

	jsonresult_enhanced("550 5.1.1 No such user", out, sizeof out);
	CHECK_STR(out, "5.1.1");
	jsonresult_enhanced("250-2.0.0 first\n250 2.0.0 Ok", out, sizeof out);
	CHECK_STR(out, "2.0.0");
	/* A class that disagrees with the code is not one (reply.c). */
	jsonresult_enhanced("250 5.1.1 odd", out, sizeof out);
	CHECK_STR(out, "");
	jsonresult_enhanced("550 no code", out, sizeof out);
	CHECK_STR(out, "");
	jsonresult_enhanced("", out, sizeof out);
	CHECK_STR(out, "");
	jsonresult_enhanced(NULL, out, sizeof out);
	CHECK_STR(out, "");
}

/* Delivered to one, refused for good for another, refused for now for a
 * third whose copy was queued: each recipient's status, the message's,
 * the step and the exit code as given. */
static void
test_fill_partial(void)
{
	struct envelope env;
	struct account a;
	struct error err;
	struct submit_outcome out = {0};
	struct maillog_entry e = {0};
	struct jsonresult r;

	some_account(&a);
	envelope_init(&env);
	envelope_set_sender(&env, "alice@example.org");
	envelope_add_rcpt(&env, "bob@example.net");
	envelope_add_rcpt(&env, "carol@example.net");
	envelope_add_rcpt(&env, "dave@example.net");
	envelope_rcpt_set(&env, 0, ENVELOPE_ACCEPTED, 250, "250 2.0.0 Ok");
	envelope_rcpt_set(&env, 1, ENVELOPE_REFUSED_PERM, 550,
	                  "550 5.1.1 no such user");
	envelope_rcpt_set(&env, 2, ENVELOPE_REFUSED_TEMP, 450,
	                  "450 4.2.1 try later");
	error_clear(&err);
	error_set(&err, ERROR_NOUSER, "1 recipient refused");
	out.in_step = true;
	out.failed_step = SMTP_STEP_RCPT;
	e.host = "127.0.0.1";
	e.env = &env;
	e.error = &err;
	e.queued_id = "0123456789abcdef";
	e.outcome = &out;
	jsonresult_fill(&r, "send", &e, &a, 67);
	CHECK_STR(r.status, "delivered-in-part");
	CHECK_INT(r.nrcpts, 3);
	CHECK_STR(r.rcpts[0].status, "accepted");
	CHECK_STR(r.rcpts[0].enhanced, "2.0.0");
	CHECK_STR(r.rcpts[1].status, "refused-permanently");
	CHECK_INT(r.rcpts[1].code, 550);
	CHECK_STR(r.rcpts[1].enhanced, "5.1.1");
	CHECK_STR(r.rcpts[2].status, "queued");
	CHECK_STR(r.failed_step, "rcpt");
	CHECK_STR(r.error_kind, "nouser");
	CHECK_STR(r.queue_id, "0123456789abcdef");
	CHECK_INT(r.exit_code, 67);
	CHECK_INT(r.port, 25);
	CHECK(r.total_ms < 0); /* no session */
	CHECK(r.tls_info == NULL);
	jsonresult_clear(&r);
	CHECK(r.rcpts == NULL);
	envelope_clear(&env);
	account_clear(&a);
}

/* Not delivered: refused when a reply said no, failed otherwise, queued
 * when it waits; the step from the session's timing when no reply
 * ended it. */
static void
test_fill_status(void)
{
	struct envelope env;
	struct account a;
	struct error err;
	struct submit_report s;
	struct maillog_entry e = {0};
	struct jsonresult r;

	some_account(&a);
	envelope_init(&env);
	envelope_set_sender(&env, "");
	envelope_add_rcpt(&env, "bob@example.net");
	memset(&s, 0, sizeof s);
	s.tried = true;
	str_copy(s.host, sizeof s.host, "mx.example.org");
	s.port = 587;
	smtp_timing_init(&s.timing);
	s.timing.begin_us[SMTP_STEP_CONNECT] = 0;
	s.timing.end_us[SMTP_STEP_CONNECT] = 1500;
	s.timing.begin_us[SMTP_STEP_GREETING] = 1500;
	error_clear(&err);
	error_set(&err, ERROR_TEMPFAIL, "connection closed by server");
	e.env = &env;
	e.error = &err;
	e.session = &s;
	jsonresult_fill(&r, "send", &e, &a, 75);
	CHECK_STR(r.status, "failed");
	CHECK_STR(r.failed_step, "greeting");
	CHECK_STR(r.host, "mx.example.org");
	CHECK_INT(r.port, 587);
	CHECK_STR(r.sender, "");
	CHECK_STR(r.rcpts[0].status, "pending");
	CHECK(r.step_ms[SMTP_STEP_CONNECT] == 1.5);
	CHECK(r.step_ms[SMTP_STEP_GREETING] < 0);
	CHECK(r.total_ms == 1.5);
	jsonresult_clear(&r);

	err.smtp_code = 554;
	str_copy(err.smtp_reply, sizeof err.smtp_reply, "554 5.3.2 go away");
	str_copy(err.smtp_enhanced, sizeof err.smtp_enhanced, "5.3.2");
	err.kind = ERROR_UNAVAILABLE;
	jsonresult_fill(&r, "send", &e, &a, 69);
	CHECK_STR(r.status, "refused");
	CHECK_INT(r.reply_code, 554);
	CHECK_STR(r.reply_enhanced, "5.3.2");
	jsonresult_clear(&r);

	e.queued_id = "fedcba9876543210";
	err.kind = ERROR_TEMPFAIL;
	jsonresult_fill(&r, "send", &e, &a, 0);
	CHECK_STR(r.status, "queued");
	CHECK_STR(r.rcpts[0].status, "queued");
	jsonresult_clear(&r);

	e.queued_id = NULL;
	e.error = NULL;
	envelope_rcpt_set(&env, 0, ENVELOPE_ACCEPTED, 250, "250 ok");
	e.reply_code = 250;
	e.reply = "250 2.0.0 Ok: queued as X";
	jsonresult_fill(&r, "send", &e, &a, 0);
	CHECK_STR(r.status, "delivered");
	CHECK(r.failed_step == NULL);
	CHECK(r.error_kind == NULL);
	CHECK_STR(r.reply_enhanced, "2.0.0");
	jsonresult_clear(&r);
	envelope_clear(&env);
	account_clear(&a);
}

/* Is s well-formed UTF-8 without a raw control character (RFC 8259 7:
 * those must be escaped)? */
static int
valid_json_text(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);

		if (n == 0 || (unsigned char)s[i] < 0x20)
			return 0;
		i += n;
	}
	return 1;
}

/* A reply with control characters and bytes that are not UTF-8: the
 * controls escaped, the bad bytes U+FFFD, the good UTF-8 kept. */
static void
test_hostile_text(void)
{
	struct jsonresult r;
	struct jsonresult_rcpt rc = {
	    .address = "j\xc3\xb6rg@example.org",
	    .status = "refused-permanently",
	    .code = 550,
	    .reply = "550 bad\x01\x1b[31m\tline\nnext \xff\xc3 \"q\" \\ /",
	};
	char *text;

	memset(&r, 0, sizeof r);
	r.mode = "send";
	r.protocol = "smtp";
	r.tls_mode = "off";
	r.status = "refused";
	r.sender = "a\xe0\x80\x80@x"; /* an overlong form */
	r.rcpts = &rc;
	r.nrcpts = 1;
	for (int i = 0; i < SMTP_NSTEPS; i++)
		r.step_ms[i] = -1;
	r.step_ms[SMTP_STEP_CONNECT] = 0.25;
	r.step_ms[SMTP_STEP_BODY] = 12;
	r.total_ms = 1234.5678;
	r.exit_code = 67;
	text = jsonout_text(&r);
	if (!text) {
		printf("jsonout_test: built without json-c; skipped\n");
		exit(77);
	}
	CHECK(valid_json_text(text));
	CHECK(holds(text, "\"version\":1,"));
	CHECK(holds(text, "bad\\u0001\\u001b[31m\\tline\\nnext "
	                  "\xef\xbf\xbd\xef\xbf\xbd \\\"q\\\" \\\\ /\""));
	CHECK(holds(text, "\"address\":\"j\xc3\xb6rg@example.org\""));
	CHECK(holds(text, "\"sender\":\"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                  "@x\""));
	CHECK(holds(text, "\"enhanced_code\":null"));
	CHECK(holds(text, "\"queue_id\":null"));
	CHECK(holds(text, "\"error\":null"));
	CHECK(holds(text, "\"reply\":null,\"queue_id\""));
	CHECK(holds(text, "\"connect\":0.250,"));
	CHECK(holds(text, "\"body\":12.000,"));
	CHECK(holds(text, "\"greeting\":null,"));
	CHECK(holds(text, "\"total\":1234.568}"));
	CHECK(holds(text, "\"exit_code\":67}"));
	CHECK(strchr(text, '\n') == NULL);
	free(text);
}

int
main(void)
{
	test_enhanced();
	test_fill_partial();
	test_fill_status();
	test_hostile_text();
	return unit_done();
}
