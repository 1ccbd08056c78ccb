/*
 * filetype.c - MIME types from file content through libmagic (see
 * filetype.h).  The cookie is opened and the database loaded lazily: the
 * load parses several megabytes, which a plain send never needs.
 */
#include "config.h"

#include "filetype.h"

#include <magic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* How much of a file libmagic may look at. */
#define FILETYPE_BYTES_MAX (256 * 1024)

static magic_t cookie;
static bool tried; /* an open was attempted (do not retry a failure) */

void
filetype_cleanup(void)
{
	if (cookie)
		magic_close(cookie);
	cookie = NULL;
	tried = false;
}

static magic_t
get_cookie(void)
{
	static bool registered;
	size_t bytes_max = FILETYPE_BYTES_MAX;

	if (cookie || tried)
		return cookie;
	tried = true;
	if (!registered) {
		atexit(filetype_cleanup);
		registered = true;
	}
	cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_SYMLINK | MAGIC_ERROR);
	if (!cookie)
		return NULL;
	/* libmagic reads up to 7 MiB of a file by default (5.4x); the start
	 * of a file is what identifies it, and memory must stay small. */
	magic_setparam(cookie, MAGIC_PARAM_BYTES_MAX, &bytes_max);
	if (magic_load(cookie, NULL) != 0) {
		magic_close(cookie);
		cookie = NULL;
	}
	return cookie;
}

/* RFC 2045 5.1: token := 1*<any CHAR except SPACE, CTLs, or tspecials>. */
static bool
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static size_t
token_len(const char *s)
{
	size_t i = 0;

	while (s[i] && is_token_char((unsigned char)s[i]))
		i++;
	return i;
}

int
filetype_valid(const char *type)
{
	size_t a = token_len(type);
	size_t b;

	if (a == 0 || a > 127 || type[a] != '/')
		return 0;
	b = token_len(type + a + 1);
	return b > 0 && b <= 127 && type[a + 1 + b] == '\0';
}

/* libmagic's pseudo-types for things that are not content. */
static const char *
fallback_for(const char *got)
{
	if (!got)
		return "application/octet-stream";
	/* "inode/x-empty" (newer) or "application/x-empty" (older): no
	 * bytes at all is trivially plain text. */
	if (strcmp(got, "inode/x-empty") == 0 ||
	    strcmp(got, "application/x-empty") == 0)
		return "text/plain";
	if (str_iprefix(got, "inode/"))
		return "application/octet-stream";
	if (!filetype_valid(got))
		return str_iprefix(got, "text/") ? "text/plain"
		                                 : "application/octet-stream";
	return NULL;
}

int
filetype_detect(const char *path, char *type, size_t n)
{
	magic_t m = get_cookie();
	const char *got = m ? magic_file(m, path) : NULL;
	const char *fb = fallback_for(got);

	str_copy(type, n, fb ? fb : got);
	return fb ? -1 : 0;
}
