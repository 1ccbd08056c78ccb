/*
 * bearer.c - the OAuth2 access token at send time (see bearer.h): the
 * cache, else a refresh under the token directory's lock, the new tokens
 * stored in the order that keeps the login.
 */
#include "config.h"

#include "bearer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oauth2.h"
#include "privilege.h"
#include "provider.h"
#include "socks.h"
#include "tokstore.h"
#include "util.h"

/* Everything one send needs of the account's OAuth2 settings. */
struct ident {
	struct oauth2_settings s;
	struct tokstore_key key;
	const struct account *a;
};

static const char *
account_name(const struct account *a)
{
	return a->name ? a->name : "default";
}

/* The file to name with -C in a command that must reach account a
 * again: a's own, unless it is the one a plain run reads anyway; NULL
 * then. */
static const char *
config_option(const struct account *a)
{
	char *found = NULL;
	struct error ignored;
	bool same;

	if (!a->file)
		return NULL;
	error_clear(&ignored);
	if (conf_locate(NULL, &found, &ignored) < 0)
		found = NULL;
	same = found && strcmp(found, a->file) == 0;
	free(found);
	return same ? NULL : a->file;
}

void
bearer_login_command(const struct account *a, char *out, size_t n)
{
	const char *file = config_option(a);

	tokstore_login_command(file, account_name(a), out, n);
}

static int
ident_init(struct ident *id, const struct account *a, struct error *err)
{
	memset(id, 0, sizeof *id);
	id->a = a;
	if (provider_resolve(a, &id->s, err) < 0)
		return -1;
	tokstore_key_init(&id->key, a, &id->s);
	if (!id->key.account)
		id->key.account = account_name(a);
	id->key.config = config_option(a); /* for the store's "log in" */
	/* Root's run (a flush from the timer, cron mail) with the system
	 * configuration uses the machine's tokens too (tokstore_is_system),
	 * and it is the one run that refreshes them. */
	/* The machine's token files open only with the group, which a
	 * caller's run holds only until job_load_config is done (job.c
	 * takes the token there when it knows the account); root can
	 * always read them, and root's queue run sends what waits. */
	if (id->key.system && !privilege_held() && getuid() != 0)
		return error_set(err, ERROR_TEMPFAIL,
		                 "the system configuration's OAuth2 token is "
		                 "read only while mailpost holds its group, "
		                 "which this run no longer does; the message "
		                 "waits for root's queue run");
	return 0;
}

/* err's message, then what to do about a login that no longer works. */
static int
log_in_again(const struct ident *id, struct error *err)
{
	char was[ERROR_MSG_MAX], cmd[512];

	str_copy(was, sizeof was, err->msg);
	/* The system configuration's names are not the caller's to see:
	 * where the account is, and who can log it in. */
	if (id->a->hidden)
		return error_set(err, err->kind,
		                 "the system configuration's OAuth2 login "
		                 "(%s:%lu) needs renewing: root must run "
		                 "mailpost --oauth2-login -A with that account",
		                 id->a->file ? id->a->file : "", id->a->line);
	bearer_login_command(id->a, cmd, sizeof cmd);
	return error_set(err, err->kind, "%s; log in again: %s", was, cmd);
}

/* A refresh that failed, in the words and the kind a send acts on. */
static int
refresh_failed(const struct ident *id, struct error *err)
{
	char was[ERROR_MSG_MAX];

	if (err->kind == ERROR_NOPERM) {
		error_prefix(err,
		             "the OAuth2 refresh token of account '%s' was "
		             "refused (revoked or expired): ",
		             account_name(id->a));
		return log_in_again(id, err);
	}
	/* A broken answer from an endpoint that worked when the user
	 * logged in (an outage page, a proxy): another attempt later may
	 * well get a good one, so the message is kept. */
	if (err->kind == ERROR_PROTOCOL)
		err->kind = ERROR_TEMPFAIL;
	str_copy(was, sizeof was, err->msg);
	return error_set(err, err->kind,
	                 "cannot refresh the OAuth2 access token of account "
	                 "'%s': %.800s%s",
	                 account_name(id->a), was,
	                 err->kind == ERROR_CONFIG
	                     ? "; check its oauth2_client_id, "
	                       "oauth2_client_secret and oauth2_scope"
	                     : "");
}

/* The cached token, unless it is the one the server refused (which is
 * then dropped).  0 with out->data NULL: none usable. */
static int
from_cache(const struct ident *id, const char *refused, struct secret *out,
           struct bearer_info *info, struct error *err)
{
	long long expires_at = 0;

	if (tokstore_get_access(&id->key, BEARER_MARGIN, out, &expires_at,
	                        err) < 0)
		return -1;
	if (out->data && refused && strcmp(out->data, refused) == 0) {
		secret_free(out);
		return tokstore_drop_access(&id->key, err);
	}
	if (out->data) {
		info->from_cache = true;
		info->expires_at = expires_at;
	}
	return 0;
}

/* The answer's tokens kept: the rotated refresh token first (its failure
 * is the run's: the old one is likely revoked already), then the access
 * token's cache (its failure only a warning). */
static int
keep_tokens(const struct ident *id, const struct oauth2_tokens *t,
            struct bearer_info *info, struct error *err)
{
	long long expires_at = t->expires_at;
	enum tokstore_where where;
	struct error e;

	if (expires_at <= 0)
		expires_at = (long long)time(NULL) + BEARER_DEFAULT_LIFETIME;
	error_clear(err);
	if (t->refresh_token &&
	    tokstore_put_refresh(&id->key, t->refresh_token, &where, err) < 0) {
		error_prefix(err,
		             "the token endpoint replaced the OAuth2 refresh "
		             "token of account '%s', and the new one cannot "
		             "be stored (the old one is likely no longer "
		             "valid): ",
		             account_name(id->a));
		/* The access token still works for its lifetime: cached,
		 * it keeps the account sending until the user logs in. */
		error_clear(&e);
		(void)tokstore_put_access(&id->key, t->access_token, expires_at,
		                          &e);
		return log_in_again(id, err);
	}
	/* Kept, but not where oauth2_store auto would rather have it (the
	 * keyring failed): worth a line at -v. */
	if (err->msg[0])
		str_copy(info->warning, sizeof info->warning, err->msg);
	error_clear(err);
	info->expires_at = expires_at;
	error_clear(&e);
	if (tokstore_put_access(&id->key, t->access_token, expires_at, &e) < 0)
		snprintf(info->warning, sizeof info->warning,
		         "the access token could not be cached (%.900s): the "
		         "next send refreshes it again",
		         e.msg);
	return 0;
}

void
bearer_client(const struct account *a, const struct oauth2_settings *s,
              const char *client_secret, struct oauth2_client *c,
              char proxy[BEARER_PROXY_MAX])
{
	*c = (struct oauth2_client){
	    .client_id = s->client_id,
	    .client_secret = client_secret,
	    .token_endpoint = s->token_endpoint,
	    .device_endpoint = s->device_endpoint,
	    .authorize_endpoint = s->authorize_endpoint,
	    .scope = s->scope,
	    .trust_file = s->trust_file,
	    /* The account's network timeout, as for its SMTP server. */
	    .timeout_s = a->timeout,
	    /* The system configuration's names (its trust file) are not
	     * for a caller outside its group. */
	    .private_names = a->hidden,
	};
	/* The account's SOCKS proxy carries its token requests too: a
	 * network that only lets mail out through it lets nothing else. */
	proxy[0] = '\0';
	if (a->proxy_host && *a->proxy_host) {
		bool v6 = strchr(a->proxy_host, ':') != NULL;

		snprintf(proxy, BEARER_PROXY_MAX, "socks5h://%s%.256s%s:%d",
		         v6 ? "[" : "", a->proxy_host, v6 ? "]" : "",
		         a->proxy_port ? a->proxy_port : SOCKS_PORT);
		c->proxy = proxy;
	}
}

/* Under the lock: the cache again (another run may have just refreshed),
 * else the refresh. */
static int
refresh_locked(const struct ident *id, const char *refused, struct secret *out,
               struct bearer_info *info, struct error *err)
{
	struct secret client_secret = {0};
	struct oauth2_client c;
	struct oauth2_tokens t = {0};
	struct secret refresh = {0};
	char proxy[BEARER_PROXY_MAX];
	int rc;

	if (from_cache(id, refused, out, info, err) < 0)
		return -1;
	if (out->data)
		return 0;
	/* No login (or a damaged file): the store's message names the
	 * command, except to a caller of the system account. */
	if (tokstore_get_refresh(&id->key, &refresh, err) < 0)
		return err->kind == ERROR_NOPERM && id->a->hidden
		           ? log_in_again(id, err)
		           : -1;
	if (provider_client_secret(id->a, &client_secret, err) < 0) {
		secret_free(&refresh);
		return -1;
	}
	bearer_client(id->a, &id->s, client_secret.data, &c, proxy);
	rc = oauth2_refresh(&c, refresh.data, &t, err);
	secret_free(&client_secret);
	secret_free(&refresh);
	if (rc < 0)
		return refresh_failed(id, err);
	rc = keep_tokens(id, &t, info, err);
	if (rc == 0)
		secret_from(out, t.access_token, SECRET_NONE);
	oauth2_tokens_clear(&t);
	return rc;
}

/* A caller's run with the system configuration's account never writes
 * the machine's token files: a file it wrote would be its own (its
 * uid), and the tokens in it readable by it.  Only root refreshes them
 * (its queue run); a caller's run takes the cached token or waits. */
static bool
may_refresh(const struct ident *id)
{
	return !id->key.system || getuid() == 0;
}

int
bearer_get(const struct account *a, const char *refused, struct secret *out,
           struct bearer_info *info, struct error *err)
{
	struct bearer_info local;
	struct ident id;
	int rc;

	if (!info)
		info = &local;
	memset(info, 0, sizeof *info);
	memset(out, 0, sizeof *out);
	if (ident_init(&id, a, err) < 0)
		return -1;
	/* Without the lock first: the common case reads one small file. */
	if (!refused) {
		if (from_cache(&id, NULL, out, info, err) < 0)
			return -1;
		if (out->data)
			return 0;
	}
	if (!may_refresh(&id))
		return error_set(err, ERROR_TEMPFAIL,
		                 "the system configuration's OAuth2 access "
		                 "token needs refreshing, which only root's "
		                 "queue run does (the machine's token files "
		                 "are root's to write); the message waits for "
		                 "it");
	/* Two runs refreshing one identity at once: with rotation the
	 * second's refresh token is the one the first just had revoked.
	 * Under the store's lock the second waits, then finds the first's
	 * tokens in the cache (refresh_locked looks there first). */
	if (tokstore_lock(&id.key, err) < 0)
		return -1;
	rc = refresh_locked(&id, refused, out, info, err);
	tokstore_unlock();
	if (rc < 0)
		secret_free(out);
	return rc;
}

void
bearer_describe(const struct account *a, const struct bearer_info *info,
                char *out, size_t n)
{
	struct oauth2_settings s;
	struct error ignored;
	long long left;

	if (info->from_cache) {
		left = info->expires_at - (long long)time(NULL);
		snprintf(out, n,
		         "OAuth2 access token from the cache, %lld min left",
		         left > 0 ? left / 60 : 0);
		return;
	}
	error_clear(&ignored);
	if (a->hidden || provider_resolve(a, &s, &ignored) < 0)
		snprintf(out, n,
		         "OAuth2 access token refreshed at the token endpoint");
	else
		snprintf(out, n, "OAuth2 access token refreshed at %s",
		         s.token_endpoint);
	str_censor(out, strlen(out));
}
