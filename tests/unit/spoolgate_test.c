/*
 * spoolgate_test.c - the spool helper's protocol: its client against its
 * server (a forked spoolserve_run over a socketpair, the queues in a
 * mkdtemp(3) directory), and the server against hostile frames written
 * by hand: unknown types, lengths past a type's ceiling, frames cut
 * short, malformed ids, damaged envelopes, messages longer or shorter
 * than their envelope says.  After each hostile request the test checks
 * what was stored (nothing) and whether the session went on.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "queue.h"
#include "spoolframe.h"
#include "spoolgate.h"
#include "spoolserve.h"
#include "memstream.h"
#include "unit.h"
#include "util.h"

static char base[] = "/tmp/spoolgate_test.XXXXXX";
static char qdir[256], deaddir[256];

static const char message[] = "From: a@example.org\r\nTo: b@example.net\r\n"
                              "Subject: hi\r\n\r\nbody\r\n";

/* --- a server in a child -------------------------------------------------- */

struct served {
	int fd;    /* the client's end */
	pid_t pid; /* the server */
};

/* Serve the test queues (or, with broken, only that error) in a child. */
static int
serve(struct served *s, const struct error *broken)
{
	struct queue *q = NULL, *dead = NULL;
	struct error err;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		close(sv[0]);
		if (!broken && (queue_open(&q, qdir, &err) < 0 ||
		                queue_open(&dead, deaddir, &err) < 0))
			_exit(3);
		_exit(spoolserve_run(sv[1], q, dead, broken) == 0 ? 0 : 1);
	}
	close(sv[1]);
	s->fd = sv[0];
	return 0;
}

/* The server's exit status after the client's end is closed. */
static int
finish(struct served *s)
{
	int st = 0;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (waitpid(s->pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- stored entries --------------------------------------------------------
 */

static size_t
count_in(const char *dir)
{
	struct queue *q;
	struct queue_envelope *v;
	struct error err;
	size_t n = 0;

	if (queue_open(&q, dir, &err) < 0)
		return (size_t)-1;
	if (queue_list(q, &v, &n, &err) < 0)
		n = (size_t)-1;
	else
		queue_list_free(v, n);
	queue_close(q);
	return n;
}

static void
empty_queues(void)
{
	struct queue *q;
	struct queue_envelope *v;
	struct queue_entry *e;
	struct error err;
	size_t n;
	const char *dirs[] = {qdir, deaddir};

	for (size_t d = 0; d < 2; d++) {
		if (queue_open(&q, dirs[d], &err) < 0)
			continue;
		if (queue_list(q, &v, &n, &err) == 0) {
			for (size_t i = 0; i < n; i++)
				if (queue_claim(q, v[i].id, &e, &err) ==
				    QUEUE_CLAIMED) {
					queue_entry_remove(e, &err);
					queue_entry_release(e);
				}
			queue_list_free(v, n);
		}
		queue_close(q);
	}
}

/* --- a message's envelope ------------------------------------------------ */

static void
test_envelope(struct queue_envelope *e)
{
	queue_envelope_init(e);
	envelope_set_sender(&e->env, "a@example.org");
	envelope_add_rcpt(&e->env, "b@example.net");
	envelope_add_rcpt(&e->env, "c@example.net");
	envelope_set_account(&e->env, "work", NULL, 0);
	e->env.priority = 2;
}

/* --- the client against the server ------------------------------------------
 */

static void
test_round_trip(void)
{
	struct served s;
	struct spoolgate *g;
	struct spoolgate_listing l;
	struct spoolgate_shown sh;
	struct queue_envelope env;
	struct memstream m;
	/* several frames */
	struct message_stream ms =
	    memstream_of(&m, message, sizeof message - 1, 7);
	char id[QUEUE_ID_SIZE], dead_id[QUEUE_ID_SIZE], got[256];
	struct error err;
	ssize_t r;
	size_t len = 0;

	if (serve(&s, NULL) < 0) {
		CHECK(!"serve");
		return;
	}
	g = spoolgate_attach(s.fd, qdir);
	test_envelope(&env);
	error_clear(&err);
	CHECK_INT(spoolgate_add(g, false, &env, &ms, id, &err), 0);
	CHECK(queue_id_valid(id));
	CHECK_INT(count_in(qdir), 1);
	/* The same bytes again, as a dead letter with its reason. */
	env.last_error = xstrdup("550 no such user");
	CHECK_INT(spoolgate_add(g, true, &env, &ms, dead_id, &err), 0);
	CHECK_INT(count_in(deaddir), 1);

	CHECK_INT(spoolgate_list(g, &l, &err), 0);
	CHECK_INT(l.nentries, 1);
	CHECK_INT(l.ndead, 1);
	CHECK_INT(l.damaged.n, 0);
	if (l.nentries == 1 && l.ndead == 1) {
		CHECK_STR(l.entries[0].id, id);
		CHECK_STR(l.entries[0].env.sender, "a@example.org");
		CHECK_INT(l.entries[0].env.nrcpts, 2);
		CHECK_STR(l.entries[0].env.account, "work");
		CHECK_INT(l.entries[0].env.priority, 2);
		CHECK_INT(l.entries[0].size, sizeof message - 1);
		CHECK_STR(l.dead[0].id, dead_id);
		CHECK_STR(l.dead[0].last_error, "550 no such user");
	}
	spoolgate_listing_clear(&l);

	/* Shown: the envelope, then every byte; a dead letter says so. */
	CHECK_INT(spoolgate_show(g, dead_id, &sh, &err), 0);
	CHECK(sh.has_env && sh.dead && !sh.damage);
	while ((r = sh.message.read(sh.message.ctx, got + len, sizeof got - len,
	                            &err)) > 0)
		len += (size_t)r;
	CHECK_INT(r, 0);
	CHECK_MEM(got, len, message, sizeof message - 1);
	spoolgate_shown_clear(&sh);
	/* One left half-read is drained: the next request is in step. */
	CHECK_INT(spoolgate_show(g, id, &sh, &err), 0);
	CHECK(sh.has_env && !sh.dead);
	spoolgate_shown_clear(&sh);

	CHECK_INT(spoolgate_remove(g, id, &err), 0);
	CHECK_INT(spoolgate_remove(g, dead_id, &err), 0);
	CHECK_INT(count_in(qdir), 0);
	CHECK_INT(count_in(deaddir), 0);
	CHECK_INT(spoolgate_remove(g, id, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	CHECK(strstr(err.msg, id) != NULL);
	CHECK_INT(spoolgate_show(g, dead_id, &sh, &err), -1);
	CHECK_INT(err.kind, ERROR_USAGE);
	spoolgate_shown_clear(&sh);

	/* A message that cannot be read: nothing stored, the read's error. */
	m.fail_at = 7; /* after the first frame */
	m.pos = 0;
	CHECK_INT(spoolgate_add(g, false, &env, &ms, id, &err), -1);
	CHECK_STR(err.msg, MEMSTREAM_ERROR);
	CHECK_INT(count_in(qdir), 0);
	CHECK_INT(spoolgate_list(g, &l, &err), 0); /* still in step */
	spoolgate_listing_clear(&l);

	queue_envelope_clear(&env);
	spoolgate_close(g);
	s.fd = -1;
	CHECK_INT(finish(&s), 0);
	empty_queues();
}

static void
test_helper_gone(void)
{
	struct served s;
	struct spoolgate *g;
	struct spoolgate_listing l;
	struct queue_envelope env;
	struct memstream m;
	/* several frames */
	struct message_stream ms =
	    memstream_of(&m, message, sizeof message - 1, 7);
	char id[QUEUE_ID_SIZE];
	struct error err;

	if (serve(&s, NULL) < 0)
		return;
	g = spoolgate_attach(s.fd, qdir);
	kill(s.pid, SIGKILL);
	waitpid(s.pid, NULL, 0);
	test_envelope(&env);
	error_clear(&err);
	CHECK_INT(spoolgate_add(g, false, &env, &ms, id, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(strstr(err.msg, "the spool helper for ") == err.msg);
	CHECK(strstr(err.msg, " is gone") != NULL);
	/* And stays gone, at once. */
	CHECK_INT(spoolgate_list(g, &l, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	spoolgate_listing_clear(&l);
	queue_envelope_clear(&env);
	spoolgate_close(g);
	CHECK_INT(count_in(qdir), 0);
}

static void
test_broken_spool(void)
{
	struct served s;
	struct spoolgate *g;
	struct spoolgate_listing l;
	struct queue_envelope env;
	struct memstream m;
	/* several frames */
	struct message_stream ms =
	    memstream_of(&m, message, sizeof message - 1, 7);
	char id[QUEUE_ID_SIZE];
	struct error broken, err;

	error_set(&broken, ERROR_CONFIG, "the spool is not root's");
	if (serve(&s, &broken) < 0)
		return;
	g = spoolgate_attach(s.fd, qdir);
	test_envelope(&env);
	CHECK_INT(spoolgate_add(g, false, &env, &ms, id, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	CHECK_STR(err.msg, "the spool is not root's");
	CHECK_INT(spoolgate_list(g, &l, &err), -1);
	CHECK_STR(err.msg, "the spool is not root's");
	spoolgate_listing_clear(&l);
	queue_envelope_clear(&env);
	spoolgate_close(g);
	s.fd = -1;
	CHECK_INT(finish(&s), 0);
}

/* --- hostile frames ----------------------------------------------------------
 */

static void
put(int fd, char type, const void *p, size_t n)
{
	unsigned char h[5];

	spoolframe_header(h, type, (uint32_t)n);
	if (fd_write_all(fd, h, sizeof h) < 0 ||
	    (n && fd_write_all(fd, p, n) < 0))
		CHECK(!"write");
}

/* The next reply: its type, its payload in out (NUL-terminated); 0 at
 * EOF. */
static char
get(int fd, char *out, size_t size)
{
	unsigned char h[5];
	uint32_t len;
	size_t got = 0;

	while (got < sizeof h) {
		ssize_t r = read(fd, h + got, sizeof h - got);
		if (r <= 0)
			return 0;
		got += (size_t)r;
	}
	len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
	      (uint32_t)h[3] << 8 | h[4];
	if (len >= size)
		return '?';
	got = 0;
	while (got < len) {
		ssize_t r = read(fd, out + got, len - got);
		if (r <= 0)
			return '?';
		got += (size_t)r;
	}
	out[len] = '\0';
	return (char)h[0];
}

/* An 'E' reply with kind and a message containing text. */
static void
check_error(int fd, enum error_kind kind, const char *text, int line)
{
	char buf[2048];
	char type = get(fd, buf, sizeof buf);

	if (type != 'E' || (unsigned char)buf[0] != kind ||
	    !strstr(buf + 1, text))
		fprintf(stderr, "line %d: reply %c \"%s\"\n", line,
		        type ? type : '-', type == 'E' ? buf + 1 : "");
	unit_report(type == 'E' && (unsigned char)buf[0] == kind &&
	                strstr(buf + 1, text) != NULL,
	            __FILE__, line, text);
}

#define CHECK_ERROR(fd, kind, text) check_error(fd, kind, text, __LINE__)

/* The text of an envelope for an add request, of `size` bytes. */
static char *
add_text(uint64_t size)
{
	struct queue_envelope e;
	struct buf b;
	struct error err;
	char *s;

	test_envelope(&e);
	str_copy(e.id, sizeof e.id, SPOOLFRAME_NEW_ID);
	e.size = size;
	if (queuefile_format(&e, &b, &err) < 0)
		return xstrdup("");
	s = xstrdup(buf_str(&b));
	buf_clear(&b);
	queue_envelope_clear(&e);
	return s;
}

/* A session that must end after one bad frame: the error, then EOF, and
 * the server's exit 1. */
static void
check_ends(struct served *s, const char *text, int line)
{
	char buf[64];

	check_error(s->fd, ERROR_SOFTWARE, text, line);
	unit_report(get(s->fd, buf, sizeof buf) == 0, __FILE__, line,
	            "the session ends");
	unit_report(finish(s) == 1, __FILE__, line, "the server exits 1");
}

static void
test_hostile(void)
{
	struct served s;
	char *text = add_text(10), buf[4096];
	static const char damaged[] = "version: 1\nid: 0000000000000000\n";
	static const char *const bad_ids[] = {
	    "zzzzzzzzzzzzzzzz", "0123456789ABCDEF", "../../etc/passwd"};

	/* An unknown type. */
	if (serve(&s, NULL) < 0)
		return;
	put(s.fd, 'W', "x", 1);
	check_ends(&s, "a frame of an unknown type", __LINE__);

	/* A length past its type's ceiling, refused from the header. */
	serve(&s, NULL);
	{
		unsigned char h[5];

		spoolframe_header(h, 'A', QUEUE_ENVELOPE_MAX + 1);
		CHECK_INT(fd_write_all(s.fd, h, 5), 0);
		check_ends(&s, "a frame longer than its type allows", __LINE__);
		serve(&s, NULL);
		spoolframe_header(h, 'L', 0xffffffffu);
		CHECK_INT(fd_write_all(s.fd, h, 5), 0);
		check_ends(&s, "a frame longer than its type allows", __LINE__);
		serve(&s, NULL);
		spoolframe_header(h, 'D', SPOOLFRAME_CHUNK + 1);
		CHECK_INT(fd_write_all(s.fd, h, 5), 0);
		check_ends(&s, "a frame longer than its type allows", __LINE__);
	}

	/* Ids: the wrong length, not hexadecimal, a path. */
	serve(&s, NULL);
	put(s.fd, 'S', "0123", 4);
	check_ends(&s, "an id of the wrong length", __LINE__);
	for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
		serve(&s, NULL);
		put(s.fd, i % 2 ? 'U' : 'S', bad_ids[i], QUEUE_ID_LEN);
		check_ends(&s, "a malformed id", __LINE__);
	}

	/* A data frame where a request belongs. */
	serve(&s, NULL);
	put(s.fd, 'D', "abc", 3);
	check_ends(&s, "a frame that is no request", __LINE__);

	/* A frame cut short, then EOF: nothing stored. */
	serve(&s, NULL);
	{
		unsigned char h[5];

		spoolframe_header(h, 'A', (uint32_t)strlen(text));
		CHECK_INT(fd_write_all(s.fd, h, 5), 0);
		CHECK_INT(fd_write_all(s.fd, text, 10), 0);
	}
	CHECK_INT(finish(&s), 1);
	/* The message cut short after its envelope. */
	serve(&s, NULL);
	put(s.fd, 'A', text, strlen(text));
	put(s.fd, 'D', "12345", 5);
	CHECK_INT(finish(&s), 1);
	CHECK_INT(count_in(qdir), 0);

	/* In one session, each refused and the session goes on: */
	serve(&s, NULL);
	/* a damaged envelope (its message still read past), */
	put(s.fd, 'A', damaged, sizeof damaged - 1);
	put(s.fd, 'D', "12345", 5);
	put(s.fd, 'D', NULL, 0);
	CHECK_ERROR(s.fd, ERROR_DATA, "bad envelope: no \"sender\" line");
	/* an envelope whose id is not the new one's, */
	{
		char *other = add_text(10);
		char *p = strstr(other, SPOOLFRAME_NEW_ID);

		if (p)
			memcpy(p, "0123456789abcdef", QUEUE_ID_LEN);
		put(s.fd, 'A', other, strlen(other));
		put(s.fd, 'D', NULL, 0);
		CHECK_ERROR(s.fd, ERROR_DATA, "bad envelope");
		free(other);
	}
	/* a control byte in a value, */
	{
		char *ctl = add_text(10);
		char *p = strstr(ctl, "a@example.org");

		if (p)
			p[1] = '\r';
		put(s.fd, 'X', ctl, strlen(ctl));
		put(s.fd, 'D', NULL, 0);
		CHECK_ERROR(s.fd, ERROR_DATA, "control character");
		free(ctl);
	}
	/* a message longer than its envelope says, */
	put(s.fd, 'A', text, strlen(text));
	put(s.fd, 'D', "12345678901", 11);
	put(s.fd, 'D', NULL, 0);
	CHECK_ERROR(s.fd, ERROR_DATA, "longer than its envelope says");
	/* shorter, */
	put(s.fd, 'A', text, strlen(text));
	put(s.fd, 'D', "12345", 5);
	put(s.fd, 'D', NULL, 0);
	CHECK_ERROR(s.fd, ERROR_IOERR, "read 5 bytes, expected 10");
	/* given up by the caller half-way, */
	put(s.fd, 'A', text, strlen(text));
	put(s.fd, 'D', "12345", 5);
	put(s.fd, '!', NULL, 0);
	CHECK_ERROR(s.fd, ERROR_IOERR, "could not be read");
	/* an id no entry has. */
	put(s.fd, 'S', "0123456789abcdef", QUEUE_ID_LEN);
	CHECK_ERROR(s.fd, ERROR_USAGE, "no queued message 0123456789abcdef");
	CHECK_INT(count_in(qdir), 0);
	CHECK_INT(count_in(deaddir), 0);
	/* And then a good one is stored. */
	put(s.fd, 'A', text, strlen(text));
	put(s.fd, 'D', "1234567890", 10);
	put(s.fd, 'D', NULL, 0);
	CHECK_INT(get(s.fd, buf, sizeof buf), 'K');
	CHECK(queue_id_valid(buf));
	CHECK_INT(count_in(qdir), 1);
	CHECK_INT(finish(&s), 0);
	free(text);
	empty_queues();
}

int
main(void)
{
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(qdir, sizeof qdir, "%s/q", base);
	snprintf(deaddir, sizeof deaddir, "%s/dead", base);
	signal(SIGPIPE, SIG_IGN);
	test_round_trip();
	test_helper_gone();
	test_broken_spool();
	test_hostile();
	if (unit_failed == 0) {
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf %s", base);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", base);
	}
	return unit_done();
}
