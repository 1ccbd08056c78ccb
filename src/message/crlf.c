/*
 * crlf.c - line-ending normalisation to canonical CRLF, sendmail's lone-dot
 * rule, and the measurements taken on the way (see crlf.h).
 *
 * The input is scanned in runs: memchr finds the next CR and the next LF,
 * the text between line ends is copied with memcpy, and only line ends and
 * a leading dot need a decision of their own.
 */
#include "config.h"

#include "crlf.h"

#include <stdint.h>
#include <string.h>

/* Where the next CR and LF are in the current push, so that each memchr
 * covers a byte once per push instead of once per line. */
struct eol_scan {
	const char *end;
	const char *cr; /* next CR at or after the cursor, or end */
	const char *lf; /* next LF at or after the cursor, or end */
};

void
crlf_init(struct crlf_norm *c, bool dot_ends_input)
{
	memset(c, 0, sizeof *c);
	c->dot_ends_input = dot_ends_input;
	c->at_line_start = true;
}

static const char *
find_or_end(const char *p, const char *end, char ch)
{
	const char *q = memchr(p, ch, (size_t)(end - p));

	return q ? q : end;
}

/* The first CR or LF at or after p (or end). */
static const char *
next_eol(struct eol_scan *s, const char *p)
{
	if (s->cr < p)
		s->cr = find_or_end(p, s->end, '\r');
	if (s->lf < p)
		s->lf = find_or_end(p, s->end, '\n');
	return s->cr < s->lf ? s->cr : s->lf;
}

/* Whether p[0..n) holds a byte >= 0x80: eight bytes at a time (memcpy
 * compiles to one load), the rest one by one. */
static bool
any_8bit(const char *p, size_t n)
{
	const uint64_t high = 0x8080808080808080u;
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 32 <= n; i += 32) {
		uint64_t w[4];

		memcpy(w, p + i, sizeof w);
		acc |= w[0] | w[1] | w[2] | w[3];
		if (acc & high)
			return true;
	}
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, sizeof w);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	return (acc & high) != 0;
}

/* Note 8-bit and NUL bytes in a run of text.  Once both are known there
 * is nothing left to look for. */
static void
measure_run(struct crlf_norm *c, const char *p, size_t n)
{
	if (!c->has_nul && memchr(p, '\0', n))
		c->has_nul = true;
	if (!c->has_8bit)
		c->has_8bit = any_8bit(p, n);
}

/* Copy line text to the output; measure it unless its whole push was
 * measured at once (crlf_push). */
static size_t
emit_text(struct crlf_norm *c, const char *p, size_t n, char *out, bool measure)
{
	if (n == 0)
		return 0;
	if (measure)
		measure_run(c, p, n);
	memcpy(out, p, n);
	c->line_len += n;
	c->at_line_start = false;
	return n;
}

/* End the current line: CRLF out, and the line's length measured
 * against RFC 5322 2.1.1. */
static size_t
emit_eol(struct crlf_norm *c, char *out)
{
	out[0] = '\r';
	out[1] = '\n';
	c->lines++;
	if (c->line_len > c->max_line)
		c->max_line = c->line_len;
	if (c->line_len > CRLF_LINE_MAX && c->first_long_line == 0)
		c->first_long_line = c->lines;
	c->line_len = 0;
	c->at_line_start = true;
	return 2;
}

/* The dot held back at a line start meets the next byte: a line end makes
 * it the lone-dot line that ends the input; anything else makes it
 * ordinary text. */
static size_t
resolve_dot(struct crlf_norm *c, char next, char *out)
{
	c->pending_dot = false;
	if (next == '\r' || next == '\n') {
		c->done = true;
		return 0;
	}
	return emit_text(c, ".", 1, out, false); /* 7-bit */
}

size_t
crlf_push(struct crlf_norm *c, const char *in, size_t n, char *out)
{
	const char *p = in;
	const char *end = in + n;
	struct eol_scan scan;
	size_t o = 0;

	if (c->done || n == 0)
		return 0;
	/* Without the lone-dot rule every byte of the push is sent, and a
	 * line end is neither 8-bit nor NUL: one measurement of the whole
	 * block instead of one per line.  With it, bytes after the lone dot
	 * are not the message, so each run is measured as it is taken. */
	if (!c->dot_ends_input)
		measure_run(c, in, n);
	scan.end = end;
	scan.cr = find_or_end(in, end, '\r');
	scan.lf = find_or_end(in, end, '\n');
	while (p < end) {
		const char *eol;

		/* CR LF split or not: the CR already ended the line. */
		if (c->pending_cr) {
			c->pending_cr = false;
			if (*p == '\n') {
				p++;
				continue;
			}
		}
		if (c->pending_dot) {
			o += resolve_dot(c, *p, out + o);
			if (c->done)
				break;
		} else if (c->at_line_start && c->dot_ends_input && *p == '.') {
			c->pending_dot = true;
			p++;
			continue;
		}
		eol = next_eol(&scan, p);
		o += emit_text(c, p, (size_t)(eol - p), out + o,
		               c->dot_ends_input);
		p = eol;
		if (p == end)
			break;
		o += emit_eol(c, out + o);
		c->pending_cr = *p == '\r';
		p++;
	}
	c->bytes += o;
	return o;
}

size_t
crlf_finish(struct crlf_norm *c, char *out)
{
	size_t o = 0;

	if (c->done)
		return 0;
	/* A dot at the very end without a line end is not a lone-dot line:
	 * keep it, rather than lose the user's text. */
	if (c->pending_dot) {
		c->pending_dot = false;
		o += emit_text(c, ".", 1, out, false); /* 7-bit */
	}
	if (!c->at_line_start) {
		o += emit_eol(c, out + o);
		c->eol_added = true;
	}
	c->pending_cr = false;
	c->bytes += o;
	return o;
}
