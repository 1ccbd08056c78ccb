/*
 * redirect_test.c - the loopback redirect (redirect.h): the judgement of
 * request heads and pasted addresses, table-driven, then the socket
 * itself in this process: a stray request answered 404 and waited past,
 * the answer taken and answered 200, a connection that never speaks
 * waited past, a pasted line on a pipe, and the deadline.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "redirect.h"
#include "unit.h"
#include "util.h"

static const struct judge_case {
	const char *head;
	enum redirect_verdict want;
	const char *code, *state, *error, *desc; /* on REDIRECT_ANSWER */
} judge_cases[] = {
    {"GET /?code=abc&state=xyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
     REDIRECT_ANSWER, "abc", "xyz", NULL, NULL},
    /* Bare LFs; unknown parameters ignored; escapes and '+' decoded. */
    {"GET /?scope=x&code=a%2Fb%2b&state=s+t&iss=y HTTP/1.0\n\n",
     REDIRECT_ANSWER, "a/b+", "s t", NULL, NULL},
    {"GET /?error=access_denied&error_description=The+user+said+no"
     "&state=s HTTP/1.1\r\n\r\n",
     REDIRECT_ANSWER, NULL, "s", "access_denied", "The user said no"},
    /* A description is text: its controls are kept, to be censored
     * when shown; a NUL is refused. */
    {"GET /?error=x&error_description=a%1bb HTTP/1.1\r\n\r\n", REDIRECT_ANSWER,
     NULL, NULL, "x",
     "a\x1b"
     "b"},
    {"GET /?error=x&error_description=a%00b HTTP/1.1\r\n\r\n", REDIRECT_BAD,
     NULL, NULL, NULL, NULL},
    /* Not yet whole: read on. */
    {"GET /?code=abc&state=xyz HTTP/1.1\r\nHost: 127.0.0.1\r\n", REDIRECT_MORE,
     NULL, NULL, NULL, NULL},
    {"GET /?code=abc", REDIRECT_MORE, NULL, NULL, NULL, NULL},
    {"", REDIRECT_MORE, NULL, NULL, NULL, NULL},
    /* Strays, answered and waited past. */
    {"GET /favicon.ico HTTP/1.1\r\n\r\n", REDIRECT_NOTFOUND, NULL, NULL, NULL,
     NULL},
    {"GET /other?code=abc&state=x HTTP/1.1\r\n\r\n", REDIRECT_NOTFOUND, NULL,
     NULL, NULL, NULL},
    {"POST /?code=abc HTTP/1.1\r\n\r\n", REDIRECT_METHOD, NULL, NULL, NULL,
     NULL},
    {"get /?code=abc HTTP/1.1\r\n\r\n", REDIRECT_METHOD, NULL, NULL, NULL,
     NULL},
    {"GET / HTTP/1.1\r\n\r\n", REDIRECT_EMPTY, NULL, NULL, NULL, NULL},
    {"GET /?state=x HTTP/1.1\r\n\r\n", REDIRECT_EMPTY, NULL, NULL, NULL, NULL},
    /* Malformed. */
    {"GET /?code=a&code=b HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL,
     NULL},
    {"GET /?code=a%2 HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL, NULL},
    {"GET /?code=a%zz HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL, NULL},
    {"GET /?code=a%0d%0ab HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL,
     NULL},
    {"GET /?error=a%22b HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL,
     NULL},
    {"GET /?code=a#frag HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL,
     NULL},
    {"GET http://127.0.0.1/?code=a HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL,
     NULL, NULL},
    {"GET /?code=a HTTP/2.0\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL, NULL},
    {"GET /?code=a  HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL, NULL},
    {"GET /?code=a\x01 HTTP/1.1\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL, NULL},
    {"GET\r\n\r\n", REDIRECT_BAD, NULL, NULL, NULL, NULL},
};

static void
check_answer(const struct redirect_result *r, const struct judge_case *c)
{
	CHECK_STR(r->code, c->code);
	CHECK_STR(r->state, c->state);
	CHECK_STR(r->error, c->error);
	CHECK_STR(r->error_description, c->desc);
}

static void
test_judge(void)
{
	for (size_t i = 0; i < sizeof judge_cases / sizeof judge_cases[0];
	     i++) {
		const struct judge_case *c = &judge_cases[i];
		struct redirect_result r;
		enum redirect_verdict v =
		    redirect_judge(c->head, strlen(c->head), "/", &r);

		CHECK_INT(v, c->want);
		if (v == REDIRECT_ANSWER)
			check_answer(&r, c);
		else
			CHECK(r.code == NULL && r.state == NULL &&
			      r.error == NULL && r.error_description == NULL);
		redirect_result_clear(&r);
	}
}

/* The ceilings: a head that never ends, a value one byte too long. */
static void
test_limits(void)
{
	char *head = xmalloc(REDIRECT_HEAD_MAX + 1);
	struct redirect_result r;
	char value[64];
	int n;

	memset(head, 'a', REDIRECT_HEAD_MAX);
	memcpy(head, "GET /?code=", 11);
	CHECK_INT(redirect_judge(head, REDIRECT_HEAD_MAX - 1, "/", &r),
	          REDIRECT_MORE);
	CHECK_INT(redirect_judge(head, REDIRECT_HEAD_MAX, "/", &r),
	          REDIRECT_TOOBIG);
	for (int extra = 0; extra <= 1; extra++) {
		size_t len = (size_t)(REDIRECT_VALUE_MAX + extra);

		n = snprintf(head, REDIRECT_HEAD_MAX, "GET /?code=");
		memset(head + n, 'c', len);
		snprintf(value, sizeof value, " HTTP/1.1\r\n\r\n");
		memcpy(head + n + len, value, strlen(value));
		CHECK_INT(
		    redirect_judge(head, n + len + strlen(value), "/", &r),
		    extra ? REDIRECT_BAD : REDIRECT_ANSWER);
		if (!extra)
			CHECK_INT(strlen(r.code), REDIRECT_VALUE_MAX);
		redirect_result_clear(&r);
	}
	CHECK_INT(redirect_status(REDIRECT_TOOBIG), 431);
	CHECK_INT(redirect_status(REDIRECT_NOTFOUND), 404);
	CHECK_INT(redirect_status(REDIRECT_METHOD), 405);
	CHECK_INT(redirect_status(REDIRECT_EMPTY), 400);
	free(head);
}

static const struct paste_case {
	const char *line;
	int want;
	const char *code, *error;
} paste_cases[] = {
    {"http://127.0.0.1:4711/?code=abc&state=s", 1, "abc", NULL},
    /* As an address bar may show it, with white space around. */
    {"  127.0.0.1:4711/?state=s&code=abc#\n", 1, "abc", NULL},
    {"HTTP://127.0.0.1:4711/?error=access_denied", 1, NULL, "access_denied"},
    {"http://127.0.0.1:4712/?code=abc", 0, NULL, NULL},
    {"http://127.0.0.1:4711/x?code=abc", 0, NULL, NULL},
    {"http://127.0.0.1:4711/", 0, NULL, NULL},
    {"http://127.0.0.1:4711/?state=s", 0, NULL, NULL},
    {"http://127.0.0.1:4711/?code=a&code=b", 0, NULL, NULL},
    {"abc", 0, NULL, NULL},
    {"", 0, NULL, NULL},
};

static void
test_pasted(void)
{
	for (size_t i = 0; i < sizeof paste_cases / sizeof paste_cases[0];
	     i++) {
		const struct paste_case *c = &paste_cases[i];
		struct redirect_result r;
		struct error err;
		int rc;

		error_clear(&err);
		rc = redirect_judge_pasted(c->line, strlen(c->line),
		                           "http://127.0.0.1:4711/", &r, &err);
		CHECK_INT(rc, c->want);
		if (rc == 1) {
			CHECK_STR(r.code, c->code);
			CHECK_STR(r.error, c->error);
		} else {
			CHECK_INT(err.kind, ERROR_USAGE);
			CHECK(r.code == NULL && r.error == NULL);
			/* the line may hold a code: never quoted */
			CHECK(strstr(err.msg, "code=a") == NULL);
		}
		redirect_result_clear(&r);
	}
}

/* A client connection to the redirect's port, with what it sends. */
static int
client(const struct redirect *r, const char *request)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	const char *port = strrchr(redirect_uri(r), ':') + 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)atoi(port));
	CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
	if (request)
		CHECK(write(fd, request, strlen(request)) ==
		      (ssize_t)strlen(request));
	return fd;
}

/* What the server answered on fd (it closes after its answer). */
static void
check_reply(int fd, const char *status_line)
{
	char got[2048] = "";
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, got + len, sizeof got - 1 - len)) > 0)
		len += (size_t)n;
	got[len] = '\0';
	CHECK(strncmp(got, status_line, strlen(status_line)) == 0);
	CHECK(strstr(got, "Connection: close\r\n") != NULL);
	CHECK(strstr(got, "Referrer-Policy: no-referrer\r\n") != NULL);
	close(fd);
}

static void
test_socket(void)
{
	struct redirect *r;
	struct redirect_result res;
	struct error err;
	int idle, stray, good;

	error_clear(&err);
	CHECK_INT(redirect_open(&r, "/", &err), 0);
	CHECK(strncmp(redirect_uri(r), "http://127.0.0.1:", 17) == 0);
	CHECK(redirect_uri(r)[strlen(redirect_uri(r)) - 1] == '/');
	/* One that never speaks (a browser's preconnection), a favicon,
	 * then the answer, cut in two writes. */
	idle = client(r, NULL);
	stray = client(r, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n");
	good = client(r, "GET /?code=sec");
	CHECK(write(good, "ret&state=st HTTP/1.1\r\n\r\n", 25) == 25);
	CHECK_INT(redirect_wait(r, -1, now_ms() + 5000, &res, &err), 1);
	CHECK_STR(res.code, "secret");
	CHECK_STR(res.state, "st");
	redirect_result_clear(&res);
	check_reply(good, "HTTP/1.1 200 OK\r\n");
	check_reply(stray, "HTTP/1.1 404 Not Found\r\n");
	close(idle);
	redirect_close(r);
}

static void
test_paste_and_deadline(void)
{
	struct redirect *r;
	struct redirect_result res;
	struct error err;
	char line[128];
	int p[2];

	error_clear(&err);
	CHECK_INT(redirect_open(&r, "/", &err), 0);
	CHECK(pipe(p) == 0);
	/* A wrong line, then the right one, then end of file. */
	snprintf(line, sizeof line, "no\n%s?error=access_denied\n",
	         redirect_uri(r));
	CHECK(write(p[1], line, strlen(line)) == (ssize_t)strlen(line));
	close(p[1]);
	CHECK_INT(redirect_wait(r, p[0], now_ms() + 5000, &res, &err), 0);
	CHECK_INT(err.kind, ERROR_USAGE);
	CHECK_INT(redirect_wait(r, p[0], now_ms() + 5000, &res, &err), 1);
	CHECK_STR(res.error, "access_denied");
	redirect_result_clear(&res);
	/* The pipe at its end is no longer watched: the deadline. */
	error_clear(&err);
	CHECK_INT(redirect_wait(r, p[0], now_ms() + 50, &res, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK(strstr(err.msg, "in time") != NULL);
	close(p[0]);
	redirect_close(r);
	redirect_close(NULL);
}

/* A pasted line over REDIRECT_PASTE_MAX is one mistake, said once: the
 * rest of it, up to its newline, is not judged as lines of its own. */
static void
test_paste_too_long(void)
{
	static char junk[REDIRECT_PASTE_MAX * 2 + 100];
	struct redirect *r;
	struct redirect_result res;
	struct error err;
	char line[128];
	int p[2];

	error_clear(&err);
	CHECK_INT(redirect_open(&r, "/", &err), 0);
	CHECK(pipe(p) == 0);
	memset(junk, 'a', sizeof junk - 1);
	junk[sizeof junk - 1] = '\n';
	CHECK(write(p[1], junk, sizeof junk) == (ssize_t)sizeof junk);
	snprintf(line, sizeof line, "%s?code=c&state=s\n", redirect_uri(r));
	CHECK(write(p[1], line, strlen(line)) == (ssize_t)strlen(line));
	close(p[1]);
	CHECK_INT(redirect_wait(r, p[0], now_ms() + 5000, &res, &err), 0);
	CHECK(strstr(err.msg, "longer than") != NULL);
	error_clear(&err);
	CHECK_INT(redirect_wait(r, p[0], now_ms() + 5000, &res, &err), 1);
	CHECK_STR(err.msg, "");
	CHECK_STR(res.code ? res.code : "(none)", "c");
	redirect_result_clear(&res);
	close(p[0]);
	redirect_close(r);
}

int
main(void)
{
	test_judge();
	test_limits();
	test_pasted();
	test_socket();
	test_paste_and_deadline();
	test_paste_too_long();
	return unit_done();
}
