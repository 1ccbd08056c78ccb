/*
 * main.c - the driver: command line, account, message, delivery, and the
 * one place where a failure becomes a diagnostic line and an exit code.
 *
 * Everything below main() reports failures in a struct error; only here is
 * anything printed about them, once, as "mailpost: MESSAGE", and the exit
 * code comes from error_exit_code() (error.c holds the table).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "cli.h"
#include "conf.h"
#include "error.h"
#include "maillog.h"
#include "mime.h"
#include "sasl.h"
#include "secret.h"
#include "source.h"
#include "submit.h"
#include "transcript.h"
#include "util.h"

/* Everything one send needs, gathered so it can be released in one place. */
struct job {
	struct request req;
	struct config *cfg;
	struct account acct;
	char *sender;
	struct strlist rcpts;
	struct source *message;        /* stdin: the message, or the body */
	struct mime_message *composed; /* composing: the result */
	struct message_stream stream;  /* what is sent (or printed) */
	struct strlist to, cc;         /* composing: the To and Cc fields */
	FILE *logfile;
	struct transcript *transcript;
	struct secret secret; /* for AUTH; wiped by secret_free */
};

/* Descriptors 0-2 closed at start would be reused by the first open() and
 * receive output meant for the terminal (or the network): put /dev/null
 * there.  A closed pipe is a write error we report, not a signal. */
static void
prepare_process(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(71);
	}
	signal(SIGPIPE, SIG_IGN);
}

static const char *
login_name(void)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *env = getenv("USER");

	if (pw && pw->pw_name && *pw->pw_name)
		return pw->pw_name;
	return env && *env ? env : "nobody";
}

static void
local_host_name(char *out, size_t n)
{
	if (gethostname(out, n) < 0 || out[0] == '\0')
		str_copy(out, n, "localhost");
	out[n - 1] = '\0';
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

/* --tls... and --auth, --user over the account's keys of the same names. */
static void
apply_security(const struct request *req, struct account *a)
{
	apply_switch(&a->tls, req->tls);
	apply_switch(&a->tls_starttls, req->tls_starttls);
	apply_switch(&a->tls_certcheck, req->tls_certcheck);
	replace_string(&a->tls_trust_file, req->tls_trust_file);
	replace_string(&a->tls_crl_file, req->tls_crl_file);
	replace_string(&a->tls_fingerprint, req->tls_fingerprint);
	replace_string(&a->tls_cert_file, req->tls_cert_file);
	replace_string(&a->tls_key_file, req->tls_key_file);
	replace_string(&a->tls_priorities, req->tls_priorities);
	replace_string(&a->tls_host_override, req->tls_host_override);
	replace_string(&a->user, req->user);
	if (req->auth && str_ieq(req->auth, "off")) {
		free(a->auth);
		a->auth = NULL;
	} else {
		replace_string(&a->auth, req->auth);
	}
}

/* The account: from the config file when there is one, then the one-off
 * command-line settings on top. */
static int
load_account(struct job *job, struct error *err)
{
	const struct request *req = &job->req;
	char *path = NULL;
	int rc = 0;

	if (conf_locate(req->config_file, &path, err) < 0)
		return -1;
	if (path) {
		rc = conf_read_file(path, &job->cfg, err);
		if (rc == 0)
			rc = conf_select(job->cfg, req->account, req->sender,
			                 &job->acct, err);
		free(path);
		if (rc < 0)
			return -1;
	} else if (req->account) {
		return error_set(err, ERROR_CONFIG,
		                 "account '%s' requested but no configuration "
		                 "file was found",
		                 req->account);
	} else {
		account_defaults(&job->acct);
	}
	if (req->host) {
		free(job->acct.host);
		job->acct.host = xstrdup(req->host);
	}
	if (req->port)
		job->acct.port = req->port;
	if (req->timeout)
		job->acct.timeout = req->timeout;
	if (req->domain) {
		free(job->acct.domain);
		job->acct.domain = xstrdup(req->domain);
	}
	if (req->rcpt_policy != RCPT_POLICY_UNSET)
		job->acct.rcpt_policy = req->rcpt_policy;
	apply_security(req, &job->acct);
	if (!job->acct.host && !req->dry_run)
		return error_set(err, ERROR_CONFIG,
		                 "no SMTP server configured: set 'host' in the "
		                 "configuration file or use --host");
	if (!job->acct.domain) {
		char host[256];

		local_host_name(host, sizeof host);
		job->acct.domain = xstrdup(host);
	}
	return 0;
}

static bool
has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* The envelope sender: -f, else --from's address (when the account allows
 * overriding), else the account's from, else user@maildomain (auto_from),
 * else user@host. */
static int
choose_sender(struct job *job, struct error *err)
{
	const struct account *a = &job->acct;
	const char *domain = a->maildomain;
	const char *given = job->req.sender ? job->req.sender : job->req.from;
	char host[256];

	if (given &&
	    (a->allow_from_override || !a->from || has_wildcard(a->from))) {
		job->sender = address_qualify(given, domain);
	} else if (a->from && !has_wildcard(a->from)) {
		job->sender = address_qualify(a->from, domain);
	} else {
		local_host_name(host, sizeof host);
		job->sender = address_qualify(
		    login_name(), domain && *domain ? domain : host);
	}
	return address_check(job->sender, true, ERROR_USAGE, err);
}

static int
add_recipient(struct job *job, const char *addr, enum error_kind kind,
              struct error *err)
{
	char *q = address_qualify(addr, job->acct.maildomain);
	int rc = address_check(q, false, kind, err);

	if (rc == 0 && !strlist_contains(&job->rcpts, q))
		strlist_add(&job->rcpts, q);
	free(q);
	return rc;
}

static int
add_recipients(struct job *job, const char *const *v, size_t n,
               struct error *err)
{
	for (size_t i = 0; i < n; i++)
		if (add_recipient(job, v[i], ERROR_USAGE, err) < 0)
			return -1;
	return 0;
}

/* Recipients from the command line (with -c and -b), plus those in the
 * header with -t. */
static int
collect_recipients(struct job *job, struct error *err)
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
			rc = add_recipient(job, from_header.v[i], ERROR_DATA,
			                   err);
		strlist_clear(&from_header);
		if (rc < 0)
			return -1;
	}
	if (job->rcpts.n == 0)
		return error_set(err, ERROR_DATA,
		                 "no recipients: none on the command line and "
		                 "none in the To, Cc or Bcc fields");
	return 0;
}

/* The domain for an added Message-ID: the sender's, else the EHLO name. */
static const char *
msgid_domain(const struct job *job)
{
	const char *at = strrchr(job->sender, '@');

	return at && at[1] ? at + 1 : job->acct.domain;
}

static struct header_policy
header_policy(const struct job *job)
{
	const struct account *a = &job->acct;

	return (struct header_policy){
	    .from_address = job->sender,
	    .full_name =
	        job->req.full_name ? job->req.full_name : a->from_full_name,
	    .set_from = a->set_from_header == CONF_FROM_ON ? FROM_HEADER_ON
	                : a->set_from_header == CONF_FROM_OFF
	                    ? FROM_HEADER_OFF
	                    : FROM_HEADER_AUTO,
	    .set_date = a->set_date_header,
	    .set_msgid = a->set_msgid_header,
	    .remove_bcc = a->remove_bcc_headers || job->req.read_recipients,
	    .undisclosed = a->undisclosed_recipients,
	    .msgid_domain = msgid_domain(job),
	};
}

static int
open_logs(struct job *job, struct error *err)
{
	const char *path = job->acct.logfile;

	if (path && strcmp(path, "-") == 0) {
		job->logfile = stdout;
	} else if (path) {
		job->logfile = fopen(path, "a");
		if (!job->logfile)
			return error_set_errno(err, ERROR_CONFIG, errno,
			                       "cannot open log file %s", path);
	}
	job->transcript =
	    transcript_new(stderr, job->req.verbosity, job->logfile);
	return 0;
}

/* The time stamp of a log file line (logfile_time_format, as msmtp). */
static const char *
log_time(const char *format, char *out, size_t n)
{
	time_t now = time(NULL);
	struct tm tm;

	size_t len = 0;

	/* The format is the user's own (logfile_time_format), as in msmtp. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (localtime_r(&now, &tm))
		len = strftime(out, n, format ? format : "%b %d %H:%M:%S", &tm);
#pragma GCC diagnostic pop
	if (len == 0)
		str_copy(out, n, "-");
	return out;
}

static void
log_result(const struct job *job, const struct submit_outcome *out,
           const struct error *err)
{
	struct maillog_entry e = {
	    .host = job->acct.host,
	    .sender = job->sender,
	    .rcpts = (const char *const *)job->rcpts.v,
	    .nrcpts = job->rcpts.n,
	    .size = job->stream.size,
	    .error = err,
	    .reply = out->final_reply,
	};
	char line[2048];
	char stamp[128];

	if (job->acct.syslog_facility >= 0)
		maillog_syslog(job->acct.syslog_facility, &e);
	if (job->logfile) {
		maillog_format(&e, line, sizeof line);
		fprintf(job->logfile, "%s %s\n",
		        log_time(job->acct.logfile_time_format, stamp,
		                 sizeof stamp),
		        line);
		fflush(job->logfile);
	}
}

static ssize_t
read_source(void *ctx, char *buf, size_t n, struct error *err)
{
	return source_read(ctx, buf, n, err);
}

static ssize_t
read_composed(void *ctx, char *buf, size_t n, struct error *err)
{
	return mime_read(ctx, buf, n, err);
}

/* sendmail mode: standard input is the message, passed through with its
 * header completed. */
static int
prepare_plain(struct job *job, struct error *err)
{
	const struct source_options so = {
	    .dot_ends_input = job->req.dot_ends_input,
	};
	struct header_policy p;

	if (source_open(&job->message, STDIN_FILENO, &so, err) < 0 ||
	    collect_recipients(job, err) < 0)
		return -1;
	p = header_policy(job);
	if (source_complete_headers(job->message, &p, err) < 0 ||
	    source_check_sendable(job->message, err) < 0)
		return -1;
	job->stream = (struct message_stream){
	    .read = read_source,
	    .ctx = job->message,
	    .size = source_size(job->message),
	    .has_8bit = source_has_8bit(job->message),
	};
	return 0;
}

/* A file named on the command line that cannot be read, found before the
 * body is typed rather than after (mime_compose checks again). */
static int
check_readable(const char *path, struct error *err)
{
	if (path && access(path, R_OK) < 0)
		return error_set_errno(err, ERROR_NOINPUT, errno,
		                       "cannot read %s", path);
	return 0;
}

static int
check_files(const struct request *req, struct error *err)
{
	if (check_readable(req->body_file, err) < 0 ||
	    check_readable(req->html_file, err) < 0)
		return -1;
	for (size_t i = 0; i < req->nattachments; i++)
		if (check_readable(req->attachments[i].path, err) < 0)
			return -1;
	return 0;
}

/* Composing: standard input is the whole message with -t, else the body
 * text, unless --body or --body-file gives it.  On a terminal a lone "."
 * ends the body, as in mailx; from a pipe it is text. */
static int
open_input(struct job *job, struct error *err)
{
	const struct request *req = &job->req;
	struct source_options so = {.dot_ends_input = req->dot_ends_input};
	bool tty = isatty(STDIN_FILENO) == 1;

	if (!req->read_recipients) {
		if (req->body_text || req->body_file)
			return 0;
		so.body_only = true;
		so.dot_ends_input = req->dot_ends_input && tty;
	}
	if (tty && check_files(req, err) < 0)
		return -1;
	return source_open(&job->message, STDIN_FILENO, &so, err);
}

static void
qualify_all(const struct job *job, const char *const *v, size_t n,
            struct strlist *out)
{
	for (size_t i = 0; i < n; i++) {
		char *q = address_qualify(v[i], job->acct.maildomain);

		if (!strlist_contains(out, q))
			strlist_add(out, q);
		free(q);
	}
}

/* The From of a composed message: --from, else the envelope sender (none
 * for the null sender, or with -t: header completion decides). */
static void
compose_from(struct job *job, struct mime_request *mr, char **from)
{
	const struct request *req = &job->req;

	if (req->from) {
		*from = address_qualify(req->from, job->acct.maildomain);
		mr->from = *from;
		mr->from_name = req->from_name;
	} else if (!req->read_recipients && *job->sender) {
		mr->from = job->sender;
	}
	if (mr->from && !mr->from_name)
		mr->from_name =
		    req->full_name ? req->full_name : job->acct.from_full_name;
}

static void
fill_mime_request(struct job *job, struct mime_request *mr, char **from)
{
	const struct request *req = &job->req;

	/* With -t the message's own To and Cc stand; addresses given on the
	 * command line are added to the envelope only. */
	if (!req->read_recipients) {
		qualify_all(job, req->rcpts, req->nrcpts, &job->to);
		qualify_all(job, req->cc, req->ncc, &job->cc);
	}
	*mr = (struct mime_request){
	    .reply_to = req->reply_to,
	    .subject = req->subject,
	    .to = (const char *const *)job->to.v,
	    .nto = job->to.n,
	    .cc = (const char *const *)job->cc.v,
	    .ncc = job->cc.n,
	    .extra = req->extra,
	    .nextra = req->nextra,
	    .priority = req->priority,
	    .body_source = job->message,
	    .keep_headers = req->read_recipients,
	    .body_text = req->body_text,
	    .body_file = req->body_file,
	    .html_file = req->html_file,
	    .attachments = req->attachments,
	    .nattachments = req->nattachments,
	};
	compose_from(job, mr, from);
}

static int
prepare_composed(struct job *job, struct error *err)
{
	struct mime_request mr;
	struct header_policy p;
	char *from = NULL;
	int rc = 0;

	if (open_input(job, err) < 0 || collect_recipients(job, err) < 0)
		return -1;
	fill_mime_request(job, &mr, &from);
	rc = mime_compose(&job->composed, &mr, err);
	free(from);
	if (rc < 0)
		return -1;
	p = header_policy(job);
	/* A From we wrote from --from is not the account's to replace. */
	if (job->req.from)
		p.set_from = FROM_HEADER_AUTO;
	if (headers_complete(mime_headers(job->composed), &p, err) < 0)
		return -1;
	job->stream = (struct message_stream){
	    .read = read_composed,
	    .ctx = job->composed,
	    .size = mime_size(job->composed),
	    .has_8bit = mime_has_8bit(job->composed),
	};
	return 0;
}

static int
prepare_message(struct job *job, struct error *err)
{
	return job->req.compose ? prepare_composed(job, err)
	                        : prepare_plain(job, err);
}

/* --dry-run: the exact bytes that would be sent, to standard output. */
static int
print_message(const struct message_stream *m, struct error *err)
{
	char buf[65536];

	for (;;) {
		ssize_t got = m->read(m->ctx, buf, sizeof buf, err);

		if (got < 0)
			return -1;
		if (got == 0)
			break;
		if (fwrite(buf, 1, (size_t)got, stdout) != (size_t)got)
			return error_set_errno(err, ERROR_IOERR, errno,
			                       "cannot write the message to "
			                       "standard output");
	}
	if (fflush(stdout) != 0)
		return error_set_errno(err, ERROR_IOERR, errno,
		                       "cannot write the message to standard "
		                       "output");
	return 0;
}

/* ---- the progress line -------------------------------------------------- */

#define PROGRESS_MIN_SIZE (1024 * 1024) /* only for messages over 1 MiB */
#define PROGRESS_INTERVAL_MS 250        /* at most 4 updates a second */

/* Wraps the message stream, counting what submit reads from it. */
struct progress {
	struct message_stream inner;
	uint64_t done;
	int64_t start_ms, shown_ms;
	bool shown; /* a line is on the terminal */
	bool ended; /* and it was ended with a newline */
};

/* n bytes in a short human form: "512 B", "3.4 MB" (decimal units). */
static void
human_bytes(double n, char *out, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;

	while (n >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
		n /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%.0f %s", n, units[u]);
	else
		snprintf(out, len, "%.1f %s", n, units[u]);
}

static void
progress_show(struct progress *p, int64_t now)
{
	char done[32], total[32], rate[32];
	double secs = (double)(now - p->start_ms) / 1000.0;
	uint64_t size = p->inner.size ? p->inner.size : 1;
	int percent = (int)(p->done * 100 / size);

	human_bytes((double)p->done, done, sizeof done);
	human_bytes((double)p->inner.size, total, sizeof total);
	human_bytes(secs > 0 ? (double)p->done / secs : 0.0, rate, sizeof rate);
	fprintf(stderr, "\rmailpost: sent %s of %s (%d%%), %s/s   ", done,
	        total, percent > 100 ? 100 : percent, rate);
	p->shown = true;
	p->shown_ms = now;
}

/* End the line (after the last byte, or when the send failed midway), so
 * that what follows on stderr starts on a line of its own. */
static void
progress_end(struct progress *p)
{
	if (!p->shown || p->ended)
		return;
	fputc('\n', stderr);
	p->ended = true;
}

static ssize_t
read_with_progress(void *ctx, char *buf, size_t n, struct error *err)
{
	struct progress *p = ctx;
	ssize_t got = p->inner.read(p->inner.ctx, buf, n, err);
	int64_t now = now_ms();
	bool last =
	    got == 0 || (got > 0 && p->done + (uint64_t)got >= p->inner.size);

	if (got > 0)
		p->done += (uint64_t)got;
	if (got < 0 || p->ended)
		return got;
	if (last || !p->shown || now - p->shown_ms >= PROGRESS_INTERVAL_MS)
		progress_show(p, now);
	if (last)
		progress_end(p);
	return got;
}

/* Only for a person watching: a big message, stderr a terminal, no -v
 * dialogue to mix with, no --quiet. */
static bool
want_progress(const struct job *job)
{
	return job->stream.size > PROGRESS_MIN_SIZE && !job->req.quiet &&
	       job->req.verbosity == 0 && isatty(STDERR_FILENO) == 1;
}

static struct message_stream
progress_wrap(struct progress *p, const struct message_stream *m)
{
	*p = (struct progress){.inner = *m, .start_ms = now_ms()};
	return (struct message_stream){
	    .read = read_with_progress,
	    .ctx = p,
	    .size = m->size,
	    .has_8bit = m->has_8bit,
	};
}

static int
deliver(struct job *job, struct submit_outcome *out, struct error *err)
{
	struct progress progress = {0};
	struct submission sub;
	int rc;

	if (prepare_message(job, err) < 0)
		return -1;
	sub = (struct submission){
	    .account = &job->acct,
	    .sender = job->sender,
	    .rcpts = (const char *const *)job->rcpts.v,
	    .nrcpts = job->rcpts.n,
	    .message = job->stream,
	    .rcpt_policy = job->acct.rcpt_policy,
	    .dsn_notify = job->req.dsn_notify ? job->req.dsn_notify
	                                      : job->acct.dsn_notify,
	    .dsn_return = job->req.dsn_return ? job->req.dsn_return
	                                      : job->acct.dsn_return,
	    .dsn_envid = job->req.dsn_envid,
	    .transcript = job->transcript,
	    .secret = job->secret.data,
	};
	if (want_progress(job))
		sub.message = progress_wrap(&progress, &job->stream);
	rc = submit_send(&sub, out, err);
	progress_end(&progress);
	return rc;
}

/* tls_certcheck off is allowed, but never quietly: on every run, whatever
 * the verbosity. */
static void
warn_insecure(const struct account *a)
{
	if (!a->tls || a->tls_certcheck)
		return;
	fputs("mailpost: warning: TLS certificate checking is off "
	      "(tls_certcheck off): the server is not authenticated\n",
	      stderr);
}

/* The password (or token) before connecting, so that a prompt or a slow
 * passwordeval does not eat the server's patience.  The process is made
 * undumpable first: the secret stays in memory until secret_free. */
static int
fetch_secret(struct job *job, struct error *err)
{
	struct secret_request r;

	if (!job->acct.auth || !sasl_needs_secret(job->acct.auth))
		return 0;
	if (secret_protect_process(err) < 0)
		return -1;
	secret_request_init(&r, &job->acct);
	if (secret_get(&r, &job->secret, err) < 0)
		return -1;
	transcript_note(job->transcript, "password from %s",
	                secret_source_name(job->secret.source));
	return 0;
}

static int
run_send(struct job *job, struct error *err)
{
	struct submit_outcome out = {0};
	int rc;

	if (load_account(job, err) < 0 || choose_sender(job, err) < 0)
		return -1;
	/* --dry-run: no connection, no password, no log line. */
	if (job->req.dry_run) {
		if (prepare_message(job, err) < 0)
			return -1;
		return print_message(&job->stream, err);
	}
	if (open_logs(job, err) < 0)
		return -1;
	warn_insecure(&job->acct);
	if (fetch_secret(job, err) < 0) {
		log_result(job, &out, err);
		return -1;
	}
	rc = deliver(job, &out, err);
	log_result(job, &out, rc < 0 ? err : NULL);
	return rc;
}

static void
job_clear(struct job *job)
{
	secret_free(&job->secret);
	if (job->composed)
		mime_free(job->composed);
	source_free(job->message);
	strlist_clear(&job->to);
	strlist_clear(&job->cc);
	transcript_free(job->transcript);
	if (job->logfile && job->logfile != stdout)
		fclose(job->logfile);
	strlist_clear(&job->rcpts);
	free(job->sender);
	account_clear(&job->acct);
	conf_free(job->cfg);
	cli_clear(&job->req);
}

/* The modes that need no message. */
static int
run_simple_mode(enum cli_mode mode)
{
	switch (mode) {
	case CLI_HELP:
		fputs(cli_usage(), stdout);
		break;
	case CLI_VERSION:
		fputs(cli_version(), stdout);
		break;
	case CLI_QUEUE_LIST:
		puts("Mail queue is empty");
		break;
	case CLI_QUEUE_FLUSH: /* nothing is ever queued yet */
	case CLI_QUEUE_SHOW:
	case CLI_QUEUE_REMOVE:
	case CLI_SERVE:
	case CLI_NOOP:
	case CLI_SEND:
		break;
	}
	return fflush(stdout) == 0 ? 0 : 74;
}

int
main(int argc, char **argv)
{
	struct job job = {0};
	struct error err;
	int rc;

	prepare_process();
	error_clear(&err);
	strlist_init(&job.rcpts);
	strlist_init(&job.to);
	strlist_init(&job.cc);
	rc = cli_parse(argc, argv, &job.req, &err);
	if (rc == 0 && job.req.mode != CLI_SEND)
		rc = run_simple_mode(job.req.mode);
	else if (rc == 0)
		rc = run_send(&job, &err);
	if (rc < 0) {
		fprintf(stderr, "mailpost: %s\n", err.msg);
		rc = error_exit_code(err.kind);
	}
	job_clear(&job);
	return rc;
}
