/*
 * filetype.h - the MIME type of a file ("type/subtype"), from its content,
 * through libmagic.  This module is the only user of <magic.h>.
 *
 * The magic database is loaded on first use only, so that a message that
 * needs no type detection does not pay for it at start-up; it is released
 * by filetype_cleanup, which is also registered with atexit.
 */
#ifndef MAILPOST_FILETYPE_H
#define MAILPOST_FILETYPE_H

#include <stddef.h>

/* Longest type we keep: RFC 6838 4.2 caps type and subtype names at 127
 * characters each. */
#define FILETYPE_MAX 256

/* Write the MIME type of the file at path into type (n bytes, at least
 * FILETYPE_MAX is enough).  Never fails: a type libmagic cannot give, or
 * one that is not a valid "type/subtype" token pair, becomes "text/plain"
 * for text and "application/octet-stream" for anything else (also when
 * libmagic itself fails).  An empty file is "text/plain".  Returns 0 when
 * libmagic answered, -1 when a fallback was used. */
int filetype_detect(const char *path, char *type, size_t n);

/* True when type is a valid "type/subtype" (RFC 2045 5.1 tokens). */
int filetype_valid(const char *type);

/* Release the magic database (safe to call any number of times). */
void filetype_cleanup(void);

#endif
