/*
 * sasl.c - SMTP AUTH client (see sasl.h): choosing a mechanism, running
 * libgsasl's client (the only file that includes gsasl.h), and XOAUTH2 and
 * OAUTHBEARER by hand.
 *
 * Everything that crosses the wire is base64 (RFC 4954 4); the codec is
 * our own, strict (RFC 4648 4: no whitespace, padding only at the end),
 * so that a malformed challenge is always caught and every intermediate
 * buffer can be wiped.
 */
#include "config.h"

#include "sasl.h"

#include <gsasl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynload.h"
#include "encode.h"
#include "util.h"

/* libgsasl's functions, of the types its header gives them: it is loaded
 * (dynload.h) when a session first authenticates, so that a send without
 * AUTH, and --version, never map it nor its own libraries (libidn,
 * libntlm, libgssglue). */
static struct gsasl_api {
	__typeof__(gsasl_client_start) *gsasl_client_start;
	__typeof__(gsasl_client_support_p) *gsasl_client_support_p;
	__typeof__(gsasl_done) *gsasl_done;
	__typeof__(gsasl_finish) *gsasl_finish;
	__typeof__(gsasl_init) *gsasl_init;
	__typeof__(gsasl_property_fast) *gsasl_property_fast;
	__typeof__(gsasl_property_set) *gsasl_property_set;
	__typeof__(gsasl_step) *gsasl_step;
	__typeof__(gsasl_strerror) *gsasl_strerror;
} lib;

static const struct dynload_sym gsasl_syms[] = {
    DYNLOAD_SYM(struct gsasl_api, gsasl_client_start),
    DYNLOAD_SYM(struct gsasl_api, gsasl_client_support_p),
    DYNLOAD_SYM(struct gsasl_api, gsasl_done),
    DYNLOAD_SYM(struct gsasl_api, gsasl_finish),
    DYNLOAD_SYM(struct gsasl_api, gsasl_init),
    DYNLOAD_SYM(struct gsasl_api, gsasl_property_fast),
    DYNLOAD_SYM(struct gsasl_api, gsasl_property_set),
    DYNLOAD_SYM(struct gsasl_api, gsasl_step),
    DYNLOAD_SYM(struct gsasl_api, gsasl_strerror),
};

/* configure finds GSASL_SONAME (the library the header belongs to). */
static struct dynload gsasl_lib = {
    .soname = GSASL_SONAME,
    .package = GSASL_PACKAGE,
    .feature = "for SMTP AUTH",
    .syms = gsasl_syms,
    .nsyms = sizeof gsasl_syms / sizeof *gsasl_syms,
    .table = &lib,
};

enum mech_impl { IMPL_GSASL, IMPL_XOAUTH2, IMPL_OAUTHBEARER };

struct mech {
	const char *name;
	enum mech_impl impl;
	bool client_first; /* has an initial response (RFC 4422 5) */
	bool cleartext;    /* the secret crosses the wire as it is */
	bool automatic;    /* may be chosen by "auth on" */
	bool needs_secret;
	bool needs_cb; /* -PLUS: channel binding (RFC 5802 6) */
};

/* In order of preference for "auth on". */
static const struct mech mechs[] = {
    {"SCRAM-SHA-256-PLUS", IMPL_GSASL, true, false, true, true, true},
    {"SCRAM-SHA-1-PLUS", IMPL_GSASL, true, false, true, true, true},
    {"SCRAM-SHA-256", IMPL_GSASL, true, false, true, true, false},
    {"SCRAM-SHA-1", IMPL_GSASL, true, false, true, true, false},
    {"PLAIN", IMPL_GSASL, true, true, true, true, false},
    {"LOGIN", IMPL_GSASL, false, true, true, true, false},
    {"CRAM-MD5", IMPL_GSASL, false, false, false, true, false},
    {"GSSAPI", IMPL_GSASL, true, false, false, false, false},
    {"EXTERNAL", IMPL_GSASL, true, false, false, false, false},
    {"XOAUTH2", IMPL_XOAUTH2, true, true, false, true, false},
    {"OAUTHBEARER", IMPL_OAUTHBEARER, true, true, false, true, false},
    {"NTLM", IMPL_GSASL, true, false, false, true, false},
    {"DIGEST-MD5", IMPL_GSASL, false, false, false, true, false},
};

#define NMECHS (sizeof mechs / sizeof mechs[0])

/* Our SCRAM client nonce (libgsasl makes 24 characters); a longer one is
 * not kept, and then no server-first message can pass. */
#define SASL_NONCE_MAX 128

struct sasl_client {
	struct sasl_params p;
	const struct mech *mech;
	Gsasl *ctx;
	Gsasl_session *sess;
	int steps;
	bool done;     /* the mechanism considers the exchange complete */
	bool scram_checked; /* the SCRAM server-first message passed */
	char scram_nonce[SASL_NONCE_MAX + 1]; /* the c-nonce we sent */
	char *pending; /* an initial response too long for the AUTH line */
	char *out;     /* the last base64 we produced (wiped on reuse) */
	size_t out_len;
};

/* ------------------------------------------------------------------------
 * Base64 (RFC 4648 4): encoded and decoded by encode.c; here strictly, as
 * RFC 4954 4 sends it: one line, no white space, whole groups.
 */

/* A new NUL-terminated string; *out_len its length. */
static char *
b64_encode(const unsigned char *in, size_t len, size_t *out_len)
{
	char *out = xmalloc(B64_LINE_SIZE(len) + 1);

	*out_len = b64_line(in, len, out);
	out[*out_len] = '\0';
	return out;
}

/* Decode strictly into a new buffer (NUL-terminated for convenience);
 * NULL when the text is not base64. */
static unsigned char *
b64_decode(const char *in, size_t len, size_t *out_len)
{
	size_t room = len / 4 * 3 + 3, at = 0, o;
	unsigned char *out;
	const char *why;

	if (len % 4 != 0)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' ||
		    in[i] == '\n')
			return NULL;
	out = xmalloc(room + 1);
	o = b64_decode_text(in, len, &at, out, SIZE_MAX, &why);
	if (o == SIZE_MAX) {
		wipe(out, room + 1);
		free(out);
		return NULL;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

static void
free_secret(void *p, size_t n)
{
	if (!p)
		return;
	wipe(p, n);
	free(p);
}

/* Replace c->out with the base64 of raw[0..len). */
static void
set_output(struct sasl_client *c, const void *raw, size_t len)
{
	free_secret(c->out, c->out_len);
	c->out = b64_encode(raw, len, &c->out_len);
}

/* ------------------------------------------------------------------------
 * Choosing the mechanism.
 */

static const struct mech *
mech_find(const char *name)
{
	for (size_t i = 0; i < NMECHS; i++)
		if (str_ieq(mechs[i].name, name))
			return &mechs[i];
	return NULL;
}

/* Is name a whole word of the server's list? */
static bool
offered(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t w = strcspn(p, " ");

		if (w == n && str_iprefix(p, name))
			return true;
		p += w;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* Channel binding means binding to a TLS channel (RFC 5929, RFC 9266). */
static bool
have_cb(const struct sasl_params *p)
{
	bool exporter = p->cb_tls_exporter && *p->cb_tls_exporter;
	bool unique = p->cb_tls_unique && *p->cb_tls_unique;

	return p->tls && (exporter || unique);
}

static bool
cleartext_ok(const struct sasl_params *p)
{
	return p->tls || p->loopback || p->plaintext_ok;
}

static bool
implemented(Gsasl *ctx, const struct mech *m)
{
	return m->impl != IMPL_GSASL ||
	       lib.gsasl_client_support_p(ctx, m->name);
}

static int
refuse_cleartext(const struct mech *m, struct error *err)
{
	return error_set(err, ERROR_CONFIG,
	                 "refusing to send the password in clear text (AUTH "
	                 "%s) over an unencrypted connection; enable TLS or "
	                 "set auth_plaintext on",
	                 m->name);
}

static int
none_offered(const struct sasl_params *p, struct error *err)
{
	if (!p->offered || !*p->offered)
		return error_set(err, ERROR_UNAVAILABLE,
		                 "the server does not offer authentication (no "
		                 "AUTH in its EHLO reply)%s",
		                 p->tls ? ""
		                        : "; many servers offer it only "
		                          "after STARTTLS: enable tls");
	return error_set(err, ERROR_UNAVAILABLE,
	                 "no authentication mechanism in common with the "
	                 "server, which offers: %.200s",
	                 p->offered);
}

/* "auth on": the first of the table the server offers and we may use. */
static int
choose_auto(Gsasl *ctx, const struct sasl_params *p, const struct mech **out,
            struct error *err)
{
	const struct mech *refused = NULL;

	for (size_t i = 0; i < NMECHS; i++) {
		const struct mech *m = &mechs[i];

		if (!m->automatic || !offered(p->offered, m->name) ||
		    (m->needs_cb && !have_cb(p)) || !implemented(ctx, m))
			continue;
		if (m->cleartext && !cleartext_ok(p)) {
			if (!refused)
				refused = m;
			continue;
		}
		*out = m;
		return 0;
	}
	if (refused)
		return refuse_cleartext(refused, err);
	return none_offered(p, err);
}

/* An OAuth2 access token: the standard mechanism first (RFC 7628),
 * else the one Google and Microsoft began with. */
static int
choose_bearer(const struct sasl_params *p, const struct mech **out,
              struct error *err)
{
	const char *name = offered(p->offered, "OAUTHBEARER") ? "OAUTHBEARER"
	                   : offered(p->offered, "XOAUTH2")   ? "XOAUTH2"
	                                                      : NULL;

	if (!p->offered || !*p->offered)
		return none_offered(p, err);
	if (!name)
		return error_set(err, ERROR_UNAVAILABLE,
		                 "the server offers neither OAUTHBEARER nor "
		                 "XOAUTH2, which an OAuth2 account needs (it "
		                 "offers: %.200s)",
		                 p->offered);
	*out = mech_find(name);
	if (!cleartext_ok(p))
		return refuse_cleartext(*out, err);
	return 0;
}

/* A named SCRAM uses its -PLUS form when both sides can. */
static const struct mech *
plus_form(const struct sasl_params *p, const struct mech *m)
{
	char name[32];
	const struct mech *plus;

	if (strncmp(m->name, "SCRAM-", 6) != 0 || m->needs_cb || !have_cb(p))
		return m;
	snprintf(name, sizeof name, "%s-PLUS", m->name);
	plus = mech_find(name);
	return plus && offered(p->offered, plus->name) ? plus : m;
}

static int
choose_named(Gsasl *ctx, const struct sasl_params *p, const struct mech **out,
             struct error *err)
{
	const struct mech *m = mech_find(p->auth);

	if (!m)
		return error_set(err, ERROR_CONFIG,
		                 "authentication mechanism '%.40s' is not "
		                 "supported",
		                 p->auth);
	if (!implemented(ctx, m))
		return error_set(err, ERROR_CONFIG,
		                 "this build of libgsasl does not provide %s",
		                 m->name);
	m = plus_form(p, m);
	if (!offered(p->offered, m->name)) {
		if (!p->offered || !*p->offered)
			return none_offered(p, err);
		return error_set(err, ERROR_UNAVAILABLE,
		                 "the server does not offer AUTH %s (it "
		                 "offers: %.200s)",
		                 m->name, p->offered);
	}
	if (m->cleartext && !cleartext_ok(p))
		return refuse_cleartext(m, err);
	*out = m;
	return 0;
}

/* What the chosen mechanism needs from the account. */
static int
check_credentials(const struct sasl_params *p, const struct mech *m,
                  struct error *err)
{
	bool token = m->impl != IMPL_GSASL;

	if (m->needs_secret && (!p->user || !*p->user))
		return error_set(err, ERROR_CONFIG,
		                 "AUTH %s needs a user name: set user",
		                 m->name);
	if (m->needs_secret && (!p->secret || !*p->secret))
		return error_set(err, ERROR_CONFIG, "AUTH %s needs %s", m->name,
		                 token ? "an OAuth token (passwordeval)"
		                       : "a password");
	if (strcmp(m->name, "NTLM") == 0 && p->user &&
	    strlen(p->user) > SASL_NTLM_USER_MAX)
		return error_set(err, ERROR_CONFIG,
		                 "AUTH NTLM: the user name is longer than %d "
		                 "bytes; use another mechanism",
		                 SASL_NTLM_USER_MAX);
	return 0;
}

bool
sasl_needs_secret(const char *auth)
{
	const struct mech *m = auth ? mech_find(auth) : NULL;

	return !m || m->needs_secret;
}

/* ------------------------------------------------------------------------
 * libgsasl.
 */

static void
prop(Gsasl_session *s, Gsasl_property what, const char *value)
{
	if (value && *value)
		lib.gsasl_property_set(s, what, value);
}

static int
gsasl_error(int rc, const char *what, struct error *err)
{
	return error_set(err, ERROR_SOFTWARE, "SASL: %s: %s", what,
	                 lib.gsasl_strerror(rc));
}

static int
session_open(struct sasl_client *c, struct error *err)
{
	const struct sasl_params *p = &c->p;
	int rc = lib.gsasl_client_start(c->ctx, c->mech->name, &c->sess);

	if (rc != GSASL_OK)
		return gsasl_error(rc, c->mech->name, err);
	prop(c->sess, GSASL_AUTHID, p->user);
	prop(c->sess, GSASL_PASSWORD, p->secret);
	prop(c->sess, GSASL_SERVICE, "smtp");
	prop(c->sess, GSASL_HOSTNAME, p->host);
	/* Only a -PLUS mechanism gets channel-binding data: libgsasl 2.2's
	 * plain SCRAM client fails its first step when the data is set. */
	if (c->mech->needs_cb) {
		prop(c->sess, GSASL_CB_TLS_EXPORTER, p->cb_tls_exporter);
		prop(c->sess, GSASL_CB_TLS_UNIQUE, p->cb_tls_unique);
	}
	return 0;
}

/* libgsasl frees its properties without wiping them; the values it
 * derived from the password go the same way.  Wipe them in place first:
 * the storage is the session's own heap memory, so casting away const is
 * safe here. */
static void
session_wipe(Gsasl_session *s)
{
	static const Gsasl_property secret_props[] = {
	    GSASL_PASSWORD,
	    GSASL_SCRAM_SALTED_PASSWORD,
	    GSASL_SCRAM_SERVERKEY,
	    GSASL_SCRAM_STOREDKEY,
	};

	for (size_t i = 0; i < sizeof secret_props / sizeof *secret_props;
	     i++) {
		char *v = (char *)lib.gsasl_property_fast(s, secret_props[i]);

		if (v)
			wipe(v, strlen(v));
	}
}

/* ------------------------------------------------------------------------
 * SCRAM's server-first message, checked before libgsasl sees it: libgsasl
 * takes any iteration count, and a hostile one keeps us computing for
 * minutes.
 */

static bool
is_scram(const struct sasl_client *c)
{
	return strncmp(c->mech->name, "SCRAM-", 6) == 0;
}

/* The next attribute "X=value" of an RFC 5802 7 message at *p (up to end),
 * its value at *val; false at the end or when it is not "X=". */
static bool
scram_attr(const char **p, const char *end, char *name, const char **val,
           size_t *vlen)
{
	const char *s = *p, *comma;

	if (s >= end || end - s < 2 || s[1] != '=')
		return false;
	*name = s[0];
	comma = memchr(s, ',', (size_t)(end - s));
	*val = s + 2;
	*vlen = (size_t)((comma ? comma : end) - *val);
	*p = comma ? comma + 1 : end;
	return true;
}

/* The c-nonce of our client-first message: "gs2-header n=user,r=NONCE"
 * (RFC 5802 7; the user name has ',' escaped as "=2C", so the first ",r="
 * starts the nonce). */
static void
scram_remember_nonce(struct sasl_client *c, const char *raw, size_t len)
{
	const char *end = raw + len, *p, *comma;
	size_t n;

	c->scram_nonce[0] = '\0';
	for (p = raw; p + 3 <= end; p++)
		if (memcmp(p, ",r=", 3) == 0)
			break;
	if (p + 3 > end)
		return;
	p += 3;
	comma = memchr(p, ',', (size_t)(end - p));
	n = (size_t)((comma ? comma : end) - p);
	if (n == 0 || n > SASL_NONCE_MAX)
		return;
	memcpy(c->scram_nonce, p, n);
	c->scram_nonce[n] = '\0';
}

/* RFC 5802 7: nonce = "r=" c-nonce [s-nonce], printable but ','.  Ours
 * must come back, followed by the server's part. */
static bool
scram_nonce_ok(const struct sasl_client *c, const char *v, size_t n)
{
	size_t ours = strlen(c->scram_nonce);

	if (ours == 0 || n <= ours || memcmp(v, c->scram_nonce, ours) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return false;
	return true;
}

/* RFC 5802 7: iteration-count = "i=" posit-number (%x31-39 *DIGIT). */
static int
scram_iterations(const struct sasl_client *c, const char *v, size_t n,
                 struct error *err)
{
	unsigned long count = 0;
	size_t i;

	if (n == 0 || v[0] < '1' || v[0] > '9')
		return error_set(err, ERROR_PROTOCOL,
		                 "AUTH %s: the server's iteration count is not "
		                 "a positive number",
		                 c->mech->name);
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return error_set(
			    err, ERROR_PROTOCOL,
			    "AUTH %s: the server's iteration count "
			    "is not a number",
			    c->mech->name);
		if (count <= SASL_SCRAM_ITERATIONS_MAX)
			count = count * 10 + (unsigned long)(v[i] - '0');
	}
	if (count > SASL_SCRAM_ITERATIONS_MAX)
		return error_set(
		    err, ERROR_PROTOCOL,
		    "AUTH %s: the server asks for %s%.*s "
		    "iterations, more than the %d mailpost allows "
		    "(a broken or hostile server)",
		    c->mech->name, n > 12 ? "..." : "", (int)(n > 12 ? 12 : n),
		    v + (n > 12 ? n - 12 : 0), SASL_SCRAM_ITERATIONS_MAX);
	return 0;
}

static int
scram_malformed(const struct sasl_client *c, const char *what,
                struct error *err)
{
	return error_set(err, ERROR_PROTOCOL,
	                 "AUTH %s: the server's first message is malformed "
	                 "(%s)",
	                 c->mech->name, what);
}

/* server-first-message = [reserved-mext ","] nonce "," salt ","
 * iteration-count ["," extensions] (RFC 5802 7).  A mandatory extension
 * ("m=") is one we cannot know, so it fails too (5.1). */
static int
scram_check_server_first(const struct sasl_client *c, const char *raw,
                         size_t len, struct error *err)
{
	const char *p = raw, *end = raw + len, *v;
	size_t n, salt_len = 0;
	char name;
	unsigned char *salt;

	if (!scram_attr(&p, end, &name, &v, &n) || name != 'r')
		return scram_malformed(c, "no nonce", err);
	if (!scram_nonce_ok(c, v, n))
		return scram_malformed(c, "its nonce does not extend ours",
		                       err);
	if (!scram_attr(&p, end, &name, &v, &n) || name != 's' || n == 0)
		return scram_malformed(c, "no salt", err);
	salt = b64_decode(v, n, &salt_len);
	if (!salt)
		return scram_malformed(c, "the salt is not base64", err);
	free(salt);
	if (!scram_attr(&p, end, &name, &v, &n) || name != 'i')
		return scram_malformed(c, "no iteration count", err);
	return scram_iterations(c, v, n, err);
}

/* One libgsasl step: raw in, c->out set from raw out. */
static int
gsasl_once(struct sasl_client *c, const char *in, size_t len, struct error *err)
{
	char *raw = NULL;
	size_t raw_len = 0;
	int rc = lib.gsasl_step(c->sess, in, len, &raw, &raw_len);

	if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE) {
		set_output(c, raw, raw_len);
		c->done = rc == GSASL_OK;
		if (is_scram(c) && c->steps == 0)
			scram_remember_nonce(c, raw, raw_len);
	}
	free_secret(raw, raw_len);
	if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE)
		return 0;
	if (rc == GSASL_AUTHENTICATION_ERROR)
		return error_set(err, ERROR_PROTOCOL,
		                 "AUTH %s: the server did not prove that it "
		                 "knows the password (its signature does not "
		                 "verify)",
		                 c->mech->name);
	return error_set(err, ERROR_PROTOCOL,
	                 "AUTH %s: cannot answer the server's challenge: %s",
	                 c->mech->name, lib.gsasl_strerror(rc));
}

/* ------------------------------------------------------------------------
 * Bearer tokens.
 */

/* Google's and Microsoft's XOAUTH2:
 * "user=" U ^A "auth=Bearer " T ^A ^A. */
static void
xoauth2_initial(struct sasl_client *c)
{
	size_t n = 5 + strlen(c->p.user) + 1 + 12 + strlen(c->p.secret) + 2;
	char *d = xmalloc(n + 1);

	snprintf(d, n + 1, "user=%s\001auth=Bearer %s\001\001", c->p.user,
	         c->p.secret);
	set_output(c, d, n);
	free_secret(d, n + 1);
}

/* RFC 7628 3.1: gs2-header "n,a=" saslname "," (RFC 5801 4: ',' and '='
 * escaped as =2C and =3D), then ^A "auth=Bearer " T ^A ^A. */
static void
oauthbearer_initial(struct sasl_client *c)
{
	size_t ul = strlen(c->p.user), tl = strlen(c->p.secret);
	size_t cap = 4 + 3 * ul + 2 + 12 + tl + 2 + 1, n = 0;
	char *d = xmalloc(cap);

	memcpy(d, "n,a=", 4);
	n = 4;
	for (const char *u = c->p.user; *u; u++) {
		if (*u == ',' || *u == '=') {
			memcpy(d + n, *u == ',' ? "=2C" : "=3D", 3);
			n += 3;
		} else {
			d[n++] = *u;
		}
	}
	n += (size_t)snprintf(d + n, cap - n, ",\001auth=Bearer %s\001\001",
	                      c->p.secret);
	set_output(c, d, n);
	free_secret(d, cap);
}

/* After the initial response, a bearer mechanism gets a challenge only
 * when the token was refused: the server's JSON error.  XOAUTH2 answers
 * with an empty line, OAUTHBEARER with ^A (RFC 7628 3.2.3); the server
 * then sends its failure reply. */
static int
bearer_step(struct sasl_client *c, struct error *err)
{
	if (c->steps > 1)
		return error_set(err, ERROR_PROTOCOL,
		                 "AUTH %s: unexpected second challenge",
		                 c->mech->name);
	if (c->mech->impl == IMPL_XOAUTH2)
		set_output(c, "", 0);
	else
		set_output(c, "\001", 1);
	return 0;
}

/* ------------------------------------------------------------------------
 * The exchange.
 */

int
sasl_client_new(struct sasl_client **out, const struct sasl_params *p,
                struct error *err)
{
	struct sasl_client *c = xcalloc(1, sizeof *c);
	int rc;

	*out = NULL;
	if (dynload_open(&gsasl_lib, err) < 0) {
		free(c);
		return -1;
	}
	c->p = *p;
	rc = lib.gsasl_init(&c->ctx);
	if (rc != GSASL_OK) {
		free(c);
		return gsasl_error(rc, "initialisation", err);
	}
	if (p->bearer && (!p->auth || str_ieq(p->auth, "on")))
		rc = choose_bearer(p, &c->mech, err);
	else if (!p->auth || str_ieq(p->auth, "on"))
		rc = choose_auto(c->ctx, p, &c->mech, err);
	else
		rc = choose_named(c->ctx, p, &c->mech, err);
	if (rc == 0)
		rc = check_credentials(p, c->mech, err);
	if (rc == 0 && c->mech->impl == IMPL_GSASL)
		rc = session_open(c, err);
	if (rc < 0) {
		sasl_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
sasl_client_free(struct sasl_client *c)
{
	if (!c)
		return;
	if (c->sess) {
		session_wipe(c->sess);
		lib.gsasl_finish(c->sess);
	}
	if (c->ctx)
		lib.gsasl_done(c->ctx);
	free_secret(c->out, c->out_len);
	free_secret(c->pending, c->pending ? strlen(c->pending) : 0);
	wipe(c, sizeof *c);
	free(c);
}

const char *
sasl_mechanism(const struct sasl_client *c)
{
	return c->mech->name;
}

int
sasl_start(struct sasl_client *c, const char **initial, struct error *err)
{
	size_t line;

	*initial = NULL;
	if (!c->mech->client_first)
		return 0;
	if (c->mech->impl == IMPL_XOAUTH2)
		xoauth2_initial(c);
	else if (c->mech->impl == IMPL_OAUTHBEARER)
		oauthbearer_initial(c);
	else if (gsasl_once(c, NULL, 0, err) < 0)
		return -1;
	if (c->mech->impl != IMPL_GSASL)
		c->done = true;
	/* "AUTH " mech " " response CRLF */
	line = 5 + strlen(c->mech->name) + 1 + c->out_len + 2;
	if (line > SASL_COMMAND_MAX) {
		c->pending = c->out;
		c->out = NULL;
		c->out_len = 0;
		return 0;
	}
	*initial = c->out_len ? c->out : "=";
	return 0;
}

/* The checks every challenge passes before a mechanism sees it. */
static unsigned char *
challenge_decode(struct sasl_client *c, const char *s, size_t len,
                 size_t *raw_len, struct error *err)
{
	unsigned char *raw;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (++c->steps > SASL_STEPS_MAX) {
		error_set(err, ERROR_PROTOCOL,
		          "AUTH %s: more than %d challenges; giving up",
		          c->mech->name, SASL_STEPS_MAX);
		return NULL;
	}
	if (len > (SASL_CHALLENGE_MAX + 2) / 3 * 4) {
		error_set(err, ERROR_PROTOCOL,
		          "AUTH %s: a challenge longer than %d bytes",
		          c->mech->name, SASL_CHALLENGE_MAX);
		return NULL;
	}
	raw = b64_decode(s, len, raw_len);
	if (!raw)
		error_set(err, ERROR_PROTOCOL,
		          "AUTH %s: the server sent a malformed challenge (not "
		          "base64)",
		          c->mech->name);
	return raw;
}

/* The response to the empty challenge that asks for a deferred initial
 * response (RFC 4422 5: "empty challenge"). */
static int
send_pending(struct sasl_client *c, size_t raw_len, struct error *err)
{
	if (raw_len != 0)
		return error_set(err, ERROR_PROTOCOL,
		                 "AUTH %s: expected an empty challenge",
		                 c->mech->name);
	free_secret(c->out, c->out_len);
	c->out = c->pending;
	c->out_len = strlen(c->pending);
	c->pending = NULL;
	return 0;
}

static int
step_raw(struct sasl_client *c, const unsigned char *raw, size_t raw_len,
         struct error *err)
{
	if (c->pending)
		return send_pending(c, raw_len, err);
	if (c->mech->impl != IMPL_GSASL)
		return bearer_step(c, err);
	if (c->done)
		return error_set(err, ERROR_PROTOCOL,
		                 "AUTH %s: a challenge after the exchange was "
		                 "complete",
		                 c->mech->name);
	if (is_scram(c) && !c->scram_checked) {
		if (scram_check_server_first(c, (const char *)raw, raw_len,
		                             err) < 0)
			return -1;
		c->scram_checked = true;
	}
	return gsasl_once(c, (const char *)raw, raw_len, err);
}

int
sasl_step(struct sasl_client *c, const char *challenge, size_t len,
          const char **response, struct error *err)
{
	size_t raw_len = 0;
	unsigned char *raw;
	int rc;

	*response = NULL;
	raw = challenge_decode(c, challenge, len, &raw_len, err);
	if (!raw)
		return SASL_CANCEL;
	rc = step_raw(c, raw, raw_len, err);
	free_secret(raw, raw_len + 1);
	if (rc < 0)
		return SASL_CANCEL;
	if (c->out_len + 2 > SASL_RESPONSE_MAX) {
		error_set(err, ERROR_PROTOCOL,
		          "AUTH %s: our response would be longer than %d bytes",
		          c->mech->name, SASL_RESPONSE_MAX);
		return SASL_CANCEL;
	}
	*response = c->out;
	return 0;
}

int
sasl_success(struct sasl_client *c, struct error *err)
{
	if (c->done && !c->pending)
		return 0;
	return error_set(err, ERROR_PROTOCOL,
	                 "the server accepted AUTH %s before the exchange was "
	                 "complete%s",
	                 c->mech->name,
	                 strncmp(c->mech->name, "SCRAM-", 6) == 0
	                     ? " (it did not prove that it knows the password)"
	                     : "");
}

/* ------------------------------------------------------------------------
 * Failures and the transcript.
 */

/* Does s[0..len) contain the secret or the last response we sent? */
static bool
leaks(const struct sasl_client *c, const char *s, size_t len)
{
	const char *needles[2] = {NULL, NULL};

	if (!c)
		return false;
	needles[0] = c->p.secret;
	needles[1] = c->out_len >= 4 ? c->out : NULL;
	for (size_t k = 0; k < 2; k++) {
		size_t n = needles[k] ? strlen(needles[k]) : 0;

		if (n == 0 || n > len)
			continue;
		for (size_t i = 0; i + n <= len; i++)
			if (memcmp(s + i, needles[k], n) == 0)
				return true;
	}
	return false;
}

/* Who tried what where, for a refusal: " as alice with PLAIN at
 * mail.example.org (account work)". */
static void
describe_attempt(const struct sasl_client *c, char *out, size_t n)
{
	const struct sasl_params *p = &c->p;
	bool user = p->user && *p->user;
	bool account = p->account && *p->account && !p->private_names;
	const char *who =
	    p->private_names ? "the system configuration's user" : p->user;

	snprintf(out, n, "%s%.100s with %s%s%.100s%s%.100s%s",
	         user ? " as " : "", user ? who : "", c->mech->name,
	         p->host && *p->host ? " at " : "", p->host ? p->host : "",
	         account ? " (account " : "", account ? p->account : "",
	         account ? ")" : "");
}

/* The other mechanisms the server offered, to try instead:
 * "; the server also offers LOGIN, CRAM-MD5", or that there is none.
 * True when there is one. */
static bool
other_mechanisms(const struct sasl_client *c, char *out, size_t n)
{
	size_t o = 0;
	const char *p = c->p.offered ? c->p.offered : "";

	out[0] = '\0';
	while (*p) {
		size_t w = strcspn(p, " ");

		if (w > 0 && !(w == strlen(c->mech->name) &&
		               str_iprefix(p, c->mech->name))) {
			int k = snprintf(out + o, n - o, "%s%.*s",
			                 o ? ", " : "; the server also offers ",
			                 (int)w, p);

			if (k < 0 || (size_t)k >= n - o)
				break;
			o += (size_t)k;
		}
		p += w;
		p += strspn(p, " ");
	}
	if (o == 0)
		snprintf(out, n, "; the server offers no other mechanism");
	return o > 0;
}

int
sasl_failure(const struct sasl_client *c, int code, const char *text,
             struct error *err)
{
	char said[300], who[400] = "", others[300] = "";
	bool choice = false;

	str_copy(said, sizeof said, text ? text : "");
	if (leaks(c, said, strlen(said)))
		str_copy(said, sizeof said, "<redacted>");
	if (c) {
		describe_attempt(c, who, sizeof who);
		choice = other_mechanisms(c, others, sizeof others);
	}
	if (code >= 400 && code < 500)
		return error_set(err, ERROR_TEMPFAIL,
		                 "authentication%s failed for now: %d %s; try "
		                 "again later",
		                 who, code, said);
	if (code == 534)
		return error_set(err, ERROR_NOPERM,
		                 "authentication%s refused, the mechanism too "
		                 "weak for the server: %d %s%s; choose a "
		                 "stronger one with --auth=MECH",
		                 who, code, said, others);
	if (code == 538)
		return error_set(
		    err, ERROR_NOPERM,
		    "authentication%s refused, the server requires "
		    "an encrypted connection for it: %d %s; enable "
		    "tls",
		    who, code, said);
	/* A fresh token refused: the login is for another mailbox, or
	 * without the mail scope; a password cannot be the cause. */
	if (c && c->p.bearer)
		return error_set(err, ERROR_NOPERM,
		                 "authentication%s failed: %d %s; the server "
		                 "refused the OAuth2 access token: check that "
		                 "user is the mailbox the login was for, and "
		                 "the scope (oauth2_scope)",
		                 who, code, said);
	return error_set(err, ERROR_NOPERM,
	                 "authentication%s failed: %d %s%s; check the user "
	                 "name and the password%s",
	                 who, code, said, others,
	                 choice ? ", or choose another mechanism with "
	                          "--auth=MECH"
	                        : "");
}

/* out = a[0..alen) followed by " <redacted>" when asked; censored. */
static void
set_shown(char *out, size_t n, const char *a, size_t alen, bool redacted)
{
	if (n == 0)
		return;
	snprintf(out, n, "%.*s%s", (int)alen, a, redacted ? " <redacted>" : "");
	str_censor(out, strlen(out));
}

void
sasl_redact_client(const char *line, size_t len, char *out, size_t n)
{
	size_t mlen;

	if (len >= 5 && str_iprefix(line, "AUTH ")) {
		mlen = strcspn(line + 5, " ");
		if (mlen > len - 5)
			mlen = len - 5;
		if (mlen > 20) /* RFC 4422 3.1: names are at most 20 */
			mlen = 20;
		set_shown(out, n, line, 5 + mlen, 5 + mlen < len);
		return;
	}
	if (len == 1 && line[0] == '*')
		set_shown(out, n, "*", 1, false);
	else
		set_shown(out, n, "<redacted>", 10, false);
}

void
sasl_redact_server(const struct sasl_client *c, const char *line, size_t len,
                   char *out, size_t n)
{
	if (len >= 3 && memcmp(line, "334", 3) == 0)
		set_shown(out, n, line, 3, len > 4);
	else if (leaks(c, line, len))
		set_shown(out, n, line, len < 3 ? len : 3, true);
	else
		set_shown(out, n, line, len, false);
}

/* raw[0..len) as text: printable ASCII as it is, a NUL as "\0" (PLAIN's
 * separators, RFC 4616 2), a backslash doubled, any other byte "\xHH". */
static void
show_decoded(const unsigned char *raw, size_t len, char *out, size_t n,
             size_t *o)
{
	for (size_t i = 0; i < len && *o + 5 < n; i++) {
		unsigned char ch = raw[i];

		if (ch == 0) {
			memcpy(out + *o, "\\0", 2);
			*o += 2;
		} else if (ch == '\\') {
			memcpy(out + *o, "\\\\", 2);
			*o += 2;
		} else if (ch >= 0x20 && ch < 0x7f) {
			out[(*o)++] = (char)ch;
		} else {
			out[(*o)++] = '\\';
			out[(*o)++] = 'x';
			hex_pair(out + *o, ch);
			*o += 2;
		}
	}
	out[*o] = '\0';
}

void
sasl_show_line(const char *line, size_t len, bool server, char *out, size_t n)
{
	size_t start = 0, o, rawlen = 0;
	unsigned char *raw;

	if (n == 0)
		return;
	/* Where the base64 starts: after "334 " or "AUTH MECH ". */
	if (server && len >= 4 && memcmp(line, "334 ", 4) == 0)
		start = 4;
	else if (server)
		start = len;
	else if (len >= 5 && str_iprefix(line, "AUTH ")) {
		start = 5 + strcspn(line + 5, " ");
		start = start < len ? start + 1 : len;
	}
	snprintf(out, n, "%.*s", (int)len, line);
	str_censor(out, strlen(out));
	raw = start < len && !(len - start == 1 && line[start] == '=')
	          ? b64_decode(line + start, len - start, &rawlen)
	          : NULL;
	if (!raw)
		return;
	o = strlen(out);
	if (o + 16 < n) {
		memcpy(out + o, "   [decoded: ", 13);
		o += 13;
		show_decoded(raw, rawlen, out, n - 1, &o);
		out[o++] = ']';
		out[o] = '\0';
	}
	wipe(raw, rawlen);
	free(raw);
}
