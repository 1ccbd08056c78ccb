/*
 * header.c - the header block of a message (RFC 5322 2.2, 3.6.8): scanning
 * pushed lines into fields, and editing them (see header.h).
 *
 * Each field is kept as its raw bytes so that an untouched field goes back
 * out exactly as it came in; only the name's extent is remembered.
 */
#include "config.h"

#include "header.h"

#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "util.h"

void
header_init(struct header_block *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
	h->bytes = 0;
	h->started = false;
}

void
header_clear(struct header_block *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].raw);
	free(h->v);
	header_init(h);
}

/* The line without its line end (canonical input ends in CRLF; a bare end
 * is tolerated so that a caller's last piece cannot confuse us). */
static size_t
content_len(const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	return len;
}

/* RFC 5322 3.6.8: ftext is printable US-ASCII except ':' (so no space). */
static bool
is_ftext(unsigned char ch)
{
	return ch >= 0x21 && ch <= 0x7e && ch != ':';
}

static bool
is_wsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Length of the field name when line starts with "name:", else 0.  The
 * obsolete syntax (RFC 5322 4.5.3, obs-optional) allows white space
 * between the name and the colon: "Subject : x" is a field named
 * "Subject", kept as received. */
static size_t
field_name_len(const char *line, size_t len)
{
	size_t i = 0;
	size_t colon;

	while (i < len && i <= HEADER_NAME_MAX &&
	       is_ftext((unsigned char)line[i]))
		i++;
	if (i == 0 || i > HEADER_NAME_MAX)
		return 0;
	colon = i;
	while (colon < len && is_wsp(line[colon]))
		colon++;
	if (colon == len || line[colon] != ':')
		return 0;
	return i;
}

static bool
valid_name(const char *name, size_t len)
{
	if (len == 0 || len > HEADER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_ftext((unsigned char)name[i]))
			return false;
	return true;
}

static int
too_big(struct error *err)
{
	return error_set(err, ERROR_DATA,
	                 "the message header is larger than %d bytes",
	                 HEADER_BLOCK_MAX);
}

/* A new field holding text[0..len) followed by CRLF. */
static void
append_field(struct header_block *h, const char *text, size_t len,
             size_t name_len)
{
	struct header_field *f;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	f = &h->v[h->n++];
	f->raw_cap = len + 2;
	f->raw = xmalloc(f->raw_cap);
	memcpy(f->raw, text, len);
	memcpy(f->raw + len, "\r\n", 2);
	f->raw_len = len + 2;
	f->name_len = name_len;
	h->bytes += f->raw_len;
}

/* A folded line (RFC 5322 2.2.3) joins the last field; its capacity
 * doubles so that a field folded many times costs linear time. */
static void
append_continuation(struct header_block *h, const char *text, size_t len)
{
	struct header_field *f = &h->v[h->n - 1];
	size_t need = f->raw_len + len + 2;

	if (need > f->raw_cap) {
		while (f->raw_cap < need)
			f->raw_cap *= 2;
		f->raw = xrealloc(f->raw, f->raw_cap);
	}
	memcpy(f->raw + f->raw_len, text, len);
	memcpy(f->raw + f->raw_len + len, "\r\n", 2);
	f->raw_len = need;
	h->bytes += len + 2;
}

int
header_push_line(struct header_block *h, const char *line, size_t len,
                 struct error *err)
{
	size_t text = content_len(line, len);
	bool first = !h->started;
	size_t name_len;

	h->started = true;
	if (text == 0)
		return HEADER_END_BLANK;
	name_len = field_name_len(line, text);
	/* An mbox separator some programs leave in front of the message
	 * ("From sender date"; "From : x" is an obsolete-syntax field). */
	if (first && name_len == 0 && text >= 5 &&
	    memcmp(line, "From ", 5) == 0)
		return HEADER_SKIPPED;
	if (is_wsp(line[0])) {
		/* Nothing to continue: this is already the body. */
		if (h->n == 0)
			return HEADER_END_BODY;
		if (text + 2 > HEADER_BLOCK_MAX - h->bytes)
			return too_big(err);
		append_continuation(h, line, text);
		return HEADER_MORE;
	}
	if (name_len == 0)
		return HEADER_END_BODY;
	if (text + 2 > HEADER_BLOCK_MAX - h->bytes)
		return too_big(err);
	append_field(h, line, text, name_len);
	return HEADER_MORE;
}

bool
header_is(const struct header_field *f, const char *name)
{
	size_t len = strlen(name);

	if (f->name_len != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char a = (unsigned char)f->raw[i];
		unsigned char b = (unsigned char)name[i];

		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

long
header_find(const struct header_block *h, const char *name, size_t from)
{
	for (size_t i = from; i < h->n; i++)
		if (header_is(&h->v[i], name))
			return (long)i;
	return -1;
}

static bool
is_space_or_eol(char ch)
{
	return is_wsp(ch) || ch == '\r' || ch == '\n';
}

/* The value starts after the colon, which follows the name at once or,
 * in the obsolete syntax (RFC 5322 4.5.3), after white space. */
static const char *
value_start(const struct header_field *f)
{
	const char *p = f->raw + f->name_len;
	const char *end = f->raw + f->raw_len;

	while (p < end && is_wsp(*p))
		p++;
	if (p < end && *p == ':')
		p++;
	return p;
}

int
header_value(const struct header_field *f, struct buf *out)
{
	const char *p = value_start(f);
	const char *end = f->raw + f->raw_len;

	while (p < end && is_space_or_eol(*p))
		p++;
	while (end > p && is_space_or_eol(end[-1]))
		end--;
	/* Unfolding (RFC 5322 2.2.3) removes the CRLF and keeps the white
	 * space after it. */
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		const char *stop = cr ? cr : end;

		if (buf_append(out, p, (size_t)(stop - p)) < 0)
			return -1;
		p = stop;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
	}
	return 0;
}

size_t
header_remove(struct header_block *h, const char *name)
{
	size_t kept = 0;
	size_t removed = 0;

	for (size_t i = 0; i < h->n; i++) {
		if (header_is(&h->v[i], name)) {
			h->bytes -= h->v[i].raw_len;
			free(h->v[i].raw);
			removed++;
			continue;
		}
		h->v[kept++] = h->v[i];
	}
	h->n = kept;
	return removed;
}

int
header_add(struct header_block *h, const char *name, const char *value,
           struct error *err)
{
	size_t name_len = strlen(name);
	size_t value_len = strlen(value);
	size_t len = name_len + 1 + (value_len ? 1 + value_len : 0);
	char *text;

	if (!valid_name(name, name_len))
		return error_set(err, ERROR_DATA,
		                 "invalid header field name \"%.*s\"",
		                 HEADER_NAME_MAX, name);
	if (memchr(value, '\r', value_len) || memchr(value, '\n', value_len))
		return error_set(err, ERROR_DATA,
		                 "the value for the %s field contains a line "
		                 "break",
		                 name);
	if (len + 2 > HEADER_BLOCK_MAX - h->bytes)
		return too_big(err);
	text = xmalloc(len);
	memcpy(text, name, name_len);
	text[name_len] = ':';
	if (value_len) {
		text[name_len + 1] = ' ';
		memcpy(text + name_len + 2, value, value_len);
	}
	append_field(h, text, len, name_len);
	free(text);
	return 0;
}

size_t
header_size(const struct header_block *h)
{
	return h->bytes;
}

bool
header_line_is_field(const char *line, size_t len)
{
	return field_name_len(line, len) > 0;
}

int
header_replace(struct header_block *h, const char *name, const char *value,
               struct error *err)
{
	long at = header_find(h, name, 0);
	struct header_field f;
	size_t kept;

	if (at < 0)
		return header_add(h, name, value, err);
	if (header_add(h, name, value, err) < 0)
		return -1;
	/* The new field takes the old one's place, so the order of the
	 * fields (and every other byte of the block) stays as it was. */
	f = h->v[--h->n];
	h->bytes -= h->v[at].raw_len;
	free(h->v[at].raw);
	h->v[at] = f;
	kept = (size_t)at + 1;
	for (size_t i = kept; i < h->n; i++) {
		if (header_is(&h->v[i], name)) {
			h->bytes -= h->v[i].raw_len;
			free(h->v[i].raw);
			continue;
		}
		h->v[kept++] = h->v[i];
	}
	h->n = kept;
	return 0;
}

/* Where to fold a physical line line[0..len) that is too long: the last
 * white space at or before `max` with something other than white space
 * before it on the line (RFC 5322 2.2.3: a line of white space only
 * must not be written), or 0 when there is none. */
static size_t
fold_point(const char *line, size_t len, size_t max)
{
	size_t first = 0;

	while (first < len && is_wsp(line[first]))
		first++;
	for (size_t i = max < len ? max : len; i > first; i--)
		if (is_wsp(line[i]) && !is_wsp(line[i - 1]))
			return i;
	return 0;
}

/* Fold one field's physical lines to at most HEADER_LINE_FOLD octets. */
static int
fold_field(struct header_block *h, struct header_field *f, struct error *err)
{
	struct buf out;
	const char *p = f->raw;
	const char *end = f->raw + f->raw_len;
	bool changed = false;

	buf_init(&out, HEADER_BLOCK_MAX);
	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		size_t cut;

		while (len > HEADER_LINE_FOLD) {
			cut = fold_point(p, len, HEADER_LINE_FOLD);
			if (cut == 0) {
				buf_clear(&out);
				return error_set(
				    err, ERROR_DATA,
				    "the %.*s header field has a line longer "
				    "than %d characters with no white space to "
				    "fold it at (RFC 5322 2.1.1, 2.2.3); "
				    "shorten it",
				    (int)f->name_len, f->raw, HEADER_LINE_FOLD);
			}
			buf_append(&out, p, cut);
			buf_append(&out, "\r\n", 2);
			p += cut;
			len -= cut;
			changed = true;
		}
		buf_append(&out, p, len);
		p += len;
		/* the CRLF (or whatever ends the stored line) */
		while (p < end && (*p == '\r' || *p == '\n'))
			buf_append_char(&out, *p++);
	}
	if (changed) {
		if (out.len - f->raw_len > HEADER_BLOCK_MAX - h->bytes) {
			buf_clear(&out);
			return too_big(err);
		}
		h->bytes = h->bytes - f->raw_len + out.len;
		free(f->raw);
		f->raw = xmalloc(out.len);
		memcpy(f->raw, out.data, out.len);
		f->raw_len = out.len;
		f->raw_cap = out.len;
	}
	buf_clear(&out);
	return 0;
}

static const char *const unstructured[] = {
    "Subject",      "Comments",     "Content-Description",
    "Organization", "Thread-Topic",
};

bool
header_is_unstructured(const struct header_field *f)
{
	for (size_t i = 0; i < sizeof unstructured / sizeof *unstructured; i++)
		if (header_is(f, unstructured[i]))
			return true;
	return f->name_len > 2 && str_iprefix(f->raw, "X-");
}

/* An unstructured field with a word too long to fold: its text as RFC
 * 2047 encoded words, which encode_header_text folds and a reader joins
 * back into the same text (RFC 2047 6.2).  -1 (err untouched) when that
 * cannot be done: text that is not UTF-8, or no room. */
static int
encode_field(struct header_block *h, struct header_field *f)
{
	struct buf v, out;
	struct error e;
	int rc = -1;

	buf_init(&v, HEADER_BLOCK_MAX);
	buf_init(&out, HEADER_BLOCK_MAX);
	error_clear(&e);
	if (header_value(f, &v) == 0 &&
	    buf_append(&out, f->raw, f->name_len) == 0 &&
	    buf_append(&out, ": ", 2) == 0 &&
	    encode_header_text(&out, buf_str(&v), f->name_len + 2, &e) == 0 &&
	    buf_append(&out, "\r\n", 2) == 0 &&
	    out.len <= f->raw_len + (HEADER_BLOCK_MAX - h->bytes)) {
		h->bytes = h->bytes - f->raw_len + out.len;
		free(f->raw);
		f->raw = xmalloc(out.len);
		memcpy(f->raw, out.data, out.len);
		f->raw_len = f->raw_cap = out.len;
		rc = 0;
	}
	buf_clear(&v);
	buf_clear(&out);
	return rc;
}

int
header_fold_long(struct header_block *h, struct error *err)
{
	for (size_t i = 0; i < h->n; i++)
		if (fold_field(h, &h->v[i], err) < 0 &&
		    (!header_is_unstructured(&h->v[i]) ||
		     encode_field(h, &h->v[i]) < 0 ||
		     fold_field(h, &h->v[i], err) < 0))
			return -1;
	return 0;
}

bool
header_has_8bit(const struct header_block *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (str_has_8bit(h->v[i].raw, h->v[i].raw_len))
			return true;
	return false;
}
