/*
 * outbox_test.c - the fate of one message (outbox.h): delivered, queued
 * or saved as a dead letter, against a scripted server (peer.h), with the
 * queue and the dead letter file in a fresh temporary directory.  What
 * is queued is read back through queue.h: the recipients, the attempt
 * count and schedule, and the message byte for byte.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "conf.h"
#include "interrupt.h"
#include "outbox.h"
#include "peer.h"
#include "queue.h"
#include "unit.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define STEPS_MAX 6
#define BACKOFF 600

#define GREET                                                                  \
	{                                                                      \
		NULL, "220 test.invalid ESMTP\r\n", 0                          \
	}
#define EHLO_PIPE                                                              \
	{                                                                      \
		"EHLO client.test\r\n",                                        \
		    "250-test.invalid\r\n250 PIPELINING\r\n", 1                \
	}
/* b accepted, c refused for now, the message taken for b. */
#define ONE_OF_TWO                                                             \
	{                                                                      \
		GREET, EHLO_PIPE,                                              \
		    {"DATA\r\n",                                               \
		     "250 ok\r\n250 ok\r\n450 4.2.1 later\r\n354 go\r\n", 0},  \
		{                                                              \
			"\r\n.\r\nQUIT\r\n", "250 ok\r\n221 bye\r\n", 1        \
		}                                                              \
	}
#define MSG "Subject: t\r\n\r\nbody of the message\r\n"

struct fate {
	const char *name;
	struct peer_step st[STEPS_MAX];
	enum queue_policy policy;
	bool any;      /* rcpt_policy any (two recipients) */
	bool no_queue; /* no queue directory (queue_problem set) */
	bool no_dead;  /* no dead letter file */
	int rc;
	enum error_kind kind; /* when rc is -1 */
	enum outbox_fate fate;
	const char *queued_rcpts; /* the queued entry's, joined by ' ' */
	unsigned attempts;        /* of the queued entry */
	bool dead;                /* the dead letter file holds it */
	bool lost; /* delivered to some, the rest neither queued nor saved */
	const char *says;         /* in the error line, when rc is -1 */
};

static const struct fate fates[] = {
    {.name = "always: queued without an attempt",
     .policy = QUEUE_ALWAYS,
     .fate = OUTBOX_QUEUED,
     .queued_rcpts = "b@y.test"},
    {.name = "delivered",
     .st = {GREET,
            EHLO_PIPE,
            {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 0},
            {"\r\n.\r\nQUIT\r\n", "250 ok\r\n221 bye\r\n", 1}},
     .policy = QUEUE_ON_FAILURE,
     .fate = OUTBOX_DELIVERED},
    {.name = "temporary, on_failure: queued, a success",
     .st = {{NULL, "421 4.3.2 busy\r\n", 0}},
     .policy = QUEUE_ON_FAILURE,
     .fate = OUTBOX_QUEUED,
     .queued_rcpts = "b@y.test",
     .attempts = 1},
    {.name = "status unknown after the dot, on_failure: queued",
     .st = {GREET,
            EHLO_PIPE,
            {"DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 0},
            {"\r\n.\r\n", PEER_DROP, 0}},
     .policy = QUEUE_ON_FAILURE,
     .fate = OUTBOX_QUEUED,
     .queued_rcpts = "b@y.test",
     .attempts = 1},
    {.name = "temporary, never: dead letter",
     .st = {{NULL, "421 4.3.2 busy\r\n", 0}},
     .policy = QUEUE_NEVER,
     .rc = -1,
     .kind = ERROR_TEMPFAIL,
     .fate = OUTBOX_DEAD_LETTER,
     .dead = true},
    {.name = "permanent, on_failure: dead letter, not queued",
     .st = {GREET,
            EHLO_PIPE,
            {"DATA\r\n", "550 5.7.1 no\r\n503 no\r\n503 no\r\n", 0}},
     .policy = QUEUE_ON_FAILURE,
     .rc = -1,
     .kind = ERROR_NOPERM,
     .fate = OUTBOX_DEAD_LETTER,
     .dead = true},
    {.name = "permanent, no dead letter file: lost to nothing, failed",
     .st = {GREET,
            EHLO_PIPE,
            {"DATA\r\n", "550 5.7.1 no\r\n503 no\r\n503 no\r\n", 0}},
     .policy = QUEUE_ON_FAILURE,
     .no_dead = true,
     .rc = -1,
     .kind = ERROR_NOPERM,
     .fate = OUTBOX_FAILED},
    {.name = "temporary, the queue unusable: dead letter",
     .st = {{NULL, "421 4.3.2 busy\r\n", 0}},
     .policy = QUEUE_ON_FAILURE,
     .no_queue = true,
     .rc = -1,
     .kind = ERROR_CONFIG,
     .fate = OUTBOX_DEAD_LETTER,
     .dead = true},
    {.name = "any: delivered to one, queued for the one refused for now",
     .st = ONE_OF_TWO,
     .policy = QUEUE_ON_FAILURE,
     .any = true,
     .fate = OUTBOX_QUEUED,
     .queued_rcpts = "c@y.test",
     .attempts = 1},
    {.name = "any: delivered to one, the queue unusable: the rest saved",
     .st = ONE_OF_TWO,
     .policy = QUEUE_ON_FAILURE,
     .any = true,
     .no_queue = true,
     .rc = -1,
     .kind = ERROR_TEMPFAIL, /* as before: the rest did not go */
     .fate = OUTBOX_DELIVERED,
     .dead = true,
     .says = "could not be queued (cannot queue the message: no home "
             "directory); saved to "},
    {.name = "any, never: delivered to one, the rest saved, not dropped",
     .st = ONE_OF_TWO,
     .policy = QUEUE_NEVER,
     .any = true,
     .rc = -1,
     .kind = ERROR_TEMPFAIL,
     .fate = OUTBOX_DELIVERED,
     .dead = true,
     .says = "the 1 refused for now are not queued (queue never); saved "
             "to "},
    {.name = "any, never, no dead letter file: the rest named",
     .st = ONE_OF_TWO,
     .policy = QUEUE_NEVER,
     .any = true,
     .no_dead = true,
     .rc = -1,
     .kind = ERROR_TEMPFAIL,
     .fate = OUTBOX_DELIVERED,
     .lost = true,
     .says = "the 1 refused for now are not queued (queue never) and "
             "there is no dead letter file: nothing was kept for "},
};

struct place {
	char dir[64];
	char queue[96];
	char dead[96];
};

static int
place_make(struct place *pl)
{
	snprintf(pl->dir, sizeof pl->dir, "/tmp/mailpost-unit-XXXXXX");
	if (!mkdtemp(pl->dir))
		return -1;
	snprintf(pl->queue, sizeof pl->queue, "%s/queue", pl->dir);
	snprintf(pl->dead, sizeof pl->dead, "%s/dead.letter", pl->dir);
	return 0;
}

static void
place_remove(struct place *pl)
{
	peer_rmtree(pl->dir);
}

/* The one entry of the queue (its envelope, and the message in msg), or
 * -1 when there is not exactly one. */
static int
only_entry(const char *dir, struct queue_envelope *env, char *msg, size_t size)
{
	struct queue *q;
	struct queue_envelope *v = NULL;
	struct queue_entry *e = NULL;
	struct message_stream m;
	struct error err = {0};
	size_t n = 0, len = 0;
	ssize_t k;

	if (queue_open(&q, dir, &err) < 0)
		return -1;
	if (queue_list(q, &v, &n, &err) < 0 || n != 1 ||
	    queue_claim(q, v[0].id, &e, &err) != QUEUE_CLAIMED) {
		queue_list_free(v, n);
		queue_close(q);
		return -1;
	}
	*env = v[0];
	free(v);
	m = queue_entry_message(e);
	while ((k = m.read(m.ctx, msg + len, size - 1 - len, &err)) > 0)
		len += (size_t)k;
	msg[len] = '\0';
	queue_entry_release(e);
	queue_close(q);
	return 0;
}

static size_t
queue_size(const char *dir)
{
	struct queue *q;
	struct queue_envelope *v = NULL;
	struct error err = {0};
	size_t n = 0;
	struct stat st;

	if (stat(dir, &st) < 0)
		return 0;
	if (queue_open(&q, dir, &err) < 0 || queue_list(q, &v, &n, &err) < 0)
		return 99;
	queue_list_free(v, n);
	queue_close(q);
	return n;
}

static char *
joined(const struct envelope *e, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < e->nrcpts && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		                         i ? " " : "", e->rcpts[i].addr);
	return out;
}

/* Post MSG from a@x.test to b@y.test (and c@y.test) through a route to
 * the peer at path, as the driver does. */
static int
post(const struct outbox *o, const char *path, bool any,
     struct outbox_result *res, struct error *err)
{
	static const char *const rcpts[] = {"b@y.test", "c@y.test"};
	char text[512];
	struct config *cfg = NULL;
	struct account a;
	struct relay_route r;
	struct submission sub = {0};
	struct envelope env;
	struct peer_text t1, t2;
	struct message_stream copy;
	int rc;

	snprintf(text, sizeof text,
	         "account first\nhost a.test\nsocket %s\nport 25\n"
	         "domain client.test\ntimeout 2\n",
	         path);
	if (conf_parse(text, strlen(text), "test", &cfg, err) < 0 ||
	    conf_select(cfg, "first", NULL, &a, err) < 0 ||
	    relay_route_build(&r, &a, NULL, NULL, NULL, err) < 0) {
		CHECK(!"route");
		return -1;
	}
	envelope_init(&env);
	envelope_set_sender(&env, "a@x.test");
	envelope_set_account(&env, "first", NULL, 0);
	for (size_t i = 0; i < (any ? 2u : 1u); i++)
		envelope_add_rcpt(&env, rcpts[i]);
	sub.env = &env;
	sub.rcpt_policy = any ? RCPT_POLICY_ANY : RCPT_POLICY_ALL;
	peer_message(&sub.message, &t1, MSG);
	peer_message(&copy, &t2, MSG);
	rc = outbox_post(o, &r, &sub, &copy, res, err);
	envelope_clear(&env);
	relay_route_clear(&r);
	account_clear(&a);
	conf_free(cfg);
	return rc;
}

/* The outbox's clock: a fixed time in the past, so that every time it
 * writes can be checked exactly. */
#define NOW ((time_t)1000000000)

static time_t
test_clock(void)
{
	return NOW;
}

static void
run(const struct fate *f)
{
	struct place pl;
	struct peer p;
	struct outbox o = {0};
	struct outbox_result res;
	struct queue_envelope env;
	struct error err = {0};
	char what[ERROR_MSG_MAX + 200], msg[1024], rcpts[256];
	size_t len;
	int rc;

	if (place_make(&pl) < 0 ||
	    peer_start(&p, f->st, peer_nsteps(f->st, STEPS_MAX)) < 0) {
		CHECK(!"setup");
		return;
	}
	o.policy = f->policy;
	o.depot.dir = f->no_queue ? NULL : pl.queue;
	o.depot.problem = f->no_queue ? "no home directory" : NULL;
	o.depot.clock = test_clock;
	o.dead_letter = f->no_dead ? NULL : pl.dead;
	o.backoff = BACKOFF;
	o.clock = test_clock;
	rc = post(&o, p.path, f->any, &res, &err);
	if (!f->st[0].send)
		peer_poke(&p);
	free(peer_finish(&p, &len));

	snprintf(what, sizeof what, "%s: rc %d, fate %d, kind %d (%s)", f->name,
	         rc, res.fate, err.kind, err.msg);
	unit_report(rc == f->rc && res.fate == f->fate &&
	                (rc == 0 || err.kind == f->kind),
	            __FILE__, __LINE__, what);
	if (f->policy == QUEUE_ALWAYS)
		CHECK_INT(len, 0); /* not even a connection */
	if (f->queued_rcpts) {
		CHECK(only_entry(pl.queue, &env, msg, sizeof msg) == 0);
		CHECK_STR(env.id, res.id);
		CHECK_STR(joined(&env.env, rcpts, sizeof rcpts),
		          f->queued_rcpts);
		CHECK_STR(env.env.sender, "a@x.test");
		CHECK_INT(env.attempts, f->attempts);
		CHECK_INT(env.created, NOW); /* the outbox's clock */
		CHECK_STR(msg, MSG);
		if (f->attempts) {
			/* The failure kept, the next try backed off. */
			CHECK(env.last_error && *env.last_error);
			CHECK_INT(env.last_attempt, NOW);
			CHECK_INT(env.next_attempt, NOW + BACKOFF);
			CHECK_INT(res.cause.kind, ERROR_TEMPFAIL);
		} else {
			CHECK_INT(env.next_attempt, 0);
		}
		queue_envelope_clear(&env);
	} else {
		snprintf(what, sizeof what, "%s: nothing queued", f->name);
		unit_report(queue_size(pl.queue) == 0, __FILE__, __LINE__,
		            what);
	}
	snprintf(what, sizeof what, "%s: rest lost %d", f->name, f->lost);
	unit_report(res.rest_lost == f->lost, __FILE__, __LINE__, what);
	snprintf(what, sizeof what, "%s: dead letter %d", f->name, f->dead);
	unit_report(peer_file_has(pl.dead, "body of the message") == f->dead,
	            __FILE__, __LINE__, what);
	if (f->dead) {
		CHECK(strstr(err.msg, pl.dead) != NULL);
		/* Dated by the outbox's clock (NOW). */
		CHECK(peer_file_has(
		    pl.dead, "From a@x.test Sun Sep  9 01:46:40 2001\n"));
	}
	if (f->says) {
		snprintf(what, sizeof what, "%s: says '%s': %s", f->name,
		         f->says, err.msg);
		unit_report(strstr(err.msg, f->says) &&
		                strstr(err.msg, "for c@y.test") &&
		                !strstr(err.msg, "b@y.test"),
		            __FILE__, __LINE__, what);
	}
	place_remove(&pl);
}

/* Queue never, delivered to one: the rest can be saved neither to the
 * dead letter file (a directory) nor to the spool's dead letters (a spool
 * that does not exist): the failure says why for both, not only the
 * spool's. */
static void
test_rest_saved_nowhere(void)
{
	static const struct peer_step st[] = ONE_OF_TWO;
	static const gid_t spool_gid = 0;
	struct place pl;
	struct peer p;
	struct outbox o = {0};
	struct outbox_result res;
	struct error err = {0};
	char spool[128];
	size_t len;
	FILE *f;

	if (place_make(&pl) < 0 || peer_start(&p, st, N(st)) < 0) {
		CHECK(!"setup");
		return;
	}
	/* A spool under a regular file: it cannot be made. */
	f = fopen(pl.dead, "w");
	if (f)
		fclose(f);
	snprintf(spool, sizeof spool, "%s/spool", pl.dead);
	o.policy = QUEUE_NEVER;
	o.depot.dir = spool;
	o.depot.spool = &spool_gid;
	o.dead_letter = pl.dir; /* a directory */
	o.clock = test_clock;
	CHECK_INT(post(&o, p.path, true, &res, &err), -1);
	free(peer_finish(&p, &len));
	CHECK_INT(res.fate, OUTBOX_DELIVERED);
	CHECK(res.rest_lost);
	CHECK(strstr(err.msg, "nothing was kept for c@y.test") != NULL);
	if (!strstr(err.msg, pl.dir) || !strstr(err.msg, "not a regular file"))
		CHECK(!"the dead letter file's failure is not said");
	place_remove(&pl);
}

/* A signal while the server keeps us waiting: queued all the same, and a
 * failure whose message says where the message went.  (Last: the
 * process keeps catching signals after it.) */
static void
test_interrupted(void)
{
	static const struct peer_step st[] = {{"never sent", NULL, 0}};
	struct place pl;
	struct peer p;
	struct outbox o = {0};
	struct outbox_result res;
	struct queue_envelope env;
	struct error err = {0};
	char msg[1024];
	size_t len;

	if (place_make(&pl) < 0 || peer_start(&p, st, N(st)) < 0)
		return;
	o.policy = QUEUE_ON_FAILURE;
	o.depot.dir = pl.queue;
	o.dead_letter = pl.dead;
	o.backoff = BACKOFF;
	interrupt_catch();
	raise(SIGTERM); /* pending until the wait for the greeting */
	CHECK_INT(post(&o, p.path, false, &res, &err), -1);
	CHECK_INT(err.kind, ERROR_TEMPFAIL);
	CHECK_INT(res.fate, OUTBOX_QUEUED);
	CHECK(strstr(err.msg, "interrupted") != NULL);
	CHECK(strstr(err.msg, res.id) != NULL);
	CHECK(only_entry(pl.queue, &env, msg, sizeof msg) == 0);
	CHECK_STR(msg, MSG);
	queue_envelope_clear(&env);
	free(peer_finish(&p, &len));
	place_remove(&pl);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < N(fates); i++)
		run(&fates[i]);
	test_rest_saved_nowhere();
	test_interrupted();
	return unit_done();
}
