/*
 * filetype.h - the MIME type of a file ("type/subtype"), from its content,
 * through libmagic.  This module is the only user of <magic.h>.
 *
 * libmagic itself (dynload.h) and its database are loaded on first use
 * only, so that a message that needs no type detection does not pay for
 * them at start-up; the database is released by filetype_cleanup, which
 * is also registered with atexit.
 *
 * Loading it costs about 8 MB of memory (libmagic walks most of its
 * database for data it cannot identify), so filetype_guess types a file
 * the way mail clients do, by its name checked against its content, and
 * asks libmagic only what neither can tell.
 */
#ifndef MAILPOST_FILETYPE_H
#define MAILPOST_FILETYPE_H

#include <stddef.h>

#include "error.h"

/* Longest type we keep: RFC 6838 4.2 caps type and subtype names at 127
 * characters each. */
#define FILETYPE_MAX 256

/* Write the MIME type of the open file fd (a regular file, read from its
 * start whatever its offset, which is left anywhere) into type (n bytes,
 * at least FILETYPE_MAX is enough), in this process.  A type libmagic
 * cannot give, or one that is not a valid "type/subtype" token pair,
 * becomes "text/plain" for text and "application/octet-stream" for
 * anything else (also when libmagic cannot read its database or the
 * file).  An empty file is "text/plain".  -1 with err (ERROR_UNAVAILABLE,
 * dynload.h's message) only when the libmagic library cannot be loaded;
 * type is then "application/octet-stream". */
int filetype_detect(int fd, char *type, size_t n, struct error *err);

/* What the caller knows of a file's content. */
enum filetype_content {
	FILETYPE_UNKNOWN, /* not known to be text */
	FILETYPE_TEXT,    /* checked by the caller: no NUL or other stray
	                   * control character, ASCII or valid UTF-8 */
};

/* The MIME type of the open regular file fd, whose name (for its
 * extension only) is `name`, into type (as filetype_detect); the file is
 * never opened again by name.  The first of these steps that gives a
 * type wins:
 *   1. --attach-type, when given: the caller's (mime.c), before this;
 *   2. the file's first bytes match a signature of filetype.c's table of
 *      common formats (PDF, PNG, JPEG, ZIP, gzip, MP4, ELF ...), whatever
 *      `content` says (an all-ASCII PDF is still a PDF) and whatever the
 *      name says (PNG bytes named x.pdf are image/png); the name only
 *      tells which kind of ZIP (.docx .odt .epub .jar ...) or OLE2 file
 *      (.doc .xls .msg ...) it is, and confirms the short signatures of
 *      an MP3 frame and an icon.  An OLE2 file whose name does not tell
 *      goes to libmagic (below);
 *   3. for FILETYPE_UNKNOWN, the type mime.types(5) gives the name's
 *      extension: /etc/mime.types (MAILPOST_TEST_MIME_TYPES in the test
 *      suite, never in a setgid run), then ~/.mime.types, which wins;
 *      read once, when first needed (mimetypes.h).  A text type there is
 *      not taken for content that is not text.  Without an extension
 *      the tables know: libmagic (filetype_detect) in a child process,
 *      so that neither the library nor its database is ever mapped here;
 *   4. for FILETYPE_TEXT, by extension from a small table of common text
 *      formats (.csv .html .ics .md ...), else "text/plain", never through
 *      libmagic; ".eml" is text/plain too (message/rfc822 would forbid
 *      the quoted-printable and base64 encodings we may choose).
 * 0 when type is set (by a table, libmagic or a fallback); -1 with err
 * as filetype_detect when libmagic was needed and cannot be loaded. */
int filetype_guess(int fd, const char *name, enum filetype_content content,
                   char *type, size_t n, struct error *err);

/* A file name extension for type (without the dot), from filetype.c's
 * tables ("txt" for text/plain, "bin" for application/octet-stream), or
 * NULL when the type has none there. */
const char *filetype_extension(const char *type);

/* Release the magic database (safe to call any number of times). */
void filetype_cleanup(void);

#endif
