/*
 * header_test.c - scanning and editing the header block (header.c).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "header.h"
#include "unit.h"

struct scan_case {
	const char *in;      /* canonical text, pushed line by line */
	const char *results; /* one letter per push, see result_letter */
	size_t fields;
	const char *value0; /* unfolded value of the first field, or NULL */
};

static const struct scan_case scan_cases[] = {
    {"To: a@x\r\nSubject: hi\r\n\r\nbody\r\n", "MMB", 2, "a@x"},
    {"Subject: a\r\n b\r\n\tc\r\n\r\n", "MMMB", 1, "a b\tc"},
    {"Subject:  spaced  \r\n\r\n", "MB", 1, "spaced"},
    {"Subject:x\r\n", "M", 1, "x"},
    {"X-Empty:\r\n\r\n", "MB", 1, ""},
    {"X-Blank:   \r\n  \r\n\r\n", "MMB", 1, ""},
    {"From a@b Sat Nov 28 17:03:00 2026\r\nTo: x\r\n\r\n", "SMB", 1, "x"},
    {"From a@b\r\nFrom c@d\r\n", "SD", 0, NULL},
    {"From a@b\r\n cont\r\n", "SD", 0, NULL},
    {"To: x\r\nFrom y\r\n", "MD", 1, "x"},
    {"To: x\r\nFrom: y\r\n", "MM", 2, "x"},
    {" cont\r\nTo: x\r\n", "D", 0, NULL},
    {"\tcont\r\n", "D", 0, NULL},
    {"\r\nTo: x\r\n", "B", 0, NULL},
    {"body text\r\n", "D", 0, NULL},
    /* RFC 5322 4.5.3: white space before the colon (obsolete syntax) */
    {"Name : value\r\n", "M", 1, "value"},
    {"Subject : x\r\n\r\n", "MB", 1, "x"},
    {"Subject\t:\tx\r\n\r\n", "MB", 1, "x"},
    {"Subject \t :\r\n\r\n", "MB", 1, ""},
    {"Subject :a\r\n b\r\n\r\n", "MMB", 1, "a b"},
    {"To: a\r\nCc : b\r\n\r\n", "MMB", 2, "a"},
    {"From : a@b\r\nTo: c\r\n\r\n", "MMB", 2, "a@b"},
    {"From  a@b Sat Nov 28\r\nTo: c\r\n\r\n", "SMB", 1, "c"},
    {"Subject x: y\r\n", "D", 0, NULL},
    {"To: a\r\nSubject  \r\n", "MD", 1, "a"},
    {"Subject \r\n: x\r\n", "D", 0, NULL},
    {":novalue\r\n", "D", 0, NULL},
    {"To: a\r\nX\x80: b\r\n", "MD", 1, "a"},
    {"Subject: caf\xc3\xa9\r\n\r\n", "MB", 1, "caf\xc3\xa9"},
    {"X-A: 1\r\nx-b: 2\r\n\r\n", "MMB", 2, "1"},
    {"Odd-Name!#$%&'*+-/=?^_`{|}~: v\r\n\r\n", "MB", 1, "v"},
    {"Subject: a\r\n\r\n b\r\n", "MB", 1, "a"},
};

static char
result_letter(int r)
{
	switch (r) {
	case HEADER_MORE:
		return 'M';
	case HEADER_END_BLANK:
		return 'B';
	case HEADER_END_BODY:
		return 'D';
	case HEADER_SKIPPED:
		return 'S';
	default:
		return 'E';
	}
}

/* Push the lines of in until the block ends; the letters of the results
 * go to got. */
static void
scan(struct header_block *h, const char *in, char *got, size_t got_size)
{
	struct error err;
	size_t n = 0;

	while (*in && n + 1 < got_size) {
		const char *lf = strchr(in, '\n');
		size_t len = lf ? (size_t)(lf - in) + 1 : strlen(in);
		int r = header_push_line(h, in, len, &err);

		got[n++] = result_letter(r);
		if (r != HEADER_MORE && r != HEADER_SKIPPED)
			break;
		in += len;
	}
	got[n] = '\0';
}

static void
test_scan_table(void)
{
	for (size_t i = 0; i < sizeof scan_cases / sizeof scan_cases[0]; i++) {
		const struct scan_case *t = &scan_cases[i];
		struct header_block h;
		struct buf v;
		char got[32];

		header_init(&h);
		scan(&h, t->in, got, sizeof got);
		CHECK_STR(got, t->results);
		CHECK_INT(h.n, t->fields);
		if (t->value0 && h.n > 0) {
			buf_init(&v, 4096);
			CHECK_INT(header_value(&h.v[0], &v), 0);
			CHECK_STR(buf_str(&v), t->value0);
			buf_clear(&v);
		}
		header_clear(&h);
	}
}

/* Field names: 1..HEADER_NAME_MAX printable characters. */
static void
test_name_length(void)
{
	char line[HEADER_NAME_MAX + 16];
	struct header_block h;
	struct error err;

	memset(line, 'N', HEADER_NAME_MAX);
	memcpy(line + HEADER_NAME_MAX, ": v\r\n", 5);
	header_init(&h);
	CHECK_INT(header_push_line(&h, line, HEADER_NAME_MAX + 5, &err),
	          HEADER_MORE);
	CHECK_INT(h.v[0].name_len, HEADER_NAME_MAX);
	memset(line, 'N', HEADER_NAME_MAX + 1);
	memcpy(line + HEADER_NAME_MAX + 1, ": v\r\n", 5);
	CHECK_INT(header_push_line(&h, line, HEADER_NAME_MAX + 6, &err),
	          HEADER_END_BODY);
	header_clear(&h);
}

/* The raw bytes are kept exactly, folding included. */
static void
test_raw_kept(void)
{
	static const char in[] = "Subject: a\r\n\tb\r\nTo:x\r\n\r\n";
	struct header_block h;
	char got[16];

	header_init(&h);
	scan(&h, in, got, sizeof got);
	CHECK_INT(h.n, 2);
	CHECK_MEM(h.v[0].raw, h.v[0].raw_len, "Subject: a\r\n\tb\r\n", 16);
	CHECK_MEM(h.v[1].raw, h.v[1].raw_len, "To:x\r\n", 6);
	CHECK_INT(h.v[0].name_len, 7);
	CHECK_INT(header_size(&h), 22);
	header_clear(&h);
	CHECK_INT(header_size(&h), 0);
}

static void
test_find_is_remove(void)
{
	static const char in[] = "To: a\r\nCc: b\r\nto: c\r\nBcc: d\r\n"
	                         "TO: e\r\n\r\n";
	struct header_block h;
	char got[16];

	header_init(&h);
	scan(&h, in, got, sizeof got);
	CHECK_INT(h.n, 5);
	CHECK(header_is(&h.v[0], "to"));
	CHECK(header_is(&h.v[0], "TO"));
	CHECK(!header_is(&h.v[0], "T"));
	CHECK(!header_is(&h.v[0], "Tox"));
	CHECK_INT(header_find(&h, "To", 0), 0);
	CHECK_INT(header_find(&h, "To", 1), 2);
	CHECK_INT(header_find(&h, "To", 3), 4);
	CHECK_INT(header_find(&h, "To", 5), -1);
	CHECK_INT(header_find(&h, "Date", 0), -1);
	CHECK_INT(header_remove(&h, "to"), 3);
	CHECK_INT(h.n, 2);
	CHECK(header_is(&h.v[0], "Cc"));
	CHECK(header_is(&h.v[1], "Bcc"));
	CHECK_INT(header_size(&h), 15);
	CHECK_INT(header_remove(&h, "To"), 0);
	header_clear(&h);
}

static void
test_add(void)
{
	struct header_block h;
	struct error err;
	struct buf v;

	header_init(&h);
	CHECK_INT(
	    header_add(&h, "Date", "Sat, 28 Nov 2026 17:03:00 +0100", &err), 0);
	CHECK_MEM(h.v[0].raw, h.v[0].raw_len,
	          "Date: Sat, 28 Nov 2026 17:03:00 +0100\r\n", 39);
	CHECK_INT(header_add(&h, "X-Empty", "", &err), 0);
	CHECK_MEM(h.v[1].raw, h.v[1].raw_len, "X-Empty:\r\n", 10);
	CHECK_INT(header_size(&h), 49);
	CHECK_INT(header_add(&h, "Subject", "a\r\nBcc: evil", &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_add(&h, "Subject", "a\nb", &err), -1);
	CHECK_INT(header_add(&h, "Sub ject", "a", &err), -1);
	CHECK_INT(header_add(&h, "Sub:ject", "a", &err), -1);
	CHECK_INT(header_add(&h, "", "a", &err), -1);
	CHECK_INT(h.n, 2);
	/* Folded lines after an added field join it. */
	CHECK_INT(header_push_line(&h, " more\r\n", 7, &err), HEADER_MORE);
	buf_init(&v, 100);
	CHECK_INT(header_value(&h.v[1], &v), 0);
	CHECK_STR(buf_str(&v), "more");
	buf_clear(&v);
	header_clear(&h);
}

static void
test_value_ceiling(void)
{
	struct header_block h;
	struct buf v;
	char got[4];

	header_init(&h);
	scan(&h, "Subject: 0123456789\r\n", got, sizeof got);
	buf_init(&v, 5);
	CHECK_INT(header_value(&h.v[0], &v), -1);
	header_clear(&h);
}

/* HEADER_BLOCK_MAX bounds the memory: fields, folded lines and added
 * fields all count. */
static void
test_block_max(void)
{
	static char line[1000];
	struct header_block h;
	struct error err;
	int r = HEADER_MORE;
	size_t pushed = 0;
	char *big;

	memset(line, 'x', sizeof line);
	memcpy(line, "X-Fill: ", 8);
	memcpy(line + sizeof line - 2, "\r\n", 2);
	header_init(&h);
	while (r == HEADER_MORE && pushed < 2 * HEADER_BLOCK_MAX) {
		r = header_push_line(&h, line, sizeof line, &err);
		pushed += sizeof line;
	}
	CHECK_INT(r, -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(header_size(&h) <= HEADER_BLOCK_MAX);
	CHECK(pushed > HEADER_BLOCK_MAX);
	line[0] = ' ';
	CHECK_INT(header_push_line(&h, line, sizeof line, &err), -1);
	big = malloc(2001);
	memset(big, 'v', 2000);
	big[2000] = '\0';
	CHECK_INT(header_add(&h, "X-Big", big, &err), -1);
	free(big);
	header_clear(&h);
}

/* A field folded very many times stays cheap (capacity doubles). */
static void
test_many_folds(void)
{
	struct header_block h;
	struct error err;
	int r = HEADER_MORE;
	struct buf v;

	header_init(&h);
	r = header_push_line(&h, "Received: x\r\n", 13, &err);
	for (int i = 0; i < 200000 && r == HEADER_MORE; i++)
		r = header_push_line(&h, "\ty\r\n", 4, &err);
	CHECK_INT(r, HEADER_MORE);
	CHECK_INT(header_size(&h), 13 + 200000 * 4);
	buf_init(&v, HEADER_BLOCK_MAX);
	CHECK_INT(header_value(&h.v[0], &v), 0);
	CHECK_INT(v.len, 1 + 200000 * 2);
	buf_clear(&v);
	header_clear(&h);
}

/* An obsolete-syntax field keeps its raw bytes and is found by name. */
static void
test_obsolete_space(void)
{
	static const char in[] = "Subject : hi\r\nTo\t:a@x\r\n\tb@y\r\n"
	                         "cc :c\r\nDate: d\r\n\r\n";
	struct header_block h;
	struct error err;
	struct buf v;
	char got[16];

	header_init(&h);
	scan(&h, in, got, sizeof got);
	CHECK_STR(got, "MMMMMB");
	CHECK_INT(h.n, 4);
	CHECK_MEM(h.v[0].raw, h.v[0].raw_len, "Subject : hi\r\n", 14);
	CHECK_MEM(h.v[1].raw, h.v[1].raw_len, "To\t:a@x\r\n\tb@y\r\n", 15);
	CHECK_INT(h.v[0].name_len, 7);
	CHECK_INT(h.v[1].name_len, 2);
	CHECK_INT(h.v[2].name_len, 2);
	CHECK_INT(header_size(&h), sizeof in - 1 - 2);
	CHECK(header_is(&h.v[0], "subject"));
	CHECK(!header_is(&h.v[0], "Subject "));
	CHECK(header_is(&h.v[1], "To"));
	CHECK(header_is(&h.v[2], "Cc"));
	CHECK_INT(header_find(&h, "SUBJECT", 0), 0);
	CHECK_INT(header_find(&h, "to", 0), 1);
	CHECK_INT(header_find(&h, "Cc", 0), 2);
	buf_init(&v, 100);
	CHECK_INT(header_value(&h.v[1], &v), 0);
	CHECK_STR(buf_str(&v), "a@x\tb@y");
	buf_reset(&v);
	CHECK_INT(header_value(&h.v[2], &v), 0);
	CHECK_STR(buf_str(&v), "c");
	buf_clear(&v);
	CHECK_INT(header_remove(&h, "cc"), 1);
	CHECK_INT(header_remove(&h, "subject"), 1);
	CHECK_INT(h.n, 2);
	CHECK(header_is(&h.v[0], "To"));
	CHECK(header_is(&h.v[1], "Date"));
	CHECK_INT(header_add(&h, "Subject", "new", &err), 0);
	CHECK_INT(header_find(&h, "Subject", 0), 2);
	header_clear(&h);
}

/* The name's length limit holds with white space before the colon. */
static void
test_obsolete_name_length(void)
{
	char line[HEADER_NAME_MAX + 16];
	struct header_block h;
	struct error err;

	memset(line, 'N', HEADER_NAME_MAX);
	memcpy(line + HEADER_NAME_MAX, "  : v\r\n", 7);
	header_init(&h);
	CHECK_INT(header_push_line(&h, line, HEADER_NAME_MAX + 7, &err),
	          HEADER_MORE);
	CHECK_INT(h.v[0].name_len, HEADER_NAME_MAX);
	memset(line, 'N', HEADER_NAME_MAX + 1);
	memcpy(line + HEADER_NAME_MAX + 1, " : v\r\n", 6);
	CHECK_INT(header_push_line(&h, line, HEADER_NAME_MAX + 7, &err),
	          HEADER_END_BODY);
	header_clear(&h);
}

/* The block's fields, concatenated. */
static void
render(const struct header_block *h, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < h->n; i++)
		buf_append(out, h->v[i].raw, h->v[i].raw_len);
}

static void
push_text(struct header_block *h, const char *text)
{
	struct error err;

	while (*text) {
		const char *lf = strchr(text, '\n');
		size_t n = (size_t)(lf - text) + 1;

		header_push_line(h, text, n, &err);
		text += n;
	}
}

/* header_replace: in place, others of the name removed, else added. */
static void
test_replace(void)
{
	struct header_block h;
	struct buf out;
	struct error err;

	header_init(&h);
	buf_init(&out, 1 << 20);
	push_text(&h, "A: 1\r\nCTE: 8bit\r\nB: 2\r\ncte: x\r\nC: 3\r\n");
	CHECK_INT(header_replace(&h, "CTE", "qp", &err), 0);
	render(&h, &out);
	CHECK_STR(buf_str(&out), "A: 1\r\nCTE: qp\r\nB: 2\r\nC: 3\r\n");
	CHECK_INT(h.bytes, out.len);
	CHECK_INT(header_replace(&h, "D", "4", &err), 0);
	render(&h, &out);
	CHECK_STR(buf_str(&out), "A: 1\r\nCTE: qp\r\nB: 2\r\nC: 3\r\nD: 4\r\n");
	CHECK_INT(header_replace(&h, "E", "bad\r\nX: y", &err), -1);
	CHECK_INT(h.n, 5);
	header_clear(&h);
	buf_clear(&out);
}

/* Lines over 998 are folded before white space, and only they; a line
 * without white space to fold at is refused naming the field, unless the
 * field is text (then RFC 2047 words, see test_fold_text). */
static void
test_fold_long(void)
{
	struct header_block h;
	struct buf in, out, v1, v2;
	struct error err;

	buf_init(&in, 1 << 20);
	buf_init(&out, 1 << 20);
	buf_init(&v1, 1 << 20);
	buf_init(&v2, 1 << 20);
	header_init(&h);
	buf_append_str(&in, "Short: x\r\nSubject:");
	for (int i = 0; i < 500; i++)
		buf_append_str(&in, i % 7 ? " word" : " \t  longer-word");
	buf_append_str(&in, "\r\n\tcont\r\n");
	push_text(&h, buf_str(&in));
	header_value(&h.v[1], &v1);
	CHECK_INT(header_fold_long(&h, &err), 0);
	render(&h, &out);
	CHECK(strncmp(buf_str(&out), "Short: x\r\nSubject: ", 19) == 0);
	for (const char *p = buf_str(&out), *lf; (lf = strchr(p, '\n'));
	     p = lf + 1) {
		CHECK(lf - p <= 999);
		/* a folded line never holds white space only */
		CHECK(strspn(p, " \t") < (size_t)(lf - p - 1));
	}
	CHECK(out.len > in.len);
	CHECK_INT(h.bytes, out.len);
	header_value(&h.v[1], &v2);
	CHECK_STR(buf_str(&v2), buf_str(&v1));
	header_clear(&h);

	/* 998 exactly is left alone; no white space at all is refused */
	header_init(&h);
	buf_reset(&in);
	buf_append_str(&in, "X-A:");
	for (int i = 0; i < 994; i++)
		buf_append_char(&in, 'a');
	buf_append_str(&in, "\r\nMessage-ID: <");
	for (int i = 0; i < 1200; i++)
		buf_append_char(&in, 'b');
	buf_append_str(&in, "@x>\r\n");
	push_text(&h, buf_str(&in));
	CHECK_INT(header_fold_long(&h, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(strstr(err.msg, "Message-ID") != NULL);
	render(&h, &out);
	CHECK_STR(buf_str(&out), buf_str(&in));
	header_clear(&h);
	buf_clear(&in);
	buf_clear(&out);
	buf_clear(&v1);
	buf_clear(&v2);
}

/* Folding adds a CRLF per fold: a block so near HEADER_BLOCK_MAX that
 * the folds do not fit is refused as too large (ERROR_DATA, as any block
 * past the ceiling), never taken for a field mailpost composed wrongly,
 * and is left as it was. */
static void
test_fold_ceiling(void)
{
	struct header_block h;
	struct buf in, out;
	struct error err;

	buf_init(&in, HEADER_BLOCK_MAX + 16);
	buf_init(&out, HEADER_BLOCK_MAX + 16);
	header_init(&h);
	buf_append_str(&in, "Subject:");
	while (in.len < HEADER_BLOCK_MAX - 100)
		buf_append_str(&in, " word");
	buf_append_str(&in, "\r\n");
	push_text(&h, buf_str(&in));
	CHECK_INT(header_count(&h), 1);
	CHECK_INT(header_fold_long(&h, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK(strstr(err.msg, "larger than") != NULL);
	render(&h, &out);
	CHECK(out.len == in.len && memcmp(out.data, in.data, in.len) == 0);
	header_clear(&h);
	buf_clear(&in);
	buf_clear(&out);
}

/* A text field with a word too long for a line (a log line as the
 * Subject, a subject in a script written without spaces) is sent as RFC
 * 2047 words, folded; one that is not UTF-8 cannot be and is refused. */
static void
test_fold_text(void)
{
	static const char *const names[] = {"Subject", "X-Long", "Comments"};

	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		struct header_block h;
		struct buf in, out;
		struct error err;
		size_t lines = 0;

		buf_init(&in, 1 << 20);
		buf_init(&out, 1 << 20);
		header_init(&h);
		buf_append_str(&in, names[k]);
		buf_append_str(&in, ": ");
		for (int i = 0; i < 1200; i++)
			buf_append_str(&in, "\xc3\xa9");
		buf_append_str(&in, "\r\n");
		push_text(&h, buf_str(&in));
		CHECK_INT(header_fold_long(&h, &err), 0);
		render(&h, &out);
		CHECK(strncmp(buf_str(&out) + strlen(names[k]), ": =?", 4) ==
		      0);
		for (const char *p = buf_str(&out), *lf; (lf = strchr(p, '\n'));
		     p = lf + 1, lines++)
			CHECK(lf - p <= 999);
		CHECK(lines > 1);
		CHECK_INT(h.bytes, out.len);
		header_clear(&h);

		/* not UTF-8: refused as before, the field unchanged */
		header_init(&h);
		buf_reset(&in);
		buf_append_str(&in, names[k]);
		buf_append_str(&in, ": ");
		for (int i = 0; i < 1200; i++)
			buf_append_char(&in, (char)0xe9);
		buf_append_str(&in, "\r\n");
		push_text(&h, buf_str(&in));
		CHECK_INT(header_fold_long(&h, &err), -1);
		CHECK(strstr(err.msg, names[k]) != NULL);
		buf_reset(&out);
		render(&h, &out);
		CHECK_STR(buf_str(&out), buf_str(&in));
		header_clear(&h);
		buf_clear(&in);
		buf_clear(&out);
	}
}

/* --- the walker ------------------------------------------------------------
 */

/* One field as the walker shows it: "Name=value" (the value unfolded). */
static void
show(const struct header_field *f, struct buf *out)
{
	size_t n;
	const char *name = header_name(f, &n);

	buf_reset(out);
	buf_append(out, name, n);
	buf_append_char(out, '=');
	header_value(f, out);
}

/* Every field named `name` (all when NULL) as "Name=value|...". */
static void
walk_all(const struct header_block *h, const char *name, struct buf *out)
{
	struct header_walk w;
	const struct header_field *f;
	struct buf one;

	buf_init(&one, HEADER_BLOCK_MAX);
	buf_reset(out);
	header_walk_init(&w);
	while ((f = header_walk_next(h, &w, name)) != NULL) {
		show(f, &one);
		buf_append(out, one.data, one.len);
		buf_append_char(out, '|');
	}
	CHECK(header_walk_next(h, &w, name) == NULL);
	buf_clear(&one);
}

/* Folded fields come unfolded, empty values are empty, names keep their
 * case and lose the obsolete white space before the colon, repeated
 * fields each come in order, and a name matches in any case. */
static void
test_walk_read(void)
{
	static const char in[] = "Received: a\r\n\tb\r\n"
	                         "Subject : folded\r\n  twice\r\n  \r\n"
	                         "X-Empty:\r\n"
	                         "X-Blank:  \r\n"
	                         "received:c\r\n"
	                         "RECEIVED\t: d\r\n"
	                         "To: e\r\n";
	struct header_block h;
	struct buf out;

	header_init(&h);
	buf_init(&out, HEADER_BLOCK_MAX);
	push_text(&h, in);
	CHECK_INT(header_count(&h), 7);
	walk_all(&h, NULL, &out);
	CHECK_STR(buf_str(&out), "Received=a\tb|Subject=folded  twice|"
	                         "X-Empty=|X-Blank=|received=c|RECEIVED=d|"
	                         "To=e|");
	walk_all(&h, "rEcEiVeD", &out);
	CHECK_STR(buf_str(&out), "Received=a\tb|received=c|RECEIVED=d|");
	walk_all(&h, "subject", &out);
	CHECK_STR(buf_str(&out), "Subject=folded  twice|");
	walk_all(&h, "Subject ", &out);
	CHECK_STR(buf_str(&out), "");
	walk_all(&h, "Bcc", &out);
	CHECK_STR(buf_str(&out), "");
	CHECK(header_first(&h, "to") != NULL);
	CHECK(header_first(&h, "received") == header_first(&h, "Received"));
	CHECK(header_first(&h, "Cc") == NULL);
	CHECK_INT(header_render(&h, &out) == 0 && out.len == sizeof in - 1, 1);
	buf_reset(&out);
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_MEM(out.data, out.len, in, sizeof in - 1);
	header_clear(&h);
	walk_all(&h, NULL, &out);
	CHECK_STR(buf_str(&out), "");
	buf_clear(&out);
}

/* The last field of a block that ends without CRLF (the input ran out)
 * is whole, and goes out with its CRLF. */
static void
test_walk_no_crlf(void)
{
	struct header_block h;
	struct error err;
	struct buf out;
	const struct header_field *f;
	const char *raw;
	size_t n;

	header_init(&h);
	buf_init(&out, 4096);
	CHECK_INT(header_push_line(&h, "To: a\r\n", 7, &err), HEADER_MORE);
	CHECK_INT(header_push_line(&h, "X-Last: end", 11, &err), HEADER_MORE);
	walk_all(&h, NULL, &out);
	CHECK_STR(buf_str(&out), "To=a|X-Last=end|");
	f = header_first(&h, "x-last");
	raw = header_raw(f, &n);
	CHECK_MEM(raw, n, "X-Last: end\r\n", 13);
	CHECK_INT(header_size(&h), 7 + 13);
	header_clear(&h);
	buf_clear(&out);
}

static void
test_walk_prefix(void)
{
	struct header_block h;

	header_init(&h);
	push_text(&h, "X-: a\r\nx-y: b\r\nResent-To: c\r\nResent: d\r\n"
	              "content-type: e\r\n");
	CHECK(!header_has_prefix(header_first(&h, "X-"), "X-"));
	CHECK(header_has_prefix(header_first(&h, "X-Y"), "X-"));
	CHECK(header_has_prefix(header_first(&h, "Resent-To"), "resent-"));
	CHECK(!header_has_prefix(header_first(&h, "Resent"), "Resent-"));
	CHECK(header_has_prefix(header_first(&h, "Content-Type"), "Content-"));
	CHECK(!header_has_prefix(header_first(&h, "Content-Type"), "Type"));
	header_clear(&h);
}

/* Removing while walking: the next step visits the field that followed;
 * removing twice or before the first step does nothing. */
static void
test_walk_remove(void)
{
	struct header_block h;
	struct header_walk w;
	const struct header_field *f;
	struct buf out;
	size_t seen = 0;

	header_init(&h);
	buf_init(&out, 4096);
	push_text(&h, "A: 1\r\nB: 2\r\n\tfold\r\nb: 3\r\nC: 4\r\nB: 5\r\n");
	header_walk_init(&w);
	header_walk_remove(&h, &w);
	CHECK_INT(header_count(&h), 5);
	while ((f = header_walk_next(&h, &w, "B")) != NULL) {
		seen++;
		header_walk_remove(&h, &w);
		header_walk_remove(&h, &w);
	}
	CHECK_INT(seen, 3);
	CHECK_INT(header_count(&h), 2);
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_STR(buf_str(&out), "A: 1\r\nC: 4\r\n");
	CHECK_INT(header_size(&h), out.len);
	/* every field, the last one included */
	header_walk_init(&w);
	while (header_walk_next(&h, &w, NULL) != NULL)
		header_walk_remove(&h, &w);
	CHECK_INT(header_count(&h), 0);
	CHECK_INT(header_size(&h), 0);
	header_clear(&h);
	buf_clear(&out);
}

/* Replacing in place keeps the order; a bad value leaves the field. */
static void
test_walk_replace(void)
{
	struct header_block h;
	struct header_walk w;
	struct error err;
	struct buf out;

	header_init(&h);
	buf_init(&out, 4096);
	push_text(&h, "A: 1\r\nSubject : old\r\n folded\r\nC: 3\r\n");
	header_walk_init(&w);
	CHECK_INT(header_walk_replace(&h, &w, "X", "y", &err), -1);
	CHECK_INT(err.kind, ERROR_SOFTWARE);
	CHECK(header_walk_next(&h, &w, "subject") != NULL);
	CHECK_INT(header_walk_replace(&h, &w, "Subject", "bad\r\nX: y", &err),
	          -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_walk_replace(&h, &w, "Sub ject", "x", &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_walk_replace(&h, &w, "Subject", "new", &err), 0);
	CHECK_INT(header_walk_replace(&h, &w, "Subject", "", &err), 0);
	CHECK_INT(header_walk_replace(&h, &w, "Subject", "newer", &err), 0);
	CHECK(header_walk_next(&h, &w, NULL) != NULL);
	CHECK(header_walk_next(&h, &w, NULL) == NULL);
	CHECK_INT(header_walk_replace(&h, &w, "X", "y", &err), -1);
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_STR(buf_str(&out), "A: 1\r\nSubject: newer\r\nC: 3\r\n");
	CHECK_INT(header_size(&h), out.len);
	header_clear(&h);
	buf_clear(&out);
}

/* Raw bytes in place of a field: one whole field, folded lines allowed,
 * judged by the scanner; anything else is a program error and leaves
 * the block as it was. */
static void
test_walk_set_raw(void)
{
	static const char *const bad[] = {
	    "",
	    "no colon\r\n",
	    " X: leading space\r\n",
	    "A: 1\r\nB: 2\r\n",
	    "A: 1\r\n\r\n",
	    "A: 1\r\n\r\n more\r\n",
	    "From someone\r\n",
	};
	static const char good[] = "To: a,\r\n b\r\n";
	struct header_block h;
	struct header_walk w;
	struct error err;
	struct buf out;
	const struct header_field *f;

	header_init(&h);
	buf_init(&out, 4096);
	push_text(&h, "A: 1\r\nTo: x\r\nC: 3\r\n");
	header_walk_init(&w);
	f = header_walk_next(&h, &w, "To");
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK_INT(
		    header_walk_set_raw(&h, &w, bad[i], strlen(bad[i]), &err),
		    -1);
		CHECK_INT(err.kind, ERROR_SOFTWARE);
	}
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_STR(buf_str(&out), "A: 1\r\nTo: x\r\nC: 3\r\n");
	CHECK_INT(header_walk_set_raw(&h, &w, good, sizeof good - 1, &err), 0);
	buf_reset(&out);
	show(f, &out);
	CHECK_STR(buf_str(&out), "To=a, b");
	/* the walk goes on from where it stood */
	f = header_walk_next(&h, &w, NULL);
	CHECK(f && header_is(f, "C"));
	buf_reset(&out);
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_STR(buf_str(&out), "A: 1\r\nTo: a,\r\n b\r\nC: 3\r\n");
	CHECK_INT(header_size(&h), out.len);
	header_clear(&h);
	buf_clear(&out);
}

/* HEADER_BLOCK_MAX holds for bytes set in place and fields pushed whole;
 * a replacement counts only what it adds. */
static void
test_walk_ceiling(void)
{
	struct header_block h;
	struct header_walk w;
	struct error err;
	struct buf raw;
	size_t fill;

	header_init(&h);
	buf_init(&raw, 2 * HEADER_BLOCK_MAX);
	push_text(&h, "A: 1\r\n");
	/* a field that leaves room for 10 bytes */
	fill = HEADER_BLOCK_MAX - header_size(&h) - 10;
	buf_append_str(&raw, "X-Fill: ");
	while (raw.len < fill - 2)
		buf_append_char(&raw, 'x');
	buf_append_str(&raw, "\r\n");
	CHECK_INT(header_push_fields(&h, raw.data, raw.len, &err), 0);
	CHECK_INT(header_size(&h), HEADER_BLOCK_MAX - 10);
	CHECK_INT(header_push_fields(&h, "B: 123456\r\n", 11, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_push_fields(&h, "B: 12345\r\n", 10, &err), 0);
	CHECK_INT(header_size(&h), HEADER_BLOCK_MAX);
	header_walk_init(&w);
	CHECK(header_walk_next(&h, &w, "A") != NULL);
	/* "A: 1\r\n" is 6 bytes: only 6 may take its place */
	CHECK_INT(header_walk_set_raw(&h, &w, "A: 12\r\n", 7, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_walk_set_raw(&h, &w, "a: 2\r\n", 6, &err), 0);
	CHECK_INT(header_walk_replace(&h, &w, "A", "12", &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_walk_replace(&h, &w, "A", "3", &err), 0);
	CHECK_INT(header_walk_insert(&h, &w, "Z", "", &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	CHECK_INT(header_size(&h), HEADER_BLOCK_MAX);
	header_clear(&h);
	buf_clear(&raw);
}

/* Inserting before the field the walk stands on, at the start of a new
 * walk and at the end of a finished one; inserted fields are not
 * visited. */
static void
test_walk_insert(void)
{
	struct header_block h;
	struct header_walk w;
	const struct header_field *f;
	struct error err;
	struct buf out;
	size_t seen = 0;

	header_init(&h);
	buf_init(&out, 4096);
	push_text(&h, "A: 1\r\nB: 2\r\n");
	header_walk_init(&w);
	CHECK_INT(header_walk_insert(&h, &w, "First", "0", &err), 0);
	while ((f = header_walk_next(&h, &w, NULL)) != NULL) {
		seen++;
		if (header_is(f, "B"))
			CHECK_INT(
			    header_walk_insert(&h, &w, "Before-B", "x", &err),
			    0);
		CHECK_INT(header_walk_insert(&h, &w, "Bad", "a\nb", &err), -1);
	}
	CHECK_INT(seen, 2);
	CHECK_INT(header_walk_insert(&h, &w, "Last", "", &err), 0);
	CHECK(header_walk_next(&h, &w, NULL) == NULL);
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_STR(buf_str(&out),
	          "First: 0\r\nA: 1\r\nBefore-B: x\r\nB: 2\r\nLast:\r\n");
	CHECK_INT(header_size(&h), out.len);
	/* after a removal, before the field that followed */
	header_walk_init(&w);
	CHECK(header_walk_next(&h, &w, "A") != NULL);
	header_walk_remove(&h, &w);
	CHECK_INT(header_walk_insert(&h, &w, "For-A", "y", &err), 0);
	f = header_walk_next(&h, &w, NULL);
	CHECK(f && header_is(f, "Before-B"));
	buf_reset(&out);
	CHECK_INT(header_render(&h, &out), 0);
	CHECK_STR(buf_str(&out),
	          "First: 0\r\nFor-A: y\r\nBefore-B: x\r\nB: 2\r\nLast:\r\n");
	header_clear(&h);
	buf_clear(&out);
}

/* A field of one block pushed whole into another is the same field;
 * several may go at once; bytes that are not whole fields add nothing. */
static void
test_push_field(void)
{
	struct header_block a, b;
	struct header_walk w;
	const struct header_field *f;
	struct error err;
	struct buf out;
	const char *raw;
	size_t n;

	header_init(&a);
	header_init(&b);
	buf_init(&out, 4096);
	push_text(&a, "Subject : x\r\n\ty\r\nFrom: me\r\n");
	header_walk_init(&w);
	while ((f = header_walk_next(&a, &w, NULL)) != NULL) {
		raw = header_raw(f, &n);
		CHECK_INT(header_push_fields(&b, raw, n, &err), 0);
	}
	CHECK_INT(header_push_fields(&b, "A: 1\r\n\r\nB: 2\r\n", 14, &err), -1);
	CHECK_INT(err.kind, ERROR_SOFTWARE);
	CHECK_INT(header_push_fields(&b, "\tcont\r\n", 7, &err), -1);
	CHECK_INT(header_push_fields(&b, "", 0, &err), -1);
	CHECK_INT(header_push_fields(&b, "A: 1\r\nnot a field\r\n", 19, &err),
	          -1);
	CHECK_INT(header_count(&b), 2);
	CHECK_INT(header_render(&b, &out), 0);
	CHECK_STR(buf_str(&out), "Subject : x\r\n\ty\r\nFrom: me\r\n");
	/* several whole fields at once */
	CHECK_INT(header_push_fields(&b, "A: 1\r\nB: 2\r\n 3\r\n", 16, &err),
	          0);
	CHECK_INT(header_count(&b), 4);
	CHECK_INT(header_size(&b), 27 + 16);
	walk_all(&b, "b", &out);
	CHECK_STR(buf_str(&out), "B=2 3|");
	walk_all(&b, "subject", &out);
	CHECK_STR(buf_str(&out), "Subject=x\ty|");
	header_clear(&a);
	header_clear(&b);
	buf_clear(&out);
}

/* A copy is the same block, and editing one leaves the other. */
static void
test_copy(void)
{
	struct header_block a, b;
	struct header_walk w;
	struct error err;
	struct buf out;

	header_init(&a);
	buf_init(&out, 4096);
	push_text(&a, "Subject : x\r\n\ty\r\nFrom: me\r\n");
	header_copy(&b, &a);
	CHECK_INT(header_count(&b), 2);
	CHECK_INT(header_size(&b), header_size(&a));
	header_walk_init(&w);
	CHECK(header_walk_next(&b, &w, "subject") != NULL);
	CHECK_INT(header_walk_replace(&b, &w, "Subject", "z", &err), 0);
	CHECK_INT(header_render(&a, &out), 0);
	CHECK_STR(buf_str(&out), "Subject : x\r\n\ty\r\nFrom: me\r\n");
	buf_reset(&out);
	CHECK_INT(header_render(&b, &out), 0);
	CHECK_STR(buf_str(&out), "Subject: z\r\nFrom: me\r\n");
	CHECK_INT(header_size(&b), out.len);
	header_clear(&a);
	header_clear(&b);
	header_copy(&b, &a);
	CHECK_INT(header_count(&b), 0);
	header_clear(&b);
	buf_clear(&out);
}

/* What belongs to a header block: a field, or a folded line when there
 * is a field to continue; the same answer as header_push_line's. */
static void
test_line_belongs(void)
{
	static const struct {
		const char *line;
		bool empty, full;
	} cases[] = {
	    {"To: a", true, true},       {"To:", true, true},
	    {"Subject : x", true, true}, {" folded", false, true},
	    {"\tfolded", false, true},   {"", false, false},
	    {"body text", false, false}, {"From a@b Sat Nov 28", false, false},
	    {":x", false, false},        {"Sub ject: x", false, false},
	};
	struct header_block empty, full;
	struct error err;

	header_init(&empty);
	header_init(&full);
	push_text(&full, "To: a\r\n");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *l = cases[i].line;
		struct header_block h;
		char line[64];
		int r;

		CHECK_INT(header_line_belongs(&empty, l, strlen(l)),
		          cases[i].empty);
		CHECK_INT(header_line_belongs(&full, l, strlen(l)),
		          cases[i].full);
		if (!*l)
			continue;
		snprintf(line, sizeof line, "%s\r\n", l);
		header_init(&h);
		push_text(&h, "To: a\r\n");
		r = header_push_line(&h, line, strlen(line), &err);
		CHECK_INT(r == HEADER_MORE, cases[i].full);
		header_clear(&h);
	}
	header_clear(&empty);
	header_clear(&full);
}

/* Field names: printable ASCII but ':', 1 to HEADER_NAME_MAX of them. */
static void
test_name_valid(void)
{
	char name[HEADER_NAME_MAX + 1];

	CHECK(header_name_valid("Subject", 7));
	CHECK(header_name_valid("X-A!#$%&'*+-/=?^_`{|}~", 22));
	CHECK(header_name_valid("To: x", 2));
	CHECK(!header_name_valid("To: x", 3));
	CHECK(!header_name_valid("", 0));
	CHECK(!header_name_valid("Sub ject", 8));
	CHECK(!header_name_valid("Sub\tject", 8));
	CHECK(!header_name_valid("X\x7f", 2));
	CHECK(!header_name_valid("X\x80", 2));
	CHECK(!header_name_valid("X\r\n", 3));
	memset(name, 'N', sizeof name);
	CHECK(header_name_valid(name, HEADER_NAME_MAX));
	CHECK(!header_name_valid(name, HEADER_NAME_MAX + 1));
}

int
main(void)
{
	test_replace();
	test_fold_long();
	test_fold_text();
	test_fold_ceiling();
	test_scan_table();
	test_name_length();
	test_raw_kept();
	test_find_is_remove();
	test_add();
	test_value_ceiling();
	test_block_max();
	test_many_folds();
	test_obsolete_space();
	test_obsolete_name_length();
	test_walk_read();
	test_walk_no_crlf();
	test_walk_prefix();
	test_walk_remove();
	test_walk_replace();
	test_walk_set_raw();
	test_walk_ceiling();
	test_walk_insert();
	test_push_field();
	test_copy();
	test_line_belongs();
	test_name_valid();
	return unit_done();
}
