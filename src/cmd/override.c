/*
 * override.c - the command line's settings over an account's keys (see
 * override.h).
 */
#include "config.h"

#include "override.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "identity.h"
#include "secret.h"
#include "util.h"

/* The %U %H %C %M substitutions in a key's value (identity.h). */
static int
expand_field(char **field, struct error *err)
{
	char *v;

	if (!*field || !strchr(*field, '%'))
		return 0;
	v = identity_expand(*field, NULL, err);
	if (!v)
		return -1;
	free(*field);
	*field = v;
	return 0;
}

static void
replace_string(char **field, const char *value)
{
	if (!value)
		return;
	free(*field);
	*field = xstrdup(value);
}

static void
apply_switch(bool *field, enum cli_switch value)
{
	if (value != CLI_UNSET)
		*field = value == CLI_ON;
}

/* --tls... and --auth, --user over the account's keys of the same names.
 * --tls-starttls (either value) says TLS is wanted, so it turns TLS on
 * unless --tls=off was given too: `--host H --tls-starttls` tests TLS, as
 * a swaks user expects (msmtp leaves TLS off; REPLACING MSMTP in
 * mailpost(1)). */
static void
apply_security(const struct request *req, struct account *a)
{
	apply_switch(&a->tls, req->tls);
	if (req->tls == CLI_UNSET && req->tls_starttls != CLI_UNSET)
		a->tls = true;
	apply_switch(&a->tls_starttls, req->tls_starttls);
	apply_switch(&a->tls_certcheck, req->tls_certcheck);
	replace_string(&a->tls_trust_file, req->tls_trust_file);
	replace_string(&a->tls_crl_file, req->tls_crl_file);
	replace_string(&a->tls_fingerprint, req->tls_fingerprint);
	replace_string(&a->tls_cert_file, req->tls_cert_file);
	replace_string(&a->tls_key_file, req->tls_key_file);
	replace_string(&a->tls_priorities, req->tls_priorities);
	replace_string(&a->tls_host_override, req->tls_host_override);
	apply_switch(&a->tls_session_cache, req->tls_session_cache);
	replace_string(&a->user, req->user);
	if (req->auth && str_ieq(req->auth, "off")) {
		free(a->auth);
		a->auth = NULL;
	} else {
		replace_string(&a->auth, req->auth);
	}
}

/* A string option where "" unsets the account's key (msmtp's
 * --proxy-host= and --socket=). */
static void
replace_or_unset(char **field, const char *value)
{
	if (value && !*value) {
		free(*field);
		*field = NULL;
	} else {
		replace_string(field, value);
	}
}

/* --proxy-host and --proxy-port hold for every account on the route: a
 * failover must not go around the proxy.  A socket without a host: the
 * server's name (for TLS, SNI, ~/.netrc, the log) is localhost. */
static void
apply_proxy(const struct request *req, struct account *a)
{
	replace_or_unset(&a->proxy_host, req->proxy_host);
	if (req->proxy_port)
		a->proxy_port = req->proxy_port;
	if (a->socket && !a->host)
		a->host = xstrdup("localhost");
}

/* GSSAPI (RFC 4752) hands the server's name to the Kerberos library,
 * which looks it up and asks its KDC for a ticket itself: DNS queries and
 * connections that go around the proxy and name both ends. */
static int
check_proxy_auth(const struct account *a, struct error *err)
{
	if (!a->proxy_host || !*a->proxy_host || (a->socket && *a->socket) ||
	    !a->auth || strcasecmp(a->auth, "gssapi") != 0)
		return 0;
	error_set(err, ERROR_CONFIG,
	          "account '%s' goes through a proxy, but auth gssapi would "
	          "not: the Kerberos library looks the server up and asks its "
	          "KDC directly; choose another 'auth' mechanism, or remove "
	          "'proxy_host'",
	          a->name ? a->name : "default");
	return conf_hide(a, err);
}

/* What every account on the route takes from the command line (the
 * fallback accounts too): timeout, EHLO name, proxy and security settings,
 * then the substitutions and the EHLO name default. */
int
override_any_account(const struct request *req, struct account *a,
                     struct error *err)
{
	if (req->timeout > 0)
		a->timeout = req->timeout;
	else if (req->timeout < 0) /* "off": the built-in timeouts */
		a->timeout = 0;
	if (req->domain) {
		free(a->domain);
		a->domain = xstrdup(req->domain);
	}
	if (req->no_pipelining)
		a->pipelining = false;
	if (req->no_chunking)
		a->chunking = false;
	apply_proxy(req, a);
	apply_security(req, a);
	if (check_proxy_auth(a, err) < 0)
		return -1;
	/* An error quotes the value: the account's is hidden when it is the
	 * system configuration's (conf_hide); --domain's is the caller's. */
	if (expand_field(&a->from, err) < 0 ||
	    expand_field(&a->maildomain, err) < 0)
		return conf_hide(a, err);
	if (expand_field(&a->domain, err) < 0)
		return req->domain ? -1 : conf_hide(a, err);
	if (!a->domain && a->proxy_host) {
		/* Through a proxy (Tor) the EHLO name would give away the
		 * name of the machine the proxy hides: msmtp's default. */
		a->domain = xstrdup("localhost");
	} else if (!a->domain) {
		char host[256];

		identity_host(host, sizeof host);
		a->domain = xstrdup(host);
	}
	return 0;
}

/* msmtp's one-off settings (request.h) over the first account's keys. */
static void
apply_msmtp_settings(const struct request *req, struct account *a)
{
	if (req->lmtp != CLI_UNSET)
		a->lmtp = req->lmtp == CLI_ON;
	replace_or_unset(&a->logfile, req->logfile);
	replace_or_unset(&a->logfile_time_format, req->logfile_time_format);
	replace_or_unset(&a->aliases, req->aliases);
	if (req->syslog != CONF_SYSLOG_UNSET)
		a->syslog_facility = req->syslog;
	if (req->set_from_header != CONF_FROM_UNSET)
		a->set_from_header = req->set_from_header;
	apply_switch(&a->set_date_header, req->set_date_header);
	apply_switch(&a->set_msgid_header, req->set_msgid_header);
	apply_switch(&a->remove_bcc_headers, req->remove_bcc_headers);
	apply_switch(&a->undisclosed_recipients, req->undisclosed_recipients);
}

/* --passwordeval, --password-fd, --password-env: the one source this run
 * uses, in place of every password key of the account (secret.h: an
 * explicit source that fails is an error, so neither the account's
 * sources nor a netrc, keyring or prompt is tried after it). */
static void
apply_password(const struct request *req, struct account *a)
{
	if (!req->passwordeval && !req->password_fd_given && !req->password_env)
		return;
	str_wipe_free(&a->password);
	str_wipe_free(&a->passwordeval);
	str_wipe_free(&a->passwordcred);
	str_wipe_free(&a->passwordenv);
	a->passwordfd = req->password_fd;
	if (req->passwordeval)
		a->passwordeval = xstrdup(req->passwordeval);
	if (req->password_env)
		a->passwordenv = xstrdup(req->password_env);
	/* Whether or not this account reads it, no other account's
	 * command may inherit it. */
	secret_withhold_env(req->password_env);
}

/* Whether name is one of the hosts a `host` key lists (separated by
 * commas or blanks, as conf.c's parse_hosts takes them). */
static bool
host_listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ", \t");

		if (n == len && strncasecmp(p, name, n) == 0)
			return true;
		p += n;
		p += strspn(p, ", \t");
	}
	return false;
}

/* A password configured for the account's server is not sent to
 * another one named with --host (a test of someone else's server,
 * `mailpost --test --host mx.example.org`): the run that would
 * authenticate there needs the password for that server given for this
 * run, or --auth=off.  ~/.netrc and the keyring are looked up by the
 * server's name, so they need no such rule; --serverinfo and
 * --check-config send no password. */
static int
check_password_server(const struct request *req, const struct account *a,
                      struct error *err)
{
	bool configured = a->password || a->passwordeval || a->passwordcred ||
	                  a->passwordenv || a->passwordfd;
	/* --quit-after before auth fetches no password (quitafter.c). */
	bool sends =
	    (req->mode == CLI_SEND &&
	     !(req->quit_after_set && req->quit_after < SMTP_STEP_AUTH)) ||
	    req->mode == CLI_SERVE || req->mode == CLI_SMUGGLE_TEST;
	bool one_off =
	    req->passwordeval || req->password_fd_given || req->password_env;
	/* apply_security, later, makes the command line's --auth win. */
	bool auth = req->auth ? !str_ieq(req->auth, "off") : a->auth != NULL;

	if (!req->host || !a->host || !configured || one_off || !sends ||
	    !auth || host_listed(a->host, req->host))
		return 0;
	return error_set(err, ERROR_USAGE,
	                 "--host %s is not the server of account '%s' (%s), "
	                 "and its password is not sent elsewhere: give the "
	                 "password for %s with --passwordeval, --password-fd "
	                 "or --password-env, or --auth=off",
	                 req->host, a->name ? a->name : "default", a->host,
	                 req->host);
}

int
override_account(const struct request *req, struct account *a,
                 struct error *err)
{
	apply_msmtp_settings(req, a);
	apply_password(req, a);
	if (check_password_server(req, a, err) < 0)
		return -1;
	if (req->host) {
		free(a->host);
		a->host = xstrdup(req->host);
		/* --host names the server to send through: an account that
		 * delivers to the MX hosts sends through it this once. */
		a->deliver = CONF_DELIVER_RELAY;
	}
	if (req->deliver != CLI_DELIVER_UNSET)
		a->deliver = req->deliver == CLI_DELIVER_MX
		                 ? CONF_DELIVER_MX
		                 : CONF_DELIVER_RELAY;
	if (req->port)
		a->port = req->port;
	if ((req->host || req->port) && !req->socket) {
		free(a->socket);
		a->socket = NULL;
	}
	replace_or_unset(&a->socket, req->socket);
	if (req->rcpt_policy != RCPT_POLICY_UNSET)
		a->rcpt_policy = req->rcpt_policy;
	if (override_any_account(req, a, err) < 0)
		return -1;
	/* A proxy port without a proxy would connect straight to the
	 * server, which is what asking for a proxy means to avoid. */
	if (req->proxy_port && !a->proxy_host && !(a->socket && *a->socket))
		return error_set(
		    err, ERROR_USAGE,
		    "--proxy-port %d without a proxy would connect "
		    "directly; give --proxy-host too (or set "
		    "proxy_host)",
		    req->proxy_port);
	return 0;
}

int
override_fallback(void *ctx, struct account *a, struct error *err)
{
	return override_any_account(ctx, a, err);
}

int
override_queued(void *ctx, const char *name, const char *host, int port,
                struct account *out, struct error *err)
{
	const struct override_queue *q = ctx;
	struct request req = *q->req;

	memset(out, 0, sizeof *out);
	if (q->cfg) {
		if (conf_select(q->cfg, *name ? name : NULL, NULL, out, err) <
		    0)
			return -1;
	} else {
		account_defaults(out);
	}
	/* The caller writes its own queue entries: a server named in one
	 * would get the system account's password, which --host cannot
	 * take at submission either (job.c).  Such an entry was never
	 * written by mailpost for this configuration. */
	if ((host || port) && conf_is_private(q->cfg)) {
		account_clear(out);
		return error_set(err, ERROR_CONFIG,
		                 "the entry names its own server, which an "
		                 "account of the system configuration never "
		                 "takes: it could take its password elsewhere; "
		                 "remove the entry with --queue-remove");
	}
	if (host && !req.host)
		req.host = host;
	if (port && !req.port)
		req.port = port;
	if (override_account(&req, out, err) < 0) {
		account_clear(out);
		return -1;
	}
	if (!out->host && out->deliver != CONF_DELIVER_MX) {
		error_set(err, ERROR_CONFIG,
		          "no SMTP server configured for account '%s'; set its "
		          "'host'",
		          *name ? name : "default");
		conf_hide(out, err);
		account_clear(out);
		return -1;
	}
	return 0;
}
