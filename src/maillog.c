/*
 * maillog.c - the one-line summary of a message for syslog and the log
 * file: "host=... from=<...> recipients=<...>,<...> size=N result=...".
 */
#include "config.h"

#include "maillog.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

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
	append(out, n, &used, "host=%s", e->host ? e->host : "");
	append(out, n, &used, " from=<%s>", e->sender ? e->sender : "");
	for (size_t i = 0; i < e->nrcpts; i++)
		append(out, n, &used, "%s<%s>",
		       i ? "," : " recipients=", e->rcpts[i]);
	snprintf(size, sizeof size, "%llu", (unsigned long long)e->size);
	append(out, n, &used, " size=%s", size);
	if (e->queued_id)
		append(out, n, &used, " result=queued id=%s", e->queued_id);
	else
		append(out, n, &used, " result=%s",
		       ok ? "delivered" : error_kind_name(err->kind));
	if (e->reply && *e->reply)
		append(out, n, &used, " reply=\"%s\"", e->reply);
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
