/*
 * override.h - the command line's one-off settings (struct request,
 * request.h)
 * applied over an account resolved from the configuration (struct
 * account, conf.h), in one place, for the account a message is sent with,
 * for each fallback account on its route (relay.c, through
 * override_fallback) and for the accounts of queued entries (flush.c,
 * through override_queued).
 *
 * A setting given on the command line replaces the account's key of the
 * same meaning; one not given leaves the key as it is.  Where msmtp does,
 * an empty string unsets the key (--proxy-host=, --socket=, --logfile=...)
 * and --auth=off removes it.  Unlike msmtp, --tls-starttls (either value)
 * also turns tls on, unless --tls=off was given.  The %U %H %C %M substitutions
 * (identity.h) are made in from, domain and maildomain afterwards, and the EHLO
 * name gets its default (localhost through a proxy, else this host's name).
 */
#ifndef MAILPOST_OVERRIDE_H
#define MAILPOST_OVERRIDE_H

#include "cli.h"
#include "conf.h"
#include "error.h"

/* The first account: everything, the server (--host, --port, --socket),
 * msmtp's one-off settings, the one-off password source (--passwordeval,
 * --password-fd, --password-env: it replaces every password key of the
 * account) and the recipient policy included, then
 * override_any_account.  ERROR_USAGE for --proxy-port without a proxy;
 * errors of override_any_account. */
int override_account(const struct request *req, struct account *a,
                     struct error *err);

/* What every account on the route takes (the fallback accounts too):
 * timeout, EHLO name, proxy and security settings, then the
 * substitutions and the EHLO name default.  ERROR_CONFIG when the result
 * would authenticate with GSSAPI through a proxy; a substitution's error. */
int override_any_account(const struct request *req, struct account *a,
                         struct error *err);

/* relay.h's struct relay_finish hook for the fallback accounts: ctx is
 * the const struct request *, as for override_any_account. */
int override_fallback(void *ctx, struct account *a, struct error *err);

/* What override_queued needs: the configuration (NULL: none, the built-in
 * defaults) and this run's command line, both outliving the flush. */
struct override_queue {
	const struct config *cfg;
	const struct request *req;
};

/* flush.h's flush_account_fn (ctx: a struct override_queue *): a queued
 * entry's account, from the configuration by name ("" is the default
 * account), with the --host and --port it was sent with unless this
 * run's command line names its own, then override_account.  ERROR_CONFIG
 * when the result has no server; conf_select's and override_account's
 * errors. */
int override_queued(void *ctx, const char *name, const char *host, int port,
                    struct account *out, struct error *err);

#endif
