/*
 * aliases.c - local names mapped to addresses, from a file in /etc/aliases
 * syntax (see aliases.h).
 *
 * The file, as sendmail reads it:
 *  - "name: target, target, ..."; the name is what comes before the first
 *    ':' (white space trimmed), looked up without regard to case;
 *  - a line that starts with a space or a tab continues the entry above
 *    it; a line starting with '#' is a comment, and an empty line or a
 *    comment ends an entry (so a continuation line after one is an error,
 *    as in sendmail);
 *  - targets are split at commas outside double quotes, so "\"a, b\"@x"
 *    stays one target; "<addr>" is taken as addr.
 *
 * Decisions beyond the syntax:
 *  - A name given twice: the later entry wins (sendmail warns and keeps
 *    the first; we cannot warn from here, and "the last line wins" is what
 *    someone appending to the file expects).
 *  - A name among its own targets ("root: root, admin@x") is kept as the
 *    local name and not expanded again: the usual way of saying "deliver
 *    here and also there", not a loop.  Any longer cycle is an error.
 *  - `default` is used for a recipient given that has no entry (msmtp);
 *    a name reached through an entry (`default`'s own included) that has
 *    no entry of its own stays a local name, as in /etc/aliases: in
 *    "www-data: root, bob" bob is bob, not the catch-all, and a `default`
 *    that names a local user cannot loop.
 *  - "|command", "/file" and ":include:" (quoted or not) parse, so that a
 *    system file with them loads, but expanding a name that reaches one is
 *    ERROR_CONFIG: only a local delivery agent could honour them.
 *
 * Copyright (C) 2026 the mailpost authors.  GPL-3.0-or-later.
 */
#include "config.h"

#include "aliases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"

/* Name lookups allowed in one aliases_expand: a wide tree of shared
 * sub-lists could otherwise take exponential time within the depth
 * limit. */
#define ALIASES_LOOKUPS_MAX 100000
/* How much of a name or target an error message shows. */
#define SHOW_MAX 200

struct alias_target {
	char *text;
	bool special; /* "|cmd", "/file", ":include:": refused when used */
};

struct alias_entry {
	char *name; /* lower case */
	struct alias_target *v;
	size_t n;
	size_t line;  /* where the entry starts */
	size_t order; /* position in the file, for "the later one wins" */
};

struct aliases {
	char *name; /* the file, for messages */
	struct alias_entry *v;
	size_t n;
	size_t cap;
	const struct alias_entry *dflt; /* the `default` entry, or NULL */
};

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static char *
lower_dup(const char *s, size_t n)
{
	char *p = xstrndup(s, n);

	for (size_t i = 0; i < n; i++)
		p[i] = lower(p[i]);
	return p;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
entry_free(struct alias_entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	free(e->name);
}

void
aliases_free(struct aliases *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		entry_free(&a->v[i]);
	free(a->v);
	free(a->name);
	free(a);
}

/* --- parsing ------------------------------------------------------------ */

/* An entry being read: its value joined over continuation lines, with
 * the line each piece came from so that errors can point at it. */
struct pending {
	bool open;
	size_t line;
	char *name;
	struct buf value;
	size_t *starts; /* offset in value where line lines[i] begins */
	size_t *lines;
	size_t nlines;
	size_t cap;
};

/* Returns 0, or -1 when the value passes its ceiling. */
static int
pending_add(struct pending *pe, const char *text, size_t len, size_t line)
{
	if (pe->nlines == pe->cap) {
		pe->cap = pe->cap ? 2 * pe->cap : 8;
		pe->starts = xrealloc(pe->starts, pe->cap * sizeof *pe->starts);
		pe->lines = xrealloc(pe->lines, pe->cap * sizeof *pe->lines);
	}
	pe->starts[pe->nlines] = pe->value.len;
	pe->lines[pe->nlines] = line;
	pe->nlines++;
	/* One space per line joins them: what a continuation line's own
	 * leading white space already means. */
	if (buf_append(&pe->value, text, len) < 0 ||
	    buf_append_char(&pe->value, ' ') < 0)
		return -1;
	return 0;
}

static void
pending_reset(struct pending *pe)
{
	free(pe->name);
	pe->name = NULL;
	buf_reset(&pe->value);
	pe->nlines = 0;
	pe->open = false;
}

static size_t
line_at(const struct pending *pe, size_t off)
{
	size_t line = pe->line;

	for (size_t i = 0; i < pe->nlines && pe->starts[i] <= off; i++)
		line = pe->lines[i];
	return line;
}

struct parse_ctx {
	struct aliases *a;
	const char *file;
	struct error *err;
};

/* ERROR_CONFIG "FILE:LINE: why". */
static int syntax(struct parse_ctx *pc, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
syntax(struct parse_ctx *pc, size_t line, const char *fmt, ...)
{
	char why[ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return error_set(pc->err, ERROR_CONFIG, "%s:%zu: %s", pc->file, line,
	                 why);
}

/* A name or target shown in a message: at most SHOW_MAX bytes. */
static int
show(size_t n)
{
	return (int)(n < SHOW_MAX ? n : SHOW_MAX);
}

/* Control bytes other than tab. */
static bool
has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return true;
	}
	return false;
}

/* "|cmd", "/file", ":include:..." */
static bool
is_special(const char *t, size_t n)
{
	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		t++;
		n -= 2;
	}
	return (n > 0 && (t[0] == '|' || t[0] == '/')) ||
	       (n >= 9 && strncasecmp(t, ":include:", 9) == 0);
}

static int
add_target(struct parse_ctx *pc, struct alias_entry *e, const char *t, size_t n,
           size_t line)
{
	bool special = is_special(t, n);
	char *text;
	struct error tmp;

	if (!special && n >= 2 && t[0] == '<' && t[n - 1] == '>') {
		t++;
		n -= 2;
	}
	text = xstrndup(t, n);
	if (!special && address_check(text, false, ERROR_CONFIG, &tmp) < 0) {
		free(text);
		return error_set(pc->err, ERROR_CONFIG, "%s:%zu: %s", pc->file,
		                 line, tmp.msg);
	}
	if (special && has_ctl(text, n)) {
		free(text);
		return syntax(pc, line,
		              "a target contains a control character");
	}
	e->v = xrealloc(e->v, (e->n + 1) * sizeof *e->v);
	e->v[e->n].text = text;
	e->v[e->n].special = special;
	e->n++;
	return 0;
}

/* Split the joined value at commas outside quotes into e. */
static int
split_targets(struct parse_ctx *pc, const struct pending *pe,
              struct alias_entry *e)
{
	const char *v = buf_str(&pe->value);
	size_t len = pe->value.len;
	size_t i = 0;

	while (i <= len) {
		size_t start = i, end;
		bool quoted = false;

		while (i < len && (quoted || v[i] != ',')) {
			if (quoted && v[i] == '\\' && i + 1 < len)
				i++;
			else if (v[i] == '"')
				quoted = !quoted;
			i++;
		}
		if (quoted)
			return syntax(pc, line_at(pe, start),
			              "the alias \"%.*s\" has an unterminated "
			              "quoted string",
			              show(strlen(e->name)), e->name);
		end = i;
		while (start < end && is_blank(v[start]))
			start++;
		while (end > start && is_blank(v[end - 1]))
			end--;
		/* "a, , b" and a trailing comma: nothing to add. */
		if (end > start && add_target(pc, e, v + start, end - start,
		                              line_at(pe, start)) < 0)
			return -1;
		i++;
	}
	if (e->n == 0)
		return syntax(pc, pe->line, "the alias \"%.*s\" has no value",
		              show(strlen(e->name)), e->name);
	return 0;
}

/* The pending entry is complete: turn it into an alias_entry. */
static int
close_entry(struct parse_ctx *pc, struct pending *pe)
{
	struct aliases *a = pc->a;
	struct alias_entry e = {.name = pe->name, .line = pe->line};
	int rc;

	if (!pe->open)
		return 0;
	pe->name = NULL;
	rc = split_targets(pc, pe, &e);
	pending_reset(pe);
	if (rc < 0) {
		entry_free(&e);
		return -1;
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 32;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	e.order = a->n;
	a->v[a->n++] = e;
	return 0;
}

/* "name: value" on the first line of an entry. */
static int
open_entry(struct parse_ctx *pc, struct pending *pe, const char *s, size_t n,
           size_t line)
{
	const char *colon = memchr(s, ':', n);
	size_t name_len;

	if (!colon)
		return syntax(pc, line,
		              "':' is missing after the alias name "
		              "\"%.*s\"",
		              show(n), s);
	name_len = (size_t)(colon - s);
	while (name_len > 0 && is_blank(s[name_len - 1]))
		name_len--;
	if (name_len == 0)
		return syntax(pc, line, "an alias name is missing before ':'");
	for (size_t i = 0; i < name_len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f)
			return syntax(pc, line,
			              "the alias name \"%.*s\" contains white "
			              "space or a control character",
			              show(name_len), s);
		if (c == '@')
			return syntax(pc, line,
			              "the alias name \"%.*s\" has a domain; "
			              "only local names can be aliases",
			              show(name_len), s);
	}
	pe->open = true;
	pe->line = line;
	pe->name = lower_dup(s, name_len);
	colon++;
	if (pending_add(pe, colon, n - (size_t)(colon - s), line) < 0)
		return syntax(pc, line, "the alias is too long");
	return 0;
}

static int
parse_line(struct parse_ctx *pc, struct pending *pe, const char *s, size_t n,
           size_t line)
{
	size_t k = 0;

	if (memchr(s, '\0', n))
		return syntax(pc, line, "the line contains a NUL byte");
	while (k < n && is_blank(s[k]))
		k++;
	if (k > 0) {
		/* A continuation; a blank one adds nothing. */
		if (k == n && !pe->open)
			return 0;
		if (!pe->open)
			return syntax(pc, line,
			              "a line starts with white space but "
			              "continues no alias");
		if (pending_add(pe, s, n, line) < 0)
			return syntax(pc, line, "the alias is too long");
		return 0;
	}
	if (close_entry(pc, pe) < 0)
		return -1;
	if (n == 0 || s[0] == '#')
		return 0;
	return open_entry(pc, pe, s, n, line);
}

static int
entry_cmp(const void *x, const void *y)
{
	const struct alias_entry *a = x, *b = y;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Sort by name; of two entries with one name keep the later one. */
static void
finish_table(struct aliases *a)
{
	size_t out = 0;

	if (a->n > 1)
		qsort(a->v, a->n, sizeof *a->v, entry_cmp);
	for (size_t i = 0; i < a->n; i++) {
		if (i + 1 < a->n &&
		    strcmp(a->v[i].name, a->v[i + 1].name) == 0) {
			entry_free(&a->v[i]);
			continue;
		}
		a->v[out++] = a->v[i];
	}
	a->n = out;
	a->dflt = NULL;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, "default") == 0)
			a->dflt = &a->v[i];
}

int
aliases_parse(const char *text, size_t len, const char *name,
              struct aliases **out, struct error *err)
{
	struct aliases *a = xcalloc(1, sizeof *a);
	struct parse_ctx pc = {.a = a, .file = name, .err = err};
	struct pending pe = {0};
	size_t line = 0, i = 0;
	int rc = 0;

	*out = NULL;
	a->name = xstrdup(name);
	if (len > ALIASES_FILE_MAX) {
		aliases_free(a);
		return error_set(err, ERROR_CONFIG,
		                 "%s is larger than %d bytes", name,
		                 ALIASES_FILE_MAX);
	}
	buf_init(&pe.value, ALIASES_FILE_MAX + 2 * 1024);
	while (rc == 0 && i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - i;

		line++;
		if (n > 0 && text[i + n - 1] == '\r')
			n--;
		rc = parse_line(&pc, &pe, text + i, n, line);
		i = end + 1;
	}
	if (rc == 0)
		rc = close_entry(&pc, &pe);
	pending_reset(&pe);
	buf_clear(&pe.value);
	free(pe.starts);
	free(pe.lines);
	if (rc < 0) {
		aliases_free(a);
		return -1;
	}
	finish_table(a);
	*out = a;
	return 0;
}

/* --- loading -------------------------------------------------------------- */

static int
read_file(int fd, const char *path, struct buf *b, struct error *err)
{
	if (buf_read_fd(b, fd) == 0)
		return 0;
	if (errno == EMSGSIZE)
		return error_set(err, ERROR_CONFIG,
		                 "%s is larger than %d bytes", path,
		                 ALIASES_FILE_MAX);
	return error_set_errno(err, ERROR_CONFIG, errno, "cannot read %s",
	                       path);
}

int
aliases_load(const char *path, struct aliases **out, struct error *err)
{
	struct stat st;
	struct buf b;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "cannot read %s", path);
	if (fstat(fd, &st) < 0) {
		error_set_errno(err, ERROR_CONFIG, errno, "cannot read %s",
		                path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, ERROR_CONFIG,
		                 "cannot read %s: not a regular file", path);
	}
	if (st.st_size > ALIASES_FILE_MAX) {
		close(fd);
		return error_set(err, ERROR_CONFIG,
		                 "%s is larger than %d bytes", path,
		                 ALIASES_FILE_MAX);
	}
	buf_init(&b, ALIASES_FILE_MAX);
	rc = read_file(fd, path, &b, err);
	close(fd);
	if (rc == 0)
		rc = aliases_parse(buf_str(&b), b.len, path, out, err);
	buf_clear(&b);
	return rc;
}

/* --- expansion ----------------------------------------------------------- */

static const struct alias_entry *
lookup(const struct aliases *a, const char *name)
{
	char *key = lower_dup(name, strlen(name));
	size_t lo = 0, hi = a->n;
	const struct alias_entry *found = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(key, a->v[mid].name);

		if (c == 0) {
			found = &a->v[mid];
			break;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	free(key);
	return found;
}

struct expansion {
	const struct aliases *a;
	struct strlist *out;
	struct error *err;
	const char *chain[ALIASES_DEPTH_MAX + 1]; /* the names being expanded */
	size_t depth;
	size_t lookups;
};

static void
add_unique(struct strlist *out, const char *s)
{
	if (!strlist_contains(out, s))
		strlist_add(out, s);
}

/* "a -> b -> a" for a message. */
static void
chain_text(const struct expansion *x, const char *last, char *dst, size_t n)
{
	size_t len = 0;

	dst[0] = '\0';
	for (size_t i = 0; i <= x->depth && len + 1 < n; i++) {
		const char *s = i < x->depth ? x->chain[i] : last;
		int k =
		    snprintf(dst + len, n - len, "%s%s", i ? " -> " : "", s);

		if (k < 0)
			break;
		len += (size_t)k;
	}
}

static int expand_name(struct expansion *x, const char *name,
                       bool allow_default);

static int
expand_entry(struct expansion *x, const struct alias_entry *e, const char *name)
{
	const struct aliases *a = x->a;
	int rc = 0;

	for (size_t i = 0; i < x->depth; i++) {
		if (str_ieq(x->chain[i], name)) {
			char chain[512];

			chain_text(x, name, chain, sizeof chain);
			return error_set(
			    x->err, ERROR_CONFIG,
			    "%s:%zu: the alias \"%.*s\" loops (%s)", a->name,
			    e->line, SHOW_MAX, e->name, chain);
		}
	}
	if (x->depth == ALIASES_DEPTH_MAX)
		return error_set(x->err, ERROR_CONFIG,
		                 "%s:%zu: the alias \"%.*s\" expands more "
		                 "than %d levels deep",
		                 a->name, e->line, SHOW_MAX, e->name,
		                 ALIASES_DEPTH_MAX);
	x->chain[x->depth++] = name;
	for (size_t i = 0; rc == 0 && i < e->n; i++) {
		const struct alias_target *t = &e->v[i];

		if (t->special)
			rc = error_set(x->err, ERROR_CONFIG,
			               "%s:%zu: the alias \"%.*s\" names "
			               "\"%.*s\", which only a local delivery "
			               "agent can deliver to",
			               a->name, e->line, SHOW_MAX, e->name,
			               SHOW_MAX, t->text);
		else if (strchr(t->text, '@'))
			add_unique(x->out, t->text);
		else if (str_ieq(t->text, e->name))
			add_unique(x->out, t->text); /* "root: root, x@y" */
		else /* `default` is for the recipient given, not targets */
			rc = expand_name(x, t->text, false);
	}
	x->depth--;
	return rc;
}

static int
expand_name(struct expansion *x, const char *name, bool allow_default)
{
	const struct alias_entry *e;

	if (++x->lookups > ALIASES_LOOKUPS_MAX)
		return error_set(x->err, ERROR_CONFIG,
		                 "%s: expanding the aliases takes more than %d "
		                 "steps",
		                 x->a->name, ALIASES_LOOKUPS_MAX);
	e = lookup(x->a, name);
	if (e)
		return expand_entry(x, e, name);
	if (allow_default && x->a->dflt)
		return expand_entry(x, x->a->dflt, name);
	add_unique(x->out, name);
	return 0;
}

int
aliases_expand(const struct aliases *a, const char *rcpt, struct strlist *out,
               struct error *err)
{
	struct expansion x = {.a = a, .out = out, .err = err};
	const char *at = strrchr(rcpt, '@');
	char *name;
	int rc;

	/* A domain makes it not a local name; "name@" with nothing after
	 * is a local name. */
	if (at && at[1] != '\0') {
		add_unique(out, rcpt);
		return 0;
	}
	name = at ? xstrndup(rcpt, (size_t)(at - rcpt)) : xstrdup(rcpt);
	if (!a || !*name) {
		add_unique(out, *name ? name : rcpt);
		free(name);
		return 0;
	}
	rc = expand_name(&x, name, true);
	free(name);
	return rc;
}
