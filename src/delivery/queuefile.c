/*
 * queuefile.c - a queue entry's envelope in memory and as the text of its
 * envelope file (the format is in queuefile.h).
 */
#include "config.h"

#include "queuefile.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ENVELOPE_VERSION 1

/* --- envelopes in memory and their ids ----------------------------------- */

void
queue_envelope_init(struct queue_envelope *e)
{
	memset(e, 0, sizeof *e);
	envelope_init(&e->env);
}

void
queue_envelope_clear(struct queue_envelope *e)
{
	envelope_clear(&e->env);
	free(e->last_error);
	queue_envelope_init(e);
}

bool
queue_id_valid(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= QUEUE_ID_LEN)
			return false;
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return i == QUEUE_ID_LEN;
}

/* --- the field table ------------------------------------------------------
 *
 * One table drives both the writer and the reader, so that a field cannot
 * be written and then forgotten by the reader (or the other way round). */

enum field_type {
	F_VERSION,
	F_ID,
	F_STRING,   /* char *, written even when NULL (as "") */
	F_OPTIONAL, /* char *, written only when not NULL */
	F_RCPT,
	F_PORT,
	F_PRIORITY,
	F_TIME,
	F_COUNT,
	F_SIZE,
	F_BOOL,
};

struct field {
	const char *key;
	enum field_type type;
	size_t off; /* of the member in struct queue_envelope */
	bool mandatory;
};

#define AT(member) offsetof(struct queue_envelope, member)

static const struct field fields[] = {
    {"version", F_VERSION, 0, true},
    {"id", F_ID, AT(id), true},
    {"account", F_STRING, AT(env.account), false},
    {"host", F_OPTIONAL, AT(env.host), false},
    {"port", F_PORT, AT(env.port), false},
    {"sender", F_STRING, AT(env.sender), true},
    {"rcpt", F_RCPT, AT(env), true},
    {"priority", F_PRIORITY, AT(env.priority), false},
    {"dsn-notify", F_OPTIONAL, AT(env.dsn.notify), false},
    {"dsn-return", F_OPTIONAL, AT(env.dsn.ret), false},
    {"dsn-envid", F_OPTIONAL, AT(env.dsn.envid), false},
    {"created", F_TIME, AT(created), true},
    {"attempts", F_COUNT, AT(attempts), false},
    {"last-attempt", F_TIME, AT(last_attempt), false},
    {"next-attempt", F_TIME, AT(next_attempt), false},
    {"last-error", F_OPTIONAL, AT(last_error), false},
    {"size", F_SIZE, AT(size), true},
    {"8bit", F_BOOL, AT(has_8bit), false},
    {"nul", F_BOOL, AT(has_nul), false},
};

#define NFIELDS (sizeof fields / sizeof fields[0])

#define MEMBER(e, f, type) ((type *)(void *)((char *)(e) + (f)->off))
#define CMEMBER(e, f, type)                                                    \
	((const type *)(const void *)((const char *)(e) + (f)->off))

/* --- the writer ---------------------------------------------------------- */

/* The text being built; a failed append empties a struct buf, so the
 * first failure is remembered and the rest are skipped. */
struct text {
	struct buf b;
	bool full;
};

static void
text_add(struct text *t, const char *s, size_t n)
{
	if (!t->full && buf_append(&t->b, s, n) < 0)
		t->full = true;
}

static void
text_value(struct text *t, const char *key, const char *v)
{
	const char *run = v;

	text_add(t, key, strlen(key));
	text_add(t, ": ", 2);
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[3] = {'%'};

		if (c != '%' && c >= 0x20 && c != 0x7f)
			continue;
		hex_pair(esc + 1, c);
		text_add(t, run, (size_t)(p - run));
		text_add(t, esc, sizeof esc);
		run = p + 1;
	}
	text_add(t, run, strlen(run));
	text_add(t, "\n", 1);
}

static void
text_number(struct text *t, const char *key, long long v)
{
	char s[32];

	snprintf(s, sizeof s, "%lld", v);
	text_value(t, key, s);
}

static long long
time_value(time_t t)
{
	return t > 0 ? (long long)t : 0;
}

static void
text_field(struct text *t, const struct field *f,
           const struct queue_envelope *e)
{
	const char *s;
	const struct envelope *env;

	switch (f->type) {
	case F_VERSION:
		text_number(t, f->key, ENVELOPE_VERSION);
		break;
	case F_ID:
		text_value(t, f->key, e->id);
		break;
	case F_STRING:
		s = *CMEMBER(e, f, char *);
		text_value(t, f->key, s ? s : "");
		break;
	case F_OPTIONAL:
		s = *CMEMBER(e, f, char *);
		if (s)
			text_value(t, f->key, s);
		break;
	case F_RCPT:
		env = CMEMBER(e, f, struct envelope);
		for (size_t i = 0; i < env->nrcpts; i++)
			text_value(t, f->key, env->rcpts[i].addr);
		break;
	case F_PORT:
	case F_PRIORITY:
		text_number(t, f->key, *CMEMBER(e, f, int));
		break;
	case F_TIME:
		text_number(t, f->key, time_value(*CMEMBER(e, f, time_t)));
		break;
	case F_COUNT:
		text_number(t, f->key, *CMEMBER(e, f, unsigned));
		break;
	case F_SIZE:
		/* uint64_t beyond LLONG_MAX cannot be a file size. */
		text_number(t, f->key, (long long)*CMEMBER(e, f, uint64_t));
		break;
	case F_BOOL:
		text_number(t, f->key, *CMEMBER(e, f, bool) ? 1 : 0);
		break;
	}
}

/* The envelope file's text in t->b; -1 when it would pass the ceiling. */
static int
envelope_text(const struct queue_envelope *e, struct text *t)
{
	buf_init(&t->b, QUEUE_ENVELOPE_MAX);
	t->full = false;
	for (size_t i = 0; i < NFIELDS; i++)
		text_field(t, &fields[i], e);
	if (t->full) {
		buf_clear(&t->b);
		return -1;
	}
	return 0;
}

/* --- the reader ---------------------------------------------------------- */

/* Undo the %XX escapes of s[0..len) in place; the result is
 * NUL-terminated.  -1 for a bad escape, %00, or a raw control byte (which
 * the writer never produces). */
static int
unescape(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;

		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c != '%') {
			s[o++] = s[i++];
			continue;
		}
		if (len - i < 3)
			return -1;
		hi = hex_digit(s[i + 1]);
		lo = hex_digit(s[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		s[o++] = (char)(hi << 4 | lo);
		i += 3;
	}
	s[o] = '\0';
	return 0;
}

/* A decimal number without sign, at most max. */
static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -1;
		d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static uint64_t
time_max(void)
{
	return sizeof(time_t) >= 8 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
}

/* Store the (unescaped) value v of field f in e; -1 when it is bad. */
static int
set_field(struct queue_envelope *e, const struct field *f, const char *v)
{
	uint64_t u;
	bool neg;

	switch (f->type) {
	case F_VERSION:
		if (parse_u64(v, UINT64_MAX, &u) < 0 || u != ENVELOPE_VERSION)
			return -1;
		return 0;
	case F_ID:
		if (!queue_id_valid(v))
			return -1;
		str_copy(e->id, sizeof e->id, v);
		return 0;
	case F_STRING:
	case F_OPTIONAL:
		*MEMBER(e, f, char *) = xstrdup(v);
		return 0;
	case F_RCPT:
		envelope_add_rcpt(MEMBER(e, f, struct envelope), v);
		return 0;
	case F_PORT:
		if (parse_u64(v, 65535, &u) < 0)
			return -1;
		*MEMBER(e, f, int) = (int)u;
		return 0;
	case F_PRIORITY:
		neg = *v == '-';
		if (parse_u64(v + neg, QUEUE_PRIORITY_MAX, &u) < 0 ||
		    (neg && -(int)u < QUEUE_PRIORITY_MIN))
			return -1;
		*MEMBER(e, f, int) = neg ? -(int)u : (int)u;
		return 0;
	case F_TIME:
		if (parse_u64(v, time_max(), &u) < 0)
			return -1;
		*MEMBER(e, f, time_t) = (time_t)u;
		return 0;
	case F_COUNT:
		if (parse_u64(v, UINT_MAX, &u) < 0)
			return -1;
		*MEMBER(e, f, unsigned) = (unsigned)u;
		return 0;
	case F_SIZE:
		if (parse_u64(v, (uint64_t)LLONG_MAX, &u) < 0)
			return -1;
		*MEMBER(e, f, uint64_t) = u;
		return 0;
	case F_BOOL:
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return -1;
		*MEMBER(e, f, bool) = *v == '1';
		return 0;
	}
	return -1;
}

static const struct field *
find_field(const char *key, size_t len, size_t *index)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (strlen(fields[i].key) == len &&
		    memcmp(fields[i].key, key, len) == 0) {
			*index = i;
			return &fields[i];
		}
	}
	return NULL;
}

static bool
key_valid(const char *k, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

/* One line (without its LF, modified in place).  seen marks the fields
 * met so far (by index in fields[]). */
static int
parse_line(char *line, size_t len, bool first, bool seen[NFIELDS],
           struct queue_envelope *e, const char **why)
{
	char *colon = memchr(line, ':', len);
	const struct field *f;
	size_t klen, i;
	char *v;

	if (!colon || !key_valid(line, (size_t)(colon - line))) {
		*why = "a line is not \"key: value\"";
		return -1;
	}
	klen = (size_t)(colon - line);
	v = colon + 1;
	if (v < line + len && *v == ' ')
		v++;
	if (unescape(v, len - (size_t)(v - line)) < 0) {
		*why = "a value has a bad escape or a control character";
		return -1;
	}
	f = find_field(line, klen, &i);
	if (first != (f && f->type == F_VERSION)) {
		*why = "the first line is not the version";
		return -1;
	}
	if (!f)
		return 0; /* a key from a later version: ignored */
	if (seen[i] && f->type != F_RCPT) {
		*why = "a key is repeated";
		return -1;
	}
	seen[i] = true;
	if (set_field(e, f, v) < 0) {
		*why = f->type == F_VERSION ? "unsupported version"
		                            : "a value is out of range";
		return -1;
	}
	return 0;
}

int
queuefile_parse_in_place(char *s, size_t len, const char *id,
                         struct queue_envelope *e, struct error *err)
{
	bool seen[NFIELDS] = {false};
	const char *why = NULL;
	size_t i = 0;

	while (i < len) {
		char *nl = memchr(s + i, '\n', len - i);

		if (!nl) {
			why = "the last line is cut short";
			break;
		}
		if (parse_line(s + i, (size_t)(nl - (s + i)), i == 0, seen, e,
		               &why) < 0)
			break;
		i = (size_t)(nl - s) + 1;
	}
	for (size_t k = 0; !why && k < NFIELDS; k++) {
		if (fields[k].mandatory && !seen[k])
			return error_set(err, ERROR_DATA,
			                 "queue entry %s: bad envelope: no "
			                 "\"%s\" line",
			                 id, fields[k].key);
	}
	for (size_t k = 0; !why && k < e->env.nrcpts; k++) {
		if (e->env.rcpts[k].addr[0] == '\0')
			why = "a recipient is empty";
	}
	if (!why && strcmp(e->id, id) != 0)
		why = "its id is not the name of its directory";
	/* They go on the MAIL and RCPT lines: a space would add a
	 * parameter of the writer's choosing (the spool helper takes a
	 * caller's envelope text). */
	if (!why && envelope_dsn_invalid(&e->env))
		why = "a DSN value is not one RFC 3461 allows";
	if (why)
		return error_set(err, ERROR_DATA,
		                 "queue entry %s: bad envelope: %s", id, why);
	if (!e->env.account)
		e->env.account = xstrdup("");
	return 0;
}

int
queuefile_format(const struct queue_envelope *e, struct buf *out,
                 struct error *err)
{
	struct text t;

	if (envelope_text(e, &t) < 0)
		return error_set(err, ERROR_DATA,
		                 "the envelope would pass %d bytes",
		                 QUEUE_ENVELOPE_MAX);
	*out = t.b;
	return 0;
}

int
queuefile_parse(const char *text, size_t len, const char *id,
                struct queue_envelope *e, struct error *err)
{
	char *s = xmalloc(len + 1);
	int rc;

	if (len)
		memcpy(s, text, len);
	s[len] = '\0';
	rc = queuefile_parse_in_place(s, len, id, e, err);
	free(s);
	return rc;
}
