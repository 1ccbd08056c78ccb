/*
 * peer.h - a scripted server for the unit tests of the network modules.
 *
 * A child process listens on a local stream socket in a fresh temporary
 * directory (no port, no network) and plays a script: each step waits
 * until the client has sent a given string (counted from where the last
 * step's string ended), then writes its canned reply, or drops the
 * connection.  After the script it reads until the client closes.  Every
 * byte it received comes back to the test from peer_finish, so a test can
 * compare the exact commands the client sent.
 *
 * A step whose string never comes ends the script (the child gives up
 * after PEER_TIMEOUT_S): the test then sees the client's timeout and the
 * bytes that did come.
 */
#ifndef MAILPOST_PEER_H
#define MAILPOST_PEER_H

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "envelope.h"
#include "stream.h"

#define PEER_TIMEOUT_S 3
#define PEER_RECORD_MAX (4 * 1024 * 1024)
/* As the `send` of a step: close the connection instead of replying. */
#define PEER_DROP ((const char *)1)
/* As the `send` of a step: send SIGTERM to the client's process (the
 * test, which forked the peer), wait until it was delivered (the client
 * caught it in a wait: see peer_delivered), and write nothing; a later
 * step replies. */
#define PEER_SIGTERM ((const char *)2)

struct peer_step {
	const char *await; /* NULL: at once */
	const char *send;  /* bytes to write, PEER_DROP, or NULL: nothing */
	/* The client must have sent nothing beyond `await` yet (it waits
	 * for this reply): otherwise the peer's exit status counts it. */
	int alone;
};

struct peer {
	pid_t pid;
	int record; /* read end of the pipe the child reports on */
	int status; /* after peer_finish: the child's exit status; 0 when
	             * the script ran whole and every `alone` held */
	char dir[64];
	char path[96]; /* fits sun_path */
};

/* Read until `needle` occurs in rec[*mark..]; advance *mark past it. */
static int
peer_await(int fd, char *rec, size_t *len, size_t *mark, const char *needle)
{
	for (;;) {
		rec[*len] = '\0';
		char *at = strstr(rec + *mark, needle);
		if (at) {
			*mark = (size_t)(at - rec) + strlen(needle);
			return 0;
		}
		if (*len >= PEER_RECORD_MAX)
			return -1;
		ssize_t k = read(fd, rec + *len, PEER_RECORD_MAX - *len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		*len += (size_t)k;
	}
}

/* Whether `sig`, sent to process `pid` by kill(2), is no longer pending
 * there: the process let it through (a wait with the signal unblocked).
 * Read from /proc, so the peer replies only after it, never a race. */
static bool
peer_delivered(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long pending = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "ShdPnd: %llx", &pending) == 1) {
			found = true;
			break;
		}
	fclose(f);
	return !found || !(pending & (1ULL << (sig - 1)));
}

/* Signal the client, then wait (within the child's alarm) until it was
 * delivered. */
static void
peer_signal(int sig)
{
	const struct timespec ms = {0, 1000000};
	pid_t client = getppid();

	kill(client, sig);
	while (!peer_delivered(client, sig))
		nanosleep(&ms, NULL);
}

static void
peer_child(int lfd, int out, const struct peer_step *steps, size_t n)
{
	static char rec[PEER_RECORD_MAX + 1];
	size_t len = 0, mark = 0;
	int fd, status = 0;

	alarm(PEER_TIMEOUT_S);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	for (size_t i = 0; i < n; i++) {
		if (steps[i].await &&
		    peer_await(fd, rec, &len, &mark, steps[i].await) < 0) {
			status = 4;
			goto report;
		}
		if (steps[i].alone && len != mark)
			status = 5;
		if (steps[i].send == PEER_SIGTERM) {
			peer_signal(SIGTERM);
			continue;
		}
		if (steps[i].send == PEER_DROP) {
			close(fd);
			fd = -1;
			goto report;
		}
		if (steps[i].send &&
		    write(fd, steps[i].send, strlen(steps[i].send)) < 0)
			goto report;
	}
	/* The rest, until the client closes; a QUIT the script did not
	 * expect is answered, as a server would, so the client need not
	 * wait for its timeout. */
	while (len < PEER_RECORD_MAX) {
		ssize_t k = read(fd, rec + len, PEER_RECORD_MAX - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		rec[len] = '\0';
		char *quit = strstr(rec + mark, "QUIT\r\n");
		if (quit) {
			mark = (size_t)(quit - rec) + 6;
			if (write(fd, "221 bye\r\n", 9) < 0)
				break;
		}
	}
report:
	alarm(0);
	for (size_t off = 0; off < len;) {
		ssize_t k = write(out, rec + off, len - off);
		if (k <= 0)
			_exit(3);
		off += (size_t)k;
	}
	_exit(status);
}

/* The steps of a script in an array of `max` that ends early with an
 * empty step (a table's fixed-size script). */
static inline size_t
peer_nsteps(const struct peer_step *st, size_t max)
{
	size_t n = 0;

	while (n < max && (st[n].await || st[n].send))
		n++;
	return n;
}

/* Listen, then fork the child that plays `steps`.  0 or -1. */
static int
peer_start(struct peer *p, const struct peer_step *steps, size_t n)
{
	struct sockaddr_un sa;
	int pfd[2], lfd;

	memset(p, 0, sizeof *p);
	snprintf(p->dir, sizeof p->dir, "/tmp/mailpost-unit-XXXXXX");
	if (!mkdtemp(p->dir))
		return -1;
	snprintf(p->path, sizeof p->path, "%s/smtp.sock", p->dir);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p->path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 4) < 0 || pipe(pfd) < 0)
		return -1;
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		close(pfd[0]);
		peer_child(lfd, pfd[1], steps, n);
	}
	close(lfd);
	close(pfd[1]);
	p->record = pfd[0];
	return 0;
}

/* The peer has finished (the client closed): it received exactly `want`
 * and its script ran whole.  For tests that include unit.h. */
#define CHECK_SENT(p, want)                                                    \
	do {                                                                   \
		size_t len_;                                                   \
		char *got_ = peer_finish(p, &len_);                            \
		CHECK_STR(got_, want);                                         \
		CHECK_INT((p)->status, 0);                                     \
		free(got_);                                                    \
	} while (0)

/* Make the child go when nobody connected to it (it may have gone
 * already, after a session of its own): a connection that closes at
 * once. */
static inline void
peer_poke(const struct peer *p)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", p->path);
	if (fd >= 0) {
		(void)!connect(fd, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
	}
}

/* What the peer received (NUL-terminated, malloc'd; *len bytes), once the
 * client has closed.  Removes the socket and its directory. */
static char *
peer_finish(struct peer *p, size_t *len)
{
	char *rec = malloc(PEER_RECORD_MAX + 1);
	size_t n = 0;

	while (rec && n < PEER_RECORD_MAX) {
		ssize_t k = read(p->record, rec + n, PEER_RECORD_MAX - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	int st = 0;

	close(p->record);
	waitpid(p->pid, &st, 0);
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	unlink(p->path);
	rmdir(p->dir);
	if (rec)
		rec[n] = '\0';
	*len = n;
	return rec;
}

static inline int
peer_remove_one(const char *path, const struct stat *st, int flag,
                struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Remove a test's temporary directory and all in it (no shell: a
 * system("rm -rf") costs more than a test). */
static inline void
peer_rmtree(const char *dir)
{
	nftw(dir, peer_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whether the file's first 4 KiB hold s (a dead letter file, say). */
static inline bool
peer_file_has(const char *path, const char *s)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

/* A message from memory (NUL-terminated text), as the submission code
 * reads one: for the tests of submit, relay and outbox. */
struct peer_text {
	const char *s;
	size_t off;
};

static inline ssize_t
peer_text_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct peer_text *t = ctx;
	size_t left = strlen(t->s) - t->off;

	(void)err;
	if (n > left)
		n = left;
	memcpy(buf, t->s + t->off, n);
	t->off += n;
	return (ssize_t)n;
}

static inline int
peer_text_rewind(void *ctx, struct error *err)
{
	(void)err;
	((struct peer_text *)ctx)->off = 0;
	return 0;
}

static inline void
peer_message(struct message_stream *m, struct peer_text *t, const char *s)
{
	t->s = s;
	t->off = 0;
	*m = (struct message_stream){0};
	m->read = peer_text_read;
	m->rewind = peer_text_rewind;
	m->ctx = t;
	m->size = strlen(s);
	m->has_8bit = false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			m->has_8bit = true;
}

/* An envelope from sender to rcpts[0..n) (cleared by the caller with
 * envelope_clear); returned for use in an initialiser. */
static inline struct envelope *
peer_envelope(struct envelope *e, const char *sender, const char *const *rcpts,
              size_t n)
{
	envelope_init(e);
	envelope_set_sender(e, sender);
	for (size_t i = 0; i < n; i++)
		envelope_add_rcpt(e, rcpts[i]);
	return e;
}

#endif
