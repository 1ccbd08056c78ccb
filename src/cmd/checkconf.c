/*
 * checkconf.c - --check-config: the settings, then what would go wrong,
 * one check per line, without connecting (checkconf.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkconf.h"

#include "mxroute.h"
#include "pretend.h"
#include "provider.h"
#include "secret.h"
#include "serverinfo.h"
#include "submit.h"
#include "tls.h"

static const char *const level_word[] = {
    [CHECKCONF_OK] = "OK  ",
    [CHECKCONF_WARN] = "WARN",
    [CHECKCONF_FAIL] = "FAIL",
};

void
checkconf_say(struct checkconf_report *r, enum checkconf_level level,
              const char *what, const char *fmt, ...)
{
	va_list ap;

	if (level == CHECKCONF_WARN)
		r->warnings++;
	else if (level == CHECKCONF_FAIL)
		r->failures++;
	fprintf(r->out, "%s  %s: ", level_word[level], what);
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->out);
}

static bool
auth_wanted(const struct account *a)
{
	return (a->auth && strcmp(a->auth, "off") != 0) ||
	       provider_account_uses_oauth2(a);
}

/* Which file was read, or why none was. */
static void
check_file(const struct job *job, struct checkconf_report *r)
{
	const struct account *a = &job->acct;
	char *looked;

	if (job->cfg && a->file && job->req.config_file) {
		checkconf_say(r, CHECKCONF_OK, "file", "%s (given with -C)",
		              a->file);
		return;
	}
	if (job->cfg && a->file) {
		looked = conf_looked_for();
		checkconf_say(r, CHECKCONF_OK, "file",
		              "%s (the first that exists of: %s)", a->file,
		              looked);
		free(looked);
		return;
	}
	if (job->req.msmtp && job->req.host) {
		checkconf_say(r, CHECKCONF_OK, "file",
		              "none read: called as msmtp, --host uses only "
		              "the command line's settings");
		return;
	}
	looked = conf_looked_for();
	if (job->req.host)
		checkconf_say(r, CHECKCONF_OK, "file",
		              "none (looked for %s); --host gives the server",
		              looked);
	else
		checkconf_say(r, CHECKCONF_FAIL, "file",
		              "none (looked for %s); write one "
		              "(mailpost.conf(5)), or give --host HOST",
		              looked);
	free(looked);
}

/* Which account the command line chose, and why: msmtp's rule (--account,
 * else the first account whose `from` matches -f, else the default). */
static void
check_account(const struct job *job, struct checkconf_report *r)
{
	const struct account *a = &job->acct;
	const char *name = a->name ? a->name : "default";
	const char *sender = job->sender_given;

	if (!job->cfg)
		checkconf_say(r, CHECKCONF_OK, "account",
		              "none: the command line's settings only");
	else if (job->req.account)
		checkconf_say(r, CHECKCONF_OK, "account",
		              "%s, asked for with --account", name);
	else if (sender && a->from && conf_from_matches(a->from, sender))
		checkconf_say(r, CHECKCONF_OK, "account",
		              "%s, chosen by -f %s, which its 'from %s' "
		              "matches",
		              name, sender, a->hidden ? "(hidden)" : a->from);
	else if (sender)
		checkconf_say(r, CHECKCONF_OK, "account",
		              "%s: no account's 'from' matches -f %s", name,
		              sender);
	else
		checkconf_say(r, CHECKCONF_OK, "account",
		              "%s (no -f or --account given: give -f ADDRESS "
		              "to see which account it would choose)",
		              name);
}

/* Who may read and change the file.  One holding a password that others
 * may read was refused when it was read (conf.c): here, what is left. */
static void
check_permissions(const struct job *job, struct checkconf_report *r)
{
	const char *path = job->acct.file;
	bool system = conf_is_system_file(path);
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return; /* /dev/null, or gone since: nothing to judge */
	if (st.st_mode & 022)
		checkconf_say(r, CHECKCONF_WARN, "permissions",
		              "%s (mode %04o) can be changed by others, who "
		              "could send your mail elsewhere; run 'chmod go-w "
		              "%s'",
		              path, (unsigned)(st.st_mode & 07777), path);
	else if (system && st.st_uid != 0)
		checkconf_say(r, CHECKCONF_WARN, "permissions",
		              "%s is owned by uid %lu, not root; run 'chown "
		              "root %s'",
		              path, (unsigned long)st.st_uid, path);
	else if (!system && st.st_uid != getuid())
		checkconf_say(r, CHECKCONF_WARN, "permissions",
		              "%s is owned by uid %lu, not by you; run 'chown "
		              "%lu %s'",
		              path, (unsigned long)st.st_uid,
		              (unsigned long)getuid(), path);
	else
		checkconf_say(r, CHECKCONF_OK, "permissions",
		              "%s, mode %04o, owner uid %lu", path,
		              (unsigned)(st.st_mode & 07777),
		              (unsigned long)st.st_uid);
}

/* deliver mx: no server of its own, and none of the keys that lead to
 * one (mxroute_new's check, as a send makes it). */
static void
check_direct(struct checkconf_report *r, const struct account *a)
{
	struct mxroute *m;
	struct error err;

	if (mxroute_new(&m, a, NULL, &err) < 0) {
		checkconf_say(r, CHECKCONF_FAIL, "host", "%s", err.msg);
		return;
	}
	mxroute_free(m);
	checkconf_say(r, CHECKCONF_OK, "host",
	              "none: each recipient domain's MX hosts (deliver mx), "
	              "port %d, STARTTLS when offered",
	              submit_port(a));
}

static void
check_host(const struct job *job, struct checkconf_report *r)
{
	const struct account *a = &job->acct;

	if (!job->cfg && !job->req.host && a->deliver != CONF_DELIVER_MX)
		return; /* said by the file's check */
	if (a->deliver == CONF_DELIVER_MX)
		check_direct(r, a);
	else if (!a->host || !*a->host)
		checkconf_say(r, CHECKCONF_FAIL, "host",
		              "account '%s' has no 'host'; set it in %s, or "
		              "give --host HOST",
		              a->name ? a->name : "default",
		              a->file ? a->file : "the file");
	else
		checkconf_say(r, CHECKCONF_OK, "host", "%s, port %d, %s%s",
		              a->host, submit_port(a),
		              !a->tls           ? "no TLS"
		              : a->tls_starttls ? "STARTTLS required"
		                                : "TLS from the start",
		              a->lmtp ? ", LMTP" : "");
}

/* The trust a TLS session would consult, loaded as a send would. */
static void
check_trust(const struct account *a, struct checkconf_report *r)
{
	struct tls_params p = {
	    .trust_file = a->tls_trust_file,
	    .crl_file = a->tls_crl_file,
	    .fingerprint = a->tls_fingerprint,
	    .no_certcheck = !a->tls_certcheck,
	    .private_names = a->hidden,
	};
	const char *file = a->tls_trust_file;
	struct error err;
	int n;

	error_clear(&err);
	if (tls_check_credentials(&p, &n, &err) < 0)
		checkconf_say(r, CHECKCONF_FAIL, "trust", "%s", err.msg);
	else if (p.fingerprint && *p.fingerprint)
		checkconf_say(r, CHECKCONF_OK, "trust",
		              "the certificate is pinned (tls_fingerprint); no "
		              "CA is consulted");
	else if (p.no_certcheck)
		checkconf_say(r, CHECKCONF_WARN, "trust",
		              "tls_certcheck is off: any certificate is "
		              "accepted, so anyone on the way can read the "
		              "mail and the password; set tls_fingerprint, or "
		              "tls_certcheck on");
	else if (file && !*file)
		checkconf_say(r, CHECKCONF_FAIL, "trust",
		              "tls_trust_file is empty and there is no "
		              "tls_fingerprint: no certificate can be trusted; "
		              "set one of them");
	else if (!file || strcmp(file, "system") == 0)
		checkconf_say(r, CHECKCONF_OK, "trust",
		              "the system's trust store, %d certificates", n);
	else
		checkconf_say(r, CHECKCONF_OK, "trust", "%s, %d certificates",
		              a->hidden ? "tls_trust_file (hidden)" : file, n);
}

static void
check_client_cert(const struct account *a, struct checkconf_report *r)
{
	/* Nothing but the pair: no trust is loaded (no_certcheck). */
	struct tls_params p = {
	    .cert_file = a->tls_cert_file,
	    .key_file = a->tls_key_file,
	    .no_certcheck = true,
	};
	struct error err;
	int n;

	if (!p.cert_file && !p.key_file)
		return;
	/* Read with the group only when a send needs it (job.c): the
	 * caller could not open them here. */
	if (a->hidden) {
		checkconf_say(r, CHECKCONF_OK, "client certificate",
		              "set, hidden; only root's --check-config loads "
		              "it");
		return;
	}
	error_clear(&err);
	if (tls_check_credentials(&p, &n, &err) < 0)
		checkconf_say(r, CHECKCONF_FAIL, "client certificate", "%s",
		              err.msg);
	else
		checkconf_say(r, CHECKCONF_OK, "client certificate",
		              "%s and %s load", p.cert_file, p.key_file);
}

static void
check_tls(const struct account *a, struct checkconf_report *r)
{
	if (a->deliver == CONF_DELIVER_MX) {
		/* Each hop's policy decides (mxroute_hop_tls); the account's
		 * trust and client certificate serve it. */
		checkconf_say(r, CHECKCONF_OK, "tls",
		              "each MX host's: STARTTLS when offered");
		check_trust(a, r);
		check_client_cert(a, r);
		return;
	}
	if (!a->tls) {
		if (auth_wanted(a))
			checkconf_say(r, CHECKCONF_WARN, "tls",
			              "off: the password and the mail would go "
			              "in the clear; set 'tls on'");
		else
			checkconf_say(
			    r, CHECKCONF_OK, "tls",
			    "off (the mail goes in the clear: right "
			    "for a relay on this machine or its LAN)");
		return;
	}
	check_trust(a, r);
	check_client_cert(a, r);
}

/* The secret, got as a send gets it but without a prompt: the command
 * runs, the keyring is asked; what they give is wiped unseen. */
static void
check_password(const struct account *a, struct checkconf_report *r)
{
	struct secret_request req;
	struct secret s = {0};
	struct error err;

	if (!auth_wanted(a)) {
		checkconf_say(r, CHECKCONF_OK, "password",
		              "not needed (auth off)");
		return;
	}
	/* The group is gone: its passwordeval may not run for this caller
	 * (nor would it work), and what it is may not be said. */
	if (a->hidden) {
		checkconf_say(r, CHECKCONF_OK, "password",
		              "the system configuration's, hidden; only root's "
		              "--check-config tries its source");
		return;
	}
	secret_request_init(&req, a);
	req.prompt = false;
	error_clear(&err);
	/* As relay.c does before a send gets it: no core dump, no ptrace
	 * by the user's other processes while it is in memory. */
	if (secret_protect_process(&err) < 0)
		checkconf_say(r, CHECKCONF_FAIL, "password", "%s", err.msg);
	else if (secret_get(&req, &s, &err) == 0)
		checkconf_say(r, CHECKCONF_OK, "password",
		              "%s gave one (not shown)",
		              secret_source_name(s.source));
	else if (secret_configured(&req) != SECRET_NONE)
		checkconf_say(r, CHECKCONF_FAIL, "password", "%s", err.msg);
	else
		checkconf_say(r, CHECKCONF_WARN, "password",
		              "%s; a send would ask on the terminal, and fail "
		              "without one",
		              err.msg);
	secret_free(&s);
}

/* An OAuth2 account's credentials instead of a password: what it would
 * use, where its refresh token is, the cached access token's expiry;
 * nothing asked of the network or the keyring, no token shown. */
static void
check_oauth2(const struct job *job, struct checkconf_report *r)
{
	struct pretend_oauth2 w;

	pretend_oauth2_state(job, &w);
	if (!w.ok) {
		checkconf_say(r, CHECKCONF_FAIL, "oauth2", "%s", w.where);
		return;
	}
	checkconf_say(r, CHECKCONF_OK, "oauth2", "%s", w.where);
	checkconf_say(r,
	              w.refused     ? CHECKCONF_FAIL
	              : w.logged_in ? CHECKCONF_OK
	                            : CHECKCONF_WARN,
	              "refresh token", "%s", w.refresh);
	checkconf_say(r, CHECKCONF_OK, "access token", "%s", w.access);
	if (w.no_https)
		checkconf_say(r, CHECKCONF_WARN, "oauth2", "%s", w.no_https);
}

/* The sender is chosen before the settings are printed (they show it);
 * its line comes with the others. */
static int
choose_sender(struct job *job, struct error *err)
{
	error_clear(err);
	if (job->req.read_envelope_from)
		return 0;
	return job_choose_sender(job, err);
}

static void
check_sender(const struct job *job, int rc, const struct error *err,
             struct checkconf_report *r)
{
	if (job->req.read_envelope_from)
		checkconf_say(r, CHECKCONF_OK, "sender",
		              "the From of each message "
		              "(--read-envelope-from)");
	else if (rc < 0)
		checkconf_say(r, CHECKCONF_FAIL, "sender", "%s", err->msg);
	else
		checkconf_say(r, CHECKCONF_OK, "sender", "<%s>",
		              job->env.sender);
}

int
checkconf_local(struct job *job, struct checkconf_report *r, struct error *err)
{
	const struct account *a = &job->acct;
	struct error sender_err;
	int sender_rc = choose_sender(job, &sender_err);

	if (pretend_settings(r->out, job, err) < 0)
		return -1;
	fputc('\n', r->out);
	check_file(job, r);
	check_account(job, r);
	if (job->cfg && a->file)
		check_permissions(job, r);
	check_host(job, r);
	check_tls(a, r);
	if (provider_account_uses_oauth2(a))
		check_oauth2(job, r);
	else
		check_password(a, r);
	check_sender(job, sender_rc, &sender_err, r);
	return 0;
}

int
checkconf_finish(struct checkconf_report *r, struct error *err)
{
	fprintf(r->out, "%u warning%s, %u failure%s\n", r->warnings,
	        r->warnings == 1 ? "" : "s", r->failures,
	        r->failures == 1 ? "" : "s");
	if (fflush(r->out) != 0 || ferror(r->out))
		return error_set(err, ERROR_IOERR,
		                 "cannot write to standard output");
	if (r->failures)
		return error_set(err, ERROR_CONFIG,
		                 "the configuration failed %u check%s (FAIL "
		                 "above); fix %s and run --check-config again",
		                 r->failures, r->failures == 1 ? "" : "s",
		                 r->failures == 1 ? "it" : "them");
	return 0;
}

/* --connect: the probe's report, then its line. */
static int
check_connect(struct job *job, struct checkconf_report *r, struct error *err)
{
	static const enum checkconf_level level[] = {
	    [SERVERINFO_OK] = CHECKCONF_OK,
	    [SERVERINFO_WARN] = CHECKCONF_WARN,
	    [SERVERINFO_FAIL] = CHECKCONF_FAIL,
	};
	enum serverinfo_verdict v;
	struct error why;

	error_clear(&why);
	if (serverinfo_connect(job, r->out, r->diag, &v, &why, err) < 0)
		return -1;
	checkconf_say(r, level[v], "connect", "%s", why.msg);
	if (v == SERVERINFO_FAIL)
		r->probe_failed = why.kind;
	return 0;
}

int
checkconf_run(struct job *job, FILE *out, FILE *diag, struct error *err)
{
	struct checkconf_report r = {.out = out, .diag = diag};
	int rc;

	if (job_load_account(job, err) < 0 || checkconf_local(job, &r, err) < 0)
		return -1;
	if (job->req.connect && check_connect(job, &r, err) < 0)
		return -1;
	rc = checkconf_finish(&r, err);
	/* Only the server failed: that is no configuration error, and the
	 * exit status is the one a send would have had. */
	if (rc < 0 && err->kind == ERROR_CONFIG && r.failures == 1 &&
	    r.probe_failed != ERROR_NONE)
		return error_set(err, r.probe_failed,
		                 "the configuration passed its checks; the "
		                 "server did not (FAIL connect above)");
	return rc;
}
