/*
 * relay.h - failover: the way to the submission server, tried in order.
 *
 * A route is the list of hops a message may take: each host of the account
 * (`host` may list several, separated by commas or white space; an
 * account with a `socket` is one hop, named by the first), then each host
 * of its `fallback_account`, and so on down the chain.  With a proxy, each
 * hop goes through the proxy of its account.  A hop is tried
 * only after a temporary failure on the one before (connection refused or
 * timed out, a 4xx greeting, EHLO, STARTTLS, MAIL or RCPT reply, the
 * connection lost before the data was ended), and only while the first
 * account's failover_timeout has not run out since the first attempt.  A
 * permanent refusal, an authentication failure, a signal, or any failure
 * after the final dot went out ("status unknown": the server may have the
 * message) ends the route at once: no other server may get a second copy.
 * A later hop's refusal after an earlier hop's temporary failure is
 * reported as temporary, naming both: the refusal may be that server's
 * alone, and the first may take the message later.
 *
 * The password (or token) for each account on the route is fetched when
 * that account is first tried, so a fallback that is never needed never
 * prompts.  An account with oauth2_provider gets its OAuth2 access token
 * (bearer.h) instead, once per route: a flush refreshes it at most once
 * for all its messages.  When the server refuses a token that came from
 * the cache (revoked early, the cache older than the server thinks),
 * the token is refreshed once and AUTH tried again on the same session
 * (smtp_options.renew), or, when the server closed it, once on a new
 * connection to the same host; a freshly refreshed token refused is a
 * refusal like any other.
 *
 * An account with `deliver mx` has no hops of its own: its route is the
 * recipient domains' MX hosts, found when a message is sent (mxroute.h),
 * one transaction per domain; relay_send hands it over, and a flush
 * sends each entry so (relay_direct).
 */
#ifndef MAILPOST_RELAY_H
#define MAILPOST_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "bearer.h"
#include "conf.h"
#include "error.h"
#include "secret.h"
#include "submit.h"
#include "transcript.h"

#define RELAY_ACCOUNTS_MAX                                                     \
	8 /* a fallback chain longer than this is an                           \
	   * error: it is surely a mistake */
#define RELAY_HOPS_MAX 32

struct relay_hop {
	size_t account;      /* index in relay_route.accounts */
	char *host;          /* this hop's host (one name), owned */
	struct account view; /* the account with `host` set to this hop's:
	                      * a shallow copy, never cleared */
};

/* An account whose AUTH uses an OAuth2 access token (bearer.h): where
 * its token came from, and the one renewal a refusal of it gets. */
struct relay_bearer {
	struct relay_route *route;
	size_t account;
	bool on;           /* the account has oauth2_provider */
	bool from_cache;   /* the token in secrets[account] was cached */
	bool preset;       /* it is relay_token's: no refresh here */
	bool renewed;      /* refused once, refreshed: no second time */
	bool renew_failed; /* that refresh failed: the token is the refused
	                    * one still */
	bool reconnected;  /* tried again on a new connection */
};

/* An account's token got before the route was built: the system
 * configuration's account of a setgid run gets it in job.c while the
 * group can still be raised (the machine's token files are the group's),
 * and the route, built after the group is gone, uses it as it is.  A
 * refusal of it cannot be renewed then: it is a temporary failure, for
 * root's queue run, which can refresh. */
struct relay_token {
	char *account;       /* its name; NULL: no token was got */
	int rc;              /* bearer_get's */
	struct secret token; /* rc 0 */
	struct bearer_info info;
	struct error err; /* rc -1 */
};

void relay_token_clear(struct relay_token *t);

struct mxroute;

struct relay_route {
	struct mxroute *mx; /* deliver mx: the MX hosts (no hops), or NULL */
	struct relay_hop *hops;
	size_t nhops;
	/* accounts[0] is the first account (not owned); the others are the
	 * fallback accounts, resolved from the configuration (owned). */
	struct account *accounts[RELAY_ACCOUNTS_MAX];
	struct secret secrets[RELAY_ACCOUNTS_MAX];
	bool fetched[RELAY_ACCOUNTS_MAX];
	struct relay_bearer bearer[RELAY_ACCOUNTS_MAX];
	size_t naccounts;
	struct transcript *transcript;
	int timeout_s; /* the first account's failover_timeout */
	/* NULL, or where relay_open describes the session it opens (each
	 * hop tried starts it afresh); relay_send uses its submission's. */
	struct submit_report *report;
	/* NULL, or the token (or failure) of the account it names, used
	 * instead of bearer_get (not owned; set after relay_route_build). */
	const struct relay_token *preset;
};

/* How a fallback account, once resolved from the configuration, gets the
 * caller's settings on top (the command line's timeout, EHLO name, TLS;
 * the %U.. substitutions; the EHLO name default). */
struct relay_finish {
	int (*fn)(void *ctx, struct account *a, struct error *err);
	void *ctx;
};

/* Build the route from `first` (the resolved account, with command-line
 * overrides applied; not owned, must outlive the route) and, for
 * fallback_account, the configuration (cfg may be NULL: no fallbacks)
 * with `finish` applied to each fallback (NULL: none).  ERROR_CONFIG for
 * an empty host list, an unknown or looping fallback, an account whose
 * secrets the run forgot (conf_check_withheld), and mxroute_new's for an
 * account with deliver mx. */
int relay_route_build(struct relay_route *r, const struct account *first,
                      const struct config *cfg,
                      const struct relay_finish *finish, struct transcript *t,
                      struct error *err);
void relay_route_clear(struct relay_route *r);

/* Send one message (sub->account and sub->secret are set per hop; the
 * rest of sub is used as given; the message is rewound before each retry).
 * Returns as submit_send; outcome->host names the last hop tried. */
int relay_send(struct relay_route *r, const struct submission *sub,
               struct submit_outcome *outcome, struct error *err);

/* Open a session on the first hop that answers (for a queue flush).  *hop
 * is the index of the hop used, to pass to relay_submission. */
int relay_open(struct relay_route *r, struct submit_session **out, size_t *hop,
               struct error *err);

/* Fill the per-hop fields of sub (account, secret) for hop `hop`. */
int relay_submission(struct relay_route *r, size_t hop, struct submission *sub,
                     struct error *err);

/* Whether the route is direct delivery (deliver mx): relay_open and
 * relay_submission are then not for it; relay_send sends each message,
 * one transaction per recipient domain. */
bool relay_direct(const struct relay_route *r);

/* True when a failure (err, outcome) allows trying another server. */
bool relay_may_retry(const struct error *err,
                     const struct submit_outcome *outcome);

#endif
