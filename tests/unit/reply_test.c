/*
 * reply_test.c - the reply parser and the judgement of replies (reply.h):
 * well-formed and malformed replies, the ceilings, censoring, enhanced
 * status codes, and the failure class of each kind of refusal.
 */
#include "config.h"

#include <string.h>

#include "reply.h"
#include "unit.h"

#define MAX_LINES 4

/* Push lines until one completes the reply or fails; the last result. */
static int
push_all(struct reply *r, const char *const *lines, struct error *err)
{
	int rc = 0;

	for (size_t i = 0; i < MAX_LINES && lines[i]; i++) {
		rc = reply_push_line(r, lines[i], strlen(lines[i]), err);
		if (rc != 0)
			break;
	}
	return rc;
}

static const struct parse_case {
	const char *name;
	const char *lines[MAX_LINES + 1];
	int rc; /* result of the last line pushed */
	int code;
	const char *enhanced;
	const char *text;
	size_t nlines;
} parse_cases[] = {
    {"single line", {"250 OK"}, 1, 250, "", "OK", 1},
    {"multi-line",
     {"250-mail.example.org", "250-PIPELINING", "250 SIZE 1000"},
     1,
     250,
     "",
     "mail.example.org\nPIPELINING\nSIZE 1000",
     3},
    {"continuation only", {"250-first"}, 0, 250, "", "first", 1},
    {"bare code", {"250"}, 1, 250, "", "", 1},
    {"code and space", {"221 "}, 1, 221, "", "", 1},
    {"empty continuation", {"250-", "250"}, 1, 250, "", "\n", 2},
    {"greeting",
     {"220 mx.example.org ESMTP"},
     1,
     220,
     "",
     "mx.example.org ESMTP",
     1},
    {"354",
     {"354 End data with <CR><LF>.<CR><LF>"},
     1,
     354,
     "",
     "End data with <CR><LF>.<CR><LF>",
     1},
    {"wrong separator", {"250x OK"}, -1, 0, "", "", 0},
    {"colon separator", {"250:OK"}, -1, 0, "", "", 0},
    {"separator after continuation", {"250-a", "250/b"}, -1, 250, "", "a", 1},
    {"code change", {"250-a", "251 b"}, -1, 250, "", "a", 1},
    {"class change", {"250-a", "550 b"}, -1, 250, "", "a", 1},
    {"non-digit", {"2x0 OK"}, -1, 0, "", "", 0},
    {"letters", {"OK"}, -1, 0, "", "", 0},
    {"empty line", {""}, -1, 0, "", "", 0},
    {"two digits", {"25"}, -1, 0, "", "", 0},
    {"two digits and space", {"25 OK"}, -1, 0, "", "", 0},
    {"first digit 1", {"150 OK"}, -1, 0, "", "", 0},
    {"first digit 6", {"650 OK"}, -1, 0, "", "", 0},
    {"first digit 0", {"050 OK"}, -1, 0, "", "", 0},
    {"leading space", {" 250 OK"}, -1, 0, "", "", 0},
    {"enhanced",
     {"550 5.1.1 <bob@example.org>: unknown"},
     1,
     550,
     "5.1.1",
     "5.1.1 <bob@example.org>: unknown",
     1},
    {"enhanced positive",
     {"250 2.0.0 Ok: queued"},
     1,
     250,
     "2.0.0",
     "2.0.0 Ok: queued",
     1},
    {"enhanced temporary",
     {"451 4.7.1 greylisted"},
     1,
     451,
     "4.7.1",
     "4.7.1 greylisted",
     1},
    {"enhanced three-digit parts",
     {"550 5.123.456 x"},
     1,
     550,
     "5.123.456",
     "5.123.456 x",
     1},
    {"enhanced alone", {"550 5.1.1"}, 1, 550, "5.1.1", "5.1.1", 1},
    {"enhanced wrong class", {"550 4.1.1 x"}, 1, 550, "", "4.1.1 x", 1},
    {"enhanced wrong class positive",
     {"250 5.0.0 x"},
     1,
     250,
     "",
     "5.0.0 x",
     1},
    {"enhanced not followed by space", {"550 5.1.1x"}, 1, 550, "", "5.1.1x", 1},
    {"enhanced four-digit part",
     {"550 5.1234.1 x"},
     1,
     550,
     "",
     "5.1234.1 x",
     1},
    {"enhanced empty detail", {"550 5.1. x"}, 1, 550, "", "5.1. x", 1},
    {"enhanced two parts", {"550 5.1 x"}, 1, 550, "", "5.1 x", 1},
    {"enhanced absent", {"550 no such user"}, 1, 550, "", "no such user", 1},
    {"enhanced on the first line only",
     {"550-first", "550 5.1.1 x"},
     1,
     550,
     "",
     "first\n5.1.1 x",
     2},
    {"enhanced from the first line",
     {"550-5.7.1 a", "550 5.1.1 b"},
     1,
     550,
     "5.7.1",
     "5.7.1 a\n5.1.1 b",
     2},
    {"control bytes censored",
     {"250 a\x01"
      "b\x1b[31m\x7f"},
     1,
     250,
     "",
     "a?b?[31m?",
     1},
    {"8-bit bytes censored", {"250 caf\xc3\xa9"}, 1, 250, "", "caf??", 1},
    {"tab kept", {"250 a\tb"}, 1, 250, "", "a\tb", 1},
    {"stray CR censored", {"250 ok\r"}, 1, 250, "", "ok?", 1},
};

static void
test_parse_table(void)
{
	for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0];
	     i++) {
		const struct parse_case *c = &parse_cases[i];
		struct reply r;
		struct error err;
		int failed = unit_failed;
		int rc;

		error_clear(&err);
		reply_init(&r);
		rc = push_all(&r, c->lines, &err);
		CHECK_INT(rc, c->rc);
		CHECK_INT(r.code, c->code);
		CHECK_STR(r.enhanced, c->enhanced);
		CHECK_STR(buf_str(&r.text), c->text);
		CHECK_INT(r.nlines, c->nlines);
		if (c->rc < 0) {
			CHECK_INT(err.kind, ERROR_PROTOCOL);
			CHECK(strncmp(err.msg, "malformed reply from server: ",
			              29) == 0);
		}
		if (unit_failed > failed)
			fprintf(stderr, "  in case \"%s\"\n", c->name);
		reply_clear(&r);
	}
}

static void
test_nul_byte(void)
{
	static const char line[] = "250 a\0b";
	struct reply r;
	struct error err;

	reply_init(&r);
	CHECK_INT(reply_push_line(&r, line, sizeof line - 1, &err), 1);
	CHECK_STR(buf_str(&r.text), "a?b");
	CHECK_INT(r.text.len, 3);
	reply_clear(&r);
}

static void
test_line_length(void)
{
	char line[REPLY_LINE_MAX + 2];
	struct reply r;
	struct error err;

	memset(line, 'x', sizeof line);
	memcpy(line, "250 ", 4);
	reply_init(&r);
	CHECK_INT(reply_push_line(&r, line, REPLY_LINE_MAX, &err), 1);
	CHECK_INT(r.text.len, REPLY_LINE_MAX - 4);
	reply_clear(&r);

	error_clear(&err);
	CHECK_INT(reply_push_line(&r, line, REPLY_LINE_MAX + 1, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK(strstr(err.msg, "2049 bytes") != NULL);
	CHECK_INT(r.code, 0);
	reply_clear(&r);
}

static void
test_line_count(void)
{
	struct reply r;
	struct error err;
	int rc = 0;

	/* Exactly REPLY_LINES_MAX lines is fine. */
	reply_init(&r);
	for (int i = 0; i < REPLY_LINES_MAX - 1; i++)
		rc |= reply_push_line(&r, "250-x", 5, &err);
	CHECK_INT(rc, 0);
	CHECK_INT(reply_push_line(&r, "250 end", 7, &err), 1);
	CHECK_INT(r.nlines, REPLY_LINES_MAX);
	reply_clear(&r);

	/* One more is hostile. */
	for (int i = 0; i < REPLY_LINES_MAX; i++)
		rc |= reply_push_line(&r, "250-x", 5, &err);
	CHECK_INT(rc, 0);
	error_clear(&err);
	CHECK_INT(reply_push_line(&r, "250 end", 7, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK(strstr(err.msg, "more than 100 lines") != NULL);
	reply_clear(&r);
}

static void
test_lines_and_summary(void)
{
	static const char *const lines[] = {"250-one", "250-", "250 three",
	                                    NULL};
	struct reply r;
	struct error err;
	const char *p;
	size_t len;
	char small[4];
	char big[64];

	reply_init(&r);
	CHECK_INT(push_all(&r, lines, &err), 1);
	p = reply_line(&r, 0, &len);
	CHECK_MEM(p, len, "one", 3);
	p = reply_line(&r, 1, &len);
	CHECK(p != NULL);
	CHECK_INT(len, 0);
	p = reply_line(&r, 2, &len);
	CHECK_MEM(p, len, "three", 5);
	CHECK(reply_line(&r, 3, &len) == NULL);
	CHECK_INT(len, 0);

	reply_summary(&r, big, sizeof big);
	CHECK_STR(big, "one");
	reply_summary(&r, small, sizeof small);
	CHECK_STR(small, "one");
	reply_summary(&r, small, 3);
	CHECK_STR(small, "on");

	/* The whole reply as sent, for the log file; cut to the buffer. */
	reply_format(&r, big, sizeof big);
	CHECK_STR(big, "250-one\n250-\n250 three");
	reply_format(&r, small, sizeof small);
	CHECK_STR(small, "250");
	reply_keep(&r, &err);
	CHECK_INT(err.smtp_code, 250);
	CHECK_STR(err.smtp_reply, "250-one\n250-\n250 three");

	/* Cleared, the record is empty and takes a new reply. */
	reply_clear(&r);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.nlines, 0);
	reply_summary(&r, big, sizeof big);
	CHECK_STR(big, "");
	CHECK_INT(reply_push_line(&r, "221 bye", 7, &err), 1);
	CHECK_STR(buf_str(&r.text), "bye");
	reply_clear(&r);
}

static void
test_predicates(void)
{
	struct reply r;
	struct error err;

	reply_init(&r);
	CHECK(!reply_is_positive(&r));
	reply_push_line(&r, "354 go", 6, &err);
	CHECK(reply_is_positive(&r));
	reply_clear(&r);
	reply_push_line(&r, "452 later", 9, &err);
	CHECK(reply_is_temporary(&r));
	CHECK(!reply_is_permanent(&r));
	reply_clear(&r);
	reply_push_line(&r, "554 no", 6, &err);
	CHECK(reply_is_permanent(&r));
	reply_clear(&r);
}

/* Which positive codes each command may get; negative ones always. */
static const struct expected_case {
	const char *line;
	enum reply_stage stage;
	bool expected;
} expected_cases[] = {
    {"220 ready", REPLY_STAGE_CONNECT, true},
    {"250 ready", REPLY_STAGE_CONNECT, false},
    {"221 bye", REPLY_STAGE_CONNECT, false},
    {"554 no service", REPLY_STAGE_CONNECT, true},
    {"250 hello", REPLY_STAGE_HELO, true},
    {"220 hello", REPLY_STAGE_HELO, false},
    {"251 hello", REPLY_STAGE_HELO, false},
    {"250 2.1.0 ok", REPLY_STAGE_MAIL, true},
    {"251 ok", REPLY_STAGE_MAIL, false},
    {"354 go", REPLY_STAGE_MAIL, false},
    {"250 2.1.5 ok", REPLY_STAGE_RCPT, true},
    {"251 2.1.5 will forward", REPLY_STAGE_RCPT, true},
    {"252 2.1.5 cannot verify", REPLY_STAGE_RCPT, true},
    {"221 2.0.0 bye", REPLY_STAGE_RCPT, false},
    {"220 ok", REPLY_STAGE_RCPT, false},
    {"253 ok", REPLY_STAGE_RCPT, false},
    {"354 go", REPLY_STAGE_RCPT, false},
    {"550 5.1.1 no", REPLY_STAGE_RCPT, true},
    {"450 4.2.0 busy", REPLY_STAGE_RCPT, true},
    {"354 go ahead", REPLY_STAGE_DATA, true},
    {"250 ok", REPLY_STAGE_DATA, false},
    {"334 what", REPLY_STAGE_DATA, false},
    {"554 no", REPLY_STAGE_DATA, true},
    {"250 2.0.0 queued", REPLY_STAGE_BODY, true},
    {"251 queued", REPLY_STAGE_BODY, false},
    {"221 bye", REPLY_STAGE_BODY, false},
    {"354 more", REPLY_STAGE_BODY, false},
    {"235 2.7.0 ok", REPLY_STAGE_AUTH, true},
    {"334 ", REPLY_STAGE_AUTH, true},
    {"250 ok", REPLY_STAGE_AUTH, false},
    {"535 5.7.8 no", REPLY_STAGE_AUTH, true},
};

static void
test_expected(void)
{
	for (size_t i = 0; i < sizeof expected_cases / sizeof *expected_cases;
	     i++) {
		const struct expected_case *c = &expected_cases[i];
		struct reply r;
		struct error err;
		int failed = unit_failed;

		reply_init(&r);
		CHECK_INT(reply_push_line(&r, c->line, strlen(c->line), &err),
		          1);
		CHECK_INT(reply_expected(&r, c->stage), c->expected);
		if (unit_failed > failed)
			fprintf(stderr, "  in case \"%s\" (stage %d)\n",
			        c->line, (int)c->stage);
		reply_clear(&r);
	}
}

static const struct kind_case {
	const char *line;
	enum reply_stage stage;
	enum error_kind kind;
} kind_cases[] = {
    {"421 4.3.2 shutting down", REPLY_STAGE_CONNECT, ERROR_TEMPFAIL},
    {"421 closing", REPLY_STAGE_HELO, ERROR_TEMPFAIL},
    {"450 mailbox busy", REPLY_STAGE_RCPT, ERROR_TEMPFAIL},
    {"452 4.5.3 too many recipients", REPLY_STAGE_RCPT, ERROR_TEMPFAIL},
    {"451 4.7.1 greylisted", REPLY_STAGE_RCPT, ERROR_TEMPFAIL},
    {"550 5.1.1 unknown user", REPLY_STAGE_RCPT, ERROR_NOUSER},
    {"550 5.1.1 unknown user", REPLY_STAGE_MAIL, ERROR_UNAVAILABLE},
    {"550 5.1.1 unknown user", REPLY_STAGE_RCPT, ERROR_NOUSER},
    {"550 5.1.1 unknown user", REPLY_STAGE_BODY, ERROR_NOUSER},
    {"553 5.1.8 bad sender domain", REPLY_STAGE_MAIL, ERROR_UNAVAILABLE},
    {"550 5.7.1 relaying denied", REPLY_STAGE_RCPT, ERROR_NOPERM},
    {"554 5.7.1 spam", REPLY_STAGE_BODY, ERROR_NOPERM},
    {"535 5.7.8 bad credentials", REPLY_STAGE_AUTH, ERROR_NOPERM},
    {"552 5.3.4 message too big", REPLY_STAGE_BODY, ERROR_UNAVAILABLE},
    {"550 5.2.1 mailbox disabled", REPLY_STAGE_RCPT, ERROR_UNAVAILABLE},
    {"554 transaction failed", REPLY_STAGE_BODY, ERROR_UNAVAILABLE},
    {"554 no SMTP service here", REPLY_STAGE_CONNECT, ERROR_UNAVAILABLE},
    {"535 authentication failed", REPLY_STAGE_AUTH, ERROR_NOPERM},
    {"530 authentication required", REPLY_STAGE_MAIL, ERROR_NOPERM},
    {"534 mechanism too weak", REPLY_STAGE_AUTH, ERROR_NOPERM},
    {"538 encryption required", REPLY_STAGE_AUTH, ERROR_NOPERM},
    {"550 no such user", REPLY_STAGE_RCPT, ERROR_NOUSER},
    {"551 user not local", REPLY_STAGE_RCPT, ERROR_NOUSER},
    {"553 mailbox name not allowed", REPLY_STAGE_RCPT, ERROR_NOUSER},
    {"550 rejected", REPLY_STAGE_MAIL, ERROR_UNAVAILABLE},
    {"550 rejected", REPLY_STAGE_BODY, ERROR_UNAVAILABLE},
    {"552 too big", REPLY_STAGE_BODY, ERROR_UNAVAILABLE},
    {"501 syntax error", REPLY_STAGE_HELO, ERROR_UNAVAILABLE},
    /* An enhanced code of the wrong class is ignored: the code rules. */
    {"550 4.1.1 odd", REPLY_STAGE_RCPT, ERROR_NOUSER},
    {"550 4.7.1 odd", REPLY_STAGE_MAIL, ERROR_UNAVAILABLE},
    {"250 ok", REPLY_STAGE_RCPT, ERROR_NONE},
    {"220 hello", REPLY_STAGE_CONNECT, ERROR_NONE},
    {"354 go ahead", REPLY_STAGE_DATA, ERROR_NONE},
};

static void
test_error_kind_table(void)
{
	for (size_t i = 0; i < sizeof kind_cases / sizeof kind_cases[0]; i++) {
		const struct kind_case *c = &kind_cases[i];
		struct reply r;
		struct error err;
		int failed = unit_failed;

		reply_init(&r);
		CHECK_INT(reply_push_line(&r, c->line, strlen(c->line), &err),
		          1);
		CHECK_INT(reply_error_kind(&r, c->stage), c->kind);
		if (unit_failed > failed)
			fprintf(stderr, "  in case \"%s\"\n", c->line);
		reply_clear(&r);
	}
}

static void
test_error_kind_no_reply(void)
{
	struct reply r;

	reply_init(&r);
	CHECK_INT(reply_error_kind(&r, REPLY_STAGE_MAIL), ERROR_SOFTWARE);
}

static const struct to_error_case {
	const char *lines[MAX_LINES + 1];
	enum reply_stage stage;
	const char *what;
	enum error_kind kind;
	const char *msg;
	int code;
	const char *enhanced;
} to_error_cases[] = {
    {{"550 5.1.1 <bob@example.org>: unknown"},
     REPLY_STAGE_RCPT,
     "RCPT TO:<bob@example.org>",
     ERROR_NOUSER,
     "RCPT TO:<bob@example.org>: server said 550 5.1.1 <bob@example.org>: "
     "unknown",
     550,
     "5.1.1"},
    {{"554-mx.example.org says no", "554 go away"},
     REPLY_STAGE_CONNECT,
     "connecting to mx",
     ERROR_UNAVAILABLE,
     "connecting to mx: server said 554 mx.example.org says no",
     554,
     ""},
    {{"421"},
     REPLY_STAGE_HELO,
     "EHLO",
     ERROR_TEMPFAIL,
     "EHLO: server said 421",
     421,
     ""},
    {{"535 5.7.8 bad"},
     REPLY_STAGE_AUTH,
     "AUTH",
     ERROR_NOPERM,
     "AUTH: server said 535 5.7.8 bad",
     535,
     "5.7.8"},
    {{"550 a\x1b[2Jb"},
     REPLY_STAGE_MAIL,
     "MAIL FROM",
     ERROR_UNAVAILABLE,
     "MAIL FROM: server said 550 a?[2Jb",
     550,
     ""},
    {{"354 go ahead"},
     REPLY_STAGE_MAIL,
     "MAIL FROM",
     ERROR_PROTOCOL,
     "MAIL FROM: unexpected reply: server said 354 go ahead",
     354,
     ""},
};

static void
test_to_error(void)
{
	for (size_t i = 0; i < sizeof to_error_cases / sizeof to_error_cases[0];
	     i++) {
		const struct to_error_case *c = &to_error_cases[i];
		struct reply r;
		struct error err;

		reply_init(&r);
		error_clear(&err);
		CHECK_INT(push_all(&r, c->lines, &err), 1);
		CHECK_INT(reply_to_error(&r, c->stage, c->what, &err), -1);
		CHECK_INT(err.kind, c->kind);
		CHECK_STR(err.msg, c->msg);
		CHECK_INT(err.smtp_code, c->code);
		CHECK_STR(err.smtp_enhanced, c->enhanced);
		CHECK(strncmp(err.smtp_reply, c->lines[0], 3) == 0);
		reply_clear(&r);
	}
}

int
main(void)
{
	test_parse_table();
	test_nul_byte();
	test_line_length();
	test_line_count();
	test_lines_and_summary();
	test_predicates();
	test_expected();
	test_error_kind_table();
	test_error_kind_no_reply();
	test_to_error();
	return unit_done();
}
