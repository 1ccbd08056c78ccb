/*
 * error.c - filling struct error, and the one table from failure class to
 * sysexits(3) exit code.  The man page carries the same table, and
 * tests/unit/error_test.c freezes it.
 */
#include "config.h"

#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "util.h"

static const struct {
	int code;
	const char *name;
} kinds[] = {
    [ERROR_NONE] = {0, "ok"},
    [ERROR_USAGE] = {EX_USAGE, "usage"},
    [ERROR_DATA] = {EX_DATAERR, "dataerr"},
    [ERROR_NOINPUT] = {EX_NOINPUT, "noinput"},
    [ERROR_NOUSER] = {EX_NOUSER, "nouser"},
    [ERROR_NOHOST] = {EX_NOHOST, "nohost"},
    [ERROR_UNAVAILABLE] = {EX_UNAVAILABLE, "unavailable"},
    [ERROR_SOFTWARE] = {EX_SOFTWARE, "software"},
    [ERROR_OSERR] = {EX_OSERR, "oserr"},
    [ERROR_IOERR] = {EX_IOERR, "ioerr"},
    [ERROR_TEMPFAIL] = {EX_TEMPFAIL, "tempfail"},
    [ERROR_PROTOCOL] = {EX_PROTOCOL, "protocol"},
    [ERROR_NOPERM] = {EX_NOPERM, "noperm"},
    [ERROR_CONFIG] = {EX_CONFIG, "config"},
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

void
error_clear(struct error *err)
{
	err->kind = ERROR_NONE;
	err->msg[0] = '\0';
	err->smtp_code = 0;
	err->smtp_enhanced[0] = '\0';
	err->smtp_reply[0] = '\0';
}

static void set_message(struct error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
set_message(struct error *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	str_censor_utf8(err->msg, strlen(err->msg));
}

int
error_set(struct error *err, enum error_kind kind, const char *fmt, ...)
{
	va_list ap;

	error_clear(err); /* no reply of an earlier failure stays */
	err->kind = kind;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	return -1;
}

int
error_set_errno(struct error *err, enum error_kind kind, int errnum,
                const char *fmt, ...)
{
	va_list ap;
	size_t len;

	error_clear(err); /* no reply of an earlier failure stays */
	err->kind = kind;
	va_start(ap, fmt);
	set_message(err, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof err->msg - len, ": %s",
	         strerror(errnum));
	return -1;
}

void
error_copy_reply(struct error *dst, const struct error *src)
{
	dst->smtp_code = src->smtp_code;
	memcpy(dst->smtp_enhanced, src->smtp_enhanced,
	       sizeof dst->smtp_enhanced);
	memcpy(dst->smtp_reply, src->smtp_reply, sizeof dst->smtp_reply);
}

void
error_prefix(struct error *err, const char *fmt, ...)
{
	char old[ERROR_MSG_MAX];
	size_t plen, olen;
	va_list ap;

	memcpy(old, err->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	plen = strlen(err->msg);
	str_censor_utf8(err->msg, plen);
	olen = strnlen(old, sizeof old - 1);
	if (olen > sizeof err->msg - 1 - plen)
		olen = sizeof err->msg - 1 - plen;
	memcpy(err->msg + plen, old, olen);
	err->msg[plen + olen] = '\0';
}

int
error_exit_code(enum error_kind kind)
{
	if ((size_t)kind >= NKINDS)
		return EX_SOFTWARE;
	return kinds[kind].code;
}

const char *
error_kind_name(enum error_kind kind)
{
	if ((size_t)kind >= NKINDS)
		return "unknown";
	return kinds[kind].name;
}

/* Rank for error_worse: a permanent verdict about the message or a
 * recipient beats a temporary one, so a caller never retries what cannot
 * work; among permanent ones, the more specific wins. */
static int
rank(enum error_kind kind)
{
	switch (kind) {
	case ERROR_NONE:
		return 0;
	case ERROR_TEMPFAIL:
		return 1;
	case ERROR_UNAVAILABLE:
		return 2;
	case ERROR_NOUSER:
		return 3;
	case ERROR_NOPERM:
		return 4;
	default:
		return 5;
	}
}

enum error_kind
error_worse(enum error_kind a, enum error_kind b)
{
	return rank(b) > rank(a) ? b : a;
}
