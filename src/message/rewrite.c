/*
 * rewrite.c - making the addresses in the header of mail from system
 * programs real ones: a local From becomes the configured address, bare
 * local names get their aliases and a domain (see rewrite.h).
 *
 * Each field concerned is unfolded and walked with address_walk_list,
 * which says where every mailbox, addr-spec, display name and comment
 * lies; the changes are recorded as edits to that text (replace these
 * bytes by those), so that everything not edited - display names,
 * comments, groups, routes - is kept as written.  A field with no edit
 * keeps its raw bytes; an edited one is written anew as "Name: value",
 * folded at commas before column 78 and never past 998 (RFC 5322 2.1.1).
 *
 * Decisions:
 *  - rewrite_from concerns From and Resent-From; qualify concerns From,
 *    To, Cc, Reply-To, Sender and their Resent- forms.  Where both apply
 *    to a mailbox, rewrite_from wins (its address is already real).
 *  - rewrite_from: "root" -> "from"; "root (Cron Daemon)" -> "Cron Daemon
 *    <from>" (the first comment of the mailbox becomes the display name,
 *    the other comments go); "Name <root@host>" -> "Name <from>".
 *  - qualify: a name whose aliases are several addresses becomes several
 *    mailboxes; the first keeps the display name and comments, the others
 *    follow it bare.  Sender and Resent-Sender hold one mailbox (RFC 5322
 *    3.6.2), so they keep only the first address.
 *  - qualify with a maildomain: in the originator fields (From, Sender,
 *    Reply-To and their Resent- forms) an address at a name of this
 *    machine ("root@myhost", "root@localhost") is taken for its local
 *    part and qualified like a bare name, as the envelope sender is
 *    (address_qualify_sender).  To and Cc keep such addresses: the
 *    envelope recipients do too.
 *
 * Copyright (C) 2026 the mailpost authors.  GPL-3.0-or-later.
 */
#include "config.h"

#include "rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "identity.h"
#include "util.h"

/* RFC 5322 2.1.1: lines SHOULD be at most 78 characters and MUST be at
 * most 998, without the CRLF. */
#define FOLD_SOFT 78
#define FOLD_HARD 998
/* Room for gethostname(); POSIX HOST_NAME_MAX is 255 on Linux. */
#define HOST_MAX 256

/* The fields each rewrite concerns (RFC 5322 3.6.2, 3.6.3, 3.6.6). */
static const char *const from_fields[] = {"From", "Resent-From", NULL};
static const char *const qualify_fields[] = {
    "From",        "To",        "Cc",        "Reply-To",        "Sender",
    "Resent-From", "Resent-To", "Resent-Cc", "Resent-Reply-To", "Resent-Sender",
    NULL};
static const char *const single_fields[] = {"Sender", "Resent-Sender", NULL};
/* The originator fields (RFC 5322 3.6.2) among qualify's. */
static const char *const sender_fields[] = {
    "From",          "Sender",          "Reply-To", "Resent-From",
    "Resent-Sender", "Resent-Reply-To", NULL};

static bool
field_in(const struct header_field *f, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (header_is(f, names[i]))
			return true;
	return false;
}

/* --- addresses ------------------------------------------------------- */

/* This machine's name: local_host, or gethostname() into buf ("" when
 * that fails). */
static const char *
host_name(const char *local_host, char *buf, size_t n)
{
	if (local_host)
		return local_host;
	if (gethostname(buf, n) < 0)
		buf[0] = '\0';
	buf[n - 1] = '\0';
	return buf;
}

bool
address_is_local(const char *addr, const char *local_host)
{
	const char *d;

	/* "" is the null sender, nobody's address. */
	if (!addr || !*addr)
		return false;
	d = address_domain(addr);
	return !d || identity_is_local_domain(d, local_host);
}

/* --- display names ---------------------------------------------------- */

/* RFC 5322 3.2.3 atext, with 8-bit bytes as RFC 6532 3.2 allows. */
static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80 ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
is_atom(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_atext((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* RFC 2047 2: "=?charset?encoding?text?=". */
static bool
is_encoded_word(const char *s, size_t n)
{
	return n >= 8 && s[0] == '=' && s[1] == '?' && s[n - 2] == '?' &&
	       s[n - 1] == '=' && is_atom(s, n);
}

static int
append_quoted(struct buf *out, const char *s, size_t n)
{
	int rc = buf_append_char(out, '"');

	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			rc = buf_append_char(out, '\\');
		if (rc == 0)
			rc = buf_append_char(out, s[i]);
	}
	if (rc == 0)
		rc = buf_append_char(out, '"');
	return rc;
}

/* The text of a comment "( ... )": quoted-pairs undone, white space runs
 * made one space, trimmed. */
static int
comment_text(const char *c, size_t n, struct buf *out)
{
	bool space = false;

	for (size_t i = 1; i + 1 < n; i++) {
		char ch = c[i];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			space = out->len > 0;
			continue;
		}
		if (ch == '\\' && i + 2 < n)
			ch = c[++i];
		if (space && buf_append_char(out, ' ') < 0)
			return -1;
		space = false;
		if (buf_append_char(out, ch) < 0)
			return -1;
	}
	return 0;
}

/* A display name (RFC 5322 3.2.5 phrase) made of the words in t: as it
 * is when every word is an atom; else one quoted-string, except that
 * encoded-words (RFC 2047 5(3): never inside a quoted-string) stay
 * atoms and only the other words are quoted. */
static int
append_phrase(struct buf *out, const char *t, size_t n)
{
	bool plain = true, encoded = false;
	size_t i = 0;

	while (i < n) {
		const char *sp = memchr(t + i, ' ', n - i);
		size_t w = sp ? (size_t)(sp - t) - i : n - i;

		plain = plain && is_atom(t + i, w);
		encoded = encoded || is_encoded_word(t + i, w);
		i += w + 1;
	}
	if (plain)
		return buf_append(out, t, n);
	if (!encoded)
		return append_quoted(out, t, n);
	for (i = 0; i < n;) {
		const char *sp = memchr(t + i, ' ', n - i);
		size_t w = sp ? (size_t)(sp - t) - i : n - i;
		int rc = i > 0 ? buf_append_char(out, ' ') : 0;

		if (rc == 0)
			rc = is_atom(t + i, w) ? buf_append(out, t + i, w)
			                       : append_quoted(out, t + i, w);
		if (rc < 0)
			return -1;
		i += w + 1;
	}
	return 0;
}

/* --- edits of one field ------------------------------------------------ */

struct edit {
	size_t start, end; /* bytes of the value replaced */
	char *text;        /* by this */
};

struct field_job {
	const struct header_rewrite *r;
	const char *value;
	bool from;    /* rewrite_from applies to this field */
	bool qualify; /* qualify applies */
	bool single;  /* one mailbox only */
	bool sender;  /* an originator field: From, Sender, Reply-To */
	const char *domain;
	struct edit *v;
	size_t n;
	size_t cap;
};

static void
add_edit(struct field_job *job, size_t start, size_t end, char *text)
{
	if (job->n == job->cap) {
		job->cap = job->cap ? 2 * job->cap : 8;
		job->v = xrealloc(job->v, job->cap * sizeof *job->v);
	}
	job->v[job->n].start = start;
	job->v[job->n].end = end;
	job->v[job->n].text = text;
	job->n++;
}

static void
clear_edits(struct field_job *job)
{
	for (size_t i = 0; i < job->n; i++)
		free(job->v[i].text);
	free(job->v);
	job->v = NULL;
	job->n = job->cap = 0;
}

static int
too_long(struct error *err)
{
	if (errno == ENOMEM)
		return error_set(err, ERROR_OSERR, "out of memory");
	return error_set(err, ERROR_DATA,
	                 "a rewritten header field is larger than %d bytes",
	                 HEADER_BLOCK_MAX);
}

/* "root (Cron Daemon)" -> "Cron Daemon <from>"; otherwise only the
 * addr-spec changes. */
static int
edit_from(struct field_job *job, const struct address_mailbox *mb,
          struct error *err)
{
	const char *from = job->r->from_address;
	struct buf name, out;

	if (mb->angle || mb->comment_end == mb->comment_start) {
		add_edit(job, mb->spec_start, mb->spec_end, xstrdup(from));
		return 0;
	}
	buf_init(&name, HEADER_BLOCK_MAX);
	buf_init(&out, HEADER_BLOCK_MAX);
	if (comment_text(job->value + mb->comment_start,
	                 mb->comment_end - mb->comment_start, &name) < 0)
		return too_long(err);
	if (name.len == 0) {
		buf_clear(&name);
		add_edit(job, mb->spec_start, mb->spec_end, xstrdup(from));
		return 0;
	}
	if (append_phrase(&out, name.data, name.len) < 0 ||
	    buf_printf(&out, " <%s>", from) < 0) {
		buf_clear(&name);
		return too_long(err);
	}
	buf_clear(&name);
	add_edit(job, mb->start, mb->end, out.data);
	return 0;
}

/* A bare name (the mailbox's, or the local part of a sender at this
 * machine): its aliases, each with the mail domain when it has none. */
static int
edit_qualify(struct field_job *job, const struct address_mailbox *mb,
             const char *name, struct error *err)
{
	struct strlist list;
	struct buf more;
	size_t n;

	strlist_init(&list);
	if (job->r->aliases) {
		if (aliases_expand(job->r->aliases, name, &list, err) < 0) {
			strlist_clear(&list);
			return -1;
		}
	}
	if (list.n == 0)
		strlist_add(&list, name);
	n = job->single ? 1 : list.n;
	add_edit(job, mb->spec_start, mb->spec_end,
	         address_qualify(list.v[0], job->domain));
	buf_init(&more, HEADER_BLOCK_MAX);
	for (size_t i = 1; i < n; i++) {
		char *q = address_qualify(list.v[i], job->domain);
		int rc = buf_printf(&more, ", %s", q);

		free(q);
		if (rc < 0) {
			strlist_clear(&list);
			return too_long(err);
		}
	}
	strlist_clear(&list);
	if (more.len > 0)
		add_edit(job, mb->end, mb->end, more.data);
	else
		buf_clear(&more);
	return 0;
}

static int
on_mailbox(void *ctx, const struct address_mailbox *mb, struct error *err)
{
	struct field_job *job = ctx;
	const char *d = address_domain(mb->addr);
	char *name;
	int rc;

	if (job->from && address_is_local(mb->addr, job->r->local_host))
		return edit_from(job, mb, err);
	if (!job->qualify || !*mb->addr)
		return 0;
	if (!d)
		return edit_qualify(job, mb, mb->addr, err);
	/* A sender at a name of this machine ("root@myhost", what GNU mail
	 * writes) is a local name too, once there is a mail domain to give
	 * it; recipients keep theirs, as their envelope addresses do. */
	if (!job->sender || !job->r->maildomain || !*job->r->maildomain ||
	    !identity_is_local_domain(d, job->r->local_host))
		return 0;
	name = xstrndup(mb->addr, (size_t)(d - 1 - mb->addr));
	rc = edit_qualify(job, mb, name, err);
	free(name);
	return rc;
}

/* The value with the edits made. */
static int
apply_edits(const struct field_job *job, size_t len, struct buf *out)
{
	size_t pos = 0;

	for (size_t i = 0; i < job->n; i++) {
		const struct edit *e = &job->v[i];

		if (buf_append(out, job->value + pos, e->start - pos) < 0 ||
		    buf_append_str(out, e->text) < 0)
			return -1;
		pos = e->end;
	}
	return buf_append(out, job->value + pos, len - pos);
}

/* --- folding ------------------------------------------------------------ */

/* The end of the item that starts at i: just after the next comma that
 * separates addresses (not one inside a quoted string, a comment, an
 * angle address or a domain literal), or len. */
static size_t
item_end(const char *v, size_t len, size_t i)
{
	int comment = 0;
	bool quoted = false, angle = false, literal = false;

	for (; i < len; i++) {
		char c = v[i];

		if ((quoted || comment) && c == '\\') {
			i++;
		} else if (quoted) {
			quoted = c != '"';
		} else if (comment) {
			comment += c == '(' ? 1 : c == ')' ? -1 : 0;
		} else if (c == '"') {
			quoted = true;
		} else if (c == '(') {
			comment = 1;
		} else if (literal || angle) {
			literal = literal && c != ']';
			angle = angle && c != '>';
		} else if (c == '[') {
			literal = true;
		} else if (c == '<') {
			angle = true;
		} else if (c == ',') {
			return i + 1;
		}
	}
	return len;
}

/* Append s[0..n) at column *col, folding at spaces when the line would
 * pass FOLD_HARD.  A word too long for any line is an error. */
static int
append_hard(struct buf *out, const char *s, size_t n, size_t *col)
{
	while (*col + n > FOLD_HARD) {
		size_t room = FOLD_HARD - *col;
		size_t k = room < n ? room : n - 1;

		while (k > 0 && s[k] != ' ')
			k--;
		if (k == 0) {
			errno = EMSGSIZE;
			return -2;
		}
		if (buf_append(out, s, k) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -1;
		s += k;
		n -= k;
		*col = 0;
	}
	*col += n;
	return buf_append(out, s, n);
}

/* "Name: value\r\n", folded (RFC 5322 2.2.3) after the commas between
 * addresses so that lines stay within FOLD_SOFT where they can. */
static int
fold_field(const char *name, size_t name_len, const char *v, size_t len,
           struct buf *out)
{
	size_t col = name_len + 2;
	size_t i = 0;
	int rc;

	if (buf_append(out, name, name_len) < 0 || buf_append(out, ": ", 2) < 0)
		return -1;
	while (i < len) {
		size_t j = item_end(v, len, i);

		if (i > 0) {
			bool fits = col + 1 + (j - i) <= FOLD_SOFT;

			rc = buf_append_str(out, fits ? " " : "\r\n ");
			if (rc < 0)
				return -1;
			col = fits ? col + 1 : 1;
		}
		rc = append_hard(out, v + i, j - i, &col);
		if (rc < 0)
			return rc;
		i = j;
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
	}
	return buf_append(out, "\r\n", 2);
}

/* --- one field ------------------------------------------------------------ */

static int
field_error(const struct header_field *f, struct error *err)
{
	size_t n;
	const char *name = header_name(f, &n);

	error_prefix(err, "in the %.*s field: ", (int)n, name);
	return -1;
}

/* Put the new raw bytes in place of the field the walk stands on. */
static int
replace_field(struct header_block *h, struct header_walk *w,
              const struct header_field *f, const struct buf *raw,
              struct error *err)
{
	size_t n;
	const char *name = header_name(f, &n);

	if (header_walk_set_raw(h, w, raw->data, raw->len, err) == 0)
		return 0;
	if (err->kind == ERROR_DATA)
		error_set(err, ERROR_DATA,
		          "the message header is larger than %d bytes "
		          "after rewriting the %.*s field",
		          HEADER_BLOCK_MAX, (int)n, name);
	return -1;
}

static int
rewrite_field(struct header_block *h, struct header_walk *w,
              const struct header_field *f, struct field_job *job,
              struct error *err)
{
	struct buf value, edited, raw;
	size_t name_len;
	const char *name = header_name(f, &name_len);
	int rc = -1;

	buf_init(&value, HEADER_BLOCK_MAX);
	buf_init(&edited, HEADER_BLOCK_MAX);
	buf_init(&raw, HEADER_BLOCK_MAX);
	if (header_value(f, &value) < 0) {
		too_long(err);
		goto out;
	}
	job->value = buf_str(&value);
	job->single = field_in(f, single_fields);
	if (address_walk_list(job->value, value.len, on_mailbox, job, err) <
	    0) {
		if (err->kind == ERROR_DATA)
			field_error(f, err);
		goto out;
	}
	if (job->n == 0) {
		rc = 0;
		goto out;
	}
	if (apply_edits(job, value.len, &edited) < 0) {
		too_long(err);
		goto out;
	}
	rc = fold_field(name, name_len, buf_str(&edited), edited.len, &raw);
	if (rc == -2) {
		error_set(err, ERROR_DATA,
		          "the rewritten %.*s field would have a line longer "
		          "than %d characters",
		          (int)name_len, name, FOLD_HARD);
		goto out;
	}
	if (rc < 0) {
		too_long(err);
		goto out;
	}
	rc = replace_field(h, w, f, &raw, err);
out:
	clear_edits(job);
	buf_clear(&value);
	buf_clear(&edited);
	buf_clear(&raw);
	return rc;
}

/* --- the whole header --------------------------------------------------- */

static int
check_settings(const struct header_rewrite *r, const char *domain,
               struct error *err)
{
	if (r->rewrite_from && r->from_address && *r->from_address &&
	    address_check(r->from_address, false, ERROR_CONFIG, err) < 0) {
		error_prefix(err, "cannot rewrite the From field: ");
		return -1;
	}
	if (r->qualify && *domain) {
		for (const char *p = domain; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f ||
			    strchr("<>@,;:\"()[]\\", *p))
				return error_set(
				    err, ERROR_CONFIG,
				    "invalid mail domain \"%.200s\"", domain);
	}
	return 0;
}

int
headers_rewrite(struct header_block *h, const struct header_rewrite *r,
                struct error *err)
{
	char hbuf[HOST_MAX];
	struct field_job job = {.r = r};
	struct header_walk w;
	const struct header_field *f;
	bool do_from = r->rewrite_from && r->from_address && *r->from_address;

	if (!do_from && !r->qualify)
		return 0;
	job.domain = r->maildomain && *r->maildomain
	                 ? r->maildomain
	                 : host_name(r->local_host, hbuf, sizeof hbuf);
	if (check_settings(r, job.domain, err) < 0)
		return -1;
	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, NULL)) != NULL) {
		job.from = do_from && field_in(f, from_fields);
		job.qualify = r->qualify && field_in(f, qualify_fields);
		job.sender = field_in(f, sender_fields);
		if (!job.from && !job.qualify)
			continue;
		if (rewrite_field(h, &w, f, &job, err) < 0)
			return -1;
	}
	return 0;
}
