/*
 * bearer.h - the OAuth2 access token an account authenticates with at send
 * time (an account with oauth2_provider set).
 *
 * The token comes from the cache (tokstore.h) while it has more than
 * BEARER_MARGIN seconds left: then nothing is loaded (no libcurl, no
 * json-c) and nothing crosses the network.  Otherwise it is refreshed
 * with the stored refresh token (RFC 6749 6, oauth2.h), and the new
 * tokens are kept in this order, so that no failure in between loses the
 * login:
 *
 *   1. a rotated refresh token (the answer carried one) replaces the old
 *      one: the server may already have revoked the old one, so from here
 *      on only the new one logs in;
 *   2. the new access token is cached (a failure costs only a refresh
 *      next time: it is said in bearer_info.warning, not an error);
 *   3. the token is used.
 *
 * Two runs at once (a burst of cron mail, a flush beside a send) must not
 * both refresh: with rotation the slower one's refresh token would be
 * the one the server just revoked, and storing it would lose the login.
 * The refresh is therefore done under the store's lock (tokstore_lock),
 * and the cache is read again once the lock is held: the second run uses
 * the token the first one got.
 *
 * Errors (struct error; every message names the account, never a
 * token or the client secret):
 *   ERROR_NOPERM   no login yet, or the token endpoint refused the refresh
 *                  token (invalid_grant: revoked, expired, the password
 *                  changed), with the exact command to log in again:
 *                  "...; log in again: mailpost [-C FILE] --oauth2-login
 *                  -A NAME" (-C when the account's file is not the one
 *                  mailpost finds without it);
 *   ERROR_TEMPFAIL the token endpoint cannot be reached, timed out,
 *                  answered 5xx or temporarily_unavailable, or gave an
 *                  answer that is malformed, oversized or without a token
 *                  (a broken or intercepted answer from an endpoint that
 *                  worked before: worth another attempt, so the message is
 *                  queued rather than given up);
 *   ERROR_CONFIG   the account's OAuth2 settings are incomplete
 *                  (provider_resolve), or the endpoint refused the client
 *                  (invalid_client, unauthorized_client, invalid_scope);
 *   ERROR_UNAVAILABLE  libcurl or json-c cannot be loaded, or this build
 *                  has no OAuth2 (what to install is said);
 *   ERROR_TEMPFAIL too for the system configuration's account in a run
 *                  of a caller outside the group (account.hidden) when the
 *                  cached token will not do: the machine's token files are
 *                  written by root only (a file the caller's run wrote
 *                  would be the caller's), so the message waits in the
 *                  spool for root's queue run, which refreshes;
 *   the store's own kinds (ERROR_IOERR, ERROR_CONFIG) when a token cannot
 *                  be read or a rotated refresh token cannot be stored:
 *                  then the old one is likely dead, and the message says
 *                  to log in again.
 */
#ifndef MAILPOST_BEARER_H
#define MAILPOST_BEARER_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "error.h"
#include "oauth2.h"
#include "provider.h"
#include "secret.h"

#define BEARER_MARGIN 120 /* refresh when the cached token has less left */
/* A token endpoint that gives no expires_in (RFC 6749 5.1 makes it
 * RECOMMENDED only): the token is cached for this long, the lifetime
 * Google and Microsoft give theirs.  A server that refuses it sooner
 * costs one refresh (relay.c's retry). */
#define BEARER_DEFAULT_LIFETIME 3600

/* Where the token came from, for the transcript (bearer_describe). */
struct bearer_info {
	bool from_cache;
	long long expires_at; /* unix seconds */
	/* "" or a problem that did not stop the send (the cache could not
	 * be written): for the transcript. */
	char warning[ERROR_MSG_MAX];
};

/* The access token for account a's AUTH, into out (secret_free it).
 * `refused`: NULL, or the token the server just refused: it is dropped
 * from the cache and never given again; a new one is refreshed unless
 * another run has meanwhile cached a different one.  info may be NULL. */
int bearer_get(const struct account *a, const char *refused, struct secret *out,
               struct bearer_info *info, struct error *err);

/* The transcript's line, without "=== ": "OAuth2 access token from the
 * cache, 52 min left" or "OAuth2 access token refreshed at
 * https://HOST/PATH" ("at the token endpoint" for the system
 * configuration's account, whose settings the caller may not see). */
void bearer_describe(const struct account *a, const struct bearer_info *info,
                     char *out, size_t n);

/* Room for "socks5h://[HOST]:PORT" (bearer_client). */
#define BEARER_PROXY_MAX 300

/* The OAuth2 client of account a with settings s (provider_resolve), for
 * a send's refresh and for the login alike: the endpoints, the client
 * secret (or NULL), the account's timeout, its SOCKS proxy (socks5h://,
 * written into proxy, which must outlive c) and, for the system
 * configuration's account in a caller's run (account.hidden), names kept
 * private.  The strings stay a's, s's and the caller's. */
void bearer_client(const struct account *a, const struct oauth2_settings *s,
                   const char *client_secret, struct oauth2_client *c,
                   char proxy[BEARER_PROXY_MAX]);

/* The command that logs account a in again, for messages: "mailpost
 * --oauth2-login -A NAME", with "-C FILE" when a's file is not the one
 * conf_locate finds by itself. */
void bearer_login_command(const struct account *a, char *out, size_t n);

#endif
