/*
 * crlf.h - turning input text into canonical form: every line ending
 * (CRLF, bare LF, bare CR) becomes CRLF, and the text always ends with one.
 *
 * Streaming: push any split of the input, in any pieces, and the output is
 * the same.  While it works it measures what later decisions need (size,
 * 8-bit bytes, the longest line), so that no second pass is needed.
 *
 * sendmail's rule is also here: unless -i / -oi was given, a line holding a
 * single "." ends the input; the dot line itself is not part of the message.
 */
#ifndef MAILPOST_CRLF_H
#define MAILPOST_CRLF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5322 2.1.1: a line is at most 998 characters without its CRLF. */
#define CRLF_LINE_MAX 998

struct crlf_norm {
	/* configuration */
	bool dot_ends_input;
	/* state */
	bool pending_cr;   /* the last byte pushed was a CR */
	bool pending_dot;  /* a "." at the start of a line is held back */
	bool at_line_start;
	bool done;         /* the lone-dot line was seen: ignore the rest */
	uint64_t line_len; /* length of the current line so far */
	/* measurements of the output */
	uint64_t bytes;          /* bytes written out, CRLFs included */
	uint64_t lines;          /* complete lines written out */
	uint64_t max_line;       /* longest line, without CRLF */
	uint64_t first_long_line; /* 1-based number of the first line longer
				   * than CRLF_LINE_MAX, 0 if none */
	bool has_8bit;           /* a byte >= 0x80 was seen */
	bool has_nul;            /* a NUL byte was seen */
	bool eol_added;          /* the input did not end with a line end:
	                          * crlf_finish added the last CRLF */
};

void crlf_init(struct crlf_norm *c, bool dot_ends_input);

/* Worst-case output size for an input of n bytes (every byte a bare CR or
 * LF becomes two, plus a held-back dot). */
#define CRLF_OUT_MAX(n) (2 * (n) + 4)

/* Normalise in[0..n) into out, which holds at least CRLF_OUT_MAX(n) bytes.
 * Returns the number of bytes written.  Once c->done is set, further input
 * is ignored (returns 0). */
size_t crlf_push(struct crlf_norm *c, const char *in, size_t n, char *out);

/* End of input: write what is held back and a final CRLF if the text does
 * not end with one (out holds at least 4 bytes).  Returns bytes written. */
size_t crlf_finish(struct crlf_norm *c, char *out);

#endif
