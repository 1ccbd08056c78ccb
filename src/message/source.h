/*
 * source.h - the message to send, read once from an input descriptor.
 *
 * sendmail mode: the input is a complete RFC 5322 message.  source_open
 * reads all of it before anything is sent, because what is decided before
 * the first command depends on the whole message (SIZE=, BODY=8BITMIME,
 * lines to re-encode, -t recipients) and because a read error must
 * never leave a half message on a server.  The input is normalised to
 * canonical CRLF form as it is read (crlf.h); the header block is kept in
 * memory (header.h, with a ceiling), the body is spooled to an unlinked
 * temporary file, so memory does not grow with the message; a body that
 * the input ends within one 64 KiB block stays in memory instead, and
 * needs no spool file (nor a usable tmpdir).
 *
 * After source_open the caller may edit the headers (source_headers;
 * headeredit.h makes mailpost's edits), then reads the message back as one
 * canonical byte stream with source_read: header fields, the empty line, the
 * body.
 *
 * A large message may stream instead (source_options.stream_after): then
 * source_open returns once the header block and the first stream_after
 * bytes of body are in hand, and source_read reads the rest of the input
 * as it goes, spooling each block before returning any of it, so that
 * the message can go to a server while it is still being read and yet
 * be whole in the spool after any failure (source_finish reads the rest).
 * What is known of such a source before its end is what was read: its
 * header (complete), and measurements of the bytes so far.
 */
#ifndef MAILPOST_SOURCE_H
#define MAILPOST_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crlf.h"
#include "error.h"
#include "header.h"
#include "util.h"

struct source;

struct source_options {
	bool dot_ends_input; /* sendmail without -i: a lone "." ends input */
	const char *tmpdir;  /* for the spool file; NULL: $TMPDIR, else /tmp */
	bool body_only;      /* the input is body text, not a message: no
				* header block is looked for (mailx mode) */
	uint64_t stream_after; /* 0: read all of the input; else stop once
	                        * the header block and this many body bytes
	                        * are read (SOURCE_STREAM_AFTER) */
};

/* The body a streaming source reads before source_open returns: a message
 * smaller than this is read whole, and what is found in this much (8-bit
 * bytes, NUL, long lines) decides whether streaming is worth trying. */
#define SOURCE_STREAM_AFTER (1024 * 1024)

/* Read all of fd (or its start, see stream_after).  Errors: ERROR_IOERR
 * (read error, spool file cannot be written: disk full), ERROR_DATA
 * (header block over HEADER_BLOCK_MAX). */
int source_open(struct source **out, int fd, const struct source_options *o,
		struct error *err);
void source_free(struct source *s);

/* True when the input has been read to its end. */
bool source_complete(const struct source *s);

/* Read the rest of the input into the spool (nothing when complete).  A
 * read error is remembered: this and every later source_finish or
 * source_read fails the same way (ERROR_IOERR), and the message must not
 * be taken for whole. */
int source_finish(struct source *s, struct error *err);

/* The most source_size can be once the input is read: exact when the
 * source is complete, an upper bound for a regular file still being
 * read; false when nothing bounds it (a pipe). */
bool source_size_bound(const struct source *s, uint64_t *bound);

/* True (once) when a read of the streaming source stopped because the
 * rest holds what source_make_sendable must change, or a NUL byte, which
 * the BODY it began with cannot carry (ERROR_DATA from source_read):
 * what was sent of it must be sent again, whole. */
bool source_was_cut(struct source *s);

/* The header block, editable until the first source_read. */
struct header_block *source_headers(struct source *s);

/* Measurements over the whole input as read (headers and body). */
const struct crlf_norm *source_stats(const struct source *s);

/* Make the message sendable as it is, after the header edits (on a
 * streaming source: nothing until it is complete, and then once; a
 * streaming source is only to be given out as it is read when nothing
 * needs to change, see source_read): ERROR_DATA for a NUL byte in the
 * header (no SMTP extension carries one there); a NUL in the body stays
 * (source_has_nul: only BODY=BINARYMIME can carry it, which the server
 * decides).  Lines longer than
 * CRLF_LINE_MAX (RFC 5322 2.1.1) are never a reason to refuse: a long
 * header line is folded at white space (header_fold_long; ERROR_DATA
 * naming the field when it has none), a body with long lines is
 * re-encoded so that it decodes to the same bytes (reencode.h) into a
 * second spool file.  A message without long lines is not touched: it
 * goes out byte for byte as read.  ERROR_IOERR when the spool cannot be
 * written. */
int source_make_sendable(struct source *s, struct error *err);

/* True when the message as sent (headers or body) has a byte >= 0x80. */
bool source_has_8bit(const struct source *s);

/* True when the body as sent has a NUL byte (stream.h's has_nul); a
 * streaming source says so of what it has read. */
bool source_has_nul(const struct source *s);

/* -t: add the recipients named in the header to out (To, Cc, Bcc; or
 * Resent-To, Resent-Cc, Resent-Bcc when any Resent- field is present, as
 * sendmail does).  ERROR_DATA when a field cannot be parsed. */
int source_recipients(const struct source *s, struct strlist *out,
		      struct error *err);

/* --read-envelope-from: the first address of the first From field, as a
 * new string in *out.  ERROR_DATA when there is no From field or no address
 * in it. */
int source_sender(const struct source *s, char **out, struct error *err);

/* Exact number of bytes source_read yields from the start (after edits). */
uint64_t source_size(const struct source *s);

/* The message in canonical form: header fields, CRLF, body.  Returns the
 * number of bytes placed in buf (at most n), 0 at the end, -1 on a read
 * error (ERROR_IOERR).  A streaming source reads on from its input
 * (source_finish's errors), and refuses (ERROR_DATA, source_was_cut) to
 * go on when the body turns out to hold a NUL byte or the input a line
 * longer than CRLF_LINE_MAX. */
ssize_t source_read(struct source *s, char *buf, size_t n, struct error *err);

/* The body alone (everything after the header block), canonical CRLF:
 * its exact size, and a reader that starts at its beginning after
 * source_rewind_body.  For composing a MIME part from it. */
uint64_t source_body_size(const struct source *s);
int source_rewind_body(struct source *s, struct error *err);
ssize_t source_read_body(struct source *s, char *buf, size_t n,
			 struct error *err);

/* Start reading again from the beginning (for a second attempt). */
int source_rewind(struct source *s, struct error *err);

#endif
