/*
 * serve_test.c - sendmail -bs (serve.c) through its public API.
 *
 * A child process runs serve_run on one end of a socketpair (or on two
 * pipes); the test speaks SMTP on the other end, scripted, and compares
 * every reply.  The child's deliver callback records each message (its
 * envelope, the properties of its descriptor, its data's length and hash
 * and first octets) in shared memory, and answers from a table.  Data
 * files go to a temporary directory of our own, removed at the end.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "serve.h"
#include "util.h"
#include "unit.h"

/* A string literal with its length, so that inputs may hold NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

#define GREETING "220 test.example ESMTP mailpost\r\n"
/* The EHLO reply up to SIZE. */
#define EHLO_HEAD                                                              \
	"250-test.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n"               \
	"250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n"
#define EHLO_REPLY EHLO_HEAD "250-SIZE\r\n250 HELP\r\n"
#define BYE "221 2.0.0 Bye\r\n"

/* How long the test waits for the server before calling it hung. */
#define WAIT_MS 10000

static char test_dir[] = "/tmp/mailpost-serve-test.XXXXXX";

/* --- what the child's deliver callback saw ----------------------------- */

#define MSGS_MAX 8
#define DATA_KEEP 8192
#define RCPTS_KEEP 8192

struct record {
	char sender[320];
	char rcpts[RCPTS_KEEP]; /* joined by ' ' */
	size_t nrcpts;
	uint64_t len;  /* octets of data */
	uint64_t hash; /* FNV-1a of the data */
	char data[DATA_KEEP + 1];
	bool body_8bit, smtputf8;
	char ret[16], envid[128], notify[64]; /* "-" for NULL */
	bool fd_at_start, fd_unlinked, fd_cloexec;
	int fd;
};

struct shared {
	int nmsgs;
	struct record msgs[MSGS_MAX];
	int rc; /* serve_run's result */
	enum error_kind kind;
	char errmsg[256];
	bool fds_closed; /* every data descriptor closed when it returned */
};

static struct shared *sh;
/* Whether the next child exits through LeakSanitizer's check: costly
 * under the sanitizers, so done for the first session of each test. */
static bool leak_check;
/* The answers of the deliver callback, message by message (NULL: 250).
 * "@full" fills the whole answer without a NUL. */
static const char *answers[MSGS_MAX];

static uint64_t
fnv1a(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
#define FNV_INIT UINT64_C(0xcbf29ce484222325)

static void
keep(char *dst, size_t n, const char *s)
{
	str_copy(dst, n, s ? s : "-");
}

static void
record_data(struct record *r, int fd)
{
	static char block[65536];
	struct stat st;
	ssize_t n;

	r->fd = fd;
	r->fd_at_start = lseek(fd, 0, SEEK_CUR) == 0;
	r->fd_unlinked = fstat(fd, &st) == 0 && st.st_nlink == 0;
	r->fd_cloexec = (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
	r->hash = FNV_INIT;
	while ((n = read(fd, block, sizeof block)) > 0) {
		if (r->len < DATA_KEEP) {
			size_t k = DATA_KEEP - (size_t)r->len;

			memcpy(r->data + r->len, block,
			       (size_t)n < k ? (size_t)n : k);
		}
		r->hash = fnv1a(r->hash, block, (size_t)n);
		r->len += (uint64_t)n;
	}
}

static void
fake_deliver(void *ctx, const struct serve_message *m,
             struct serve_answer *answer)
{
	int i = sh->nmsgs++;
	const char *ans;

	(void)ctx;
	if (i >= MSGS_MAX) {
		str_copy(answer->line, sizeof answer->line, "250 2.0.0 Ok");
		return;
	}
	struct record *r = &sh->msgs[i];

	str_copy(r->sender, sizeof r->sender, m->env->sender);
	r->nrcpts = m->env->nrcpts;
	for (size_t j = 0; j < m->env->nrcpts; j++) {
		size_t used = strlen(r->rcpts);

		snprintf(r->rcpts + used, sizeof r->rcpts - used, "%s%s",
		         j ? " " : "", m->env->rcpts[j].addr);
	}
	r->body_8bit = m->body_8bit;
	r->smtputf8 = m->smtputf8;
	keep(r->ret, sizeof r->ret, m->env->dsn.ret);
	keep(r->envid, sizeof r->envid, m->env->dsn.envid);
	keep(r->notify, sizeof r->notify, m->env->dsn.notify);
	record_data(r, m->fd);
	ans = answers[i] ? answers[i] : "250 2.0.0 Ok: queued";
	if (strcmp(ans, "@full") == 0) {
		memcpy(answer->line, "250 ", 4);
		memset(answer->line + 4, 'x', sizeof answer->line - 4);
	} else {
		str_copy(answer->line, sizeof answer->line, ans);
	}
}

/* --- a session with the server in a child process ------------------- */

struct session {
	pid_t pid;
	int wfd, rfd; /* the same socket, or two pipes */
	bool pipes;
	struct buf out; /* every octet the server wrote */
	size_t seen;    /* how far expect() has matched */
};

static struct serve_options
options(void)
{
	struct serve_options o = {
	    .hostname = "test.example",
	    .size_max = 0,
	    .idle_timeout_ms = WAIT_MS,
	    .tmpdir = test_dir,
	    .deliver = fake_deliver,
	    .ctx = NULL,
	};
	return o;
}

static void
die(const char *what)
{
	perror(what);
	exit(99);
}

static void __attribute__((noreturn))
child(int in, int out, const struct serve_options *o, bool check_leaks)
{
	struct error err;

	sh->rc = serve_run(in, out, o, &err);
	sh->kind = err.kind;
	str_copy(sh->errmsg, sizeof sh->errmsg, err.msg);
	sh->fds_closed = true;
	for (int i = 0; i < sh->nmsgs && i < MSGS_MAX; i++)
		if (fcntl(sh->msgs[i].fd, F_GETFD) != -1)
			sh->fds_closed = false;
	close(in);
	close(out);
	if (check_leaks)
		exit(0); /* through atexit, so that LeakSanitizer looks */
	_exit(0);
}

static void
start(struct session *t, const struct serve_options *o, bool pipes)
{
	bool check_leaks = leak_check;
	int a[2], b[2];

	leak_check = false;
	memset(sh, 0, sizeof *sh);
	memset(t, 0, sizeof *t);
	buf_init(&t->out, 64 * 1024 * 1024);
	t->pipes = pipes;
	if (pipes ? pipe(a) < 0 || pipe(b) < 0
	          : socketpair(AF_UNIX, SOCK_STREAM, 0, a) < 0)
		die("serve_test: pipe");
	fflush(stdout);
	fflush(stderr);
	t->pid = fork();
	if (t->pid < 0)
		die("serve_test: fork");
	if (t->pid == 0) {
		if (pipes) {
			close(a[1]);
			close(b[0]);
			child(a[0], b[1], o, check_leaks);
		}
		close(a[0]);
		child(a[1], a[1], o, check_leaks);
	}
	if (pipes) {
		close(a[0]);
		close(b[1]);
		t->wfd = a[1];
		t->rfd = b[0];
	} else {
		close(a[1]);
		t->wfd = t->rfd = a[0];
	}
}

/* Write all of p; false when the server has gone (EPIPE). */
static bool
say_n(struct session *t, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(t->wfd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			return false;
		if (w <= 0)
			die("serve_test: write");
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool
say(struct session *t, const char *s)
{
	return say_n(t, s, strlen(s));
}

/* Read what the server wrote within ms: 1 some, 0 end, -1 nothing. */
static int
hear(struct session *t, int ms)
{
	char block[65536];
	struct pollfd p = {.fd = t->rfd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	n = read(t->rfd, block, sizeof block);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	if (buf_append(&t->out, block, (size_t)n) < 0)
		die("serve_test: output too large");
	return 1;
}

/* Wait until the server has written needle (after what was matched). */
static bool
expect(struct session *t, const char *needle)
{
	int64_t until = now_ms() + WAIT_MS;

	for (;;) {
		const char *all = buf_str(&t->out);
		const char *p = strstr(all + t->seen, needle);

		if (p) {
			t->seen = (size_t)(p - all) + strlen(needle);
			return true;
		}
		if (now_ms() > until || hear(t, 100) == 0)
			return false;
	}
}

/* Read until the server closes its end. */
static void
drain(struct session *t)
{
	int64_t until = now_ms() + WAIT_MS;

	while (now_ms() < until && hear(t, 100) != 0)
		;
}

/* End our input, read the rest, reap the child; the output stays in
 * t->out (the caller clears it). */
static void
finish(struct session *t)
{
	int status = 0;

	if (t->pipes)
		close(t->wfd);
	else
		shutdown(t->wfd, SHUT_WR);
	drain(t);
	close(t->rfd);
	if (waitpid(t->pid, &status, 0) < 0)
		die("serve_test: waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	memset(answers, 0, sizeof answers);
}

/* The whole output of a session fed `in` in one write. */
static char *
run_n(const struct serve_options *o, const char *in, size_t n, bool pipes)
{
	struct session t;
	char *out;

	start(&t, o, pipes);
	say_n(&t, in, n);
	finish(&t);
	out = xstrdup(buf_str(&t.out));
	buf_clear(&t.out);
	return out;
}

static char *
run(const struct serve_options *o, const char *in)
{
	return run_n(o, in, strlen(in), false);
}

/* --- comparing transcripts --------------------------------------------- */

/* want, where '*' matches any run of octets within a line. */
static bool
glob_match(const char *want, const char *got)
{
	while (*want && *want != '*') {
		if (*want != *got)
			return false;
		want++;
		got++;
	}
	if (*want == '\0')
		return *got == '\0';
	for (;; got++) {
		if (glob_match(want + 1, got))
			return true;
		if (*got == '\0' || *got == '\r' || *got == '\n')
			return false;
	}
}

/* CR and LF made visible, for messages. */
static void
visible(char *dst, size_t n, const char *s)
{
	size_t j = 0;

	for (; *s && j + 3 < n; s++) {
		if (*s == '\r' || *s == '\n') {
			dst[j++] = '\\';
			dst[j++] = *s == '\r' ? 'r' : 'n';
		} else {
			dst[j++] = *s;
		}
	}
	dst[j] = '\0';
}

static void
check_transcript(const char *file, int line, const char *name, const char *got,
                 const char *want)
{
	static char g[3000], w[3000], m[6100];

	visible(g, sizeof g, got);
	visible(w, sizeof w, want);
	snprintf(m, sizeof m, "%s:\n  got  \"%s\"\n  want \"%s\"", name, g, w);
	unit_report(glob_match(want, got), file, line, m);
}
#define CHECK_TRANSCRIPT(name, got, want)                                      \
	check_transcript(__FILE__, __LINE__, name, got, want)

/* --- scripted cases: replies after EHLO, then QUIT -------------------- */

static const struct script_case {
	const char *name;
	const char *in;   /* after "EHLO client" (unless no_ehlo); then QUIT */
	const char *want; /* the replies in between; '*': rest of a line */
	bool no_ehlo;
	unsigned long size_max;
} script_cases[] = {
    {"HELO", "HELO client\r\nMAIL FROM:<a@b.example>\r\n",
     "250 test.example\r\n250 2.1.0 Ok\r\n", true, 0},
    {"MAIL before EHLO", "MAIL FROM:<a@b.example>\r\n",
     "503 5.5.1 Send EHLO or HELO first\r\n", true, 0},
    {"EHLO without a name", "EHLO\r\nHELO\r\n",
     "501 5.5.4 Syntax: EHLO hostname\r\n"
     "501 5.5.4 Syntax: HELO hostname\r\n",
     true, 0},
    {"RCPT before MAIL", "RCPT TO:<a@b.example>\r\n",
     "503 5.5.1 Need MAIL command\r\n", false, 0},
    {"DATA before MAIL", "DATA\r\n", "503 5.5.1 Need MAIL command\r\n", false,
     0},
    {"DATA before RCPT", "MAIL FROM:<a@b.example>\r\nDATA\r\n",
     "250 2.1.0 Ok\r\n503 5.5.1 Need RCPT command\r\n", false, 0},
    {"nested MAIL", "MAIL FROM:<a@b.example>\r\nMAIL FROM:<c@d.example>\r\n",
     "250 2.1.0 Ok\r\n503 5.5.1 Nested MAIL command\r\n", false, 0},
    {"lower case", "mail from:<a@b.example>\r\nrcpt to:<c@d.example>\r\n",
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", false, 0},
    {"one space after the colon",
     "MAIL FROM: <a@b.example>\r\nRCPT TO: <c@d.example>\r\n",
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", false, 0},
    {"no brackets", "MAIL FROM:a@b.example\r\n",
     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n", false, 0},
    {"no colon", "MAIL <a@b.example>\r\nMAIL FROM\r\n",
     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
     false, 0},
    {"unclosed bracket", "MAIL FROM:<a@b.example\r\n",
     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n", false, 0},
    {"space inside", "MAIL FROM:<a b@c.example>\r\n",
     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n", false, 0},
    {"junk after the bracket", "MAIL FROM:<a@b.example>x\r\n",
     "501 5.5.4 Syntax: MAIL FROM:<address>\r\n", false, 0},
    {"quoted space and bracket", "MAIL FROM:<\"a >b\"@c.example>\r\n",
     "250 2.1.0 Ok\r\n", false, 0},
    {"bad sender", "MAIL FROM:<a@b..example>\r\n",
     "553 5.1.7 Bad sender address: *\r\n", false, 0},
    {"bad recipient", "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@@d>\r\n",
     "250 2.1.0 Ok\r\n553 5.1.3 Bad recipient address: *\r\n", false, 0},
    {"recipient syntax", "MAIL FROM:<a@b.example>\r\nRCPT TO:c@d\r\n",
     "250 2.1.0 Ok\r\n501 5.5.4 Syntax: RCPT TO:<address>\r\n", false, 0},
    {"empty recipient", "MAIL FROM:<>\r\nRCPT TO:<>\r\n",
     "250 2.1.0 Ok\r\n553 5.1.3 Bad recipient address: *\r\n", false, 0},
    {"postmaster and bare names",
     "MAIL FROM:<root>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<root>\r\n",
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n", false, 0},
    {"SIZE within the limit", "MAIL FROM:<a@b.example> SIZE=1000\r\n",
     "250 2.1.0 Ok\r\n", false, 1000},
    {"SIZE over the limit", "MAIL FROM:<a@b.example> SIZE=1001\r\n",
     "552 5.3.4 Message size exceeds fixed limit\r\n", false, 1000},
    {"SIZE huge", "MAIL FROM:<a@b.example> SIZE=99999999999999999999999\r\n",
     "552 5.3.4 Message size exceeds fixed limit\r\n", false, 1000},
    {"SIZE without a limit", "MAIL FROM:<a@b.example> SIZE=99999999999\r\n",
     "250 2.1.0 Ok\r\n", false, 0},
    {"SIZE not a number", "MAIL FROM:<a@b.example> SIZE=12k\r\n",
     "501 5.5.4 Bad SIZE value\r\n", false, 0},
    {"unknown parameter", "MAIL FROM:<a@b.example> FOO=bar\r\n",
     "555 5.5.4 Unsupported parameter FOO\r\n", false, 0},
    {"BINARYMIME", "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n",
     "555 5.5.4 BODY=BINARYMIME is not supported\r\n", false, 0},
    {"bad BODY", "MAIL FROM:<a@b.example> BODY=9BIT\r\n",
     "501 5.5.4 Bad BODY value\r\n", false, 0},
    {"all MAIL parameters",
     "MAIL FROM:<a@b.example>  body=8bitmime SIZE=10 SMTPUTF8 RET=FULL "
     "ENVID=x+2By AUTH=<>\r\n",
     "250 2.1.0 Ok\r\n", false, 0},
    {"duplicate parameter", "MAIL FROM:<a@b.example> RET=FULL RET=HDRS\r\n",
     "501 5.5.4 Duplicate parameter RET\r\n", false, 0},
    {"parameter without a value", "MAIL FROM:<a@b.example> SIZE\r\n",
     "501 5.5.4 SIZE needs a value\r\n", false, 0},
    {"empty value", "MAIL FROM:<a@b.example> RET=\r\n",
     "501 5.5.4 Bad parameter syntax\r\n", false, 0},
    {"SMTPUTF8 with a value", "MAIL FROM:<a@b.example> SMTPUTF8=yes\r\n",
     "501 5.5.4 SMTPUTF8 takes no value\r\n", false, 0},
    {"bad RET", "MAIL FROM:<a@b.example> RET=ALL\r\n",
     "501 5.5.4 Bad RET value\r\n", false, 0},
    {"bad ENVID", "MAIL FROM:<a@b.example> ENVID=a+2g\r\n",
     "501 5.5.4 Bad ENVID value\r\n", false, 0},
    {"UTF-8 without SMTPUTF8",
     "MAIL FROM:<j\xc3\xb6rg@b.example>\r\n"
     "MAIL FROM:<j\xc3\xb6rg@b.example> SMTPUTF8\r\n"
     "RCPT TO:<\xc3\xa5sa@d.example>\r\n",
     "553 5.6.7 A non-ASCII address needs SMTPUTF8\r\n"
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n",
     false, 0},
    {"UTF-8 recipient without SMTPUTF8",
     "MAIL FROM:<a@b.example>\r\nRCPT TO:<\xc3\xa5sa@d.example>\r\n",
     "250 2.1.0 Ok\r\n553 5.6.7 A non-ASCII address needs SMTPUTF8\r\n", false,
     0},
    {"RCPT parameters",
     "MAIL FROM:<a@b.example>\r\n"
     "RCPT TO:<c@d.example> NOTIFY=SUCCESS,delay ORCPT=rfc822;c@d.example\r\n"
     "RCPT TO:<c@d.example> NOTIFY=NEVER\r\n"
     "RCPT TO:<c@d.example> NOTIFY=NEVER,SUCCESS\r\n"
     "RCPT TO:<c@d.example> NOTIFY=SUCCESS,SUCCESS\r\n"
     "RCPT TO:<c@d.example> NOTIFY=SUCCESS,\r\n"
     "RCPT TO:<c@d.example> ORCPT=rfc822\r\n"
     "RCPT TO:<c@d.example> XYZ\r\n",
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
     "501 5.5.4 Bad NOTIFY value\r\n501 5.5.4 Bad NOTIFY value\r\n"
     "501 5.5.4 Bad NOTIFY value\r\n501 5.5.4 Bad ORCPT value\r\n"
     "555 5.5.4 Unsupported parameter XYZ\r\n",
     false, 0},
    {"source route dropped",
     "MAIL FROM:<@relay.example:a@b.example>\r\n"
     "RCPT TO:<@r1.example,@r2.example:c@d.example>\r\n",
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n", false, 0},
    {"RSET ends the transaction",
     "MAIL FROM:<a@b.example>\r\nRSET\r\nRCPT TO:<c@d.example>\r\n"
     "RSET x\r\n",
     "250 2.1.0 Ok\r\n250 2.0.0 Ok\r\n503 5.5.1 Need MAIL command\r\n"
     "501 5.5.4 Syntax: RSET\r\n",
     false, 0},
    {"EHLO again ends the transaction",
     "MAIL FROM:<a@b.example>\r\nEHLO client\r\nRCPT TO:<c@d.example>\r\n",
     "250 2.1.0 Ok\r\n" EHLO_REPLY "503 5.5.1 Need MAIL command\r\n", false, 0},
    {"DATA with an argument",
     "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA x\r\n",
     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n501 5.5.4 Syntax: DATA\r\n", false, 0},
    {"NOOP, VRFY, EXPN, HELP",
     "NOOP\r\nNOOP hello\r\nVRFY root\r\nEXPN list\r\nVRFY\r\nHELP\r\n",
     "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n"
     "252 2.5.0 Cannot VRFY user, but will accept message\r\n"
     "252 2.5.0 Cannot VRFY user, but will accept message\r\n"
     "501 5.5.4 Syntax: VRFY address\r\n"
     "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP VRFY EXPN "
     "HELP QUIT\r\n",
     false, 0},
    {"not implemented",
     "STARTTLS\r\nAUTH PLAIN AGZvbwBiYXI=\r\nBDAT 10 LAST\r\nETRN x\r\n"
     "TURN\r\n",
     "502 5.5.1 Command not implemented\r\n"
     "502 5.5.1 Command not implemented\r\n"
     "502 5.5.1 Command not implemented\r\n"
     "502 5.5.1 Command not implemented\r\n"
     "502 5.5.1 Command not implemented\r\n",
     false, 0},
    {"unknown command", "FOO\r\n\r\nMAILFROM:<a@b>\r\n",
     "500 5.5.2 Command not recognized\r\n"
     "500 5.5.2 Command not recognized\r\n"
     "500 5.5.2 Command not recognized\r\n",
     false, 0},
    {"bare CR", "NOOP\rRSET\r\n", "500 5.5.2 Bad character in command\r\n",
     false, 0},
    {"trailing space", "NOOP \r\nRSET  \r\n",
     "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n", false, 0},
};

static void
test_script_cases(void)
{
	for (size_t i = 0; i < sizeof script_cases / sizeof script_cases[0];
	     i++) {
		const struct script_case *c = &script_cases[i];
		struct serve_options o = options();
		struct buf in, want;
		char *out;

		o.size_max = c->size_max;
		buf_init(&in, 1 << 20);
		buf_init(&want, 1 << 20);
		buf_printf(&in, "%s%sQUIT\r\n",
		           c->no_ehlo ? "" : "EHLO client\r\n", c->in);
		if (c->no_ehlo)
			buf_printf(&want, "%s%s%s", GREETING, c->want, BYE);
		else if (c->size_max > 0)
			buf_printf(&want,
			           "%s" EHLO_HEAD
			           "250-SIZE %lu\r\n250 HELP\r\n%s%s",
			           GREETING, c->size_max, c->want, BYE);
		else
			buf_printf(&want, "%s%s%s%s", GREETING, EHLO_REPLY,
			           c->want, BYE);
		out = run(&o, buf_str(&in));
		CHECK_TRANSCRIPT(c->name, out, buf_str(&want));
		CHECK_INT(sh->nmsgs, 0);
		CHECK_INT(sh->rc, 0);
		free(out);
		buf_clear(&in);
		buf_clear(&want);
	}
}

/* Every scripted case in one session, checked for leaks. */
static void
test_script_cases_together(void)
{
	struct serve_options o = options();
	struct buf in;
	char *out;

	o.size_max = 1000;
	buf_init(&in, 1 << 20);
	for (size_t i = 0; i < sizeof script_cases / sizeof script_cases[0];
	     i++)
		buf_printf(&in, "%s%sRSET\r\n",
		           script_cases[i].no_ehlo ? "" : "EHLO client\r\n",
		           script_cases[i].in);
	buf_append_str(&in, "QUIT\r\n");
	leak_check = true;
	out = run(&o, buf_str(&in));
	CHECK_INT(sh->rc, 0);
	CHECK(strstr(out, BYE) != NULL);
	free(out);
	buf_clear(&in);
}

/* --- whole sessions --------------------------------------------------- */

/* Step by step, waiting for each reply as a strict client does: the
 * server must write every reply before it waits. */
static void
test_interactive(void)
{
	struct serve_options o = options();
	struct session t;
	struct record *r = &sh->msgs[0];

	o.size_max = 10485760;
	start(&t, &o, false);
	CHECK(expect(&t, GREETING));
	say(&t, "EHLO client.example\r\n");
	CHECK(expect(&t, "250-SIZE 10485760\r\n250 HELP\r\n"));
	say(&t, "MAIL FROM:<alice@example.org> BODY=8BITMIME\r\n");
	CHECK(expect(&t, "250 2.1.0 Ok\r\n"));
	say(&t, "RCPT TO:<bob@example.net>\r\n");
	CHECK(expect(&t, "250 2.1.5 Ok\r\n"));
	say(&t, "DATA\r\n");
	CHECK(expect(&t, "354 End data with <CR><LF>.<CR><LF>\r\n"));
	say(&t, "Subject: hi\r\n\r\nHello\r\n..dot\r\n");
	say(&t, ".\r\n");
	CHECK(expect(&t, "250 2.0.0 Ok: queued\r\n"));
	say(&t, "QUIT\r\n");
	CHECK(expect(&t, BYE));
	finish(&t);
	CHECK_STR(buf_str(&t.out),
	          GREETING EHLO_HEAD "250-SIZE 10485760\r\n250 HELP\r\n"
	                             "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	                             "354 End data with <CR><LF>.<CR><LF>\r\n"
	                             "250 2.0.0 Ok: queued\r\n" BYE);
	buf_clear(&t.out);
	CHECK_INT(sh->rc, 0);
	CHECK_INT(sh->nmsgs, 1);
	CHECK_STR(r->sender, "alice@example.org");
	CHECK_STR(r->rcpts, "bob@example.net");
	CHECK_INT(r->nrcpts, 1);
	CHECK_STR(r->data, "Subject: hi\r\n\r\nHello\r\n.dot\r\n");
	CHECK(r->body_8bit);
	CHECK(!r->smtputf8);
	CHECK_STR(r->ret, "-");
	CHECK_STR(r->envid, "-");
	CHECK_STR(r->notify, "-");
	CHECK(r->fd_at_start);
	CHECK(r->fd_unlinked);
	CHECK(r->fd_cloexec);
	CHECK(sh->fds_closed);
}

/* Everything in one write, the data too (as some clients do). */
static void
test_pipelined(void)
{
	struct serve_options o = options();
	char *out = run(&o, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	                    "RCPT TO:<c@d.example>\r\nRCPT TO:<e@f.example>\r\n"
	                    "DATA\r\nline 1\r\n.\r\nQUIT\r\n");

	CHECK_STR(out, GREETING EHLO_REPLY
	          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	          "354 End data with <CR><LF>.<CR><LF>\r\n"
	          "250 2.0.0 Ok: queued\r\n" BYE);
	CHECK_INT(sh->nmsgs, 1);
	CHECK_STR(sh->msgs[0].sender, "a@b.example");
	CHECK_STR(sh->msgs[0].rcpts, "c@d.example e@f.example");
	CHECK_INT(sh->msgs[0].nrcpts, 2);
	CHECK_STR(sh->msgs[0].data, "line 1\r\n");
	CHECK(sh->fds_closed);
	free(out);
}

/* Data cases: what the client sends after DATA, what the callback gets. */
static const struct data_case {
	const char *name;
	const char *in;
	size_t in_len; /* 0: strlen(in) */
	const char *data;
	size_t data_len; /* 0: strlen(data) */
	bool lf_client;  /* DATA itself is sent with a bare LF */
} data_cases[] = {
    {"empty", ".\r\n", 0, "", 0, false},
    {"unstuffing", "..x\r\n...\r\n.. \r\nx.\r\n. \r\n.\r\n", 0,
     ".x\r\n..\r\n. \r\nx.\r\n \r\n", 0, false},
    {"mixed line ends", "a\r\nb\nc\r\n.\r\n", 0, "a\r\nb\nc\r\n", 0, false},
    /* SMTP smuggling (CVE-2023-51764): after DATA<CR><LF>, only
     * <CR><LF>.<CR><LF> ends the data; the other forms are text. */
    {"smuggling <LF>.<LF>",
     "a\n.\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<y@evil.example>\r\n"
     "DATA\r\nforged\r\n.\r\n",
     0,
     "a\n.\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<y@evil.example>\r\n"
     "DATA\r\nforged\r\n",
     0, false},
    {"smuggling <LF>.<CR><LF>", "a\n.\r\nMAIL FROM:<x@evil.example>\r\n.\r\n",
     0, "a\n.\r\nMAIL FROM:<x@evil.example>\r\n", 0, false},
    {"smuggling <CR><LF>.<LF>", "a\r\n.\nMAIL FROM:<x@evil.example>\r\n.\r\n",
     0, "a\r\n.\nMAIL FROM:<x@evil.example>\r\n", 0, false},
    {"a first line \".\" with a bare LF", ".\nx\r\n.\r\n", 0, ".\nx\r\n", 0,
     false},
    {"\".\" after an empty bare-LF line", "\n.\r\n.\r\n", 0, "\n.\r\n", 0,
     false},
    {"stuffed after a bare LF", "a\n..b\r\n.\r\n", 0, "a\n.b\r\n", 0, false},
    {"CR LF after a bare CR", "a\r\r\n.\r\n", 0, "a\r\r\n", 0, false},
    /* A client that sends DATA with a bare LF ends its lines so. */
    {"LF only", "a\n..b\n\nc\n.\n", 0, "a\n.b\n\nc\n", 0, true},
    {"LF client, CRLF end", "a\n.\r\n", 0, "a\n", 0, true},
    {"LF client, dot after CRLF", "a\r\n.\n", 0, "a\r\n", 0, true},
    {"CR inside a line", "a\rb\r\n.\rx\r\n.\r\n", 0, "a\rb\r\n\rx\r\n", 0,
     false},
    {"dot line with CR CR LF", ".\r\r\n.\r\n", 0, "\r\r\n", 0, false},
    {"no line end before the dot", "abc\r\n.\r\n", 0, "abc\r\n", 0, false},
    {"8-bit", S("a b\xff\r\n.\r\n"), S("a b\xff\r\n"), false},
};

/* RFC 3030 3: NUL only in BDAT with BODY=BINARYMIME, which -bs does not
 * offer: data with one is answered 554 and never delivered, and the
 * next message on the session is taken as usual. */
static void
test_data_nul(void)
{
	static const char in[] =
	    "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
	    "DATA\r\na\0b\r\n.\r\n"
	    "MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
	    "DATA\r\nab\r\n.\r\nQUIT\r\n";
	struct serve_options o = options();
	char *out = run_n(&o, in, sizeof in - 1, false);

	CHECK_TRANSCRIPT("NUL in the data", out,
	                 GREETING EHLO_REPLY
	                 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 *\r\n"
	                 "554 5.6.0 The data holds NUL octets, *\r\n"
	                 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 *\r\n"
	                 "250 2.0.0 Ok: queued\r\n" BYE);
	CHECK_INT(sh->nmsgs, 1);
	if (sh->nmsgs == 1)
		CHECK_MEM(sh->msgs[0].data, sh->msgs[0].len, "ab\r\n", 4);
	free(out);
}

static void
test_data_cases(void)
{
	static const char head[] = "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	                           "RCPT TO:<c@d.example>\r\nDATA\r\n";
	static const char head_lf[] = "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	                              "RCPT TO:<c@d.example>\r\nDATA\n";

	for (size_t i = 0; i < sizeof data_cases / sizeof data_cases[0]; i++) {
		const struct data_case *c = &data_cases[i];
		struct serve_options o = options();
		char in[512];
		const char *h = c->lf_client ? head_lf : head;
		size_t hn = strlen(h);
		size_t n = c->in_len ? c->in_len : strlen(c->in);
		size_t dn = c->data_len ? c->data_len : strlen(c->data);
		char *out;

		memcpy(in, h, hn);
		memcpy(in + hn, c->in, n);
		memcpy(in + hn + n, "QUIT\r\n", 6);
		out = run_n(&o, in, hn + n + 6, false);
		CHECK_TRANSCRIPT(c->name, out,
		                 GREETING EHLO_REPLY
		                 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 *\r\n"
		                 "250 2.0.0 Ok: queued\r\n" BYE);
		CHECK_INT(sh->nmsgs, 1);
		CHECK_MEM(sh->msgs[0].data, sh->msgs[0].len, c->data, dn);
		free(out);
	}
}

/* The end of the data split at every point between two reads. */
static void
test_split_reads(void)
{
	/* A CR LF split between reads, and a "." line after a bare LF
	 * (text: only <CR><LF>.<CR><LF> ends the data). */
	static const char data[] = "..a\r\n.b\n.\r\nc\r\n.\r\nQUIT\r\n";
	const struct timespec pause = {0, 3 * 1000 * 1000};

	for (size_t k = 1; k < sizeof data - 1; k++) {
		struct serve_options o = options();
		struct session t;
		char name[64];

		start(&t, &o, false);
		say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
		        "RCPT TO:<c@d.example>\r\nDATA\r\n");
		CHECK(expect(&t, "354 "));
		say_n(&t, data, k);
		nanosleep(&pause, NULL);
		say_n(&t, data + k, sizeof data - 1 - k);
		finish(&t);
		snprintf(name, sizeof name, "split at %zu", k);
		CHECK_TRANSCRIPT(name, buf_str(&t.out) + t.seen,
		                 "End data with <CR><LF>.<CR><LF>\r\n"
		                 "250 2.0.0 Ok: queued\r\n" BYE);
		CHECK_INT(sh->nmsgs, 1);
		CHECK_STR(sh->msgs[0].data, ".a\r\nb\n.\r\nc\r\n");
		buf_clear(&t.out);
	}
}

/* Bare LF everywhere, over pipes: the replies still end in CRLF. */
static void
test_lf_only_pipes(void)
{
	struct serve_options o = options();
	static const char in[] = "EHLO c\nMAIL FROM:<a@b.example>\n"
	                         "RCPT TO:<c@d.example>\nDATA\nline1\n..x\n.\n"
	                         "QUIT\n";
	char *out = run_n(&o, in, sizeof in - 1, true);

	CHECK_STR(out,
	          GREETING EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	                              "354 End data with <CR><LF>.<CR><LF>\r\n"
	                              "250 2.0.0 Ok: queued\r\n" BYE);
	CHECK_INT(sh->nmsgs, 1);
	CHECK_STR(sh->msgs[0].data, "line1\n.x\n");
	free(out);
}

static void
test_two_messages(void)
{
	struct serve_options o = options();
	char *out =
	    run(&o, "EHLO c\r\n"
	            "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
	            "DATA\r\none\r\n.\r\n"
	            "RSET\r\n"
	            "MAIL FROM:<>\r\nRCPT TO:<e@f.example>\r\n"
	            "RCPT TO:<g@h.example>\r\n"
	            "DATA\r\ntwo\r\n.\r\n"
	            "MAIL FROM:<x@y.example>\r\nRCPT TO:<z@y.example>\r\n"
	            "RSET\r\nQUIT\r\n");

	CHECK_STR(out, GREETING EHLO_REPLY
	          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with "
	          "<CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued\r\n"
	          "250 2.0.0 Ok\r\n"
	          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
	          "354 End data with <CR><LF>.<CR><LF>\r\n"
	          "250 2.0.0 Ok: queued\r\n"
	          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok\r\n" BYE);
	CHECK_INT(sh->nmsgs, 2);
	CHECK_STR(sh->msgs[0].sender, "a@b.example");
	CHECK_STR(sh->msgs[0].rcpts, "c@d.example");
	CHECK_STR(sh->msgs[0].data, "one\r\n");
	CHECK_STR(sh->msgs[1].sender, "");
	CHECK_STR(sh->msgs[1].rcpts, "e@f.example g@h.example");
	CHECK_STR(sh->msgs[1].data, "two\r\n");
	CHECK(sh->fds_closed);
	free(out);
}

/* MAIL and RCPT parameters reach the callback; the source route does
 * not; a later RCPT's NOTIFY does not replace the first one's. */
static void
test_envelope_fields(void)
{
	struct serve_options o = options();
	struct record *r = &sh->msgs[0];
	char *out =
	    run(&o, "EHLO c\r\n"
	            "MAIL FROM:<@relay.example:j\xc3\xb6rg@b.example> RET=HDRS "
	            "ENVID=abc+2Bdef BODY=8BITMIME SMTPUTF8 AUTH=<>\r\n"
	            "RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE "
	            "ORCPT=rfc822;c@d.example\r\n"
	            "RCPT TO:<e@f.example> NOTIFY=NEVER\r\n"
	            "DATA\r\nx\r\n.\r\n"
	            "MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
	            "RCPT TO:<e@f.example> NOTIFY=NEVER\r\n"
	            "DATA\r\ny\r\n.\r\nQUIT\r\n");

	CHECK_INT(sh->nmsgs, 2);
	CHECK_STR(r->sender, "j\xc3\xb6rg@b.example");
	CHECK_STR(r->ret, "HDRS");
	CHECK_STR(r->envid, "abc+def"); /* decoded from xtext */
	CHECK_STR(r->notify, "SUCCESS,FAILURE");
	CHECK(r->body_8bit);
	CHECK(r->smtputf8);
	r = &sh->msgs[1];
	CHECK_STR(r->ret, "-");
	CHECK_STR(r->envid, "-");
	CHECK_STR(r->notify, "-");
	CHECK(!r->body_8bit);
	CHECK(!r->smtputf8);
	free(out);
}

/* The callback's answer is the reply to the dot, checked and cleaned. */
static void
test_answers(void)
{
	struct serve_options o = options();
	struct buf in;
	char *out;

	answers[0] = "451 4.4.1 Connection refused";
	answers[1] = "550 5.7.1 Relay access denied";
	answers[2] = "hello";
	answers[3] = "";
	answers[4] = "250 queued as ABC";
	answers[5] = "250-2.0.0 first line";
	answers[6] = "250 5.0.0 ok\r\nRSET";
	answers[7] = "@full";
	buf_init(&in, 1 << 20);
	buf_append_str(&in, "EHLO c\r\n");
	for (int i = 0; i < 9; i++)
		buf_append_str(&in,
		               "MAIL FROM:<a@b.example>\r\n"
		               "RCPT TO:<c@d.example>\r\nDATA\r\nx\r\n.\r\n");
	buf_append_str(&in, "QUIT\r\n");
	out = run(&o, buf_str(&in));
#define ACCEPTED "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 *\r\n"
	CHECK_TRANSCRIPT(
	    "answers", out,
	    GREETING EHLO_REPLY ACCEPTED
	    "451 4.4.1 Connection refused\r\n" ACCEPTED
	    "550 5.7.1 Relay access denied\r\n" ACCEPTED
	    "451 4.3.0 Local delivery failed: no valid "
	    "answer\r\n" ACCEPTED "451 4.3.0 Local delivery failed: no valid "
	    "answer\r\n" ACCEPTED "250 2.0.0 queued as ABC\r\n" ACCEPTED
	    "250 2.0.0 first line\r\n" ACCEPTED
	    "250 2.0.0 ok??RSET\r\n" ACCEPTED "250 2.0.0 xxxx*\r\n" ACCEPTED
	    "250 2.0.0 Ok\r\n" BYE);
#undef ACCEPTED
	CHECK_INT(sh->nmsgs, 9);
	/* No reply line is longer than 512 octets with its CRLF. */
	for (const char *p = out; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) + 1 : strlen(p);

		CHECK(n <= 512);
		p += n;
	}
	free(out);
	buf_clear(&in);
}

/* A message larger than any buffer, with dot lines at every distance from
 * the read boundaries: compared by length and hash, never held. */
static void
test_large_message(void)
{
	struct serve_options o = options();
	struct session t;
	struct buf chunk, line;
	uint64_t hash = FNV_INIT, len = 0;
	unsigned seed = 1;

	buf_init(&chunk, 1 << 20);
	buf_init(&line, 1 << 20);
	start(&t, &o, false);
	say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	        "RCPT TO:<c@d.example>\r\nDATA\r\n");
	while (len < 8u * 1024 * 1024) {
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 300;
		buf_reset(&line);
		for (size_t i = 0; i < n; i++)
			buf_append_char(&line, (char)('a' + (i + seed) % 26));
		if (seed % 5 == 0)
			line.data[0] = '.';
		buf_append_str(&line, seed % 7 == 0 ? "\n" : "\r\n");
		/* The line as the callback must see it... */
		hash = fnv1a(hash, line.data, line.len);
		len += line.len;
		/* ...and as it goes on the wire. */
		if (line.data[0] == '.')
			buf_append_char(&chunk, '.');
		buf_append(&chunk, line.data, line.len);
		if (chunk.len > 60000) {
			say_n(&t, chunk.data, chunk.len);
			buf_reset(&chunk);
		}
	}
	buf_append_str(&chunk, ".\r\nQUIT\r\n");
	say_n(&t, chunk.data, chunk.len);
	finish(&t);
	CHECK_STR(buf_str(&t.out),
	          GREETING EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	                              "354 End data with <CR><LF>.<CR><LF>\r\n"
	                              "250 2.0.0 Ok: queued\r\n" BYE);
	CHECK_INT(sh->nmsgs, 1);
	CHECK_INT(sh->msgs[0].len, len);
	CHECK(sh->msgs[0].hash == hash);
	CHECK(sh->fds_closed);
	buf_clear(&t.out);
	buf_clear(&chunk);
	buf_clear(&line);
}

/* Data past size_max, or a line past 1 MiB: read to the dot, refused,
 * never delivered; the session goes on. */
static void
test_data_too_big(void)
{
	struct serve_options o = options();
	struct session t;
	char block[4096];

	o.size_max = 1000;
	memset(block, 'x', sizeof block);
	start(&t, &o, false);
	say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	        "RCPT TO:<c@d.example>\r\nDATA\r\n");
	say_n(&t, block, sizeof block);
	say(&t, "\r\n.\r\nMAIL FROM:<a@b.example>\r\n"
	        "RCPT TO:<c@d.example>\r\nDATA\r\nsmall\r\n.\r\nQUIT\r\n");
	finish(&t);
	CHECK_STR(buf_str(&t.out), GREETING EHLO_HEAD
	          "250-SIZE 1000\r\n250 HELP\r\n"
	          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	          "354 End data with <CR><LF>.<CR><LF>\r\n"
	          "552 5.3.4 Message size exceeds fixed limit\r\n"
	          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	          "354 End data with <CR><LF>.<CR><LF>\r\n"
	          "250 2.0.0 Ok: queued\r\n" BYE);
	CHECK_INT(sh->nmsgs, 1);
	CHECK_STR(sh->msgs[0].data, "small\r\n");
	buf_clear(&t.out);

	o.size_max = 0;
	start(&t, &o, false);
	say(&t, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	        "RCPT TO:<c@d.example>\r\nDATA\r\n");
	for (int i = 0; i < 300; i++) /* 1.2 MiB */
		say_n(&t, block, sizeof block);
	say(&t, "\r\n.\r\nQUIT\r\n");
	finish(&t);
	CHECK_STR(buf_str(&t.out),
	          GREETING EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	                              "354 End data with <CR><LF>.<CR><LF>\r\n"
	                              "552 5.3.4 Line too long\r\n" BYE);
	CHECK_INT(sh->nmsgs, 0);
	buf_clear(&t.out);
}

static void
test_too_many_recipients(void)
{
	struct serve_options o = options();
	struct buf in, want;
	char *out;

	buf_init(&in, 1 << 20);
	buf_init(&want, 1 << 20);
	buf_append_str(&in, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n");
	buf_printf(&want, "%s%s250 2.1.0 Ok\r\n", GREETING, EHLO_REPLY);
	for (int i = 0; i < 1001; i++) {
		buf_printf(&in, "RCPT TO:<r%d@d.example>\r\n", i);
		buf_append_str(&want, i < 1000 ? "250 2.1.5 Ok\r\n"
		                               : "452 4.5.3 Too many "
		                                 "recipients\r\n");
	}
	buf_append_str(&in, "DATA\r\nx\r\n.\r\nQUIT\r\n");
	buf_append_str(&want, "354 End data with <CR><LF>.<CR><LF>\r\n"
	                      "250 2.0.0 Ok: queued\r\n" BYE);
	out = run(&o, buf_str(&in));
	CHECK(strcmp(out, buf_str(&want)) == 0);
	CHECK_INT(sh->nmsgs, 1);
	CHECK_INT(sh->msgs[0].nrcpts, 1000);
	free(out);
	buf_clear(&in);
	buf_clear(&want);
}

/* Command lines: up to 2048 octets are taken, longer ones refused and
 * skipped to their end (even across reads), NUL refused. */
static void
test_long_lines(void)
{
	static const size_t lengths[] = {600, 2046, 2047, 3000, 200000};
	static const char *const replies[] = {
	    "250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n",
	    "500 5.5.2 Line too long\r\n", "500 5.5.2 Line too long\r\n",
	    "500 5.5.2 Line too long\r\n"};
	struct serve_options o = options();

	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		struct buf in, want;
		char *out;

		buf_init(&in, 1 << 20);
		buf_init(&want, 1 << 20);
		buf_append_str(&in, "EHLO c\r\nNOOP ");
		while (in.len < 8 + lengths[i])
			buf_append_char(&in, 'x');
		buf_append_str(&in, "\r\nRSET\r\nQUIT\r\n");
		buf_printf(&want, "%s%s%s250 2.0.0 Ok\r\n%s", GREETING,
		           EHLO_REPLY, replies[i], BYE);
		out = run(&o, buf_str(&in));
		CHECK_TRANSCRIPT("long line", out, buf_str(&want));
		free(out);
		buf_clear(&in);
		buf_clear(&want);
	}

	char *out = run_n(&o, S("EHLO c\r\nNO\0OP\r\nNOOP\r\nQUIT\r\n"), false);

	CHECK_STR(out, GREETING EHLO_REPLY
	          "500 5.5.2 Bad character in command\r\n250 2.0.0 Ok\r\n" BYE);
	free(out);
}

/* 20 protocol errors in a row end the session; other replies between
 * them start the count again. */
static void
test_too_many_errors(void)
{
	struct serve_options o = options();
	struct buf in, want;
	char *out;

	buf_init(&in, 1 << 20);
	buf_init(&want, 1 << 20);
	buf_append_str(&want, GREETING);
	for (int i = 0; i < 19; i++) {
		buf_append_str(&in, "FOO\r\n");
		buf_append_str(&want, "500 5.5.2 Command not recognized\r\n");
	}
	buf_append_str(&in, "NOOP\r\n");
	buf_append_str(&want, "250 2.0.0 Ok\r\n");
	for (int i = 0; i < 25; i++)
		buf_append_str(&in, "MAIL FROM:<a@b.example>\r\n");
	for (int i = 0; i < 20; i++)
		buf_append_str(&want, "503 5.5.1 Send EHLO or HELO first\r\n");
	buf_append_str(&want, "421 4.7.0 test.example Too many errors\r\n");
	out = run(&o, buf_str(&in));
	CHECK_STR(out, buf_str(&want));
	CHECK_INT(sh->rc, -1);
	CHECK_INT(sh->kind, ERROR_PROTOCOL);
	free(out);
	buf_clear(&in);
	buf_clear(&want);
}

/* End of input without QUIT: 0; a message cut short is never delivered. */
static void
test_end_of_input(void)
{
	static const char *const cut[] = {"partial line\r\n", "partial",
	                                  "x\r\n.", "x\r\n.\r", ""};
	struct serve_options o = options();

	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		struct buf in;
		char *out;

		buf_init(&in, 1 << 20);
		buf_printf(&in,
		           "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
		           "RCPT TO:<c@d.example>\r\nDATA\r\n%s",
		           cut[i]);
		out = run(&o, buf_str(&in));
		CHECK_STR(out, GREETING EHLO_REPLY
		          "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		          "354 End data with <CR><LF>.<CR><LF>\r\n");
		CHECK_INT(sh->nmsgs, 0);
		CHECK_INT(sh->rc, 0);
		CHECK(sh->fds_closed);
		free(out);
		buf_clear(&in);
	}

	/* A command without a line end is not a command. */
	char *out = run(&o, "EHLO c\r\nNOOP");

	CHECK_STR(out, GREETING EHLO_REPLY);
	CHECK_INT(sh->rc, 0);
	free(out);
}

static void
test_idle_timeout(void)
{
	static const char *const inputs[] = {
	    "EHLO c\r\nNOO",
	    "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
	    "DATA\r\nsome data\r\n"};
	struct serve_options o = options();

	o.idle_timeout_ms = 200;
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		struct session t;
		int64_t t0 = now_ms(), elapsed;
		const char *all;
		size_t n;

		start(&t, &o, false);
		say(&t, inputs[i]);
		drain(&t); /* the server ends the session, not us */
		elapsed = now_ms() - t0;
		finish(&t);
		all = buf_str(&t.out);
		n = strlen(all);
		CHECK(n > 40 &&
		      strcmp(all + n - 32,
		             "421 4.4.2 test.example Timeout\r\n") == 0);
		CHECK(elapsed >= 200 && elapsed < 5000);
		CHECK_INT(sh->rc, -1);
		CHECK_INT(sh->kind, ERROR_TEMPFAIL);
		CHECK_INT(sh->nmsgs, 0);
		buf_clear(&t.out);
	}
}

/* The client stops reading: -1 ERROR_IOERR, and a message whose answer
 * it can no longer hear is not delivered. */
static void
test_client_gone(void)
{
	static const char *const inputs[] = {
	    "EHLO c\r\nNOOP\r\n",
	    "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n"
	    "DATA\r\nx\r\n.\r\nQUIT\r\n"};
	struct serve_options o = options();

	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		struct session t;

		start(&t, &o, true);
		close(t.rfd);
		t.rfd = open("/dev/null", O_RDONLY);
		say(&t, inputs[i]);
		finish(&t);
		CHECK_INT(sh->rc, -1);
		CHECK_INT(sh->kind, ERROR_IOERR);
		CHECK_INT(sh->nmsgs, 0);
		buf_clear(&t.out);
	}
}

/* No data file: 451 to DATA, -1 ERROR_IOERR. */
static void
test_no_data_file(void)
{
	struct serve_options o = options();
	char *out;

	o.tmpdir = "/nonexistent/mailpost-serve-test";
	out = run(&o, "EHLO c\r\nMAIL FROM:<a@b.example>\r\n"
	              "RCPT TO:<c@d.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n");
	CHECK_STR(out, GREETING EHLO_REPLY "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
	                                   "451 4.3.0 Cannot store the "
	                                   "message\r\n");
	CHECK_INT(sh->rc, -1);
	CHECK_INT(sh->kind, ERROR_IOERR);
	CHECK_INT(sh->nmsgs, 0);
	free(out);
}

/* No host name given: "localhost". */
static void
test_default_hostname(void)
{
	struct serve_options o = options();
	char *out;

	o.hostname = NULL;
	out = run(&o, "HELO c\r\nQUIT\r\n");
	CHECK_STR(out, "220 localhost ESMTP mailpost\r\n250 localhost\r\n" BYE);
	CHECK_INT(sh->rc, 0);
	free(out);
}

/* --- main ------------------------------------------------------------- */

#define RUN(test)                                                              \
	do {                                                                   \
		leak_check = true;                                             \
		test();                                                        \
	} while (0)

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("serve_test: mmap");
	if (!mkdtemp(test_dir))
		die("serve_test: mkdtemp");

	RUN(test_script_cases);
	RUN(test_script_cases_together);
	RUN(test_interactive);
	RUN(test_pipelined);
	RUN(test_data_cases);
	RUN(test_data_nul);
	RUN(test_split_reads);
	RUN(test_lf_only_pipes);
	RUN(test_two_messages);
	RUN(test_envelope_fields);
	RUN(test_answers);
	RUN(test_large_message);
	RUN(test_data_too_big);
	RUN(test_too_many_recipients);
	RUN(test_long_lines);
	RUN(test_too_many_errors);
	RUN(test_end_of_input);
	RUN(test_idle_timeout);
	RUN(test_client_gone);
	RUN(test_no_data_file);
	RUN(test_default_hostname);

	/* Every data file was unlinked at once: nothing is left. */
	CHECK(rmdir(test_dir) == 0);
	return unit_done();
}
