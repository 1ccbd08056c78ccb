/*
 * mimetypes.h - media type names: whether a string is one (RFC 2045
 * tokens), and the system's table of them by file name extension, the
 * mime.types(5) format that Debian's media-types package installs as
 * /etc/mime.types and that mail clients (mutt, Python's mimetypes) also
 * read from ~/.mime.types.
 *
 * A line of the table is a type and the extensions it owns, separated by
 * blanks; a word that starts with '#' begins a comment:
 *
 *     image/png                png
 *     application/postscript   ps ai eps   # and more
 *
 * The files are outside input, read once and bounded (the ceilings are in
 * mimetypes.c): a line that is too long, or holds a control byte or an
 * 8-bit byte, is skipped whole; a type that is not a valid type/subtype
 * and an extension that is too long or is not a token (or has a dot:
 * only the last extension of a name is ever looked up) are skipped; past
 * the entry ceiling the rest is ignored.  Nothing here fails: what cannot
 * be read is simply not in the table.
 */
#ifndef MAILPOST_MIMETYPES_H
#define MAILPOST_MIMETYPES_H

#include <stddef.h>

/* True when type is a valid "type/subtype" (RFC 2045 5.1 tokens, each at
 * most 127 characters as RFC 6838 4.2 allows). */
int mimetypes_valid(const char *type);

struct mimetypes;

/* A new, empty table (mimetypes_free). */
struct mimetypes *mimetypes_new(void);

/* Add the lines of text (len bytes, not NUL-terminated, copied) to t.  A
 * later definition of an extension, in this text or a later one, wins
 * over an earlier one. */
void mimetypes_parse(struct mimetypes *t, const char *text, size_t len);

/* Add the lines of the file at path as mimetypes_parse does.  A file that
 * is missing, unreadable or not a regular file adds nothing; of a larger
 * file than the ceiling, the lines before it are read. */
void mimetypes_load(struct mimetypes *t, const char *path);

/* The type of extension ext (without the dot, any case), or NULL. */
const char *mimetypes_lookup(const struct mimetypes *t, const char *ext);

/* How many extensions t holds (for tests). */
size_t mimetypes_count(const struct mimetypes *t);

/* Free t; a no-op for NULL. */
void mimetypes_free(struct mimetypes *t);

#endif
