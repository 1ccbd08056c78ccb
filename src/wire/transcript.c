/*
 * transcript.c - the record of a session (see transcript.h): each line
 * stamped with the time since the transcript began, marked with its
 * direction, censored, and written to the terminal and the log file.
 *
 * Censoring happens here, on a copy, in small chunks, so no caller can
 * forget it and no line needs an allocation.
 */
#include "config.h"

#include "transcript.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Notes are formatted into this; longer ones are cut. */
#define TRANSCRIPT_NOTE_MAX 1024
/* Censored copies are made this many bytes at a time. */
#define TRANSCRIPT_CHUNK 256

/* The marks in front of each kind of line. */
#define MARK_SERVER "<-  "
#define MARK_CLIENT " -> "
#define MARK_NOTE "=== "
#define MARK_PROBLEM "*** "

struct transcript {
	FILE *terminal;
	int verbosity;
	FILE *logfile;
	int64_t start_ms;
};

struct transcript *
transcript_new(FILE *terminal, int verbosity, FILE *logfile)
{
	struct transcript *t = xmalloc(sizeof *t);

	t->terminal = terminal;
	t->verbosity = verbosity;
	t->logfile = logfile;
	t->start_ms = now_ms();
	return t;
}

void
transcript_free(struct transcript *t)
{
	free(t);
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

/* One line: stamp, mark, text, suffix (trusted, ours), newline.  Flushed
 * at once, so a transcript read after a crash or a hang is complete. */
static void
write_line(const struct transcript *t, FILE *f, const char *mark,
           const char *text, size_t len, const char *suffix)
{
	double secs = (double)(now_ms() - t->start_ms) / 1000.0;

	fprintf(f, "[%8.3f] %s", secs, mark);
	write_censored(f, text, len);
	fputs(suffix, f);
	fputc('\n', f);
	fflush(f);
}

static void
emit(struct transcript *t, int level, const char *mark, const char *text,
     size_t len, const char *suffix)
{
	if (!t)
		return;
	if (to_terminal(t, level))
		write_line(t, t->terminal, mark, text, len, suffix);
	if (to_logfile(t, level))
		write_line(t, t->logfile, mark, text, len, suffix);
}

void
transcript_server(struct transcript *t, const char *line, size_t len)
{
	emit(t, TRANSCRIPT_DIALOGUE, MARK_SERVER, line, len, "");
}

void
transcript_client(struct transcript *t, const char *line, size_t len)
{
	emit(t, TRANSCRIPT_DIALOGUE, MARK_CLIENT, line, len, "");
}

void
transcript_client_redacted(struct transcript *t, const char *shown)
{
	emit(t, TRANSCRIPT_DIALOGUE, MARK_CLIENT, shown, strlen(shown),
	     " <redacted>");
}

void
transcript_body(struct transcript *t, const char *line, size_t len)
{
	emit(t, TRANSCRIPT_BODY, MARK_CLIENT, line, len, "");
}

static void emit_formatted(struct transcript *t, int level, const char *mark,
                           const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
emit_formatted(struct transcript *t, int level, const char *mark,
               const char *fmt, va_list ap)
{
	char text[TRANSCRIPT_NOTE_MAX];
	int n;

	if (!transcript_wants(t, level))
		return;
	n = vsnprintf(text, sizeof text, fmt, ap);
	if (n < 0)
		return;
	emit(t, level, mark, text, strlen(text), "");
}

void
transcript_note(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_formatted(t, TRANSCRIPT_DIALOGUE, MARK_NOTE, fmt, ap);
	va_end(ap);
}

void
transcript_problem(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_formatted(t, TRANSCRIPT_DIALOGUE, MARK_PROBLEM, fmt, ap);
	va_end(ap);
}

void
transcript_trace(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_formatted(t, TRANSCRIPT_BODY, MARK_NOTE, fmt, ap);
	va_end(ap);
}
