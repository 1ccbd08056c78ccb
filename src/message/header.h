/*
 * header.h - the header block of a message (RFC 5322 section 2.2): scanned
 * one line at a time, held in memory (it is the only part of a message that
 * is), then edited and written back out.
 *
 * Push lines in with header_push_line; it says when the block has ended.
 * Each field keeps its raw bytes (name, colon, value, folding, CRLF) so
 * that what is not edited is sent exactly as it came.
 *
 * This is the one module that reads or changes a field's bytes: the
 * others go through the walker (struct header_walk) and the accessors
 * below, never through the members of struct header_field or the array
 * of struct header_block, which are header.c's own.
 */
#ifndef MAILPOST_HEADER_H
#define MAILPOST_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Ceiling on the whole header block: generous (Postfix's default is
 * 100 KiB), but it bounds the only part of a message held in memory. */
#define HEADER_BLOCK_MAX (1024 * 1024)
/* RFC 5322 3.6.8: a field name is printable ASCII except ':' (we cap its
 * length at something sane). */
#define HEADER_NAME_MAX 128

/* True when name[0..len) may be a field name: 1 to HEADER_NAME_MAX
 * printable ASCII characters other than ':' (RFC 5322 3.6.8 ftext). */
bool header_name_valid(const char *name, size_t len);

struct header_field {
	char *raw;       /* "Name: value\r\n\tcont\r\n", owned */
	size_t raw_len;
	size_t name_len; /* raw[0..name_len) is the name */
	size_t raw_cap;  /* bytes allocated for raw (folded lines append) */
};

struct header_block {
	struct header_field *v;
	size_t n;
	size_t cap;
	size_t bytes; /* sum of raw_len, checked against HEADER_BLOCK_MAX */
	bool started; /* at least one line was pushed */
};

enum header_push_result {
	HEADER_MORE,       /* line taken; push the next one */
	HEADER_END_BLANK,  /* the empty line that ends the block was consumed */
	HEADER_END_BODY,   /* this line is not a header: the block has ended
			    * and this line is the first line of the body */
	HEADER_SKIPPED,    /* a leading mbox "From " line, dropped */
};

void header_init(struct header_block *h);
void header_clear(struct header_block *h);

/* Push one line including its CRLF (canonical input).  Returns a
 * header_push_result, or -1 with ERROR_DATA when the block passes
 * HEADER_BLOCK_MAX. */
int header_push_line(struct header_block *h, const char *line, size_t len,
		     struct error *err);

/* dst becomes a new block holding a copy of every field of src (to edit
 * one and keep the other). */
void header_copy(struct header_block *dst, const struct header_block *src);

/* True when field f is named `name` (case-insensitive). */
bool header_is(const struct header_field *f, const char *name);

/* Index of the first field named `name` at or after `from`, or -1. */
long header_find(const struct header_block *h, const char *name, size_t from);

/* The unfolded value of a field (folding CRLFs removed, leading and
 * trailing white space trimmed) appended to out.  Returns 0 or -1. */
int header_value(const struct header_field *f, struct buf *out);

/* Remove every field named `name`; returns how many were removed. */
size_t header_remove(struct header_block *h, const char *name);

/* Append a field "Name: value\r\n".  The value must not contain CR or LF
 * (checked: -1 with ERROR_DATA); long values are the caller's to fold. */
int header_add(struct header_block *h, const char *name, const char *value,
	       struct error *err);

/* Total bytes of all fields (the block without the empty line). */
size_t header_size(const struct header_block *h);

/* True when a line that starts with line[0..len) (all of it, or its head)
 * is header to header_push_line: a field ("Name:", RFC 5322 2.2), or a
 * folded line (2.2.3) when h has a field for it to continue.  The one
 * rule for what belongs to a header block, for the top header and a MIME
 * part's alike (header_push_line alone drops a leading mbox "From "
 * line, which only the top header may start with). */
bool header_line_belongs(const struct header_block *h, const char *line,
                         size_t len);

/* Set the field `name` to "Name: value": the first such field is replaced
 * where it stands, any others are removed; added at the end when there is
 * none.  Same checks and errors as header_add. */
int header_replace(struct header_block *h, const char *name, const char *value,
                   struct error *err);

/* RFC 5322 2.1.1: no line may pass 998 octets.  A field line longer than
 * that is folded (2.2.3: a CRLF inserted before white space, which
 * unfolding removes again, so the value is unchanged).  A line with no
 * white space to fold at is written as RFC 2047 encoded words when the
 * field is unstructured text (header_is_unstructured; a reader decodes
 * them to the same text, RFC 2047 6.2), else it is ERROR_DATA naming the
 * field: it cannot be sent as it is, and any other change would alter
 * the value. */
#define HEADER_LINE_FOLD 998
int header_fold_long(struct header_block *h, struct error *err);

/* Unstructured fields (RFC 5322 3.6.5; Content-Description, RFC 2045 8;
 * X- fields taken as such): their body is text for people, which RFC 2047
 * encoded words may carry without changing it. */
bool header_is_unstructured(const struct header_field *f);

/* True when a field holds a byte >= 0x80 (RFC 6532 UTF-8). */
bool header_has_8bit(const struct header_block *h);

/* Number of fields in the block. */
size_t header_count(const struct header_block *h);

/* The first field named `name` (case-insensitive), or NULL. */
const struct header_field *header_first(const struct header_block *h,
                                        const char *name);

/* Append every field's bytes, as they will be sent, to out (the empty
 * line that ends the block is the caller's).  Returns 0 or -1 when out
 * is full. */
int header_render(const struct header_block *h, struct buf *out);

/* Append whole fields given as their bytes ("Name: value" and any folded
 * lines, each ending in CRLF; one field or several), e.g. a field of
 * another block or fields composed and folded by the caller.  -1 with
 * ERROR_SOFTWARE when the bytes are not whole fields (nothing is added),
 * ERROR_DATA past HEADER_BLOCK_MAX. */
int header_push_fields(struct header_block *h, const char *raw, size_t len,
                       struct error *err);

/* --- one field ---------------------------------------------------------- */

/* The field's name as received (without white space before the colon),
 * its length in *len; not NUL-terminated. */
const char *header_name(const struct header_field *f, size_t *len);

/* True when the name starts with `prefix` (case-insensitive) and is
 * longer than it: "Resent-", "Content-", "X-". */
bool header_has_prefix(const struct header_field *f, const char *prefix);

/* The field's bytes as they will be sent (folding and CRLF included). */
const char *header_raw(const struct header_field *f, size_t *len);

/* --- the walker ------------------------------------------------------------
 * The one way through a block for the modules that read or edit it.  It
 * stands on one field at a time, in order; the field it stands on can be
 * replaced or removed, and a field inserted before it, without the walk
 * losing its place: after a removal the next step visits the field that
 * followed, and an inserted field is not visited.
 *
 *	struct header_walk w;
 *	const struct header_field *f;
 *
 *	header_walk_init(&w);
 *	while ((f = header_walk_next(h, &w, "Received")) != NULL)
 *		...header_value(f, &v)... header_walk_remove(h, &w)...
 *
 * Reading needs only a const block; editing takes the block the walk is
 * over.  One walk, one block; edits made other than through the walk
 * (header_add, header_remove...) end it: start a new one. */
struct header_walk {
	size_t next; /* index of the field the next step looks at */
	bool on;     /* standing on field next - 1 */
};

void header_walk_init(struct header_walk *w);

/* Step to the next field named `name` (case-insensitive), or to the next
 * field at all when name is NULL.  NULL at the end of the block. */
const struct header_field *header_walk_next(const struct header_block *h,
                                            struct header_walk *w,
                                            const char *name);

/* Remove the field the walk stands on.  It moves the fields after it, so
 * to remove every field of a name at once use header_remove. */
void header_walk_remove(struct header_block *h, struct header_walk *w);

/* Replace the field the walk stands on by "Name: value", where it stands
 * (the order of the block is kept).  Same checks and errors as
 * header_add. */
int header_walk_replace(struct header_block *h, struct header_walk *w,
                        const char *name, const char *value, struct error *err);

/* Replace the field the walk stands on by raw[0..len), exactly one
 * whole field as for header_push_fields (a rewritten or re-encoded value,
 * folded by the caller).  Same errors as header_push_fields. */
int header_walk_set_raw(struct header_block *h, struct header_walk *w,
                        const char *raw, size_t len, struct error *err);

/* Insert "Name: value" before the field the walk stands on (before the
 * field the next step visits when it stands on none: at the start of a
 * new walk, at the end of a finished one).  The walk stays where it
 * was.  Same checks and errors as header_add. */
int header_walk_insert(struct header_block *h, struct header_walk *w,
                       const char *name, const char *value, struct error *err);

#endif
