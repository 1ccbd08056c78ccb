/*
 * spoolserve.c - the spool helper's side: its requests served, and the
 * helper process (the threat model is in spoolserve.h, the protocol in
 * spoolframe.h).
 */
#include "config.h"

#include "spoolserve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privilege.h"
#include "queuefile.h"
#include "spoolframe.h"

/* The descriptor the helper serves on, once everything else is closed. */
#define SPOOLSERVE_FD 3

/* The descriptors a helper may have been given by the caller, closed one
 * by one where close_range(2) is missing. */
#define SPOOLSERVE_FD_SCAN 1024

/* --- requests ------------------------------------------------------------- */

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
	if (!s->lost && spoolframe_write(s->fd, type, p, n) < 0)
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
	int rc = spoolframe_next(in->s->fd, &type, &len, &in->s->bad);

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
	if (spoolframe_read(in->s->fd, buf, n) != 0) {
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

			if (spoolframe_read(in->s->fd, buf, n) != 0) {
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
	char *text = spoolframe_payload(s->fd, len);
	char id[QUEUE_ID_SIZE];
	struct error err;
	int rc = -1;

	if (!text) {
		s->bad = "the envelope was cut short";
		return;
	}
	error_clear(&err);
	queue_envelope_init(&env);
	if (queuefile_parse(text, len, SPOOLFRAME_NEW_ID, &env, &err) == 0) {
		in.expect = env.size;
		m.size = env.size;
		m.has_8bit = env.has_8bit;
		m.has_nul = env.has_nul;
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

	if (queuefile_format(e, &b, &err) < 0)
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
	if (len != QUEUE_ID_LEN ||
	    spoolframe_read(s->fd, id, QUEUE_ID_LEN) != 0) {
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
	char *buf = xmalloc(SPOOLFRAME_CHUNK);
	ssize_t got = 0;

	while (!s->lost &&
	       (got = m.read(m.ctx, buf, SPOOLFRAME_CHUNK, err)) > 0)
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
	int rc = spoolframe_next(s->fd, &type, &len, &s->bad);

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
spoolserve_run(int fd, struct queue *q, struct queue *dead,
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
 * SPOOLSERVE_FD: nothing of the caller's reaches the helper. */
static int
child_descriptors(int sock)
{
	int null = open("/dev/null", O_RDWR);

	if (null < 0)
		return -1;
	for (int fd = 0; fd <= 2; fd++)
		if (null != fd && dup2(null, fd) < 0)
			return -1;
	if (sock != SPOOLSERVE_FD && dup2(sock, SPOOLSERVE_FD) < 0)
		return -1;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, SPOOLSERVE_FD + 1U, ~0U, 0U) == 0)
		return 0;
#endif
	for (int fd = SPOOLSERVE_FD + 1; fd < SPOOLSERVE_FD_SCAN; fd++)
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

_Noreturn void
spoolserve_child(int sock, const char *dir, gid_t group, void (*forget)(void *),
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
	rc = spoolserve_run(SPOOLSERVE_FD, q, dead, &err);
	queue_close(q);
	queue_close(dead);
	free(spool);
	_exit(rc == 0 ? 0 : 1);
}
