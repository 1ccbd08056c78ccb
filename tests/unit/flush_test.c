/*
 * flush_test.c - the queue runner (flush.h) against a scripted server
 * (peer.h), with a queue in a fresh temporary directory filled through
 * queue.h: one connection per group with RSET between messages, the
 * selection (-qI, -qR, -qS, an account, --due), and what becomes of each
 * entry: removed when delivered, backed off when deferred, given up (dead
 * letter) when refused or older than queue_max_age, held when its account
 * cannot be used.  Entries are made with the creation and next attempt
 * times a case needs; a case that moves time sets the run's clock
 * (flush_request.clock) instead of waiting or faking the system's.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fate.h"
#include "flush.h"
#include "interrupt.h"
#include "outbox.h"
#include "peer.h"
#include "queue.h"
#include "unit.h"
#include "util.h"

#define N(a) (sizeof(a) / sizeof *(a))
#define BACKOFF 600
#define DAY 86400

#define GREET                                                                  \
	{                                                                      \
		NULL, "220 test.invalid ESMTP\r\n", 0                          \
	}
#define EHLO_PIPE                                                              \
	{                                                                      \
		"EHLO client.test\r\n",                                        \
		    "250-test.invalid\r\n250 PIPELINING\r\n", 1                \
	}
#define GROUP_OK                                                               \
	{                                                                      \
		"DATA\r\n", "250 ok\r\n250 ok\r\n354 go\r\n", 0                \
	}
#define DOT_OK                                                                 \
	{                                                                      \
		"\r\n.\r\n", "250 ok\r\n", 1                                   \
	}
#define MSG "Subject: t\r\n\r\nqueued body\r\n"
/* A message larger than FSIZE_LIMIT, so that the queue cannot write it
 * again while an envelope still fits. */
#define BIG_MSG_SIZE (20 * 1000)
#define FSIZE_LIMIT 8192

/* An entry to put in the queue. */
struct entry {
	const char *account;
	const char *sender;
	const char *rcpt;
	const char *rcpt2; /* a second recipient, or NULL */
	const char *rcpt3; /* a third, or NULL */
	bool big;          /* BIG_MSG instead of MSG */
	long age;  /* seconds since it was queued */
	long next; /* next attempt, seconds from now (0: due) */
	unsigned attempts;
};

struct setup {
	struct peer peer;
	char dir[64];
	char queue[96];
	char dead[96];
	char ids[4][QUEUE_ID_SIZE];
	struct strlist notices;
	struct strlist logs; /* on_log's lines */
	time_t t0;
};

static void
on_notice(void *ctx, const char *line)
{
	strlist_add(ctx, line);
}

/* How many recipients the last result line named. */
static size_t last_log_nrcpts;

/* The log hook: "ID KIND [queued=ID]" for each entry's result line. */
static void
on_log(void *ctx, const struct account *a, const struct maillog_entry *e)
{
	char line[128];

	last_log_nrcpts = e->env->nrcpts;
	snprintf(line, sizeof line, "%s %s%s%s", e->entry_id,
	         error_kind_name(e->error ? e->error->kind : ERROR_NONE),
	         e->queued_id ? " queued=" : "",
	         e->queued_id ? e->queued_id : "");
	CHECK(a->name != NULL);
	strlist_add(ctx, line);
}

/* The log lines are exactly `want`, joined by '|'. */
static void
check_logs(const struct setup *s, const char *want)
{
	char got[512];
	size_t used = 0;

	got[0] = '\0';
	for (size_t i = 0; i < s->logs.n && used < sizeof got; i++)
		used += (size_t)snprintf(got + used, sizeof got - used, "%s%s",
		                         i ? "|" : "", s->logs.v[i]);
	CHECK_STR(got, want);
}

static bool
noticed(const struct setup *s, const char *part)
{
	for (size_t i = 0; i < s->notices.n; i++)
		if (strstr(s->notices.v[i], part))
			return true;
	return false;
}

/* The accounts, as the driver resolves them: every name is the peer's
 * server, except "broken", which cannot be used; "any" has rcpt_policy
 * any. */
static int
account(void *ctx, const char *name, const char *host, int port,
        struct account *out, struct error *err)
{
	const struct setup *s = ctx;

	(void)host;
	(void)port;
	if (strcmp(name, "broken") == 0)
		return error_set(err, ERROR_CONFIG,
		                 "account 'broken' is not defined");
	account_defaults(out);
	out->name = xstrdup(name);
	out->host = xstrdup("a.test");
	out->socket = xstrdup(s->peer.path);
	out->port = 25;
	out->domain = xstrdup("client.test");
	out->timeout = 2;
	out->queue_backoff = BACKOFF;
	out->queue_max_age = DAY;
	if (strcmp(name, "any") == 0)
		out->rcpt_policy = RCPT_POLICY_ANY;
	return 0;
}

/* MSG, then lines of 'x' up to BIG_MSG_SIZE bytes. */
static const char *
big_msg(void)
{
	static char text[BIG_MSG_SIZE + 1];
	size_t len = strlen(MSG);

	if (text[0])
		return text;
	memcpy(text, MSG, len);
	for (; len + 72 <= BIG_MSG_SIZE; len += 72) {
		memset(text + len, 'x', 70);
		memcpy(text + len + 70, "\r\n", 2);
	}
	text[len] = '\0';
	return text;
}

static int
add(const char *dir, const struct entry *en, time_t now, char id[QUEUE_ID_SIZE])
{
	struct queue *q;
	struct queue_envelope env;
	struct message_stream m;
	struct peer_text t;
	struct error err = {0};
	int rc;

	if (queue_open(&q, dir, &err) < 0)
		return -1;
	queue_envelope_init(&env);
	env.env.account = xstrdup(en->account ? en->account : "first");
	env.env.sender = xstrdup(en->sender ? en->sender : "a@x.test");
	envelope_add_rcpt(&env.env, en->rcpt ? en->rcpt : "b@y.test");
	if (en->rcpt2)
		envelope_add_rcpt(&env.env, en->rcpt2);
	if (en->rcpt3)
		envelope_add_rcpt(&env.env, en->rcpt3);
	env.created = now - en->age;
	env.attempts = en->attempts;
	env.next_attempt = en->next ? now + en->next : 0;
	peer_message(&m, &t, en->big ? big_msg() : MSG);
	rc = queue_add(q, &env, &m, id, &err);
	if (rc < 0)
		fprintf(stderr, "queue_add: %s\n", err.msg);
	queue_envelope_clear(&env);
	queue_close(q);
	return rc;
}

/* A queue holding `entries`, and a server playing `st`. */
static int
setup(struct setup *s, const struct entry *entries, size_t n,
      const struct peer_step *st, size_t nst)
{
	memset(s, 0, sizeof *s);
	strlist_init(&s->notices);
	strlist_init(&s->logs);
	s->t0 = time(NULL);
	snprintf(s->dir, sizeof s->dir, "/tmp/mailpost-unit-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	snprintf(s->queue, sizeof s->queue, "%s/queue", s->dir);
	snprintf(s->dead, sizeof s->dead, "%s/dead.letter", s->dir);
	for (size_t i = 0; i < n; i++)
		if (add(s->queue, &entries[i], s->t0, s->ids[i]) < 0)
			return -1;
	return peer_start(&s->peer, st, nst);
}

static void
request(struct flush_request *fr, struct setup *s)
{
	memset(fr, 0, sizeof *fr);
	fr->queue_dir = s->queue;
	fr->account = account;
	fr->account_ctx = s;
	fr->dead_letter = s->dead;
	fr->notice = on_notice;
	fr->notice_ctx = &s->notices;
	fr->log = on_log;
	fr->log_ctx = &s->logs;
}

/* setup and request, or false after a failed check. */
static bool
begin(struct setup *s, struct flush_request *fr, const struct entry *entries,
      size_t n, const struct peer_step *st, size_t nst)
{
	if (setup(s, entries, n, st, nst) < 0) {
		CHECK(!"setup");
		return false;
	}
	request(fr, s);
	return true;
}

/* Run, then collect what the server received (a fresh string). */
static char *
run(struct setup *s, const struct flush_request *fr, struct flush_report *rep,
    int *rc)
{
	struct error err = {0};
	size_t len;

	memset(rep, 0, sizeof *rep);
	*rc = flush_run(fr, rep, &err);
	if (*rc < 0)
		fprintf(stderr, "flush_run: %s\n", err.msg);
	peer_poke(&s->peer);
	return peer_finish(&s->peer, &len);
}

/* What is left in the queue, by id. */
static size_t
left(const struct setup *s, struct queue_envelope **v)
{
	struct queue *q;
	struct error err = {0};
	size_t n = 0;

	*v = NULL;
	if (queue_open(&q, s->queue, &err) < 0)
		return 99;
	if (queue_list(q, v, &n, &err) < 0)
		n = 99;
	queue_close(q);
	return n;
}

static void
teardown(struct setup *s)
{
	strlist_clear(&s->notices);
	strlist_clear(&s->logs);
	peer_rmtree(s->dir);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Every entry of a group over one connection, RSET between; -q without
 * --due sends an entry whose next attempt has not come too. */
static void
test_one_connection(void)
{
	static const struct entry entries[] = {
	    {.sender = "old@x.test", .age = 100, .next = 300, .attempts = 1},
	    {.sender = "new@x.test", .age = 10},
	};
	static const struct peer_step st[] = {
	    GREET,
	    EHLO_PIPE,
	    GROUP_OK,
	    DOT_OK,
	    {"RSET\r\n", "250 ok\r\n", 1},
	    GROUP_OK,
	    DOT_OK,
	};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 2);
	CHECK_INT(rep.deferred + rep.failed + rep.held, 0);
	CHECK_INT(left(&s, &v), 0);
	queue_list_free(v, 0);
	CHECK_INT(s.peer.status, 0);
	CHECK_INT(count(got, "EHLO"), 1);
	CHECK_INT(count(got, "RSET"), 1);
	CHECK_INT(count(got, "QUIT"), 1);
	/* Oldest first. */
	CHECK(got && strstr(got, "old@") && strstr(got, "new@") &&
	      strstr(got, "old@") < strstr(got, "new@"));
	free(got);
	teardown(&s);
}

/* --due: only what is due; the rest is not touched. */
static void
test_due_only(void)
{
	static const struct entry entries[] = {
	    {.sender = "later@x.test", .age = 100, .next = 300, .attempts = 1},
	    {.sender = "due@x.test", .age = 700, .next = -5, .attempts = 1},
	};
	static const struct peer_step st[] = {GREET, EHLO_PIPE, GROUP_OK,
	                                      DOT_OK};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	fr.due_only = true;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 1);
	CHECK(got && strstr(got, "MAIL FROM:<due@x.test>") &&
	      !strstr(got, "later@"));
	CHECK_INT(left(&s, &v), 1);
	if (v) {
		CHECK_STR(v[0].id, s.ids[0]);
		CHECK_INT(v[0].attempts, 1);
		CHECK_INT(v[0].next_attempt, s.t0 + 300);
	}
	queue_list_free(v, 1);
	free(got);
	teardown(&s);
}

/* The server cannot be reached: every entry of the group deferred, its
 * attempts counted and its next attempt backed off (doubled). */
static void
test_deferred(void)
{
	static const struct entry entries[] = {
	    {.rcpt = "b@y.test", .age = 100, .attempts = 1},
	    {.rcpt = "c@y.test", .age = 50, .attempts = 1},
	};
	static const struct peer_step st[] = {{NULL, "421 4.3.2 busy\r\n", 0}};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	time_t now;
	char want[256];
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	now = time(NULL);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.deferred, 2);
	CHECK_INT(rep.blocked, 0);
	CHECK_INT(rep.delivered + rep.failed, 0);
	CHECK_INT(left(&s, &v), 2);
	for (size_t i = 0; v && i < 2; i++) {
		CHECK_INT(v[i].attempts, 2);
		CHECK(v[i].next_attempt >= s.t0 + 2 * BACKOFF &&
		      v[i].next_attempt <= now + 2 * BACKOFF);
		CHECK(v[i].last_error && strstr(v[i].last_error, "421"));
	}
	queue_list_free(v, 2);
	/* Each entry's line: deferred, queued under its own id. */
	snprintf(want, sizeof want,
	         "%s tempfail queued=%s|%s tempfail queued=%s", s.ids[0],
	         s.ids[0], s.ids[1], s.ids[1]);
	check_logs(&s, want);
	free(got);
	teardown(&s);
}

/* Older than queue_max_age: given up without an attempt, to the dead
 * letter file, with a notice. */
static void
test_too_old(void)
{
	static const struct entry entries[] = {
	    {.age = 2 * DAY, .attempts = 7},
	};
	static const struct peer_step st[] = {GREET};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char want[256];
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.failed, 1);
	CHECK_INT(rep.worst, ERROR_TEMPFAIL);
	CHECK_INT(rep.delivered + rep.deferred, 0);
	CHECK_STR(got, ""); /* not one byte to the server */
	CHECK_INT(left(&s, &v), 0);
	queue_list_free(v, 0);
	CHECK(peer_file_has(s.dead, "queued body"));
	CHECK(noticed(&s, "gave up after 7 attempts over 2 days"));
	/* Given up: its line, no longer queued. */
	snprintf(want, sizeof want, "%s tempfail", s.ids[0]);
	check_logs(&s, want);
	free(got);
	teardown(&s);
}

/* A permanent refusal: to the dead letter file, out of the queue. */
static void
test_refused(void)
{
	static const struct entry entries[] = {{.age = 10}};
	static const struct peer_step st[] = {
	    GREET,
	    EHLO_PIPE,
	    {"DATA\r\n", "550 5.7.1 not from you\r\n503 no\r\n503 no\r\n", 0},
	};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char want[256];
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.failed, 1);
	CHECK_INT(rep.worst, ERROR_NOPERM);
	CHECK_INT(left(&s, &v), 0);
	queue_list_free(v, 0);
	CHECK(peer_file_has(s.dead, "queued body"));
	CHECK(noticed(&s, "550"));
	snprintf(want, sizeof want, "%s noperm", s.ids[0]);
	check_logs(&s, want);
	free(got);
	teardown(&s);
}

/* The selections: by id (-qI), recipient (-qR), sender (-qS), account. */
static void
test_selection(void)
{
	static const struct entry entries[] = {
	    {.sender = "carol@x.test", .rcpt = "b@y.test", .age = 40},
	    {.sender = "a@x.test", .rcpt = "dave@y.test", .age = 30},
	    {.sender = "a@x.test", .rcpt = "b@y.test", .age = 20},
	    {.account = "other", .sender = "erin@x.test", .age = 10},
	};
	static const struct peer_step st[] = {GREET, EHLO_PIPE, GROUP_OK,
	                                      DOT_OK};
	static const struct {
		char select;
		const char *match; /* NULL: the third entry's id */
		const char *only_account;
		const char *sent; /* the MAIL/RCPT that must be sent */
		size_t remaining;
	} cases[] = {
	    {'S', "carol", NULL, "MAIL FROM:<carol@x.test>", 3},
	    {'R', "dave", NULL, "RCPT TO:<dave@y.test>", 3},
	    {'I', NULL, NULL, "RCPT TO:<b@y.test>", 3},
	    {0, NULL, "other", "MAIL FROM:<erin@x.test>", 3},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct setup s;
		struct flush_request fr;
		struct flush_report rep;
		struct queue_envelope *v;
		char *got;
		int rc;

		if (!begin(&s, &fr, entries, N(entries), st, N(st)))
			return;
		fr.select = cases[i].select;
		fr.match = cases[i].match ? cases[i].match : s.ids[2];
		fr.only_account = cases[i].only_account;
		got = run(&s, &fr, &rep, &rc);
		CHECK_INT(rc, 0);
		CHECK_INT(rep.delivered, 1);
		CHECK(got && strstr(got, cases[i].sent));
		CHECK_INT(count(got, "MAIL FROM"), 1);
		CHECK_INT(left(&s, &v), cases[i].remaining);
		queue_list_free(v, cases[i].remaining);
		free(got);
		teardown(&s);
	}
}

/* An account that cannot be used: held whatever its age, said. */
static void
test_held(void)
{
	static const struct entry entries[] = {
	    {.account = "broken", .age = 30 * DAY, .attempts = 3},
	};
	static const struct peer_step st[] = {GREET};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.held, 1);
	CHECK_INT(rep.held_kind, ERROR_CONFIG);
	CHECK_INT(rep.failed, 0);
	CHECK_STR(got, "");
	CHECK_INT(left(&s, &v), 1);
	if (v)
		CHECK_INT(v[0].attempts, 4);
	queue_list_free(v, 1);
	CHECK(noticed(&s, "kept in the queue until that is fixed"));
	CHECK(!peer_file_has(s.dead, "queued body"));
	check_logs(&s, ""); /* no account to log with */
	free(got);
	teardown(&s);
}

/* Delivered to one recipient, refused for now by the other: a new entry
 * for that one (one more attempt), and the old entry gone. */
/* After a partial delivery of entry 0 (to b, at its third attempt): only
 * a new entry for c, who was refused for now, one attempt more, backed
 * off. */
static void
check_rest(const struct setup *s)
{
	struct queue_envelope *v;

	CHECK_INT(left(s, &v), 1);
	if (v) {
		CHECK(strcmp(v[0].id, s->ids[0]) != 0);
		CHECK_INT(v[0].env.nrcpts, 1);
		CHECK_STR(v[0].env.rcpts[0].addr, "c@y.test");
		CHECK_INT(v[0].attempts, 3);
		CHECK(v[0].next_attempt > s->t0);
	}
	queue_list_free(v, 1);
}

static void
test_partly(void)
{
	static const struct entry entries[] = {
	    {.account = "any", .rcpt2 = "c@y.test", .age = 100, .attempts = 2},
	};
	static const struct peer_step st[] = {
	    GREET,
	    EHLO_PIPE,
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n450 4.2.1 later\r\n354 go\r\n",
	     0},
	    DOT_OK,
	};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char want[256];
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 1);
	CHECK_INT(rep.failed, 0);
	check_rest(&s);
	CHECK(noticed(&s, "refused for now"));
	/* Delivered to b; c's rest queued under its new id. */
	if (left(&s, &v) == 1) {
		snprintf(want, sizeof want, "%s tempfail queued=%s", s.ids[0],
		         v[0].id);
		check_logs(&s, want);
	}
	queue_list_free(v, 1);
	free(got);
	teardown(&s);
}

/* An entry for b, c and d: b accepted, c refused for now, d for good. */
static const struct peer_step three_st[] = {
    GREET,
    EHLO_PIPE,
    {"DATA\r\n",
     "250 ok\r\n250 ok\r\n450 4.2.1 later\r\n550 5.1.1 no such "
     "user\r\n354 go\r\n",
     0},
    DOT_OK,
};

/* Delivered to b, refused for now by c, for good by d, and d's copy
 * cannot be saved (the dead letter file's directory is missing): c gets
 * an entry of its own, and the old entry is not kept whole, which would
 * deliver again to b and to c a second time: it keeps d only, one
 * attempt more, and says so. */
static void
test_partly_unsaved(void)
{
	static const struct entry entries[] = {
	    {.account = "any",
	     .rcpt2 = "c@y.test",
	     .rcpt3 = "d@y.test",
	     .age = 100,
	     .attempts = 2},
	};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	const struct queue_envelope *old = NULL, *rest = NULL;
	char *got, dead[128];
	size_t n;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), three_st, N(three_st)))
		return;
	snprintf(dead, sizeof dead, "%s/missing/dead.letter", s.dir);
	fr.dead_letter = dead;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 1);
	CHECK_INT(rep.failed, 1);
	n = left(&s, &v);
	CHECK_INT(n, 2);
	for (size_t i = 0; v && i < n && n != 99; i++)
		if (strcmp(v[i].id, s.ids[0]) == 0)
			old = &v[i];
		else
			rest = &v[i];
	CHECK(old && rest);
	if (old) {
		CHECK_INT(old->env.nrcpts, 1);
		CHECK_STR(old->env.rcpts[0].addr, "d@y.test");
		CHECK_INT(old->attempts, 3);
		CHECK(old->last_error && strstr(old->last_error, "5.1.1"));
	}
	if (rest) {
		CHECK_INT(rest->env.nrcpts, 1);
		CHECK_STR(rest->env.rcpts[0].addr, "c@y.test");
	}
	queue_list_free(v, n == 99 ? 0 : n);
	CHECK(noticed(&s, "kept in the queue for d@y.test only"));
	free(got);
	teardown(&s);
}

/* Delivered to b, refused for now by c, for good by d, and the queue
 * cannot take c's entry (a file size limit below the message's size):
 * the old entry keeps c and d, not b, one attempt more; d is not given up
 * in this run (the next one will), and nothing is saved. */
static void
test_partly_unqueued(void)
{
	static const struct entry entries[] = {
	    {.account = "any",
	     .rcpt2 = "c@y.test",
	     .rcpt3 = "d@y.test",
	     .big = true,
	     .age = 100,
	     .attempts = 2},
	};
	struct rlimit was, rl;
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	size_t n;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), three_st, N(three_st)))
		return;
	/* Only the soft limit, raised again after; the peer (forked
	 * before) is not limited. */
	getrlimit(RLIMIT_FSIZE, &was);
	rl = was;
	rl.rlim_cur = FSIZE_LIMIT;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &rl);
	got = run(&s, &fr, &rep, &rc);
	setrlimit(RLIMIT_FSIZE, &was);
	signal(SIGXFSZ, SIG_DFL);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 1);
	CHECK_INT(rep.trouble, 1);
	n = left(&s, &v);
	CHECK_INT(n, 1);
	if (v && n == 1) {
		CHECK_STR(v[0].id, s.ids[0]);
		CHECK_INT(v[0].env.nrcpts, 2);
		CHECK_STR(v[0].env.rcpts[0].addr, "c@y.test");
		CHECK_STR(v[0].env.rcpts[1].addr, "d@y.test");
		CHECK_INT(v[0].attempts, 3);
		CHECK(v[0].next_attempt > s.t0);
	}
	queue_list_free(v, n == 99 ? 0 : n);
	CHECK(noticed(&s, "kept in the queue for c@y.test, d@y.test only: no "
	                  "entry of their own: "));
	/* The log line names the attempt's three, not the narrowed two. */
	CHECK_INT(last_log_nrcpts, 3);
	CHECK(!peer_file_has(s.dead, "queued body"));
	free(got);
	teardown(&s);
}

/* Delivered to some while a signal came (it was held until the reply to
 * the dot): the run stops, but the entry is not left whole, which would
 * deliver it again to those who have it; the ones refused for now get
 * their own entry as without a signal.  (Last: the process keeps catching
 * signals after it.) */
static void
test_partly_interrupted(void)
{
	static const struct entry entries[] = {
	    {.account = "any", .rcpt2 = "c@y.test", .age = 100, .attempts = 2},
	};
	static const struct peer_step st[] = {
	    GREET,
	    EHLO_PIPE,
	    {"DATA\r\n", "250 ok\r\n250 ok\r\n450 4.2.1 later\r\n354 go\r\n",
	     0},
	    {"\r\n.\r\n", PEER_SIGTERM, 1},
	    {NULL, "250 ok\r\n", 0},
	};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	interrupt_catch();
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, -1); /* "interrupted by SIGTERM" */
	CHECK_INT(interrupt_signal(), SIGTERM);
	CHECK_INT(rep.delivered, 1);
	check_rest(&s);
	free(got);
	teardown(&s);
}

/* The session refused for good (a 554 greeting): deferred all the same
 * (nothing reached the server), but counted as blocked and said. */
static void
test_blocked(void)
{
	static const struct entry entries[] = {{.age = 10}};
	static const struct peer_step st[] = {
	    {NULL, "554 5.7.1 not you\r\n", 0}};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.deferred, 1);
	CHECK_INT(rep.blocked, 1);
	CHECK_INT(rep.blocked_kind, ERROR_NOPERM);
	CHECK_INT(rep.failed, 0);
	CHECK_INT(left(&s, &v), 1);
	if (v)
		CHECK_INT(v[0].attempts, 1);
	queue_list_free(v, 1);
	CHECK(noticed(&s, "deferred"));
	CHECK(!peer_file_has(s.dead, "queued body"));
	free(got);
	teardown(&s);
}

/* An entry whose message file is gone: never sent, named on every run;
 * the healthy one goes. */
static void
test_damaged(void)
{
	static const struct entry entries[] = {
	    {.sender = "gone@x.test", .age = 20},
	    {.sender = "fine@x.test", .age = 10},
	};
	static const struct peer_step st[] = {GREET, EHLO_PIPE, GROUP_OK,
	                                      DOT_OK};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	char path[192], *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	snprintf(path, sizeof path, "%s/%s/message", s.queue, s.ids[0]);
	CHECK_INT(unlink(path), 0);
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.damaged, 1);
	CHECK_INT(rep.delivered, 1);
	CHECK(got && strstr(got, "fine@") && !strstr(got, "gone@"));
	CHECK(noticed(&s, s.ids[0]));
	CHECK(noticed(&s, "never sent"));
	free(got);
	teardown(&s);
}

/* No queue directory yet: an empty queue. */
static void
test_no_queue(void)
{
	struct flush_request fr;
	struct flush_report rep;
	struct setup s;
	struct error err = {0};

	memset(&s, 0, sizeof s);
	snprintf(s.queue, sizeof s.queue, "/tmp/mailpost-unit-none-%d/q",
	         (int)getpid());
	request(&fr, &s);
	memset(&rep, 0, sizeof rep);
	CHECK_INT(flush_run(&fr, &rep, &err), 0);
	CHECK_INT(rep.delivered + rep.deferred + rep.failed + rep.held, 0);
}

/* The run's clock (flush_request.clock), set by the tests that move
 * time: what is due, what is too old and when the next attempt is are
 * decided by it, not by time(2). */
static time_t clock_now;

static time_t
test_clock(void)
{
	return clock_now;
}

/* A run that does not reach the peer (nothing due, or only give-ups):
 * its report, without finishing the peer. */
static int
run_quiet(const struct flush_request *fr, struct flush_report *rep)
{
	struct error err = {0};

	return flush_run(fr, rep, &err);
}

/* --due by the clock: one second before the next attempt the entry waits
 * (and -v says for how long), at it the entry goes. */
static void
test_clock_due(void)
{
	static const struct entry entries[] = {
	    {.age = 100, .next = 300, .attempts = 1},
	};
	static const struct peer_step st[] = {GREET, EHLO_PIPE, GROUP_OK,
	                                      DOT_OK};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	fr.clock = test_clock;
	fr.due_only = true;
	fr.verbose = true;
	clock_now = s.t0 + 299;
	CHECK_INT(run_quiet(&fr, &rep), 0);
	CHECK_INT(rep.delivered + rep.deferred + rep.failed, 0);
	CHECK(noticed(&s, "not due: next attempt in 1s (1 attempt so far)"));
	CHECK_INT(left(&s, &v), 1);
	queue_list_free(v, 1);
	clock_now = s.t0 + 300;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 1);
	CHECK(got && strstr(got, "MAIL FROM:<a@x.test>"));
	CHECK_INT(left(&s, &v), 0);
	queue_list_free(v, 0);
	free(got);
	teardown(&s);
}

/* A next attempt further ahead than the longest back-off was written by a
 * clock that ran ahead and was set back since: due now. */
static void
test_clock_set_back(void)
{
	static const struct entry entries[] = {
	    {.next = FATE_BACKOFF_MAX + 3600, .attempts = 2},
	    {.sender = "later@x.test", .next = FATE_BACKOFF_MAX, .attempts = 9},
	};
	static const struct peer_step st[] = {GREET, EHLO_PIPE, GROUP_OK,
	                                      DOT_OK};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	fr.clock = test_clock;
	fr.due_only = true;
	clock_now = s.t0;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.delivered, 1);
	CHECK(got && strstr(got, "MAIL FROM:<a@x.test>") &&
	      !strstr(got, "later@"));
	CHECK_INT(left(&s, &v), 1);
	if (v)
		CHECK_STR(v[0].id, s.ids[1]);
	queue_list_free(v, 1);
	free(got);
	teardown(&s);
}

/* queue_max_age by the clock: an entry exactly a day old (the account's
 * maximum) is tried and deferred, one second later it is given up. */
static void
test_clock_expiry(void)
{
	static const struct entry entries[] = {{.attempts = 3}};
	static const struct peer_step st[] = {{NULL, "421 4.3.2 busy\r\n", 0}};
	struct setup s;
	struct flush_request fr;
	struct flush_report rep;
	struct queue_envelope *v;
	char *got;
	int rc;

	if (!begin(&s, &fr, entries, N(entries), st, N(st)))
		return;
	fr.clock = test_clock;
	clock_now = s.t0 + DAY;
	CHECK_INT(run_quiet(&fr, &rep), 0);
	CHECK_INT(rep.deferred, 1);
	CHECK_INT(left(&s, &v), 1);
	if (v) {
		CHECK_INT(v[0].attempts, 4);
		CHECK_INT(v[0].last_attempt, s.t0 + DAY);
		CHECK_INT(v[0].next_attempt, s.t0 + DAY + 8 * BACKOFF);
	}
	queue_list_free(v, 1);
	clock_now = s.t0 + DAY + 1;
	got = run(&s, &fr, &rep, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(rep.failed, 1);
	CHECK_INT(rep.deferred, 0);
	CHECK(noticed(&s, "gave up after 4 attempts over 1 day (last error: "));
	CHECK(peer_file_has(s.dead, "queued body"));
	CHECK_INT(left(&s, &v), 0);
	queue_list_free(v, 0);
	free(got);
	teardown(&s);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_one_connection();
	test_due_only();
	test_deferred();
	test_too_old();
	test_refused();
	test_selection();
	test_held();
	test_partly();
	test_partly_unsaved();
	test_partly_unqueued();
	test_blocked();
	test_damaged();
	test_no_queue();
	test_clock_due();
	test_clock_set_back();
	test_clock_expiry();
	test_partly_interrupted();
	return unit_done();
}
