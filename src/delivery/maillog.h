/*
 * maillog.h - one line per message for the log file (the `logfile` key)
 * and syslog (the `syslog` key).
 *
 * The log file line is msmtp's, so that what parses an msmtp log keeps
 * working (field names, order and quoting as msmtp 1.8 writes them):
 *
 *   STAMP host=H tls=on|off auth=on|off [user=U] from=S recipients=R1,R2
 *         [mailsize=N] [smtpstatus=C smtpmsg='REPLY'] [errormsg='TEXT']
 *         [queueid=ID] [owner=U] [queued=ID] exitcode=EX_...
 *
 * mailsize only when delivered; smtpstatus and smtpmsg when the server
 * gave a reply that decided the outcome (its lines joined by a literal
 * "\n"); errormsg on failure; single quotes inside the quoted values
 * become '?', as msmtp does, so a value always ends at the next quote.
 * queued= is mailpost's own (msmtp never queues): the message is in the
 * queue under ID, and exitcode is then EX_TEMPFAIL (not delivered yet)
 * although mailpost itself exits 0, unless the failure was not temporary
 * (some recipients refused for good while the rest was queued, a
 * flush's session refused), whose code it keeps.  queueid= is mailpost's
 * too: the line is a queued entry's attempt (a flush) and ID is that
 * entry's, as Postfix names its queue ids; an entry left in the queue
 * after it (deferred, narrowed, or given up with no dead letter that
 * could take it) is queued= under the same ID, the rest of a partial
 * delivery under its new one.  owner= too: the entry is another user's in the
 * machine's spool (root's flush sends every user's mail), U its login
 * name.
 *
 * The syslog line keeps mailpost's format: "[ID: ][owner=U ]host=...
 * from=<...> recipients=<...>,<...> size=N result=... [reply="..."]
 * [error="..."]", a queued entry's id first as Postfix writes it.
 */
#ifndef MAILPOST_MAILLOG_H
#define MAILPOST_MAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "envelope.h"
#include "error.h"
#include "submit.h"

struct maillog_entry {
	const char *host;
	bool tls;         /* the account's tls key */
	bool auth;        /* the account authenticates */
	const char *user; /* shown when auth; may be NULL */
	const struct envelope *env; /* its sender and recipients */
	uint64_t size;
	const struct error *error; /* NULL or ERROR_NONE kind: delivered */
	int reply_code;            /* delivered: the reply to the dot */
	const char *reply;         /* its lines (reply_format), or "" */
	const char *queued_id;     /* queued under this id (error: why), or
	                            * NULL */
	const char *entry_id;      /* the queued entry this attempt was for
	                            * (a flush), or NULL */
	const char *owner;         /* that entry's owner when it is another
	                            * user's (root's flush of the machine's
	                            * spool), or NULL */
	/* Not on the log line; for the machine-readable result (--json),
	 * which is made from the same entry: */
	const struct submit_report *session;  /* the session tried, or NULL */
	const struct submit_outcome *outcome; /* what the server said, or
	                                       * NULL when nothing was sent */
	const char *dead_letter; /* the file the message was saved to, or
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

/* The room a time stamp is given (logfile_time_format). */
#define MAILLOG_STAMP_MAX 128

/* The log file at path, opened for appending (created 0666 less the
 * umask), for maillog_write.  A FIFO that no process reads fails at once
 * with *no_reader set, a set-up mistake to report; any other failure
 * (ERROR_CONFIG, ERROR_OSERR for fdopen) leaves it false: the caller may
 * send without a log line. */
FILE *maillog_open(const char *path, bool *no_reader, struct error *err);

/* The time stamp of a log file line: now, in local time, in strftime's
 * format (the user's logfile_time_format; NULL: msmtp's "%b %d
 * %H:%M:%S"), into out; "-" when the format gives nothing or does not
 * fit.  Returns out. */
const char *maillog_stamp(const char *format, time_t now, char *out, size_t n);

/* The result line of one message, where the account sends it: to syslog
 * when facility is not negative (maillog_syslog), to file when it is not
 * NULL (maillog_write, stamped now with time_format).  -1 with errno set
 * when the file line could not be written. */
int maillog_record(FILE *file, const char *time_format, int facility,
                   const struct maillog_entry *e);

#endif
