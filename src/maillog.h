/*
 * maillog.h - one syslog line per message (the `syslog` key), in the
 * spirit of an MTA's log: host, sender, recipients, size, result, reply.
 */
#ifndef MAILPOST_MAILLOG_H
#define MAILPOST_MAILLOG_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct maillog_entry {
	const char *host;
	const char *sender;
	const char *const *rcpts;
	size_t nrcpts;
	uint64_t size;
	const struct error *error; /* NULL or ERROR_NONE kind: delivered */
	const char *reply;         /* the server's last reply, or "" */
	const char *queued_id;     /* queued under this id (error: why), or
	                            * NULL */
};

/* Write the line to syslog with the given facility (a LOG_ value). */
void maillog_syslog(int facility, const struct maillog_entry *e);

/* The same line as text, for a log file; out is NUL-terminated. */
void maillog_format(const struct maillog_entry *e, char *out, size_t n);

#endif
