/*
 * job.c - the job of one run: its account, its sender, its recipients,
 * and releasing it all (job.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "job.h"

#include "bearer.h"
#include "buf.h"
#include "identity.h"
#include "privilege.h"
#include "provider.h"
#include "secret.h"
#include "spoolgate.h"

/* The modes that may connect to a server, and so need a password. */
static bool
needs_secrets(const struct request *req)
{
	return (req->mode == CLI_SEND && !req->dry_run) ||
	       req->mode == CLI_QUEUE_FLUSH || req->mode == CLI_SERVE ||
	       req->mode == CLI_SMUGGLE_TEST;
}

struct eval_ctx {
	const struct config *cfg;
	const char *path;
	/* Accounts inherit the command of the defaults or a parent: it
	 * runs once, its output reused for the same command. */
	char *last_command;
	char *last_secret; /* NULL: it failed, with last_err */
	struct error last_err;
};

static void
eval_forget(struct eval_ctx *cx)
{
	str_wipe_free(&cx->last_secret);
	free(cx->last_command);
	cx->last_command = NULL;
}

/* A passwordeval of the system configuration, run with the group: only
 * when no one but root could have written the command. */
static int
eval_with_group(const char *command, int timeout_s, void *arg, char **out,
                struct error *err)
{
	struct eval_ctx *cx = arg;
	const char *group = privilege_group();
	struct secret s;

	if (!conf_root_only(cx->cfg))
		return error_set(err, ERROR_CONFIG,
		                 "%s has a passwordeval, which runs with the "
		                 "group %s only when the file is owned by root "
		                 "and writable by no one else; run 'chown "
		                 "root:%s %s' and 'chmod 640 %s'",
		                 cx->path, group, group, cx->path, cx->path);
	if (cx->last_command && strcmp(cx->last_command, command) == 0) {
		if (!cx->last_secret) {
			*err = cx->last_err;
			return -1;
		}
		*out = xstrdup(cx->last_secret);
		return 0;
	}
	eval_forget(cx);
	cx->last_command = xstrdup(command);
	if (secret_eval_system(command, timeout_s, &s, err) < 0) {
		cx->last_err = *err;
		return -1;
	}
	*out = xstrdup(s.data);
	cx->last_secret = xstrdup(s.data);
	secret_free(&s);
	return 0;
}

/* A secret file of the system configuration (a TLS client key or
 * certificate), read with the group into an anonymous memory file that
 * the run reads after the group is gone, as /proc/self/fd/N: only this
 * process can open that name, and no child inherits the descriptor. */
static int
copy_with_group(const char *path, void *arg, char **out, struct error *err)
{
	int in, mem = -1, rc = -1;
	struct buf b;
	char name[64];

	(void)arg;
	in = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (in < 0)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "cannot read %s", path);
	buf_init(&b, CONF_FILE_MAX);
	if (buf_read_fd(&b, in) < 0)
		error_set_errno(err, ERROR_CONFIG, errno, "cannot read %s",
		                path);
	else if ((mem = memfd_create("mailpost-secret", MFD_CLOEXEC)) < 0 ||
	         fd_write_all(mem, b.data, b.len) < 0 ||
	         lseek(mem, 0, SEEK_SET) < 0)
		error_set_errno(err, ERROR_OSERR, errno,
		                "cannot keep a copy of %s", path);
	else
		rc = 0;
	close(in);
	buf_clear_secret(&b);
	if (rc < 0) {
		if (mem >= 0)
			close(mem);
		return -1;
	}
	snprintf(name, sizeof name, "/proc/self/fd/%d", mem);
	*out = xstrdup(name);
	return 0;
}

/* A syntax error ("FILE:LINE: what is wrong") quotes the file's text,
 * which only root and the group may read: the caller gets where, not
 * what. */
static void
hide_details(const char *path, struct error *err)
{
	size_t n = strlen(path);
	const char *p = err->msg + n;
	unsigned long line;
	char *end;

	if (strncmp(err->msg, path, n) != 0 || *p != ':')
		return;
	line = strtoul(p + 1, &end, 10);
	if (end == p + 1 || *end != ':')
		return;
	conf_hide_at(err, path, line);
}

/* One-off settings that would take the system configuration's password
 * somewhere it does not say (another server, a proxy, without TLS or
 * its checks, another mechanism or user); the first given, or NULL. */
static const char *
redirecting_option(const struct request *req)
{
	if (req->host)
		return "--host";
	if (req->port)
		return "--port";
	if (req->socket)
		return "--socket";
	if (req->proxy_host || req->proxy_port)
		return "--proxy-host";
	if (req->tls || req->tls_starttls || req->tls_certcheck ||
	    req->tls_trust_file || req->tls_crl_file || req->tls_fingerprint ||
	    req->tls_cert_file || req->tls_key_file || req->tls_priorities ||
	    req->tls_host_override)
		return "--tls...";
	if (req->auth)
		return "--auth";
	if (req->user)
		return "--user";
	return NULL;
}

/* What a caller outside the group may ask of the system configuration. */
static int
check_system_use(const struct request *req, struct error *err)
{
	const char *option = redirecting_option(req);

	/* --check-config shows this caller the system configuration's
	 * values as hidden (account.hidden) and tries none of its secrets. */
	/* Refused before any of its own secrets is resolved: the
	 * account's password is the system's, and the caller's would only
	 * be tried on the system's user at the system's server. */
	if (req->passwordeval || req->password_fd_given || req->password_env)
		return error_set(err, ERROR_USAGE,
		                 "a password given on the command line cannot "
		                 "be used with the system configuration's "
		                 "account, whose password is the system's; "
		                 "give your own settings with -C FILE");
	/* The exchange it shows carries the system's password. */
	if (req->show_auth)
		return error_set(err, ERROR_USAGE,
		                 "--show-auth would show the system "
		                 "configuration's password, which only root "
		                 "and the system sendmail's group may see; "
		                 "give your own settings with -C FILE");
	if (option)
		return error_set(err, ERROR_USAGE,
		                 "%s cannot change how the system "
		                 "configuration's account connects: it could "
		                 "take its password elsewhere; give your own "
		                 "settings with -C FILE",
		                 option);
	/* Its refresh token would be the machine's, used for every
	 * user's mail: root logs it in (oauthlogin.h). */
	if (req->mode == CLI_OAUTH2_LOGIN)
		return error_set(
		    err, ERROR_NOPERM,
		    "only root can log in the system "
		    "configuration's accounts with --oauth2-login; "
		    "give your own settings with -C FILE");
	/* Refused here, before the passwordeval commands of every account
	 * (a flush keeps them all) would run for nothing. */
	if (req->mode == CLI_QUEUE_FLUSH && !req->queue_dir)
		return error_set(
		    err, ERROR_USAGE,
		    "-q flushes the machine's spool, which root's "
		    "timer does every few minutes; run mailq to see "
		    "your messages, or give --queue-dir DIR to "
		    "flush a queue of your own");
	return 0;
}

/* The machine's spool, as job_queue_dir will name it: the queue_dir of
 * the system configuration's default account (the one root's timer
 * flushes, whatever account the caller chooses), else the build's spool.
 * Read before conf_keep_secrets, which makes conf_select refuse a default
 * account the caller did not choose. */
static char *
machine_spool_dir(const struct config *cfg)
{
	struct account a = {0};
	struct error ignored;
	char *dir;

	if (conf_select(cfg, NULL, NULL, &a, &ignored) == 0 && a.queue_dir &&
	    *a.queue_dir)
		dir = xstrdup(a.queue_dir);
	else
		dir = xstrdup(MTA_SPOOL_DIR);
	account_clear(&a);
	return dir;
}

static int parse_given_sender(struct job *job, struct error *err);
static int no_host(const struct job *job, struct error *err);
static const char *choosing_sender(const struct job *job);

/* Only the accounts this run may use keep the system configuration's
 * secrets: the one that -A or -f chooses (job_load_account chooses it
 * again from the same command line) and its fallback accounts, so that
 * no other account's passwordeval runs and no other password is in
 * memory.  -bs chooses its account once, at the start, like a send; a
 * message whose From is read later (--read-envelope-from) may choose any
 * account with a `from`.  -q keeps them all: its entries, each naming its
 * account, are read only after the group is gone. */
static void
keep_chosen_secrets(struct job *job)
{
	const struct request *req = &job->req;
	struct error ignored;

	if (req->mode == CLI_QUEUE_FLUSH)
		return;
	/* mailq, --queue-show and --queue-remove choose by -A alone
	 * (queuecmd.c) and need no secret at all. */
	if (req->mode != CLI_SEND && req->mode != CLI_SERVE &&
	    req->mode != CLI_PRETEND && req->mode != CLI_SERVERINFO) {
		conf_keep_secrets(job->cfg, req->account, NULL, false);
		return;
	}
	/* A -f that does not parse chooses nothing here; it is reported
	 * when job_load_account parses it again. */
	error_clear(&ignored);
	(void)parse_given_sender(job, &ignored);
	conf_keep_secrets(job->cfg, req->account, choosing_sender(job),
	                  req->read_envelope_from);
}

/* The system configuration's OAuth2 account chosen by the command line
 * (-A, -f, the default): its cached access token taken now, while the
 * group can still be raised, since the machine's token files are the
 * group's (tokstore.c raises it around each read).  A caller's run never
 * refreshes it (bearer.h: only root writes those files): without a
 * usable one the message waits for root's queue run.  The token, or the
 * failure, waits in job->system_token for the route.  A run whose
 * account is chosen later (--read-envelope-from) gets none: bearer.c
 * then says the message waits too. */
static void
system_token(struct job *job)
{
	const struct request *req = &job->req;
	struct relay_token *t = &job->system_token;
	struct account a = {0};
	struct error ignored;

	if (!needs_secrets(req) || req->mode == CLI_QUEUE_FLUSH ||
	    req->read_envelope_from)
		return;
	error_clear(&ignored);
	if (conf_select(job->cfg, req->account, choosing_sender(job), &a,
	                &ignored) == 0 &&
	    provider_account_uses_oauth2(&a)) {
		t->account = xstrdup(a.name ? a.name : "default");
		error_clear(&t->err);
		t->rc = bearer_get(&a, NULL, &t->token, &t->info, &t->err);
	}
	account_clear(&a);
}

/* The system configuration of a setgid installation, read with the group,
 * and the passwordeval commands of the accounts the run may use run with
 * it while it is held. */
static int
load_system_config(struct job *job, const char *path, struct error *err)
{
	struct eval_ctx cx = {.path = path};
	struct error lower_err;
	int rc;

	if (privilege_raise(err) < 0)
		return -1;
	rc = conf_read_file(path, &job->cfg, err);
	if (rc < 0)
		hide_details(path, err);
	conf_set_private(job->cfg);
	if (rc == 0)
		rc = check_system_use(&job->req, err);
	if (rc == 0) {
		job->spool_dir = machine_spool_dir(job->cfg);
		keep_chosen_secrets(job);
	}
	cx.cfg = job->cfg;
	if (rc == 0 && needs_secrets(&job->req))
		rc = conf_resolve_evals(job->cfg, eval_with_group, &cx, err);
	eval_forget(&cx);
	if (rc == 0 && needs_secrets(&job->req))
		rc = conf_resolve_files(job->cfg, copy_with_group, NULL, err);
	error_clear(&lower_err);
	if (privilege_lower(&lower_err) < 0 && rc == 0) {
		*err = lower_err;
		rc = -1;
	}
	if (rc == 0)
		system_token(job);
	return rc;
}

static int
load_config(struct job *job, struct error *err)
{
	char *path = NULL;
	int rc;

	/* msmtp's --host means "only the command line's settings": no file
	 * is read, so that an account's password, user and sender never go
	 * to a server the file does not name (msmtp refuses --account with
	 * it). */
	if (job->req.msmtp && job->req.host) {
		if (job->req.account)
			return error_set(
			    err, ERROR_USAGE,
			    "--host and --account (-a) cannot be "
			    "used together: called as msmtp, --host "
			    "uses only the command line's settings; "
			    "leave one out");
		return 0;
	}
	/* Found as the caller: the group is not effective here, so a
	 * variable of the caller's can only name a file the caller may
	 * read anyway. */
	if (conf_locate(job->req.config_file, &path, err) < 0)
		return -1;
	if (!path)
		return 0;
	job->system_config = !job->req.config_file && conf_is_system_file(path);
	/* -C or a user's own file: the group is given up for the whole
	 * run, before the file is opened (as sendmail does with -C). */
	if (privilege_held() && !job->req.config_file &&
	    conf_is_system_file(path))
		rc = load_system_config(job, path, err);
	else
		rc = privilege_drop(err) < 0
		         ? -1
		         : conf_read_file(path, &job->cfg, err);
	free(path);
	return rc;
}

/* The modes that may put a message into the spool or look into it. */
static bool
needs_spool(const struct request *req)
{
	switch (req->mode) {
	case CLI_SEND:
		return !req->dry_run;
	case CLI_SERVE:
	case CLI_QUEUE_LIST:
	case CLI_QUEUE_SHOW:
	case CLI_QUEUE_REMOVE:
		return true;
	default:
		return false;
	}
}

/* In the spool helper's child: nothing of the run stays, least of all
 * the system configuration's secrets (conf_free wipes them). */
static void
forget_job(void *arg)
{
	struct job *job = arg;

	conf_free(job->cfg);
	job->cfg = NULL;
	account_clear(&job->acct);
	relay_token_clear(&job->system_token);
	cli_clear(&job->req);
}

/* The spool helper, forked while the group is still held (privilege.h):
 * only for a caller outside the group with the system configuration
 * (the group is already gone for -C or a user's file, and root needs
 * none), and only in a mode that may need the spool. */
static int
start_gate(struct job *job, struct error *err)
{
	if (!privilege_held() || !job->system_config || job->req.queue_dir ||
	    !needs_spool(&job->req))
		return 0;
	return spoolgate_start(&job->gate, job->spool_dir, privilege_gid(),
	                       forget_job, job, err);
}

/* Read the configuration file, if there is one, once; then give up the
 * group of a setgid installation for good (privilege.h), the spool
 * helper keeping it in its own process. */
int
job_load_config(struct job *job, struct error *err)
{
	struct error drop_err;
	int rc;

	if (job->config_loaded)
		return 0;
	job->config_loaded = true;
	rc = load_config(job, err);
	if (rc == 0)
		rc = start_gate(job, err);
	error_clear(&drop_err);
	if (privilege_drop(&drop_err) < 0) {
		*err = drop_err;
		return -1;
	}
	return rc;
}

/* "root@myhost." or "Name <root@myhost.>": a domain written as an
 * absolute name (RFC 1034 3.1) is the same domain, but a Domain of RFC
 * 5321 4.1.2 has no trailing dot, so the dot goes rather than the
 * sender.  Anything else is copied as it is, for the parser to judge. */
static char *
drop_root_dot(const char *s)
{
	size_t n = strlen(s), end = n;
	char *out = xstrdup(s);

	while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
		end--;
	if (end > 0 && s[end - 1] == '>')
		end--;
	if (end >= 3 && s[end - 1] == '.' && s[end - 2] != '.' &&
	    s[end - 2] != '@' && memchr(s, '@', end - 1))
		memmove(out + end - 1, out + end, n - end + 1);
	return out;
}

/* -f as written: an address, or a mailbox with a display name ("Anna
 * <anna@example.org>"), whose name then goes into a From we write.  Read
 * before the account is chosen, since a `from` pattern is matched against
 * the address, not against what was typed. */
static int
parse_given_sender(struct job *job, struct error *err)
{
	struct address_entries list;
	char *sender;
	int rc;

	/* Parsed already when the system configuration's account was
	 * chosen (keep_chosen_secrets). */
	if (!job->req.sender || !*job->req.sender || job->sender_given)
		return 0;
	address_entries_init(&list);
	sender = drop_root_dot(job->req.sender);
	rc = address_parse_input(sender, ERROR_USAGE, &list, err);
	/* The error names what was typed, not what the dot left. */
	if (rc < 0 && strcmp(sender, job->req.sender) != 0)
		(void)address_parse_input(job->req.sender, ERROR_USAGE, &list,
		                          err);
	free(sender);
	if (rc == 0 && list.n != 1)
		rc = error_set(err, ERROR_USAGE,
		               "-f '%s' names more than one address",
		               job->req.sender);
	if (rc == 0) {
		job->sender_given = list.v[0].addr;
		job->sender_name = list.v[0].name;
		list.v[0].addr = list.v[0].name = NULL;
	}
	address_entries_clear(&list);
	return rc;
}

/* The sender given on the command line: -f's address, else --from's. */
static const char *
given_sender(const struct job *job)
{
	if (job->sender_given)
		return job->sender_given;
	return job->req.sender ? job->req.sender : job->req.from;
}

/* The sender that chooses the account by its `from`: -f's (or
 * --read-envelope-from's) address; --from alone chooses none. */
static const char *
choosing_sender(const struct job *job)
{
	return job->req.sender ? given_sender(job) : NULL;
}

int
job_no_config(const struct job *job, struct error *err)
{
	char *looked = conf_looked_for();
	char *own = conf_user_file();

	if (job->req.account)
		error_set(
		    err, ERROR_CONFIG,
		    "account '%s' requested but there is no configuration "
		    "file (looked for %s); write %s (mailpost.conf(5)) "
		    "or give -C FILE",
		    job->req.account, looked, own ? own : "one");
	else
		error_set(err, ERROR_CONFIG,
		          "no configuration file and no --host (looked for "
		          "%s); write %s (mailpost.conf(5)), or give "
		          "--host HOST for a one-off",
		          looked, own ? own : "one");
	free(looked);
	free(own);
	return -1;
}

/* An account without a server: a file that was read names none for it
 * (said where, or for the system configuration only that, conf_hide),
 * or there was no file at all. */
static int
no_host(const struct job *job, struct error *err)
{
	const struct account *a = &job->acct;

	if (!job->cfg)
		return job_no_config(job, err);
	error_set(err, ERROR_CONFIG,
	          "account '%s' of %s has no 'host': set 'host' there, or "
	          "give --host HOST",
	          a->name ? a->name : "default",
	          a->file ? a->file : "the file");
	return conf_hide(a, err);
}

/* The account: from the config file when there is one, then the one-off
 * command-line settings on top. */
int
job_load_account(struct job *job, struct error *err)
{
	const struct request *req = &job->req;

	if (job_load_config(job, err) < 0 || parse_given_sender(job, err) < 0)
		return -1;
	if (job->cfg) {
		if (conf_select(job->cfg, req->account, choosing_sender(job),
		                &job->acct, err) < 0)
			return -1;
	} else if (req->account) {
		return job_no_config(job, err);
	} else {
		account_defaults(&job->acct);
	}
	if (override_account(req, &job->acct, err) < 0)
		return -1;
	if (!job->acct.host && job->acct.deliver != CONF_DELIVER_MX &&
	    !req->dry_run && req->mode != CLI_PRETEND &&
	    req->mode != CLI_OAUTH2_LOGIN)
		return no_host(job, err);
	if (job->acct.aliases &&
	    aliases_load(job->acct.aliases, &job->aliases, err) < 0)
		return -1;
	return 0;
}

static bool
has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* A wildcard `from` (msmtp: it chooses the account for a -f address that
 * matches) names no sender by itself.  Without -f the sender is the
 * account's `user` when that is an address the pattern matches; never
 * the login name at the host name, which the server would refuse or,
 * worse, accept. */
static int
wildcard_sender(struct job *job, struct error *err)
{
	const struct account *a = &job->acct;

	if (a->user && strchr(a->user, '@') &&
	    conf_from_matches(a->from, a->user)) {
		envelope_set_sender(&job->env, a->user);
		return 0;
	}
	error_set(err, ERROR_CONFIG,
	          "account '%s' has the pattern 'from %s' and no -f was "
	          "given, so there is no sender address; give -f ADDRESS, or "
	          "set 'from' to an address (or 'user' to an address the "
	          "pattern matches)",
	          a->name ? a->name : "default", a->from);
	return conf_hide(a, err);
}

/* Through a proxy the host name is what the proxy hides (the reason EHLO
 * then says localhost): a sender made from it would give it away in MAIL
 * FROM, in the From we add and in the Message-ID. */
static int
check_hidden_host(const struct account *a, const char *host, struct error *err)
{
	if (!a->proxy_host || !*a->proxy_host || (a->socket && *a->socket))
		return 0;
	error_set(err, ERROR_CONFIG,
	          "account '%s' goes through a proxy but has no 'from': the "
	          "sender %s@%s would give away this machine's name; set "
	          "'from' (or 'maildomain') or give -f",
	          a->name ? a->name : "default", identity_login(), host);
	return conf_hide(a, err);
}

/* The envelope sender: -f, else --from's address (when the account allows
 * overriding; a local one qualified with maildomain), else the account's
 * from (see wildcard_sender for a pattern), else user@maildomain
 * (auto_from), else user@host (never through a proxy). */
int
job_choose_sender(struct job *job, struct error *err)
{
	const struct account *a = &job->acct;
	const char *domain = a->maildomain;
	const char *given = given_sender(job);
	char *sender = NULL;
	char host[256];

	if (given &&
	    (a->allow_from_override || !a->from || has_wildcard(a->from))) {
		/* "root@myhost" (GNU mail's -f) is as local as "root". */
		sender = address_qualify_sender(given, domain, NULL);
	} else if (a->from && !has_wildcard(a->from)) {
		sender = address_qualify(a->from, domain);
	} else if (a->from) {
		if (wildcard_sender(job, err) < 0)
			return -1;
	} else {
		identity_host(host, sizeof host);
		if (!(domain && *domain) && check_hidden_host(a, host, err) < 0)
			return -1;
		sender = address_qualify(identity_login(),
		                         domain && *domain ? domain : host);
	}
	if (sender)
		envelope_set_sender(&job->env, sender);
	free(sender);
	return address_check(job->env.sender, true, ERROR_USAGE, err);
}

static int
add_one_recipient(struct job *job, const char *addr, enum error_kind kind,
                  struct error *err)
{
	char *q = address_qualify(addr, job->acct.maildomain);
	int rc = address_check(q, false, kind, err);

	if (rc == 0 && address_set_add(&job->rcpts_seen, q))
		envelope_add_rcpt(&job->env, q);
	free(q);
	return rc;
}

/* A recipient, through the aliases file first (local names only), then
 * qualified with maildomain. */
int
job_add_recipient(struct job *job, const char *addr, enum error_kind kind,
                  struct error *err)
{
	struct strlist expanded;
	int rc = 0;

	if (!job->aliases)
		return add_one_recipient(job, addr, kind, err);
	strlist_init(&expanded);
	rc = aliases_expand(job->aliases, addr, &expanded, err);
	for (size_t i = 0; rc == 0 && i < expanded.n; i++)
		rc = add_one_recipient(job, expanded.v[i], kind, err);
	strlist_clear(&expanded);
	return rc;
}

/* "undisclosed-recipients:;": a group with no members names nobody for
 * the envelope; the composed To or Cc shows it (header_mailboxes). */
static bool
is_empty_group(const char *value)
{
	char *phrase = NULL;
	bool yes = address_empty_group(value, &phrase);

	free(phrase);
	return yes;
}

/* Each argument is an address list as people write it ("Anna
 * <anna@example.org>", "a@x, b@y"); the envelope gets the addr-specs. */
static int
add_recipients(struct job *job, const char *const *v, size_t n,
               struct error *err)
{
	struct address_entries list;
	int rc = 0;

	address_entries_init(&list);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!is_empty_group(v[i]))
			rc = address_parse_input(v[i], ERROR_USAGE, &list, err);
	for (size_t i = 0; rc == 0 && i < list.n; i++)
		rc = job_add_recipient(job, list.v[i].addr, ERROR_USAGE, err);
	address_entries_clear(&list);
	return rc;
}

/* Recipients from the command line (with -c and -b), plus those in the
 * header with -t. */
int
job_collect_recipients(struct job *job, struct error *err)
{
	const struct request *req = &job->req;
	struct strlist from_header;
	int rc = 0;

	if (add_recipients(job, req->rcpts, req->nrcpts, err) < 0 ||
	    add_recipients(job, req->cc, req->ncc, err) < 0 ||
	    add_recipients(job, req->bcc, req->nbcc, err) < 0)
		return -1;
	if (req->read_recipients) {
		strlist_init(&from_header);
		rc = source_recipients(job->message, &from_header, err);
		for (size_t i = 0; rc == 0 && i < from_header.n; i++)
			rc = job_add_recipient(job, from_header.v[i],
			                       ERROR_DATA, err);
		strlist_clear(&from_header);
		if (rc < 0)
			return -1;
	}
	if (job->env.nrcpts == 0 && !req->read_recipients)
		return error_set(
		    err, ERROR_USAGE,
		    "no recipients: the command line names nobody "
		    "(a group such as \"undisclosed-recipients:;\" "
		    "has no members); give a recipient, with -b "
		    "for a blind copy");
	if (job->env.nrcpts == 0)
		return error_set(err, ERROR_DATA,
		                 "no recipients: none on the command line and "
		                 "none in the To, Cc or Bcc fields");
	return 0;
}

/* "-a work" given to mailpost by someone used to msmtp: with no file
 * "work" but an account of that name, say what was probably meant, before
 * a body is typed in vain. */
int
job_check_attach(const struct job *job, struct error *err)
{
	const struct request *req = &job->req;

	for (size_t i = 0; i < req->nattachments; i++) {
		const char *path = req->attachments[i].path;

		if (conf_has_account(job->cfg, path) &&
		    access(path, F_OK) < 0 && errno == ENOENT)
			return error_set(
			    err, ERROR_NOINPUT,
			    "cannot attach '%s': no such file; did "
			    "you mean -A %s (the account)?",
			    path, path);
	}
	return 0;
}

/* The group of the machine's spool: the one this program was built
 * for (privilege_build_group), looked up as the caller, not as root's
 * guess. */
static int
spool_group(gid_t *out, struct error *err)
{
	const char *name = privilege_build_group();
	struct group *gr = getgrnam(name);

	if (!gr)
		return error_set(err, ERROR_CONFIG,
		                 "the group %s of the system sendmail does not "
		                 "exist: as root, run make install-mta (or "
		                 "reinstall mailpost-mta)",
		                 name);
	*out = gr->gr_gid;
	return 0;
}

/* The queue directory: --queue-dir, else the account's queue_dir, else
 * the default (queue.h); the machine's spool for the system
 * configuration of a program built with a group. */
int
job_queue_dir(struct job *job, char **out, struct error *err)
{
	const struct request *req = &job->req;
	const struct account *a = &job->acct;

	*out = NULL;
	job->spool =
	    privilege_build_group() && job->system_config && !req->queue_dir;
	if (job->spool) {
		if (spool_group(&job->spool_group, err) < 0)
			return -1;
		/* Not where the cwd of each run says (queue.h): a flush
		 * would find nothing there and say nothing. */
		if (a->queue_dir && a->queue_dir[0] != '/')
			return error_set(
			    err, ERROR_CONFIG,
			    "the spool %s is not an absolute path: "
			    "set queue_dir to one, such as %s",
			    a->queue_dir, MTA_SPOOL_DIR);
		*out = xstrdup(a->queue_dir ? a->queue_dir : MTA_SPOOL_DIR);
		return 0;
	}
	if (req->queue_dir)
		*out = xstrdup(req->queue_dir);
	else if (a->queue_dir)
		*out = xstrdup(a->queue_dir);
	else
		*out = queue_default_dir(err);
	return *out ? 0 : -1;
}

const gid_t *
job_spool(const struct job *job)
{
	return job->spool ? &job->spool_group : NULL;
}

void
job_depot(struct job *job, struct depot *out)
{
	struct error err;

	memset(out, 0, sizeof *out);
	if (job->gate) {
		out->gate = job->gate;
		return;
	}
	free(job->queue_dir);
	job->queue_dir = NULL;
	job->queue_problem[0] = '\0';
	error_clear(&err);
	if (job_queue_dir(job, &job->queue_dir, &err) < 0)
		str_copy(job->queue_problem, sizeof job->queue_problem,
		         err.msg);
	out->dir = job->queue_dir;
	out->problem = job->queue_problem;
	out->spool = job_spool(job);
}

/* Fallback accounts take the command line's settings as the first one
 * does (relay.h); override.c knows which. */
void
job_init(struct job *job)
{
	envelope_init(&job->env);
	strlist_init(&job->to);
	strlist_init(&job->cc);
	strlist_init(&job->to_names);
	strlist_init(&job->cc_names);
	strlist_init(&job->reply_to);
	strlist_init(&job->reply_to_names);
	address_set_init(&job->rcpts_seen);
	job->finish = (struct relay_finish){override_fallback, &job->req};
}

/* The per-message part of the job, emptied between messages. */
void
job_reset_message(struct job *job)
{
	if (job->composed)
		mime_free(job->composed);
	job->composed = NULL;
	source_free(job->message);
	job->message = NULL;
	/* It read from what was just freed, and its size is the last
	 * message's: a log line for the next must not show it. */
	memset(&job->stream, 0, sizeof job->stream);
	envelope_clear(&job->env);
	address_set_clear(&job->rcpts_seen);
	free(job->sender_header);
	job->sender_header = NULL;
	free(job->msgid_domain);
	job->msgid_domain = NULL;
	free(job->queue_dir);
	job->queue_dir = NULL;
	free(job->dead_letter);
	job->dead_letter = NULL;
	memset(&job->outbox, 0, sizeof job->outbox);
}

/* --color=auto: a terminal, unless NO_COLOR is set and not empty
 * (https://no-color.org); read from the caller's environment as it came
 * (privilege.h). */
static bool
want_color(enum cli_color color, FILE *diag)
{
	const char *no_color;

	if (color != CLI_COLOR_AUTO)
		return color == CLI_COLOR_ALWAYS;
	no_color = privilege_getenv("NO_COLOR");
	if (no_color && *no_color)
		return false;
	return isatty(fileno(diag)) == 1;
}

void
job_open_transcript(struct job *job, FILE *diag, FILE *logfile)
{
	const struct request *req = &job->req;
	struct transcript_style style = {
	    .color = want_color(req->color, diag),
	    .show_auth = req->show_auth,
	    .timing = req->timing,
	};

	transcript_free(job->transcript);
	job->transcript = transcript_new(diag, req->verbosity, logfile);
	transcript_set_style(job->transcript, &style);
	if (req->show_auth)
		fputs("mailpost: warning: --show-auth: this transcript shows "
		      "the credentials (the password, tokens) as sent; do not "
		      "share it (the log file stays redacted)\n",
		      diag);
}

void
job_clear(struct job *job)
{
	job_reset_message(job);
	strlist_clear(&job->to);
	strlist_clear(&job->cc);
	strlist_clear(&job->to_names);
	strlist_clear(&job->cc_names);
	free(job->to_group);
	free(job->cc_group);
	free(job->sender_name);
	free(job->sender_given);
	free(job->test_subject);
	free(job->test_body);
	strlist_clear(&job->reply_to);
	strlist_clear(&job->reply_to_names);
	transcript_free(job->transcript);
	/* stdout, or stderr for "-" with --json: the driver's. */
	if (job->logfile && job->logfile != stdout && job->logfile != stderr)
		fclose(job->logfile);
	if (job->entry_log.file && job->entry_log.file != stdout &&
	    job->entry_log.file != stderr)
		fclose(job->entry_log.file);
	free(job->entry_log.path);
	aliases_free(job->aliases);
	account_clear(&job->acct);
	spoolgate_close(job->gate);
	free(job->spool_dir);
	conf_free(job->cfg);
	relay_token_clear(&job->system_token);
	cli_clear(&job->req);
	free(job->envelope_from);
}

const char *
job_log_user(const struct job *job, const struct account *a)
{
	/* The system configuration's user belongs to the group (an access
	 * key id, for some relays), and the caller names the log file. */
	return conf_is_private(job->cfg) ? "*" : a->user;
}
