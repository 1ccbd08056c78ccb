/*
 * spoolgate.c - the spool helper and its client (the protocol and the
 * threat model are in spoolgate.h).
 */
#include "config.h"

#include "spoolgate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privilege.h"

/* The descriptor the helper serves on, once everything else is closed. */
#define SPOOLGATE_FD 3

/* The descriptors a helper may have been given by the caller, closed one
 * by one where close_range(2) is missing. */
#define SPOOLGATE_FD_SCAN 1024

/* A frame header: type and a 32-bit big-endian length. */
#define HEADER_LEN 5

/* A damaged-entry line: an id, ": ", a reason. */
#define DAMAGE_LINE_MAX (QUEUE_ID_SIZE + ERROR_MSG_MAX + 2)

/* --- frames ----------------------------------------------------------------
 *
 * Both sides read and write whole frames; a short read is a peer gone. */

void
spoolgate_frame_header(unsigned char out[HEADER_LEN], char type, uint32_t len)
{
	out[0] = (unsigned char)type;
	out[1] = (unsigned char)(len >> 24);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 8);
	out[4] = (unsigned char)len;
}

/* n bytes, or: 1 at EOF before the first byte, -1 at EOF after it or on
 * an error (errno; EPIPE for a cut frame). */
static int
read_full(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = fd_read(fd, (char *)p + got, n - got);

		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EPIPE;
			return got == 0 ? 1 : -1;
		}
		got += (size_t)r;
	}
	return 0;
}

static int
frame_write(int fd, char type, const void *p, size_t n)
{
	unsigned char h[HEADER_LEN];

	if (n > SPOOLGATE_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	spoolgate_frame_header(h, type, (uint32_t)n);
	if (fd_write_all(fd, h, sizeof h) < 0)
		return -1;
	return n ? fd_write_all(fd, p, n) : 0;
}

/* The largest payload each type may carry; 0 for a type that carries
 * none, -1 for an unknown type. */
static long
frame_limit(char type)
{
	switch (type) {
	case 'A': /* add, dead: an envelope */
	case 'X':
		return QUEUE_ENVELOPE_MAX;
	case 'Q': /* an entry, a dead letter: an id and an envelope */
	case 'G':
		return SPOOLGATE_FRAME_MAX;
	case 'D':
		return SPOOLGATE_CHUNK;
	case 'S': /* show, remove: an id */
	case 'U':
		return QUEUE_ID_LEN;
	case 'K':
		return QUEUE_ID_LEN;
	case 'E':
		return ERROR_MSG_MAX;
	case 'Z':
		return DAMAGE_LINE_MAX;
	case 'L':
	case '!':
		return 0;
	default:
		return -1;
	}
}

/* The next frame's header: 0, 1 at EOF, -1 when it cannot be read (errno)
 * or is malformed (*why: an unknown type, a length past its type's
 * ceiling), before anything is allocated for it. */
static int
frame_next(int fd, char *type, uint32_t *len, const char **why)
{
	unsigned char h[HEADER_LEN];
	long limit;
	int rc = read_full(fd, h, sizeof h);

	*why = NULL;
	if (rc != 0)
		return rc;
	*type = (char)h[0];
	*len = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
	       (uint32_t)h[3] << 8 | h[4];
	limit = frame_limit(*type);
	if (limit < 0)
		*why = "a frame of an unknown type";
	else if (*len > (uint32_t)limit)
		*why = "a frame longer than its type allows";
	return *why ? -1 : 0;
}

/* A frame's payload, NUL-terminated, in a new string (len is checked). */
static char *
frame_payload(int fd, uint32_t len)
{
	char *p = xmalloc((size_t)len + 1);

	if (read_full(fd, p, len) != 0) {
		free(p);
		return NULL;
	}
	p[len] = '\0';
	return p;
}

/* --- the helper's side ---------------------------------------------------- */

struct server {
	int fd;
	struct queue *q, *dead;
	const struct error *broken;
	const char *bad; /* a malformed frame: the session ends */
	bool lost;       /* the socket failed */
};

/* The group for a queue call, when this process holds it. */
static int
group_up(struct error *err)
{
	return privilege_held() ? privilege_raise(err) : 0;
}

/* Back: a helper that cannot lower the group must not go on with it. */
static void
group_down(void)
{
	struct error err;

	if (privilege_held() && privilege_lower(&err) < 0)
		_exit(71);
}

static void
reply(struct server *s, char type, const void *p, size_t n)
{
	if (!s->lost && frame_write(s->fd, type, p, n) < 0)
		s->lost = true;
}

static void
reply_error(struct server *s, const struct error *err)
{
	char buf[ERROR_MSG_MAX];
	size_t n = strlen(err->msg);

	if (n > sizeof buf - 1)
		n = sizeof buf - 1;
	buf[0] = (char)(err->kind ? err->kind : ERROR_SOFTWARE);
	memcpy(buf + 1, err->msg, n);
	reply(s, 'E', buf, n + 1);
}

/* The message of an add request, read from the socket as queue_add asks
 * for it: 'D' frames up to the envelope's size, then an empty 'D'. */
struct incoming {
	struct server *s;
	uint64_t expect, got;
	uint32_t left; /* of the current frame */
	bool ended;    /* the empty 'D' or a '!' was read */
};

/* The next 'D' frame into in->left; 0 at the end of the message. */
static int
incoming_frame(struct incoming *in, struct error *err)
{
	char type;
	uint32_t len;
	int rc = frame_next(in->s->fd, &type, &len, &in->s->bad);

	if (rc != 0 || (type != 'D' && type != '!')) {
		if (!in->s->bad)
			in->s->bad = rc == 0
			                 ? "a frame out of place in a message"
			                 : "the message was cut short";
		in->ended = true;
		return error_set(err, ERROR_DATA, "bad request: %s",
		                 in->s->bad);
	}
	if (len == 0 || type == '!') {
		in->ended = true;
		if (type == '!')
			return error_set(err, ERROR_IOERR,
			                 "the message could not be read");
		return 0;
	}
	if (len > in->expect - in->got) {
		in->left = len; /* skipped by drain */
		return error_set(err, ERROR_DATA,
		                 "the message is longer than its envelope "
		                 "says (%llu bytes)",
		                 (unsigned long long)in->expect);
	}
	in->left = len;
	return 0;
}

static ssize_t
incoming_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct incoming *in = ctx;

	if (in->left == 0) {
		if (in->ended)
			return 0;
		if (incoming_frame(in, err) < 0)
			return -1;
		if (in->left == 0)
			return 0;
	}
	if (n > in->left)
		n = in->left;
	if (read_full(in->s->fd, buf, n) != 0) {
		in->s->bad = "the message was cut short";
		in->ended = true;
		return error_set(err, ERROR_DATA, "bad request: %s",
		                 in->s->bad);
	}
	in->left -= (uint32_t)n;
	in->got += n;
	return (ssize_t)n;
}

/* What queue_add left unread of the message, read and dropped, so that
 * the next frame is the next request. */
static void
incoming_drain(struct incoming *in)
{
	char buf[4096];
	struct error ignored;

	while (!in->s->bad) {
		if (in->left > 0) {
			size_t n =
			    in->left < sizeof buf ? in->left : sizeof buf;

			if (read_full(in->s->fd, buf, n) != 0) {
				in->s->bad = "the message was cut short";
				return;
			}
			in->left -= (uint32_t)n;
			continue;
		}
		if (in->ended)
			return;
		(void)incoming_frame(in, &ignored);
	}
}

/* 'A' and 'X': an envelope, then the message. */
static void
serve_add(struct server *s, uint32_t len, bool dead)
{
	struct queue_envelope env;
	struct incoming in = {.s = s};
	struct message_stream m = {.read = incoming_read, .ctx = &in};
	struct queue *q = dead ? s->dead : s->q;
	char *text = frame_payload(s->fd, len);
	char id[QUEUE_ID_SIZE];
	struct error err;
	int rc = -1;

	if (!text) {
		s->bad = "the envelope was cut short";
		return;
	}
	error_clear(&err);
	queue_envelope_init(&env);
	if (queue_envelope_parse(text, len, SPOOLGATE_NEW_ID, &env, &err) ==
	    0) {
		in.expect = env.size;
		m.size = env.size;
		m.has_8bit = env.has_8bit;
		if (!q)
			err = *s->broken;
		else if (group_up(&err) == 0) {
			rc = queue_add(q, &env, &m, id, &err);
			group_down();
		}
	}
	free(text);
	queue_envelope_clear(&env);
	incoming_drain(&in);
	if (s->bad)
		return;
	if (rc == 0)
		reply(s, 'K', id, QUEUE_ID_LEN);
	else
		reply_error(s, &err);
}

/* One envelope of a listing or a shown entry: its id, then its text. */
static void
reply_envelope(struct server *s, char type, const struct queue_envelope *e)
{
	struct buf b;
	struct error err;
	char *p;

	if (queue_envelope_format(e, &b, &err) < 0)
		return; /* it was read back from a file of that ceiling */
	p = xmalloc(QUEUE_ID_LEN + b.len);
	memcpy(p, e->id, QUEUE_ID_LEN);
	memcpy(p + QUEUE_ID_LEN, b.data, b.len);
	reply(s, type, p, QUEUE_ID_LEN + b.len);
	free(p);
	buf_clear(&b);
}

static int
list_queue(struct server *s, struct queue *q, char type, bool damaged,
           struct error *err)
{
	struct queue_envelope *v = NULL;
	struct strlist lines;
	size_t n = 0;
	int rc;

	strlist_init(&lines);
	if (group_up(err) < 0)
		return -1;
	rc = queue_list(q, &v, &n, err);
	if (rc == 0 && damaged)
		rc = queue_damaged(q, &lines, err);
	group_down();
	for (size_t i = 0; rc == 0 && i < n; i++)
		reply_envelope(s, type, &v[i]);
	for (size_t i = 0; rc == 0 && i < lines.n; i++)
		reply(s, 'Z', lines.v[i], strlen(lines.v[i]));
	queue_list_free(v, n);
	strlist_clear(&lines);
	return rc;
}

/* 'L': the caller's entries, damaged entries, dead letters, then 'K'. */
static void
serve_list(struct server *s)
{
	struct error err;

	error_clear(&err);
	if (!s->q) {
		reply_error(s, s->broken);
		return;
	}
	if (list_queue(s, s->q, 'Q', true, &err) < 0 ||
	    (s->dead && list_queue(s, s->dead, 'G', false, &err) < 0)) {
		reply_error(s, &err);
		return;
	}
	reply(s, 'K', NULL, 0);
}

/* The entry id claimed in the spool, else in its dead-letter queue: a
 * queue_claim_result, or -1 with err. */
static int
claim_either(struct server *s, const char *id, struct queue_entry **e,
             bool *dead, struct error *err)
{
	int rc;

	*dead = false;
	if (group_up(err) < 0)
		return -1;
	rc = queue_claim(s->q, id, e, err);
	if (rc == QUEUE_GONE && s->dead) {
		*dead = true;
		rc = queue_claim(s->dead, id, e, err);
	}
	group_down();
	if (rc == QUEUE_BUSY)
		return error_set(err, ERROR_TEMPFAIL,
		                 "%s is being sent by another mailpost", id);
	if (rc == QUEUE_GONE)
		return error_set(err, ERROR_USAGE, "no queued message %s", id);
	return rc;
}

/* The id of an 'S' or 'U' request; false (s->bad set) when malformed. */
static bool
request_id(struct server *s, uint32_t len, char id[QUEUE_ID_SIZE])
{
	if (len != QUEUE_ID_LEN || read_full(s->fd, id, QUEUE_ID_LEN) != 0) {
		s->bad = "an id of the wrong length";
		return false;
	}
	id[QUEUE_ID_LEN] = '\0';
	if (!queue_id_valid(id)) {
		s->bad = "a malformed id";
		return false;
	}
	return true;
}

/* The message bytes of a claimed entry, as 'D' frames. */
static int
send_message(struct server *s, struct queue_entry *e, struct error *err)
{
	struct message_stream m = queue_entry_message(e);
	char *buf = xmalloc(SPOOLGATE_CHUNK);
	ssize_t got = 0;

	while (!s->lost && (got = m.read(m.ctx, buf, SPOOLGATE_CHUNK, err)) > 0)
		reply(s, 'D', buf, (size_t)got);
	free(buf);
	return s->lost || got < 0 ? -1 : 0;
}

/* 'S' and 'U'. */
static void
serve_entry(struct server *s, uint32_t len, bool remove)
{
	char id[QUEUE_ID_SIZE];
	struct queue_entry *e = NULL;
	const struct queue_envelope *env;
	struct error err;
	bool dead;
	int rc;

	if (!request_id(s, len, id))
		return;
	error_clear(&err);
	if (!s->q) {
		reply_error(s, s->broken);
		return;
	}
	rc = claim_either(s, id, &e, &dead, &err);
	if (rc >= 0 && remove) {
		rc = group_up(&err);
		if (rc == 0) {
			rc = queue_entry_remove(e, &err);
			group_down();
		}
	} else if (rc >= 0) {
		env = queue_entry_envelope(e);
		if (queue_entry_damage(e))
			reply(s, 'Z', queue_entry_damage(e),
			      strlen(queue_entry_damage(e)));
		if (env)
			reply_envelope(s, dead ? 'G' : 'Q', env);
		rc = send_message(s, e, &err);
	}
	queue_entry_release(e);
	if (rc < 0)
		reply_error(s, &err);
	else
		reply(s, 'K', NULL, 0);
}

/* One request; false when the session is over. */
static bool
serve_one(struct server *s)
{
	char type;
	uint32_t len;
	int rc = frame_next(s->fd, &type, &len, &s->bad);

	if (rc == 1)
		return false;
	if (rc < 0) {
		if (!s->bad)
			s->lost = true;
		return false;
	}
	switch (type) {
	case 'A':
	case 'X':
		serve_add(s, len, type == 'X');
		break;
	case 'L':
		serve_list(s);
		break;
	case 'S':
	case 'U':
		serve_entry(s, len, type == 'U');
		break;
	default:
		s->bad = "a frame that is no request";
		break;
	}
	return !s->bad && !s->lost;
}

int
spoolgate_serve(int fd, struct queue *q, struct queue *dead,
                const struct error *broken)
{
	struct server s = {.fd = fd, .q = q, .dead = dead, .broken = broken};
	struct error err;

	while (serve_one(&s))
		;
	if (s.bad) {
		error_set(&err, ERROR_SOFTWARE,
		          "the spool helper refused a request: %s", s.bad);
		reply_error(&s, &err);
	}
	return s.bad || s.lost ? -1 : 0;
}

/* --- the helper process ----------------------------------------------------
 */

/* Everything but descriptor 0-2 (on /dev/null) and the socket, moved to
 * SPOOLGATE_FD: nothing of the caller's reaches the helper. */
static int
child_descriptors(int sock)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0)
		return -1;
	for (int fd = 0; fd <= 2; fd++)
		if (null != fd && dup2(null, fd) < 0)
			return -1;
	if (sock != SPOOLGATE_FD && dup2(sock, SPOOLGATE_FD) < 0)
		return -1;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, SPOOLGATE_FD + 1U, ~0U, 0U) == 0)
		return 0;
#endif
	for (int fd = SPOOLGATE_FD + 1; fd < SPOOLGATE_FD_SCAN; fd++)
		close(fd);
	return 0;
}

/* The caller's signals: the terminal's are ignored (an interrupted send
 * is queued through the helper, which must outlive the interrupt), the
 * rest default, none blocked; a lost socket is an error, not SIGPIPE,
 * and a file size limit of the caller's (which the helper inherits) an
 * EFBIG that the queue cleans up after and reports, not a death that
 * leaves a half-written entry under tmp/. */
static void
child_signals(void)
{
	static const int ignored[] = {SIGINT,  SIGTERM, SIGHUP,
	                              SIGQUIT, SIGTSTP, SIGTTIN,
	                              SIGTTOU, SIGPIPE, SIGXFSZ};
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		signal(ignored[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The child: forget the run, shed the caller's context, open the spool
 * with the group, serve.  Never returns. */
static void
child_run(int sock, const char *dir, gid_t group, void (*forget)(void *),
          void *arg)
{
	struct queue *q = NULL, *dead = NULL;
	struct error err;
	char *spool = xstrdup(dir);
	int rc;

	if (forget)
		forget(arg);
	child_signals();
	if (clearenv() != 0 || child_descriptors(sock) < 0 || chdir("/") < 0)
		_exit(71);
	umask(077);
	error_clear(&err);
	if (group_up(&err) == 0) {
		if (queue_open_shared(&q, spool, group, &err) == 0 &&
		    queue_open_shared_dead(&dead, spool, group, &err) < 0) {
			queue_close(q);
			q = NULL;
		}
		group_down();
	}
	rc = spoolgate_serve(SPOOLGATE_FD, q, dead, &err);
	queue_close(q);
	queue_close(dead);
	free(spool);
	_exit(rc == 0 ? 0 : 1);
}

/* --- the caller's side ------------------------------------------------------
 */

struct spoolgate {
	int fd;
	pid_t pid;
	char *dir;
	struct error lost; /* kind set once the helper is gone */
};

struct spoolgate *
spoolgate_attach(int fd, const char *dir)
{
	struct spoolgate *g = xcalloc(1, sizeof *g);

	g->fd = fd;
	g->pid = -1;
	g->dir = xstrdup(dir);
	error_clear(&g->lost);
	return g;
}

int
spoolgate_start(struct spoolgate **out, const char *dir, gid_t group,
                void (*forget)(void *arg), void *arg, struct error *err)
{
	struct spoolgate *g;
	int sv[2];
	pid_t pid;

	*out = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot start the spool helper");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return error_set_errno(err, ERROR_OSERR, errno,
		                       "cannot start the spool helper");
	}
	if (pid == 0) {
		close(sv[0]);
		child_run(sv[1], dir, group, forget, arg);
	}
	close(sv[1]);
	g = spoolgate_attach(sv[0], dir);
	g->pid = pid;
	*out = g;
	return 0;
}

void
spoolgate_close(struct spoolgate *g)
{
	if (!g)
		return;
	close(g->fd);
	while (g->pid > 0 && waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(g->dir);
	free(g);
}

const char *
spoolgate_dir(const struct spoolgate *g)
{
	return g->dir;
}

/* The helper is gone (or out of step): every request from now on fails
 * with this, and the caller does what it does without a spool. */
static int
gate_lost(struct spoolgate *g, const char *what, struct error *err)
{
	if (!g->lost.kind)
		error_set(&g->lost, ERROR_TEMPFAIL,
		          "the spool helper for %s %s", g->dir, what);
	*err = g->lost;
	return -1;
}

static int
gate_send(struct spoolgate *g, char type, const void *p, size_t n,
          struct error *err)
{
	if (g->lost.kind) {
		*err = g->lost;
		return -1;
	}
	if (frame_write(g->fd, type, p, n) < 0)
		return gate_lost(g, "is gone", err);
	return 0;
}

/* The next reply frame's header; 'E' is read and turned into err here. */
static int
gate_next(struct spoolgate *g, char *type, uint32_t *len, struct error *err)
{
	const char *why;
	char *msg;
	int kind;

	if (frame_next(g->fd, type, len, &why) != 0)
		return gate_lost(g, why ? "answered out of step" : "is gone",
		                 err);
	if (*type != 'E')
		return 0;
	msg = *len > 0 ? frame_payload(g->fd, *len) : NULL;
	if (!msg)
		return gate_lost(g, "is gone", err);
	kind = (unsigned char)msg[0];
	if (kind <= ERROR_NONE || kind > ERROR_CONFIG)
		kind = ERROR_SOFTWARE;
	error_set(err, (enum error_kind)kind, "%s", msg + 1);
	free(msg);
	return -1;
}

/* A reply that must be 'K' with an id (id not NULL) or empty. */
static int
gate_ok(struct spoolgate *g, char id[QUEUE_ID_SIZE], struct error *err)
{
	char type;
	uint32_t len;

	if (gate_next(g, &type, &len, err) < 0)
		return -1;
	if (type != 'K' || len != (id ? QUEUE_ID_LEN : 0u))
		return gate_lost(g, "answered out of step", err);
	if (!id)
		return 0;
	if (read_full(g->fd, id, QUEUE_ID_LEN) != 0)
		return gate_lost(g, "is gone", err);
	id[QUEUE_ID_LEN] = '\0';
	return queue_id_valid(id) ? 0
	                          : gate_lost(g, "answered out of step", err);
}

/* The message as 'D' frames, then the empty one; '!' when it cannot be
 * read (read_err then says why). */
static int
gate_stream(struct spoolgate *g, struct message_stream *m,
            struct error *read_err, struct error *err)
{
	char *buf = xmalloc(SPOOLGATE_CHUNK);
	ssize_t got;
	int rc = 0;

	if (m->rewind && m->rewind(m->ctx, read_err) < 0)
		got = -1;
	else
		while ((got = m->read(m->ctx, buf, SPOOLGATE_CHUNK, read_err)) >
		           0 &&
		       (rc = gate_send(g, 'D', buf, (size_t)got, err)) == 0)
			;
	free(buf);
	if (rc < 0)
		return -1;
	if (got < 0) {
		if (!read_err->kind)
			error_set(read_err, ERROR_IOERR, "read error");
		return gate_send(g, '!', NULL, 0, err);
	}
	return gate_send(g, 'D', NULL, 0, err);
}

int
spoolgate_add(struct spoolgate *g, bool dead, const struct queue_envelope *env,
              struct message_stream *m, char id[QUEUE_ID_SIZE],
              struct error *err)
{
	struct queue_envelope e = *env; /* a shallow copy, never cleared */
	struct error read_err;
	struct buf b;
	int rc;

	str_copy(e.id, sizeof e.id, SPOOLGATE_NEW_ID);
	e.size = m->size;
	e.has_8bit = m->has_8bit;
	if (queue_envelope_format(&e, &b, err) < 0)
		return -1;
	rc = gate_send(g, dead ? 'X' : 'A', b.data, b.len, err);
	buf_clear(&b);
	error_clear(&read_err);
	if (rc < 0 || gate_stream(g, m, &read_err, err) < 0)
		return -1;
	rc = gate_ok(g, id, err);
	/* The helper stored nothing; why is the read's failure. */
	if (rc < 0 && read_err.kind)
		*err = read_err;
	return rc;
}

/* An envelope frame ('Q', 'G') of len bytes: id, then text. */
static int
gate_envelope(struct spoolgate *g, uint32_t len, struct queue_envelope *e,
              struct error *err)
{
	char *p = len >= QUEUE_ID_LEN ? frame_payload(g->fd, len) : NULL;
	char id[QUEUE_ID_SIZE];
	int rc;

	if (!p)
		return gate_lost(g, "answered out of step", err);
	memcpy(id, p, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	rc = queue_id_valid(id)
	         ? queue_envelope_parse(p + QUEUE_ID_LEN, len - QUEUE_ID_LEN,
	                                id, e, err)
	         : -1;
	free(p);
	/* The helper shows the caller's own entries only. */
	e->owner = getuid();
	return rc < 0 ? gate_lost(g, "answered out of step", err) : 0;
}

static void
listing_push(struct queue_envelope **v, size_t *n, struct queue_envelope *e)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = *e;
}

int
spoolgate_list(struct spoolgate *g, struct spoolgate_listing *l,
               struct error *err)
{
	struct queue_envelope e;
	char type;
	uint32_t len;
	char *line;

	memset(l, 0, sizeof *l);
	strlist_init(&l->damaged);
	if (gate_send(g, 'L', NULL, 0, err) < 0)
		return -1;
	while (gate_next(g, &type, &len, err) == 0) {
		if (type == 'K')
			return len == 0
			           ? 0
			           : gate_lost(g, "answered out of step", err);
		if (type == 'Z') {
			if (!(line = frame_payload(g->fd, len)))
				break;
			strlist_add(&l->damaged, line);
			free(line);
			continue;
		}
		if (type != 'Q' && type != 'G') {
			gate_lost(g, "answered out of step", err);
			break;
		}
		queue_envelope_init(&e);
		if (gate_envelope(g, len, &e, err) < 0) {
			queue_envelope_clear(&e);
			break;
		}
		if (type == 'Q')
			listing_push(&l->entries, &l->nentries, &e);
		else
			listing_push(&l->dead, &l->ndead, &e);
	}
	if (!err->kind)
		gate_lost(g, "is gone", err);
	spoolgate_listing_clear(l);
	return -1;
}

void
spoolgate_listing_clear(struct spoolgate_listing *l)
{
	queue_list_free(l->entries, l->nentries);
	queue_list_free(l->dead, l->ndead);
	strlist_clear(&l->damaged);
	memset(l, 0, sizeof *l);
	strlist_init(&l->damaged);
}

static ssize_t
shown_read(void *ctx, char *buf, size_t n, struct error *err)
{
	struct spoolgate_shown *s = ctx;
	char type;
	uint32_t len;

	while (s->left == 0) {
		if (s->ended)
			return 0;
		if (gate_next(s->g, &type, &len, err) < 0) {
			s->ended = true;
			return -1;
		}
		if (type == 'K' && len == 0) {
			s->ended = true;
			return 0;
		}
		if (type != 'D' || len == 0) {
			s->ended = true;
			return gate_lost(s->g, "answered out of step", err);
		}
		s->left = len;
	}
	if (n > s->left)
		n = s->left;
	if (read_full(s->g->fd, buf, n) != 0) {
		s->ended = true;
		return gate_lost(s->g, "is gone", err);
	}
	s->left -= (uint32_t)n;
	return (ssize_t)n;
}

/* The frames before the message: a damage line, an envelope. */
static int
shown_head(struct spoolgate_shown *s, struct error *err)
{
	char type;
	uint32_t len;

	for (;;) {
		if (gate_next(s->g, &type, &len, err) < 0)
			return -1;
		if (type == 'Z' && !s->damage && len > 0) {
			if (!(s->damage = frame_payload(s->g->fd, len)))
				return gate_lost(s->g, "is gone", err);
		} else if ((type == 'Q' || type == 'G') && !s->has_env) {
			if (gate_envelope(s->g, len, &s->env, err) < 0)
				return -1;
			s->has_env = true;
			s->dead = type == 'G';
		} else if (type == 'D' && len > 0) {
			s->left = len;
			return 0;
		} else if (type == 'K' && len == 0) {
			s->ended = true;
			return 0;
		} else {
			return gate_lost(s->g, "answered out of step", err);
		}
	}
}

int
spoolgate_show(struct spoolgate *g, const char *id, struct spoolgate_shown *s,
               struct error *err)
{
	memset(s, 0, sizeof *s);
	queue_envelope_init(&s->env);
	s->g = g;
	s->ended = true; /* until the request is out */
	s->message = (struct message_stream){.read = shown_read, .ctx = s};
	if (!queue_id_valid(id))
		return error_set(err, ERROR_USAGE, "'%s' is not a queue id",
		                 id);
	str_copy(s->id, sizeof s->id, id);
	if (gate_send(g, 'S', id, QUEUE_ID_LEN, err) < 0)
		return -1;
	s->ended = false;
	if (shown_head(s, err) < 0) {
		s->ended = true;
		return -1;
	}
	return 0;
}

void
spoolgate_shown_clear(struct spoolgate_shown *s)
{
	char buf[4096];
	struct error ignored;

	/* The rest of the message, so that the next reply is in step. */
	while (!s->ended && shown_read(s, buf, sizeof buf, &ignored) > 0)
		;
	queue_envelope_clear(&s->env);
	free(s->damage);
	s->damage = NULL;
}

int
spoolgate_remove(struct spoolgate *g, const char *id, struct error *err)
{
	if (!queue_id_valid(id))
		return error_set(err, ERROR_USAGE, "'%s' is not a queue id",
		                 id);
	if (gate_send(g, 'U', id, QUEUE_ID_LEN, err) < 0)
		return -1;
	return gate_ok(g, NULL, err);
}
