/*
 * submit_test.c - delivery policy (submit.h) against a scripted server
 * (peer.h): which replies make a delivery, a partial one or none, the
 * failure class (and so the exit code) of each kind of refusal, what is
 * decided before MAIL, and that the terminator never goes out when the
 * message must not be delivered.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "peer.h"
#include "submit.h"
#include "unit.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define STEPS_MAX 8

#define GREET                                                                  \
	{                                                                      \
		NULL, "220 test.invalid ESMTP\r\n", 0                          \
	}
#define EHLO_OK(caps)                                                          \
	{                                                                      \
		"EHLO client.test\r\n", "250-test.invalid\r\n" caps, 1         \
	}
#define PIPE "250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n"
#define PLAIN "250 SIZE 1000\r\n"
#define EHLO "EHLO client.test\r\n"
#define ENV1 "MAIL FROM:<a@x.test> SIZE=20\r\nRCPT TO:<b@y.test>\r\n"
#define ENV2 ENV1 "RCPT TO:<c@y.test>\r\n"
#define ENV3 ENV2 "RCPT TO:<d@y.test>\r\n"
#define MSG "Subject: t\r\n\r\nbody\r\n"
#define MSG8 "Subject: t\r\n\r\nb\xc3\xa9\r\n"
/* The pipelined group MAIL..DATA answered at once: MAIL's 250, then the
 * RCPT replies given, then 354. */
#define DATA_ANSWER(rcpts)                                                     \
	{                                                                      \
		"DATA\r\n", "250 ok\r\n" rcpts "354 go\r\n", 0                 \
	}
/* The dot and the QUIT pipelined behind it. */
#define DOT_ANSWER(r)                                                          \
	{                                                                      \
		"\r\n.\r\nQUIT\r\n", r "221 bye\r\n", 1                        \
	}
#define MAIL_ANSWER(r)                                                         \
	{                                                                      \
		"MAIL FROM:<a@x.test> SIZE=20\r\n", r, 1                       \
	}

struct scenario {
	const char *name;
	struct peer_step st[STEPS_MAX];
	bool lmtp;
	bool any;          /* rcpt_policy any, else all */
	size_t nrcpts;     /* 1 to 3 */
	const char *msg;   /* NULL: MSG */
	const char *rcpt2; /* the second recipient; NULL: c@y.test */
	const char *dsn_ret; /* the envelope's RET, or NULL */
	int exit_code;     /* of the error; 0 when submit_send succeeds */
	bool delivered;
	size_t naccepted;
	bool dot_sent;
	/* Each recipient's verdict in the envelope afterwards, by name
	 * (envelope_state_name), joined by ' '; NULL: every one pending. */
	const char *states;
	const char *reply2; /* the second recipient's reply kept, or NULL */
	const char *msg_has; /* the error's message holds this, or NULL */
	const char *final; /* the outcome's final_reply, or NULL: "" */
	const char *sent;  /* everything the server received */
};

static const struct scenario scenarios[] = {
    {.name = "delivered, pipelined",
     .st = {GREET, EHLO_OK(PIPE), DATA_ANSWER("250 ok\r\n"),
            DOT_ANSWER("250 2.0.0 queued as 4711\r\n")},
     .nrcpts = 1,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .final = "250 2.0.0 queued as 4711",
     .states = "accepted",
     .sent = EHLO ENV1 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* All or nothing: a refused recipient after the 354 of a pipelined
     * group drops the connection, never the dot. */
    {.name = "all: refused after 354",
     .st = {GREET, EHLO_OK(PIPE),
            DATA_ANSWER("250 ok\r\n550 5.1.1 unknown\r\n")},
     .nrcpts = 2,
     .exit_code = EX_NOUSER,
     .states = "pending refused-permanently",
     .reply2 = "550 5.1.1 unknown",
     .sent = EHLO ENV2 "DATA\r\n"},
    {.name = "any: sent to the accepted one",
     .st = {GREET, EHLO_OK(PIPE),
            DATA_ANSWER("250 ok\r\n550 5.1.1 unknown\r\n"),
            DOT_ANSWER("250 ok\r\n")},
     .any = true,
     .nrcpts = 2,
     .exit_code = EX_NOUSER,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .final = "250 ok",
     .states = "accepted refused-permanently",
     .sent = EHLO ENV2 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    {.name = "any: a 4xx recipient is kept for a retry",
     .st = {GREET, EHLO_OK(PIPE), DATA_ANSWER("250 ok\r\n450 4.2.1 later\r\n"),
            DOT_ANSWER("250 ok\r\n")},
     .any = true,
     .nrcpts = 2,
     .exit_code = EX_TEMPFAIL,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .states = "accepted refused-temporarily",
     .reply2 = "450 4.2.1 later",
     .final = "250 ok",
     .sent = EHLO ENV2 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    {.name = "any: every recipient refused, nothing sent",
     .st = {GREET,
            EHLO_OK(PLAIN),
            {"MAIL FROM:<a@x.test> SIZE=20\r\n", "250 ok\r\n", 1},
            {"RCPT TO:<b@y.test>\r\n", "550 5.1.1 no\r\n", 1},
            {"RCPT TO:<c@y.test>\r\n", "553 5.1.3 bad\r\n", 1}},
     .any = true,
     .nrcpts = 2,
     .exit_code = EX_NOUSER,
     .states = "refused-permanently refused-permanently",
     .reply2 = "553 5.1.3 bad",
     .sent = EHLO ENV2 "QUIT\r\n"},
    /* RFC 1870: too big is refused before MAIL. */
    {.name = "SIZE too big",
     .st = {GREET, EHLO_OK("250 SIZE 10\r\n")},
     .nrcpts = 1,
     .exit_code = EX_UNAVAILABLE,
     .sent = EHLO "QUIT\r\n"},
    /* RFC 6152: 8-bit data only with 8BITMIME. */
    {.name = "8-bit without 8BITMIME",
     .st = {GREET, EHLO_OK(PLAIN)},
     .nrcpts = 1,
     .msg = MSG8,
     .exit_code = EX_DATAERR,
     .sent = EHLO "QUIT\r\n"},
    {.name = "8-bit with 8BITMIME",
     .st = {GREET, EHLO_OK(PIPE), DATA_ANSWER("250 ok\r\n"),
            DOT_ANSWER("250 ok\r\n")},
     .nrcpts = 1,
     .msg = MSG8,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .final = "250 ok",
     .states = "accepted",
     .sent = EHLO "MAIL FROM:<a@x.test> SIZE=19 BODY=8BITMIME\r\n"
                  "RCPT TO:<b@y.test>\r\nDATA\r\n" MSG8 ".\r\nQUIT\r\n"},
    /* RFC 6531: a non-ASCII local part needs SMTPUTF8. */
    {.name = "UTF-8 address without SMTPUTF8",
     .st = {GREET, EHLO_OK(PIPE)},
     .nrcpts = 2,
     .rcpt2 = "j\xc3\xb6rg@y.test",
     .exit_code = EX_DATAERR,
     .sent = EHLO "QUIT\r\n"},
    /* A queue entry's DSN values were never on a command line: one that
     * would add a parameter of its own to MAIL is refused before it. */
    {.name = "a RET with a parameter of its own",
     .st = {GREET, EHLO_OK(PIPE)},
     .nrcpts = 1,
     .dsn_ret = "FULL AUTH=<ceo@x.test>",
     .exit_code = EX_DATAERR,
     .msg_has = "the DSN RET value is not one RFC 3461 allows",
     .sent = EHLO "QUIT\r\n"},
    {.name = "UTF-8 address with SMTPUTF8",
     .st = {GREET, EHLO_OK("250-PIPELINING\r\n250 SMTPUTF8\r\n"),
            DATA_ANSWER("250 ok\r\n250 ok\r\n"), DOT_ANSWER("250 ok\r\n")},
     .nrcpts = 2,
     .rcpt2 = "j\xc3\xb6rg@y.test",
     .delivered = true,
     .naccepted = 2,
     .dot_sent = true,
     .final = "250 ok",
     .states = "accepted accepted",
     .sent =
         EHLO "MAIL FROM:<a@x.test> SMTPUTF8\r\nRCPT TO:<b@y.test>\r\n"
              "RCPT TO:<j\xc3\xb6rg@y.test>\r\nDATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* The class of each refusal of the sender, and of DATA. */
    {.name = "MAIL 451",
     .st = {GREET, EHLO_OK(PLAIN), MAIL_ANSWER("451 4.3.0 later\r\n")},
     .nrcpts = 1,
     .exit_code = EX_TEMPFAIL,
     .sent = EHLO "MAIL FROM:<a@x.test> SIZE=20\r\nQUIT\r\n"},
    {.name = "MAIL 553 5.7.1",
     .st = {GREET, EHLO_OK(PLAIN), MAIL_ANSWER("553 5.7.1 not yours\r\n")},
     .nrcpts = 1,
     .exit_code = EX_NOPERM,
     .sent = EHLO "MAIL FROM:<a@x.test> SIZE=20\r\nQUIT\r\n"},
    {.name = "MAIL 550 without an enhanced code",
     .st = {GREET, EHLO_OK(PLAIN), MAIL_ANSWER("550 no\r\n")},
     .nrcpts = 1,
     .exit_code = EX_UNAVAILABLE,
     .sent = EHLO "MAIL FROM:<a@x.test> SIZE=20\r\nQUIT\r\n"},
    {.name = "DATA 554",
     .st = {GREET,
            EHLO_OK(PLAIN),
            MAIL_ANSWER("250 ok\r\n"),
            {"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1},
            {"DATA\r\n", "554 5.3.0 no data today\r\n", 1}},
     .nrcpts = 1,
     .exit_code = EX_UNAVAILABLE,
     .states = "pending",
     .sent = EHLO ENV1 "DATA\r\nQUIT\r\n"},
    /* The reply to the dot. */
    {.name = "dot 452",
     .st = {GREET, EHLO_OK(PIPE), DATA_ANSWER("250 ok\r\n"),
            DOT_ANSWER("452 4.3.1 full\r\n")},
     .nrcpts = 1,
     .exit_code = EX_TEMPFAIL,
     .dot_sent = true,
     .final = "452 4.3.1 full",
     .states = "refused-temporarily",
     .sent = EHLO ENV1 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    {.name = "dot 554",
     .st = {GREET, EHLO_OK(PIPE), DATA_ANSWER("250 ok\r\n"),
            DOT_ANSWER("554 5.6.0 spam\r\n")},
     .nrcpts = 1,
     .exit_code = EX_UNAVAILABLE,
     .dot_sent = true,
     .final = "554 5.6.0 spam",
     .states = "refused-permanently",
     .sent = EHLO ENV1 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    {.name = "connection lost after the dot: status unknown",
     .st = {GREET,
            EHLO_OK(PLAIN),
            MAIL_ANSWER("250 ok\r\n"),
            {"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1},
            {"DATA\r\n", "354 go\r\n", 1},
            {"\r\n.\r\n", PEER_DROP, 1}},
     .nrcpts = 1,
     .exit_code = EX_TEMPFAIL,
     .dot_sent = true,
     .states = "pending",
     .sent = EHLO ENV1 "DATA\r\n" MSG ".\r\n"},
    /* LMTP: delivered to one, the other to be retried. */
    {.name = "LMTP: one recipient refused for now",
     .st = {{NULL, "220 test.invalid LMTP\r\n", 0},
            {"LHLO client.test\r\n",
             "250-test.invalid\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 1},
            DATA_ANSWER("250 ok\r\n250 ok\r\n"),
            DOT_ANSWER("250 2.0.0 ok\r\n452 4.2.2 full\r\n")},
     .lmtp = true,
     .nrcpts = 2,
     .exit_code = EX_TEMPFAIL,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .states = "accepted refused-temporarily",
     .reply2 = "452 4.2.2 full",
     .final = "250 2.0.0 ok",
     .sent = "LHLO client.test\r\n" ENV2 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* Refused for now at RCPT (rcpt_policy any) and by its reply to the
     * dot: both are kept for a retry, whichever reply refused them. */
    {.name = "LMTP, any: refused for now at RCPT and after the dot",
     .st = {{NULL, "220 test.invalid LMTP\r\n", 0},
            {"LHLO client.test\r\n",
             "250-test.invalid\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 1},
            DATA_ANSWER("450 4.2.1 later\r\n250 ok\r\n250 ok\r\n"),
            DOT_ANSWER("452 4.2.2 full\r\n250 2.0.0 ok\r\n")},
     .lmtp = true,
     .any = true,
     .nrcpts = 3,
     .exit_code = EX_TEMPFAIL,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .states = "refused-temporarily refused-temporarily accepted",
     .reply2 = "452 4.2.2 full",
     .msg_has = "refused at RCPT: <b@y.test> (450",
     .final = "452 4.2.2 full",
     .sent = "LHLO client.test\r\n" ENV3 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* A permanent refusal at RCPT is the failure's class, named after the
     * refusal of the dot, though another recipient waits for a retry. */
    {.name = "LMTP, any: refused for good at RCPT, for now after the dot",
     .st = {{NULL, "220 test.invalid LMTP\r\n", 0},
            {"LHLO client.test\r\n",
             "250-test.invalid\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 1},
            DATA_ANSWER("550 5.1.1 unknown\r\n250 ok\r\n250 ok\r\n"),
            DOT_ANSWER("452 4.2.2 full\r\n250 2.0.0 ok\r\n")},
     .lmtp = true,
     .any = true,
     .nrcpts = 3,
     .exit_code = EX_NOUSER,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .states = "refused-permanently refused-temporarily accepted",
     .reply2 = "452 4.2.2 full",
     .msg_has = "refused at RCPT: <b@y.test> (550",
     .final = "452 4.2.2 full",
     .sent = "LHLO client.test\r\n" ENV3 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* LMTP cut between the replies after the dot (RFC 2033 4.2): the
     * first recipient's 250 came, so it has the message; the others'
     * outcome is unknown and only they are to be tried again. */
    {.name = "LMTP: connection lost after the first of three replies",
     .st = {{NULL, "220 test.invalid LMTP\r\n", 0},
            {"LHLO client.test\r\n",
             "250-test.invalid\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 1},
            DATA_ANSWER("250 ok\r\n250 ok\r\n250 ok\r\n"),
            {"\r\n.\r\nQUIT\r\n", "250 2.1.5 b ok\r\n", 1},
            {NULL, PEER_DROP, 0}},
     .lmtp = true,
     .nrcpts = 3,
     .exit_code = EX_TEMPFAIL,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .states = "accepted refused-temporarily refused-temporarily",
     .reply2 = "no reply to the end of data: delivery status unknown",
     .msg_has = "delivery status unknown (",
     .final = "250 2.1.5 b ok",
     .sent = "LHLO client.test\r\n" ENV3 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* A reply that cannot be read after the first: the others' outcome
     * is as unknown as after a lost connection, retried for them only. */
    {.name = "LMTP: a malformed reply after the first of two",
     .st = {{NULL, "220 test.invalid LMTP\r\n", 0},
            {"LHLO client.test\r\n",
             "250-test.invalid\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 1},
            DATA_ANSWER("250 ok\r\n250 ok\r\n"),
            {"\r\n.\r\nQUIT\r\n", "250 2.1.5 b ok\r\nxyz\r\n", 1}},
     .lmtp = true,
     .nrcpts = 2,
     .exit_code = EX_TEMPFAIL,
     .delivered = true,
     .naccepted = 1,
     .dot_sent = true,
     .states = "accepted refused-temporarily",
     .reply2 = "no reply to the end of data: delivery status unknown",
     .msg_has = "for 1 of 2 recipients: <c@y.test>; delivered to the others",
     .final = "250 2.1.5 b ok",
     .sent = "LHLO client.test\r\n" ENV2 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
    /* The reply that came refused its recipient for good: named, and its
     * class stands over the unknown outcome of the other. */
    {.name = "LMTP: refused for good, then the connection lost",
     .st = {{NULL, "220 test.invalid LMTP\r\n", 0},
            {"LHLO client.test\r\n",
             "250-test.invalid\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 1},
            DATA_ANSWER("250 ok\r\n250 ok\r\n"),
            {"\r\n.\r\nQUIT\r\n", "550 5.1.1 b unknown\r\n", 1},
            {NULL, PEER_DROP, 0}},
     .lmtp = true,
     .nrcpts = 2,
     .exit_code = EX_NOUSER,
     .dot_sent = true,
     .states = "refused-permanently refused-temporarily",
     .reply2 = "no reply to the end of data: delivery status unknown",
     .msg_has = "(550 5.1.1 b unknown); then connection lost after the end "
                "of data",
     .final = "550 5.1.1 b unknown",
     .sent = "LHLO client.test\r\n" ENV2 "DATA\r\n" MSG ".\r\nQUIT\r\n"},
};

static void
account_for(struct account *a, const struct peer *p, bool lmtp)
{
	account_defaults(a);
	a->host = xstrdup("test.invalid");
	a->socket = xstrdup(p->path);
	a->port = 25;
	a->domain = xstrdup("client.test");
	a->timeout = 2;
	a->lmtp = lmtp;
}

/* The recipients' states by name, joined by ' '. */
static const char *
states(const struct envelope *e, char *out, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < e->nrcpts && used < n; i++)
		used +=
		    (size_t)snprintf(out + used, n - used, "%s%s", i ? " " : "",
		                     envelope_state_name(e->rcpts[i].state));
	return out;
}

static void
check_states(const struct scenario *sc, const struct envelope *env)
{
	char got[256], want[256];

	if (sc->states)
		snprintf(want, sizeof want, "%s", sc->states);
	else
		snprintf(want, sizeof want, "%s",
		         sc->nrcpts == 3   ? "pending pending pending"
		         : sc->nrcpts == 2 ? "pending pending"
		                           : "pending");
	if (strcmp(states(env, got, sizeof got), want) != 0) {
		CHECK_STR(got, want);
		fprintf(stderr, "  (in \"%s\")\n", sc->name);
	}
	if (sc->reply2)
		CHECK_STR(env->rcpts[1].reply, sc->reply2);
}

static void
run(const struct scenario *sc)
{
	const char *rcpts[3] = {"b@y.test", sc->rcpt2 ? sc->rcpt2 : "c@y.test",
	                        "d@y.test"};
	struct submission sub = {0};
	struct envelope env;
	struct submit_outcome out;
	struct account a;
	struct peer p;
	struct peer_text t;
	struct error err = {0};
	size_t len;
	char *got, what[ERROR_MSG_MAX + 200];
	int rc;

	if (peer_start(&p, sc->st, peer_nsteps(sc->st, STEPS_MAX)) < 0) {
		CHECK(!"peer_start");
		return;
	}
	account_for(&a, &p, sc->lmtp);
	sub.account = &a;
	sub.env = peer_envelope(&env, "a@x.test", rcpts, sc->nrcpts);
	envelope_set_dsn(&env, NULL, sc->dsn_ret, NULL);
	sub.rcpt_policy = sc->any ? RCPT_POLICY_ANY : RCPT_POLICY_ALL;
	peer_message(&sub.message, &t, sc->msg ? sc->msg : MSG);
	rc = submit_send(&sub, &out, &err);
	got = peer_finish(&p, &len);

	snprintf(what, sizeof what, "%s: rc", sc->name);
	unit_report(rc == (sc->exit_code ? -1 : 0), __FILE__, __LINE__, what);
	snprintf(what, sizeof what, "%s: exit code %d (%s)", sc->name,
	         rc ? error_exit_code(err.kind) : 0, err.msg);
	unit_report((rc ? error_exit_code(err.kind) : 0) == sc->exit_code,
	            __FILE__, __LINE__, what);
	snprintf(what, sizeof what, "%s: delivered %d, accepted %zu", sc->name,
	         out.delivered, envelope_count(&env, ENVELOPE_ACCEPTED));
	unit_report(out.delivered == sc->delivered &&
	                envelope_count(&env, ENVELOPE_ACCEPTED) ==
	                    sc->naccepted,
	            __FILE__, __LINE__, what);
	snprintf(what, sizeof what, "%s: dot_sent %d", sc->name, out.dot_sent);
	unit_report(out.dot_sent == sc->dot_sent, __FILE__, __LINE__, what);
	check_states(sc, &env);
	snprintf(what, sizeof what, "%s: the script ran whole (%d)", sc->name,
	         p.status);
	unit_report(p.status == 0, __FILE__, __LINE__, what);
	CHECK_STR(out.final_reply, sc->final ? sc->final : "");
	CHECK_STR(out.host, "test.invalid");
	CHECK_STR(got, sc->sent);
	if (got && strcmp(got, sc->sent) != 0)
		fprintf(stderr, "  (in \"%s\")\n", sc->name);
	if (sc->msg_has && !strstr(err.msg, sc->msg_has)) {
		CHECK_STR(err.msg, sc->msg_has);
		fprintf(stderr, "  (in \"%s\")\n", sc->name);
	}
	/* A refusal quotes the server's reply. */
	if (rc && err.smtp_code) {
		char code[8];

		snprintf(code, sizeof code, "%d", err.smtp_code);
		CHECK(strstr(err.msg, code) != NULL);
	}
	free(got);
	envelope_clear(&env);
	account_clear(&a);
}

/* Several messages over one session (a queue flush): RSET between them,
 * no QUIT after a dot while more follow; a server that refuses the RSET
 * leaves the next message untouched (before_mail) and the session
 * unusable. */
static void
test_session(void)
{
	static const struct peer_step st[] = {
	    GREET,
	    EHLO_OK(PIPE),
	    DATA_ANSWER("250 ok\r\n"),
	    {"\r\n.\r\n", "250 first ok\r\n", 1},
	    {"RSET\r\n", "250 ok\r\n", 1},
	    DATA_ANSWER("250 ok\r\n"),
	    {"\r\n.\r\n", "250 second ok\r\n", 1},
	    {"RSET\r\n", "421 4.3.2 closing\r\n", 1},
	};
	static const char *const one[] = {"b@y.test"};
	struct submission sub = {0};
	struct envelope env;
	struct submit_session *ss = NULL;
	struct submit_outcome out;
	struct account a;
	struct peer p;
	struct peer_text t;
	struct error err = {0};

	if (peer_start(&p, st, N(st)) < 0)
		return;
	account_for(&a, &p, false);
	sub.account = &a;
	sub.env = peer_envelope(&env, "a@x.test", one, 1);
	sub.more_follow = true;
	CHECK_INT(submit_open(&ss, &sub, &err), 0);
	for (int i = 0; i < 2; i++) {
		peer_message(&sub.message, &t, MSG);
		CHECK_INT(submit_message(ss, &sub, &out, &err), 0);
		CHECK_STR(out.final_reply,
		          i ? "250 second ok" : "250 first ok");
		CHECK(submit_usable(ss));
		CHECK_INT(env.rcpts[0].state, ENVELOPE_ACCEPTED);
	}
	peer_message(&sub.message, &t, MSG);
	CHECK_INT(submit_message(ss, &sub, &out, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(out.before_mail);
	CHECK(!out.dot_sent);
	CHECK(!submit_usable(ss));
	/* The verdict of the message before is not taken for this one's. */
	CHECK_INT(env.rcpts[0].state, ENVELOPE_PENDING);
	CHECK(env.rcpts[0].reply == NULL);
	envelope_clear(&env);
	submit_close(ss);
	CHECK_SENT(&p, EHLO ENV1 "DATA\r\n" MSG ".\r\nRSET\r\n" ENV1
	                         "DATA\r\n" MSG ".\r\nRSET\r\n");
	account_clear(&a);
}

/* The port a TLS mode implies. */
static void
test_port(void)
{
	struct account a;

	account_defaults(&a);
	CHECK_INT(submit_port(&a), 25);
	a.tls = true;
	CHECK_INT(submit_port(&a), 587);
	a.tls_starttls = false;
	CHECK_INT(submit_port(&a), 465);
	a.port = 2525;
	CHECK_INT(submit_port(&a), 2525);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N(scenarios); i++)
		run(&scenarios[i]);
	test_session();
	test_port();
	return unit_done();
}
