/*
 * error.h - the one error type every fallible function fills, and the one
 * table that maps a failure class to a sysexits(3) exit code.
 *
 * Contract for the whole program: a function that can fail returns 0 on
 * success and -1 on failure, and on failure it has filled the caller-owned
 * struct error with a kind and a one-line message.  Lower layers never print
 * and never exit; main() prints the message once and exits with
 * error_exit_code(kind).
 *
 * Copyright (C) 2026 the mailpost authors.  GPL-3.0-or-later.
 */
#ifndef MAILPOST_ERROR_H
#define MAILPOST_ERROR_H

#include <stddef.h>

/* Failure classes.  Each maps to exactly one exit code (see error.c). */
enum error_kind {
	ERROR_NONE = 0,
	ERROR_USAGE,       /* bad command line                         64 */
	ERROR_DATA,        /* message unusable                         65 */
	ERROR_NOINPUT,     /* input file missing or unreadable         66 */
	ERROR_NOUSER,      /* recipient rejected permanently (5.1.x)   67 */
	ERROR_NOHOST,      /* server host unknown                      68 */
	ERROR_UNAVAILABLE, /* other permanent rejection (5xx)          69 */
	ERROR_SOFTWARE,    /* internal error                           70 */
	ERROR_OSERR,       /* system error (fork, memory)              71 */
	ERROR_IOERR,       /* I/O error (disk full, read error)        74 */
	ERROR_TEMPFAIL,    /* temporary failure, not queued            75 */
	ERROR_PROTOCOL,    /* server broke the protocol; TLS failure   76 */
	ERROR_NOPERM,      /* auth failed or refused; relay denied     77 */
	ERROR_CONFIG,      /* configuration error                      78 */
};

/* A one-line message: long enough for a reason plus a server reply line. */
#define ERROR_MSG_MAX 1024
/* The server's reply behind a failure, kept whole for the log file line
 * (msmtp's smtpmsg=); longer replies are cut. */
#define ERROR_REPLY_MAX 512

struct error {
	enum error_kind kind;
	char msg[ERROR_MSG_MAX];
	/* The SMTP reply behind the failure, when there was one (else 0, ""). */
	int smtp_code;
	char smtp_enhanced[16];
	/* Its lines as sent ("550-a\n550 b"), censored, or "". */
	char smtp_reply[ERROR_REPLY_MAX];
};

/* Reset to "no error". */
void error_clear(struct error *err);

/* Fill err with kind and a printf-style message; always returns -1 so that
 * callers can write "return error_set(err, ...);".  Control characters
 * (C1 included) and bytes that are not well-formed UTF-8 in the formatted
 * message are replaced by '?', so it is always one printable line; UTF-8
 * text such as a name or an address is shown as it is. */
int error_set(struct error *err, enum error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like error_set, with ": strerror(errnum)" appended. */
int error_set_errno(struct error *err, enum error_kind kind, int errnum,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Copy the reply behind src's failure (code, enhanced code, text) to dst,
 * whose kind and message stay. */
void error_copy_reply(struct error *dst, const struct error *src);

/* Prepend context ("while reading X: ") to an already-set message. */
void error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The sysexits(3) code for a kind (0 for ERROR_NONE). */
int error_exit_code(enum error_kind kind);

/* A short stable name for a kind ("tempfail", "nouser", ...), for logs. */
const char *error_kind_name(enum error_kind kind);

/* The worse of two kinds when several failures happened (for example some
 * recipients refused and others accepted): a permanent failure outranks a
 * temporary one, so that a caller does not retry what can never work. */
enum error_kind error_worse(enum error_kind a, enum error_kind b);

#endif
