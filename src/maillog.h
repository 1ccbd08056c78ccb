/*
 * maillog.h - one line per message for the log file (the `logfile` key)
 * and syslog (the `syslog` key).
 *
 * The log file line is msmtp's, so that what parses an msmtp log keeps
 * working (field names, order and quoting as msmtp 1.8 writes them):
 *
 *   STAMP host=H tls=on|off auth=on|off [user=U] from=S recipients=R1,R2
 *         [mailsize=N] [smtpstatus=C smtpmsg='REPLY'] [errormsg='TEXT']
 *         [queued=ID] exitcode=EX_...
 *
 * mailsize only when delivered; smtpstatus and smtpmsg when the server
 * gave a reply that decided the outcome (its lines joined by a literal
 * "\n"); errormsg on failure; single quotes inside the quoted values
 * become '?', as msmtp does, so a value always ends at the next quote.
 * queued= is mailpost's own (msmtp never queues): the message is in the
 * queue under ID, and exitcode is then EX_TEMPFAIL (not delivered yet)
 * although mailpost itself exits 0.
 *
 * The syslog line keeps mailpost's format: "host=... from=<...>
 * recipients=<...>,<...> size=N result=... [reply="..."] [error="..."]".
 */
#ifndef MAILPOST_MAILLOG_H
#define MAILPOST_MAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

struct maillog_entry {
	const char *host;
	bool tls;         /* the account's tls key */
	bool auth;        /* the account authenticates */
	const char *user; /* shown when auth; may be NULL */
	const char *sender;
	const char *const *rcpts;
	size_t nrcpts;
	uint64_t size;
	const struct error *error; /* NULL or ERROR_NONE kind: delivered */
	int reply_code;            /* delivered: the reply to the dot */
	const char *reply;         /* its lines (reply_format), or "" */
	const char *queued_id;     /* queued under this id (error: why), or
	                            * NULL */
};

/* Write the log file line, prefixed with `stamp` and a space, to f in one
 * write (so that lines of concurrent runs do not interleave).  -1 with
 * errno set when it could not be written. */
int maillog_write(FILE *f, const char *stamp, const struct maillog_entry *e);

/* Write the syslog line with the given facility (a LOG_ value). */
void maillog_syslog(int facility, const struct maillog_entry *e);

/* The syslog line as text; out is NUL-terminated, cut with "..." when it
 * does not fit. */
void maillog_format(const struct maillog_entry *e, char *out, size_t n);

#endif
