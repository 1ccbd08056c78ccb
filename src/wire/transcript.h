/*
 * transcript.h - the record of a session: every line sent and received,
 * with its direction and the time since the program started.
 *
 * It backs -v (to stderr) and the `logfile` key.  Lines look like
 *
 *     [   0.012] <-  250-mail.example.org
 *     [   0.012]  -> MAIL FROM:<alice@example.org> SIZE=1234
 *     [   0.000] === Connected to 127.0.0.1 port 2525
 *
 * ("<-" from the server, "->" to the server, "===" mailpost's own notes,
 * "***" problems).  Text is censored before it is written: nothing from the
 * network reaches a terminal unescaped.  Secrets are never passed in:
 * callers use transcript_client_redacted for lines that carry them.
 */
#ifndef MAILPOST_TRANSCRIPT_H
#define MAILPOST_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Verbosity levels: 0 nothing; 1 (-v) the dialogue with the message body
 * summarised; 2 (-vv) the body too, line by line. */
enum {
	TRANSCRIPT_QUIET = 0,
	TRANSCRIPT_DIALOGUE = 1,
	TRANSCRIPT_BODY = 2,
};

struct transcript;

/* A transcript writing to `terminal` (stderr, or NULL for none) at the
 * given verbosity, and to `logfile` (NULL for none) at verbosity 1.  The
 * streams stay owned by the caller. */
struct transcript *transcript_new(FILE *terminal, int verbosity,
				  FILE *logfile);
void transcript_free(struct transcript *t);

/* True when anything is being recorded at this level (lets callers skip
 * formatting work). */
bool transcript_wants(const struct transcript *t, int level);

void transcript_server(struct transcript *t, const char *line, size_t len);
void transcript_client(struct transcript *t, const char *line, size_t len);
/* A client line with a secret: `shown` is printed followed by
 * " <redacted>", e.g. shown = "AUTH PLAIN". */
void transcript_client_redacted(struct transcript *t, const char *shown);
/* A body line (only recorded at TRANSCRIPT_BODY). */
void transcript_body(struct transcript *t, const char *line, size_t len);
void transcript_note(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void transcript_problem(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A note recorded only at TRANSCRIPT_BODY (-vv) and never in the log file:
 * the session's state changes, for debugging. */
void transcript_trace(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
