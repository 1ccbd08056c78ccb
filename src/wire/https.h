/*
 * https.h - one HTTPS exchange through libcurl (the GnuTLS build: one TLS
 * stack): a POST of a form, for an OAuth2 token endpoint (oauth2.c), or a
 * GET of a document, for an MTA-STS policy (mtasts.c) or an autoconfig
 * document (--configure).
 *
 * libcurl is the only library this module uses and the only module that
 * uses it.  It is not linked: https_post loads libcurl-gnutls.so.4
 * (dynload.h) the first time it runs, so a send that needs no token from
 * the network never maps it.
 *
 * What a request may do, whatever the URL or the server says:
 *   - https:// only, for the URL and any redirect (CURLOPT_PROTOCOLS_STR);
 *     no redirect is followed: a 3xx answer is returned as it is;
 *   - connect_addr, when given, is where the connection goes (a numeric
 *     address, never looked up), while the URL's host still names the
 *     server: the TLS server name (SNI), the name its certificate must
 *     carry, and the Host header.  A caller that resolved the name itself
 *     (wire/dns.h: the resolver of the account, not the system's) says so
 *     here;
 *   - the server's certificate verified against trust_file, or the system
 *     trust store tls.c uses (tls_system_trust_file), and its name checked;
 *   - no ~/.netrc, no cookies, no verbose output, no compressed answer;
 *   - the answer read into one buffer of max_body bytes, the transfer
 *     stopped as soon as more arrives;
 *   - timeout_s seconds for the whole exchange, connection included;
 *   - a proxy: `proxy` when given; else the environment's https_proxy and
 *     no_proxy as libcurl reads them, except in a run that started setgid,
 *     which uses none (the caller's environment does not steer the system
 *     configuration's account).
 * The form's values may be secrets (a refresh token, a client secret):
 * the body is built in a buffer of this module's, handed to libcurl
 * without a copy (CURLOPT_POSTFIELDS), and wiped after the exchange.
 *
 * Errors (every message names the URL's host, never a field's value):
 *   ERROR_CONFIG       a URL that is not https://, a trust file that
 *                      cannot be read;
 *   ERROR_TEMPFAIL     the host not resolved, no connection, a timeout, a
 *                      connection reset or cut short;
 *   ERROR_PROTOCOL     the certificate not verified ("... not verified
 *                      (reason); ..."), the TLS handshake failed, an
 *                      answer larger than max_body;
 *   ERROR_UNAVAILABLE  libcurl cannot be loaded ("install it (Debian:
 *                      libcurl3-gnutls)"), or this build has no libcurl.
 */
#ifndef MAILPOST_HTTPS_H
#define MAILPOST_HTTPS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define HTTPS_BODY_MAX (64 * 1024) /* an answer larger than this: error */
#define HTTPS_TIMEOUT 30           /* seconds for a whole exchange */
/* The longest URL taken (an endpoint of a configuration file). */
#define HTTPS_URL_MAX 2048
/* The longest Content-Type value kept ("text/plain; charset=utf-8"). */
#define HTTPS_TYPE_MAX 127
/* The longest host name shown in a message. */
#define HTTPS_HOST_MAX 256

/* A form field, application/x-www-form-urlencoded; value may be secret. */
struct https_field {
	const char *name;
	const char *value;
};

struct https_request {
	const char *url; /* https:// only; no redirects followed */
	bool get;        /* a GET of url; fields and nfields unused */
	const struct https_field *fields; /* the POST's form */
	size_t nfields;
	const char *trust_file; /* PEM CAs; NULL: the system trust store */
	const char *proxy; /* "socks5h://host:port" or NULL (the environment's
	                      https_proxy honoured unless started setgid) */
	int timeout_s;     /* 0: HTTPS_TIMEOUT */
	size_t max_body;   /* 0: HTTPS_BODY_MAX */
	bool private_names; /* the system configuration's, for a caller
	                       outside its group: messages call trust_file
	                       "(hidden)", as tls.h's do */
	/* A numeric IPv4 or IPv6 address to connect to for the URL's host;
	 * NULL: the system resolver's address of that host. */
	const char *connect_addr;
};

/* The answer: its HTTP status and body (NUL-terminated after len bytes;
 * owned by the caller, released with https_response_clear). */
struct https_response {
	long status;
	char *body;
	size_t len;
	/* The Content-Type header's value, censored, cut at
	 * HTTPS_TYPE_MAX; "" when the answer has none. */
	char content_type[HTTPS_TYPE_MAX + 1];
};

/* Load libcurl now (once), so that a caller can say what is missing
 * before it starts a dialogue: 0, or -1 with ERROR_UNAVAILABLE. */
int https_load(struct error *err);

/* POST r's form to r->url (or GET r->url when r->get) and read the
 * answer into *out, whatever its status (a 400 with an OAuth2 error, a
 * 404, are answers, not failures here).  0, or -1 with err as above
 * (ERROR_CONFIG also for a connect_addr that is not a numeric address)
 * and *out empty. */
int https_post(const struct https_request *r, struct https_response *out,
               struct error *err);

/* https_post of a copy of r with get set: a GET whatever r->get says. */
int https_get(const struct https_request *r, struct https_response *out,
              struct error *err);

/* The port of an https:// URL without one: 443, or in the test suite the
 * value of MAILPOST_TEST_HTTPS_PORT (1..65535; ignored by a run that
 * started setgid), where its loopback server (tests/lib/httpsd.py)
 * listens.  A caller that builds a URL from a name (mta-sts.DOMAIN,
 * autoconfig.DOMAIN) writes ":PORT" after the host when this is not 443. */
int https_port(void);

/* Wipe and free the body (it may hold tokens); r is then empty. */
void https_response_clear(struct https_response *r);

/* The host (and ":port" when the URL gives one) of url, for messages:
 * what stands between "scheme://" (and any "user@") and the path, cut to
 * n - 1 bytes, censored; "" when there is none. */
char *https_url_host(const char *url, char *out, size_t n);

#endif
