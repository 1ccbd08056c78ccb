/*
 * conn_test.c - the connection (conn.h) over a local socket whose server
 * end the test holds itself: writes leave only at a flush (or a full
 * buffer), line reads are bounded and timed, end of stream and
 * interruptions are what the header says.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "unit.h"
#include "util.h"

#define T 2000 /* ms: a timeout that no passing test waits for */

struct pair {
	char dir[64];
	char path[96];
	int lfd;
	int srv; /* the server's end */
	struct conn *c;
};

static int
listen_on(struct pair *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(p->dir, sizeof p->dir, "/tmp/mailpost-unit-XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	snprintf(p->path, sizeof p->path, "%s/s", p->dir);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p->path);
	p->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(p->lfd, 1) < 0)
		return -1;
	return 0;
}

static void
target(struct conn_target *tg, const char *path)
{
	memset(tg, 0, sizeof *tg);
	tg->host = "test.invalid";
	tg->port = 25;
	tg->socket_path = path;
	tg->timeout_ms = T;
}

/* A connection and the server's end of it (the listen backlog lets the
 * connect complete before the accept). */
static int
pair_open(struct pair *p)
{
	struct conn_target tg;
	struct error err = {0};

	memset(p, 0, sizeof *p);
	p->srv = -1;
	if (listen_on(p) < 0)
		return -1;
	target(&tg, p->path);
	if (conn_open(&p->c, &tg, NULL, &err) < 0) {
		fprintf(stderr, "conn_open: %s\n", err.msg);
		return -1;
	}
	p->srv = accept(p->lfd, NULL, NULL);
	return p->srv < 0 ? -1 : 0;
}

static void
pair_close(struct pair *p)
{
	conn_close(p->c);
	if (p->srv >= 0)
		close(p->srv);
	close(p->lfd);
	unlink(p->path);
	rmdir(p->dir);
}

static bool
readable(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN};

	return poll(&pf, 1, 0) == 1;
}

static void
put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		CHECK(!"write to the client");
}

/* Writes stay in the buffer until the flush: a pipeline group is one
 * write, and nothing leaves before the protocol waits for a reply. */
static void
test_writes_wait_for_flush(void)
{
	struct pair p;
	struct error err = {0};
	char got[64];

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	CHECK_INT(conn_write(p.c, "MAIL FROM:<>\r\n", 14, T, &err), 0);
	CHECK_INT(conn_write(p.c, "RCPT TO:<a@b>\r\n", 15, T, &err), 0);
	CHECK(!readable(p.srv));
	CHECK_INT(conn_flush(p.c, T, &err), 0);
	CHECK(readable(p.srv));
	CHECK_INT(read(p.srv, got, sizeof got), 29);
	CHECK_MEM(got, 29, "MAIL FROM:<>\r\nRCPT TO:<a@b>\r\n", 29);
	/* An empty flush sends nothing. */
	CHECK_INT(conn_flush(p.c, T, &err), 0);
	CHECK(!readable(p.srv));
	pair_close(&p);
}

/* More than the buffer holds leaves by itself, in order, and the rest at
 * the flush. */
static void
test_full_buffer_flushes(void)
{
	enum { BIG = CONN_WBUF_SIZE + 100 };
	char *data = malloc(BIG), *got = malloc(BIG);
	struct pair p;
	struct error err = {0};
	size_t n = 0;
	pid_t pid;
	int st = 0;

	for (size_t i = 0; i < BIG; i++)
		data[i] = (char)('a' + i % 26);
	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	/* A reader that drains the server end, so the socket never fills. */
	pid = fork();
	if (pid == 0) {
		while (n < BIG) {
			ssize_t k = read(p.srv, got + n, BIG - n);
			if (k <= 0)
				break;
			n += (size_t)k;
		}
		_exit(n == BIG && memcmp(got, data, BIG) == 0 ? 0 : 1);
	}
	for (size_t off = 0; off < BIG; off += 1000) {
		size_t k = BIG - off < 1000 ? BIG - off : 1000;
		CHECK_INT(conn_write(p.c, data + off, k, T, &err), 0);
	}
	CHECK_INT(conn_flush(p.c, T, &err), 0);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pair_close(&p);
	free(data);
	free(got);
}

/* Lines end with CRLF or a bare LF; what follows stays pending. */
static void
test_read_lines(void)
{
	struct pair p;
	struct error err = {0};
	char line[64];
	size_t len = 99;

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	put(p.srv, "250-first\r\n250 second\n\r\n354");
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_STR(line, "250-first");
	CHECK_INT(len, 9);
	CHECK_INT(conn_pending(p.c), 16);
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_STR(line, "250 second");
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_STR(line, "");
	CHECK_INT(len, 0);
	CHECK_INT(conn_pending(p.c), 3);
	/* The rest of a line split across reads. */
	put(p.srv, " go ahead\r\n");
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_STR(line, "354 go ahead");
	CHECK_INT(conn_pending(p.c), 0);
	pair_close(&p);
}

/* The ceiling: max-1 bytes fit, one more is a protocol error. */
static void
test_line_ceiling(void)
{
	struct pair p;
	struct error err = {0};
	char line[8];
	size_t len;

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	put(p.srv, "1234567\r\n12345678\r\n");
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_STR(line, "1234567");
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	pair_close(&p);
}

/* The end of the stream, even in the middle of a line. */
static void
test_eof(void)
{
	struct pair p;
	struct error err = {0};
	char line[64];
	size_t len;

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	put(p.srv, "250 compl");
	close(p.srv);
	p.srv = -1;
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(strstr(err.msg, "closed") != NULL);
	pair_close(&p);
}

/* Send `s` one byte each `gap_ms` from a child, then close. */
static pid_t
dribble(int fd, const char *s, int gap_ms)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	for (; *s; s++) {
		struct timespec ts = {0, gap_ms * 1000000L};
		nanosleep(&ts, NULL);
		if (write(fd, s, 1) != 1)
			break;
	}
	_exit(0);
}

/* One deadline for a whole reply: a server sending a byte now and then
 * cannot stretch it. */
static void
test_deadline(void)
{
	struct pair p;
	struct error err = {0};
	struct conn_wait w;
	char line[64];
	size_t len;
	int64_t t0;
	pid_t pid;

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	pid = dribble(p.srv, "250 this takes far too long\r\n", 40);
	conn_wait_init(&w, 200, "waiting for the greeting");
	t0 = now_ms();
	CHECK_INT(conn_read_line_until(p.c, line, sizeof line, &len, &w, &err),
	          -1);
	CHECK(now_ms() - t0 < 1000); /* the dribble would last 1.2 s */
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(strstr(err.msg, "waiting for the greeting") != NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pair_close(&p);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A signal that is not an interruption of the run (interrupt.h) while
 * waiting: the wait goes on. */
static void
test_eintr(void)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct itimerval it = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
	struct pair p;
	struct error err = {0};
	char line[64];
	size_t len;
	pid_t pid;

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	sigaction(SIGALRM, &sa, NULL);
	pid = dribble(p.srv, "220 ok\r\n", 15);
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_STR(line, "220 ok");
	CHECK_INT(conn_write(p.c, "QUIT\r\n", 6, T, &err), 0);
	CHECK_INT(conn_flush(p.c, T, &err), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	waitpid(pid, NULL, 0);
	pair_close(&p);
}

/* What the connection says about itself, and the ways conn_open fails
 * for a local socket. */
static void
test_open_socket(void)
{
	struct pair p;
	struct conn_target tg;
	struct conn *c = NULL;
	struct error err = {0};
	char path[128];
	FILE *f;

	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	CHECK(conn_is_local(p.c));
	CHECK(strstr(conn_peer(p.c), p.path) != NULL);
	CHECK_INT(conn_channel_binding_type(p.c), TLS_BINDING_NONE);

	/* Missing: a server not running (yet), so temporary (as
	 * mailpost.conf(5) says of `socket`). */
	snprintf(path, sizeof path, "%s/none", p.dir);
	target(&tg, path);
	CHECK_INT(conn_open(&c, &tg, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	/* Not a socket: a wrong path stays wrong. */
	f = fopen(path, "w");
	if (f)
		fclose(f);
	CHECK_INT(conn_open(&c, &tg, NULL, &err), -1);
	CHECK_INT(err.kind, ERROR_CONFIG);
	unlink(path);
	pair_close(&p);
	/* A socket nobody listens on any more: temporary. */
	if (listen_on(&p) == 0) {
		close(p.lfd);
		target(&tg, p.path);
		CHECK_INT(conn_open(&c, &tg, NULL, &err), -1);
		CHECK_INT(err.kind, ERROR_TEMPFAIL);
		unlink(p.path);
		rmdir(p.dir);
	}
}

/* STARTTLS (RFC 3207): bytes that came before the handshake are an
 * injection attempt, refused before any TLS; unsent output is a bug. */
static void
test_start_tls_refusals(void)
{
	struct tls_params tp = {0};
	struct pair p;
	struct error err = {0};
	char line[64];
	size_t len;

	tp.host = "test.invalid";
	tp.timeout_ms = T;
	if (pair_open(&p) < 0) {
		CHECK(!"pair_open");
		return;
	}
	put(p.srv, "220 go ahead\r\n250 injected\r\n");
	CHECK_INT(conn_read_line(p.c, line, sizeof line, &len, T, &err), 0);
	CHECK_INT(conn_start_tls(p.c, &tp, &err), -1);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	pair_close(&p);

	if (pair_open(&p) < 0)
		return;
	CHECK_INT(conn_write(p.c, "NOOP\r\n", 6, T, &err), 0);
	CHECK_INT(conn_start_tls(p.c, &tp, &err), -1);
	CHECK_INT(err.kind, ERROR_SOFTWARE);
	CHECK(!readable(p.srv));
	pair_close(&p);
}

/* Implicit TLS (RFC 8314 3.3) to a server that talks plaintext: a
 * handshake failure, never a fallback, and nothing left open. */
static void
test_implicit_tls_plaintext(void)
{
	struct tls_params tp = {0};
	struct conn_target tg;
	struct conn *c = (struct conn *)&tg; /* must become NULL */
	struct pair p;
	struct error err = {0};
	pid_t pid;

	memset(&p, 0, sizeof p);
	if (listen_on(&p) < 0) {
		CHECK(!"listen_on");
		return;
	}
	pid = fork();
	if (pid == 0) {
		char buf[512];
		int fd = accept(p.lfd, NULL, NULL);

		put(fd, "220 test.invalid ESMTP\r\n");
		while (read(fd, buf, sizeof buf) > 0)
			;
		_exit(0);
	}
	tp.host = "test.invalid";
	tp.timeout_ms = T;
	target(&tg, p.path);
	CHECK_INT(conn_open_tls(&c, &tg, &tp, NULL, &err), -1);
	CHECK(c == NULL);
	CHECK_INT(err.kind, ERROR_PROTOCOL);
	waitpid(pid, NULL, 0);
	p.srv = -1;
	p.c = NULL;
	pair_close(&p);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_writes_wait_for_flush();
	test_full_buffer_flushes();
	test_read_lines();
	test_line_ceiling();
	test_eof();
	test_deadline();
	test_eintr();
	test_open_socket();
	test_start_tls_refusals();
	test_implicit_tls_plaintext();
	return unit_done();
}
