/*
 * pretend.c - what a send would do, shown instead of done (pretend.h):
 * --pretend's settings, --dry-run's bytes, envelope and plan.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pretend.h"

#include "provider.h"
#include "secret.h"
#include "socks.h"
#include "submit.h"
#include "tokstore.h"

int
pretend_message(FILE *out, const struct message_stream *m, struct error *err)
{
	char buf[65536];

	for (;;) {
		ssize_t got = m->read(m->ctx, buf, sizeof buf, err);

		if (got < 0)
			return -1;
		if (got == 0)
			break;
		if (fwrite(buf, 1, (size_t)got, out) != (size_t)got)
			return error_set_errno(err, ERROR_IOERR, errno,
			                       "cannot write the message to "
			                       "standard output");
	}
	if (fflush(out) != 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the message to standard "
		                       "output");
	return 0;
}

static const char *
or_unset(const char *v)
{
	return v && *v ? v : "(not set)";
}

/* A value of a's, or for an account of the system configuration that the
 * caller may not read (account.hidden) only whether it is set. */
static const char *
val(const struct account *a, const char *v)
{
	if (v && *v && a->hidden)
		return "(set, hidden)";
	return or_unset(v);
}

static const char *
on_off(bool b)
{
	return b ? "on" : "off";
}

static const char *
from_header_name(enum conf_from_header h)
{
	return h == CONF_FROM_ON ? "on" : h == CONF_FROM_OFF ? "off" : "auto";
}

/* Where the password comes from; the password and the passwordeval
 * command themselves are shown as "*" (a command may hold a secret). */
static void
print_credentials(FILE *out, const struct account *a)
{
	fprintf(out, "auth = %s\n", a->auth ? a->auth : "off");
	fprintf(out, "user = %s\n", val(a, a->user));
	fprintf(out, "password = %s\n", a->password ? "*" : "(not set)");
	fprintf(out, "passwordeval = %s\n",
	        a->passwordeval ? "*" : "(not set)");
	if (a->passwordenv)
		fprintf(out, "passwordenv = %s\n", val(a, a->passwordenv));
	if (a->passwordcred)
		fprintf(out, "passwordcred = %s\n", val(a, a->passwordcred));
	if (a->passwordfd && !a->hidden)
		fprintf(out, "passwordfd = %d\n", a->passwordfd);
}

/* The OAuth2 keys, as a send resolves them (provider.h); the secret and
 * its command as "*". */
static void
print_oauth2(FILE *out, const struct account *a)
{
	struct oauth2_settings s;
	struct error err;

	if (!provider_account_uses_oauth2(a))
		return;
	error_clear(&err);
	fprintf(out, "oauth2_provider = %s\n", a->oauth2_provider);
	if (provider_resolve(a, &s, &err) < 0) {
		fprintf(out, "oauth2 = (not usable: %s)\n", err.msg);
		return;
	}
	fprintf(out, "oauth2_client_id = %s\n", val(a, s.client_id));
	fprintf(out, "oauth2_client_secret = %s\n",
	        s.client_secret ? "*" : "(not set)");
	fprintf(out, "oauth2_client_secret_eval = %s\n",
	        s.client_secret_eval ? "*" : "(not set)");
	fprintf(out, "oauth2_token_endpoint = %s\n", val(a, s.token_endpoint));
	fprintf(out, "oauth2_device_endpoint = %s\n",
	        val(a, s.device_endpoint));
	fprintf(out, "oauth2_authorize_endpoint = %s\n",
	        val(a, s.authorize_endpoint));
	fprintf(out, "oauth2_scope = %s\n", val(a, s.scope));
	fprintf(out, "oauth2_trust_file = %s\n",
	        s.trust_file ? val(a, s.trust_file) : "system");
	fprintf(out, "oauth2_store = %s\n",
	        a->hidden                                      ? "file (system)"
	        : a->oauth2_store == CONF_OAUTH2_STORE_KEYRING ? "keyring"
	        : a->oauth2_store == CONF_OAUTH2_STORE_FILE    ? "file"
	                                                       : "auto");
}

/* The host (and port) of an https:// URL, into out. */
static const char *
url_host(const char *url, char *out, size_t n)
{
	const char *h = url ? strstr(url, "://") : NULL;

	if (!h) {
		str_copy(out, n, "none");
		return out;
	}
	h += 3;
	snprintf(out, n, "%.*s", (int)strcspn(h, "/?"), h);
	return out;
}

/* "until 2026-12-07 18:30:00 UTC (55 min left)" or "expired at ...". */
static void
expiry_words(long long at, char *out, size_t n)
{
	char when[64];
	long long left = at - (long long)time(NULL);

	if (!str_utc_time(when, sizeof when, (time_t)at))
		str_copy(when, sizeof when, "(a time out of range)");
	if (left > 0)
		snprintf(out, n,
		         "cached until %s (%lld min left; refreshed %d s "
		         "before)",
		         when, left / 60, 120);
	else
		snprintf(out, n,
		         "cached, expired at %s: a send gets a new one with "
		         "the refresh token",
		         when);
}

void
pretend_oauth2_state(const struct job *job, struct pretend_oauth2 *w)
{
	const struct account *a = &job->acct;
	struct oauth2_settings s;
	struct tokstore_key k;
	struct tokstore_status st;
	struct error err;
	char th[256], dh[256], ah[256], cmd[512];

	memset(w, 0, sizeof *w);
	error_clear(&err);
#ifndef HAVE_LIBCURL
	w->no_https = "this build has no libcurl: no access token can be "
	              "requested (a send fails with 69 once none is cached, "
	              "--oauth2-login too); rebuild with libcurl4-gnutls-dev "
	              "installed";
#endif
	if (provider_resolve(a, &s, &err) < 0) {
		snprintf(w->where, sizeof w->where, "%s", err.msg);
		return;
	}
	w->ok = true;
	snprintf(w->where, sizeof w->where,
	         "%s: token endpoint %s, device grant %s, browser login %s; "
	         "client id %s, client secret %s",
	         s.provider, url_host(s.token_endpoint, th, sizeof th),
	         url_host(s.device_endpoint, dh, sizeof dh),
	         url_host(s.authorize_endpoint, ah, sizeof ah),
	         val(a, s.client_id),
	         s.client_secret        ? "set (not shown)"
	         : s.client_secret_eval ? "from oauth2_client_secret_eval (not "
	                                  "run here)"
	                                : "none (a public client)");
	if (a->hidden) {
		str_copy(w->refresh, sizeof w->refresh,
		         "the system configuration's, kept with the group "
		         "(not shown)");
		str_copy(w->access, sizeof w->access,
		         "the system configuration's (not shown)");
		w->logged_in = true;
		return;
	}
	/* As relay.c does before a send reads it: the token file holds the
	 * refresh token, so no core dump, no ptrace by the user's other
	 * processes once it is in memory. */
	if (secret_protect_process(&err) < 0) {
		snprintf(w->refresh, sizeof w->refresh, "%s", err.msg);
		str_copy(w->access, sizeof w->access, "not read");
		w->refused = true;
		return;
	}
	tokstore_key_init(&k, a, &s);
	k.config = job->req.config_file;
	if (tokstore_status(&k, &st, &err) < 0) {
		snprintf(w->refresh, sizeof w->refresh, "%s", err.msg);
		str_copy(w->access, sizeof w->access, "none readable");
		w->refused = true;
		return;
	}
	if (st.refresh == TOKSTORE_AUTO) {
		tokstore_login_command(k.config, a->name, cmd, sizeof cmd);
		snprintf(w->refresh, sizeof w->refresh,
		         "none: no login yet: %s", cmd);
	} else if (st.refresh == TOKSTORE_KEYRING)
		str_copy(
		    w->refresh, sizeof w->refresh,
		    "in the keyring (secret-tool, service mailpost-oauth2)");
	else
		snprintf(w->refresh, sizeof w->refresh, "in %s", st.path);
	w->logged_in = st.refresh != TOKSTORE_AUTO;
	if (st.has_access)
		expiry_words(st.access_expires_at, w->access, sizeof w->access);
	else
		str_copy(w->access, sizeof w->access,
		         w->logged_in ? "none cached: a send gets one with the "
		                        "refresh token"
		                      : "none cached");
}

static void
print_connection(FILE *out, const struct account *a)
{
	if (a->deliver == CONF_DELIVER_MX)
		fprintf(out, "deliver = mx\n");
	fprintf(out, "host = %s\n", or_unset(a->host));
	fprintf(out, "port = %d\n", submit_port(a));
	/* How the connection is made matters as much as where: a Tor
	 * set-up checks here that the proxy is used. */
	fprintf(out, "source_ip = %s\n", val(a, a->source_ip));
	fprintf(out, "socket = %s\n", val(a, a->socket));
	fprintf(out, "proxy_host = %s\n", val(a, a->proxy_host));
	if (a->proxy_host && *a->proxy_host && a->hidden)
		fprintf(out, "proxy_port = (set, hidden)\n");
	else if (a->proxy_host && *a->proxy_host)
		fprintf(out, "proxy_port = %d\n",
		        a->proxy_port ? a->proxy_port : SOCKS_PORT);
	else
		fprintf(out, "proxy_port = (not set)\n");
	fprintf(out, "protocol = %s\n", a->lmtp ? "lmtp" : "smtp");
	if (a->timeout)
		fprintf(out, "timeout = %d\n", a->timeout);
	else
		fprintf(out, "timeout = (built in: RFC 5321 4.5.3.2)\n");
	fprintf(out, "domain = %s\n", val(a, a->domain));
	fprintf(out, "pipelining = %s\n", on_off(a->pipelining));
	fprintf(out, "chunking = %s\n", on_off(a->chunking));
	fprintf(out, "tls = %s\n", on_off(a->tls));
	fprintf(out, "tls_starttls = %s\n", on_off(a->tls_starttls));
	fprintf(out, "tls_trust_file = %s\n",
	        a->tls_trust_file ? val(a, a->tls_trust_file) : "system");
	fprintf(out, "tls_fingerprint = %s\n", val(a, a->tls_fingerprint));
	fprintf(out, "tls_cert_file = %s\n", val(a, a->tls_cert_file));
	fprintf(out, "tls_key_file = %s\n", val(a, a->tls_key_file));
	fprintf(out, "tls_certcheck = %s\n", on_off(a->tls_certcheck));
	fprintf(out, "tls_priorities = %s\n", val(a, a->tls_priorities));
	fprintf(out, "tls_host_override = %s\n", val(a, a->tls_host_override));
	fprintf(out, "tls_session_cache = %s\n", on_off(a->tls_session_cache));
	/* Where DNS look-ups go (direct delivery, --configure): dns.h. */
	fprintf(out, "dns_server = %s\n",
	        a->dns_server ? val(a, a->dns_server)
	                      : "(not set: /etc/resolv.conf's)");
	fprintf(out, "dnssec_trust_anchor = %s\n",
	        a->dnssec_trust_anchor
	            ? val(a, a->dnssec_trust_anchor)
	            : "(not set: /usr/share/dns/root.key when readable)");
}

static void
print_message_settings(FILE *out, const struct job *job)
{
	const struct account *a = &job->acct;

	if (job->req.read_envelope_from)
		fprintf(out,
		        "envelope-from = (the From field of the message)\n");
	else
		fprintf(out, "envelope-from = %s\n", or_unset(job->env.sender));
	fprintf(out, "set_from_header = %s\n",
	        from_header_name(a->set_from_header));
	fprintf(out, "set_date_header = %s\n",
	        a->set_date_header ? "auto" : "off");
	fprintf(out, "set_msgid_header = %s\n",
	        a->set_msgid_header ? "auto" : "off");
	fprintf(out, "remove_bcc_headers = %s\n",
	        on_off(a->remove_bcc_headers));
	fprintf(out, "undisclosed_recipients = %s\n",
	        on_off(a->undisclosed_recipients));
	fprintf(out, "dsn_notify = %s\n", or_unset(a->dsn_notify));
	fprintf(out, "dsn_return = %s\n", or_unset(a->dsn_return));
	fprintf(out, "aliases = %s\n", val(a, a->aliases));
	fprintf(out, "logfile = %s\n", val(a, a->logfile));
	fprintf(out, "logfile_level = %s\n",
	        a->logfile_transcript ? "transcript" : "summary");
	fprintf(out, "syslog = %s\n", a->syslog_facility < 0 ? "off" : "on");
}

int
pretend_settings(FILE *out, const struct job *job, struct error *err)
{
	const struct account *a = &job->acct;

	fprintf(out, "configuration file = %s\n", a->file ? a->file : "(none)");
	fprintf(out, "account = %s\n",
	        a->name ? a->name : "(command line only)");
	print_connection(out, a);
	print_credentials(out, a);
	print_oauth2(out, a);
	print_message_settings(out, job);
	return fflush(out) == 0 && !ferror(out)
	           ? 0
	           : error_set(err, ERROR_IOERR,
	                       "cannot write to standard output");
}

/* --dry-run's lines on diag: one prefix, so that nothing mistakes them
 * for the message (which is alone on stdout) or for an error. */
#define DRY "mailpost: dry run: "

/* The DSN parameters as they would go on the wire: NOTIFY and RET in
 * upper case (smtp.c), the ENVID as given (xtext only on the wire). */
static void
print_dsn(FILE *diag, const struct envelope_dsn *d)
{
	char *notify = d->notify ? xstrdup_upper(d->notify) : NULL;
	char *ret = d->ret ? xstrdup_upper(d->ret) : NULL;

	fprintf(diag, DRY "DSN%s%s%s%s%s%s\n", notify ? " NOTIFY=" : "",
	        notify ? notify : "", ret ? " RET=" : "", ret ? ret : "",
	        d->envid ? " ENVID=" : "", d->envid ? d->envid : "");
	free(notify);
	free(ret);
}

static void
print_envelope(FILE *diag, const struct job *job)
{
	const struct account *a = &job->acct;
	const struct envelope *e = &job->env;

	fprintf(diag, DRY "nothing is sent; the message is on standard "
	                  "output\n");
	if (a->name)
		fprintf(diag, DRY "account %s (%s)\n", a->name,
		        a->file ? a->file : "no file");
	else
		fprintf(diag, DRY "account (command line only)\n");
	fprintf(diag, DRY "sender <%s>\n", e->sender ? e->sender : "");
	for (size_t i = 0; i < e->nrcpts; i++)
		fprintf(diag, DRY "recipient <%s>\n", e->rcpts[i].addr);
	if (e->dsn.notify || e->dsn.ret || e->dsn.envid)
		print_dsn(diag, &e->dsn);
}

/* How the connection would be made: where, through what. */
static void
plan_connection(FILE *diag, const struct account *a)
{
	const char *way = "directly";
	char via[600] = "";

	if (a->socket && *a->socket) {
		snprintf(via, sizeof via, "through the socket %s",
		         val(a, a->socket));
		way = via;
	} else if (a->proxy_host && *a->proxy_host && a->hidden) {
		way = "through a SOCKS5 proxy (hidden)";
	} else if (a->proxy_host && *a->proxy_host) {
		snprintf(via, sizeof via, "through the SOCKS5 proxy %s port %d",
		         a->proxy_host,
		         a->proxy_port ? a->proxy_port : SOCKS_PORT);
		way = via;
	}
	if (a->deliver == CONF_DELIVER_MX) {
		fprintf(diag,
		        DRY "would deliver to each recipient domain's MX hosts "
		            "(deliver mx), port %d, STARTTLS when offered, the "
		            "certificate not checked\n",
		        submit_port(a));
		return;
	}
	if (!a->host || !*a->host) {
		fprintf(diag, DRY "would have no server to connect to: set "
		                  "'host' or give --host\n");
		return;
	}
	fprintf(diag, DRY "would connect to %s port %d %s, and speak %s\n",
	        a->host, submit_port(a), way,
	        a->lmtp ? "LMTP (RFC 2033)" : "SMTP");
}

static const char *
certificate_check(const struct account *a)
{
	if (a->tls_fingerprint && *a->tls_fingerprint)
		return "the certificate pinned by tls_fingerprint";
	if (!a->tls_certcheck)
		return "the certificate NOT checked (tls_certcheck off)";
	if (a->tls_trust_file && *a->tls_trust_file)
		return "the certificate checked against tls_trust_file";
	return "the certificate checked against the system's trust store";
}

static void
plan_tls(FILE *diag, const struct account *a)
{
	if (a->deliver == CONF_DELIVER_MX) /* each hop's: plan_connection */
		return;
	if (!a->tls)
		fprintf(diag,
		        DRY "would use no TLS: the message%s go in the "
		            "clear\n",
		        provider_account_uses_oauth2(a)
		            ? " and the access token"
		        : a->auth && strcmp(a->auth, "off") != 0
		            ? " and the password"
		            : "");
	else if (a->tls_starttls)
		fprintf(diag, DRY "would require STARTTLS (RFC 3207), %s\n",
		        certificate_check(a));
	else
		fprintf(diag,
		        DRY "would use TLS from the start (RFC 8314), %s\n",
		        certificate_check(a));
}

/* Where the password would come from: the first source configured
 * (secret.h's order); none is read or run in a dry run. */
static const char *
password_source(const struct account *a)
{
	static const char *const said[] = {
	    /* In parentheses: one element, two literals (clang's
	     * -Wstring-concatenation). */
	    [SECRET_NONE] = ("a credential file, ~/.netrc, the keyring or a "
	                     "prompt, the first that has one"),
	    [SECRET_PASSWORD] = "the configuration's password",
	    [SECRET_EVAL] = "passwordeval (not run in a dry run)",
	    [SECRET_FD] = "passwordfd",
	    [SECRET_CRED] = "passwordcred",
	    [SECRET_ENV] = "passwordenv",
	};
	struct secret_request r;

	if (a->hidden)
		return "the system configuration (hidden)";
	secret_request_init(&r, a);
	return said[secret_configured(&r)];
}

/* An OAuth2 account's AUTH: the mechanism, and where the token would
 * come from. */
static void
plan_oauth2(FILE *diag, const struct job *job)
{
	const struct account *a = &job->acct;
	struct pretend_oauth2 w;

	pretend_oauth2_state(job, &w);
	if (!w.ok) {
		fprintf(diag, DRY "would not authenticate: %s\n", w.where);
		return;
	}
	fprintf(diag,
	        DRY "would authenticate as %s with an OAuth2 access token by "
	            "%s (%s)\n",
	        val(a, a->user),
	        a->auth && strcmp(a->auth, "oauthbearer") == 0 ? "OAUTHBEARER"
	        : a->auth && strcmp(a->auth, "xoauth2") == 0
	            ? "XOAUTH2"
	            : "OAUTHBEARER or XOAUTH2, whichever the server offers",
	        w.where);
	fprintf(diag, DRY "access token: %s\n", w.access);
	fprintf(diag, DRY "refresh token: %s\n", w.refresh);
	if (w.no_https)
		fprintf(diag, DRY "warning: %s\n", w.no_https);
}

static void
plan_auth(FILE *diag, const struct job *job)
{
	const struct account *a = &job->acct;

	if (provider_account_uses_oauth2(a)) {
		plan_oauth2(diag, job);
		return;
	}
	if (!a->auth || strcmp(a->auth, "off") == 0) {
		fprintf(diag, DRY "would not authenticate (auth off)\n");
		return;
	}
	fprintf(diag,
	        DRY "would authenticate as %s with %s; the password "
	            "from %s\n",
	        val(a, a->user),
	        strcmp(a->auth, "on") == 0 ? "the best mechanism offered"
	                                   : a->auth,
	        password_source(a));
}

static void
plan_queue(FILE *diag, enum queue_policy policy)
{
	fprintf(diag, DRY "%s\n",
	        policy == QUEUE_ALWAYS
	            ? "would queue the message without trying (queue always)"
	        : policy == QUEUE_NEVER
	            ? "on a temporary failure would report it, exit 75 "
	              "(queue never)"
	            : "on a temporary failure would queue the message, exit 0 "
	              "(queue on-failure)");
}

int
pretend_envelope(FILE *diag, const struct job *job, enum queue_policy policy,
                 struct error *err)
{
	const struct account *a = &job->acct;

	print_envelope(diag, job);
	/* No server is asked, so whether it can be sent is not known. */
	if (job->stream.has_nul)
		fprintf(diag, DRY "the body has NUL bytes: it can go only to a "
		                  "server that offers BINARYMIME and CHUNKING "
		                  "(RFC 3030 3), any other refuses it (65)\n");
	if (job->req.verbosity > 0) {
		plan_connection(diag, a);
		plan_tls(diag, a);
		plan_auth(diag, job);
		plan_queue(diag, policy);
	}
	return fflush(diag) == 0 && !ferror(diag)
	           ? 0
	           : error_set(err, ERROR_IOERR,
	                       "cannot write to standard error");
}
