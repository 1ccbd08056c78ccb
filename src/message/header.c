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

bool
header_name_valid(const char *name, size_t len)
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

/* Room for one more field in the array. */
static void
grow(struct header_block *h)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 16;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
}

/* A new field at index `at` holding text[0..len) followed by CRLF; the
 * fields from `at` on move up by one. */
static void
insert_field(struct header_block *h, size_t at, const char *text, size_t len,
             size_t name_len)
{
	struct header_field *f;

	grow(h);
	memmove(&h->v[at + 1], &h->v[at], (h->n - at) * sizeof *h->v);
	h->n++;
	f = &h->v[at];
	f->raw_cap = len + 2;
	f->raw = xmalloc(f->raw_cap);
	memcpy(f->raw, text, len);
	memcpy(f->raw + len, "\r\n", 2);
	f->raw_len = len + 2;
	f->name_len = name_len;
	h->bytes += f->raw_len;
}

static void
append_field(struct header_block *h, const char *text, size_t len,
             size_t name_len)
{
	insert_field(h, h->n, text, len, name_len);
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
	/* Not a field, or a folded line with nothing to continue: this is
	 * already the body. */
	if (!header_line_belongs(h, line, text))
		return HEADER_END_BODY;
	if (is_wsp(line[0])) {
		if (text + 2 > HEADER_BLOCK_MAX - h->bytes)
			return too_big(err);
		append_continuation(h, line, text);
		return HEADER_MORE;
	}
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

void
header_copy(struct header_block *dst, const struct header_block *src)
{
	header_init(dst);
	dst->started = src->started;
	for (size_t i = 0; i < src->n; i++) {
		const struct header_field *f = &src->v[i];

		grow(dst);
		dst->v[dst->n] = *f;
		dst->v[dst->n].raw = xmalloc(f->raw_len);
		dst->v[dst->n].raw_cap = f->raw_len;
		memcpy(dst->v[dst->n].raw, f->raw, f->raw_len);
		dst->n++;
	}
	dst->bytes = src->bytes;
}

/* Remove the fields named `name` at index `from` and after, in one pass
 * (a block may hold very many fields of one name). */
static size_t
remove_named(struct header_block *h, const char *name, size_t from)
{
	size_t kept = from;
	size_t removed = 0;

	for (size_t i = from; i < h->n; i++) {
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

size_t
header_remove(struct header_block *h, const char *name)
{
	return remove_named(h, name, 0);
}

/* "Name: value" (or "Name:" for an empty value) as a new string in *text,
 * its length in *len, after the checks header_add promises. */
static int
make_field(const struct header_block *h, const char *name, const char *value,
           size_t room, char **text, size_t *len, struct error *err)
{
	size_t name_len = strlen(name);
	size_t value_len = strlen(value);

	*len = name_len + 1 + (value_len ? 1 + value_len : 0);
	if (!header_name_valid(name, name_len))
		return error_set(err, ERROR_DATA,
		                 "invalid header field name \"%.*s\"",
		                 HEADER_NAME_MAX, name);
	if (memchr(value, '\r', value_len) || memchr(value, '\n', value_len))
		return error_set(err, ERROR_DATA,
		                 "the value for the %s field contains a line "
		                 "break",
		                 name);
	if (*len + 2 > HEADER_BLOCK_MAX - h->bytes + room)
		return too_big(err);
	*text = xmalloc(*len);
	memcpy(*text, name, name_len);
	(*text)[name_len] = ':';
	if (value_len) {
		(*text)[name_len + 1] = ' ';
		memcpy(*text + name_len + 2, value, value_len);
	}
	return 0;
}

int
header_add(struct header_block *h, const char *name, const char *value,
           struct error *err)
{
	char *text;
	size_t len;

	if (make_field(h, name, value, 0, &text, &len, err) < 0)
		return -1;
	append_field(h, text, len, strlen(name));
	free(text);
	return 0;
}

size_t
header_size(const struct header_block *h)
{
	return h->bytes;
}

bool
header_line_belongs(const struct header_block *h, const char *line, size_t len)
{
	if (len == 0)
		return false;
	if (is_wsp(line[0]))
		return h->n > 0;
	return field_name_len(line, len) > 0;
}

int
header_replace(struct header_block *h, const char *name, const char *value,
               struct error *err)
{
	struct header_walk w;

	header_walk_init(&w);
	if (!header_walk_next(h, &w, name))
		return header_add(h, name, value, err);
	/* The new field takes the old one's place, so the order of the
	 * fields (and every other byte of the block) stays as it was. */
	if (header_walk_replace(h, &w, name, value, err) < 0)
		return -1;
	remove_named(h, name, w.next);
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

static int
no_fold_point(const struct header_field *f, struct error *err)
{
	return error_set(err, ERROR_DATA,
	                 "the %.*s header field has a line longer than %d "
	                 "characters with no white space to fold it at (RFC "
	                 "5322 2.1.1, 2.2.3); shorten it",
	                 (int)f->name_len, f->raw, HEADER_LINE_FOLD);
}

/* Fold the physical lines of the field the walk stands on to at most
 * HEADER_LINE_FOLD octets.  Each fold adds a CRLF: when they do not fit
 * under HEADER_BLOCK_MAX, the block is too large (a buf that overflows
 * empties itself, so nothing after that may be appended). */
static int
fold_field(struct header_block *h, struct header_walk *w, struct error *err)
{
	const struct header_field *f = &h->v[w->next - 1];
	struct buf out;
	const char *p = f->raw;
	const char *end = f->raw + f->raw_len;
	bool changed = false;
	int rc = 0;

	buf_init(&out, HEADER_BLOCK_MAX);
	while (rc == 0 && p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		size_t cut;

		while (rc == 0 && len > HEADER_LINE_FOLD) {
			cut = fold_point(p, len, HEADER_LINE_FOLD);
			if (cut == 0)
				rc = no_fold_point(f, err);
			else if (buf_append(&out, p, cut) < 0 ||
			         buf_append(&out, "\r\n", 2) < 0)
				rc = too_big(err);
			p += cut;
			len -= cut;
			changed = true;
		}
		if (rc == 0 && buf_append(&out, p, len) < 0)
			rc = too_big(err);
		p += len;
		/* the CRLF (or whatever ends the stored line) */
		while (rc == 0 && p < end && (*p == '\r' || *p == '\n'))
			if (buf_append_char(&out, *p++) < 0)
				rc = too_big(err);
	}
	if (rc == 0 && changed)
		rc = header_walk_set_raw(h, w, out.data, out.len, err);
	buf_clear(&out);
	return rc;
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
	return header_has_prefix(f, "X-");
}

/* An unstructured field with a word too long to fold: its text as RFC
 * 2047 encoded words, which encode_header_text folds and a reader joins
 * back into the same text (RFC 2047 6.2).  -1 (err untouched) when that
 * cannot be done: text that is not UTF-8, or no room. */
static int
encode_field(struct header_block *h, struct header_walk *w)
{
	const struct header_field *f = &h->v[w->next - 1];
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
	    buf_append(&out, "\r\n", 2) == 0)
		rc = header_walk_set_raw(h, w, out.data, out.len, &e);
	buf_clear(&v);
	buf_clear(&out);
	return rc;
}

int
header_fold_long(struct header_block *h, struct error *err)
{
	struct header_walk w;
	const struct header_field *f;

	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, NULL)) != NULL)
		if (fold_field(h, &w, err) < 0 &&
		    (!header_is_unstructured(f) || encode_field(h, &w) < 0 ||
		     fold_field(h, &w, err) < 0))
			return -1;
	return 0;
}

bool
header_has_8bit(const struct header_block *h)
{
	struct header_walk w;
	const struct header_field *f;

	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, NULL)) != NULL)
		if (str_has_8bit(f->raw, f->raw_len))
			return true;
	return false;
}

size_t
header_count(const struct header_block *h)
{
	return h->n;
}

const struct header_field *
header_first(const struct header_block *h, const char *name)
{
	struct header_walk w;

	header_walk_init(&w);
	return header_walk_next(h, &w, name);
}

int
header_render(const struct header_block *h, struct buf *out)
{
	struct header_walk w;
	const struct header_field *f;

	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, NULL)) != NULL)
		if (buf_append(out, f->raw, f->raw_len) < 0)
			return -1;
	return 0;
}

static int
malformed(struct error *err)
{
	return error_set(err, ERROR_SOFTWARE,
	                 "composed a malformed header field");
}

/* raw[0..len), whole fields, scanned into the new block *out (the
 * scanner is the one judge of what a field is): -1 with ERROR_SOFTWARE
 * unless it holds `one` field exactly, or (one false) at least one. */
static int
scan_fields(const char *raw, size_t len, bool one, struct header_block *out,
            struct error *err)
{
	const char *p = raw;
	const char *end = raw + len;
	int rc = 0;

	header_init(out);
	while (rc == 0 && p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t n = lf ? (size_t)(lf - p) + 1 : (size_t)(end - p);
		int r = header_push_line(out, p, n, err);

		if (r >= 0 && r != HEADER_MORE)
			rc = malformed(err);
		else if (r < 0)
			rc = -1;
		p += n;
	}
	if (rc == 0 && (out->n == 0 || (one && out->n != 1)))
		rc = malformed(err);
	if (rc < 0)
		header_clear(out);
	return rc;
}

int
header_push_fields(struct header_block *h, const char *raw, size_t len,
                   struct error *err)
{
	struct header_block add;

	if (scan_fields(raw, len, false, &add, err) < 0)
		return -1;
	if (add.bytes > HEADER_BLOCK_MAX - h->bytes) {
		header_clear(&add);
		return too_big(err);
	}
	for (size_t i = 0; i < add.n; i++) {
		grow(h);
		h->v[h->n++] = add.v[i];
	}
	h->bytes += add.bytes;
	free(add.v);
	return 0;
}

/* --- one field ------------------------------------------------------------ */

const char *
header_name(const struct header_field *f, size_t *len)
{
	*len = f->name_len;
	return f->raw;
}

bool
header_has_prefix(const struct header_field *f, const char *prefix)
{
	return f->name_len > strlen(prefix) && str_iprefix(f->raw, prefix);
}

const char *
header_raw(const struct header_field *f, size_t *len)
{
	*len = f->raw_len;
	return f->raw;
}

/* --- the walker ----------------------------------------------------------- */

void
header_walk_init(struct header_walk *w)
{
	w->next = 0;
	w->on = false;
}

const struct header_field *
header_walk_next(const struct header_block *h, struct header_walk *w,
                 const char *name)
{
	while (w->next < h->n) {
		const struct header_field *f = &h->v[w->next++];

		if (!name || header_is(f, name)) {
			w->on = true;
			return f;
		}
	}
	w->on = false;
	return NULL;
}

void
header_walk_remove(struct header_block *h, struct header_walk *w)
{
	size_t at;

	if (!w->on)
		return;
	at = --w->next;
	h->bytes -= h->v[at].raw_len;
	free(h->v[at].raw);
	memmove(&h->v[at], &h->v[at + 1], (h->n - at - 1) * sizeof *h->v);
	h->n--;
	w->on = false;
}

/* The field the walk stands on becomes f (whose bytes it takes). */
static void
take_place(struct header_block *h, struct header_walk *w,
           struct header_field *f)
{
	struct header_field *old = &h->v[w->next - 1];

	h->bytes = h->bytes - old->raw_len + f->raw_len;
	free(old->raw);
	*old = *f;
}

int
header_walk_replace(struct header_block *h, struct header_walk *w,
                    const char *name, const char *value, struct error *err)
{
	struct header_field f;
	char *text;
	size_t len;

	if (!w->on)
		return error_set(err, ERROR_SOFTWARE,
		                 "no header field to replace");
	if (make_field(h, name, value, h->v[w->next - 1].raw_len, &text, &len,
	               err) < 0)
		return -1;
	f.raw_len = f.raw_cap = len + 2;
	f.raw = xrealloc(text, f.raw_cap);
	memcpy(f.raw + len, "\r\n", 2);
	f.name_len = strlen(name);
	take_place(h, w, &f);
	return 0;
}

int
header_walk_set_raw(struct header_block *h, struct header_walk *w,
                    const char *raw, size_t len, struct error *err)
{
	struct header_block one;

	if (!w->on)
		return error_set(err, ERROR_SOFTWARE,
		                 "no header field to replace");
	if (scan_fields(raw, len, true, &one, err) < 0)
		return -1;
	if (one.bytes >
	    HEADER_BLOCK_MAX - h->bytes + h->v[w->next - 1].raw_len) {
		header_clear(&one);
		return too_big(err);
	}
	take_place(h, w, &one.v[0]);
	free(one.v);
	return 0;
}

int
header_walk_insert(struct header_block *h, struct header_walk *w,
                   const char *name, const char *value, struct error *err)
{
	size_t at = w->on ? w->next - 1 : w->next;
	char *text;
	size_t len;

	if (make_field(h, name, value, 0, &text, &len, err) < 0)
		return -1;
	insert_field(h, at, text, len, strlen(name));
	free(text);
	w->next++;
	return 0;
}
