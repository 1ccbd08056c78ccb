/*
 * header_text.h - for unit tests: a header block from a C string of whole
 * lines, each ending in LF (CRLF where the test wants it), as source.c
 * would push them.  Push errors are the test's to see in what it checks
 * afterwards (a block that lost a line renders differently).
 */
#ifndef MAILPOST_TEST_HEADER_TEXT_H
#define MAILPOST_TEST_HEADER_TEXT_H

#include <string.h>

#include "error.h"
#include "header.h"

static inline void
header_from(struct header_block *h, const char *text)
{
	struct error err;

	header_init(h);
	while (*text) {
		const char *lf = strchr(text, '\n');
		size_t n = (size_t)(lf - text) + 1;

		header_push_line(h, text, n, &err);
		text += n;
	}
}

#endif
