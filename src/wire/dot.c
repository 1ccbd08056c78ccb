/*
 * dot.c - dot-stuffing for the SMTP DATA phase (RFC 5321 4.5.2), see dot.h.
 *
 * The input is canonical, so a line starts right after an LF: memchr finds
 * each LF, whole lines are copied with memcpy, and only the first byte of
 * each line is looked at.
 */
#include "config.h"

#include "dot.h"

#include <string.h>

void
dot_init(struct dot_stuffer *d)
{
	d->at_line_start = true;
}

size_t
dot_stuff(struct dot_stuffer *d, const char *in, size_t n, char *out)
{
	const char *p = in;
	const char *end = in + n;
	size_t o = 0;

	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *stop = lf ? lf + 1 : end;

		/* RFC 5321 4.5.2: a line that starts with "." gets one more,
		 * so that the receiver never mistakes it for the end. */
		if (d->at_line_start && *p == '.')
			out[o++] = '.';
		memcpy(out + o, p, (size_t)(stop - p));
		o += (size_t)(stop - p);
		d->at_line_start = lf != NULL;
		p = stop;
	}
	return o;
}

size_t
dot_finish(struct dot_stuffer *d, char *out)
{
	size_t o = 0;

	if (!d->at_line_start) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	d->at_line_start = true;
	return o + 3;
}
