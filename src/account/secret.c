/*
 * secret.c - getting the password for an account (see secret.h).
 *
 * Every secret lives in one buffer of SECRET_MAX + 1 bytes, allocated once
 * and filled in place (no realloc, which would leave copies behind), and
 * wiped whole by secret_free.  Children (passwordeval, secret-tool) get
 * /dev/null as input, a pipe as output, another as standard error (read
 * with a ceiling, shown only in an error), no other descriptor, and our
 * environment without the variable passwordenv names.  A child runs in a
 * process group of its own, which is killed whole when it fails or takes
 * too long: a background process it started must not live on holding a
 * descriptor, or a caller reading our stderr to its end (PHP's proc_open,
 * Python's subprocess) would wait after we exited.
 */
#include "config.h"

#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "interrupt.h"
#include "privilege.h"
#include "util.h"

extern char **environ;

/* Descriptors closed in a child: all from 3 up to this (or the limit). */
#define CHILD_FD_CEILING 65536
/* What a child's standard error may say in our error message; the rest
 * is read and dropped. */
#define CHILD_STDERR_MAX 400
/* After SIGTERM, how long a child's process group has to go before
 * SIGKILL. */
#define CHILD_KILL_GRACE_MS 200

/* What the sources share for one lookup. */
struct ctx {
	const struct secret_request *r;
	char **envp; /* environ without r->passwordenv */
	int timeout_ms;
	bool system; /* a command of the system configuration, run with the
	              * group: its output and what it says stay ours */
};

/* ------------------------------------------------------------------------
 * The buffer.
 */

static void
secret_alloc(struct secret *s, enum secret_source source)
{
	s->data = xmalloc(SECRET_MAX + 1);
	s->data[0] = '\0';
	s->len = 0;
	s->source = source;
}

void
secret_from(struct secret *out, const char *value, enum secret_source source)
{
	size_t n = strlen(value);

	secret_alloc(out, source);
	if (n > SECRET_MAX)
		n = SECRET_MAX;
	memcpy(out->data, value, n);
	out->data[n] = '\0';
	out->len = n;
}

void
secret_free(struct secret *s)
{
	if (!s)
		return;
	if (s->data) {
		wipe(s->data, SECRET_MAX + 1);
		free(s->data);
	}
	s->data = NULL;
	s->len = 0;
	s->source = SECRET_NONE;
}

/* Keep only what a password can be: no trailing CR, no NUL inside. */
static bool
secret_finish(struct secret *s)
{
	while (s->len > 0 && s->data[s->len - 1] == '\r')
		s->len--;
	s->data[s->len] = '\0';
	return memchr(s->data, '\0', s->len) == NULL;
}

/* ------------------------------------------------------------------------
 * Reading the first line from a descriptor, with a deadline.
 */

enum rd {
	RD_OK,
	RD_TIMEOUT,
	RD_TOOLONG,
	RD_ERROR, /* errno says why */
};

/* Wait until fd is readable; deadline < 0: no limit. */
static enum rd
wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = {fd, POLLIN, 0};

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int rc;

		if (deadline >= 0 && left <= 0)
			return RD_TIMEOUT;
		rc = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc > 0)
			return RD_OK;
		if (rc < 0 && (errno != EINTR || interrupt_cuts()))
			return RD_ERROR; /* a signal during a send: stop */
	}
}

/* Read into s the first line from fd (without its LF), stopping at the
 * newline: a terminal, or a descriptor handed to us (a child's output is
 * read to its end by read_child_output). */
static enum rd
read_first_line(int fd, struct secret *s, int64_t deadline)
{
	for (;;) {
		size_t room = SECRET_MAX - s->len;
		enum rd rc;
		ssize_t n;
		char *nl;

		if (room == 0)
			return RD_TOOLONG;
		rc = wait_readable(fd, deadline);
		if (rc != RD_OK)
			return rc;
		n = read(fd, s->data + s->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return RD_ERROR;
		if (n == 0)
			return RD_OK;
		nl = memchr(s->data + s->len, '\n', (size_t)n);
		s->len += (size_t)n;
		if (nl) {
			wipe(nl, s->len - (size_t)(nl - s->data));
			s->len = (size_t)(nl - s->data);
			return RD_OK;
		}
	}
}

/* ------------------------------------------------------------------------
 * Running a child: passwordeval and secret-tool.
 */

enum run_status {
	RUN_OK,
	RUN_EXIT,   /* exited with a non-zero status (code) */
	RUN_SIGNAL, /* killed by a signal (code) */
	RUN_TIMEOUT,
	RUN_TOOLONG,
	RUN_ERROR, /* fork, pipe or read failed (code: errno) */
};

struct run_result {
	enum run_status status;
	int code;
};

/* What a child wrote on its standard error: its first CHILD_STDERR_MAX
 * bytes. */
struct child_stderr {
	char text[CHILD_STDERR_MAX + 1];
	size_t len;
	bool cut; /* more came than was kept */
};

/* One child: its process id, whether it leads a group of its own, and the
 * read ends of its output and its standard error. */
struct child {
	pid_t pid;
	bool own_group;
	int out, err;
	struct child_stderr *said;
};

/* The highest descriptor a child closes, decided before fork. */
static int
fd_ceiling(void)
{
	long max = sysconf(_SC_OPEN_MAX);

	return max < 0 || max > CHILD_FD_CEILING ? CHILD_FD_CEILING : (int)max;
}

/* A process group of its own, unless we are the foreground job of a
 * terminal: a command there may ask for a passphrase on /dev/tty, which a
 * background group cannot read (SIGTTIN), and the user's ^C reaches it
 * with us.  Callers without a terminal (cron, PHP, a service) are the
 * ones that read our stderr to its end. */
static bool
own_group_wanted(void)
{
	int fd = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
	bool foreground;

	if (fd < 0)
		return true;
	foreground = tcgetpgrp(fd) == getpgrp();
	close(fd);
	return !foreground;
}

/* In the child: every descriptor above standard error, however high the
 * caller opened it (the loop's ceiling is only the fallback). */
static void
close_from_3(int max_fd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	for (int fd = 3; fd < max_fd; fd++)
		close(fd);
}

/* In the child of a system configuration's command, which holds the
 * group: nothing of the caller's context but its user id.  Its own
 * directory and umask would decide where and how readable the files the
 * command writes are; signals the caller ignored or blocked would
 * survive exec. */
static void
system_context(const struct sigaction *dfl)
{
	sigset_t none;

	if (chdir("/") < 0)
		_exit(127);
	umask(077);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
child_exec(const struct ctx *cx, const char *path, char *const argv[],
           const int fds[3], bool own_group, int max_fd)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	if (cx->system && privilege_child_take_group() < 0)
		_exit(127);
	/* A system command gets a session of its own: without a
	 * controlling terminal, /dev/tty cannot be opened, so it cannot
	 * prompt the caller or read what the caller types.  Its process
	 * group is the session's, signalled as any own group is. */
	if (cx->system && setsid() < 0)
		_exit(127);
	if (!cx->system && own_group && setpgid(0, 0) < 0)
		_exit(127);
	if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
		_exit(127);
	close_from_3(max_fd);
	/* An ignored SIGPIPE would survive exec; the child wants it. */
	sigaction(SIGPIPE, &dfl, NULL);
	if (cx->system)
		system_context(&dfl);
	execve(path, argv, cx->envp);
	_exit(127);
}

/* Keep what the child says on its standard error, up to the ceiling;
 * read the rest and drop it, so that it never blocks writing.  Returns
 * false at end of file or on an error (the descriptor is then closed). */
static bool
take_stderr(struct child *c)
{
	char scratch[512];
	ssize_t n = read(c->err, scratch, sizeof scratch);
	size_t room = CHILD_STDERR_MAX - c->said->len;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		close(c->err);
		c->err = -1;
		return false;
	}
	if ((size_t)n < room)
		room = (size_t)n;
	else if ((size_t)n > room)
		c->said->cut = true;
	memcpy(c->said->text + c->said->len, scratch, room);
	c->said->len += room;
	c->said->text[c->said->len] = '\0';
	wipe(scratch, sizeof scratch);
	return true;
}

/* Read what is waiting on the child's standard error now, without
 * waiting: what it wrote before it exited is in the pipe.  Bounded, in
 * case something the child left behind keeps writing. */
static void
drain_stderr(struct child *c)
{
	for (int i = 0; i < 64 && c->err >= 0; i++) {
		struct pollfd p = {c->err, POLLIN, 0};

		if (poll(&p, 1, 0) <= 0 || !take_stderr(c))
			break;
	}
}

/* Wait until the child's output is readable, reading its standard error
 * meanwhile; deadline < 0: no limit. */
static enum rd
wait_output(struct child *c, int64_t deadline)
{
	for (;;) {
		struct pollfd p[2] = {{c->out, POLLIN, 0}, {c->err, POLLIN, 0}};
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int rc;

		if (deadline >= 0 && left <= 0)
			return RD_TIMEOUT;
		rc = poll(p, c->err >= 0 ? 2 : 1,
		          left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc < 0 && (errno != EINTR || interrupt_cuts()))
			return RD_ERROR; /* a signal during a send: stop */
		if (rc > 0 && p[1].revents)
			take_stderr(c);
		if (rc > 0 && p[0].revents)
			return RD_OK;
	}
}

/* Signal the child, and its group when it has one. */
static void
signal_child(const struct child *c, int sig)
{
	if (!c->own_group || kill(-c->pid, sig) < 0)
		kill(c->pid, sig);
}

/* Stop a child that failed or ran out of time: SIGTERM to its group, a
 * moment to go, then SIGKILL to whatever is left of the group (a process
 * group outlives its leader, and its id is not reused while it does). */
static void
stop_child(const struct child *c, int *st)
{
	int64_t until = now_ms() + CHILD_KILL_GRACE_MS;
	bool reaped = false;

	signal_child(c, SIGTERM);
	while (!reaped && now_ms() < until) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		pid_t got = waitpid(c->pid, st, WNOHANG);

		if (got == c->pid || (got < 0 && errno != EINTR))
			reaped = true;
		else
			nanosleep(&ts, NULL);
	}
	if (!reaped) {
		signal_child(c, SIGKILL);
		while (waitpid(c->pid, st, 0) < 0 && errno == EINTR)
			;
	} else if (c->own_group) {
		/* The leader is reaped: its id may already be another
		 * process's, so only the group, which keeps the id while
		 * anything of it lives, is signalled. */
		kill(-c->pid, SIGKILL);
	}
}

/* The leader has exited and is reaped: what it started in its group
 * gets the same SIGTERM, grace and SIGKILL as in stop_child.  The group
 * id cannot be reused while a member lives, and kill fails once none
 * does. */
static void
stop_group(const struct child *c)
{
	int64_t until = now_ms() + CHILD_KILL_GRACE_MS;

	if (!c->own_group || kill(-c->pid, SIGTERM) < 0)
		return;
	while (now_ms() < until && kill(-c->pid, 0) == 0) {
		struct timespec ts = {0, 5 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	kill(-c->pid, SIGKILL);
}

/* A few milliseconds between two looks at a child that has not exited,
 * spent reading its standard error: a child that closed its output and
 * then says more than a pipe holds must not be stuck writing it. */
static void
pause_reading_stderr(struct child *c)
{
	struct timespec ts = {0, 5 * 1000 * 1000};
	struct pollfd p = {c->err, POLLIN, 0};

	if (c->err < 0)
		nanosleep(&ts, NULL);
	else if (poll(&p, 1, 5) > 0)
		take_stderr(c);
}

/* Wait for the child until the deadline; then stop it.  A child that
 * closed its output but does not exit is a timeout too.  A child that
 * failed has what it started stopped too; one that succeeded keeps it
 * (an agent it launched, say). */
static struct run_result
reap(struct child *c, int64_t deadline, enum run_status read_status)
{
	struct run_result res = {read_status, 0};
	int st = 0;

	for (;;) {
		pid_t got = waitpid(c->pid, &st, WNOHANG);

		if (got == c->pid)
			break;
		if (got < 0 && errno != EINTR) {
			res.status = RUN_ERROR;
			res.code = errno;
			return res;
		}
		if (res.status != RUN_OK || now_ms() >= deadline) {
			if (res.status == RUN_OK)
				res.status = RUN_TIMEOUT;
			stop_child(c, &st);
			return res;
		}
		pause_reading_stderr(c);
	}
	if (res.status == RUN_OK && WIFSIGNALED(st)) {
		res.status = RUN_SIGNAL;
		res.code = WTERMSIG(st);
	} else if (res.status == RUN_OK && WIFEXITED(st) &&
	           WEXITSTATUS(st) != 0) {
		res.status = RUN_EXIT;
		res.code = WEXITSTATUS(st);
	}
	if (res.status != RUN_OK)
		stop_group(c);
	return res;
}

static struct run_result
run_error(int errnum)
{
	struct run_result res = {RUN_ERROR, errnum};

	return res;
}

static enum run_status
read_status_of(enum rd rc)
{
	if (rc == RD_TIMEOUT)
		return RUN_TIMEOUT;
	if (rc == RD_TOOLONG)
		return RUN_TOOLONG;
	if (rc == RD_ERROR)
		return RUN_ERROR;
	return RUN_OK;
}

/* Read into s the first line of the child's output (without its LF), and
 * the rest to end of file, so that it can finish writing. */
static enum rd
read_child_output(struct child *c, struct secret *s, int64_t deadline)
{
	char scratch[512];
	bool line_done = false;
	enum rd rc;

	for (;;) {
		size_t room = SECRET_MAX - s->len;
		char *into = line_done ? scratch : s->data + s->len;
		ssize_t n;
		char *nl;

		if (!line_done && room == 0)
			return RD_TOOLONG;
		rc = wait_output(c, deadline);
		if (rc != RD_OK)
			break;
		n = read(c->out, into, line_done ? sizeof scratch : room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n == 0 ? RD_OK : RD_ERROR;
			break;
		}
		if (line_done)
			continue;
		nl = memchr(into, '\n', (size_t)n);
		s->len += (size_t)n;
		if (nl) {
			wipe(nl, s->len - (size_t)(nl - s->data));
			s->len = (size_t)(nl - s->data);
			line_done = true;
		}
	}
	wipe(scratch, sizeof scratch);
	return rc;
}

/* The child's standard input: /dev/null, or a pipe that already holds
 * input whole (at most SECRET_MAX bytes, less than any pipe's capacity,
 * so the write never waits for the child), its write end closed.  The
 * read end, or -1 with errno. */
static int
child_input(const char *input)
{
	int p[2];
	size_t n = input ? strlen(input) : 0;

	if (!input)
		return open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (n > SECRET_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fd_write_all(p[1], input, n) < 0) {
		int saved = errno;

		close(p[0]);
		close(p[1]);
		errno = saved;
		return -1;
	}
	close(p[1]);
	return p[0];
}

/* The input (child_input), then a pipe for the output and one for
 * standard error: fds[0] input, fds[1] and fds[2] the child's ends,
 * fds[3] and fds[4] ours.  -1 with errno when one cannot be made (all
 * closed). */
static int
child_fds(int fds[5], const char *input)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1}, saved;

	fds[0] = child_input(input);
	if (fds[0] >= 0 && pipe2(out, O_CLOEXEC) == 0 &&
	    pipe2(err, O_CLOEXEC) == 0) {
		fds[1] = out[1];
		fds[2] = err[1];
		fds[3] = out[0];
		fds[4] = err[0];
		/* Only ever read when poll said so, or to drain. */
		fcntl(err[0], F_SETFL, O_NONBLOCK);
		return 0;
	}
	saved = errno;
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	errno = saved;
	return -1;
}

/* Run path with argv, input (or nothing: NULL) on its standard input,
 * its output's first line into s, what it said on its standard error
 * into said. */
static struct run_result
run(const struct ctx *cx, const char *path, char *const argv[],
    const char *input, struct secret *s, struct child_stderr *said)
{
	int64_t deadline = now_ms() + cx->timeout_ms;
	int fds[5], saved, max_fd = fd_ceiling();
	struct child c = {-1, cx->system || own_group_wanted(), -1, -1, said};
	struct run_result res;
	enum rd rc;

	said->len = 0;
	said->cut = false;
	said->text[0] = '\0';
	if (child_fds(fds, input) < 0)
		return run_error(errno);
	/* In the foreground of a terminal the command talks to the user
	 * directly, as a shell would let it: a prompt on its standard error
	 * (read -p, a passphrase question) must be seen.  Nobody there reads
	 * our stderr to its end, which is what the pipe is for. */
	if (!cx->system && !c.own_group && isatty(STDERR_FILENO)) {
		close(fds[2]);
		close(fds[4]);
		fds[2] = STDERR_FILENO;
		fds[4] = -1;
	}
	c.pid = fork();
	if (c.pid == 0)
		child_exec(cx, path, argv, fds, c.own_group, max_fd);
	saved = errno;
	/* Both sides set the group, so that it exists whichever runs
	 * first; the child's own call is the one that counts.  Not for a
	 * system command: setsid(2) fails in a process group leader, and
	 * until the child's call a signal reaches the child alone. */
	if (c.pid > 0 && c.own_group && !cx->system)
		setpgid(c.pid, c.pid);
	for (int i = 0; i < 3; i++)
		if (fds[i] != STDERR_FILENO)
			close(fds[i]);
	c.out = fds[3];
	c.err = fds[4];
	if (c.pid < 0) {
		close(c.out);
		close(c.err);
		return run_error(saved);
	}
	rc = read_child_output(&c, s, deadline);
	saved = errno;
	close(c.out);
	res = reap(&c, deadline, read_status_of(rc));
	drain_stderr(&c);
	if (c.err >= 0)
		close(c.err);
	if (res.status == RUN_ERROR && res.code == 0)
		res.code = saved;
	return res;
}

/* ------------------------------------------------------------------------
 * The sources.  Each returns 1 when it filled s, 0 when it does not apply
 * (or, for discovered sources, found nothing), -1 on error.
 */

static int
src_password(const struct ctx *cx, struct secret *s, struct error *err)
{
	size_t n;

	if (!cx->r->password || !*cx->r->password)
		return 0;
	n = strlen(cx->r->password);
	if (n > SECRET_MAX)
		return error_set(err, ERROR_CONFIG,
		                 "the password is longer than %d bytes",
		                 SECRET_MAX);
	secret_alloc(s, SECRET_PASSWORD);
	memcpy(s->data, cx->r->password, n + 1);
	s->len = n;
	return 1;
}

/* What an eval command gives, for its messages. */
static const char *
what_of(const struct ctx *cx)
{
	return cx->r->eval_key ? "secret" : "password";
}

/* Why a passwordeval command gave nothing; never its output. */
static int
eval_error(const struct ctx *cx, struct run_result res, struct error *err)
{
	const char *k = cx->r->eval_key ? cx->r->eval_key : "passwordeval";

	switch (res.status) {
	case RUN_EXIT:
		return error_set(err, ERROR_CONFIG,
		                 "%s command failed (exit status %d); no %s", k,
		                 res.code, what_of(cx));
	case RUN_SIGNAL:
		return error_set(err, ERROR_CONFIG,
		                 "%s command was killed by signal %d; no %s", k,
		                 res.code, what_of(cx));
	case RUN_TIMEOUT:
		return error_set(
		    err, ERROR_CONFIG,
		    "%s command did not finish within %d ms and was "
		    "killed (see passwordeval_timeout)",
		    k, cx->timeout_ms);
	case RUN_TOOLONG:
		return error_set(err, ERROR_CONFIG,
		                 "%s command printed a first line longer than "
		                 "%d bytes",
		                 k, SECRET_MAX);
	case RUN_ERROR:
		return error_set_errno(err, ERROR_OSERR, res.code,
		                       "cannot run the %s command", k);
	case RUN_OK:
		break;
	}
	return error_set(err, ERROR_SOFTWARE, "%s command: unexpected state",
	                 k);
}

/* The ceiling may cut a copy of the secret anywhere: "...hunter" at the
 * end of what was kept is as much a leak as the whole.  Blank the longest
 * end of text[0..len) that is a start of the secret. */
static void
scrub_cut_copy(char *text, size_t len, const struct secret *s)
{
	size_t k = s->len - 1 < len ? s->len - 1 : len;

	for (; k > 0; k--)
		if (memcmp(text + len - k, s->data, k) == 0) {
			memset(text + len - k, '*', k);
			return;
		}
}

/* Blank out every copy of the secret (what the command printed before it
 * failed) in text[0..len); when the text was cut, also the start of a
 * copy the ceiling cut off at its end. */
static void
scrub_secret(char *text, size_t len, bool cut, const struct secret *s)
{
	char *p = text, *end = text + len;

	/* Shorter than this, a match says nothing about the secret, and
	 * blanking it would garble the message. */
	if (s->len < 4)
		return;
	while ((size_t)(end - p) >= s->len) {
		char *hit = memchr(p, s->data[0], (size_t)(end - p));

		if (!hit || (size_t)(end - hit) < s->len)
			break;
		if (memcmp(hit, s->data, s->len) == 0) {
			memset(hit, '*', s->len);
			p = hit + s->len;
		} else {
			p = hit + 1;
		}
	}
	if (cut)
		scrub_cut_copy(text, len, s);
}

/* Add what the command said on its standard error to err's message, on
 * one line (each run of line breaks as " | "), censored, the secret
 * blanked out. */
static void
add_said(struct error *err, struct child_stderr *said, const struct secret *s)
{
	char base[ERROR_MSG_MAX], text[3 * CHILD_STDERR_MAX + 1];
	size_t n = 0;
	bool brk = false;
	struct secret bare = *s;

	/* The secret as secret_finish would make it: a failed command's
	 * first line may still end in the CR of a CRLF, which the copies on
	 * its standard error lack. */
	while (bare.len > 0 && bare.data[bare.len - 1] == '\r')
		bare.len--;
	scrub_secret(said->text, said->len, said->cut, &bare);
	for (size_t i = 0; i < said->len; i++) {
		char c = said->text[i];

		if (c == '\n' || c == '\r') {
			brk = n > 0;
			continue;
		}
		if (brk) {
			memcpy(text + n, " | ", 3);
			n += 3;
			brk = false;
		}
		text[n++] = c;
	}
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	text[n] = '\0';
	if (n == 0)
		return;
	str_censor(text, n);
	str_copy(base, sizeof base, err->msg);
	error_set(err, err->kind, "%s; it said: %s", base, text);
	wipe(text, sizeof text);
}

/* The variable that carries a passwordeval command to its shell, and the
 * shell variable that holds it there. */
#define EVAL_VAR "MAILPOST_PASSWORDEVAL"
#define EVAL_SHELL_VAR "mailpost_command"

/* What the shell runs: the command from EVAL_VAR, taken out of the
 * environment first, so that nothing the command starts inherits it. */
static const char eval_script[] = EVAL_SHELL_VAR
    "=$" EVAL_VAR "; unset " EVAL_VAR "; eval \"$" EVAL_SHELL_VAR "\"";

static bool
env_named(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

/* envp with EVAL_VAR=command first, and neither variable of eval_script
 * from envp (one of the caller's named EVAL_SHELL_VAR would stay exported
 * with the command in it); free with eval_environ_free. */
static char **
eval_environ(char **envp, const char *command)
{
	size_t n = 0, k = 0;
	size_t size = strlen(EVAL_VAR) + strlen(command) + 2;
	char **out;

	while (envp && envp[n])
		n++;
	out = xcalloc(n + 2, sizeof *out);
	out[k] = xmalloc(size);
	snprintf(out[k++], size, "%s=%s", EVAL_VAR, command);
	for (size_t i = 0; i < n; i++)
		if (!env_named(envp[i], EVAL_VAR) &&
		    !env_named(envp[i], EVAL_SHELL_VAR))
			out[k++] = envp[i];
	return out;
}

static void
eval_environ_free(char **envp)
{
	wipe(envp[0], strlen(envp[0]));
	free(envp[0]);
	free(envp);
}

/* msmtp-compatible: the command runs in /bin/sh, its output's first line
 * is the secret.  msmtp gives it as sh -c CMD; here it reaches the shell
 * in its environment instead, because argv is anyone's to read
 * (/proc/PID/cmdline, ps) and the command is the configuration's text,
 * which may be a system configuration only root and the group may read
 * (or a careless "echo PASSWORD").  The environment is readable only by
 * who may trace the shell: not by the caller when it runs with the
 * group, not by other users for root's flush. */
static int
src_eval(const struct ctx *cx, struct secret *s, struct error *err)
{
	char *argv[] = {"sh", "-c", (char *)eval_script, NULL};
	struct child_stderr said;
	struct run_result res;
	struct ctx with_command = *cx;

	if (!cx->r->passwordeval || !*cx->r->passwordeval)
		return 0;
	with_command.envp = eval_environ(cx->envp, cx->r->passwordeval);
	secret_alloc(s, SECRET_EVAL);
	res = run(&with_command, "/bin/sh", argv, NULL, s, &said);
	eval_environ_free(with_command.envp);
	if (res.status != RUN_OK) {
		eval_error(cx, res, err);
	} else if (!secret_finish(s) || s->len == 0) {
		const char *k =
		    cx->r->eval_key ? cx->r->eval_key : "passwordeval";

		if (s->len > 0)
			error_set(err, ERROR_CONFIG,
			          "%s command printed a NUL byte", k);
		else
			error_set(err, ERROR_CONFIG,
			          "%s command printed nothing (an empty first "
			          "line); no %s",
			          k, what_of(cx));
	} else {
		wipe(&said, sizeof said);
		return 1;
	}
	/* What a command run with the group says may quote what the group
	 * protects: the caller gets the cause alone. */
	if (!cx->system)
		add_said(err, &said, s);
	wipe(&said, sizeof said);
	secret_free(s);
	return -1;
}

static int
fd_error(int fd, enum rd rc, int ms, struct error *err)
{
	if (rc == RD_TIMEOUT)
		return error_set(err, ERROR_CONFIG,
		                 "passwordfd %d: nothing to read within %d ms",
		                 fd, ms);
	if (rc == RD_TOOLONG)
		return error_set(err, ERROR_CONFIG,
		                 "passwordfd %d: the first line is longer than "
		                 "%d bytes",
		                 fd, SECRET_MAX);
	if (rc == RD_ERROR)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "cannot read passwordfd %d", fd);
	return error_set(err, ERROR_CONFIG,
	                 "passwordfd %d gave an empty first line", fd);
}

/* A descriptor inherited from a service manager: one line, then it is
 * closed so that no child inherits it. */
static int
src_fd(const struct ctx *cx, struct secret *s, struct error *err)
{
	int fd = cx->r->passwordfd;
	enum rd rc;

	if (fd <= 0)
		return 0;
	if (fcntl(fd, F_GETFD) < 0)
		return error_set(err, ERROR_CONFIG,
		                 "passwordfd %d is not an open descriptor", fd);
	secret_alloc(s, SECRET_FD);
	rc = read_first_line(fd, s, now_ms() + cx->timeout_ms);
	close(fd);
	if (rc != RD_OK || !secret_finish(s) || s->len == 0) {
		secret_free(s);
		return fd_error(fd, rc, cx->timeout_ms, err);
	}
	return 1;
}

/* Read a small file (credential) whole: its first line is the secret. */
static int
read_cred(const char *path, struct secret *s, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	enum rd rc;

	if (fd < 0)
		return error_set_errno(err, ERROR_CONFIG, errno,
		                       "cannot read credential %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, ERROR_CONFIG,
		                 "credential %s is not a regular file", path);
	}
	secret_alloc(s, SECRET_CRED);
	rc = read_first_line(fd, s, -1);
	close(fd);
	if (rc != RD_OK || !secret_finish(s) || s->len == 0) {
		secret_free(s);
		return error_set(err, ERROR_CONFIG,
		                 "credential %s is empty, unreadable or longer "
		                 "than %d bytes",
		                 path, SECRET_MAX);
	}
	return 1;
}

/* $CREDENTIALS_DIRECTORY/NAME; NULL when the directory is not set. */
static char *
cred_path(const char *name)
{
	const char *dir = privilege_getenv("CREDENTIALS_DIRECTORY");
	struct buf b;

	if (!dir || *dir == '\0')
		return NULL;
	buf_init(&b, 4096);
	if (buf_printf(&b, "%s/%s", dir, name) < 0)
		return NULL;
	return b.data;
}

/* systemd credentials (LoadCredential=, SetCredentialEncrypted=). */
static int
src_cred(const struct ctx *cx, struct secret *s, struct error *err)
{
	const char *name = cx->r->passwordcred;
	char *path;
	int rc;

	if (!name || !*name)
		return 0;
	path = cred_path(name);
	if (!path)
		return error_set(
		    err, ERROR_CONFIG,
		    "passwordcred %s: CREDENTIALS_DIRECTORY is not "
		    "set (run under a systemd unit with "
		    "LoadCredential=)",
		    name);
	rc = read_cred(path, s, err);
	free(path);
	return rc;
}

/* The default credential: used only when the file exists. */
static int
src_cred_default(const struct ctx *cx, struct secret *s, struct error *err)
{
	char *path;
	int rc = 0;

	if (cx->r->passwordcred && *cx->r->passwordcred)
		return 0;
	path = cred_path(SECRET_CRED_DEFAULT);
	if (path && access(path, F_OK) == 0)
		rc = read_cred(path, s, err);
	free(path);
	return rc;
}

/* Only the variable the config names; removed once read (see secret.h). */
static int
src_env(const struct ctx *cx, struct secret *s, struct error *err)
{
	const char *name = cx->r->passwordenv;
	const char *v;
	size_t n;

	if (!name || !*name)
		return 0;
	v = privilege_getenv(name);
	if (!v || !*v)
		return error_set(err, ERROR_CONFIG,
		                 "passwordenv names %s, which is not set or "
		                 "empty",
		                 name);
	n = strlen(v);
	if (n > SECRET_MAX)
		return error_set(err, ERROR_CONFIG,
		                 "%s is longer than %d bytes", name,
		                 SECRET_MAX);
	secret_alloc(s, SECRET_ENV);
	memcpy(s->data, v, n + 1);
	s->len = n;
	/* The value stays in the process's environment block after
	 * unsetenv (which only drops the pointer): blank it there first. */
	wipe((char *)v, n);
	unsetenv(name);
	return 1;
}

/* ------------------------------------------------------------------------
 * ~/.netrc: "machine HOST login USER password P", "default ...", and
 * "macdef NAME" followed by lines up to an empty one.  Tokens are
 * separated by blanks and line ends; a token may be double-quoted, with
 * backslash escaping the next character.  A '#' where a keyword is
 * expected starts a comment to the end of the line.
 */

struct lexer {
	char *p, *end; /* *end is a NUL */
	bool nl;       /* the last token ended at a line end */
};

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The next token, unquoted and NUL-terminated in place; NULL at the end. */
static char *
next_token(struct lexer *lx)
{
	char *start, *w;

	while (lx->p < lx->end && is_space(*lx->p))
		lx->p++;
	if (lx->p >= lx->end)
		return NULL;
	start = w = lx->p;
	if (*lx->p == '"') {
		for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			*w++ = *lx->p;
		}
		if (lx->p < lx->end)
			lx->p++;
	} else {
		while (lx->p < lx->end && !is_space(*lx->p))
			lx->p++;
		w = lx->p;
	}
	lx->nl = lx->p < lx->end && *lx->p == '\n';
	if (lx->p < lx->end && w == lx->p)
		lx->p++; /* the delimiter is about to become the NUL */
	*w = '\0';
	return start;
}

/* Move past the end of the current line (unless a token just ended it). */
static void
skip_line(struct lexer *lx)
{
	if (lx->nl)
		return;
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
	if (lx->p < lx->end)
		lx->p++;
}

/* macdef NAME: the macro body runs to the first empty line. */
static void
skip_macdef(struct lexer *lx)
{
	next_token(lx);
	skip_line(lx);
	while (lx->p < lx->end) {
		char *eol = memchr(lx->p, '\n', (size_t)(lx->end - lx->p));
		bool empty =
		    eol == lx->p || (eol == lx->p + 1 && *lx->p == '\r');

		lx->p = eol ? eol + 1 : lx->end;
		if (empty)
			break;
	}
	lx->nl = true;
}

struct netrc_entry {
	bool active; /* a machine (matching host) or default entry */
	const char *login;
	const char *password;
};

static bool
entry_fits(const struct netrc_entry *e, const char *user)
{
	return e->active && e->password &&
	       (!e->login || strcmp(e->login, user) == 0);
}

/* Find the password for host and user; NULL if none.  Points into the
 * (modified) text. */
static const char *
netrc_find(char *text, size_t len, const char *host, const char *user)
{
	struct lexer lx = {text, text + len, true};
	struct netrc_entry e = {false, NULL, NULL};
	bool is_default = false;
	for (char *t = next_token(&lx); t; t = next_token(&lx)) {
		bool machine = strcmp(t, "machine") == 0;

		if (machine || strcmp(t, "default") == 0) {
			if (entry_fits(&e, user) || is_default)
				break;
			e.login = e.password = NULL;
			e.active = !machine;
			is_default = !machine;
			if (machine) {
				t = next_token(&lx);
				e.active = t && str_ieq(t, host);
			}
		} else if (strcmp(t, "login") == 0) {
			e.login = next_token(&lx);
		} else if (strcmp(t, "password") == 0) {
			e.password = next_token(&lx);
		} else if (strcmp(t, "account") == 0 ||
		           strcmp(t, "port") == 0) {
			next_token(&lx);
		} else if (strcmp(t, "macdef") == 0) {
			skip_macdef(&lx);
		} else if (t[0] == '#') {
			skip_line(&lx);
		}
	}
	return entry_fits(&e, user) ? e.password : NULL;
}

/* $NETRC, or ~/.netrc; NULL when neither can be named. */
static char *
netrc_path(void)
{
	const char *env = privilege_getenv("NETRC");
	const char *home = privilege_getenv("HOME");
	struct buf b;

	if (env && *env)
		return xstrdup(env);
	if (!home || !*home)
		return NULL;
	buf_init(&b, 4096);
	if (buf_printf(&b, "%s/.netrc", home) < 0)
		return NULL;
	return b.data;
}

/* As ftp(1) does, and as our config files: a netrc that gives a password
 * must be the user's own and private; else it is refused, loudly. */
static int
netrc_check(const char *path, const struct stat *st, struct error *err)
{
	if (st->st_uid != geteuid())
		return error_set(err, ERROR_CONFIG,
		                 "%s holds a password but is owned by another "
		                 "user; it must be owned by the user running "
		                 "mailpost",
		                 path);
	if (st->st_mode & 077)
		return error_set(err, ERROR_CONFIG,
		                 "%s holds a password but is accessible by "
		                 "others; run 'chmod 600 %s'",
		                 path, path);
	return 0;
}

/* The file into a buffer of at most SECRET_NETRC_MAX; -1: not usable. */
static ssize_t
netrc_load(int fd, const struct stat *st, char **text)
{
	size_t len = 0, cap = (size_t)st->st_size;

	if (!S_ISREG(st->st_mode) || st->st_size > SECRET_NETRC_MAX)
		return -1;
	*text = xmalloc(cap + 1);
	while (len < cap) {
		ssize_t n = read(fd, *text + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(*text)[len] = '\0';
	return (ssize_t)len;
}

static int
netrc_lookup(const char *path, const struct ctx *cx, struct secret *s,
             struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	const char *pw = NULL;
	char *text = NULL;
	struct stat st;
	ssize_t len = -1;
	int rc = 0;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0)
		len = netrc_load(fd, &st, &text);
	close(fd);
	if (len >= 0)
		pw = netrc_find(text, (size_t)len, cx->r->host, cx->r->user);
	if (pw && *pw && strlen(pw) <= SECRET_MAX) {
		rc = netrc_check(path, &st, err);
		if (rc == 0) {
			secret_alloc(s, SECRET_NETRC);
			s->len = strlen(pw);
			memcpy(s->data, pw, s->len + 1);
			rc = 1;
		}
	}
	if (text) {
		wipe(text, (size_t)len + 1);
		free(text);
	}
	return rc;
}

static int
src_netrc(const struct ctx *cx, struct secret *s, struct error *err)
{
	char *path;
	int rc;

	if (cx->r->system || !cx->r->user || !cx->r->host)
		return 0;
	path = netrc_path();
	if (!path)
		return 0;
	rc = netrc_lookup(path, cx, s, err);
	free(path);
	return rc;
}

/* ------------------------------------------------------------------------
 * The system keyring, through libsecret's command-line tool, so that
 * GLib is never loaded into mailpost.
 */

/* The first executable `name` in $PATH, or NULL. */
static char *
find_in_path(const char *name)
{
	const char *path = privilege_getenv("PATH");

	if (!path || !*path)
		path = PRIVILEGE_SAFE_PATH;
	for (;;) {
		size_t n = strcspn(path, ":");
		struct buf b;
		struct stat st;

		buf_init(&b, 4096);
		if (n > 0 &&
		    buf_printf(&b, "%.*s/%s", (int)n, path, name) == 0 &&
		    stat(b.data, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(b.data, X_OK) == 0)
			return b.data;
		buf_clear(&b);
		if (path[n] == '\0')
			return NULL;
		path += n + 1;
	}
}

/* Absent tool, no entry, locked keyring, timeout: all just "nothing". */
static int
src_keyring(const struct ctx *cx, struct secret *s, struct error *err)
{
	char *argv[] = {"secret-tool", "lookup", "host", NULL, "service",
	                "smtp",        "user",   NULL,   NULL};
	struct child_stderr said;
	struct run_result res;
	char *tool;

	(void)err;
	if (cx->r->system || !cx->r->keyring || !cx->r->user || !cx->r->host)
		return 0;
	tool = find_in_path("secret-tool");
	if (!tool)
		return 0;
	argv[3] = (char *)cx->r->host;
	argv[7] = (char *)cx->r->user;
	secret_alloc(s, SECRET_KEYRING);
	res = run(cx, tool, argv, NULL, s, &said);
	wipe(&said, sizeof said);
	free(tool);
	if (res.status != RUN_OK || !secret_finish(s) || s->len == 0) {
		secret_free(s);
		return 0;
	}
	return 1;
}

static char **child_environ(const char *name);

/* Why secret-tool VERB did not work; never what it printed. */
static void
tool_error(const char *verb, struct run_result res, int timeout_ms,
           struct error *err)
{
	switch (res.status) {
	case RUN_TIMEOUT:
		error_set(err, ERROR_TEMPFAIL,
		          "secret-tool %s did not finish within %d s and was "
		          "killed (a locked keyring waiting for its password?)",
		          verb, timeout_ms / 1000);
		break;
	case RUN_EXIT:
		error_set(err, ERROR_CONFIG,
		          "secret-tool %s failed (exit status %d)", verb,
		          res.code);
		break;
	case RUN_SIGNAL:
		error_set(err, ERROR_CONFIG,
		          "secret-tool %s was killed by signal %d", verb,
		          res.code);
		break;
	case RUN_TOOLONG:
		error_set(err, ERROR_CONFIG,
		          "secret-tool %s printed a line longer than %d bytes",
		          verb, SECRET_MAX);
		break;
	case RUN_ERROR:
		error_set_errno(err, ERROR_OSERR, res.code,
		                "cannot run secret-tool %s", verb);
		break;
	case RUN_OK:
		error_set(err, ERROR_CONFIG,
		          "secret-tool %s printed a NUL byte", verb);
		break;
	}
}

/* The most words secret_tool passes on. */
#define SECRET_TOOL_ARGS_MAX 16

int
secret_tool(const char *const args[], const char *input, struct secret *out,
            int timeout_s, struct error *err)
{
	struct secret_request r = {.keyring = true};
	struct ctx cx = {&r, NULL, timeout_s * 1000, false};
	char *argv[SECRET_TOOL_ARGS_MAX + 2];
	struct child_stderr said;
	struct secret scratch;
	struct secret *s = out ? out : &scratch;
	struct run_result res;
	size_t n = 0;
	char *tool;

	memset(s, 0, sizeof *s);
	argv[n++] = "secret-tool";
	for (; args[n - 1] && n <= SECRET_TOOL_ARGS_MAX; n++)
		argv[n] = (char *)args[n - 1];
	if (args[n - 1])
		return error_set(err, ERROR_SOFTWARE,
		                 "secret-tool: more than %d words",
		                 SECRET_TOOL_ARGS_MAX);
	argv[n] = NULL;
	tool = find_in_path("secret-tool");
	if (!tool)
		return error_set(err, ERROR_UNAVAILABLE,
		                 "secret-tool is not installed (Debian: "
		                 "libsecret-tools)");
	if (cx.timeout_ms <= 0)
		cx.timeout_ms = SECRET_EVAL_TIMEOUT * 1000;
	cx.envp = child_environ(NULL);
	secret_alloc(s, SECRET_KEYRING);
	res = run(&cx, tool, argv, input, s, &said);
	free(cx.envp);
	free(tool);
	if (res.status == RUN_OK && secret_finish(s)) {
		wipe(&said, sizeof said);
		if (s == &scratch)
			secret_free(s);
		return 0;
	}
	tool_error(args[0], res, cx.timeout_ms, err);
	/* What it said may quote what it was given: blanked out. */
	if (input && *input) {
		struct secret in = {(char *)input, strlen(input), SECRET_NONE};

		scrub_secret(said.text, said.len, said.cut, &in);
	}
	add_said(err, &said, s);
	wipe(&said, sizeof said);
	secret_free(s);
	return -1;
}

/* ------------------------------------------------------------------------
 * The prompt: the one place this module writes, and only to /dev/tty.
 */

static void
tty_write(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Ask with echo off; restore the terminal even when reading fails. */
static enum rd
tty_ask(int fd, const char *prompt, struct secret *s)
{
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	enum rd rc;

	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	tty_write(fd, prompt);
	rc = read_first_line(fd, s, -1);
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	tty_write(fd, "\n");
	return rc;
}

static int
src_prompt(const struct ctx *cx, struct secret *s, struct error *err)
{
	char prompt[600], user[256], host[256];
	int fd;
	enum rd rc;

	(void)err;
	if (cx->r->system || !cx->r->prompt || !cx->r->user || !cx->r->host)
		return 0;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	str_copy(user, sizeof user, cx->r->user);
	str_copy(host, sizeof host, cx->r->host);
	str_censor(user, strlen(user));
	str_censor(host, strlen(host));
	snprintf(prompt, sizeof prompt, "Password for %s at %s: ", user, host);
	secret_alloc(s, SECRET_PROMPT);
	rc = tty_ask(fd, prompt, s);
	close(fd);
	if (rc != RD_OK || !secret_finish(s) || s->len == 0) {
		secret_free(s);
		return error_set(err, ERROR_CONFIG,
		                 "no password entered for %s at %s", user,
		                 host);
	}
	return 1;
}

/* ------------------------------------------------------------------------
 * The lookup.
 */

typedef int source_fn(const struct ctx *, struct secret *, struct error *);

static source_fn *const sources[] = {
    src_password,     src_eval,  src_fd,      src_cred,   src_env,
    src_cred_default, src_netrc, src_keyring, src_prompt,
};

/* secret_withhold_env's variable, or NULL. */
static const char *withheld_env;

void
secret_withhold_env(const char *name)
{
	withheld_env = name;
}

static bool
names_var(const char *entry, const char *name)
{
	return name && *name && env_named(entry, name);
}

/* environ without NAME=... nor the withheld variable: what every child
 * gets. */
static char **
child_environ(const char *name)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ && environ[n])
		n++;
	envp = xcalloc(n + 1, sizeof *envp);
	for (size_t i = 0; i < n; i++) {
		if (names_var(environ[i], name) ||
		    names_var(environ[i], withheld_env))
			continue;
		envp[k++] = environ[i];
	}
	return envp;
}

void
secret_request_init(struct secret_request *r, const struct account *a)
{
	memset(r, 0, sizeof *r);
	r->host = a->host;
	r->user = a->user;
	r->password = a->password;
	r->passwordeval = a->passwordeval;
	r->passwordfd = a->passwordfd;
	r->passwordcred = a->passwordcred;
	r->passwordenv = a->passwordenv;
	r->timeout_ms = a->passwordeval_timeout * 1000;
	r->prompt = true;
	r->keyring = true;
	r->system = a->hidden;
}

static int
nothing_found(const struct secret_request *r, struct error *err)
{
	if (r->system)
		return error_set(err, ERROR_CONFIG,
		                 "no password: the system configuration gives "
		                 "the account none (password or passwordeval)");
	if (!r->user)
		return error_set(err, ERROR_CONFIG,
		                 "no password: set password, passwordeval, "
		                 "passwordfd, passwordcred or passwordenv (or "
		                 "set user, for ~/.netrc, the keyring or a "
		                 "prompt)");
	return error_set(err, ERROR_CONFIG,
	                 "no password for %s at %s: none configured, none in "
	                 "~/.netrc or the keyring, and no terminal to ask on",
	                 r->user, r->host ? r->host : "the server");
}

int
secret_get(const struct secret_request *r, struct secret *out,
           struct error *err)
{
	struct ctx cx = {r, NULL, r->timeout_ms, false};
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (cx.timeout_ms <= 0)
		cx.timeout_ms = SECRET_EVAL_TIMEOUT * 1000;
	cx.envp = child_environ(r->passwordenv);
	for (size_t i = 0; rc == 0 && i < sizeof sources / sizeof *sources; i++)
		rc = sources[i](&cx, out, err);
	free(cx.envp);
	if (rc == 0)
		return nothing_found(r, err);
	return rc < 0 ? -1 : 0;
}

/* What a command of the system configuration runs with: not the
 * caller's environment, which could choose the programs it runs (PATH)
 * or what the shell reads first. */
static char *system_environ[] = {"PATH=" PRIVILEGE_SAFE_PATH, "LC_ALL=C", NULL};

int
secret_eval_system(const char *command, int timeout_s, struct secret *out,
                   struct error *err)
{
	struct secret_request r = {.passwordeval = command};
	struct ctx cx = {&r, system_environ, timeout_s * 1000, true};

	memset(out, 0, sizeof *out);
	if (cx.timeout_ms <= 0)
		cx.timeout_ms = SECRET_EVAL_TIMEOUT * 1000;
	return src_eval(&cx, out, err) < 0 ? -1 : 0;
}

enum secret_source
secret_configured(const struct secret_request *r)
{
	if (r->password && *r->password)
		return SECRET_PASSWORD;
	if (r->passwordeval && *r->passwordeval)
		return SECRET_EVAL;
	if (r->passwordfd)
		return SECRET_FD;
	if (r->passwordcred && *r->passwordcred)
		return SECRET_CRED;
	if (r->passwordenv && *r->passwordenv)
		return SECRET_ENV;
	return SECRET_NONE;
}

const char *
secret_source_name(enum secret_source source)
{
	static const char *const names[] = {
	    [SECRET_NONE] = "nowhere",
	    [SECRET_PASSWORD] = "password",
	    [SECRET_EVAL] = "passwordeval",
	    [SECRET_FD] = "passwordfd",
	    [SECRET_CRED] = "systemd credential",
	    [SECRET_ENV] = "passwordenv",
	    [SECRET_NETRC] = "netrc",
	    [SECRET_KEYRING] = "keyring",
	    [SECRET_PROMPT] = "prompt",
	    [SECRET_TOKEN_FILE] = "token file",
	};

	if ((size_t)source >= sizeof names / sizeof *names)
		return "unknown";
	return names[source];
}

int
secret_protect_process(struct error *err)
{
	return privilege_protect_process(err);
}
