/*
 * queue_test.c - the spool (queue.c): round trips byte for byte, order,
 * locking between two opens, atomic update and removal, failures that
 * must leave nothing behind, unsafe directories, tmp/ cleaning, the
 * envelope format's forward compatibility, and the machine's spool (its
 * checks, entries' owners, what root and a user see, dead letters).
 *
 * Everything happens under a fresh mkdtemp(3) directory in /tmp, which is
 * removed at the end.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "memstream.h"
#include "unit.h"

static char base[] = "/tmp/queue_test.XXXXXX";

/* base/(fmt...), in one of a few rotating buffers. */
static const char *at(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static const char *
at(const char *fmt, ...)
{
	static char bufs[4][PATH_MAX];
	static int next;
	char *p = bufs[next++ % 4];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(p, PATH_MAX, "%s/", base);
	va_start(ap, fmt);
	vsnprintf(p + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	return p;
}

/* --- messages ------------------------------------------------------------ */

/* A message of n bytes holding every byte value (NUL and 8-bit too). */
static char *
big_message(size_t n)
{
	char *p = malloc(n);

	for (size_t i = 0; i < n; i++)
		p[i] = (char)((i * 7 + i / 251) & 0xff);
	return p;
}

/* Read a stream to its end through a buffer of `step` bytes. */
static char *
read_all(struct message_stream *m, size_t step, size_t *len)
{
	size_t cap = 1024, n = 0;
	char *p = malloc(cap);
	struct error err;

	for (;;) {
		ssize_t r;

		if (cap - n < step) {
			cap = cap * 2 + step;
			p = realloc(p, cap);
		}
		r = m->read(m->ctx, p + n, step, &err);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return p;
}

static void
env_basic(struct queue_envelope *e, const char *sender, int priority,
          time_t created)
{
	queue_envelope_init(e);
	e->env.account = strdup("");
	e->env.sender = strdup(sender);
	envelope_add_rcpt(&e->env, "rcpt@example.org");
	e->env.priority = priority;
	e->created = created;
}

static const char short_msg[] = "Subject: hi\r\n\r\nhello\r\n";

/* Add short_msg for `sender`; 0 or -1. */
static int
add_simple(struct queue *q, const char *sender, int priority, time_t created,
           char id[QUEUE_ID_SIZE])
{
	struct queue_envelope e;
	struct memstream mem;
	struct message_stream s =
	    memstream_of(&mem, short_msg, sizeof short_msg - 1, 0);
	struct error err;
	int rc;

	env_basic(&e, sender, priority, created);
	rc = queue_add(q, &e, &s, id, &err);
	queue_envelope_clear(&e);
	return rc;
}

/* Names in a directory, "." and ".." aside (-1 when it cannot be read). */
static int
count_names(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	}
	closedir(d);
	return n;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	p = malloc((size_t)n + 1);
	*len = fread(p, 1, (size_t)n, f);
	p[*len] = '\0';
	fclose(f);
	return p;
}

/* How many entries queue_damaged reports, each "ID: why" naming `id`. */
static size_t
damaged_count(struct queue *q, const char *id)
{
	struct strlist d;
	struct error err;
	size_t n;

	strlist_init(&d);
	CHECK_INT(queue_damaged(q, &d, &err), 0);
	n = d.n;
	for (size_t i = 0; i < d.n; i++)
		CHECK(strncmp(d.v[i], id, strlen(id)) == 0 &&
		      d.v[i][strlen(id)] == ':');
	strlist_clear(&d);
	return n;
}

static void
spew(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return;
	fwrite(data, 1, len, f);
	fclose(f);
}

static size_t
listed(struct queue *q)
{
	struct queue_envelope *v;
	struct error err;
	size_t n = 0;

	if (queue_list(q, &v, &n, &err) < 0)
		return (size_t)-1;
	queue_list_free(v, n);
	return n;
}

static int
mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

static void
set_age(const char *path, time_t seconds)
{
	struct timespec t[2];

	t[0].tv_sec = t[1].tv_sec = time(NULL) - seconds;
	t[0].tv_nsec = t[1].tv_nsec = 0;
	utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

/* --- the tests ------------------------------------------------------------ */

static void
test_default_dir(void)
{
	char *old_xdg = getenv("XDG_STATE_HOME");
	char *old_home = getenv("HOME");
	struct error err;
	char *d;

	old_xdg = old_xdg ? strdup(old_xdg) : NULL;
	old_home = old_home ? strdup(old_home) : NULL;

	setenv("XDG_STATE_HOME", "/x/state", 1);
	setenv("HOME", "/home/u", 1);
	d = queue_default_dir(&err);
	CHECK_STR(d, "/x/state/mailpost/queue");
	free(d);

	setenv("XDG_STATE_HOME", "relative/state", 1);
	d = queue_default_dir(&err);
	CHECK_STR(d, "/home/u/.local/state/mailpost/queue");
	free(d);

	unsetenv("XDG_STATE_HOME");
	d = queue_default_dir(&err);
	CHECK_STR(d, "/home/u/.local/state/mailpost/queue");
	free(d);

	/* No HOME: the password database's home, absolute. */
	unsetenv("HOME");
	d = queue_default_dir(&err);
	CHECK(d == NULL || (d[0] == '/' &&
	                    strstr(d, "/.local/state/mailpost/queue") != NULL));
	free(d);

	if (old_xdg)
		setenv("XDG_STATE_HOME", old_xdg, 1);
	if (old_home)
		setenv("HOME", old_home, 1);
	free(old_xdg);
	free(old_home);
}

static void
test_roundtrip(void)
{
	static const char msg[] = "From: a\r\n\r\ncaf\xc3\xa9\r\n";
	static const char *const rcpts[] = {
	    "\"a b\"@example.org",
	    "-oQ/tmp/x@example.org",
	    "\xc3\xbcn\xc3\xaf"
	    "c\xc3\xb8"
	    "de@\xc3\xa9xample.org",
	    "100%@example.org",
	    "%25 stays %25@example.org",
	    "ctl\x01\x1f\x7f\r\nRCPT TO:<evil@example.org>",
	    " leading and trailing spaces ",
	};
	struct queue_envelope e, *v;
	struct message_stream s;
	struct queue *q;
	struct error err;
	struct memstream mem;
	char id[QUEUE_ID_SIZE] = "";
	char *text;
	size_t n, len;

	CHECK_INT(queue_open(&q, at("%s", "rt/q"), &err), 0);
	if (!q)
		return;
	queue_envelope_init(&e);
	e.env.account = strdup("work account");
	e.env.host = strdup("smtp.example.org");
	e.env.port = 587;
	e.env.sender = strdup("-f \"x y\"@example.org");
	for (size_t i = 0; i < sizeof rcpts / sizeof rcpts[0]; i++)
		envelope_add_rcpt(&e.env, rcpts[i]);
	e.env.priority = -9;
	e.env.dsn.notify = strdup("SUCCESS,FAILURE");
	e.env.dsn.ret = strdup("HDRS");
	e.env.dsn.envid = strdup("env id 100%");
	e.created = 1700000000;
	e.attempts = 2;
	e.last_attempt = 1700000100;
	e.next_attempt = 1700000200;
	e.last_error = strdup("450 4.2.0 busy\r\n\x1b[31m\tred \xc3\xa9");
	s = memstream_of(&mem, msg, sizeof msg - 1, 0);
	CHECK_INT(queue_add(q, &e, &s, id, &err), 0);
	CHECK(queue_id_valid(id));
	CHECK(strncmp(id, "6553f100", 8) == 0); /* 1700000000 in hex */
	CHECK_INT(count_names(at("%s", "rt/q/tmp")), 0);
	CHECK_INT(count_names(at("%s", "rt/q")), 2); /* tmp and the entry */

	CHECK_INT(queue_list(q, &v, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(v[0].id, id);
		CHECK_STR(v[0].env.account, "work account");
		CHECK_STR(v[0].env.host, "smtp.example.org");
		CHECK_INT(v[0].env.port, 587);
		CHECK_STR(v[0].env.sender, "-f \"x y\"@example.org");
		CHECK_INT(v[0].env.nrcpts, sizeof rcpts / sizeof rcpts[0]);
		for (size_t i = 0; i < v[0].env.nrcpts && i < e.env.nrcpts; i++)
			CHECK_STR(v[0].env.rcpts[i].addr, rcpts[i]);
		CHECK_INT(v[0].env.priority, -9);
		CHECK_STR(v[0].env.dsn.notify, "SUCCESS,FAILURE");
		CHECK_STR(v[0].env.dsn.ret, "HDRS");
		CHECK_STR(v[0].env.dsn.envid, "env id 100%");
		CHECK_INT(v[0].created, 1700000000);
		CHECK_INT(v[0].attempts, 2);
		CHECK_INT(v[0].last_attempt, 1700000100);
		CHECK_INT(v[0].next_attempt, 1700000200);
		/* Control characters censored, UTF-8 kept. */
		CHECK_STR(v[0].last_error,
		          "450 4.2.0 busy???[31m?red \xc3\xa9");
		CHECK_INT(v[0].size, sizeof msg - 1);
		CHECK(v[0].has_8bit);
	}
	queue_list_free(v, n);

	/* The file as documented. */
	text = slurp(at("rt/q/%s/envelope", id), &len);
	CHECK(text && strncmp(text, "version: 1\nid: ", 15) == 0);
	CHECK(text && strstr(text, "\nrcpt: 100%25@example.org\n"));
	CHECK(text && strstr(text, "\nrcpt: ctl%01%1F%7F%0D%0ARCPT TO:<evil"));
	CHECK(text && strstr(text, "\naccount: work account\n"));
	CHECK(text && strstr(text, "\n8bit: 1\n"));
	free(text);
	CHECK_INT(mode_of(at("%s", "rt/q")), 0700);
	CHECK_INT(mode_of(at("%s", "rt/q/tmp")), 0700);
	CHECK_INT(mode_of(at("rt/q/%s", id)), 0700);
	CHECK_INT(mode_of(at("rt/q/%s/message", id)), 0600);
	CHECK_INT(mode_of(at("rt/q/%s/envelope", id)), 0600);
	text = slurp(at("rt/q/%s/message", id), &len);
	CHECK_MEM(text, len, msg, sizeof msg - 1);
	free(text);
	queue_envelope_clear(&e);

	/* Optional fields stay absent; an empty sender is <>. */
	queue_envelope_init(&e);
	e.env.sender = strdup("");
	envelope_add_rcpt(&e.env, "r@example.org");
	s = memstream_of(&mem, short_msg, sizeof short_msg - 1, 0);
	CHECK_INT(queue_add(q, &e, &s, id, &err), 0);
	queue_envelope_clear(&e);
	CHECK_INT(queue_list(q, &v, &n, &err), 0);
	CHECK_INT(n, 2);
	if (n == 2) { /* priority 0 before -9 */
		CHECK_STR(v[0].id, id);
		CHECK_STR(v[0].env.account, "");
		CHECK(v[0].env.host == NULL);
		CHECK_INT(v[0].env.port, 0);
		CHECK_STR(v[0].env.sender, "");
		CHECK(v[0].env.dsn.notify == NULL && v[0].env.dsn.ret == NULL &&
		      v[0].env.dsn.envid == NULL && v[0].last_error == NULL);
		CHECK(!v[0].has_8bit);
		CHECK(v[0].created >= time(NULL) - 5);
		CHECK_INT(v[0].attempts, 0);
	}
	queue_list_free(v, n);
	queue_close(q);
}

static void
test_add_refused(void)
{
	struct queue_envelope e;
	struct message_stream s;
	struct queue *q;
	struct error err;
	struct memstream mem;
	char id[QUEUE_ID_SIZE];

	CHECK_INT(queue_open(&q, at("%s", "refused"), &err), 0);
	if (!q)
		return;
	queue_envelope_init(&e);
	e.env.sender = strdup("s@example.org");
	s = memstream_of(&mem, short_msg, sizeof short_msg - 1, 0);
	CHECK_INT(queue_add(q, &e, &s, id, &err), -1);
	CHECK_INT(err.kind, ERROR_DATA);
	free(e.env.sender);
	e.env.sender = NULL;
	envelope_add_rcpt(&e.env, "r@example.org");
	CHECK_INT(queue_add(q, &e, &s, id, &err), -1);
	CHECK_INT(err.kind, ERROR_SOFTWARE);
	e.env.sender = strdup("s@example.org");
	e.env.priority = 10;
	CHECK_INT(queue_add(q, &e, &s, id, &err), -1);
	queue_envelope_clear(&e);
	CHECK_INT(listed(q), 0);
	CHECK_INT(count_names(at("%s", "refused/tmp")), 0);
	queue_close(q);
}

static void
test_order(void)
{
	static const struct {
		const char *sender;
		int priority;
		time_t created;
	} add[] = {
	    {"c", 0, 100}, {"b", 5, 300}, {"d", 0, 50},
	    {"e", -3, 10}, {"a", 5, 200}, {"f", -3, 10},
	};
	static const char *const want[] = {"a", "b", "d", "c"};
	char ids[6][QUEUE_ID_SIZE];
	struct queue_envelope *v;
	struct queue *q;
	struct error err;
	size_t n;

	CHECK_INT(queue_open(&q, at("%s", "order"), &err), 0);
	if (!q)
		return;
	for (size_t i = 0; i < 6; i++)
		CHECK_INT(add_simple(q, add[i].sender, add[i].priority,
		                     add[i].created, ids[i]),
		          0);
	CHECK_INT(queue_list(q, &v, &n, &err), 0);
	CHECK_INT(n, 6);
	for (size_t i = 0; i < 4 && i < n; i++)
		CHECK_STR(v[i].env.sender, want[i]);
	if (n == 6) { /* same priority and age: by id */
		CHECK(strcmp(v[4].id, v[5].id) < 0);
		CHECK(v[4].env.priority == -3 && v[5].env.priority == -3);
	}
	queue_list_free(v, n);
	queue_close(q);
}

static void
test_message_bytes(void)
{
	const size_t size = 300 * 1000 + 17;
	char *msg = big_message(size);
	struct queue_entry *ent = NULL;
	struct queue_envelope e;
	struct message_stream s, m;
	struct queue *q;
	struct error err;
	struct memstream mem;
	char id[QUEUE_ID_SIZE];
	char *got;
	size_t len;

	CHECK_INT(queue_open(&q, at("%s", "bytes"), &err), 0);
	if (!q) {
		free(msg);
		return;
	}
	env_basic(&e, "s@example.org", 0, 0);
	s = memstream_of(&mem, msg, size, 0);
	s.has_nul = true; /* kept in the entry, whatever the bytes */
	mem.chunk = 7001; /* reads smaller than the copy buffer */
	/* Half read already (a send that failed): stored whole all the
	 * same, since it is rewound first. */
	mem.pos = size / 2;
	CHECK_INT(queue_add(q, &e, &s, id, &err), 0);
	queue_envelope_clear(&e);

	CHECK_INT(queue_claim(q, id, &ent, &err), QUEUE_CLAIMED);
	if (ent) {
		m = queue_entry_message(ent);
		CHECK_INT(m.size, size);
		CHECK(m.has_8bit);
		CHECK(m.has_nul); /* as queue_add was told */
		got = read_all(&m, 4096, &len);
		CHECK_MEM(got, len, msg, size);
		free(got);
		CHECK_INT(m.rewind(m.ctx, &err), 0);
		got = read_all(&m, 65536, &len);
		CHECK_MEM(got, len, msg, size);
		free(got);
		/* Partly read, rewound, read again. */
		CHECK_INT(m.rewind(m.ctx, &err), 0);
		{
			char b[10];

			CHECK_INT(m.read(m.ctx, b, sizeof b, &err), 10);
			CHECK_MEM(b, 10, msg, 10);
		}
		CHECK_INT(m.rewind(m.ctx, &err), 0);
		got = read_all(&m, 1000, &len);
		CHECK_MEM(got, len, msg, size);
		free(got);
		queue_entry_release(ent);
	}
	got = slurp(at("bytes/%s/message", id), &len);
	CHECK_MEM(got, len, msg, size);
	free(got);
	free(msg);
	queue_close(q);
}

static void
test_claim(void)
{
	struct queue_entry *a = NULL, *b = NULL;
	struct queue *q1, *q2;
	struct error err;
	char id[QUEUE_ID_SIZE];

	CHECK_INT(queue_open(&q1, at("%s", "claim"), &err), 0);
	CHECK_INT(queue_open(&q2, at("%s", "claim"), &err), 0);
	if (!q1 || !q2)
		return;
	CHECK_INT(add_simple(q1, "s@example.org", 0, 0, id), 0);

	CHECK_INT(queue_claim(q1, id, &a, &err), QUEUE_CLAIMED);
	CHECK(a != NULL);
	CHECK_INT(queue_claim(q2, id, &b, &err), QUEUE_BUSY);
	CHECK(b == NULL);
	/* Even through the same queue: each claim is its own open. */
	CHECK_INT(queue_claim(q1, id, &b, &err), QUEUE_BUSY);
	if (a)
		CHECK_STR(queue_entry_envelope(a)->id, id);
	queue_entry_release(a);
	a = NULL;

	CHECK_INT(queue_claim(q2, id, &b, &err), QUEUE_CLAIMED);
	CHECK_INT(queue_claim(q1, id, &a, &err), QUEUE_BUSY);
	if (b) {
		CHECK_INT(queue_entry_remove(b, &err), 0);
		/* Gone from the listing while still held. */
		CHECK_INT(listed(q1), 0);
		CHECK_INT(queue_claim(q1, id, &a, &err), QUEUE_GONE);
		CHECK_INT(queue_entry_failed(b, "x", 0, 0, &err), -1);
		queue_entry_release(b);
	}
	CHECK_INT(queue_claim(q1, id, &a, &err), QUEUE_GONE);
	CHECK(a == NULL);
	CHECK_INT(listed(q2), 0);
	CHECK_INT(count_names(at("%s", "claim/tmp")), 0);
	CHECK_INT(count_names(at("%s", "claim")), 1);

	/* Ids of the right form that are not there, and wrong forms. */
	CHECK_INT(queue_claim(q1, "0123456789abcdef", &a, &err), QUEUE_GONE);
	CHECK_INT(queue_claim(q1, "../claim", &a, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	CHECK_INT(queue_claim(q1, "tmp", &a, &err), -1);

	/* A symbolic link planted in the queue under an id is never
	 * followed: a damaged entry, whose removal takes the link only. */
	CHECK_INT(add_simple(q1, "s@example.org", 0, 0, id), 0);
	CHECK_INT(symlink(id, at("%s", "claim/0123456789abcdef")), 0);
	CHECK_INT(listed(q1), 1);
	CHECK_INT(damaged_count(q1, "0123456789abcdef"), 1);
	CHECK_INT(queue_claim(q1, "0123456789abcdef", &a, &err), QUEUE_DAMAGED);
	if (a) {
		CHECK_STR(queue_entry_damage(a),
		          "it is a symbolic link, not a directory");
		CHECK(queue_entry_envelope(a) == NULL);
		CHECK_INT(queue_entry_remove(a, &err), 0);
		queue_entry_release(a);
	}
	CHECK_INT(damaged_count(q1, "0123456789abcdef"), 0);
	CHECK_INT(listed(q1), 1);
	CHECK_INT(count_names(at("%s", "claim/tmp")), 0);
	queue_close(q1);
	queue_close(q2);
}

static void
test_failed(void)
{
	struct queue_entry *a = NULL, *b = NULL;
	const struct queue_envelope *env;
	struct queue_envelope *v;
	struct queue *q1, *q2;
	struct error err;
	char id[QUEUE_ID_SIZE];
	time_t t0 = time(NULL);
	size_t n;

	CHECK_INT(queue_open(&q1, at("%s", "failed"), &err), 0);
	CHECK_INT(queue_open(&q2, at("%s", "failed"), &err), 0);
	if (!q1 || !q2)
		return;
	CHECK_INT(add_simple(q1, "s@example.org", 2, 0, id), 0);
	CHECK_INT(queue_claim(q1, id, &a, &err), QUEUE_CLAIMED);
	if (!a)
		return;
	CHECK_INT(queue_entry_failed(a, "421 4.3.2 shutting\x07 down\n", t0 + 5,
	                             t0 + 600, &err),
	          0);
	env = queue_entry_envelope(a);
	CHECK_INT(env->attempts, 1);
	CHECK_INT(env->next_attempt, t0 + 600);
	CHECK_INT(env->last_attempt, t0 + 5); /* the caller's clock */
	CHECK_STR(env->last_error, "421 4.3.2 shutting? down?");
	CHECK_INT(env->env.priority, 2);
	CHECK_STR(env->env.sender, "s@example.org");

	/* The lock survives the new envelope. */
	CHECK_INT(queue_claim(q2, id, &b, &err), QUEUE_BUSY);
	CHECK(access(at("failed/%s/envelope.new", id), F_OK) < 0);

	/* Others see the new envelope. */
	CHECK_INT(queue_list(q2, &v, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_INT(v[0].attempts, 1);
		CHECK_INT(v[0].next_attempt, t0 + 600);
		CHECK_STR(v[0].last_error, "421 4.3.2 shutting? down?");
		CHECK_STR(v[0].env.rcpts[0].addr, "rcpt@example.org");
	}
	queue_list_free(v, n);

	CHECK_INT(queue_entry_failed(a, NULL, t0 + 10, t0 + 1200, &err), 0);
	queue_entry_release(a);
	CHECK_INT(queue_claim(q2, id, &b, &err), QUEUE_CLAIMED);
	if (b) {
		env = queue_entry_envelope(b);
		CHECK_INT(env->attempts, 2);
		CHECK_INT(env->next_attempt, t0 + 1200);
		CHECK_INT(env->last_attempt, t0 + 10);
		CHECK(env->last_error == NULL);
		queue_entry_release(b);
	}
	queue_close(q1);
	queue_close(q2);
}

static void
test_read_failure(void)
{
	const size_t size = 200 * 1000;
	char *msg = big_message(size);
	struct queue_envelope e;
	struct message_stream s;
	struct queue *q;
	struct error err;
	struct memstream mem;
	char id[QUEUE_ID_SIZE] = "";

	CHECK_INT(queue_open(&q, at("%s", "readfail"), &err), 0);
	if (!q) {
		free(msg);
		return;
	}
	env_basic(&e, "s@example.org", 0, 0);

	s = memstream_of(&mem, msg, size, 0);
	mem.chunk = 4096;
	mem.fail_at = 100 * 1000;
	CHECK_INT(queue_add(q, &e, &s, id, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK_STR(err.msg, "cannot queue the message: simulated read error");
	CHECK_STR(id, "");
	CHECK_INT(listed(q), 0);
	CHECK_INT(count_names(at("%s", "readfail/tmp")), 0);
	CHECK_INT(count_names(at("%s", "readfail")), 1);

	/* A stream shorter than its announced size. */
	s = memstream_of(&mem, msg, size, 0);
	s.size = size + 1;
	CHECK_INT(queue_add(q, &e, &s, id, &err), -1);
	CHECK_INT(err.kind, ERROR_IOERR);
	CHECK_INT(listed(q), 0);
	CHECK_INT(count_names(at("%s", "readfail/tmp")), 0);

	queue_envelope_clear(&e);
	free(msg);
	queue_close(q);
}

/* In a child, so that the limit does not outlive the test. */
static void
test_file_size_limit(void)
{
	struct queue *q;
	struct error err;
	pid_t pid;
	int status = -1;

	CHECK_INT(queue_open(&q, at("%s", "fsize"), &err), 0);
	if (!q)
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		const size_t size = 100 * 1000;
		struct rlimit rl = {8192, 8192};
		char *msg = big_message(size);
		struct queue_envelope e;
		struct message_stream s;
		struct memstream mem;
		char id[QUEUE_ID_SIZE] = "";
		int bad = 0;

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		env_basic(&e, "s@example.org", 0, 0);
		s = memstream_of(&mem, msg, size, 0);
		if (queue_add(q, &e, &s, id, &err) != -1)
			bad |= 1;
		if (err.kind != ERROR_IOERR)
			bad |= 2;
		if (!strstr(err.msg, "File too large"))
			bad |= 4;
		if (listed(q) != 0 || id[0])
			bad |= 8;
		if (count_names(at("%s", "fsize/tmp")) != 0)
			bad |= 16;
		_exit(bad);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	CHECK_INT(listed(q), 0);
	queue_close(q);
}

static void
test_unsafe_dirs(void)
{
	struct queue *q = NULL;
	struct error err;

	/* A symbolic link to a good directory. */
	CHECK_INT(mkdir(at("%s", "real"), 0700), 0);
	CHECK_INT(symlink("real", at("%s", "link")), 0);
	CHECK_INT(queue_open(&q, at("%s", "link"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "symbolic link") != NULL);
	CHECK(q == NULL);
	CHECK_INT(queue_open(&q, at("%s", "link/"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_INT(queue_open(&q, at("%s", "link//"), &err), -1);
	/* Through a link higher up is fine (only the queue itself counts). */
	CHECK_INT(queue_open(&q, at("%s", "link/sub"), &err), 0);
	queue_close(q);

	/* Writable by others. */
	CHECK_INT(mkdir(at("%s", "open"), 0700), 0);
	CHECK_INT(chmod(at("%s", "open"), 0777), 0);
	CHECK_INT(queue_open(&q, at("%s", "open"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "chmod 700") != NULL);
	CHECK_INT(chmod(at("%s", "open"), 0720), 0);
	CHECK_INT(queue_open(&q, at("%s", "open"), &err), -1);
	CHECK_INT(chmod(at("%s", "open"), 0750), 0);
	CHECK_INT(queue_open(&q, at("%s", "open"), &err), 0);
	queue_close(q);

	/* Owned by someone else (only root can arrange that here). */
	if (geteuid() == 0) {
		CHECK_INT(mkdir(at("%s", "theirs"), 0700), 0);
		CHECK_INT(chown(at("%s", "theirs"), 1, 1), 0);
		CHECK_INT(queue_open(&q, at("%s", "theirs"), &err), -1);
		CHECK_INT(err.kind, ERROR_CONFIG);
		CHECK(strstr(err.msg, "belongs to uid 1,") != NULL);
	}

	/* Not a directory. */
	spew(at("%s", "file"), "x", 1);
	CHECK_INT(queue_open(&q, at("%s", "file"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_INT(queue_open(&q, at("%s", "file/sub"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);

	/* tmp/ as a symbolic link. */
	CHECK_INT(mkdir(at("%s", "badtmp"), 0700), 0);
	CHECK_INT(symlink("/tmp", at("%s", "badtmp/tmp")), 0);
	CHECK_INT(queue_open(&q, at("%s", "badtmp"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "(it must be a directory)") != NULL);

	/* mkdir -p: only the missing components, 0700, even with a umask
	 * that would take the owner's rights away. */
	CHECK_INT(mkdir(at("%s", "parent"), 0755), 0);
	CHECK_INT(chmod(at("%s", "parent"), 0755), 0);
	{
		mode_t old = umask(0277);

		CHECK_INT(queue_open(&q, at("%s", "parent/a/b/queue"), &err),
		          0);
		umask(old);
	}
	queue_close(q);
	CHECK_INT(mode_of(at("%s", "parent")), 0755);
	CHECK_INT(mode_of(at("%s", "parent/a")), 0700);
	CHECK_INT(mode_of(at("%s", "parent/a/b")), 0700);
	CHECK_INT(mode_of(at("%s", "parent/a/b/queue")), 0700);
	CHECK_INT(mode_of(at("%s", "parent/a/b/queue/tmp")), 0700);
	CHECK_INT(queue_open(&q, at("%s", "parent/a/b/queue/"), &err), 0);
	if (q)
		CHECK_STR(queue_dir(q), at("%s", "parent/a/b/queue"));
	queue_close(q);
	queue_close(NULL);
}

/* Out of descriptors (a caller's tiny ulimit -n): the error names the
 * limit, and never says that tmp/ must be a directory. */
static void
test_open_out_of_descriptors(void)
{
	struct rlimit old, low;
	struct queue *q = NULL;
	struct error err;
	int first, hit = 0;

	CHECK_INT(queue_open(&q, at("%s", "fdq"), &err), 0);
	queue_close(q);
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
	first = dup(0);
	CHECK(first >= 0);
	close(first);
	for (int extra = 1; extra <= 4; extra++) {
		low = old;
		low.rlim_cur = (rlim_t)(first + extra);
		CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
		error_clear(&err);
		q = NULL;
		if (queue_open(&q, at("%s", "fdq"), &err) < 0 &&
		    strstr(err.msg, "/tmp")) {
			hit++;
			CHECK(strstr(err.msg, "Too many open files") != NULL);
			CHECK(strstr(err.msg, "must be a directory") == NULL);
		}
		queue_close(q);
		CHECK_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
	}
	CHECK(hit > 0); /* some limit fell on tmp/'s open */
}

static void
test_stale_tmp(void)
{
	char keep_file[PATH_MAX];
	struct queue *q;
	struct error err;
	int locked;

	snprintf(keep_file, sizeof keep_file, "%s", at("%s", "outside"));
	CHECK_INT(queue_open(&q, at("%s", "stale"), &err), 0);
	queue_close(q);

	/* Old leftovers: an entry, a removed entry, a stray file. */
	mkdir(at("%s", "stale/tmp/0000000000000001"), 0700);
	spew(at("%s", "stale/tmp/0000000000000001/message"), "m", 1);
	spew(at("%s", "stale/tmp/0000000000000001/envelope"), "e", 1);
	set_age(at("%s", "stale/tmp/0000000000000001/message"), 7200);
	set_age(at("%s", "stale/tmp/0000000000000001/envelope"), 7200);
	set_age(at("%s", "stale/tmp/0000000000000001"), 7200);
	mkdir(at("%s", "stale/tmp/0000000000000002.removed-12345678"), 0700);
	set_age(at("%s", "stale/tmp/0000000000000002.removed-12345678"), 7200);
	spew(at("%s", "stale/tmp/stray"), "s", 1);
	set_age(at("%s", "stale/tmp/stray"), 7200);

	/* Old, but with a link inside: the link's target is never touched. */
	spew(keep_file, "keep", 4);
	mkdir(at("%s", "stale/tmp/0000000000000003"), 0700);
	symlink(keep_file, at("%s", "stale/tmp/0000000000000003/message"));
	spew(at("%s", "stale/tmp/0000000000000003/envelope"), "e", 1);
	set_age(at("%s", "stale/tmp/0000000000000003/envelope"), 7200);
	set_age(at("%s", "stale/tmp/0000000000000003/message"), 7200);
	set_age(at("%s", "stale/tmp/0000000000000003"), 7200);

	/* Fresh: a writer may be at work. */
	mkdir(at("%s", "stale/tmp/0000000000000004"), 0700);
	spew(at("%s", "stale/tmp/0000000000000004/message"), "m", 1);
	/* An old directory with a recent file. */
	mkdir(at("%s", "stale/tmp/0000000000000005"), 0700);
	spew(at("%s", "stale/tmp/0000000000000005/message"), "m", 1);
	set_age(at("%s", "stale/tmp/0000000000000005"), 7200);
	/* Old but locked: a live writer or remover, however slow. */
	mkdir(at("%s", "stale/tmp/0000000000000006"), 0700);
	spew(at("%s", "stale/tmp/0000000000000006/message"), "m", 1);
	locked = open(at("%s", "stale/tmp/0000000000000006/message"), O_RDONLY);
	CHECK(locked >= 0 && flock(locked, LOCK_EX) == 0);
	set_age(at("%s", "stale/tmp/0000000000000006/message"), 7200);
	set_age(at("%s", "stale/tmp/0000000000000006"), 7200);

	CHECK_INT(queue_open(&q, at("%s", "stale"), &err), 0);
	queue_close(q);
	CHECK(access(at("%s", "stale/tmp/0000000000000001"), F_OK) < 0);
	CHECK(access(at("%s", "stale/tmp/0000000000000002.removed-12345678"),
	             F_OK) < 0);
	CHECK(access(at("%s", "stale/tmp/stray"), F_OK) < 0);
	CHECK(access(keep_file, F_OK) == 0);
	CHECK(access(at("%s", "stale/tmp/0000000000000003/envelope"), F_OK) <
	      0);
	CHECK(access(at("%s", "stale/tmp/0000000000000004/message"), F_OK) ==
	      0);
	CHECK(access(at("%s", "stale/tmp/0000000000000005/message"), F_OK) ==
	      0);
	CHECK(access(at("%s", "stale/tmp/0000000000000006/message"), F_OK) ==
	      0);
	close(locked);
}

/* The queue's clock (queue_open_clock), set by test_clock. */
static time_t clock_now;

static time_t
test_clock_fn(void)
{
	return clock_now;
}

/* The times the queue takes itself come from its clock: a leftover in
 * tmp/ is stale an hour after its files were last written by that clock
 * (not a second before), and an entry given no creation time is created
 * at the clock's now. */
static void
test_clock(void)
{
	time_t t0 = time(NULL);
	struct queue_envelope *v;
	struct queue *q;
	struct error err;
	char id[QUEUE_ID_SIZE];
	size_t n;

	CHECK_INT(queue_open(&q, at("%s", "clock"), &err), 0);
	queue_close(q);
	mkdir(at("%s", "clock/tmp/0000000000000007"), 0700);
	spew(at("%s", "clock/tmp/0000000000000007/message"), "m", 1);
	clock_now = t0 + 3600 - 60;
	CHECK_INT(queue_open_clock(&q, at("%s", "clock"), test_clock_fn, &err),
	          0);
	queue_close(q);
	CHECK(access(at("%s", "clock/tmp/0000000000000007/message"), F_OK) ==
	      0);
	clock_now = t0 + 3600 + 60;
	CHECK_INT(queue_open_clock(&q, at("%s", "clock"), test_clock_fn, &err),
	          0);
	CHECK(access(at("%s", "clock/tmp/0000000000000007"), F_OK) < 0);
	if (!q)
		return;
	CHECK_INT(add_simple(q, "s@example.org", 0, 0, id), 0);
	CHECK_INT(queue_list(q, &v, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1)
		CHECK_INT(v[0].created, clock_now);
	queue_list_free(v, n);
	queue_close(q);
}

/* The envelope file, byte for byte as mailpost has always written it (the
 * format in queuefile.h): entries queued by an earlier version are
 * read by this one, and the other way round. */
static void
test_envelope_file_exact(void)
{
	static const char want_fmt[] = "version: 1\n"
	                               "id: %s\n"
	                               "account: work\n"
	                               "port: 0\n"
	                               "sender: s@example.org\n"
	                               "rcpt: a@example.org\n"
	                               "rcpt: b c@example.org\n"
	                               "priority: 2\n"
	                               "dsn-notify: NEVER\n"
	                               "dsn-envid: x%%25y\n"
	                               "created: 1700000000\n"
	                               "attempts: 0\n"
	                               "last-attempt: 0\n"
	                               "next-attempt: 0\n"
	                               "size: 5\n"
	                               "8bit: 0\n"
	                               "nul: 0\n";
	static const char old[] = "version: 1\n"
	                          "id: 6553f10000c0ffee\n"
	                          "account: \n"
	                          "host: smtp.example.org\n"
	                          "port: 2525\n"
	                          "sender: \n"
	                          "rcpt: a@example.org\n"
	                          "rcpt: b@example.org\n"
	                          "priority: -9\n"
	                          "dsn-notify: SUCCESS,FAILURE\n"
	                          "dsn-return: HDRS\n"
	                          "dsn-envid: id%0A2\n"
	                          "created: 1700000000\n"
	                          "attempts: 3\n"
	                          "last-attempt: 1700000100\n"
	                          "next-attempt: 1700000200\n"
	                          "last-error: 451 4.3.0 later\n"
	                          "size: 42\n"
	                          "8bit: 1\n";
	struct queue_envelope e;
	struct message_stream s;
	struct queue *q;
	struct error err;
	struct memstream mem;
	char id[QUEUE_ID_SIZE] = "", want[1024], *text;
	size_t len;

	CHECK_INT(queue_open(&q, at("%s", "exact/q"), &err), 0);
	if (!q)
		return;
	queue_envelope_init(&e);
	envelope_set_sender(&e.env, "s@example.org");
	envelope_add_rcpt(&e.env, "a@example.org");
	envelope_add_rcpt(&e.env, "b c@example.org");
	/* A recipient's state is not stored. */
	envelope_rcpt_set(&e.env, 1, ENVELOPE_REFUSED_TEMP, 450, "450 later");
	envelope_set_dsn(&e.env, "NEVER", NULL, "x%y");
	envelope_set_account(&e.env, "work", NULL, 0);
	e.env.priority = 2;
	e.created = 1700000000;
	s = memstream_of(&mem, "abc\r\n", 5, 0);
	CHECK_INT(queue_add(q, &e, &s, id, &err), 0);
	queue_envelope_clear(&e);
	snprintf(want, sizeof want, want_fmt, id);
	text = slurp(at("exact/q/%s/envelope", id), &len);
	CHECK_STR(text, want);
	free(text);
	queue_close(q);

	/* An entry written before the envelope was one struct. */
	queue_envelope_init(&e);
	CHECK_INT(
	    queuefile_parse(old, sizeof old - 1, "6553f10000c0ffee", &e, &err),
	    0);
	CHECK_STR(e.env.account, "");
	CHECK_STR(e.env.host, "smtp.example.org");
	CHECK_INT(e.env.port, 2525);
	CHECK_STR(e.env.sender, "");
	CHECK_INT(e.env.nrcpts, 2);
	if (e.env.nrcpts == 2) {
		CHECK_STR(e.env.rcpts[1].addr, "b@example.org");
		CHECK_INT(e.env.rcpts[1].state, ENVELOPE_PENDING);
	}
	CHECK_INT(e.env.priority, -9);
	CHECK_STR(e.env.dsn.notify, "SUCCESS,FAILURE");
	CHECK_STR(e.env.dsn.ret, "HDRS");
	CHECK_STR(e.env.dsn.envid, "id\n2");
	CHECK_INT(e.created, 1700000000);
	CHECK_INT(e.attempts, 3);
	CHECK_INT(e.last_attempt, 1700000100);
	CHECK_INT(e.next_attempt, 1700000200);
	CHECK_STR(e.last_error, "451 4.3.0 later");
	CHECK_INT(e.size, 42);
	CHECK(e.has_8bit);
	queue_envelope_clear(&e);
}

/* Edits of a good envelope file, and whether the entry is still read. */
static void
test_envelope_compat(void)
{
	static const struct {
		const char *from; /* replaced (first match); NULL: append */
		const char *to;
		bool ok;
	} cases[] = {
	    {NULL, "future-key: anything at all\n", true},
	    {NULL, "future-key:\n", true},
	    {NULL, "rcpt: second@example.org\n", true},
	    {NULL, "dsn-envid: a%41b%c3%a9\n", true},
	    {"priority: 0\n", "priority: -9\n", true},
	    {"account: \n", "account:\n", true},
	    {"version: 1\n", "version: 2\n", false},
	    {"version: 1\n", "version: 01x\n", false},
	    {"version: 1\n", "", false},
	    {"version: 1\n", "future-key: 1\nversion: 1\n", false},
	    {"\nid: ", "\nid-x: ", false},
	    {"\nsender: ", "\nsender-x: ", false},
	    {"\nrcpt: ", "\nrcpt-x: ", false},
	    {"\ncreated: ", "\ncreated-x: ", false},
	    {"\nsize: ", "\nsize-x: ", false},
	    {"priority: 0\n", "priority: 10\n", false},
	    {"priority: 0\n", "priority: -10\n", false},
	    {"8bit: 0\n", "8bit: 2\n", false},
	    {"\nid: ", "\nid: 0", false},
	    {NULL, "sender: again@example.org\n", false},
	    {NULL, "no colon here\n", false},
	    {NULL, "Bad-Key: x\n", false},
	    {NULL, "dsn-envid: %4\n", false},
	    {NULL, "dsn-envid: %00\n", false},
	    {NULL, "dsn-envid: %zz\n", false},
	    {NULL, "dsn-envid: raw\r\n", false},
	    {NULL, "dsn-envid: no newline", false},
	    {"port: 0\n", "port: 65536\n", false},
	    {"port: 0\n", "port: -1\n", false},
	    {"port: 0\n", "port: 65535\n", true},
	    {"attempts: 0\n", "attempts: 4294967295\n", true},
	    {"attempts: 0\n", "attempts: 4294967296\n", false},
	    {"size: ", "size: 99999999999999999999", false},
	    {"created: ", "created: -", false},
	    {NULL, "port: 25\n", false},
	};
	struct queue_entry *ent = NULL;
	struct queue *q;
	struct error err;
	char id[QUEUE_ID_SIZE];
	char *orig;
	size_t orig_len;

	CHECK_INT(queue_open(&q, at("%s", "compat"), &err), 0);
	if (!q)
		return;
	CHECK_INT(add_simple(q, "s@example.org", 0, 0, id), 0);
	orig = slurp(at("compat/%s/envelope", id), &orig_len);
	if (!orig)
		return;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t cap = orig_len + strlen(cases[i].to) + 1;
		char *text = malloc(cap);
		const char *hit = cases[i].from ? strstr(orig, cases[i].from)
		                                : orig + orig_len;
		size_t pre = (size_t)(hit ? hit - orig : 0);
		size_t cut = cases[i].from ? strlen(cases[i].from) : 0;
		int rc;

		CHECK(hit != NULL);
		if (!hit) {
			free(text);
			continue;
		}
		snprintf(text, cap, "%.*s%s%s", (int)pre, orig, cases[i].to,
		         orig + pre + cut);
		spew(at("compat/%s/envelope", id), text, strlen(text));
		free(text);

		CHECK_INT(listed(q), cases[i].ok ? 1 : 0);
		CHECK_INT(damaged_count(q, id), cases[i].ok ? 0 : 1);
		rc = queue_claim(q, id, &ent, &err);
		if (cases[i].ok) {
			CHECK_INT(rc, QUEUE_CLAIMED);
		} else {
			CHECK_INT(rc, QUEUE_DAMAGED);
			CHECK_INT(err.kind, ERROR_DATA);
			CHECK(strstr(err.msg, id) != NULL);
			CHECK(ent && queue_entry_damage(ent) &&
			      strstr(err.msg, queue_entry_damage(ent)));
		}
		if (rc == QUEUE_CLAIMED && i == 2)
			CHECK_INT(queue_entry_envelope(ent)->env.nrcpts, 2);
		if (rc == QUEUE_CLAIMED && i == 3)
			CHECK_STR(queue_entry_envelope(ent)->env.dsn.envid,
			          "aAb\xc3\xa9");
		queue_entry_release(ent);
		ent = NULL;
	}
	/* The message no longer matching the envelope's size. */
	spew(at("compat/%s/envelope", id), orig, orig_len);
	CHECK_INT(queue_claim(q, id, &ent, &err), QUEUE_CLAIMED);
	queue_entry_release(ent);
	spew(at("compat/%s/message", id), "short", 5);
	CHECK_INT(queue_claim(q, id, &ent, &err), QUEUE_DAMAGED);
	CHECK_INT(err.kind, ERROR_DATA);
	queue_entry_release(ent);
	free(orig);
	queue_close(q);
}

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP) /* a directory, never a link's target */
		chmod(path, 0700);
	return remove(path);
}

/* --- damaged entries ------------------------------------------------------
 *
 * Each way an entry can be unusable, applied to one entry of a queue that
 * also holds a healthy one: the damaged entry is not listed, queue_damaged
 * names it with the reason, queue_claim hands it out as QUEUE_DAMAGED (it
 * cannot be marked failed), and queue_entry_remove takes it away
 * completely; the healthy entry is untouched throughout. */

static const char *dmg_id; /* the entry being damaged */

static const char *
dmg(const char *file)
{
	return at("damaged/%s/%s", dmg_id, file);
}

/* Replace `from` in the envelope by `to`. */
static void
dmg_envelope(const char *from, const char *to)
{
	size_t len;
	char *text = slurp(dmg("envelope"), &len), *hit;
	char *out;

	if (!text)
		return;
	hit = strstr(text, from);
	CHECK(hit != NULL);
	if (hit) {
		out = malloc(len + strlen(to) + 1);
		snprintf(out, len + strlen(to) + 1, "%.*s%s%s",
		         (int)(hit - text), text, to, hit + strlen(from));
		spew(dmg("envelope"), out, strlen(out));
		free(out);
	}
	free(text);
}

static void
dmg_msg_symlink(void)
{
	/* To a file of the very same bytes: only the link is wrong. */
	spew(at("%s", "same-bytes"), short_msg, sizeof short_msg - 1);
	unlink(dmg("message"));
	CHECK_INT(symlink(at("%s", "same-bytes"), dmg("message")), 0);
}

static void
dmg_msg_missing(void)
{
	unlink(dmg("message"));
}

static void
dmg_msg_dir(void)
{
	unlink(dmg("message"));
	CHECK_INT(mkdir(dmg("message"), 0700), 0);
	spew(dmg("message/inside"), "x", 1);
	CHECK_INT(mkdir(dmg("message/sub"), 0700), 0);
}

static void
dmg_msg_fifo(void)
{
	unlink(dmg("message"));
	CHECK_INT(mkfifo(dmg("message"), 0600), 0);
}

static void
dmg_msg_short(void)
{
	CHECK_INT(truncate(dmg("message"), 5), 0);
}

static void
dmg_msg_long(void)
{
	FILE *f = fopen(dmg("message"), "ab");

	if (f) {
		fputs("more\r\n", f);
		fclose(f);
	}
}

static void
dmg_env_missing(void)
{
	unlink(dmg("envelope"));
}

static void
dmg_env_no_rcpt(void)
{
	dmg_envelope("rcpt: rcpt@example.org\n", "");
}

static void
dmg_env_empty_rcpt(void)
{
	dmg_envelope("rcpt: rcpt@example.org\n",
	             "rcpt: rcpt@example.org\nrcpt: \n");
}

static void
dmg_not_dir(void)
{
	nftw(at("damaged/%s", dmg_id), remove_one, 16, FTW_DEPTH | FTW_PHYS);
	spew(at("damaged/%s", dmg_id), "not an entry", 12);
}

static void
dmg_msg_owner(void)
{
	CHECK_INT(chown(dmg("message"), 65534, (gid_t)-1), 0);
}

static void
dmg_env_owner(void)
{
	CHECK_INT(chown(dmg("envelope"), 65534, (gid_t)-1), 0);
}

static void
dmg_dir_owner(void)
{
	CHECK_INT(chown(at("damaged/%s", dmg_id), 65534, (gid_t)-1), 0);
}

static void
dmg_msg_unreadable(void)
{
	CHECK_INT(chmod(dmg("message"), 0), 0);
}

struct damage_case {
	void (*apply)(void);
	const char *why; /* queue_entry_damage() starts with this */
	bool envelope;   /* queue_entry_envelope() is there */
	size_t message;  /* bytes queue_entry_message() gives */
	int root;        /* 1: as root only, -1: not as root, 0: always */
};

static void
damaged_case(struct queue *q, const struct damage_case *c, const char *good)
{
	struct queue_entry *e = NULL;
	struct message_stream m;
	struct error err;
	char id[QUEUE_ID_SIZE], why[256], *bytes;
	size_t n;

	CHECK_INT(add_simple(q, "d@example.org", 0, 0, id), 0);
	dmg_id = id;
	c->apply();
	CHECK_INT(listed(q), 1);
	CHECK_INT(damaged_count(q, id), 1);
	CHECK_INT(queue_claim(q, id, &e, &err), QUEUE_DAMAGED);
	if (!e)
		return;
	/* The reason's start (what follows names sizes, uids, errno). */
	snprintf(why, sizeof why, "%.*s", (int)strlen(c->why),
	         queue_entry_damage(e));
	CHECK_STR(why, c->why);
	CHECK(strstr(err.msg, id) != NULL);
	CHECK_INT(queue_entry_envelope(e) != NULL, c->envelope);
	m = queue_entry_message(e);
	bytes = read_all(&m, 7, &n);
	CHECK_INT(n, c->message);
	free(bytes);
	CHECK_INT(queue_entry_failed(e, "x", 0, 0, &err), -1);
	CHECK_INT(queue_entry_remove(e, &err), 0);
	queue_entry_release(e);
	CHECK_INT(damaged_count(q, id), 0);
	CHECK_INT(listed(q), 1);
	CHECK_INT(count_names(at("%s", "damaged/tmp")), 0);
	CHECK_INT(count_names(at("%s", "damaged")), 2); /* tmp/ and good */
	CHECK_INT(queue_claim(q, good, &e, &err), QUEUE_CLAIMED);
	queue_entry_release(e);
}

static void
test_damaged(void)
{
	const size_t len = sizeof short_msg - 1;
	const struct damage_case cases[] = {
	    {dmg_msg_symlink, "its message file is a symbolic link", true, 0,
	     0},
	    {dmg_msg_missing, "its message file is missing", true, 0, 0},
	    {dmg_msg_dir, "its message file is not a regular file", true, 0, 0},
	    {dmg_msg_fifo, "its message file is not a regular file", true, 0,
	     0},
	    {dmg_msg_short,
	     "its message file has 5 bytes, its envelope says 22", true, 5, 0},
	    {dmg_msg_long,
	     "its message file has 28 bytes, its envelope says 22", true,
	     len + 6, 0},
	    {dmg_env_missing, "cannot open its envelope", false, len, 0},
	    {dmg_env_no_rcpt, "bad envelope: no \"rcpt\" line", false, len, 0},
	    {dmg_env_empty_rcpt, "bad envelope: a recipient is empty", false,
	     len, 0},
	    {dmg_not_dir, "it is a file, not a directory", false, 0, 0},
	    {dmg_msg_owner, "its message file belongs to uid 65534", true, len,
	     1},
	    {dmg_env_owner, "its envelope belongs to uid 65534", false, len, 1},
	    {dmg_dir_owner, "its directory belongs to uid 65534", false, len,
	     1},
	    {dmg_msg_unreadable, "cannot open its message file", true, 0, -1},
	};
	struct queue *q;
	struct error err;
	char good[QUEUE_ID_SIZE];
	bool root = geteuid() == 0;

	CHECK_INT(queue_open(&q, at("%s", "damaged"), &err), 0);
	if (!q)
		return;
	CHECK_INT(add_simple(q, "g@example.org", 0, 0, good), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((cases[i].root > 0 && !root) || (cases[i].root < 0 && root))
			continue;
		damaged_case(q, &cases[i], good);
	}
	/* What cannot be read back is not stored either. */
	{
		struct queue_envelope e;
		struct memstream mem;
		struct message_stream st =
		    memstream_of(&mem, short_msg, sizeof short_msg - 1, 0);
		char id[QUEUE_ID_SIZE];

		env_basic(&e, "s@example.org", 0, 0);
		envelope_add_rcpt(&e.env, "");
		CHECK_INT(queue_add(q, &e, &st, id, &err), -1);
		CHECK_INT(err.kind, ERROR_DATA);
		queue_envelope_clear(&e);
		CHECK_INT(count_names(at("%s", "damaged")), 2);
	}
	queue_close(q);
}

/* --- the machine's spool (queue_open_shared) -------------------------------
 *
 * Owners and visibility need root: entries are given to another uid with
 * chown, and what a non-root caller of the spool helper sees is tested in
 * a child that became uid SPOOL_USER with the spool's group effective (as
 * the helper runs). */

#define SPOOL_GROUP 54321 /* any gid: root may chown to it */
#define SPOOL_USER 65534
#define SPOOL_OTHER 65533

static bool
shared_skip(const char *what)
{
	if (geteuid() == 0)
		return false;
	fprintf(stderr,
	        "skipped: %s (needs root, to give files to other "
	        "users)\n",
	        what);
	return true;
}

/* A spool as mta-install makes it: root:SPOOL_GROUP 2770. */
static void
make_spool(const char *path)
{
	CHECK_INT(mkdir(path, 0700), 0);
	CHECK_INT(chown(path, 0, SPOOL_GROUP), 0);
	CHECK_INT(chmod(path, 02770), 0);
}

/* Give DIR/ID and its two files to uid (owner of every file). */
static void
give_entry(const char *dir, const char *id, uid_t uid)
{
	char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", dir, id);
	CHECK_INT(chown(p, uid, (gid_t)-1), 0);
	snprintf(p, sizeof p, "%s/%s/message", dir, id);
	CHECK_INT(chown(p, uid, (gid_t)-1), 0);
	snprintf(p, sizeof p, "%s/%s/envelope", dir, id);
	CHECK_INT(chown(p, uid, (gid_t)-1), 0);
}

static uid_t
owner_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? (uid_t)-1 : st.st_uid;
}

static void
test_shared_open(void)
{
	struct queue *q = NULL;
	struct error err;

	if (shared_skip("the spool's checks"))
		return;
	/* Missing: root makes it, with tmp/ and dead/, all 2770. */
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-new"), SPOOL_GROUP, &err), 0);
	CHECK(q && queue_is_shared(q));
	queue_close(q);
	CHECK_INT(mode_of(at("%s", "spool-new")), 02770);
	CHECK_INT(mode_of(at("%s", "spool-new/tmp")), 02770);
	CHECK_INT(mode_of(at("%s", "spool-new/dead")), 02770);
	{
		struct stat st;

		CHECK_INT(stat(at("%s", "spool-new/dead"), &st), 0);
		CHECK_INT(st.st_uid, 0);
		CHECK_INT(st.st_gid, SPOOL_GROUP);
	}
	/* The per-user rules refuse it (group-writable), as before. */
	CHECK_INT(queue_open(&q, at("%s", "spool-new"), &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);

	/* Another group. */
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-new"), SPOOL_GROUP + 1, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "chown root:54322") != NULL);
	/* Open to others, even only to look. */
	CHECK_INT(chmod(at("%s", "spool-new"), 02771), 0);
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-new"), SPOOL_GROUP, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(strstr(err.msg, "chmod 2770") != NULL);
	CHECK_INT(chmod(at("%s", "spool-new"), 02770), 0);
	/* Not root's. */
	CHECK_INT(chown(at("%s", "spool-new"), SPOOL_USER, SPOOL_GROUP), 0);
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-new"), SPOOL_GROUP, &err),
	    -1);
	CHECK(strstr(err.msg, "belongs to uid 65534") != NULL);
	CHECK_INT(chown(at("%s", "spool-new"), 0, SPOOL_GROUP), 0);
	/* tmp/ and dead/ are held to the same rule. */
	CHECK_INT(chmod(at("%s", "spool-new/dead"), 02775), 0);
	CHECK_INT(queue_open_shared_dead(&q, at("%s", "spool-new"), SPOOL_GROUP,
	                                 &err),
	          -1);
	CHECK(strstr(err.msg, "spool-new/dead is open to others") != NULL);
	CHECK_INT(chmod(at("%s", "spool-new/dead"), 02770), 0);
	CHECK_INT(chown(at("%s", "spool-new/tmp"), SPOOL_USER, SPOOL_GROUP), 0);
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-new"), SPOOL_GROUP, &err),
	    -1);
	CHECK(strstr(err.msg, "spool-new/tmp belongs to uid 65534") != NULL);
	/* Root's tmp/ of the queue the spool was before (0700 root:root)
	 * becomes the spool's. */
	CHECK_INT(chown(at("%s", "spool-new/tmp"), 0, 0), 0);
	CHECK_INT(chmod(at("%s", "spool-new/tmp"), 0700), 0);
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-new"), SPOOL_GROUP, &err), 0);
	queue_close(q);
	CHECK_INT(mode_of(at("%s", "spool-new/tmp")), 02770);
	/* A symbolic link, a file. */
	CHECK_INT(symlink("spool-new", at("%s", "spool-link")), 0);
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-link"), SPOOL_GROUP, &err),
	    -1);
	CHECK(strstr(err.msg, "symbolic link") != NULL);
	spew(at("%s", "spool-file"), "x", 1);
	CHECK_INT(
	    queue_open_shared(&q, at("%s", "spool-file"), SPOOL_GROUP, &err),
	    -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK(q == NULL);
}

/* What uid SPOOL_USER sees of the spool at dir, with the group effective
 * (as the spool helper runs): only its own entry `mine`, never `root_id`
 * (root's) nor `bad` (another's, damaged); what it adds is its own, 0700
 * and 0600; it cleans only its own tmp/ leftovers.  The exit status is
 * the number of failed checks. */
static void
shared_as_user(const char *dir, const char *mine, const char *root_id,
               const char *bad)
{
	struct queue_envelope *v = NULL;
	struct queue_entry *e = NULL;
	struct queue *q = NULL, *dead = NULL;
	struct strlist d;
	struct error err;
	char id[QUEUE_ID_SIZE], p[PATH_MAX];
	size_t n = 0;
	gid_t g = SPOOL_GROUP;
	int before = unit_failed; /* the parent's, copied by fork */

	if (setgroups(1, &g) < 0 || setgid(SPOOL_GROUP) < 0 ||
	    setuid(SPOOL_USER) < 0)
		_exit(99);
	CHECK_INT(queue_open_shared(&q, dir, SPOOL_GROUP, &err), 0);
	if (!q)
		_exit(1);
	CHECK_INT(queue_list(q, &v, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(v[0].id, mine);
		CHECK_INT(v[0].owner, SPOOL_USER);
	}
	queue_list_free(v, n);
	strlist_init(&d);
	CHECK_INT(queue_damaged(q, &d, &err), 0);
	CHECK_INT(d.n, 0);
	strlist_clear(&d);
	/* Another's entry does not exist, damaged or not. */
	CHECK_INT(queue_claim(q, root_id, &e, &err), QUEUE_GONE);
	CHECK_INT(queue_claim(q, bad, &e, &err), QUEUE_GONE);
	CHECK_INT(queue_claim(q, mine, &e, &err), QUEUE_CLAIMED);
	queue_entry_release(e);
	/* Its own new entry: its own, private. */
	CHECK_INT(add_simple(q, "user@example.org", 0, 0, id), 0);
	snprintf(p, sizeof p, "%s/%s", dir, id);
	CHECK_INT(owner_of(p), SPOOL_USER);
	CHECK_INT(mode_of(p), 0700);
	snprintf(p, sizeof p, "%s/%s/message", dir, id);
	CHECK_INT(mode_of(p), 0600);
	snprintf(p, sizeof p, "%s/%s/envelope", dir, id);
	CHECK_INT(mode_of(p), 0600);
	CHECK_INT(owner_of(p), SPOOL_USER);
	queue_close(q);
	/* A dead letter of its own. */
	CHECK_INT(queue_open_shared_dead(&dead, dir, SPOOL_GROUP, &err), 0);
	if (dead) {
		CHECK_INT(add_simple(dead, "user@example.org", 0, 0, id), 0);
		snprintf(p, sizeof p, "%s/dead/%s", dir, id);
		CHECK_INT(owner_of(p), SPOOL_USER);
	}
	queue_close(dead);
	/* Root's stale leftover stays (root cleans it). */
	snprintf(p, sizeof p, "%s/tmp/0000000100000001", dir);
	CHECK(mode_of(p) >= 0);
	_exit(unit_failed - before > 100 ? 100 : unit_failed - before);
}

static void
test_shared_owners(void)
{
	const char *dir = at("%s", "spool");
	char mine[QUEUE_ID_SIZE], root_id[QUEUE_ID_SIZE], bad[QUEUE_ID_SIZE];
	struct queue_envelope *v = NULL;
	struct queue *q = NULL;
	struct strlist d;
	struct error err;
	size_t n = 0;
	int status = -1;
	pid_t pid;

	if (shared_skip("owners and visibility in the spool"))
		return;
	/* The test's directory must be reachable by the user. */
	CHECK_INT(chmod(base, 0711), 0);
	make_spool(dir);
	CHECK_INT(queue_open_shared(&q, dir, SPOOL_GROUP, &err), 0);
	if (!q)
		return;
	CHECK_INT(add_simple(q, "root@example.org", 0, 0, root_id), 0);
	CHECK_INT(add_simple(q, "user@example.org", 0, 0, mine), 0);
	CHECK_INT(add_simple(q, "other@example.org", 0, 0, bad), 0);
	give_entry(dir, mine, SPOOL_USER);
	give_entry(dir, bad, SPOOL_OTHER);
	/* bad: a file of another owner in the entry. */
	CHECK_INT(chown(at("spool/%s/message", bad), SPOOL_USER, (gid_t)-1), 0);
	/* Root sees every owner's, and the mixed one as damaged. */
	CHECK_INT(queue_list(q, &v, &n, &err), 0);
	CHECK_INT(n, 2);
	for (size_t i = 0; i < n; i++)
		CHECK_INT(v[i].owner,
		          strcmp(v[i].id, mine) == 0 ? SPOOL_USER : 0);
	queue_list_free(v, n);
	strlist_init(&d);
	CHECK_INT(queue_damaged(q, &d, &err), 0);
	CHECK_INT(d.n, 1);
	if (d.n == 1)
		CHECK(strstr(d.v[0], "its message file belongs to uid 65534, "
		                     "the entry to uid 65533") != NULL);
	strlist_clear(&d);
	/* A stale leftover of root's writer under tmp/. */
	CHECK_INT(mkdir(at("spool/tmp/%s", "0000000100000001"), 0700), 0);
	set_age(at("spool/tmp/%s", "0000000100000001"), 7200);
	queue_close(q);

	pid = fork();
	if (pid == 0)
		shared_as_user(dir, mine, root_id, bad);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);

	/* Root's next open cleans the leftover; sees the user's new one. */
	CHECK_INT(queue_open_shared(&q, dir, SPOOL_GROUP, &err), 0);
	CHECK_INT(mode_of(at("spool/tmp/%s", "0000000100000001")), -1);
	CHECK_INT(listed(q), 3);
	queue_close(q);
	CHECK_INT(chmod(base, 0700), 0);
}

/* Root updating, and burying, a user's entry leaves every file the
 * user's. */
static void
test_shared_bury(void)
{
	const char *dir = at("%s", "spool-b");
	struct queue_envelope *v = NULL;
	struct queue_entry *e = NULL;
	struct queue *q = NULL, *dead = NULL;
	struct error err;
	char id[QUEUE_ID_SIZE];
	size_t n = 0;

	if (shared_skip("root's work on a user's entry"))
		return;
	make_spool(dir);
	CHECK_INT(queue_open_shared(&q, dir, SPOOL_GROUP, &err), 0);
	CHECK_INT(queue_open_shared_dead(&dead, dir, SPOOL_GROUP, &err), 0);
	if (!q || !dead)
		goto out;
	CHECK_STR(queue_dir(dead), at("%s", "spool-b/dead"));
	CHECK_INT(add_simple(q, "user@example.org", 0, 0, id), 0);
	give_entry(dir, id, SPOOL_USER);
	CHECK_INT(queue_claim(q, id, &e, &err), QUEUE_CLAIMED);
	if (!e)
		goto out;
	CHECK_INT(queue_entry_failed(e, "451 later", 100, 200, &err), 0);
	CHECK_INT(owner_of(at("spool-b/%s/envelope", id)), SPOOL_USER);
	queue_entry_release(e);
	CHECK_INT(listed(q), 1);
	CHECK_INT(queue_claim(q, id, &e, &err), QUEUE_CLAIMED);
	if (!e)
		goto out;
	CHECK_INT(queue_entry_bury(e, dead, 0, "550 no such user", 300, &err),
	          0);
	/* Gone from the spool, whole in dead/, the owner's still. */
	CHECK_INT(queue_entry_remove(e, &err), 0);
	queue_entry_release(e);
	CHECK_INT(listed(q), 0);
	CHECK_INT(owner_of(at("spool-b/dead/%s/envelope", id)), SPOOL_USER);
	CHECK_INT(owner_of(at("spool-b/dead/%s", id)), SPOOL_USER);
	CHECK_INT(queue_list(dead, &v, &n, &err), 0);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(v[0].id, id);
		CHECK_INT(v[0].owner, SPOOL_USER);
		CHECK_INT(v[0].attempts, 2);
		CHECK_STR(v[0].last_error, "550 no such user");
	}
	queue_list_free(v, n);
	/* Never from a user's own queue. */
	{
		struct queue *own = NULL;

		CHECK_INT(queue_open(&own, at("%s", "own-b"), &err), 0);
		CHECK_INT(add_simple(own, "me@example.org", 0, 0, id), 0);
		CHECK_INT(queue_claim(own, id, &e, &err), QUEUE_CLAIMED);
		CHECK_INT(queue_entry_bury(e, dead, 0, "x", 1, &err), -1);
		CHECK_INT(err.kind, ERROR_SOFTWARE);
		queue_entry_release(e);
		CHECK_INT(listed(own), 1);
		queue_close(own);
	}
	/* Removed from dead/ on request, as any entry. */
	CHECK_INT(queue_list(dead, &v, &n, &err), 0);
	if (n == 1) {
		CHECK_INT(queue_claim(dead, v[0].id, &e, &err), QUEUE_CLAIMED);
		CHECK_INT(queue_entry_remove(e, &err), 0);
		queue_entry_release(e);
	}
	queue_list_free(v, n);
	CHECK_INT(listed(dead), 0);
	CHECK_INT(count_names(at("%s", "spool-b/tmp")), 0);
out:
	queue_close(dead);
	queue_close(q);
}

int
main(void)
{
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	test_default_dir();
	test_roundtrip();
	test_add_refused();
	test_order();
	test_message_bytes();
	test_claim();
	test_failed();
	test_read_failure();
	test_file_size_limit();
	test_unsafe_dirs();
	test_open_out_of_descriptors();
	test_stale_tmp();
	test_clock();
	test_envelope_file_exact();
	test_envelope_compat();
	test_damaged();
	test_shared_open();
	test_shared_owners();
	test_shared_bury();
	nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}
