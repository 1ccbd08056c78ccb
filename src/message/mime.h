/*
 * mime.h - composing a MIME message from arguments (mailx mode): headers,
 * a text body (from standard input, --body or --body-file), an optional
 * HTML alternative, and attachments, as one stream that is encoded while
 * it is sent and never held whole.
 *
 * mime_compose opens every input file once, before anything is sent
 * (missing or unreadable, a directory or a socket: ERROR_NOINPUT), and
 * never again by name: each pass reads the descriptor it holds.  It opens
 * without blocking, so a FIFO without a writer cannot hang it; a FIFO,
 * pipe (-a <(command)) or character device is copied to an unlinked
 * temporary file first (its size is needed), waiting at most
 * FIFO_WRITER_WAIT_MS for a FIFO's writer to appear (then ERROR_NOINPUT),
 * and such an attachment without a name is called "attachment.EXT" after
 * its type.  It chooses each part's type and encoding, and computes the
 * exact size of the result, so that SIZE= is exact.
 * mime_read then produces the message in canonical CRLF form; a file that
 * changed since mime_compose looked at it (size or modification time, or
 * fewer bytes than promised) makes mime_read fail with ERROR_IOERR, so the
 * terminator is never sent after a corrupt message.
 *
 * Encodings: 7bit when a text is ASCII with lines of at most 998
 * characters and LF or CRLF line ends; quoted-printable for text with
 * some 8-bit bytes or longer lines; base64 for binary data, for text that
 * is mostly 8-bit, and for any text with bare CRs (so attachments come back
 * byte for byte).  8bit is never used, so the result is the same whatever
 * the server offers -- except that with keep_headers an existing MIME
 * body is passed through byte for byte, 8-bit bytes included (see
 * mime_has_8bit).
 *
 * Types: an attachment given without one is typed by filetype_guess
 * (filetype.h): a file that is text throughout (no NUL or stray control
 * character, ASCII or valid UTF-8) by its extension, else text/plain; a
 * common binary format by its extension when its first bytes agree;
 * anything else through libmagic, whose database is released before
 * mime_compose returns.
 */
#ifndef MAILPOST_MIME_H
#define MAILPOST_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "header.h"
#include "source.h"

struct mime_attachment {
	const char *path;
	const char *type; /* "type/subtype" to use, or NULL: detected */
	const char *name; /* file name shown (its extension helps to type
	                   * the file), or NULL: basename of path, or for a
	                   * pipe "attachment.EXT" */
};

enum mime_priority {
	MIME_PRIORITY_NONE = 0,
	MIME_PRIORITY_HIGH,
	MIME_PRIORITY_NORMAL,
	MIME_PRIORITY_LOW,
};

struct mime_request {
	/* Header fields to write (NULL or 0 for none). Addresses are plain
	 * addr-specs; display names go in the *_name fields. */
	const char *from;        /* From: address */
	const char *from_name;   /* its display name (UTF-8), or NULL */
	const char *const *reply_to;       /* Reply-To: addresses */
	const char *const *reply_to_names; /* as to_names */
	size_t nreply_to;
	const char *subject;     /* UTF-8, or NULL */
	const char *const *to;   /* To: addresses */
	const char *const *to_names; /* their display names (UTF-8; "" for
	                              * none), or NULL for none at all */
	size_t nto;
	const char *to_group; /* the name of a group with no members, written
	                       * "name:;" after the To addresses (or alone:
	                       * undisclosed-recipients), or NULL */
	const char *const *cc;   /* Cc: addresses */
	const char *const *cc_names; /* as to_names */
	size_t ncc;
	const char *cc_group;        /* as to_group */
	const char *const *extra; /* "Name: value" fields from -H: each
	                           * replaces the field mailpost would write
	                           * of its name (with keep_headers, the
	                           * message's too); see mime_compose */
	size_t nextra;
	enum mime_priority priority; /* X-Priority and Importance */

	/* The text body: exactly one of these, or none (empty body). */
	struct source *body_source; /* standard input as body text (a source
				     * opened with source_options.body_only),
				     * or, when `keep_headers`, a complete
				     * message whose header block is kept and
				     * whose body becomes the first part (-t) */
	bool keep_headers;
	const char *body_text;      /* --body TEXT */
	const char *body_file;      /* --body-file FILE */

	const char *html_file; /* --html FILE: multipart/alternative
	                        * with the text first; when the text
	                        * body is empty (none given, or empty
	                        * input) the HTML is the body alone */
	const struct mime_attachment *attachments;
	size_t nattachments;
};

struct mime_message;

/* Check the inputs, decide the structure, measure the exact size.
 * Errors: ERROR_NOINPUT (a file missing or unreadable), ERROR_USAGE (CR,
 * LF or control characters in a subject, name, file name or extra header;
 * a malformed -H field; invalid UTF-8 in header text; a -H field naming a
 * recipient field (To, Cc, Bcc, Resent-*: the envelope would not match)
 * or a MIME structure field (Content-Type, Content-Transfer-Encoding,
 * MIME-Version); two -H fields of a name RFC 5322 3.6 allows once, or of
 * another field mailpost writes), ERROR_IOERR.  The -H checks come
 * before any file is opened. */
int mime_compose(struct mime_message **out, const struct mime_request *req,
		 struct error *err);
void mime_free(struct mime_message *m);

/* True when a -H field of req is named `name` (case-insensitive). */
bool mime_sets_field(const struct mime_request *req, const char *name);

/* The RFC 6710 priority (4, 0 or -4) that the X-Priority and Importance
 * fields written for p ask for. */
int mime_priority_value(enum mime_priority p);

/* True when the message holds 8-bit bytes, which happens only with
 * keep_headers when the message's own MIME body, passed through as it is,
 * has a byte >= 0x80 (the submit layer must then require 8BITMIME and
 * send BODY=8BITMIME).  Bytes in the kept header fields do not count.
 * Valid after a successful mime_compose. */
bool mime_has_8bit(const struct mime_message *m);

/* The header block of the result, for completion (Date, Message-ID, ...)
 * and for -t recipients; editable until the first mime_read. */
struct header_block *mime_headers(struct mime_message *m);

/* Exact bytes mime_read yields (call after the last header edit). */
uint64_t mime_size(const struct mime_message *m);

/* The next bytes of the message; 0 at the end; -1 with err filled
 * (ERROR_IOERR when a file changed or cannot be read). */
ssize_t mime_read(struct mime_message *m, char *buf, size_t n,
		  struct error *err);

/* Start again from the beginning (files are checked again). */
int mime_rewind(struct mime_message *m, struct error *err);

#endif
