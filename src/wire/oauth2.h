/*
 * oauth2.h - the client side of OAuth 2.0 at a token endpoint: refresh
 * (RFC 6749 6), the device authorization grant (RFC 8628) and the
 * exchange of an authorization code with its PKCE verifier (RFC 6749
 * 4.1.3, RFC 7636), over https.h; answers read with json-c (jsonlib.h).
 *
 * It takes endpoints and ids and gives tokens: it knows no account and
 * stores nothing (delivery/bearer.c and cmd/oauthlogin.c do).  A client
 * secret goes in the POST body (client_secret_post), never in a URL.
 *
 * Every answer is untrusted: at most HTTPS_BODY_MAX bytes of JSON, at
 * most OAUTH2_JSON_DEPTH deep, one object; each member used has the type
 * the RFC gives it (expires_in and interval also as a string of digits,
 * as some servers send them), numbers in bounds; a token is a b64token
 * (RFC 6750 2.1: letters, digits, "-._~+/", then "="s) of at most
 * OAUTH2_TOKEN_MAX bytes, since an access token goes on an SMTP line;
 * a refresh token or device code printable ASCII without space.
 *
 * Errors (the rules of every function below):
 *   the server's `error` (RFC 6749 5.2, RFC 8628 3.5):
 *     invalid_grant (a revoked or expired refresh token, a used code):
 *       ERROR_NOPERM;
 *     invalid_client, unauthorized_client, invalid_scope,
 *     invalid_request, unsupported_grant_type: ERROR_CONFIG;
 *     temporarily_unavailable, server_error: ERROR_TEMPFAIL;
 *     access_denied: ERROR_NOPERM; expired_token: ERROR_TEMPFAIL;
 *     anything else: ERROR_PROTOCOL;
 *   a 5xx without such an error: ERROR_TEMPFAIL;
 *   a malformed, oversized or token-less answer, another status:
 *     ERROR_PROTOCOL;
 *   the exchange itself: https.h's errors (ERROR_TEMPFAIL for the
 *   network, ERROR_UNAVAILABLE without libcurl or json-c).
 * err->msg names the endpoint's host and quotes the server's `error` and
 * `error_description` (printable ASCII only, at most
 * OAUTH2_DESCRIPTION_MAX bytes), never a token, code or secret.
 */
#ifndef MAILPOST_OAUTH2_H
#define MAILPOST_OAUTH2_H

#include <stdbool.h>

#include "error.h"

/* The longest token taken: SECRET_MAX (account/secret.h), the room of a
 * secret, where a token is kept (bearer.c checks that they agree). */
#define OAUTH2_TOKEN_MAX 8192
/* JSON nesting: a token answer is one flat object. */
#define OAUTH2_JSON_DEPTH 8
/* The most of error_description quoted. */
#define OAUTH2_DESCRIPTION_MAX 200
/* The most of `error` quoted (RFC 6749 5.2 gives no bound). */
#define OAUTH2_ERROR_CODE_MAX 64
/* expires_in (and a device code's lifetime) taken up to ten years; a
 * larger number is not a lifetime. */
#define OAUTH2_EXPIRES_MAX (10LL * 366 * 24 * 3600)
/* A device code's user code, verification URI, and poll interval. */
#define OAUTH2_USER_CODE_MAX 64
#define OAUTH2_URI_MAX 2048
#define OAUTH2_INTERVAL_DEFAULT 5 /* RFC 8628 3.2 */
#define OAUTH2_INTERVAL_MAX 3600

struct oauth2_client {
	const char *client_id;
	const char *client_secret; /* NULL: a public client; sent as
	                              client_secret in the POST body */
	const char *token_endpoint;
	const char *device_endpoint; /* NULL: no device grant */
	const char *authorize_endpoint;
	const char *scope;      /* NULL: none sent */
	const char *trust_file; /* as https_request */
	const char *proxy;
	int timeout_s;
	bool private_names; /* as https_request */
};

struct oauth2_tokens {
	char *access_token;   /* secret */
	char *refresh_token;  /* secret; NULL when the answer carried none
	                         (keep the old one) */
	long long expires_at; /* unix seconds; 0: the server gave no
	                         expires_in */
};

/* Wipe and free the tokens; t is then empty. */
void oauth2_tokens_clear(struct oauth2_tokens *t);

/* RFC 6749 6: a new access token (and maybe a rotated refresh token) for
 * refresh_token.  0 with *out filled, or -1 as above (invalid_grant: the
 * login is gone; ERROR_NOPERM). */
int oauth2_refresh(const struct oauth2_client *c, const char *refresh_token,
                   struct oauth2_tokens *out, struct error *err);

/* RFC 8628 3.1-3.2 */
struct oauth2_device {
	char *device_code; /* secret */
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete; /* NULL when not given */
	int interval;                    /* seconds, default 5 */
	long long expires_at;            /* unix seconds */
};

/* Wipe and free; d is then empty. */
void oauth2_device_clear(struct oauth2_device *d);

/* Ask c->device_endpoint for a device code (client_id, scope): 0 with
 * *out filled, or -1 as above; ERROR_CONFIG when c has no device
 * endpoint.  verification_uri may come as verification_url (Google). */
int oauth2_device_start(const struct oauth2_client *c,
                        struct oauth2_device *out, struct error *err);

/* RFC 8628 3.4-3.5: one poll.  0 with *state DONE (out filled), PENDING
 * or SLOW_DOWN (the caller adds 5 s to its interval); -1 for
 * expired_token (ERROR_TEMPFAIL), access_denied (ERROR_NOPERM), the rest
 * as oauth2_refresh. */
enum oauth2_poll {
	OAUTH2_POLL_DONE,
	OAUTH2_POLL_PENDING,
	OAUTH2_POLL_SLOW_DOWN
};
int oauth2_device_poll(const struct oauth2_client *c,
                       const struct oauth2_device *d, enum oauth2_poll *state,
                       struct oauth2_tokens *out, struct error *err);

/* RFC 6749 4.1.3 with PKCE (RFC 7636 4.5): the code from the redirect,
 * the redirect_uri it was asked with, the verifier of its challenge. */
int oauth2_code_exchange(const struct oauth2_client *c, const char *code,
                         const char *redirect_uri, const char *code_verifier,
                         struct oauth2_tokens *out, struct error *err);

/* Pure (no network), for the unit tests and the fuzz target: judge one
 * token-endpoint answer, its HTTP status and body[0..len).  0 with *out
 * filled (a 200 with an access token), or -1 as above, *out empty.
 * Messages say "the token endpoint" where the functions above also name
 * its host. */
int oauth2_parse_token_answer(long status, const char *body, size_t len,
                              struct oauth2_tokens *out, struct error *err);

/* The same for a device authorization answer (RFC 8628 3.2): 0 with *out
 * filled (device_code as a refresh token is checked, user_code printable
 * ASCII of at most OAUTH2_USER_CODE_MAX bytes, the URIs https:// of at
 * most OAUTH2_URI_MAX, expires_in required, interval 1 to
 * OAUTH2_INTERVAL_MAX, absent or 0: OAUTH2_INTERVAL_DEFAULT), or -1 as
 * above, *out empty; "the device endpoint". */
int oauth2_parse_device_answer(long status, const char *body, size_t len,
                               struct oauth2_device *out, struct error *err);

#endif
