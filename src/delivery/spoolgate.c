/*
 * spoolgate.c - the caller's side of the spool helper, and its start
 * (the helper's side is spoolserve.c, the frames spoolframe.c).
 */
#include "config.h"

#include "spoolgate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queuefile.h"
#include "spoolframe.h"
#include "spoolserve.h"

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
		spoolserve_child(sv[1], dir, group, forget, arg);
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
	if (spoolframe_write(g->fd, type, p, n) < 0)
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

	if (spoolframe_next(g->fd, type, len, &why) != 0)
		return gate_lost(g, why ? "answered out of step" : "is gone",
		                 err);
	if (*type != 'E')
		return 0;
	msg = *len > 0 ? spoolframe_payload(g->fd, *len) : NULL;
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
	if (spoolframe_read(g->fd, id, QUEUE_ID_LEN) != 0)
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
	char *buf = xmalloc(SPOOLFRAME_CHUNK);
	ssize_t got;
	int rc = 0;

	if (m->rewind && m->rewind(m->ctx, read_err) < 0)
		got = -1;
	else
		while ((got = m->read(m->ctx, buf, SPOOLFRAME_CHUNK,
		                      read_err)) > 0 &&
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

	str_copy(e.id, sizeof e.id, SPOOLFRAME_NEW_ID);
	e.size = m->size;
	e.has_8bit = m->has_8bit;
	e.has_nul = m->has_nul;
	if (queuefile_format(&e, &b, err) < 0)
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
	char *p = len >= QUEUE_ID_LEN ? spoolframe_payload(g->fd, len) : NULL;
	char id[QUEUE_ID_SIZE];
	int rc;

	if (!p)
		return gate_lost(g, "answered out of step", err);
	memcpy(id, p, QUEUE_ID_LEN);
	id[QUEUE_ID_LEN] = '\0';
	rc = queue_id_valid(id)
	         ? queuefile_parse(p + QUEUE_ID_LEN, len - QUEUE_ID_LEN, id, e,
	                           err)
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
			if (!(line = spoolframe_payload(g->fd, len)))
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
	if (spoolframe_read(s->g->fd, buf, n) != 0) {
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
			if (!(s->damage = spoolframe_payload(s->g->fd, len)))
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
