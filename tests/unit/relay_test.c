/*
 * relay_test.c - failover (relay.h): the route built from the hosts and
 * fallback accounts, and relay_send walking it against two scripted
 * servers (peer.h): on to the next after a temporary failure before the
 * dot, never after a permanent one or once the dot went out.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conn.h"
#include "peer.h"
#include "relay.h"
#include "unit.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define STEPS_MAX 6

#define GREET                                                                  \
	{                                                                      \
		NULL, "220 test.invalid ESMTP\r\n", 0                          \
	}
#define EHLO_PLAIN                                                             \
	{                                                                      \
		"EHLO client.test\r\n", "250 test.invalid\r\n", 1              \
	}
#define MAIL_OK                                                                \
	{                                                                      \
		"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1                    \
	}
#define RCPT_OK                                                                \
	{                                                                      \
		"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1                      \
	}
#define MSG "Subject: t\r\n\r\nbody\r\n"
#define SESSION                                                                \
	"EHLO client.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"   \
	"DATA\r\n" MSG ".\r\nQUIT\r\n"
/* A whole delivery, as the second server gives it. */
#define DELIVERS                                                               \
	{                                                                      \
		GREET, EHLO_PLAIN, MAIL_OK, RCPT_OK,                           \
		    {"DATA\r\n", "354 go\r\n", 1},                             \
		{                                                              \
			"\r\n.\r\n", "250 ok\r\n", 1                           \
		}                                                              \
	}

static const char *const rcpts[] = {"b@y.test"};

/* A configuration of two accounts on local sockets, "first" falling back
 * to "second". */
static struct config *
two_accounts(const struct peer *p1, const struct peer *p2)
{
	char text[1024];
	struct config *cfg = NULL;
	struct error err = {0};

	snprintf(text, sizeof text,
	         "defaults\ndomain client.test\ntimeout 2\nport 25\n"
	         "account first\nhost a.test\nsocket %s\n"
	         "fallback_account second\n"
	         "account second\nhost b.test\nsocket %s\n",
	         p1->path, p2->path);
	if (conf_parse(text, strlen(text), "test", &cfg, &err) < 0)
		fprintf(stderr, "conf_parse: %s\n", err.msg);
	return cfg;
}

struct walk {
	const char *name;
	struct peer_step first[STEPS_MAX];
	struct peer_step second[STEPS_MAX];
	enum error_kind kind; /* ERROR_NONE: delivered */
	bool dot_sent;
	const char *host;       /* outcome.host */
	const char *second_got; /* what the second server received */
	const char *msg_has;    /* in the error message, or NULL */
};

static const struct walk walks[] = {
    {.name = "a 421 greeting: on to the next",
     .first = {{NULL, "421 4.3.2 busy\r\n", 0}},
     .second = DELIVERS,
     .dot_sent = true,
     .host = "b.test",
     .second_got = SESSION},
    {.name = "lost before DATA's reply: on to the next",
     .first = {GREET, EHLO_PLAIN, MAIL_OK, RCPT_OK, {"DATA\r\n", PEER_DROP, 1}},
     .second = DELIVERS,
     .dot_sent = true,
     .host = "b.test",
     .second_got = SESSION},
    {.name = "a permanent refusal ends the route",
     .first = {GREET,
               EHLO_PLAIN,
               {"MAIL FROM:<a@x.test>\r\n", "550 5.7.1 no relay\r\n", 1}},
     .kind = ERROR_NOPERM,
     .host = "a.test",
     .second_got = ""},
    {.name = "lost after the dot: no second copy",
     .first = {GREET,
               EHLO_PLAIN,
               MAIL_OK,
               RCPT_OK,
               {"DATA\r\n", "354 go\r\n", 1},
               {"\r\n.\r\n", PEER_DROP, 1}},
     .kind = ERROR_TEMPFAIL,
     .dot_sent = true,
     .host = "a.test",
     .second_got = ""},
    {.name = "a 4xx to the dot: no second copy",
     .first = {GREET,
               EHLO_PLAIN,
               MAIL_OK,
               RCPT_OK,
               {"DATA\r\n", "354 go\r\n", 1},
               {"\r\n.\r\n", "451 4.3.0 try later\r\n", 1}},
     .kind = ERROR_TEMPFAIL,
     .dot_sent = true,
     .host = "a.test",
     .second_got = ""},
    /* The second's refusal may be its own: temporary, naming both. */
    {.name = "temporary, then refused: temporary",
     .first = {{NULL, "421 4.3.2 busy\r\n", 0}},
     .second = {GREET,
                EHLO_PLAIN,
                MAIL_OK,
                {"RCPT TO:<b@y.test>\r\n", "550 5.7.1 relay denied\r\n", 1}},
     .kind = ERROR_TEMPFAIL,
     .host = "b.test",
     .second_got = "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
                   "RCPT TO:<b@y.test>\r\nQUIT\r\n",
     .msg_has = "; then b.test: "},
};

static void
run_walk(const struct walk *w)
{
	struct peer p1, p2;
	struct config *cfg;
	struct account first;
	struct relay_route r;
	struct submission sub = {0};
	struct envelope env;
	struct submit_outcome out;
	struct peer_text t;
	struct error err = {0};
	char what[ERROR_MSG_MAX + 200];
	size_t len;
	char *got;
	int rc;

	if (peer_start(&p1, w->first, peer_nsteps(w->first, STEPS_MAX)) < 0 ||
	    peer_start(&p2, w->second, peer_nsteps(w->second, STEPS_MAX)) < 0) {
		CHECK(!"peer_start");
		return;
	}
	cfg = two_accounts(&p1, &p2);
	CHECK(cfg != NULL);
	CHECK_INT(conf_select(cfg, "first", NULL, &first, &err), 0);
	CHECK_INT(relay_route_build(&r, &first, cfg, NULL, NULL, &err), 0);
	sub.env = peer_envelope(&env, "a@x.test", rcpts, 1);
	sub.rcpt_policy = RCPT_POLICY_ALL;
	peer_message(&sub.message, &t, MSG);
	rc = relay_send(&r, &sub, &out, &err);
	peer_poke(&p2);
	free(peer_finish(&p1, &len));
	got = peer_finish(&p2, &len);

	snprintf(what, sizeof what, "%s: rc %d, kind %d (%s)", w->name, rc,
	         err.kind, err.msg);
	unit_report(rc == (w->kind ? -1 : 0) && (!rc || err.kind == w->kind),
	            __FILE__, __LINE__, what);
	snprintf(what, sizeof what, "%s: dot_sent %d", w->name, out.dot_sent);
	unit_report(out.dot_sent == w->dot_sent, __FILE__, __LINE__, what);
	CHECK_STR(out.host, w->host);
	CHECK_STR(got, w->second_got);
	if (w->msg_has)
		CHECK(strstr(err.msg, w->msg_has) != NULL);
	free(got);
	envelope_clear(&env);
	relay_route_clear(&r);
	account_clear(&first);
	conf_free(cfg);
}

/* The first server goes away in the middle of a body larger than the
 * output buffer: the dot never went out, so the second gets the message,
 * read again from its first byte. */
static void
test_rewind(void)
{
	enum { LINES = 30000 }; /* more than any socket buffer holds */
	static const struct peer_step first[] = {
	    GREET,
	    EHLO_PLAIN,
	    MAIL_OK,
	    RCPT_OK,
	    {"DATA\r\n", "354 go\r\n", 1},
	    {"line 0010", PEER_DROP, 0},
	};
	static const struct peer_step second[] = DELIVERS;
	char *msg = xmalloc(LINES * 48 + 64), *want = xmalloc(LINES * 48 + 256);
	struct peer p1, p2;
	struct config *cfg;
	struct account a;
	struct relay_route r;
	struct submission sub = {0};
	struct envelope env;
	struct submit_outcome out;
	struct peer_text t;
	struct error err = {0};
	size_t len, n;
	char *got1, *got2;

	n = (size_t)sprintf(msg, "Subject: big\r\n\r\n");
	for (int i = 0; i < LINES; i++)
		n += (size_t)sprintf(msg + n,
		                     "line %04d of a message larger "
		                     "than a buffer\r\n",
		                     i);
	sprintf(want,
	        "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
	        "RCPT TO:<b@y.test>\r\nDATA\r\n%s.\r\nQUIT\r\n",
	        msg);
	if (peer_start(&p1, first, N(first)) < 0 ||
	    peer_start(&p2, second, N(second)) < 0) {
		CHECK(!"peer_start");
		return;
	}
	cfg = two_accounts(&p1, &p2);
	CHECK_INT(conf_select(cfg, "first", NULL, &a, &err), 0);
	CHECK_INT(relay_route_build(&r, &a, cfg, NULL, NULL, &err), 0);
	sub.env = peer_envelope(&env, "a@x.test", rcpts, 1);
	sub.rcpt_policy = RCPT_POLICY_ALL;
	peer_message(&sub.message, &t, msg);
	CHECK(CONN_WBUF_SIZE < sub.message.size);
	CHECK_INT(relay_send(&r, &sub, &out, &err), 0);
	CHECK_STR(out.host, "b.test");
	got1 = peer_finish(&p1, &len);
	got2 = peer_finish(&p2, &len);
	CHECK(got1 && !strstr(got1, "\r\n.\r\n"));
	CHECK(got2 && strcmp(got2, want) == 0);
	free(got1);
	free(got2);
	envelope_clear(&env);
	relay_route_clear(&r);
	account_clear(&a);
	conf_free(cfg);
	free(msg);
	free(want);
}

/* relay_open (a queue flush's session) walks the route the same way: a
 * 421 greeting on the first hop, a session on the second; a permanent
 * refusal of the first ends it. */
static void
test_open(void)
{
	static const struct {
		struct peer_step first[2];
		int rc;
		size_t hop;
		enum error_kind kind;
	} cases[] = {
	    {{{NULL, "421 4.3.2 busy\r\n", 0}}, 0, 1, ERROR_NONE},
	    {{{NULL, "554 5.7.1 go away\r\n", 0}}, -1, 0, ERROR_NOPERM},
	};
	static const struct peer_step second[] = {GREET, EHLO_PLAIN};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p1, p2;
		struct config *cfg;
		struct account a;
		struct relay_route r;
		struct submit_session *ss = NULL;
		struct error err = {0};
		size_t hop = 99, len;

		if (peer_start(&p1, cases[i].first, 1) < 0 ||
		    peer_start(&p2, second, N(second)) < 0) {
			CHECK(!"peer_start");
			return;
		}
		cfg = two_accounts(&p1, &p2);
		CHECK_INT(conf_select(cfg, "first", NULL, &a, &err), 0);
		CHECK_INT(relay_route_build(&r, &a, cfg, NULL, NULL, &err), 0);
		CHECK_INT(relay_open(&r, &ss, &hop, &err), cases[i].rc);
		if (cases[i].rc == 0) {
			CHECK_INT(hop, cases[i].hop);
			CHECK(submit_usable(ss));
		} else {
			CHECK_INT(err.kind, cases[i].kind);
			CHECK(ss == NULL);
		}
		submit_close(ss);
		peer_poke(&p2);
		free(peer_finish(&p1, &len));
		free(peer_finish(&p2, &len));
		relay_route_clear(&r);
		account_clear(&a);
		conf_free(cfg);
	}
}

/* The hops: each name of `host`, then the fallback's; an account on a
 * socket is one hop. */
static void
test_route(void)
{
	static const char text[] =
	    "account first\nhost a.test, b.test  c.test\n"
	    "fallback_account second\n"
	    "account second\nhost d.test,e.test\nsocket /run/none.sock\n"
	    "fallback_account third\n"
	    "account third\nhost f.test\n";
	static const char *const want[] = {"a.test", "b.test", "c.test",
	                                   "d.test", "f.test"};
	static const size_t accounts[] = {0, 0, 0, 1, 2};
	struct config *cfg = NULL;
	struct account first;
	struct relay_route r;
	struct error err = {0};

	CHECK_INT(conf_parse(text, strlen(text), "test", &cfg, &err), 0);
	CHECK_INT(conf_select(cfg, "first", NULL, &first, &err), 0);
	CHECK_INT(relay_route_build(&r, &first, cfg, NULL, NULL, &err), 0);
	CHECK_INT(r.nhops, N(want));
	CHECK_INT(r.naccounts, 3);
	for (size_t i = 0; i < r.nhops && i < N(want); i++) {
		CHECK_STR(r.hops[i].host, want[i]);
		CHECK_STR(r.hops[i].view.host, want[i]);
		CHECK_INT(r.hops[i].account, accounts[i]);
	}
	relay_route_clear(&r);
	/* Without the configuration there is no fallback to resolve. */
	CHECK_INT(relay_route_build(&r, &first, NULL, NULL, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	account_clear(&first);
	conf_free(cfg);
}

/* A route that cannot be: no host, a fallback that loops back. */
static void
test_route_refused(void)
{
	static const char text[] = "account first\nhost a.test\n"
	                           "fallback_account second\n"
	                           "account second\nhost b.test\n"
	                           "fallback_account first\n";
	struct config *cfg = NULL;
	struct account a;
	struct relay_route r;
	struct error err = {0};

	account_defaults(&a);
	CHECK_INT(relay_route_build(&r, &a, NULL, NULL, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	a.host = xstrdup(" , ");
	CHECK_INT(relay_route_build(&r, &a, NULL, NULL, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	account_clear(&a);

	CHECK_INT(conf_parse(text, strlen(text), "test", &cfg, &err), 0);
	account_defaults(&a);
	a.name = xstrdup("first");
	a.host = xstrdup("a.test");
	a.fallback_account = xstrdup("second");
	CHECK_INT(relay_route_build(&r, &a, cfg, NULL, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	account_clear(&a);
	conf_free(cfg);
}

/* An account whose secrets the run forgot (conf_keep_secrets) never
 * connects, first or as a fallback; its other settings were still
 * readable. */
static void
test_route_withheld(void)
{
	static const char text[] = "account first\nhost a.test\npassword p\n"
	                           "fallback_account second\n"
	                           "account second\nhost b.test\n"
	                           "passwordeval echo q\n"
	                           "account other\nhost c.test\n"
	                           "fallback_account second\n";
	struct config *cfg = NULL;
	struct account a;
	struct relay_route r;
	struct error err = {0};

	CHECK_INT(conf_parse(text, strlen(text), "test", &cfg, &err), 0);
	conf_keep_secrets(cfg, "other", NULL, false); /* and its "second" */
	CHECK_INT(conf_select(cfg, "first", NULL, &a, &err), 0);
	CHECK_STR(a.host, "a.test");
	CHECK_INT(relay_route_build(&r, &a, cfg, NULL, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "account 'first' of test was not chosen"));
	account_clear(&a);
	conf_free(cfg);

	CHECK_INT(conf_parse(text, strlen(text), "test", &cfg, &err), 0);
	conf_keep_secrets(cfg, "first", NULL, false);
	CHECK_INT(conf_select(cfg, "other", NULL, &a, &err), 0);
	/* other had no secret: not withheld; its fallback is kept too. */
	CHECK_INT(relay_route_build(&r, &a, cfg, NULL, NULL, &err), 0);
	CHECK_INT(r.naccounts, 2);
	relay_route_clear(&r);
	account_clear(&a);
	conf_free(cfg);

	CHECK_INT(conf_parse(text, strlen(text), "test", &cfg, &err), 0);
	conf_keep_secrets(cfg, "other", NULL, false);
	conf_keep_secrets(cfg, "nosuch", NULL, false); /* forgets "second" */
	CHECK_INT(conf_select(cfg, "other", NULL, &a, &err), 0);
	CHECK_INT(relay_route_build(&r, &a, cfg, NULL, NULL, &err), -1);
	CHECK(strstr(err.msg, "account 'second' of test was not chosen"));
	account_clear(&a);
	conf_free(cfg);
}

/* Which failures allow another server. */
static void
test_may_retry(void)
{
	static const struct {
		enum error_kind kind;
		bool delivered, dot_sent, want;
	} cases[] = {
	    {ERROR_TEMPFAIL, false, false, true},
	    {ERROR_NOHOST, false, false, true},
	    {ERROR_TEMPFAIL, false, true, false},
	    {ERROR_TEMPFAIL, true, false, false},
	    {ERROR_UNAVAILABLE, false, false, false},
	    {ERROR_NOUSER, false, false, false},
	    {ERROR_NOPERM, false, false, false},
	    {ERROR_PROTOCOL, false, false, false},
	    {ERROR_CONFIG, false, false, false},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct error err = {.kind = cases[i].kind};
		struct submit_outcome out = {.delivered = cases[i].delivered,
		                             .dot_sent = cases[i].dot_sent};

		CHECK_INT(relay_may_retry(&err, &out), cases[i].want);
	}
	{
		struct error err = {.kind = ERROR_TEMPFAIL};
		CHECK(relay_may_retry(&err, NULL));
	}
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N(walks); i++)
		run_walk(&walks[i]);
	test_rewind();
	test_open();
	test_route();
	test_route_refused();
	test_route_withheld();
	test_may_retry();
	return unit_done();
}
