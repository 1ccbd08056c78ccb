/*
 * smuggle.h - --smtp-smuggling-test: does a server take anything but
 * CRLF.CRLF as the end of a message's data?
 *
 * SMTP smuggling (SEC Consult, December 2023; CVE-2023-51764 Postfix,
 * CVE-2023-51765 Sendmail, CVE-2023-51766 Exim) needs a server that ends
 * the data at a malformed sequence (<LF>.<LF>, <LF>.<CR><LF>, ...) that
 * another server passed on as text: what follows it is then read as
 * commands, a second message the first server never saw.  RFC 5321
 * 4.1.1.4 allows only <CRLF>.<CRLF>.
 *
 * Each probe is a test message of its own, on a connection of its own,
 * to the one recipient given: its subject and text say what it is; its
 * text ends with one malformed sequence, then "NOOP" (a command that does
 * nothing), then the real <CRLF>.<CRLF>, and QUIT goes right behind.  A
 * server that ignores the sequence sees one message and answers the dot
 * once, then QUIT (221).  One that takes it for the end of the data
 * answers it, then the NOOP and the dot as commands: two replies or more
 * before the 221.  QUIT is the sentinel, so no waiting is involved: its
 * reply comes after every reply to what was sent before it.
 *
 * One line per probe on `out` (the sequence, its bytes escaped, "end of
 * data: yes/no", the replies), then a summary.  The server is the one
 * named with --host or --socket (clicheck.c refuses the test without
 * one),
 * with the account's settings (TLS, AUTH) otherwise; one host only, no
 * fallback.  Nothing is queued or written to a dead letter file.
 *
 * Result: 0 when no sequence was taken as an end of data.  When some
 * were: ERROR_PROTOCOL (exit 76, EX_PROTOCOL: the server breaks RFC 5321
 * 4.1.1.4), its message naming them.  A probe that could not be sent (the
 * connection, AUTH, or MAIL/RCPT/DATA refused) ends the test with that
 * failure's error; a probe the server closed without a reply is reported
 * as such and counts as not taken; one whose replies did not end cleanly
 * (a reply that did not come within the timeout, bytes that are no
 * reply) and that is not taken is reported as unknown ("?") and ends
 * the test (ERROR_TEMPFAIL).
 */
#ifndef MAILPOST_SMUGGLE_H
#define MAILPOST_SMUGGLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "job.h"
#include "reply.h"

/* How many replies of one probe are kept: the dot, the NOOP, the dot as
 * a command and QUIT make four; more is a server answering twice. */
#define SMUGGLE_REPLIES_MAX 8

/* The malformed end-of-data sequences tried, in order. */
struct smuggle_probe {
	const char *bytes;
	size_t len;
	const char *name; /* "<LF>.<LF>" */
};

/* The table (n set to its length). */
const struct smuggle_probe *smuggle_probes(size_t *n);

/* The test message of probe i of n: header and text, the sequence, NOOP,
 * <CRLF>.<CRLF>.  host is the sending machine's name, shown in the text;
 * date a Date field's value, msgid the Message-ID's (with <>).  Caller
 * frees. */
char *smuggle_message(const struct smuggle_probe *p, size_t i, size_t n,
                      const char *sender, const char *rcpt, const char *host,
                      const char *date, const char *msgid, size_t *len);

/* Whether replies[0..got) say the server ended the data at the sequence:
 * more than one reply before QUIT's 221 (or before the connection ended). */
bool smuggle_taken(const struct reply *replies, size_t got);

/* The whole test (see above). */
int smuggle_run(struct job *job, FILE *out, FILE *diag, struct error *err);

#endif
