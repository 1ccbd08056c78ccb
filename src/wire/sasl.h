/*
 * sasl.h - the client side of SMTP AUTH (RFC 4954) with SASL (RFC 4422).
 *
 * This module chooses a mechanism and computes the responses; the SMTP
 * layer owns the wire.  It is the only user of libgsasl, which it loads
 * when a session first authenticates (a send without AUTH never maps
 * it).  XOAUTH2 and
 * OAUTHBEARER (RFC 7628), which libgsasl lacks, are done here by hand.
 *
 * How the SMTP layer drives an exchange:
 *
 *     sasl_client_new(&c, &params, err)       after EHLO (inside TLS)
 *     sasl_start(c, &ir, err)
 *         send "AUTH <sasl_mechanism(c)>" plus " <ir>" when ir != NULL
 *     loop on the reply:
 *         334 TEXT: rc = sasl_step(c, TEXT, len, &resp, err)
 *                   rc == 0:           send resp as a line (may be "")
 *                   rc == SASL_CANCEL: send "*", read the reply (501),
 *                                      fail with err
 *         235:      sasl_success(c, err); 0 means authenticated
 *         other:    sasl_failure(c, code, text, err); fail with err
 *     sasl_client_free(c)
 *
 * For the transcript, every AUTH line and 334 line goes through
 * sasl_redact_client / sasl_redact_server, and so does every reply while
 * the exchange runs (a server may echo a response back).
 *
 * Errors (struct error, with these kinds):
 *   ERROR_CONFIG       the account cannot authenticate as configured:
 *                      unknown mechanism, no user or password, or a
 *                      clear-text mechanism on an unencrypted connection
 *                      (the fix is in the config: enable TLS or set
 *                      auth_plaintext on; retrying cannot help);
 *   ERROR_UNAVAILABLE  the server offers no mechanism we may use, or not
 *                      the one configured (as msmtp: exit 69; the message
 *                      lists what the server offers); or libgsasl, which
 *                      is loaded by sasl_client_new (dynload.h), cannot
 *                      be loaded;
 *   ERROR_PROTOCOL     malformed or oversized challenges, too many steps,
 *                      a SCRAM server that fails to prove itself;
 *   ERROR_NOPERM       the server refused the credentials (535, 534, 538);
 *   ERROR_TEMPFAIL     a 4xx reply to AUTH (454).
 * No message ever holds the secret, a response or a challenge.
 */
#ifndef MAILPOST_SASL_H
#define MAILPOST_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Ceilings on what the server may make us do. */
#define SASL_CHALLENGE_MAX 16384 /* decoded bytes of one challenge */
#define SASL_STEPS_MAX 10        /* 334 challenges in one exchange */
/* SCRAM's iteration count (RFC 5802 5.1, 7) is work the server sets and
 * the client does: one HMAC each, so i=2147483647 means many minutes of
 * computing, past every timeout.  RFC 7677 4 asks for at least 4096;
 * servers use 4096 to a few tens of thousands, and OWASP's advice for
 * PBKDF2-HMAC-SHA-256 is 600,000.  A million costs a second or two here; a
 * server asking for more is broken or hostile (ERROR_PROTOCOL). */
#define SASL_SCRAM_ITERATIONS_MAX 1000000
/* RFC 4954 4: the AUTH command is held to RFC 5321's 512 octets
 * (4.5.3.1.4), CRLF included; a longer initial response is sent after an
 * empty 334 instead.  Responses may be up to 12288 octets (RFC 4954 4). */
#define SASL_COMMAND_MAX 512
#define SASL_RESPONSE_MAX 12288
/* libntlm (under libgsasl's NTLM) builds its answer in a fixed 1024-byte
 * buffer holding the user name in UTF-16 beside the other fields, and
 * reads past its end (found by tests/fuzz/sasl_fuzz.c) from about 430
 * bytes of user name; longer names are refused. */
#define SASL_NTLM_USER_MAX 256

/* sasl_step's "send '*' to cancel" result (RFC 4954 4). */
#define SASL_CANCEL 1

struct sasl_params {
	const char *auth;    /* "on" (choose) or a mechanism name, any case */
	const char *offered; /* the server's EHLO AUTH list, space-separated */
	bool tls;            /* the connection is encrypted (and verified) */
	bool loopback;       /* the path to the server stays on this
	                      * machine (conn_is_local) */
	bool plaintext_ok;   /* auth_plaintext on */
	const char *user;
	const char *secret; /* password, or the token for XOAUTH2 and
	                     * OAUTHBEARER; NULL for EXTERNAL and GSSAPI */
	bool bearer;        /* the secret is an OAuth2 access token (an
	                     * account with oauth2_provider): "on" then
	                     * means OAUTHBEARER when offered, else XOAUTH2 */
	const char *host;   /* the server's name (GSSAPI: smtp@host) */
	const char *account; /* the account's name, for messages; or NULL */
	bool private_names;  /* the user and the account are the system
	                      * configuration's, which the reader of the
	                      * message may not see: neither is named */
	/* Channel binding data, base64, from the TLS layer; NULL when there
	 * is none.  With either, SCRAM-*-PLUS becomes possible. */
	const char *cb_tls_exporter; /* RFC 9266 (TLS 1.3 and 1.2) */
	const char *cb_tls_unique;   /* RFC 5929 (TLS 1.2 only) */
};

struct sasl_client;

/* Choose the mechanism (see the ERROR_ kinds above).  With auth "on", the
 * strongest offered: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (both only with
 * channel binding data), SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN.
 * CRAM-MD5, GSSAPI, EXTERNAL, XOAUTH2, OAUTHBEARER, NTLM and DIGEST-MD5
 * only when named.  With `bearer`, "on" (or NULL) means OAUTHBEARER (RFC
 * 7628, the standard) when offered, else XOAUTH2; a server that offers
 * neither is ERROR_UNAVAILABLE, as for any mechanism it lacks.  A named
 * SCRAM becomes its -PLUS form when the server offers it and channel
 * binding data is given.  PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER put the
 * secret on the wire as it is: without TLS they need a loopback peer or
 * plaintext_ok.  The strings in p must stay valid until sasl_client_free. */
int sasl_client_new(struct sasl_client **out, const struct sasl_params *p,
                    struct error *err);

/* Wipes every buffer that held a secret or a response.  NULL: no-op. */
void sasl_client_free(struct sasl_client *c);

/* The chosen mechanism, upper case ("SCRAM-SHA-256-PLUS"). */
const char *sasl_mechanism(const struct sasl_client *c);

/* True when the mechanism needs a secret (so the caller knows whether to
 * run secret_get first): false for EXTERNAL and GSSAPI.  `auth` is the
 * configured value; "on" needs one. */
bool sasl_needs_secret(const char *auth);

/* Begin: *initial is the base64 initial response for the AUTH line ("="
 * for an empty one, RFC 4954 4), or NULL when the mechanism waits for the
 * server (LOGIN, CRAM-MD5) or the line would pass SASL_COMMAND_MAX.  The
 * string belongs to c and is valid until the next call. */
int sasl_start(struct sasl_client *c, const char **initial, struct error *err);

/* One 334 challenge: the text after "334 " (base64, possibly empty).
 * Returns 0 with *response (base64, possibly "", owned by c until the
 * next call) to send as a line; or SASL_CANCEL with err filled: bad
 * base64, a challenge over SASL_CHALLENGE_MAX, more than SASL_STEPS_MAX
 * steps, a challenge after the mechanism finished, a malformed SCRAM
 * server-first message (checked here before libgsasl computes anything:
 * no nonce extending ours, no salt, an iteration count missing, zero, not
 * a number or over SASL_SCRAM_ITERATIONS_MAX), or the mechanism's own
 * failure (a SCRAM server signature that does not verify). */
int sasl_step(struct sasl_client *c, const char *challenge, size_t len,
              const char **response, struct error *err);

/* The server said 235: 0 when the mechanism agrees the exchange is
 * complete; -1 (ERROR_PROTOCOL) when it is not, e.g. SCRAM accepted
 * without the server proving it knows the password. */
int sasl_success(struct sasl_client *c, struct error *err);

/* A negative reply to AUTH or to a response: fill err with its kind and a
 * message in words, quoting the server's text (censored; the secret
 * removed).  454 and other 4xx: ERROR_TEMPFAIL; 534: mechanism too weak;
 * 538: encryption required; 535 and other 5xx: ERROR_NOPERM.  The message
 * names the user, the mechanism, the server and the account, and the
 * other mechanisms the server offered ("authentication as alice with PLAIN
 * at mail.example.org (account work) failed: 535 5.7.8 ...; the server
 * also offers LOGIN, CRAM-MD5; check the user name and the password, or
 * choose another mechanism with --auth=MECH"; with private_names "as the
 * system configuration's user with PLAIN at mail.example.org").  c may be
 * NULL.  Returns -1. */
int sasl_failure(const struct sasl_client *c, int code, const char *text,
                 struct error *err);

/* What the transcript shows in place of a client line of the exchange:
 * "AUTH MECH <redacted>" for an AUTH with an initial response, "AUTH MECH"
 * without one, "*" for a cancel, "<redacted>" for any response.  out is
 * always NUL-terminated, printable, at most n - 1 bytes. */
void sasl_redact_client(const char *line, size_t len, char *out, size_t n);

/* Likewise for a server line: "334 <redacted>" for a challenge; any other
 * line as it is, unless it contains the secret or the last response (then
 * its code and "<redacted>").  c may be NULL. */
void sasl_redact_server(const struct sasl_client *c, const char *line,
                        size_t len, char *out, size_t n);

/* For --show-auth only (the terminal of a user who asked to see the
 * credentials): a line of the exchange as it went, followed by its
 * base64 part decoded, "   [decoded: \0alice\0secret]", NUL and other
 * unprintable bytes escaped.  `server`: a reply line (only a 334's text
 * is decoded); else a client line ("AUTH MECH IR" or a response).  out is
 * always NUL-terminated and printable. */
void sasl_show_line(const char *line, size_t len, bool server, char *out,
                    size_t n);

#endif
