/*
 * maillog.c - the one-line summary of a message: msmtp's line for the log
 * file, mailpost's for syslog (see maillog.h).
 */
#include "config.h"

#include "maillog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void append(char *out, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
append(char *out, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*used >= n)
		return;
	va_start(ap, fmt);
	k = vsnprintf(out + *used, n - *used, fmt, ap);
	va_end(ap);
	if (k > 0)
		*used += (size_t)k;
}

void
maillog_format(const struct maillog_entry *e, char *out, size_t n)
{
	const struct error *err = e->error;
	bool ok = !err || err->kind == ERROR_NONE;
	size_t used = 0;
	char size[32];

	out[0] = '\0';
	if (e->entry_id)
		append(out, n, &used, "%s: ", e->entry_id);
	if (e->owner)
		append(out, n, &used, "owner=%s ", e->owner);
	append(out, n, &used, "host=%s", e->host ? e->host : "");
	append(out, n, &used, " from=<%s>",
	       e->env->sender ? e->env->sender : "");
	for (size_t i = 0; i < e->env->nrcpts; i++)
		append(out, n, &used, "%s<%s>",
		       i ? "," : " recipients=", e->env->rcpts[i].addr);
	snprintf(size, sizeof size, "%llu", (unsigned long long)e->size);
	append(out, n, &used, " size=%s", size);
	if (e->queued_id)
		append(out, n, &used, " result=queued id=%s", e->queued_id);
	else
		append(out, n, &used, " result=%s",
		       ok ? "delivered" : error_kind_name(err->kind));
	if (e->reply && *e->reply)
		append(out, n, &used, " reply=\"%.*s\"",
		       (int)strcspn(e->reply, "\n"), e->reply);
	if (!ok)
		append(out, n, &used, " error=\"%s\"", err->msg);
	if (used >= n && n > 4)
		memcpy(out + n - 4, "...", 4);
	str_censor(out, strlen(out));
}

void
maillog_syslog(int facility, const struct maillog_entry *e)
{
	char line[2048];
	bool ok = !e->error || e->error->kind == ERROR_NONE;

	maillog_format(e, line, sizeof line);
	openlog("mailpost", LOG_PID, facility);
	syslog(ok             ? LOG_INFO
	       : e->queued_id ? LOG_WARNING
	                      : LOG_ERR,
	       "%s", line);
	closelog();
}

/* ---- the log file: msmtp's line ------------------------------------------ */

/* sysexits(3) names, as msmtp writes them after exitcode=. */
static const char *
exit_name(int code)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
	    {EX_OK, "EX_OK"},
	    {EX_USAGE, "EX_USAGE"},
	    {EX_DATAERR, "EX_DATAERR"},
	    {EX_NOINPUT, "EX_NOINPUT"},
	    {EX_NOUSER, "EX_NOUSER"},
	    {EX_NOHOST, "EX_NOHOST"},
	    {EX_UNAVAILABLE, "EX_UNAVAILABLE"},
	    {EX_SOFTWARE, "EX_SOFTWARE"},
	    {EX_OSERR, "EX_OSERR"},
	    {EX_OSFILE, "EX_OSFILE"},
	    {EX_CANTCREAT, "EX_CANTCREAT"},
	    {EX_IOERR, "EX_IOERR"},
	    {EX_TEMPFAIL, "EX_TEMPFAIL"},
	    {EX_PROTOCOL, "EX_PROTOCOL"},
	    {EX_NOPERM, "EX_NOPERM"},
	    {EX_CONFIG, "EX_CONFIG"},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].code == code)
			return names[i].name;
	return "EX_SOFTWARE";
}

/* A value as text: control bytes become '?'; inside a quoted value a line
 * break becomes a literal "\n" and a single quote '?' (msmtp's rule, so
 * that the value ends at the next quote). */
static void
put_value(FILE *f, const char *s, bool quoted)
{
	for (; s && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (quoted && c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f || (quoted && c == '\''))
			fputc('?', f);
		else
			fputc(c, f);
	}
}

static void
put_field(FILE *f, const char *name, const char *value, bool quoted)
{
	fprintf(f, " %s=%s", name, quoted ? "'" : "");
	put_value(f, value, quoted);
	if (quoted)
		fputc('\'', f);
}

/* The reply that decided the outcome: the failure's, else (delivered) the
 * reply to the dot. */
static void
put_reply(FILE *f, const struct maillog_entry *e, bool ok)
{
	int code = ok ? e->reply_code : e->error->smtp_code;
	const char *text = ok ? e->reply : e->error->smtp_reply;
	char status[16];

	if (code == 0 || !text || *text == '\0')
		return;
	snprintf(status, sizeof status, "%d", code);
	put_field(f, "smtpstatus", status, false);
	put_field(f, "smtpmsg", text, true);
}

static void
put_line(FILE *f, const char *stamp, const struct maillog_entry *e)
{
	const struct error *err = e->error;
	bool failed = err && err->kind != ERROR_NONE;
	bool ok = !failed && !e->queued_id;
	int code = failed ? error_exit_code(err->kind) : EX_OK;
	char size[32];

	fprintf(f, "%s host=", stamp);
	put_value(f, e->host, false);
	fprintf(f, " tls=%s auth=%s", e->tls ? "on" : "off",
	        e->auth ? "on" : "off");
	if (e->auth && e->user && *e->user)
		put_field(f, "user", e->user, false);
	put_field(f, "from", e->env->sender, false);
	fputs(" recipients=", f);
	for (size_t i = 0; i < e->env->nrcpts; i++) {
		if (i)
			fputc(',', f);
		put_value(f, e->env->rcpts[i].addr, false);
	}
	if (ok) {
		snprintf(size, sizeof size, "%llu",
		         (unsigned long long)e->size);
		put_field(f, "mailsize", size, false);
	}
	if (ok || failed)
		put_reply(f, e, ok);
	if (failed)
		put_field(f, "errormsg", err->msg, true);
	else if (e->queued_id)
		put_field(f, "errormsg", "queued without a delivery attempt",
		          true);
	if (e->entry_id)
		put_field(f, "queueid", e->entry_id, false);
	if (e->owner)
		put_field(f, "owner", e->owner, false);
	if (e->queued_id) {
		put_field(f, "queued", e->queued_id, false);
		/* Not delivered yet; a permanent refusal of some (a flush's
		 * partial delivery) or a session refused for good (a
		 * deferral that waiting will not cure) keeps its code. */
		if (!failed || err->kind == ERROR_TEMPFAIL)
			code = EX_TEMPFAIL;
	}
	fprintf(f, " exitcode=%s\n", exit_name(code));
}

int
maillog_write(FILE *f, const char *stamp, const struct maillog_entry *e)
{
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);
	int rc = 0;

	if (!m)
		return -1;
	put_line(m, stamp, e);
	if (fclose(m) != 0) {
		free(line);
		return -1;
	}
	/* One write(2) on an O_APPEND file: lines of concurrent runs stay
	 * whole. */
	if (fflush(f) != 0 || fd_write_all(fileno(f), line, len) < 0)
		rc = -1;
	free(line);
	return rc;
}

/* The log file, for appending.  O_NONBLOCK so that a FIFO no process
 * reads fails at once (ENXIO) instead of hanging open(2); it is cleared
 * after, so that a reader that is slow is waited for. */
FILE *
maillog_open(const char *path, bool *no_reader, struct error *err)
{
	int fd = open(path,
	              O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_NOCTTY |
	                  O_CLOEXEC,
	              0666);
	FILE *f;

	*no_reader = fd < 0 && errno == ENXIO;
	if (*no_reader)
		error_set(err, ERROR_CONFIG,
		          "cannot open log file %s: it is a FIFO that no "
		          "process reads; start its reader first or set "
		          "logfile to a file",
		          path);
	else if (fd < 0)
		error_set_errno(err, ERROR_CONFIG, errno,
		                "cannot open log file %s", path);
	if (fd < 0)
		return NULL;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "a");
	if (!f) {
		error_set_errno(err, ERROR_OSERR, errno,
		                "cannot open log file %s", path);
		close(fd);
	}
	return f;
}

const char *
maillog_stamp(const char *format, time_t now, char *out, size_t n)
{
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

int
maillog_record(FILE *file, const char *time_format, int facility,
               const struct maillog_entry *e)
{
	char stamp[MAILLOG_STAMP_MAX];

	if (facility >= 0)
		maillog_syslog(facility, e);
	if (!file)
		return 0;
	return maillog_write(
	    file, maillog_stamp(time_format, time(NULL), stamp, sizeof stamp),
	    e);
}
