/*
 * sasl_test.c - the AUTH client: the mechanism choice table, exact bytes
 * for PLAIN, LOGIN, CRAM-MD5 (RFC 2195), XOAUTH2 (Google's example) and
 * OAUTHBEARER (RFC 7628), full SCRAM exchanges against libgsasl's server
 * side (with and without channel binding, a wrong password, a forged
 * server signature), the ceilings and the cancel code, failures in words,
 * and the transcript redaction.
 *
 * The test includes gsasl.h for the server side only; src/wire/sasl.c remains
 * the only module of the program that does.
 */
#include "config.h"

#include <gsasl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sasl.h"
#include "util.h"

#include "unit.h"

static void
params(struct sasl_params *p, const char *auth, const char *offered)
{
	memset(p, 0, sizeof *p);
	p->auth = auth;
	p->offered = offered;
	p->tls = true;
	p->user = "user";
	p->secret = "pass";
	p->host = "smtp.example.org";
}

/* ------------------------------------------------------------------------
 * Choosing.
 */

#define ALL                                                                    \
	"SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 "       \
	"PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER EXTERNAL"

/* tls, loopback, plaintext, cb, an OAuth2 token (sasl_params.bearer) */
enum { T = 1, L = 2, P = 4, CB = 8, B = 16 };

static const struct {
	const char *auth;
	const char *offered;
	int flags;
	const char *want; /* mechanism, or NULL for an error */
	enum error_kind kind;
} choices[] = {
    /* automatic: strongest first; -PLUS only with channel binding */
    {"on", ALL, T | CB, "SCRAM-SHA-256-PLUS", 0},
    {"on", ALL, T, "SCRAM-SHA-256", 0},
    {"on", ALL, L | CB, "SCRAM-SHA-256", 0}, /* no binding without TLS */
    {"on", "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", T | CB, "SCRAM-SHA-1-PLUS", 0},
    {"on", "SCRAM-SHA-1 PLAIN LOGIN", T, "SCRAM-SHA-1", 0},
    {"on", "LOGIN PLAIN", T, "PLAIN", 0},
    {"on", "login", T, "LOGIN", 0},
    {"on", "CRAM-MD5 LOGIN", T, "LOGIN", 0},
    /* never chosen automatically */
    {"on", "CRAM-MD5", T, NULL, ERROR_UNAVAILABLE},
    {"on", "XOAUTH2 OAUTHBEARER EXTERNAL GSSAPI", T, NULL, ERROR_UNAVAILABLE},
    {"on", "", T, NULL, ERROR_UNAVAILABLE},
    /* clear text needs TLS, loopback or permission */
    {"on", "PLAIN LOGIN", 0, NULL, ERROR_CONFIG},
    {"on", "PLAIN LOGIN", L, "PLAIN", 0},
    {"on", "PLAIN LOGIN", P, "PLAIN", 0},
    {"on", "SCRAM-SHA-256 PLAIN", 0, "SCRAM-SHA-256", 0},
    {"on", "CRAM-MD5 PLAIN", 0, NULL, ERROR_CONFIG},
    /* named */
    {"plain", ALL, T, "PLAIN", 0},
    {"plain", ALL, 0, NULL, ERROR_CONFIG},
    {"plain", ALL, L, "PLAIN", 0},
    {"login", "PLAIN", T, NULL, ERROR_UNAVAILABLE},
    {"cram-md5", ALL, 0, "CRAM-MD5", 0},
    {"scram-sha-1", ALL, T, "SCRAM-SHA-1", 0},
    {"scram-sha-1", ALL, T | CB, "SCRAM-SHA-1-PLUS", 0},
    {"scram-sha-256", "SCRAM-SHA-256", T | CB, "SCRAM-SHA-256", 0},
    {"xoauth2", ALL, T, "XOAUTH2", 0},
    {"xoauth2", ALL, 0, NULL, ERROR_CONFIG},
    {"xoauth2", ALL, P, "XOAUTH2", 0},
    {"oauthbearer", ALL, T, "OAUTHBEARER", 0},
    {"oauthbearer", "PLAIN", T, NULL, ERROR_UNAVAILABLE},
    {"external", ALL, T, "EXTERNAL", 0},
    {"kerberos", ALL, T, NULL, ERROR_CONFIG},
    {"external", "", T, NULL, ERROR_UNAVAILABLE},
    /* an OAuth2 account: OAUTHBEARER, else XOAUTH2, never a password's */
    {"on", ALL, T | B, "OAUTHBEARER", 0},
    {NULL, ALL, T | B, "OAUTHBEARER", 0},
    {"on", "PLAIN XOAUTH2 LOGIN", T | B, "XOAUTH2", 0},
    {"on", "xoauth2 oauthbearer", T | B, "OAUTHBEARER", 0},
    {"on", "SCRAM-SHA-256 PLAIN LOGIN", T | B, NULL, ERROR_UNAVAILABLE},
    {"on", "", T | B, NULL, ERROR_UNAVAILABLE},
    {"on", ALL, B, NULL, ERROR_CONFIG},
    {"on", ALL, L | B, "OAUTHBEARER", 0},
    {"xoauth2", ALL, T | B, "XOAUTH2", 0},
    {"oauthbearer", "XOAUTH2", T | B, NULL, ERROR_UNAVAILABLE},
};

static void
test_choice(void)
{
	for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
		struct sasl_params p;
		struct sasl_client *c = NULL;
		struct error err;
		char what[1600];
		int rc;

		params(&p, choices[i].auth, choices[i].offered);
		p.tls = choices[i].flags & T;
		p.loopback = choices[i].flags & L;
		p.plaintext_ok = choices[i].flags & P;
		p.cb_tls_exporter = choices[i].flags & CB ? "Y2I=" : NULL;
		p.bearer = choices[i].flags & B;
		error_clear(&err);
		rc = sasl_client_new(&c, &p, &err);
		snprintf(what, sizeof what, "case %zu (%s / %s): %s", i,
		         choices[i].auth ? choices[i].auth : "(unset)",
		         choices[i].offered,
		         rc == 0 ? sasl_mechanism(c) : err.msg);
		if (choices[i].want)
			unit_report(rc == 0 && strcmp(sasl_mechanism(c),
			                              choices[i].want) == 0,
			            __FILE__, __LINE__, what);
		else
			unit_report(rc == -1 && c == NULL &&
			                err.kind == choices[i].kind,
			            __FILE__, __LINE__, what);
		sasl_client_free(c);
	}
}

static void
test_choice_messages(void)
{
	struct sasl_params p;
	struct sasl_client *c;
	struct error err;

	params(&p, "on", "PLAIN LOGIN");
	p.tls = false;
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_STR(err.msg, "refusing to send the password in clear text (AUTH "
	                   "PLAIN) over an unencrypted connection; enable TLS "
	                   "or set auth_plaintext on");
	params(&p, "on", "CRAM-MD5 GSSAPI");
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_STR(err.msg, "no authentication mechanism in common with the "
	                   "server, which offers: CRAM-MD5 GSSAPI");
	params(&p, "login", "PLAIN CRAM-MD5");
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_STR(err.msg, "the server does not offer AUTH LOGIN (it offers: "
	                   "PLAIN CRAM-MD5)");
	params(&p, "on", NULL);
	p.tls = false;
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK(strstr(err.msg, "only after STARTTLS") != NULL);
	params(&p, "plain", "PLAIN");
	p.secret = NULL;
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_STR(err.msg, "AUTH PLAIN needs a password");
	params(&p, "xoauth2", "XOAUTH2");
	p.secret = "";
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_STR(err.msg, "AUTH XOAUTH2 needs an OAuth token (passwordeval)");
	params(&p, "plain", "PLAIN");
	p.user = NULL;
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_STR(err.msg, "AUTH PLAIN needs a user name: set user");
	params(&p, "on", "PLAIN LOGIN");
	p.bearer = true;
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_INT(err.kind, ERROR_UNAVAILABLE);
	CHECK_STR(err.msg, "the server offers neither OAUTHBEARER nor XOAUTH2, "
	                   "which an OAuth2 account needs (it offers: PLAIN "
	                   "LOGIN)");

	CHECK(sasl_needs_secret("on"));
	CHECK(sasl_needs_secret("scram-sha-256"));
	CHECK(!sasl_needs_secret("external"));
	CHECK(!sasl_needs_secret("gssapi"));
}

/* ------------------------------------------------------------------------
 * Exact bytes.
 */

static struct sasl_client *
client(const char *auth, const char *user, const char *secret)
{
	struct sasl_params p;
	struct sasl_client *c = NULL;
	struct error err;

	params(&p, auth, ALL " GSSAPI");
	p.user = user;
	p.secret = secret;
	if (sasl_client_new(&c, &p, &err) < 0)
		fprintf(stderr, "client %s: %s\n", auth, err.msg);
	return c;
}

static void
test_plain(void)
{
	struct sasl_client *c = client("plain", "user", "pass");
	const char *ir;
	struct error err;

	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK_STR(ir, "AHVzZXIAcGFzcw=="); /* "\0user\0pass" */
	CHECK_INT(sasl_success(c, &err), 0);
	sasl_client_free(c);
}

static void
test_login(void)
{
	struct sasl_client *c = client("login", "user", "pass");
	const char *ir, *resp;
	struct error err;

	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK(ir == NULL);
	CHECK_INT(sasl_step(c, "VXNlcm5hbWU6", 12, &resp, &err), 0);
	CHECK_STR(resp, "dXNlcg==");
	/* 235 now would be early */
	CHECK_INT(sasl_success(c, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK_INT(sasl_step(c, "UGFzc3dvcmQ6", 12, &resp, &err), 0);
	CHECK_STR(resp, "cGFzcw==");
	CHECK_INT(sasl_success(c, &err), 0);
	/* a third challenge is cancelled */
	CHECK_INT(sasl_step(c, "", 0, &resp, &err), SASL_CANCEL);
	CHECK(resp == NULL);
	sasl_client_free(c);
}

/* RFC 2195 2: the example exchange. */
static void
test_cram_md5(void)
{
	static const char chal[] =
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
	struct sasl_client *c = client("cram-md5", "tim", "tanstaaftanstaaf");
	const char *ir, *resp;
	struct error err;

	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK(ir == NULL);
	CHECK_INT(sasl_step(c, chal, strlen(chal), &resp, &err), 0);
	CHECK_STR(resp, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
	CHECK_INT(sasl_success(c, &err), 0);
	sasl_client_free(c);
}

static void
test_external(void)
{
	struct sasl_client *c = client("external", NULL, NULL);
	const char *ir;
	struct error err;

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK_STR(ir, "="); /* RFC 4954 4: empty initial response */
	sasl_client_free(c);
}

static void
test_bearer(void)
{
	static const char google[] =
	    "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRm"
	    "dDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==";
	static const char json[] = "eyJzdGF0dXMiOiI0MDEifQ==";
	struct sasl_client *c;
	const char *ir, *resp;
	struct error err;

	/* Google's documented example */
	c = client("xoauth2", "someuser@example.com",
	           "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK_STR(ir, google);
	CHECK_INT(sasl_success(c, &err), 0);
	/* a refused token: the JSON error, an empty answer, then 535 */
	CHECK_INT(sasl_step(c, json, strlen(json), &resp, &err), 0);
	CHECK_STR(resp, "");
	CHECK_INT(sasl_step(c, json, strlen(json), &resp, &err), SASL_CANCEL);
	sasl_client_free(c);

	/* RFC 7628 3.1, without the optional host and port */
	c = client("oauthbearer", "user@example.com",
	           "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==");
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK_STR(ir, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWF1dGg9QmVhcmVyIHZGOWRmdDRx"
	              "bVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	/* RFC 7628 3.2.3: the answer to an error is ^A */
	CHECK_INT(sasl_step(c, json, strlen(json), &resp, &err), 0);
	CHECK_STR(resp, "AQ==");
	sasl_client_free(c);

	/* RFC 5801 4: ',' and '=' in the name are escaped */
	c = client("oauthbearer", "a,b=c", "t");
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK_STR(ir, "bixhPWE9MkNiPTNEYywBYXV0aD1CZWFyZXIgdAEB");
	sasl_client_free(c);
}

/* RFC 4954 4: an initial response that would make the AUTH line longer
 * than 512 octets waits for an empty 334. */
static void
test_deferred_initial(void)
{
	char token[1200];
	struct sasl_client *c;
	const char *ir, *resp;
	struct error err;

	memset(token, 'x', sizeof token - 1);
	token[sizeof token - 1] = '\0';
	c = client("xoauth2", "u@example.com", token);
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK(ir == NULL);
	CHECK_INT(sasl_success(c, &err), -1);
	CHECK_INT(sasl_step(c, "eA==", 4, &resp, &err), SASL_CANCEL);
	sasl_client_free(c);

	c = client("xoauth2", "u@example.com", token);
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK_INT(sasl_step(c, "", 0, &resp, &err), 0);
	CHECK(resp != NULL && strlen(resp) > 1600);
	CHECK(resp != NULL && strncmp(resp, "dXNlcj1", 7) == 0);
	CHECK_INT(sasl_success(c, &err), 0);
	sasl_client_free(c);
}

/* ------------------------------------------------------------------------
 * Ceilings and malformed challenges.
 */

static void
test_malformed(void)
{
	static const char *const bad[] = {
	    "VXNlcm5hbWU",   "VXNlcm5hbWU6=", "VXNl cm5hbWU6", "VXNlcm5h*WU6",
	    "=VXNlcm5hbWU6", "VX==cm5hbWU6",  "VXNlcm5hb===",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct sasl_client *c = client("login", "user", "pass");
		const char *ir, *resp;
		struct error err;

		sasl_start(c, &ir, &err);
		CHECK_INT(sasl_step(c, bad[i], strlen(bad[i]), &resp, &err),
		          SASL_CANCEL);
		CHECK(resp == NULL);
		CHECK_INT(err.kind, ERROR_PROTOCOL);
		CHECK_STR(err.msg, "AUTH LOGIN: the server sent a malformed "
		                   "challenge (not base64)");
		sasl_client_free(c);
	}
}

static void
test_ceilings(void)
{
	struct sasl_client *c = client("login", "user", "pass");
	size_t big = (SASL_CHALLENGE_MAX + 3) / 3 * 4 + 4;
	char *text = xmalloc(big + 1);
	const char *ir, *resp;
	struct error err;

	sasl_start(c, &ir, &err);
	memset(text, 'A', big);
	text[big] = '\0';
	CHECK_INT(sasl_step(c, text, big, &resp, &err), SASL_CANCEL);
	CHECK_STR(err.msg, "AUTH LOGIN: a challenge longer than 16384 bytes");
	free(text);
	for (int i = 1; i < SASL_STEPS_MAX; i++)
		sasl_step(c, "", 0, &resp, &err);
	CHECK_INT(sasl_step(c, "", 0, &resp, &err), SASL_CANCEL);
	CHECK_STR(err.msg, "AUTH LOGIN: more than 10 challenges; giving up");
	sasl_client_free(c);
}

/* ------------------------------------------------------------------------
 * SCRAM against libgsasl's server.
 */

struct server {
	const char *password;
	const char *cb; /* tls-exporter data the server sees */
};

static int
server_callback(Gsasl *ctx, Gsasl_session *s, Gsasl_property prop)
{
	const struct server *srv = gsasl_callback_hook_get(ctx);

	if (prop == GSASL_PASSWORD)
		return gsasl_property_set(s, prop, srv->password);
	if (prop == GSASL_CB_TLS_EXPORTER && srv->cb)
		return gsasl_property_set(s, prop, srv->cb);
	return GSASL_NO_CALLBACK;
}

/* Run a whole exchange as smtp.c would; 235 means authenticated.
 * Returns the final reply code (235, 535) or 0 when the client cancelled
 * (its error in err).  `forge` alters the server's last message. */
static const char *exchange_offered = ALL;

static int
exchange(const char *mech, const struct server *srv, const char *client_cb,
         bool forge, struct error *err)
{
	struct sasl_params p;
	struct sasl_client *c = NULL;
	Gsasl *ctx;
	Gsasl_session *s;
	const char *in = NULL;
	char *out = NULL;
	int rc, code = 0;

	params(&p, mech, exchange_offered);
	p.cb_tls_exporter = client_cb;
	if (sasl_client_new(&c, &p, err) < 0)
		return -1;
	gsasl_init(&ctx);
	gsasl_callback_set(ctx, server_callback);
	gsasl_callback_hook_set(ctx, (void *)srv);
	gsasl_server_start(ctx, sasl_mechanism(c), &s);
	if (sasl_start(c, &in, err) < 0)
		goto done;
	for (int round = 0; round < 5; round++) {
		rc = gsasl_step64(s, in && strcmp(in, "=") ? in : "", &out);
		if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE) {
			code = 535;
			break;
		}
		if (rc == GSASL_OK && (!out || !*out)) {
			code = sasl_success(c, err) == 0 ? 235 : -2;
			break;
		}
		if (rc == GSASL_OK && forge)
			out[strlen(out) / 2] ^= 1;
		if (sasl_step(c, out, strlen(out), &in, err) == SASL_CANCEL) {
			code = 0;
			break;
		}
		if (rc == GSASL_OK) {
			/* the server is done; the client answered "" */
			code =
			    *in == '\0' && sasl_success(c, err) == 0 ? 235 : -3;
			break;
		}
		gsasl_free(out);
		out = NULL;
	}
done:
	gsasl_free(out);
	gsasl_finish(s);
	gsasl_done(ctx);
	sasl_client_free(c);
	return code;
}

static void
test_scram(void)
{
	struct server srv = {"pass", NULL};
	struct server srv_cb = {"pass", "Y2JkYXRh"};
	struct server wrong = {"other", NULL};
	struct error err;

	CHECK_INT(exchange("scram-sha-256", &srv, NULL, false, &err), 235);
	CHECK_INT(exchange("scram-sha-1", &srv, NULL, false, &err), 235);
	/* channel binding: the same TLS channel on both sides */
	CHECK_INT(exchange("on", &srv_cb, "Y2JkYXRh", false, &err), 235);
	/* a different channel (a man in the middle) fails */
	srv_cb.cb = "b3RoZXI=";
	CHECK_INT(exchange("on", &srv_cb, "Y2JkYXRh", false, &err), 535);
	CHECK_INT(exchange("scram-sha-256", &wrong, NULL, false, &err), 535);
	/* a server that cannot prove it knows the password */
	error_clear(&err);
	CHECK_INT(exchange("scram-sha-256", &srv, NULL, true, &err), 0);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	CHECK(strstr(err.msg, "SCRAM-SHA-256") != NULL);
	/* binding data at hand but no -PLUS form of the named mechanism on
	 * offer: plain SCRAM must still work (libgsasl 2.2 fails when it is
	 * given binding data for a non-PLUS session) */
	exchange_offered = "SCRAM-SHA-1 SCRAM-SHA-256-PLUS PLAIN";
	CHECK_INT(exchange("scram-sha-1", &srv, "Y2JkYXRh", false, &err), 235);
	exchange_offered = "SCRAM-SHA-256 PLAIN";
	CHECK_INT(exchange("on", &srv, "Y2JkYXRh", false, &err), 235);
	exchange_offered = ALL;
}

/* A SCRAM server that says 235 without its final message. */
static void
test_scram_early_success(void)
{
	struct sasl_client *c = client("scram-sha-256", "user", "pass");
	const char *ir;
	struct error err;

	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK(ir != NULL &&
	      strncmp(ir, "biwsbj11c2Vy", 12) == 0); /* n,,n=user */
	CHECK_INT(sasl_success(c, &err), -1);
	CHECK(strstr(err.msg, "did not prove") != NULL);
	sasl_client_free(c);
}

/* The client's answer to a scripted SCRAM server-first message, FMT with
 * "%N" (once at most) for our own nonce, the one the server must extend.
 * Returns sasl_step's result; err says why when it cancelled. */
static void
subst_nonce(char *out, size_t n, const char *fmt, const char *nonce)
{
	const char *mark = strstr(fmt, "%N");
	size_t nlen = strcspn(nonce, ",");

	if (!mark) {
		snprintf(out, n, "%s", fmt);
		return;
	}
	snprintf(out, n, "%.*s%.*s%s", (int)(mark - fmt), fmt, (int)nlen, nonce,
	         mark + 2);
}

static int
scram_first(const char *fmt, struct error *err)
{
	struct sasl_client *c = client("scram-sha-256", "user", "pass");
	const char *ir = NULL, *resp = NULL;
	char *first = NULL, *text, *b64 = NULL, msg[512];
	size_t first_len = 0, b64_len = 0;
	const char *nonce;
	int rc;

	error_clear(err);
	if (sasl_start(c, &ir, err) < 0 || !ir ||
	    gsasl_base64_from(ir, strlen(ir), &first, &first_len) != GSASL_OK) {
		sasl_client_free(c);
		return -99;
	}
	/* gsasl_base64_from's output is counted, not a C string. */
	text = xstrndup(first, first_len);
	gsasl_free(first);
	nonce = strstr(text, ",r=");
	subst_nonce(msg, sizeof msg, fmt, nonce ? nonce + 3 : "");
	gsasl_base64_to(msg, strlen(msg), &b64, &b64_len);
	rc = sasl_step(c, b64, b64_len, &resp, err);
	free(text);
	gsasl_free(b64);
	sasl_client_free(c);
	return rc;
}

/* A server-first message is checked before libgsasl computes anything
 * from it: a huge iteration count would keep us busy for minutes. */
static void
test_scram_server_first(void)
{
	static const struct {
		const char *msg;
		const char *why; /* NULL: accepted */
	} cases[] = {
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=4096", NULL},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=4096,x=an-extension", NULL},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=1", NULL},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=2147483647", "2147483647 iterations"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=1000001", "more than the 1000000"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=99999999999999999999999",
	     "...999999999999 iterations"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=0", "not a positive number"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=04096", "not a positive number"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=-1", "not a positive number"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=", "not a positive number"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=4096x", "is not a number"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,i=40 96", "is not a number"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=", "no iteration count"},
	    {"r=%NSRV,s=c2FsdHNhbHQ=,x=1,i=4096", "no iteration count"},
	    {"r=%NSRV,i=4096", "no salt"},
	    {"r=%NSRV,s=,i=4096", "no salt"},
	    {"r=%NSRV,s=not base64!,i=4096", "the salt is not base64"},
	    {"r=%N,s=c2FsdHNhbHQ=,i=4096", "does not extend ours"},
	    {"r=someone-elses-nonce,s=c2FsdHNhbHQ=,i=4096",
	     "does not extend ours"},
	    {"r=X%NSRV,s=c2FsdHNhbHQ=,i=4096", "does not extend ours"},
	    {"r=%NS\x01V,s=c2FsdHNhbHQ=,i=4096", "does not extend ours"},
	    {"m=ext,r=%NSRV,s=c2FsdHNhbHQ=,i=4096", "no nonce"},
	    {"s=c2FsdHNhbHQ=,r=%NSRV,i=4096", "no nonce"},
	    {"", "no nonce"},
	    {"e=other-error", "no nonce"},
	};
	struct error err;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int rc = scram_first(cases[i].msg, &err);

		if (!cases[i].why) {
			CHECK_INT(rc, 0);
			continue;
		}
		CHECK_INT(rc, SASL_CANCEL);
		CHECK_INT(err.kind, ERROR_PROTOCOL);
		if (!strstr(err.msg, cases[i].why))
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
		CHECK(strstr(err.msg, cases[i].why) != NULL);
		CHECK(strstr(err.msg, "AUTH SCRAM-SHA-256: ") == err.msg);
	}
}

/* ------------------------------------------------------------------------
 * Failures and redaction.
 */

static void
test_failure(void)
{
	struct sasl_client *c = client("plain", "user", "hunter2");
	const char *ir;
	struct error err;

	sasl_start(c, &ir, &err);
	CHECK_INT(sasl_failure(c, 454, "4.7.0 Temporary failure", &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(strstr(err.msg, "as user with PLAIN at smtp.example.org "
	                      "failed for now: 454 4.7.0") != NULL);
	CHECK_INT(sasl_failure(c, 535, "5.7.8 Bad credentials", &err), -1);
	CHECK_INT(err.kind, ERROR_NOPERM);
	/* who, with what, where; what else the server offers; what to do */
	CHECK_STR(err.msg,
	          "authentication as user with PLAIN at smtp.example.org "
	          "failed: 535 5.7.8 Bad credentials; the server also offers "
	          "SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, "
	          "SCRAM-SHA-1, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER, "
	          "EXTERNAL, GSSAPI; check the user name and the password, or "
	          "choose another mechanism with --auth=MECH");
	sasl_failure(c, 534, "5.7.9 weak", &err);
	CHECK(strstr(err.msg, "too weak") != NULL);
	CHECK(strstr(err.msg, "--auth=MECH") != NULL);
	CHECK_INT(err.kind, ERROR_NOPERM);
	sasl_failure(c, 538, "5.7.11 Encryption required", &err);
	CHECK(strstr(err.msg, "requires an encrypted connection") != NULL);
	/* a server that repeats the secret back */
	sasl_failure(c, 535, "no such password: hunter2", &err);
	CHECK(strstr(err.msg, "hunter2") == NULL);
	sasl_failure(c, 535, "bad: AHVzZXIAaHVudGVyMg==", &err);
	CHECK(strstr(err.msg, "AHVzZXIAaHVudGVyMg==") == NULL);
	sasl_failure(NULL, 501, "5.5.2 cancelled", &err);
	CHECK_INT(err.kind, ERROR_NOPERM);
	sasl_client_free(c);
}

/* An OAuth2 account's token refused: no advice about a password or
 * another mechanism, which cannot help; the token never quoted. */
static void
test_failure_bearer(void)
{
	struct sasl_params p;
	struct sasl_client *c = NULL;
	const char *ir;
	struct error err;

	params(&p, "on", "XOAUTH2 OAUTHBEARER PLAIN");
	p.secret = "ya29.tok-EN";
	p.bearer = true;
	CHECK_INT(sasl_client_new(&c, &p, &err), 0);
	sasl_start(c, &ir, &err);
	CHECK_INT(sasl_failure(c, 535, "5.7.8 ya29.tok-EN invalid", &err), -1);
	CHECK_INT(err.kind, ERROR_NOPERM);
	CHECK_STR(err.msg,
	          "authentication as user with OAUTHBEARER at smtp.example.org "
	          "failed: 535 <redacted>; the server refused the OAuth2 "
	          "access token: check that user is the mailbox the login was "
	          "for, and the scope (oauth2_scope)");
	sasl_client_free(c);
}

/* The account named; a server with nothing else to offer gets no
 * advice to choose another mechanism. */
static void
test_failure_account(void)
{
	struct sasl_params p;
	struct sasl_client *c = NULL;
	struct error err;

	params(&p, "plain", "PLAIN");
	p.user = "alice@example.org";
	p.host = "mail.example.org";
	p.account = "work";
	CHECK_INT(sasl_client_new(&c, &p, &err), 0);
	sasl_failure(c, 535, "5.7.8 no", &err);
	CHECK_STR(err.msg, "authentication as alice@example.org with PLAIN at "
	                   "mail.example.org (account work) failed: 535 5.7.8 "
	                   "no; the server offers no other mechanism; check "
	                   "the user name and the password");
	sasl_client_free(c);
	/* The system configuration's, for a caller outside its group:
	 * neither its user nor its account is named. */
	p.private_names = true;
	CHECK_INT(sasl_client_new(&c, &p, &err), 0);
	sasl_failure(c, 454, "4.7.0 later", &err);
	CHECK_STR(err.msg, "authentication as the system configuration's "
	                   "user with PLAIN at mail.example.org failed for "
	                   "now: 454 4.7.0 later; try again later");
	sasl_failure(c, 535, "5.7.8 no", &err);
	CHECK(strstr(err.msg, "alice") == NULL);
	CHECK(strstr(err.msg, "work") == NULL);
	sasl_client_free(c);
}

static void
test_redact(void)
{
	static const struct {
		const char *line;
		const char *want;
	} client_lines[] = {
	    {"AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH PLAIN <redacted>"},
	    {"AUTH LOGIN", "AUTH LOGIN"},
	    {"auth scram-sha-256 biwsbj11", "auth scram-sha-256 <redacted>"},
	    {"AUTH EXTERNAL =", "AUTH EXTERNAL <redacted>"},
	    {"dXNlcg==", "<redacted>"},
	    {"", "<redacted>"},
	    {"*", "*"},
	};
	struct sasl_client *c = client("plain", "user", "hunter2");
	const char *ir;
	struct error err;
	char out[128];

	for (size_t i = 0; i < sizeof client_lines / sizeof *client_lines;
	     i++) {
		sasl_redact_client(client_lines[i].line,
		                   strlen(client_lines[i].line), out,
		                   sizeof out);
		CHECK_STR(out, client_lines[i].want);
	}
	sasl_start(c, &ir, &err);
	sasl_redact_server(c, "334 VXNlcm5hbWU6", 16, out, sizeof out);
	CHECK_STR(out, "334 <redacted>");
	sasl_redact_server(c, "334 ", 4, out, sizeof out);
	CHECK_STR(out, "334");
	sasl_redact_server(c, "235 2.7.0 OK", 12, out, sizeof out);
	CHECK_STR(out, "235 2.7.0 OK");
	sasl_redact_server(c, "535 bad hunter2", 15, out, sizeof out);
	CHECK_STR(out, "535 <redacted>");
	sasl_redact_server(c, "500 AHVzZXIAaHVudGVyMg== ?", 26, out,
	                   sizeof out);
	CHECK_STR(out, "500 <redacted>");
	sasl_redact_server(NULL, "535 x\001y", 7, out, sizeof out);
	CHECK_STR(out, "535 x?y");
	sasl_redact_server(NULL, "535 long", 8, out, 4);
	CHECK_STR(out, "535");
	sasl_client_free(c);
	sasl_client_free(NULL);
}

/* libntlm reads past its fixed buffer for user names from about 430
 * bytes (tests/fuzz/corpus/sasl/ntlm-long-user): longer than
 * SASL_NTLM_USER_MAX is a configuration error, the maximum works. */
static void
test_ntlm_user(void)
{
	char user[SASL_NTLM_USER_MAX + 2];
	struct sasl_client *c;
	struct sasl_params p;
	const char *ir, *resp;
	struct error err;

	memset(user, 'u', sizeof user - 1);
	user[sizeof user - 1] = '\0';
	params(&p, "ntlm", "NTLM");
	p.user = user;
	CHECK_INT(sasl_client_new(&c, &p, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_STR(err.msg, "AUTH NTLM: the user name is longer than 256 "
	                   "bytes; use another mechanism");

	user[SASL_NTLM_USER_MAX] = '\0';
	CHECK_INT(sasl_client_new(&c, &p, &err), 0);
	CHECK_INT(sasl_start(c, &ir, &err), 0);
	CHECK(ir != NULL);
	CHECK_INT(sasl_step(c, "UGE=", 4, &resp, &err), 0);
	CHECK(resp != NULL && *resp != '\0');
	sasl_client_free(c);
}

int
main(void)
{
	test_choice();
	test_choice_messages();
	test_plain();
	test_login();
	test_cram_md5();
	test_external();
	test_bearer();
	test_deferred_initial();
	test_malformed();
	test_ceilings();
	test_scram();
	test_scram_early_success();
	test_scram_server_first();
	test_failure();
	test_failure_bearer();
	test_failure_account();
	test_redact();
	test_ntlm_user();
	return unit_done();
}
