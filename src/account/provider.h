/*
 * provider.h - what an account's OAuth2 settings resolve to: the built-in
 * endpoints and scope of the providers mailpost knows (Google, Microsoft),
 * or nothing built in (generic), each overridden by the account's own
 * oauth2_* key.  Pure data: no network, no file, no command run.
 *
 * The built-in values, and where each provider documents them, are in
 * mailpost.conf(5), section OAUTH2; provider.c holds the same table.
 * mailpost ships no client id: oauth2_client_id is always the account's.
 *
 * Errors: ERROR_CONFIG naming the key that is missing (conf_check_oauth2's
 * rule), hidden for the system configuration as conf_hide does.
 */
#ifndef MAILPOST_PROVIDER_H
#define MAILPOST_PROVIDER_H

#include <stdbool.h>

#include "conf.h"
#include "error.h"
#include "secret.h"

/* What an account's OAuth2 settings resolve to: the provider's built-in
 * endpoints and scope, each overridden by the account's own key.  The
 * strings are the account's or the built-in table's: valid while the
 * account lives, never freed by the caller. */
struct oauth2_settings {
	const char *provider; /* "google", "microsoft", "generic" */
	const char *client_id;
	const char *client_secret;      /* oauth2_client_secret, or NULL: none
	                                 * given in the file (secret; the
	                                 * account's).  With
	                                 * client_secret_eval set instead, the
	                                 * secret is provider_client_secret's. */
	const char *client_secret_eval; /* the command, or NULL */
	const char *token_endpoint;
	const char
	    *device_endpoint; /* NULL: the provider has no device grant */
	const char *authorize_endpoint; /* NULL: no browser flow (a generic
	                                 * provider without the key) */
	const char *scope;              /* NULL: none sent (generic) */
	const char
	    *trust_file;     /* oauth2_trust_file, else NULL (system store) */
	bool device_default; /* --oauth2-login's flow when none is
	                      * asked for: device (true) or browser;
	                      * Google refuses the mail scope in its
	                      * device grant */
};

/* oauth2_provider is set: the account authenticates with OAuth2. */
bool provider_account_uses_oauth2(const struct account *a);

/* Fill out from a (conf_check_oauth2 first: ERROR_CONFIG naming the
 * missing key, e.g. oauth2_client_id; a generic provider needs
 * oauth2_token_endpoint).  Runs nothing. */
int provider_resolve(const struct account *a, struct oauth2_settings *out,
                     struct error *err);

/* The client secret to send with a token request: the account's
 * oauth2_client_secret, else the first line of oauth2_client_secret_eval's
 * output (run as passwordeval is, with passwordeval_timeout; the system
 * configuration's was run when it was read, conf_resolve_evals), else
 * none: 0 with out->data NULL (a public client).  The caller frees out
 * (secret_free).  ERROR_CONFIG when the command fails. */
int provider_client_secret(const struct account *a, struct secret *out,
                           struct error *err);

/* The built-in table, for the man page's test and --check-config: the
 * settings of provider `name` with nothing overridden, or NULL for an
 * unknown name. */
const struct oauth2_settings *provider_builtin(const char *name);

#endif
