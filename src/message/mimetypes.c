/*
 * mimetypes.c - media type names and the system's table of them by
 * extension (see mimetypes.h).  The table is the text of its files, kept
 * as read with each word ended in place, and an array of (extension,
 * type) pointers into it, searched from the end so that a later
 * definition wins.  It is looked up for a handful of attachments at
 * most, so a linear search of ~1600 entries is cheaper than building
 * anything faster.
 */
#include "config.h"

#include "mimetypes.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Ceilings on a file that is outside input.  Debian's /etc/mime.types
 * (media-types 10) is 72 KiB, its longest line 99 bytes, its longest
 * extension without a dot 24 characters, and it names 1552 extensions. */
#define MIMETYPES_FILE_MAX (1024 * 1024)
#define MIMETYPES_LINE_MAX 1024
#define MIMETYPES_EXT_MAX 32
#define MIMETYPES_ENTRIES_MAX 8192

/* RFC 6838 4.2: type and subtype names are at most 127 characters. */
#define MIMETYPES_NAME_MAX 127

struct entry {
	const char *ext;
	const char *type;
};

/* The text of one file or one mimetypes_parse call, words ended in
 * place; the entries point into it. */
struct text {
	struct text *next;
	char s[];
};

struct mimetypes {
	struct entry *v;
	size_t n, cap;
	struct text *texts;
};

/* RFC 2045 5.1: token := 1*<any CHAR except SPACE, CTLs, or tspecials>. */
static bool
is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

static size_t
token_len(const char *s)
{
	size_t i = 0;

	while (s[i] && is_token_char((unsigned char)s[i]))
		i++;
	return i;
}

int
mimetypes_valid(const char *type)
{
	size_t a = token_len(type);
	size_t b;

	if (a == 0 || a > MIMETYPES_NAME_MAX || type[a] != '/')
		return 0;
	b = token_len(type + a + 1);
	return b > 0 && b <= MIMETYPES_NAME_MAX && type[a + 1 + b] == '\0';
}

struct mimetypes *
mimetypes_new(void)
{
	return xcalloc(1, sizeof(struct mimetypes));
}

void
mimetypes_free(struct mimetypes *t)
{
	if (!t)
		return;
	while (t->texts) {
		struct text *next = t->texts->next;

		free(t->texts);
		t->texts = next;
	}
	free(t->v);
	free(t);
}

size_t
mimetypes_count(const struct mimetypes *t)
{
	return t->n;
}

const char *
mimetypes_lookup(const struct mimetypes *t, const char *ext)
{
	for (size_t i = t->n; i-- > 0;)
		if (str_ieq(t->v[i].ext, ext))
			return t->v[i].type;
	return NULL;
}

/* Only the last extension of a name is looked up: "tar.gz" never is. */
static bool
usable_ext(const char *w)
{
	size_t n = token_len(w);

	return n > 0 && n <= MIMETYPES_EXT_MAX && w[n] == '\0' &&
	       !strchr(w, '.');
}

static void
add(struct mimetypes *t, const char *ext, const char *type)
{
	if (t->n == MIMETYPES_ENTRIES_MAX)
		return;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->v = xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n].ext = ext;
	t->v[t->n].type = type;
	t->n++;
}

/* The next blank-separated word at *p, ended in place; NULL at the end of
 * the line or at a comment. */
static char *
next_word(char **p)
{
	char *w = *p + strspn(*p, " \t\r");
	size_t n;

	if (*w == '\0' || *w == '#')
		return NULL;
	n = strcspn(w, " \t\r");
	*p = w + n;
	if (**p) {
		**p = '\0';
		(*p)++;
	}
	return w;
}

/* One line, [line, eol), where *eol may be written (a newline or the
 * text's terminating NUL). */
static void
parse_line(struct mimetypes *t, char *line, char *eol)
{
	char *type, *w;

	if (eol - line > MIMETYPES_LINE_MAX)
		return;
	for (const char *c = line; c < eol; c++) {
		unsigned char u = (unsigned char)*c;

		if (u >= 0x7f || (u < 0x20 && u != '\t' && u != '\r'))
			return;
	}
	*eol = '\0';
	type = next_word(&line);
	if (!type || !mimetypes_valid(type))
		return;
	while ((w = next_word(&line)))
		if (usable_ext(w))
			add(t, w, type);
}

/* Take text (len bytes, NUL after them) into t. */
static void
add_text(struct mimetypes *t, struct text *text, size_t len)
{
	char *p = text->s, *end = p + len;

	text->next = t->texts;
	t->texts = text;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;

		parse_line(t, p, eol);
		p = eol + 1;
	}
}

void
mimetypes_parse(struct mimetypes *t, const char *text, size_t len)
{
	struct text *copy = xmalloc(sizeof *copy + len + 1);

	memcpy(copy->s, text, len);
	copy->s[len] = '\0';
	add_text(t, copy, len);
}

void
mimetypes_load(struct mimetypes *t, const char *path)
{
	/* O_NONBLOCK: a FIFO put there must not hang the send (it is
	 * refused below, as not a regular file). */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct text *text;
	struct stat st;
	size_t want, got = 0;
	bool cut;

	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	cut = st.st_size > MIMETYPES_FILE_MAX;
	want = cut ? MIMETYPES_FILE_MAX : (size_t)st.st_size;
	text = xmalloc(sizeof *text + want + 1);
	while (got < want) {
		ssize_t r = fd_read(fd, text->s + got, want - got);

		if (r <= 0) {
			/* A read error: what came before it, whole lines. */
			cut = cut || r < 0;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	if (cut) {
		/* The line the ceiling (or an error) cut is not a line. */
		char *nl = got ? memrchr(text->s, '\n', got) : NULL;

		got = nl ? (size_t)(nl - text->s) + 1 : 0;
	}
	text->s[got] = '\0';
	add_text(t, text, got);
}
