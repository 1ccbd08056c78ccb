/*
 * serve.h - sendmail's -bs mode: an SMTP server on standard input and
 * standard output (RFC 5321 server side, as PHP frameworks such as Symfony
 * Mailer expect of /usr/sbin/sendmail -bs).
 *
 * It greets, answers EHLO/HELO (capabilities: PIPELINING, 8BITMIME,
 * SMTPUTF8, ENHANCEDSTATUSCODES, SIZE, DSN, HELP), MAIL, RCPT, DATA, RSET,
 * NOOP, VRFY (252), HELP and QUIT, checks the command sequence (503), the
 * syntax (500, 501) and line lengths (552), refuses data with a NUL octet
 * (554: DATA cannot carry one), and reads each message's data (dot
 * unstuffed, to an unlinked temporary file, so memory does not grow with
 * it).  After DATA<CR><LF> only <CR><LF>.<CR><LF> ends the data: a "."
 * line next to a bare LF is text (SMTP smuggling, CVE-2023-51764); a
 * client that sends DATA with a bare LF ends its data with any "." line.
 * Each complete message is handed to the deliver callback, and the
 * reply to the final dot is the callback's answer: 250 only once the
 * message is delivered or durably queued.  Replies are written (flushed)
 * only when the server must wait for the next command, so a pipelining
 * client gets its replies in order.
 *
 * No TLS and no AUTH are offered: the peer is a local process.
 */
#ifndef MAILPOST_SERVE_H
#define MAILPOST_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "envelope.h"
#include "error.h"

/* One accepted message. */
struct serve_message {
	/* The client's envelope (envelope.h): the sender ("" for <>), the
	 * recipients as given in RCPT TO (brackets removed), and the DSN
	 * parameters: RET and ENVID (decoded from xtext) of MAIL, the first
	 * accepted RCPT's NOTIFY; NULL for those not given.  Owned by serve,
	 * valid during the callback. */
	const struct envelope *env;
	int fd;         /* the data, dot-unstuffed, line ends as received,
	                 * positioned at 0; owned by serve (closed after) */
	bool body_8bit; /* BODY=8BITMIME was given */
	bool smtputf8;  /* SMTPUTF8 was given */
};

/* The answer to the final dot: a complete reply line without CRLF, e.g.
 * "250 2.0.0 Ok: delivered" or "451 4.4.1 Connection refused".  The
 * callback must fill it; a code outside 2xx/4xx/5xx is sent as 451. */
struct serve_answer {
	char line[512];
};

typedef void (*serve_deliver_fn)(void *ctx, const struct serve_message *m,
                                 struct serve_answer *answer);

struct serve_options {
	const char *hostname;   /* in the greeting and EHLO reply */
	unsigned long size_max; /* SIZE announced and enforced; 0: none */
	int idle_timeout_ms;    /* waiting for a command (RFC 5321 4.5.3.2:
	                         * at least 5 minutes); 0: no limit */
	const char *tmpdir;     /* for the data files; NULL: $TMPDIR, /tmp */
	serve_deliver_fn deliver;
	void *ctx;
};

/* Run the session on in_fd/out_fd until QUIT or end of input.  0 after
 * QUIT or a clean end of input; -1 with err set when the session could
 * not go on (a write to the client failed: ERROR_IOERR; the idle timeout:
 * ERROR_TEMPFAIL; a data file could not be written: the client got a 451
 * first; 20 syntax or sequence errors in a row: a 421, ERROR_PROTOCOL).
 * Messages already answered 250 are delivered either way.  The caller
 * ignores SIGPIPE, so that a client gone away is a write error. */
int serve_run(int in_fd, int out_fd, const struct serve_options *o,
              struct error *err);

#endif
