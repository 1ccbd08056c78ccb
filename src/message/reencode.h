/*
 * reencode.h - making the body of a passed-through message sendable when
 * it has lines longer than RFC 5322 2.1.1 allows (998 octets), without
 * changing what it decodes to.  Such mail is common (a cron job printing
 * one long JSON or log line) and must not be refused.
 *
 * The body is walked as MIME (RFC 2045, RFC 2046): multiparts by their
 * boundaries, message/rfc822 parts as nested messages, down to the leaf
 * parts.  A leaf with a long line is changed so that it decodes to the
 * same bytes:
 *  - declared 7bit, 8bit, binary or not at all: its body becomes
 *    quoted-printable (RFC 2045 6.7), its Content-Transfer-Encoding field
 *    is set accordingly; a message (the top one or one nested in a
 *    message/rfc822 part) without MIME fields also gets MIME-Version and
 *    a text/plain Content-Type whose charset says what the bytes are
 *    (us-ascii, utf-8, else unknown-8bit);
 *  - declared quoted-printable or base64 (malformed, but seen): the long
 *    lines get soft line breaks ("=" CRLF), base64 ones plain line breaks,
 *    which decoders ignore (RFC 2045 6.7 rule 5, 6.8);
 *  - any other encoding: ERROR_DATA naming it (nothing lossless exists).
 * Preambles and epilogues, which MIME readers ignore (RFC 2046 5.1.1), get
 * their long lines cut; long lines of a part's header are folded (header.h);
 * a delimiter line padded past 998 octets loses its padding (ERROR_DATA
 * when text follows the padding: readers would disagree on the line).
 * Leaves without a long line and all other bytes go through unchanged.
 *
 * Two passes over the same input: the scan finds which leaves need what
 * (a leaf's header must be written before its body, and its body decides);
 * the rewrite writes the result to a sink.  Memory is bounded: the header
 * of one part, a line's first 1000 bytes, a list of the changed leaves.
 * The input is canonical (CRLF line ends, see crlf.h), pushed in pieces of
 * any size: every split gives the same result.
 */
#ifndef MAILPOST_REENCODE_H
#define MAILPOST_REENCODE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "header.h"

/* RFC 2046 5.1.1: multiparts nest; we follow this deep (deeper ones are
 * opaque, and refused only when they hold a long line). */
#define REENCODE_DEPTH_MAX 32
/* RFC 2046 5.1.1: a boundary has at most 70 characters; be lenient. */
#define REENCODE_BOUNDARY_MAX 200
/* Leaves with long lines that one message may have. */
#define REENCODE_LEAVES_MAX 100000

struct reencode_sink {
	int (*write)(void *ctx, const char *p, size_t n, struct error *err);
	void *ctx;
};

struct reencoder;

/* A scan of the body of the message whose header block is `top` (only
 * read here; not kept). */
struct reencoder *reencode_new(const struct header_block *top);
void reencode_free(struct reencoder *r);

/* Push body bytes (canonical).  -1 with ERROR_DATA when the body cannot
 * be made sendable (see above), or the sink's error. */
int reencode_push(struct reencoder *r, const char *p, size_t n,
                  struct error *err);

/* End of the body.  eol_added: the last CRLF was not in the input (crlf.h
 * added it); a quoted-printable leaf then ends with a soft line break, so
 * that it decodes to the input exactly.  Same errors as reencode_push. */
int reencode_finish(struct reencoder *r, bool eol_added, struct error *err);

/* After the scan: whether the rewrite changes anything at all. */
bool reencode_needed(const struct reencoder *r);

/* Start the rewrite: push the same body again; the result goes to sink. */
void reencode_rewrite(struct reencoder *r, const struct reencode_sink *sink);

/* After the scan: edit the top header block as the rewrite requires
 * (Content-Transfer-Encoding, and MIME-Version and Content-Type when the
 * message had none).  Errors as header_add. */
int reencode_edit_top(const struct reencoder *r, struct header_block *top,
                      struct error *err);

#endif
