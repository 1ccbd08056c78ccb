/*
 * smtp_test.c - the SMTP/LMTP client session (smtp.h) against a scripted
 * server (peer.h): the exact bytes it sends, pipelined and not, and the
 * replies it reports (judging them is submit.c's).
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"
#include "peer.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define EHLO_PIPE                                                              \
	"250-test.invalid\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"              \
	"250 8BITMIME\r\n"
#define EHLO_PLAIN "250-test.invalid\r\n250 SIZE 1000\r\n"

struct body {
	const char *text;
	size_t off;
	size_t block; /* bytes per read, to cut lines between blocks */
};

static ssize_t
body_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct body *b = ctx;
	size_t left = strlen(b->text) - b->off;

	(void)err;
	if (n > b->block)
		n = b->block;
	if (n > left)
		n = left;
	memcpy(buf, b->text + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static ssize_t
body_fail(void *ctx, char *buf, size_t n, struct error *err)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return error_set(err, ERROR_IOERR, "test: the body cannot be read");
}

static void
options(struct smtp_options *o, struct peer *p, bool lmtp)
{
	memset(o, 0, sizeof *o);
	o->target.host = "test.invalid";
	o->target.socket_path = p->path;
	o->target.port = 25; /* names the server only */
	o->helo_name = "client.test";
	o->lmtp = lmtp;
	smtp_timeouts_init(&o->timeouts, 2);
	o->target.timeout_ms = o->timeouts.connect;
}

static struct smtp_session *
open_timed(struct peer *p, const struct peer_step *st, size_t n, bool lmtp,
           struct smtp_timing *timing, struct error *err)
{
	struct smtp_options o;
	struct smtp_session *s = NULL;

	if (peer_start(p, st, n) < 0)
		return NULL;
	options(&o, p, lmtp);
	o.timing = timing;
	if (smtp_open(&s, &o, err) < 0)
		return NULL;
	return s;
}

static struct smtp_session *
open_on(struct peer *p, const struct peer_step *st, size_t n, bool lmtp,
        struct error *err)
{
	return open_timed(p, st, n, lmtp, NULL, err);
}

static const char *const two_rcpts[] = {"b@y.test", "c@y.test"};
static const char *const one[] = {"b@y.test"};

/* The envelopes of the tests (envelopes_init, envelopes_clear). */
static struct envelope two;      /* a@x.test to b@y.test, c@y.test */
static struct envelope null_two; /* <> to the same */
static struct envelope single;   /* a@x.test to b@y.test */
static struct envelope dsn;      /* the same with DSN and a priority */

static void
envelopes_init(void)
{
	peer_envelope(&two, "a@x.test", two_rcpts, 2);
	peer_envelope(&null_two, "", two_rcpts, 2);
	peer_envelope(&single, "a@x.test", one, 1);
	peer_envelope(&dsn, "a@x.test", one, 1);
	/* Lower case, as -N and -R may be typed: sent in upper case. */
	envelope_set_dsn(&dsn, "success,Failure", "hdrs", "a+b=c d");
	dsn.priority = -3;
}

static void
envelopes_clear(void)
{
	envelope_clear(&two);
	envelope_clear(&null_two);
	envelope_clear(&single);
	envelope_clear(&dsn);
}

/* With PIPELINING, MAIL, RCPTs and DATA leave together (the server
 * answers only when it has all of them), each reply is reported as it
 * came, and the dot and QUIT leave together. */
static void
test_pipelined(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"DATA\r\n",
	     "250 2.1.0 ok\r\n250 2.1.5 ok\r\n"
	     "550 5.1.1 no such user\r\n354 go on\r\n",
	     0},
	    {"\r\n.\r\nQUIT\r\n", "250 2.0.0 queued as X\r\n221 bye\r\n", 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), false, &err);
	struct smtp_envelope env = {
	    .envelope = &two, .size = 42, .body_8bit = true};
	struct smtp_envelope_result res;
	struct body b = {"Hi\r\n.dot\r\n..two\r\nend\r\n", 0, 5};
	struct smtp_body_source src = {body_read, &b};
	struct reply final;
	bool dot_sent = false;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(smtp_caps(s)->esmtp);
	CHECK(smtp_caps(s)->pipelining);
	CHECK_INT(smtp_caps(s)->size_max, 1000);
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	CHECK_INT(res.mail.code, 250);
	CHECK_INT(res.nrcpt, 2);
	CHECK_INT(res.rcpt[0].code, 250);
	CHECK_INT(res.rcpt[1].code, 550);
	CHECK_STR(res.rcpt[1].enhanced, "5.1.1");
	CHECK_INT(res.naccepted, 1);
	CHECK_INT(res.data.code, 354);
	reply_init(&final);
	CHECK_INT(smtp_body(s, &src, true, &final, 1, &dot_sent, &err), 0);
	CHECK(dot_sent);
	CHECK_INT(final.code, 250);
	reply_clear(&final);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\n"
	               "MAIL FROM:<a@x.test> SIZE=42 BODY=8BITMIME\r\n"
	               "RCPT TO:<b@y.test>\r\n"
	               "RCPT TO:<c@y.test>\r\n"
	               "DATA\r\n"
	               "Hi\r\n..dot\r\n...two\r\nend\r\n.\r\nQUIT\r\n");
}

/* Without PIPELINING: one command, one reply; with all_or_nothing the
 * first refused recipient ends the envelope (no DATA), and RSET cleans
 * up for the next transaction. */
static void
test_stepwise_all_or_nothing(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PLAIN, 1},
	    {"MAIL FROM:<>\r\n", "250 ok\r\n", 1},
	    {"RCPT TO:<b@y.test>\r\n", "450 4.2.1 busy\r\n", 1},
	    {"RSET\r\n", "250 ok\r\n", 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), false, &err);
	struct smtp_envelope env = {.envelope = &null_two,
	                            .all_or_nothing = true};
	struct smtp_envelope_result res;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(!smtp_caps(s)->pipelining);
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	CHECK_INT(res.mail.code, 250);
	CHECK_INT(res.rcpt[0].code, 450);
	CHECK_INT(res.rcpt[1].code, 0);
	CHECK_INT(res.data.code, 0);
	CHECK_INT(smtp_rset(s, &err), 0);
	CHECK(smtp_reusable(s));
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\nMAIL FROM:<>\r\n"
	               "RCPT TO:<b@y.test>\r\nRSET\r\nQUIT\r\n");
}

/* Without all_or_nothing the refused one is skipped and DATA follows
 * for the accepted one; QUIT is not pipelined: it waits for the dot's
 * reply. */
static void
test_stepwise_any(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PLAIN, 1},
	    {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
	    {"RCPT TO:<b@y.test>\r\n", "550 5.1.1 unknown\r\n", 1},
	    {"RCPT TO:<c@y.test>\r\n", "250 ok\r\n", 1},
	    {"DATA\r\n", "354 go\r\n", 1},
	    {"\r\n.\r\n", "250 ok\r\n", 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), false, &err);
	struct smtp_envelope env = {.envelope = &two};
	struct smtp_envelope_result res;
	struct body b = {".\r\n", 0, 64};
	struct smtp_body_source src = {body_read, &b};
	struct reply final;
	bool dot_sent = false;

	CHECK(s != NULL);
	if (!s)
		return;
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	CHECK_INT(res.rcpt[0].code, 550);
	CHECK_INT(res.rcpt[1].code, 250);
	CHECK_INT(res.naccepted, 1);
	CHECK_INT(res.data.code, 354);
	reply_init(&final);
	CHECK_INT(smtp_body(s, &src, true, &final, 1, &dot_sent, &err), 0);
	CHECK_INT(final.code, 250);
	reply_clear(&final);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
	               "RCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n"
	               "..\r\n.\r\nQUIT\r\n");
}

/* EHLO refused with a 5xx: HELO, and no capabilities. */
static void
test_helo_fallback(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 old.invalid SMTP\r\n", 0},
	    {"EHLO client.test\r\n", "502 what?\r\n", 1},
	    {"HELO client.test\r\n", "250 hello\r\n", 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), false, &err);

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(!smtp_caps(s)->esmtp);
	CHECK(!smtp_caps(s)->pipelining);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\nHELO client.test\r\nQUIT\r\n");
}

/* The MAIL and RCPT parameters: sent only when the server offered their
 * extension (RFC 3461 DSN, RFC 6710 MT-PRIORITY, RFC 1870 SIZE), ENVID
 * and ORCPT as xtext, NOTIFY and RET in upper case; without the
 * extensions the same envelope is bare. */
static void
test_parameters(void)
{
	static const struct {
		const char *caps;
		const char *sent;
	} cases[] = {
	    {"250-DSN\r\n250-MT-PRIORITY\r\n250 SIZE\r\n",
	     "MAIL FROM:<a@x.test> SIZE=42 RET=HDRS ENVID=a+2Bb+3Dc+20d"
	     " MT-PRIORITY=-3\r\n"
	     "RCPT TO:<b@y.test> NOTIFY=SUCCESS,FAILURE"
	     " ORCPT=rfc822;b@y.test\r\n"},
	    {"250 8BITMIME\r\n", "MAIL FROM:<a@x.test>\r\n"
	                         "RCPT TO:<b@y.test>\r\n"},
	};
	struct smtp_envelope env = {
	    .envelope = &dsn, .size = 42, .all_or_nothing = true};

	for (size_t i = 0; i < N(cases); i++) {
		char ehlo[256], want[512];
		struct peer_step st[] = {
		    {NULL, "220 test.invalid ESMTP\r\n", 0},
		    {"EHLO client.test\r\n", ehlo, 1},
		    {"MAIL FROM", "250 ok\r\n", 0},
		    {"RCPT TO", "550 5.1.1 no\r\n", 0},
		    {"RSET\r\n", "250 ok\r\n", 1},
		};
		struct peer p;
		struct error err = {0};
		struct smtp_session *s;
		struct smtp_envelope_result res;

		snprintf(ehlo, sizeof ehlo, "250-test.invalid\r\n%s",
		         cases[i].caps);
		snprintf(want, sizeof want,
		         "EHLO client.test\r\n%sRSET\r\nQUIT\r\n",
		         cases[i].sent);
		s = open_on(&p, st, N(st), false, &err);
		CHECK(s != NULL);
		if (!s)
			return;
		smtp_envelope_result_init(&res);
		CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
		CHECK_INT(res.rcpt[0].code, 550);
		CHECK_INT(smtp_rset(s, &err), 0);
		smtp_envelope_result_clear(&res);
		smtp_close(s);
		CHECK_SENT(&p, want);
	}
}

/* STARTTLS required (RFC 3207): never a plaintext fallback, and nothing
 * sent in the clear once TLS was asked for and failed.  The peer speaks
 * no TLS, so a handshake fails. */
static void
test_starttls_required(void)
{
	static const struct {
		const char *name;
		struct peer_step st[4];
		enum error_kind kind;
		const char *sent;
	} cases[] = {
	    {"not offered",
	     {{NULL, "220 test.invalid ESMTP\r\n", 0},
	      {"EHLO client.test\r\n", EHLO_PIPE, 1}},
	     ERROR_PROTOCOL,
	     "EHLO client.test\r\n"},
	    {"refused for now",
	     {{NULL, "220 test.invalid ESMTP\r\n", 0},
	      {"EHLO client.test\r\n", "250-test.invalid\r\n250 STARTTLS\r\n",
	       1},
	      {"STARTTLS\r\n", "454 4.7.0 TLS not available\r\n", 1}},
	     ERROR_TEMPFAIL,
	     "EHLO client.test\r\nSTARTTLS\r\n"},
	    {"refused",
	     {{NULL, "220 test.invalid ESMTP\r\n", 0},
	      {"EHLO client.test\r\n", "250-test.invalid\r\n250 STARTTLS\r\n",
	       1},
	      {"STARTTLS\r\n", "502 5.5.1 no\r\n", 1}},
	     ERROR_PROTOCOL,
	     "EHLO client.test\r\nSTARTTLS\r\n"},
	    /* The handshake meets plaintext: nothing more in the clear. */
	    {"handshake fails",
	     {{NULL, "220 test.invalid ESMTP\r\n", 0},
	      {"EHLO client.test\r\n", "250-test.invalid\r\n250 STARTTLS\r\n",
	       1},
	      {"STARTTLS\r\n", "220 go ahead\r\n", 1},
	      {"\x16\x03", "500 this is no TLS\r\n", 0}},
	     ERROR_PROTOCOL,
	     NULL},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct smtp_options o;
		struct smtp_session *s = NULL;
		struct peer p;
		struct error err = {0};
		size_t n = 0, len;
		char *got;

		while (n < 4 && cases[i].st[n].send)
			n++;
		if (peer_start(&p, cases[i].st, n) < 0) {
			CHECK(!"peer_start");
			return;
		}
		options(&o, &p, false);
		o.tls = SMTP_TLS_STARTTLS;
		o.tls_params.timeout_ms = 2000;
		CHECK_INT(smtp_open(&s, &o, &err), -1);
		CHECK(s == NULL);
		CHECK_INT(err.kind, cases[i].kind);
		got = peer_finish(&p, &len);
		if (cases[i].sent) {
			/* Perhaps a QUIT, never a MAIL. */
			CHECK(got && strncmp(got, cases[i].sent,
			                     strlen(cases[i].sent)) == 0);
			CHECK(got && !strstr(got, "MAIL"));
		} else {
			/* After the handshake's first bytes: no plaintext
			 * command (QUIT included). */
			const char *hello =
			    got ? strstr(got, "\x16\x03") : NULL;
			CHECK(hello != NULL);
			CHECK(got && !strstr(got, "QUIT") &&
			      !strstr(got, "MAIL"));
		}
		free(got);
	}
}

/* AUTH (RFC 4954) without TLS where allowed: PLAIN with its initial
 * response; a 535 is ERROR_NOPERM, no MAIL follows, and no message holds
 * the secret or its base64 form. */
static void
test_auth_plain(void)
{
	/* base64 of "\0user\0s3cret" */
	static const char resp[] = "AHVzZXIAczNjcmV0";
	static const struct {
		const char *reply;
		int rc;
		enum error_kind kind;
	} cases[] = {
	    {"235 2.7.0 ok\r\n", 0, ERROR_NONE},
	    {"535 5.7.8 bad credentials\r\n", -1, ERROR_NOPERM},
	    {"454 4.7.0 try later\r\n", -1, ERROR_TEMPFAIL},
	};

	for (size_t i = 0; i < N(cases); i++) {
		char want[128];
		struct peer_step st[] = {
		    {NULL, "220 test.invalid ESMTP\r\n", 0},
		    {"EHLO client.test\r\n",
		     "250-test.invalid\r\n250 AUTH LOGIN PLAIN\r\n", 1},
		    {"\r\n", cases[i].reply, 1},
		};
		struct smtp_options o;
		struct smtp_session *s = NULL;
		struct peer p;
		struct error err = {0};

		if (peer_start(&p, st, N(st)) < 0) {
			CHECK(!"peer_start");
			return;
		}
		options(&o, &p, false);
		o.auth = "plain";
		o.user = "user";
		o.secret = "s3cret";
		o.auth_plaintext = true;
		CHECK_INT(smtp_open(&s, &o, &err), cases[i].rc);
		if (cases[i].rc < 0) {
			CHECK_INT(err.kind, cases[i].kind);
			CHECK(!strstr(err.msg, "s3cret") &&
			      !strstr(err.msg, resp));
		}
		smtp_close(s);
		snprintf(want, sizeof want,
		         "EHLO client.test\r\nAUTH PLAIN %s\r\nQUIT\r\n", resp);
		CHECK_SENT(&p, want);
	}
}

/* smtp_options.renew for test_auth_renew: counts its calls and answers
 * as the case says. */
struct renewal {
	int calls;
	int rc; /* 0: "new-tok"; 1: the refusal stands; -1: a failure */
};

static int
renew_case(void *ctx, const char **secret, struct error *err)
{
	struct renewal *r = ctx;

	r->calls++;
	if (r->rc == 0)
		*secret = "new-tok";
	if (r->rc < 0)
		return error_set(err, ERROR_TEMPFAIL, "the refresh failed");
	return r->rc;
}

/* A bearer token refused (RFC 7628 3.2.2: an error challenge, our empty
 * response, 535): renewed once and AUTH again on the same session; a
 * renewal that declines leaves the refusal, one that fails gives its own
 * error; a 534 (the mechanism) is not renewed; the second refusal is
 * final. */
static void
test_auth_renew(void)
{
#define OLD "AUTH XOAUTH2 dXNlcj11c2VyAWF1dGg9QmVhcmVyIG9sZC10b2sBAQ==\r\n"
#define NEW "AUTH XOAUTH2 dXNlcj11c2VyAWF1dGg9QmVhcmVyIG5ldy10b2sBAQ==\r\n"
#define REFUSED "334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"
	static const struct {
		int renew_rc;
		const char *second; /* the reply to the second AUTH */
		const char *first;  /* the final reply to the first */
		int rc, calls;
		enum error_kind kind;
		const char *sent;
	} cases[] = {
	    {0, "235 2.7.0 ok\r\n", "535 5.7.8 no\r\n", 0, 1, ERROR_NONE,
	     "EHLO client.test\r\n" OLD "\r\n" NEW "QUIT\r\n"},
	    {0, "535 5.7.8 still no\r\n", "535 5.7.8 no\r\n", -1, 1,
	     ERROR_NOPERM, "EHLO client.test\r\n" OLD "\r\n" NEW "QUIT\r\n"},
	    {1, NULL, "535 5.7.8 no\r\n", -1, 1, ERROR_NOPERM,
	     "EHLO client.test\r\n" OLD "\r\nQUIT\r\n"},
	    {-1, NULL, "535 5.7.8 no\r\n", -1, 1, ERROR_TEMPFAIL,
	     "EHLO client.test\r\n" OLD "\r\nQUIT\r\n"},
	    {0, NULL, "534 5.7.9 too weak\r\n", -1, 0, ERROR_NOPERM,
	     "EHLO client.test\r\n" OLD "\r\nQUIT\r\n"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer_step st[] = {
		    {NULL, "220 test.invalid ESMTP\r\n", 0},
		    {"EHLO client.test\r\n",
		     "250-test.invalid\r\n250 AUTH PLAIN XOAUTH2\r\n", 1},
		    {OLD, REFUSED, 1},
		    {"\r\n", cases[i].first, 1},
		    {cases[i].second ? NEW : "QUIT\r\n", cases[i].second, 1},
		};
		struct renewal r = {.rc = cases[i].renew_rc};
		struct smtp_options o;
		struct smtp_session *s = NULL;
		struct peer p;
		struct error err = {0};

		if (peer_start(&p, st, N(st)) < 0) {
			CHECK(!"peer_start");
			return;
		}
		options(&o, &p, false);
		o.auth = "on";
		o.bearer = true;
		o.user = "user";
		o.secret = "old-tok";
		o.auth_plaintext = true;
		o.renew = renew_case;
		o.renew_ctx = &r;
		CHECK_INT(smtp_open(&s, &o, &err), cases[i].rc);
		CHECK_INT(r.calls, cases[i].calls);
		if (cases[i].rc < 0) {
			CHECK_INT(err.kind, cases[i].kind);
			CHECK(!strstr(err.msg, "-tok"));
		}
		if (cases[i].renew_rc < 0)
			CHECK_STR(err.msg, "the refresh failed");
		smtp_close(s);
		CHECK_SENT(&p, cases[i].sent);
	}
#undef OLD
#undef NEW
#undef REFUSED
}

/* A refusing greeting, EHLO answered 4xx (no HELO then), HELO refused:
 * errors of the reply's kind, with the reply kept. */
static void
test_open_refusals(void)
{
	static const struct {
		struct peer_step st[3];
		enum error_kind kind;
		int code;
		const char *sent;
	} cases[] = {
	    {{{NULL, "554 5.7.1 go away\r\n", 0}}, ERROR_NOPERM, 554, ""},
	    {{{NULL, "421 4.3.2 busy\r\n", 0}}, ERROR_TEMPFAIL, 421, ""},
	    {{{NULL, "220 hi\r\n", 0},
	      {"EHLO client.test\r\n", "421 4.3.2 later\r\n", 1}},
	     ERROR_TEMPFAIL,
	     421,
	     "EHLO client.test\r\n"},
	    {{{NULL, "220 hi\r\n", 0},
	      {"EHLO client.test\r\n", "500 no\r\n", 1},
	      {"HELO client.test\r\n", "550 not you\r\n", 1}},
	     ERROR_UNAVAILABLE,
	     550,
	     "EHLO client.test\r\nHELO client.test\r\n"},
	    /* Not an SMTP reply at all. */
	    {{{NULL, "HTTP/1.1 400 Bad\r\n", 0}}, ERROR_PROTOCOL, 0, ""},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct error err = {0};
		size_t n = 0, len;
		char *got;

		while (n < 3 && cases[i].st[n].send)
			n++;
		CHECK(open_on(&p, cases[i].st, n, false, &err) == NULL);
		CHECK_INT(err.kind, cases[i].kind);
		CHECK_INT(err.smtp_code, cases[i].code);
		got = peer_finish(&p, &len);
		/* Whatever the client sent after the refusal (a QUIT is
		 * polite) comes after the commands of the script. */
		CHECK(got &&
		      strncmp(got, cases[i].sent, strlen(cases[i].sent)) == 0);
		free(got);
	}
}

/* Replies nobody asked for (a broken server, or data injected into the
 * stream) make every later reply unmatched: a protocol error, and no
 * body is sent. */
static void
test_out_of_step(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PLAIN, 1},
	    {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), false, &err);
	struct smtp_envelope env = {.envelope = &single};
	struct smtp_envelope_result res;

	CHECK(s != NULL);
	if (!s)
		return;
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK(!smtp_reusable(s));
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n");
}

/* BODY=BINARYMIME needs BDAT (RFC 3030 3): asked for where the body
 * would go by DATA (no CHUNKING offered, or want_data), smtp_envelope
 * refuses it as the caller's bug, and no MAIL goes out. */
static void
test_binary_needs_bdat(void)
{
	static const struct peer_step plain[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	};
	static const struct peer_step chunking[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", "250-test.invalid\r\n250 CHUNKING\r\n", 1},
	};
	static const struct {
		const struct peer_step *st;
		size_t n;
		bool want_data;
	} cases[] = {{plain, N(plain), false}, {chunking, N(chunking), true}};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct error err = {0};
		struct smtp_session *s =
		    open_on(&p, cases[i].st, cases[i].n, false, &err);
		struct smtp_envelope env = {.envelope = &single,
		                            .body_binary = true,
		                            .want_data = cases[i].want_data};
		struct smtp_envelope_result res;

		CHECK(s != NULL);
		if (!s)
			continue;
		CHECK(!smtp_envelope_uses_bdat(s, &env));
		smtp_envelope_result_init(&res);
		CHECK_INT(smtp_envelope(s, &env, &res, &err), -1);
		CHECK_INT(err.kind, ERROR_SOFTWARE);
		CHECK(strstr(err.msg, "BINARYMIME") != NULL);
		smtp_envelope_result_clear(&res);
		smtp_close(s); /* the session is still good: QUIT */
		CHECK_SENT(&p, "EHLO client.test\r\nQUIT\r\n");
	}
}

/* LMTP: LHLO, and after the dot one reply per accepted recipient. */
static void
test_lmtp(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 lmtp.invalid LMTP\r\n", 0},
	    {"LHLO client.test\r\n", "250-lmtp.invalid\r\n250 PIPELINING\r\n",
	     1},
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", 0},
	    {"\r\n.\r\n", "250 2.0.0 b ok\r\n452 4.2.2 c full\r\n", 0},
	    {"QUIT\r\n", "221 bye\r\n", 0},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), true, &err);
	struct smtp_envelope env = {.envelope = &two};
	struct smtp_envelope_result res;
	struct body b = {"x\r\n", 0, 64};
	struct smtp_body_source src = {body_read, &b};
	struct reply final[2];
	bool dot_sent = false;

	CHECK(s != NULL);
	if (!s)
		return;
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	CHECK_INT(res.naccepted, 2);
	reply_init(&final[0]);
	reply_init(&final[1]);
	CHECK_INT(smtp_body(s, &src, true, final, 2, &dot_sent, &err), 0);
	CHECK_INT(final[0].code, 250);
	CHECK_INT(final[1].code, 452);
	CHECK_STR(final[1].enhanced, "4.2.2");
	reply_clear(&final[0]);
	reply_clear(&final[1]);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	CHECK_SENT(&p, "LHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
	               "RCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n"
	               "x\r\n.\r\nQUIT\r\n");
}

/* A body source that fails: the terminator never goes out. */
static void
test_body_fails(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 0},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_session *s = open_on(&p, st, N(st), false, &err);
	struct smtp_envelope env = {.envelope = &single};
	struct smtp_envelope_result res;
	struct smtp_body_source src = {body_fail, NULL};
	struct reply final;
	bool dot_sent = true;
	size_t len;
	char *got;

	CHECK(s != NULL);
	if (!s)
		return;
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	CHECK_INT(res.data.code, 354);
	reply_init(&final);
	CHECK_INT(smtp_body(s, &src, true, &final, 1, &dot_sent, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK(!dot_sent);
	reply_clear(&final);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	got = peer_finish(&p, &len);
	CHECK(got && !strstr(got, "\r\n.\r\n"));
	free(got);
}

/* A source that gives more than it was asked for (a bug in its
 * caller's code): one byte past the room it had. */
static ssize_t
body_overrun(void *ctx, char *buf, size_t n, struct error *err)
{
	(void)ctx;
	(void)err;
	memset(buf, 'x', n);
	return (ssize_t)n + 1;
}

/* The same guard on both ways of sending a body (read_body): a source
 * that overruns its buffer fails the body as a bug, and neither DATA's
 * terminator nor a BDAT chunk goes out. */
static void
test_body_overruns(void)
{
	static const struct peer_step by_data[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 0},
	};
	static const struct peer_step by_bdat[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", "250-test.invalid\r\n250 CHUNKING\r\n", 1},
	    {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
	    {"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1},
	};
	static const struct {
		const struct peer_step *st;
		size_t n;
		bool bdat;
	} cases[] = {{by_data, N(by_data), false}, {by_bdat, N(by_bdat), true}};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct error err = {0};
		struct smtp_session *s =
		    open_on(&p, cases[i].st, cases[i].n, false, &err);
		struct smtp_envelope env = {.envelope = &single};
		struct smtp_envelope_result res;
		struct smtp_body_source src = {body_overrun, NULL};
		struct reply final;
		bool dot_sent = true;
		size_t len;
		char *got;

		CHECK(s != NULL);
		if (!s)
			continue;
		smtp_envelope_result_init(&res);
		CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
		CHECK(res.bdat == cases[i].bdat);
		reply_init(&final);
		CHECK_INT(smtp_body(s, &src, true, &final, 1, &dot_sent, &err),
		          -1);
		CHECK_INT(err.kind, ERROR_SOFTWARE);
		CHECK(strstr(err.msg, "overran") != NULL);
		CHECK(!dot_sent);
		reply_clear(&final);
		smtp_envelope_result_clear(&res);
		smtp_close(s);
		got = peer_finish(&p, &len);
		CHECK(got && !strstr(got, "\r\n.\r\n") && !strstr(got, "BDAT"));
		free(got);
	}
}

/* The connection lost after the dot went out: status unknown. */
static void
test_lost_after_dot(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PLAIN, 1},
	    {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
	    {"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1},
	    {"DATA\r\n", "354 go\r\n", 1},
	    {"\r\n.\r\n", PEER_DROP, 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_timing t;
	struct smtp_session *s = open_timed(&p, st, N(st), false, &t, &err);
	struct smtp_envelope env = {.envelope = &single};
	struct smtp_envelope_result res;
	struct body b = {"x\r\n", 0, 64};
	struct smtp_body_source src = {body_read, &b};
	struct reply final;
	bool dot_sent = false;
	size_t len;

	CHECK(s != NULL);
	if (!s)
		return;
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	reply_init(&final);
	CHECK_INT(smtp_body(s, &src, false, &final, 1, &dot_sent, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(dot_sent);
	CHECK(strstr(err.msg, "status unknown") != NULL);
	/* The session failed in the body step (timing, smtp.h). */
	CHECK_INT(smtp_timing_failed(&t), SMTP_STEP_BODY);
	reply_clear(&final);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	free(peer_finish(&p, &len));
}

/* Each step is timed as it happens (smtp.h): a whole pipelined session
 * begins and ends every step it takes, in order, and the record outlives
 * the session; TLS and AUTH, not taken, stay unbegun. */
static void
test_timing_session(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go on\r\n", 0},
	    {"\r\n.\r\nQUIT\r\n", "250 queued\r\n221 bye\r\n", 1},
	};
	static const enum smtp_step taken[] = {
	    SMTP_STEP_CONNECT, SMTP_STEP_GREETING, SMTP_STEP_EHLO,
	    SMTP_STEP_MAIL,    SMTP_STEP_RCPT,     SMTP_STEP_DATA,
	    SMTP_STEP_BODY,    SMTP_STEP_QUIT,
	};
	struct peer p;
	struct error err = {0};
	struct smtp_timing t;
	struct smtp_session *s = open_timed(&p, st, N(st), false, &t, &err);
	struct smtp_envelope env = {.envelope = &single};
	struct smtp_envelope_result res;
	struct body b = {"Hi\r\n", 0, 64};
	struct smtp_body_source src = {body_read, &b};
	struct reply final;
	bool dot_sent = false;
	int64_t last = 0;

	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(smtp_timing_failed(&t), SMTP_NSTEPS);
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	reply_init(&final);
	CHECK_INT(smtp_body(s, &src, true, &final, 1, &dot_sent, &err), 0);
	reply_clear(&final);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
	               "RCPT TO:<b@y.test>\r\nDATA\r\nHi\r\n.\r\nQUIT\r\n");
	for (size_t i = 0; i < N(taken); i++) {
		enum smtp_step k = taken[i];

		CHECK(t.begin_us[k] >= 0 && t.end_us[k] >= t.begin_us[k]);
		/* Pipelined MAIL, RCPT and DATA begin together, so only the
		 * ends are in order. */
		CHECK(t.end_us[k] >= last);
		last = t.end_us[k];
	}
	CHECK_INT(t.begin_us[SMTP_STEP_TLS], -1);
	CHECK_INT(t.begin_us[SMTP_STEP_AUTH], -1);
	CHECK_INT(smtp_timing_failed(&t), SMTP_NSTEPS);
	CHECK_STR(smtp_step_name(SMTP_STEP_GREETING), "greeting");
	CHECK_STR(smtp_step_name(SMTP_STEP_QUIT), "quit");
}

/* Where a session stops is the step that began and did not end: a
 * refused greeting, a refused EHLO, a required STARTTLS not offered, a
 * connection lost in the middle of the body. */
static void
test_timing_failed_step(void)
{
	static const struct {
		struct peer_step st[3];
		bool starttls;
		enum smtp_step failed;
	} cases[] = {
	    {{{NULL, "554 5.7.1 go away\r\n", 0}}, false, SMTP_STEP_GREETING},
	    {{{NULL, "220 hi\r\n", 0},
	      {"EHLO client.test\r\n", "421 4.3.2 later\r\n", 1}},
	     false,
	     SMTP_STEP_EHLO},
	    {{{NULL, "220 hi\r\n", 0}, {"EHLO client.test\r\n", EHLO_PLAIN, 1}},
	     true,
	     SMTP_STEP_TLS},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct error err = {0};
		struct smtp_options o;
		struct smtp_session *s = NULL;
		struct smtp_timing t;
		size_t n = 0, len;

		while (n < 3 && cases[i].st[n].send)
			n++;
		if (peer_start(&p, cases[i].st, n) < 0)
			continue;
		options(&o, &p, false);
		o.timing = &t;
		if (cases[i].starttls)
			o.tls = SMTP_TLS_STARTTLS;
		CHECK_INT(smtp_open(&s, &o, &err), -1);
		CHECK_INT(smtp_timing_failed(&t), cases[i].failed);
		CHECK(t.end_us[SMTP_STEP_CONNECT] >= 0);
		free(peer_finish(&p, &len));
	}
}

/* --quit-after in smtp_open: nothing after the step asked for, QUIT
 * after each but CONNECT (nothing may precede the greeting), and no
 * transaction on a session stopped before MAIL. */
static void
test_stop_in_open(void)
{
	static const struct peer_step greet[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	};
	static const struct peer_step greet_quit[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	static const struct peer_step ehlo_quit[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	static const struct {
		enum smtp_step step;
		const struct peer_step *st;
		size_t n;
		const char *sent;
	} cases[] = {
	    {SMTP_STEP_CONNECT, greet, N(greet), ""},
	    {SMTP_STEP_GREETING, greet_quit, N(greet_quit), "QUIT\r\n"},
	    {SMTP_STEP_EHLO, ehlo_quit, N(ehlo_quit),
	     "EHLO client.test\r\nQUIT\r\n"},
	    /* Without STARTTLS or AUTH configured, nothing more to do. */
	    {SMTP_STEP_TLS, ehlo_quit, N(ehlo_quit),
	     "EHLO client.test\r\nQUIT\r\n"},
	    {SMTP_STEP_AUTH, ehlo_quit, N(ehlo_quit),
	     "EHLO client.test\r\nQUIT\r\n"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct smtp_options o;
		struct error err = {0};
		struct smtp_session *s = NULL;
		struct smtp_envelope env = {.envelope = &single};
		struct smtp_envelope_result res;
		size_t len;
		char *got;

		if (peer_start(&p, cases[i].st, cases[i].n) < 0) {
			CHECK(!"peer_start");
			continue;
		}
		options(&o, &p, false);
		o.stop = true;
		o.stop_after = cases[i].step;
		CHECK_INT(smtp_open(&s, &o, &err), 0);
		if (!s)
			continue;
		smtp_envelope_result_init(&res);
		CHECK_INT(smtp_envelope(s, &env, &res, &err), -1);
		CHECK_INT(err.kind, ERROR_SOFTWARE);
		smtp_envelope_result_clear(&res);
		smtp_close(s);
		got = peer_finish(&p, &len);
		CHECK_STR(got ? got : "", cases[i].sent);
		CHECK_INT(p.status, 0);
		free(got);
	}
}

/* --quit-after in smtp_envelope: MAIL alone (no recipient needed), the
 * RCPTs without DATA, DATA whose 354 is followed by smtp_abort: never a
 * dot, never a QUIT inside the data. */
static void
test_stop_in_envelope(void)
{
	static const struct peer_step mail[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	static const struct peer_step rcpt[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"RCPT TO:<c@y.test>\r\n", "250 ok\r\n250 ok\r\n550 no\r\n", 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	static const struct peer_step data[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 1},
	};
	static const char *const none[] = {NULL};
	struct envelope sender_only;
	struct {
		enum smtp_step step;
		const struct peer_step *st;
		size_t n;
		const struct envelope *env;
		const char *sent;
	} cases[] = {
	    {SMTP_STEP_MAIL, mail, N(mail), &sender_only,
	     "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\nQUIT\r\n"},
	    {SMTP_STEP_RCPT, rcpt, N(rcpt), &two,
	     "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
	     "RCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\nQUIT\r\n"},
	    {SMTP_STEP_DATA, data, N(data), &single,
	     "EHLO client.test\r\nMAIL FROM:<a@x.test>\r\n"
	     "RCPT TO:<b@y.test>\r\nDATA\r\n"},
	};

	peer_envelope(&sender_only, "a@x.test", none, 0);
	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct smtp_options o;
		struct error err = {0};
		struct smtp_session *s = NULL;
		struct smtp_envelope env = {.envelope = cases[i].env};
		struct smtp_envelope_result res;
		size_t len;
		char *got;

		if (peer_start(&p, cases[i].st, cases[i].n) < 0) {
			CHECK(!"peer_start");
			continue;
		}
		options(&o, &p, false);
		o.stop = true;
		o.stop_after = cases[i].step;
		CHECK_INT(smtp_open(&s, &o, &err), 0);
		if (!s)
			continue;
		smtp_envelope_result_init(&res);
		CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
		CHECK_INT(res.mail.code, 250);
		CHECK_INT(res.data.code,
		          cases[i].step == SMTP_STEP_DATA ? 354 : 0);
		if (cases[i].step == SMTP_STEP_RCPT)
			CHECK_INT(res.rcpt[1].code, 550);
		if (res.data.code == 354)
			smtp_abort(s);
		smtp_envelope_result_clear(&res);
		smtp_close(s);
		got = peer_finish(&p, &len);
		CHECK_STR(got ? got : "", cases[i].sent);
		CHECK_INT(p.status, 0);
		free(got);
	}
	envelope_clear(&sender_only);
}

/* no_pipelining: a server that offers PIPELINING still gets one command
 * per turnaround (each step `alone`), and QUIT after the dot's reply. */
static void
test_no_pipelining(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220 test.invalid ESMTP\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"MAIL FROM:<a@x.test>\r\n", "250 ok\r\n", 1},
	    {"RCPT TO:<b@y.test>\r\n", "250 ok\r\n", 1},
	    {"RCPT TO:<c@y.test>\r\n", "250 ok\r\n", 1},
	    {"DATA\r\n", "354 go\r\n", 1},
	    {"\r\n.\r\n", "250 queued\r\n", 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	struct peer p;
	struct smtp_options o;
	struct error err = {0};
	struct smtp_session *s = NULL;
	struct smtp_envelope env = {.envelope = &two};
	struct smtp_envelope_result res;
	struct body b = {"x\r\n", 0, 64};
	struct smtp_body_source src = {body_read, &b};
	struct reply final;
	bool dot_sent = false;
	size_t len;

	if (peer_start(&p, st, N(st)) < 0) {
		CHECK(!"peer_start");
		return;
	}
	options(&o, &p, false);
	o.no_pipelining = true;
	CHECK_INT(smtp_open(&s, &o, &err), 0);
	if (!s)
		return;
	CHECK(smtp_caps(s)->pipelining); /* still says it was offered */
	smtp_envelope_result_init(&res);
	CHECK_INT(smtp_envelope(s, &env, &res, &err), 0);
	CHECK_INT(res.data.code, 354);
	reply_init(&final);
	CHECK_INT(smtp_body(s, &src, true, &final, 1, &dot_sent, &err), 0);
	CHECK_INT(final.code, 250);
	reply_clear(&final);
	smtp_envelope_result_clear(&res);
	smtp_close(s);
	free(peer_finish(&p, &len));
	CHECK_INT(p.status, 0);
}

/* struct smtp_heard: what the server said while the session opened, kept
 * for the caller also when the session fails; STARTTLS tried when only
 * offered (starttls_if_offered). */
static void
test_heard_open(void)
{
	static const struct peer_step st[] = {
	    {NULL, "220-first\r\n220 test.invalid ready\r\n", 0},
	    {"EHLO client.test\r\n", EHLO_PIPE, 1},
	    {"QUIT\r\n", "221 bye\r\n", 1},
	};
	struct peer p;
	struct error err = {0};
	struct smtp_options o;
	struct smtp_session *s = NULL;
	struct smtp_heard h;
	size_t len;

	if (peer_start(&p, st, N(st)) < 0)
		return;
	options(&o, &p, false);
	o.heard = &h;
	o.starttls_if_offered = true; /* not offered: not sent */
	CHECK_INT(smtp_open(&s, &o, &err), 0);
	smtp_close(s);
	CHECK_SENT(&p, "EHLO client.test\r\nQUIT\r\n");
	CHECK_INT(h.greeting.code, 220);
	CHECK_INT((int)h.greeting.nlines, 2);
	CHECK_STR(reply_line(&h.greeting, 1, &len), "test.invalid ready");
	CHECK_INT(h.hello[0].code, 250);
	CHECK_INT((int)h.hello[0].nlines, 4);
	CHECK_STR(h.hello_verb[0], "EHLO");
	CHECK(h.caps[0].pipelining && h.caps[0].size_max == 1000);
	CHECK_INT(h.hello[1].code, 0);
	CHECK_INT(h.starttls.code, 0);
	CHECK(!h.implicit_tls && !h.tls_done);
	CHECK(strstr(h.peer, p.path) != NULL);
	smtp_heard_clear(&h);
}

static void
test_heard_failures(void)
{
	static const struct {
		struct peer_step st[3];
		int greeting, hello, starttls;
		const char *verb;
	} cases[] = {
	    {{{NULL, "554 no service\r\n", 0}}, 554, 0, 0, NULL},
	    {{{NULL, "220 hi\r\n", 0},
	      {"EHLO client.test\r\n", "502 what?\r\n", 1},
	      {"HELO client.test\r\n", "250 hello\r\n", 1}},
	     220,
	     250,
	     0,
	     "HELO"},
	    /* Offered, tried with SMTP_TLS_OFF, refused for now. */
	    {{{NULL, "220 hi\r\n", 0},
	      {"EHLO client.test\r\n", "250-x\r\n250 STARTTLS\r\n", 1},
	      {"STARTTLS\r\n", "454 4.7.0 not now\r\n", 1}},
	     220,
	     250,
	     454,
	     "EHLO"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct peer p;
		struct error err = {0};
		struct smtp_options o;
		struct smtp_session *s = NULL;
		struct smtp_heard h;
		size_t n = 0, len;
		int rc;

		while (n < 3 && cases[i].st[n].send)
			n++;
		if (peer_start(&p, cases[i].st, n) < 0)
			continue;
		options(&o, &p, false);
		o.heard = &h;
		o.starttls_if_offered = true;
		rc = smtp_open(&s, &o, &err);
		smtp_close(s);
		CHECK_INT(rc, cases[i].verb && !cases[i].starttls ? 0 : -1);
		CHECK_INT(h.greeting.code, cases[i].greeting);
		CHECK_INT(h.hello[0].code, cases[i].hello);
		CHECK_INT(h.starttls.code, cases[i].starttls);
		if (cases[i].verb) {
			CHECK_STR(h.hello_verb[0], cases[i].verb);
			CHECK_INT(h.caps[0].esmtp,
			          strcmp(cases[i].verb, "EHLO") == 0);
		}
		free(peer_finish(&p, &len));
		smtp_heard_clear(&h);
	}
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	envelopes_init();
	test_pipelined();
	test_stepwise_all_or_nothing();
	test_stepwise_any();
	test_helo_fallback();
	test_parameters();
	test_starttls_required();
	test_auth_plain();
	test_auth_renew();
	test_open_refusals();
	test_lmtp();
	test_out_of_step();
	test_body_fails();
	test_body_overruns();
	test_binary_needs_bdat();
	test_lost_after_dot();
	test_timing_session();
	test_timing_failed_step();
	test_stop_in_open();
	test_stop_in_envelope();
	test_no_pipelining();
	test_heard_open();
	test_heard_failures();
	envelopes_clear();
	return unit_done();
}
