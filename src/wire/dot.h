/*
 * dot.h - dot-stuffing for the SMTP DATA phase (RFC 5321 4.5.2).
 *
 * Input is canonical text (CRLF line endings, as crlf.h produces).  Every
 * line that begins with "." gets a second "." in front, and the end of the
 * message is marked by CRLF "." CRLF.  Streaming: any split of the input
 * gives the same output.  The scan uses memchr over whole buffers.
 */
#ifndef MAILPOST_DOT_H
#define MAILPOST_DOT_H

#include <stdbool.h>
#include <stddef.h>

struct dot_stuffer {
	bool at_line_start;
};

void dot_init(struct dot_stuffer *d);

/* Worst-case output size for n input bytes. */
#define DOT_OUT_MAX(n) (2 * (n))

/* Stuff in[0..n) into out (at least DOT_OUT_MAX(n) bytes); returns bytes
 * written. */
size_t dot_stuff(struct dot_stuffer *d, const char *in, size_t n, char *out);

/* The end-of-data marker: CRLF first if the text did not end with one, then
 * ".\r\n".  out holds at least 5 bytes; returns bytes written. */
size_t dot_finish(struct dot_stuffer *d, char *out);

#endif
