/*
 * transcript.h - the record of a session: every line sent and received,
 * with its direction and the time since the program started.
 *
 * It backs -v (to stderr) and the `logfile` key.  One layout at every
 * verbosity, in fixed columns (mailpost(1), TRANSCRIPT):
 *
 *     [   0.000] === Connected to 127.0.0.1 port 2525
 *     [   0.012] <-  250-mail.example.org
 *                <-  250 PIPELINING
 *     [   0.012]  -> MAIL FROM:<alice@example.org> SIZE=1234
 *     [   0.030] === -------- TLS from here: TLS1.3, ... --------
 *     [   0.031]  ~> EHLO client.example.org
 *     [   0.052] <~  250 ...
 *
 * the time column (blank on the further lines of a multi-line reply,
 * which belong to its first), with --timing a reply's latency, then the
 * mark: "<-" from the server, "->" to it, "<~" and "~>" the same inside
 * TLS, "===" mailpost's own notes, "***" problems.  Text is censored
 * before it is written: nothing from the network reaches a terminal
 * unescaped.  Colours (SGR) go only to the terminal, never the log file.
 *
 * Secrets are never passed in: callers use transcript_client_redacted,
 * or transcript_auth_client/_server, which take the redacted form for the
 * log file and, only when the terminal asked for it (--show-auth), the
 * decoded exchange for the terminal.
 */
#ifndef MAILPOST_TRANSCRIPT_H
#define MAILPOST_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Verbosity levels: 0 nothing; 1 (-v) the dialogue with the message body
 * summarised; 2 (-vv) the body too, line by line; 3 (-vvv) the session's
 * state changes as well, for debugging. */
enum {
	TRANSCRIPT_QUIET = 0,
	TRANSCRIPT_DIALOGUE = 1,
	TRANSCRIPT_BODY = 2,
	TRANSCRIPT_DEBUG = 3,
};

struct transcript;

/* A transcript writing to `terminal` (stderr, or NULL for none) at the
 * given verbosity, and to `logfile` (NULL for none) at verbosity 1.  The
 * streams stay owned by the caller. */
struct transcript *transcript_new(FILE *terminal, int verbosity, FILE *logfile);
void transcript_free(struct transcript *t);

/* How the transcript looks.  The log file's copy has the same columns
 * (the latencies too) but never colours and never a secret. */
struct transcript_style {
	bool color;     /* SGR colours on the terminal */
	bool show_auth; /* --show-auth: the AUTH exchange as sent and decoded
	                 * on the terminal (the log file stays redacted) */
	bool timing;    /* --timing: each reply's latency, and a total */
};

void transcript_set_style(struct transcript *t,
                          const struct transcript_style *style);

/* True when anything is being recorded at this level (lets callers skip
 * formatting work). */
bool transcript_wants(const struct transcript *t, int level);

/* True when --timing asked for the latencies (and the session's steps). */
bool transcript_timing(const struct transcript *t);

/* True when the terminal wants the AUTH exchange in clear (--show-auth):
 * only then need a caller work out the shown form. */
bool transcript_shows_auth(const struct transcript *t);

void transcript_server(struct transcript *t, const char *line, size_t len);
void transcript_client(struct transcript *t, const char *line, size_t len);
/* A client line with a secret: `shown` is printed followed by
 * " <redacted>", e.g. shown = "AUTH PLAIN". */
void transcript_client_redacted(struct transcript *t, const char *shown);
/* A line of the AUTH exchange: `redacted` goes to the log file, and to
 * the terminal unless --show-auth, which gets `clear` (may be NULL:
 * then the redacted form everywhere). */
void transcript_auth_client(struct transcript *t, const char *redacted,
                            const char *clear);
void transcript_auth_server(struct transcript *t, const char *redacted,
                            const char *clear);
/* A body line (only recorded at TRANSCRIPT_BODY). */
void transcript_body(struct transcript *t, const char *line, size_t len);
/* After the body: at -v "body: N lines, X KiB not shown (-vv shows
 * them)", at -vv its size only (the lines were shown). */
void transcript_body_end(struct transcript *t, uint64_t lines, uint64_t bytes);
/* The session became TLS: a separator line naming the version and the
 * cipher suite, and from here on the marks "<~" and "~>". */
void transcript_tls(struct transcript *t, const char *version,
                    const char *suite);
void transcript_note(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void transcript_problem(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The one line that ends a message's transcript: what became of it
 * (delivered, queued, refused), with the time since the transcript
 * began; with --timing, also the time spent waiting for the server. */
void transcript_result(struct transcript *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A note recorded only at TRANSCRIPT_DEBUG (-vvv) and never in the log
 * file: the session's state changes, for debugging. */
void transcript_trace(struct transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
