/*
 * downgrade.c - UTF-8 header fields of a passed-through message, for a
 * server with or without SMTPUTF8 (see downgrade.h).
 *
 * The header block is read back from the message stream (it is small and
 * bounded), rewritten field by field, and put in front of the rest of the
 * stream, which is read through unchanged.
 */
#include "config.h"

#include "downgrade.h"

#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "encode.h"
#include "util.h"

/* Reading the header back from a stream goes this much at a time. */
#define READ_CHUNK 4096

static const char *const address_fields[] = {
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Resent-From",
    "Resent-Sender",
    "Resent-To",
    "Resent-Cc",
    "Resent-Bcc",
    "Mail-Followup-To",
    "Mail-Reply-To",
    "Disposition-Notification-To",
};

static bool
is_one_of(const struct header_field *f, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (header_is(f, names[i]))
			return true;
	return false;
}

static int
cannot(const struct header_field *f, const char *why, struct error *err)
{
	size_t name_len;
	const char *name = header_name(f, &name_len);

	return error_set(
	    err, ERROR_UNAVAILABLE,
	    "the %.*s field has non-ASCII characters (RFC 6532) %s, "
	    "and the server does not offer SMTPUTF8 (RFC 6531) to "
	    "carry them; send through a server that offers it",
	    (int)name_len, name, why);
}

/* --- address fields ------------------------------------------------------ */

/* The value being rebuilt: text up to `done` of the value is in out. */
struct rebuild {
	const char *value;
	size_t done;
	size_t col;
	struct buf *out;
	const struct header_field *f;
};

/* A display name as written (atoms, quoted strings) as plain text. */
static char *
unquote_name(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);
	size_t k = 0;
	bool quoted = false;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && p[i] == '\\' && i + 1 < n)
			i++;
		s[k++] = p[i];
	}
	s[k] = '\0';
	return s;
}

/* The phrase as RFC 2047 words (5.3): encode_mailbox writes them for a
 * display name; its placeholder address is cut off again. */
static int
encode_phrase(struct buf *out, const char *name, size_t col, struct error *err)
{
	struct buf tmp;
	size_t n;
	int rc;

	buf_init(&tmp, HEADER_BLOCK_MAX);
	rc = encode_mailbox(&tmp, name, "a", col, err);
	n = tmp.len;
	if (rc == 0 && n >= 4 && memcmp(tmp.data + n - 4, " <a>", 4) == 0) {
		n -= 4;
		while (n > 0 &&
		       (tmp.data[n - 1] == '\r' || tmp.data[n - 1] == '\n'))
			n--;
		rc = buf_append(out, tmp.data, n);
	} else if (rc == 0) {
		rc = -1;
	}
	buf_clear(&tmp);
	return rc;
}

static int
copy_to(struct rebuild *rb, size_t pos)
{
	int rc = buf_append(rb->out, rb->value + rb->done, pos - rb->done);

	rb->done = pos;
	return rc;
}

static int
one_mailbox(void *ctx, const struct address_mailbox *mb, struct error *err)
{
	struct rebuild *rb = ctx;
	const char *v = rb->value;
	char *name, *ascii;
	int rc;

	if (mb->name_end > mb->name_start &&
	    str_has_8bit(v + mb->name_start, mb->name_end - mb->name_start)) {
		if (copy_to(rb, mb->name_start) < 0)
			return -1;
		name = unquote_name(v + mb->name_start,
		                    mb->name_end - mb->name_start);
		rc =
		    encode_phrase(rb->out, name, rb->col + mb->name_start, err);
		free(name);
		if (rc < 0)
			return cannot(rb->f, "that are not UTF-8 text", err);
		rb->done = mb->name_end;
	}
	if (!str_has_8bit(v + mb->spec_start, mb->spec_end - mb->spec_start))
		return 0;
	if (address_needs_smtputf8(mb->addr))
		return cannot(rb->f, "in the local part of an address", err);
	if (address_to_ascii(mb->addr, &ascii, err) < 0)
		return cannot(rb->f, "in a domain that is not a valid IDN",
		              err);
	rc = copy_to(rb, mb->spec_start);
	if (rc == 0)
		rc = buf_append_str(rb->out, ascii);
	free(ascii);
	rb->done = mb->spec_end;
	return rc;
}

static int
address_value(const struct header_field *f, const char *v, size_t len,
              struct buf *out, struct error *err)
{
	size_t name_len;
	struct rebuild rb = {v, 0, 0, out, f};

	header_name(f, &name_len);
	rb.col = name_len + 2;

	if (address_walk_list(v, len, one_mailbox, &rb, err) < 0) {
		if (err->kind == ERROR_UNAVAILABLE)
			return -1;
		return cannot(f, "in an address list that cannot be parsed",
		              err);
	}
	if (copy_to(&rb, len) < 0)
		return error_set(err, ERROR_DATA, "the header is too large");
	/* What is left (a comment, a group name) has no ASCII form here. */
	if (str_has_8bit(out->data, out->len))
		return cannot(f, "in a comment or group name", err);
	return 0;
}

/* --- fields --------------------------------------------------------------- */

/* "Name: " + value in place of the field the walk stands on (folded
 * later, where a line would pass 998). */
static int
set_field(struct header_block *h, struct header_walk *w,
          const struct header_field *f, const struct buf *value,
          struct error *err)
{
	struct buf raw;
	size_t name_len;
	const char *name = header_name(f, &name_len);
	int rc;

	buf_init(&raw, HEADER_BLOCK_MAX);
	if (buf_append(&raw, name, name_len) < 0 ||
	    buf_append_str(&raw, ": ") < 0 ||
	    buf_append(&raw, value->data, value->len) < 0 ||
	    buf_append_str(&raw, "\r\n") < 0)
		rc = error_set(err, ERROR_DATA, "the header is too large");
	else
		rc = header_walk_set_raw(h, w, raw.data, raw.len, err);
	buf_clear(&raw);
	return rc;
}

/* The field the walk stands on, rewritten in ASCII when it is 8-bit. */
static int
downgrade_field(struct header_block *h, struct header_walk *w,
                const struct header_field *f, struct error *err)
{
	struct buf v, enc;
	size_t raw_len, name_len;
	const char *raw = header_raw(f, &raw_len);
	int rc;

	if (!str_has_8bit(raw, raw_len))
		return 0;
	header_name(f, &name_len);
	buf_init(&v, HEADER_BLOCK_MAX);
	buf_init(&enc, HEADER_BLOCK_MAX);
	rc = header_value(f, &v);
	if (rc < 0)
		rc = error_set(err, ERROR_DATA, "the header is too large");
	else if (header_is_unstructured(f))
		rc =
		    encode_header_text(&enc, buf_str(&v), name_len + 2, err) < 0
		        ? cannot(f, "that are not UTF-8 text", err)
		        : 0;
	else if (is_one_of(f, address_fields,
	                   sizeof address_fields / sizeof *address_fields))
		rc = address_value(f, buf_str(&v), v.len, &enc, err);
	else
		rc = cannot(f, "in a field that has no ASCII form", err);
	if (rc == 0)
		rc = set_field(h, w, f, &enc, err);
	buf_clear(&v);
	buf_clear(&enc);
	return rc;
}

int
downgrade_header(struct header_block *h, struct error *err)
{
	struct header_block out;
	struct header_walk w;
	const struct header_field *f;
	int rc = 0;

	/* Edited in a copy, so that h stays as it was on failure. */
	header_copy(&out, h);
	header_walk_init(&w);
	while (rc == 0 && (f = header_walk_next(&out, &w, NULL)) != NULL)
		rc = downgrade_field(&out, &w, f, err);
	/* Folded again only where a line would pass RFC 5322 2.1.1. */
	if (rc < 0 || header_fold_long(&out, err) < 0) {
		header_clear(&out);
		return -1;
	}
	header_clear(h);
	*h = out;
	return 0;
}

/* --- the stream ----------------------------------------------------------- */

struct downgrade {
	struct message_stream inner;
	struct buf head; /* the new header block (with its empty line) */
	uint64_t skip;   /* bytes of the old one in inner */
	uint64_t left;   /* of those, still to be read past */
	uint64_t pos;    /* position in the new message */
	bool has_8bit;   /* the new message has 8-bit bytes (in its body) */
};

/* Read m's header block into h; *len: its bytes in m, the empty line
 * included (*blank says whether there was one). */
static int
read_header(struct message_stream *m, struct header_block *h, uint64_t *len,
            bool *blank, struct error *err)
{
	struct buf line;
	char chunk[READ_CHUNK];
	int rc = 0, result = HEADER_MORE;

	*len = 0;
	*blank = false;
	buf_init(&line, HEADER_BLOCK_MAX);
	if (m->rewind(m->ctx, err) < 0)
		return -1;
	while (rc == 0 && result == HEADER_MORE) {
		ssize_t got = m->read(m->ctx, chunk, sizeof chunk, err);

		if (got <= 0) {
			rc = got < 0 ? -1 : 0;
			break;
		}
		for (ssize_t i = 0; i < got && result == HEADER_MORE; i++) {
			if (buf_append_char(&line, chunk[i]) < 0) {
				rc = error_set(err, ERROR_DATA,
				               "the message header is larger "
				               "than %d bytes",
				               HEADER_BLOCK_MAX);
				break;
			}
			if (chunk[i] != '\n')
				continue;
			result = header_push_line(h, line.data, line.len, err);
			if (result == HEADER_MORE || result == HEADER_END_BLANK)
				*len += line.len;
			buf_reset(&line);
		}
		if (result < 0)
			rc = -1;
	}
	*blank = result == HEADER_END_BLANK;
	buf_clear(&line);
	if (rc == 0)
		rc = m->rewind(m->ctx, err);
	return rc;
}

static ssize_t
downgrade_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct downgrade *d = ctx;
	char sink[READ_CHUNK];

	if (d->pos < d->head.len) {
		size_t k = (size_t)(d->head.len - d->pos);

		if (k > n)
			k = n;
		memcpy(buf, d->head.data + d->pos, k);
		d->pos += k;
		return (ssize_t)k;
	}
	while (d->left > 0) {
		ssize_t got = d->inner.read(
		    d->inner.ctx, sink,
		    d->left < sizeof sink ? (size_t)d->left : sizeof sink, err);

		if (got < 0)
			return -1;
		if (got == 0)
			return error_set(
			    err, ERROR_IOERR,
			    "the message is shorter than its header");
		d->left -= (uint64_t)got;
	}
	return d->inner.read(d->inner.ctx, buf, n, err);
}

static int
downgrade_rewind(void *ctx, struct error *err)
{
	struct downgrade *d = ctx;

	d->pos = 0;
	d->left = d->skip;
	return d->inner.rewind(d->inner.ctx, err);
}

/* Whether the body after the downgraded header has 8-bit bytes: when the
 * header was the only 8-bit part, the message is 7-bit now and goes to a
 * server without 8BITMIME too (RFC 6152 3). */
static int
body_has_8bit(struct downgrade *d, struct error *err)
{
	char chunk[READ_CHUNK];
	ssize_t got = 0;

	if (downgrade_rewind(d, err) < 0)
		return -1;
	d->pos = d->head.len;
	while (!d->has_8bit &&
	       (got = downgrade_read(d, chunk, sizeof chunk, err)) > 0)
		d->has_8bit = str_has_8bit(chunk, (size_t)got);
	if (!d->has_8bit && got < 0)
		return -1;
	return downgrade_rewind(d, err);
}

int
downgrade_prepare(struct downgrade **out, struct message_stream *m,
                  bool smtputf8, bool *need_smtputf8, struct error *err)
{
	struct header_block h;
	struct downgrade *d;
	uint64_t len;
	bool blank;
	int rc;

	*out = NULL;
	*need_smtputf8 = false;
	header_init(&h);
	rc = read_header(m, &h, &len, &blank, err);
	if (rc < 0 || !header_has_8bit(&h) || smtputf8) {
		/* RFC 6531 3.4: UTF-8 in the header goes as it is, with the
		 * SMTPUTF8 parameter, to a server that offers it. */
		*need_smtputf8 = rc == 0 && smtputf8 && header_has_8bit(&h);
		header_clear(&h);
		return rc;
	}
	if (downgrade_header(&h, err) < 0) {
		header_clear(&h);
		return -1;
	}
	d = xcalloc(1, sizeof *d);
	d->inner = *m;
	buf_init(&d->head, HEADER_BLOCK_MAX + 2);
	header_render(&h, &d->head);
	if (blank)
		buf_append(&d->head, "\r\n", 2);
	header_clear(&h);
	d->skip = d->left = len;
	if (m->has_8bit && body_has_8bit(d, err) < 0) {
		downgrade_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

struct message_stream
downgrade_stream(struct downgrade *d)
{
	return (struct message_stream){
	    .read = downgrade_read,
	    .rewind = downgrade_rewind,
	    .ctx = d,
	    .size = d->inner.size - d->skip + d->head.len,
	    .has_8bit = d->has_8bit,
	    .has_nul = d->inner.has_nul, /* the body goes unchanged */
	};
}

void
downgrade_free(struct downgrade *d)
{
	if (!d)
		return;
	buf_clear(&d->head);
	free(d);
}
