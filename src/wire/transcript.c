/*
 * transcript.c - the record of a session (see transcript.h): each line
 * stamped with the time since the transcript began, marked with its
 * direction, censored, and written to the terminal and the log file.
 *
 * Censoring happens here, on a copy, in small chunks, so no caller can
 * forget it and no line needs an allocation.  The terminal's copy and the
 * log file's are written separately: only the terminal's may carry
 * colours or (with --show-auth) the AUTH exchange in clear.
 */
#include "config.h"

#include "transcript.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Notes are formatted into this; longer ones are cut. */
#define TRANSCRIPT_NOTE_MAX 1024
/* Censored copies are made this many bytes at a time. */
#define TRANSCRIPT_CHUNK 256
/* Commands sent and not yet answered, for --timing.  A pipelined group is
 * at most SMTP_PIPELINE_MAX (100) commands plus QUIT; past this the
 * oldest are forgotten and the latencies shown are the later ones'. */
#define TRANSCRIPT_PENDING_MAX 256
/* The time column, "[   0.012] ", and the latency column, "  +20.9 ms ". */
#define TIME_WIDTH 10
#define LATENCY_WIDTH 10

/* The kinds of line, each with its mark and its colour. */
enum kind {
	K_SERVER,
	K_CLIENT,
	K_NOTE,
	K_PROBLEM,
	K_TLS,
	K_RESULT,
};

/* The marks (4 columns); inside TLS the arrows become swaks' tildes. */
static const char *const marks[][2] = {
    [K_SERVER] = {"<-  ", "<~  "}, [K_CLIENT] = {" -> ", " ~> "},
    [K_NOTE] = {"=== ", "=== "},   [K_PROBLEM] = {"*** ", "*** "},
    [K_TLS] = {"=== ", "=== "},    [K_RESULT] = {"=== ", "=== "},
};

/* SGR colours (ECMA-48 8.3.117) for the terminal only. */
#define SGR_RESET "\033[0m"
#define SGR_STAMP "\033[2m"
static const char *const colors[] = {
    [K_SERVER] = "\033[36m",    /* cyan */
    [K_CLIENT] = "\033[32m",    /* green */
    [K_NOTE] = "",              /* as the terminal is */
    [K_PROBLEM] = "\033[1;31m", /* bold red */
    [K_TLS] = "\033[1;35m",     /* bold magenta */
    [K_RESULT] = "\033[1m",     /* bold */
};
/* The AUTH exchange in clear (--show-auth): bold yellow, a secret on
 * the screen. */
#define SGR_SECRET "\033[1;33m"

struct transcript {
	FILE *terminal;
	int verbosity;
	FILE *logfile;
	struct transcript_style style;
	int64_t start_ms;
	bool tls;              /* the marks of the lines inside TLS */
	bool in_reply;         /* the last server line ended in "NNN-" */
	int64_t ref_ms;        /* the last client line or note: what a reply
	                        * with no command waiting answers (a greeting) */
	int64_t waited_ms;     /* time spent waiting for replies */
	int64_t last_reply_ms; /* when the last reply began */
	int64_t pending[TRANSCRIPT_PENDING_MAX]; /* when each was sent */
	size_t head, npending;
};

/* One line as it is about to be written. */
struct line {
	enum kind kind;
	bool secret;     /* the AUTH exchange in clear */
	bool continued;  /* a further line of a reply: no time, no latency */
	int64_t latency; /* ms, or -1: none */
};

struct transcript *
transcript_new(FILE *terminal, int verbosity, FILE *logfile)
{
	struct transcript *t = xcalloc(1, sizeof *t);

	t->terminal = terminal;
	t->verbosity = verbosity;
	t->logfile = logfile;
	t->start_ms = now_ms();
	t->ref_ms = t->start_ms;
	return t;
}

void
transcript_free(struct transcript *t)
{
	free(t);
}

void
transcript_set_style(struct transcript *t, const struct transcript_style *style)
{
	if (t)
		t->style = *style;
}

static bool
to_terminal(const struct transcript *t, int level)
{
	return t->terminal && t->verbosity >= level;
}

/* The log file records the dialogue (level 1), never the body. */
static bool
to_logfile(const struct transcript *t, int level)
{
	return t->logfile && level <= TRANSCRIPT_DIALOGUE;
}

bool
transcript_wants(const struct transcript *t, int level)
{
	return t && (to_terminal(t, level) || to_logfile(t, level));
}

bool
transcript_timing(const struct transcript *t)
{
	return t && t->style.timing && transcript_wants(t, TRANSCRIPT_DIALOGUE);
}

bool
transcript_shows_auth(const struct transcript *t)
{
	return t && t->style.show_auth && to_terminal(t, TRANSCRIPT_DIALOGUE);
}

/* --- timing --- */

static void
pending_push(struct transcript *t, int64_t when)
{
	size_t tail;

	if (t->npending == TRANSCRIPT_PENDING_MAX) {
		t->head = (t->head + 1) % TRANSCRIPT_PENDING_MAX;
		t->npending--;
	}
	tail = (t->head + t->npending) % TRANSCRIPT_PENDING_MAX;
	t->pending[tail] = when;
	t->npending++;
	t->ref_ms = when;
	t->in_reply = false;
}

/* When the command a reply answers was sent: the oldest unanswered one
 * (replies come in order, RFC 2920 3.1); with none left (a greeting, or
 * an LMTP server's further replies to one dot), the last thing we did. */
static int64_t
pending_pop(struct transcript *t)
{
	int64_t when;

	if (t->npending == 0)
		return t->ref_ms;
	when = t->pending[t->head];
	t->head = (t->head + 1) % TRANSCRIPT_PENDING_MAX;
	t->npending--;
	return when;
}

/* --- writing --- */

/* Write text[0..len) censored, without touching the caller's bytes. */
static void
write_censored(FILE *f, const char *text, size_t len)
{
	char chunk[TRANSCRIPT_CHUNK];

	while (len > 0) {
		size_t n = len < sizeof chunk ? len : sizeof chunk;

		memcpy(chunk, text, n);
		str_censor(chunk, n);
		fwrite(chunk, 1, n, f);
		text += n;
		len -= n;
	}
}

/* The time and latency columns, always the same width. */
static void
write_columns(const struct transcript *t, FILE *f, const struct line *l,
              bool color)
{
	char latency[32] = "";

	if (color)
		fputs(SGR_STAMP, f);
	if (l->continued)
		fprintf(f, "%*s ", TIME_WIDTH, "");
	else
		fprintf(f, "[%8.3f] ",
		        (double)(now_ms() - t->start_ms) / 1000.0);
	if (t->style.timing) {
		if (l->latency >= 0 && !l->continued)
			snprintf(latency, sizeof latency, "+%" PRId64 " ms",
			         l->latency);
		fprintf(f, "%*s ", LATENCY_WIDTH, latency);
	}
	if (color)
		fputs(SGR_RESET, f);
}

/* One line: columns, mark, text, suffix (trusted, ours), newline.
 * Flushed at once, so a transcript read after a crash or a hang is
 * complete. */
static void
write_line(const struct transcript *t, FILE *f, const struct line *l,
           const char *text, size_t len, const char *suffix, bool color)
{
	const char *sgr = l->secret ? SGR_SECRET : colors[l->kind];

	write_columns(t, f, l, color);
	color = color && sgr[0];
	if (color)
		fputs(sgr, f);
	fputs(marks[l->kind][t->tls], f);
	write_censored(f, text, len);
	fputs(suffix, f);
	if (color)
		fputs(SGR_RESET, f);
	fputc('\n', f);
	fflush(f);
}

static void
emit_line(struct transcript *t, int level, const struct line *l,
          const char *text, size_t len, const char *suffix)
{
	if (!t)
		return;
	if (to_terminal(t, level))
		write_line(t, t->terminal, l, text, len, suffix,
		           t->style.color);
	if (to_logfile(t, level))
		write_line(t, t->logfile, l, text, len, suffix, false);
}

static void
emit(struct transcript *t, int level, enum kind kind, const char *text,
     size_t len, const char *suffix)
{
	struct line l = {.kind = kind, .latency = -1};

	emit_line(t, level, &l, text, len, suffix);
}

/* A server line: the first of a reply carries the time (and the time
 * since the command it answers); the others are aligned under it. */
static void
server_line(struct transcript *t, const char *line, size_t len,
            const char *term_text, const char *suffix)
{
	struct line l = {.kind = K_SERVER, .continued = t->in_reply};

	if (!l.continued) {
		int64_t now = now_ms(), sent = pending_pop(t);

		l.latency = now - sent;
		/* Replies to a pipelined group overlap: count each stretch
		 * of waiting once. */
		t->waited_ms +=
		    now - (sent > t->last_reply_ms ? sent : t->last_reply_ms);
		t->last_reply_ms = now;
	}
	/* RFC 5321 4.2.1: "NNN-" announces a further line. */
	t->in_reply = len >= 4 && line[3] == '-';
	if (to_logfile(t, TRANSCRIPT_DIALOGUE))
		write_line(t, t->logfile, &l, line, len, suffix, false);
	if (!to_terminal(t, TRANSCRIPT_DIALOGUE))
		return;
	l.secret = term_text != NULL;
	if (term_text)
		write_line(t, t->terminal, &l, term_text, strlen(term_text), "",
		           t->style.color);
	else
		write_line(t, t->terminal, &l, line, len, suffix,
		           t->style.color);
}

void
transcript_server(struct transcript *t, const char *line, size_t len)
{
	if (t)
		server_line(t, line, len, NULL, "");
}

void
transcript_client(struct transcript *t, const char *line, size_t len)
{
	if (!t)
		return;
	pending_push(t, now_ms());
	emit(t, TRANSCRIPT_DIALOGUE, K_CLIENT, line, len, "");
}

void
transcript_client_redacted(struct transcript *t, const char *shown)
{
	if (!t)
		return;
	pending_push(t, now_ms());
	emit(t, TRANSCRIPT_DIALOGUE, K_CLIENT, shown, strlen(shown),
	     " <redacted>");
}

void
transcript_auth_client(struct transcript *t, const char *redacted,
                       const char *clear)
{
	struct line l = {.kind = K_CLIENT, .latency = -1};

	if (!t)
		return;
	pending_push(t, now_ms());
	if (to_logfile(t, TRANSCRIPT_DIALOGUE))
		write_line(t, t->logfile, &l, redacted, strlen(redacted), "",
		           false);
	if (!to_terminal(t, TRANSCRIPT_DIALOGUE))
		return;
	if (clear && transcript_shows_auth(t)) {
		l.secret = true;
		redacted = clear;
	}
	write_line(t, t->terminal, &l, redacted, strlen(redacted), "",
	           t->style.color);
}

void
transcript_auth_server(struct transcript *t, const char *redacted,
                       const char *clear)
{
	if (!t)
		return;
	server_line(t, redacted, strlen(redacted),
	            clear && transcript_shows_auth(t) ? clear : NULL, "");
}

void
transcript_body(struct transcript *t, const char *line, size_t len)
{
	emit(t, TRANSCRIPT_BODY, K_CLIENT, line, len, "");
}

void
transcript_body_end(struct transcript *t, uint64_t lines, uint64_t bytes)
{
	char text[128], size[32];
	int n;

	if (!transcript_wants(t, TRANSCRIPT_DIALOGUE))
		return;
	str_bytes(size, sizeof size, bytes);
	n = snprintf(text, sizeof text, "body: %" PRIu64 " line%s, %s", lines,
	             lines == 1 ? "" : "s", size);
	if (n < 0)
		return;
	/* The log file never holds the body: it is never "shown" there. */
	if (to_terminal(t, TRANSCRIPT_BODY))
		write_line(t, t->terminal,
		           &(struct line){.kind = K_NOTE, .latency = -1}, text,
		           strlen(text), "", t->style.color);
	else if (to_terminal(t, TRANSCRIPT_DIALOGUE))
		write_line(t, t->terminal,
		           &(struct line){.kind = K_NOTE, .latency = -1}, text,
		           strlen(text), " not shown (-vv shows them)",
		           t->style.color);
	if (to_logfile(t, TRANSCRIPT_DIALOGUE))
		write_line(t, t->logfile,
		           &(struct line){.kind = K_NOTE, .latency = -1}, text,
		           strlen(text), " not shown", false);
}

static void emit_formatted(struct transcript *t, int level, enum kind kind,
                           const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
emit_formatted(struct transcript *t, int level, enum kind kind, const char *fmt,
               va_list ap)
{
	char text[TRANSCRIPT_NOTE_MAX];
	int n;

	if (!transcript_wants(t, level))
		return;
	n = vsnprintf(text, sizeof text, fmt, ap);
	if (n < 0)
		return;
	emit(t, level, kind, text, strlen(text), "");
}

void
transcript_tls(struct transcript *t, const char *version, const char *suite)
{
	char text[TRANSCRIPT_NOTE_MAX];

	if (!t)
		return;
	/* Marked before the line is written: the separator is the first
	 * line of the encrypted part. */
	t->tls = true;
	if (!transcript_wants(t, TRANSCRIPT_DIALOGUE))
		return;
	snprintf(text, sizeof text,
	         "-------- TLS from here: %s%s%s (<~ ~> encrypted) --------",
	         version && *version ? version : "?",
	         suite && *suite ? ", " : "", suite ? suite : "");
	emit(t, TRANSCRIPT_DIALOGUE, K_TLS, text, strlen(text), "");
}

/* A note in the middle of a multi-line reply (the connection lost after
 * "250-", a failover to another server): what the server says next
 * starts a reply of its own, with its own time.  After a problem, no
 * command still waits for its answer: the session that owed it is over
 * (smtp.c reads nothing more after a failed exchange), and the next
 * connection's greeting must not be timed from it. */
static void
interrupted(struct transcript *t, bool problem)
{
	if (!t)
		return;
	t->in_reply = false;
	if (problem)
		t->npending = 0;
}

void
transcript_note(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	if (t)
		t->ref_ms = now_ms();
	interrupted(t, false);
	va_start(ap, fmt);
	emit_formatted(t, TRANSCRIPT_DIALOGUE, K_NOTE, fmt, ap);
	va_end(ap);
}

void
transcript_problem(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	interrupted(t, true);
	va_start(ap, fmt);
	emit_formatted(t, TRANSCRIPT_DIALOGUE, K_PROBLEM, fmt, ap);
	va_end(ap);
}

void
transcript_result(struct transcript *t, const char *fmt, ...)
{
	char text[TRANSCRIPT_NOTE_MAX], tail[96];
	int64_t elapsed;
	va_list ap;
	int n;

	if (!transcript_wants(t, TRANSCRIPT_DIALOGUE))
		return;
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	elapsed = now_ms() - t->start_ms;
	if (t->style.timing)
		snprintf(tail, sizeof tail,
		         " (%" PRId64 ".%03" PRId64 " s in all, %" PRId64
		         " ms waiting for the server)",
		         elapsed / 1000, elapsed % 1000, t->waited_ms);
	else
		snprintf(tail, sizeof tail,
		         " (%" PRId64 ".%03" PRId64 " s in all)",
		         elapsed / 1000, elapsed % 1000);
	emit(t, TRANSCRIPT_DIALOGUE, K_RESULT, text, strlen(text), tail);
}

void
transcript_trace(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_formatted(t, TRANSCRIPT_DEBUG, K_NOTE, fmt, ap);
	va_end(ap);
}
